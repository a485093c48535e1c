import ArgumentParser
import GenoclCommands
import Testing
import Training

@Suite struct CommandLineTests {
    @Test func trainDefaultsAreDCGANOnFashionMNIST() throws {
        let train = try #require(try Genocl.parseAsRoot(["train"]) as? Genocl.Train)
        let options = train.options
        #expect(train.model == "dcgan")
        #expect(options.data == "/usr/share/datasets/fashion-mnist")
        #expect(options.model.imageSize == 28 && options.model.channels == 1 && options.model.latentSize == 100)
        #expect(options.batchSize == 64 && options.epochs == 1 && options.steps == nil)
        #expect(options.learningRateG == 2e-4 && options.learningRateD == 2e-4 && options.beta1 == 0.5 && options.beta2 == 0.999)
        #expect(train.folder.hasPrefix("runs/dcgan-fashion-mnist-"))
    }

    @Test func trainFlagsReachTheOptions() throws {
        let train = try #require(
            try Genocl.parseAsRoot([
                "train", "--device", "cpu-reference", "--image-size", "64", "--channels", "3", "--steps", "10", "--lr-g", "0.001",
                "--label-smoothing", "0.1", "--flip", "--out", "runs/x", "--init-from", "w/",
            ]) as? Genocl.Train)
        let options = train.options
        #expect(options.model.imageSize == 64 && options.model.channels == 3 && options.steps == 10)
        #expect(options.learningRateG == 0.001 && options.realLabel == 0.9 && options.flip && options.initFrom == "w/")
        #expect(train.folder == "runs/x")
        #expect(try (Genocl.parseAsRoot(["train", "--resume", "runs/y"]) as? Genocl.Train)?.folder == "runs/y")
    }

    @Test func badFlagsAreClearErrors() {
        let cases: [([String], String)] = [
            (["train", "--model", "gan9000"], "--model gan9000: available models are: dcgan"),
            (["train", "--image-size", "48"], "--image-size 48: DCGAN supports 28, 16, 32, 64, 128, 256"),
            (["train", "--channels", "2"], "--channels must be 1 or 3"),
            (["train", "--batch-size", "0"], "--batch-size must be positive, got 0"),
            (["train", "--steps=-3"], "--steps must be positive, got -3"),
            (["train", "--device", "gpu"], "--device gpu: expected an OpenCL device index"),
            (["train", "--label-smoothing", "1.5"], "--label-smoothing and --dropout-d must be in [0, 1)"),
            (["sample", "--checkpoint", "r", "--interpolate", "1"], "--interpolate needs at least 2 steps"),
            (["train", "--no-such-flag"], "Unknown option '--no-such-flag'"),
        ]
        for (arguments, message) in cases {
            #expect(throws: (any Error).self) { try Genocl.parseAsRoot(arguments) }
            do {
                _ = try Genocl.parseAsRoot(arguments)
            } catch {
                #expect(Genocl.message(for: error).contains(message), "\(arguments): \(Genocl.message(for: error))")
            }
        }
    }

    @Test func helpListsTheSubcommandsAndTrainOptions() {
        let help = Genocl.helpMessage()
        for line in ["train", "sample", "devices", "Train generative image models on any OpenCL device."] { #expect(help.contains(line)) }
        let train = Genocl.helpMessage(for: Genocl.Train.self)
        for flag in ["--device", "--data", "--image-size", "--channels", "--batch-size", "--epochs", "--steps", "--lr-g", "--lr-d", "--beta1", "--beta2", "--seed", "--out", "--resume", "--init-from", "--sample-every", "--checkpoint-every", "--dry-run"] {
            #expect(train.contains(flag), "\(flag)")
        }
    }
}

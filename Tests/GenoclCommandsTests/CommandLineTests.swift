import ArgumentParser
import GenerativeModels
import GenoclCommands
import Testing
import Training

@Suite struct CommandLineTests {
    @Test func trainDefaultsAreDCGANOnFashionMNIST() throws {
        let train = try #require(try Genocl.parseAsRoot(["train"]) as? Genocl.Train)
        let options = train.options
        #expect(train.model == .dcgan)
        #expect(options.data == "/usr/share/datasets/fashion-mnist")
        #expect(options.imageSize == 28 && options.channels == 1 && options.latentSize == 100)
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
        #expect(options.imageSize == 64 && options.channels == 3 && options.steps == 10)
        #expect(options.learningRateG == 0.001 && options.realLabel == 0.9 && options.flip && options.initFrom == "w/")
        #expect(train.folder == "runs/x")
        #expect(try (Genocl.parseAsRoot(["train", "--resume", "runs/y"]) as? Genocl.Train)?.folder == "runs/y")
        let evaluated = try #require(try Genocl.parseAsRoot(["train", "--eval-every", "500"]) as? Genocl.Train).options.evaluation
        #expect(evaluated == TrainingEvaluation(every: 500, count: 5000, features: "inception"))
        let byClassifier = try #require(
            try Genocl.parseAsRoot(["train", "--eval-every", "9", "--features", "classifier:c"]) as? Genocl.Train)
        #expect(byClassifier.options.evaluation?.features == "classifier:c")
        let classifier = try #require(try Genocl.parseAsRoot(["train", "--model", "classifier", "--feature-size", "64"]) as? Genocl.Train)
        #expect(classifier.options.featureSize == 64)
        #expect(try Genocl.parseAsRoot(["evaluate", "--checkpoint", "r"]) is Genocl.Evaluate)
    }

    @Test func eachModelGetsItsStudyDefaultsAndFlagsOverrideThem() throws {
        func options(_ arguments: [String]) throws -> TrainOptions {
            try #require(try Genocl.parseAsRoot(["train"] + arguments) as? Genocl.Train).options
        }
        let wgan = try options(["--model", "wgan"])
        #expect(wgan.optimizer == .rmsprop && wgan.learningRateD == 5e-5 && wgan.clip == 0.01 && wgan.criticSteps == 5)
        let gp = try options(["--model", "wgan-gp", "--optimizer", "adam"])
        #expect(
            gp.optimizer == .adam && gp.beta1 == 0.5 && gp.beta2 == 0.9 && gp.penaltyWeight == 10 && gp.criticSteps == 5 && gp.clip == 0)
        let acgan = try options(["--model", "acgan"])
        #expect(acgan.optimizer == .rmsprop && acgan.learningRateG == 5e-5 && acgan.discriminatorDropout == 0.3)
        let vae = try options(["--model", "vae-dense", "--kl-weight", "0.5", "--reconstruction", "bce"])
        #expect(vae.learningRateG == 1e-3 && vae.klWeight == 0.5 && vae.reconstruction == .bce && vae.imageSize == 28)
        let pix = try options(["--model", "pix2pix", "--data", "/nonexistent/maps", "--direction", "BtoA"])
        #expect(pix.imageSize == 256 && pix.channels == 3 && pix.batchSize == 1 && pix.l1Weight == 100 && pix.direction == .bToA)
        #expect(try options(["--model", "dcgan", "--data", "/nonexistent/cars"]).imageSize == 64)
        let help = Genocl.helpMessage(for: Genocl.Train.self)
        for model in ModelKind.allCases {
            #expect(help.contains(model.rawValue) && help.contains(String(model.summary.prefix(20))), "\(model)")
        }
    }

    @Test func badFlagsAreClearErrors() {
        let cases: [([String], String)] = [
            (["train", "--model", "gan9000"], "The value 'gan9000' is invalid for '--model <model>'"),
            (["train", "--image-size", "48"], "--image-size 48: dcgan supports 28, 16, 32, 64, 128, 256"),
            (
                ["train", "--model", "pix2pix", "--image-size", "100"],
                "--image-size 100: pix2pix needs a square image whose side is a power of two of at least 32"
            ),
            (["train", "--model", "wgan", "--clip=-1"], "--clip, --penalty-weight, --kl-weight and --l1-weight must be ≥ 0"),
            (["train", "--critic-steps", "0"], "--critic-steps must be positive, got 0"),
            (["train", "--channels", "2"], "--channels must be 1 or 3"),
            (["train", "--batch-size", "0"], "--batch-size must be positive, got 0"),
            (["train", "--steps=-3"], "--steps must be positive, got -3"),
            (["train", "--device", "gpu"], "--device gpu: expected an OpenCL device index"),
            (
                ["train", "--device", "0,gpu"],
                "--device 0,gpu: expected an OpenCL device index (see `genocl devices`) or cpu-reference for each device of the list, got \"gpu\""
            ),
            (
                ["train", "--device", "0,1", "--batch-size", "9"],
                "--batch-size 9 does not split evenly across 2 devices; use a multiple of 2"
            ),
            (["train", "--device", "0,"], "got \"\""),
            (["train", "--ema", "1"], "--ema must be in (0, 1), such as 0.999, got 1.0"),
            (["train", "--model", "vae", "--ema", "0.999"], "--ema keeps a GAN generator's moving average; vae has none"),
            (["train", "--label-smoothing", "1.5"], "--label-smoothing and --dropout-d must be in [0, 1)"),
            (["sample", "--checkpoint", "r", "--interpolate", "1"], "--interpolate needs at least 2 steps"),
            (["train", "--no-such-flag"], "Unknown option '--no-such-flag'"),
            (["bench", "gan9000"], "gan9000: workloads are dcgan64, dcgan28, wgan-gp64, vae64, pix2pix256, or all"),
            (["bench", "--iterations", "3"], "--iterations must be at least 5, got 3"),
            (["bench", "--gemm", "512x961"], "--gemm takes MxNxK with three positive sizes"),
            (["bench", "--gemm", "0x4x4"], "--gemm takes MxNxK with three positive sizes"),
            (["bench", "--gemm", "4x4x4", "--json"], "--gemm prints text only"),
            (["bench", "--real", "vae64"], "--real times genocl train's default run"),
            (["bench", "--steps", "10"], "--steps is for --real, and at least 1"),
            (["bench", "--real", "--steps", "0"], "--steps is for --real, and at least 1"),
            (["sample", "--checkpoint", "r", "--clusters=-1"], "--clusters, --refine and --noise must be ≥ 0"),
            (["train", "--eval-every", "0"], "--eval-every must be positive and --eval-count at least 2"),
            (["train", "--model", "pix2pix", "--eval-every", "10"], "--eval-every measures generators that sample from latents"),
            (["train", "--model", "classifier", "--feature-size", "0"], "--feature-size must be from 1 to 16384, got 0"),
            (["evaluate", "--checkpoint", "r", "--images-split", "test"], "--images-split test: train or t10k"),
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
        for line in ["train", "sample", "evaluate", "bench", "devices", "Train generative image models on any OpenCL device."] {
            #expect(help.contains(line))
        }
        let train = Genocl.helpMessage(for: Genocl.Train.self)
        for flag in [
            "--device", "--data", "--image-size", "--channels", "--batch-size", "--epochs", "--steps", "--lr-g", "--lr-d", "--beta1",
            "--beta2", "--seed", "--out", "--resume", "--init-from", "--sample-every", "--checkpoint-every", "--dry-run",
        ] {
            #expect(train.contains(flag), "\(flag)")
        }
    }
}

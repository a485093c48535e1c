import ArgumentParser
import Foundation
import GenerativeModels
import OpenCLBackend
import Training

extension Genocl {
    public struct Train: ParsableCommand {
        public init() {}

        public static let configuration = CommandConfiguration(
            abstract: "Train a model. With no flags: DCGAN on Fashion-MNIST on OpenCL device 0.",
            discussion: "Models: dcgan (pytorch/examples DCGAN; 28×28 for MNIST-like data, 32/64/128/256 otherwise).")

        @OptionGroup var deviceOptions: DeviceOptions
        @Option(help: "The model to train.") public var model = "dcgan"
        @Option(help: "MNIST-layout IDX files, or a folder of PNG/JPEG images (sub-folders are classes).") var data = "/usr/share/datasets/fashion-mnist"
        @Option(help: "Image size: 28, or 16, 32, 64, 128, 256.") var imageSize = 28
        @Option(help: "Image channels: 1 (gray) or 3 (RGB).") var channels = 1
        @Option(help: "Images per batch.") var batchSize = 64
        @Option(help: "Epochs (passes over the data).") var epochs = 1
        @Option(help: "Steps (batches); overrides --epochs.") var steps: Int?
        @Option(name: .customLong("lr-g"), help: "Generator learning rate (Adam).") var learningRateG: Float = 2e-4
        @Option(name: .customLong("lr-d"), help: "Discriminator learning rate (Adam).") var learningRateD: Float = 2e-4
        @Option(help: "Adam β₁.") var beta1: Float = 0.5
        @Option(help: "Adam β₂.") var beta2: Float = 0.999
        @Option(help: "Latent size (nz).") var latentSize = 100
        @Option(help: "Generator width (ngf).") var ngf = 64
        @Option(help: "Discriminator width (ndf).") var ndf = 64
        @Option(help: "One-sided label smoothing: real images get the target 1 − this.") var labelSmoothing: Float = 0
        @Option(help: "Standard deviation of instance noise on the discriminator's inputs.") var instanceNoise: Float = 0
        @Option(help: "Dropout rate after the discriminator's activations.") var dropoutD: Float = 0
        @Option(help: "Seed of weights, noise and data order.") var seed: UInt64 = 1
        @Option(help: "Run folder (default: runs/<model>-<dataset>-<time>).") var out: String?
        @Option(help: "Continue the run in this folder from its latest checkpoint.") var resume: String?
        @Option(help: "Start from weights: a folder with netG.safetensors (and netD.safetensors), e.g. saved from PyTorch.") var initFrom: String?
        @Option(help: "Write a sample grid every N steps.") var sampleEvery = 500
        @Option(help: "Save a checkpoint every N steps.") var checkpointEvery = 1000
        @Option(help: "Log a line (when not on a terminal) and TensorBoard scalars every N steps.") var logEvery = 50
        @Flag(help: "Flip real images left–right at random.") var flip = false
        @Flag(help: "Check data, model and device, then stop before training.") var dryRun = false

        public func validate() throws {
            guard model == "dcgan" else { throw ValidationError("--model \(model): available models are: dcgan") }
            guard DCGANConfig.imageSizes.contains(imageSize) else {
                throw ValidationError("--image-size \(imageSize): DCGAN supports \(DCGANConfig.imageSizes.map(String.init).joined(separator: ", "))")
            }
            guard channels == 1 || channels == 3 else { throw ValidationError("--channels must be 1 or 3") }
            for (name, value) in [("--batch-size", batchSize), ("--epochs", epochs), ("--sample-every", sampleEvery), ("--checkpoint-every", checkpointEvery), ("--log-every", logEvery), ("--latent-size", latentSize), ("--ngf", ngf), ("--ndf", ndf)] {
                guard value > 0 else { throw ValidationError("\(name) must be positive, got \(value)") }
            }
            if let steps, steps <= 0 { throw ValidationError("--steps must be positive, got \(steps)") }
            guard (0..<1).contains(labelSmoothing), (0..<1).contains(dropoutD), instanceNoise >= 0, instanceNoise.isFinite else {
                throw ValidationError("--label-smoothing and --dropout-d must be in [0, 1), --instance-noise ≥ 0")
            }
            guard learningRateG > 0, learningRateD > 0, (0..<1).contains(beta1), (0..<1).contains(beta2) else {
                throw ValidationError("learning rates must be positive and betas in [0, 1)")
            }
        }

        public var options: DCGANOptions {
            var o = DCGANOptions()
            o.data = data
            o.model = DCGANConfig(imageSize: imageSize, channels: channels, latentSize: latentSize, generatorWidth: ngf, discriminatorWidth: ndf, discriminatorDropout: dropoutD)
            (o.batchSize, o.epochs, o.steps, o.seed) = (batchSize, epochs, steps, seed)
            (o.learningRateG, o.learningRateD, o.beta1, o.beta2) = (learningRateG, learningRateD, beta1, beta2)
            (o.realLabel, o.instanceNoise, o.sampleEvery, o.checkpointEvery, o.flip) = (1 - labelSmoothing, instanceNoise, sampleEvery, checkpointEvery, flip)
            (o.logEvery, o.initFrom) = (logEvery, initFrom)
            return o
        }

        public var folder: String {
            if let resume { return resume }
            if let out { return out }
            let dataset = URL(fileURLWithPath: data).lastPathComponent
            let formatter = DateFormatter()
            formatter.dateFormat = "yyyyMMdd-HHmmss"
            return "runs/\(model)-\(dataset)-\(formatter.string(from: Date()))"
        }

        public func run() throws {
            // Unbuffered, so that progress shows up at once in logs and pipes too.
            let log = { (line: String) in FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
            let backend = try makeBackend(deviceOptions.device)
            var settings = RunSettings(folder: folder)
            settings.resume = resume != nil
            settings.dryRun = dryRun
            try trainDCGAN(options, settings: settings, backend: backend, log: log)
            if let openCL = backend as? OpenCLBackend, openCL.queue.profiling { log(try openCL.profileReport()) }
        }
    }
}

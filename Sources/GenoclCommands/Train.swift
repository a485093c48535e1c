import ArgumentParser
import Backends
import Datasets
import Distributed
import Foundation
import GenerativeModels
import TensorGraph
import Training

extension ModelKind: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}
extension ReconstructionLoss: ExpressibleByArgument {}
extension TranslationDirection: ExpressibleByArgument {}
extension PixelLoss: ExpressibleByArgument {}

extension Genocl {
    public struct Train: ParsableCommand {
        public init() {}

        public static let configuration = CommandConfiguration(
            abstract: "Train a model. With no flags: DCGAN on Fashion-MNIST on OpenCL device 0.",
            discussion: """
                Models (--model), each with its source study's defaults (flags override them):
                \(ModelKind.allCases.map { "  \($0.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \($0.summary)" }.joined(separator: "\n"))

                Image size and channels default to 28×28 gray for MNIST-layout data, 64×64 RGB for image folders, 256×256 RGB for pix2pix.
                pix2pix data: A|B images side by side in train/ and val/ (or test/) sub-folders, or A/ and B/ folders with matching names.
                """)

        @OptionGroup var deviceOptions: DeviceOptions
        @Option(help: "The model to train: \(ModelKind.allCases.map(\.rawValue).joined(separator: ", ")).") public var model = ModelKind
            .dcgan
        @Option(
            help:
                "MNIST-layout IDX files, a CSV of image rows (Kaggle's train.csv: label,pixel0,…), or a folder of PNG/JPEG images (sub-folders are classes)."
        ) var data =
            defaultFashionMNISTDirectory
        @Option(
            name: [.customLong("image-size"), .customLong("crop-size")],
            help: "Image size (DCGAN-family models: 28, 16, 32, 64, 128, 256; pix2pix: a power of two ≥ 32, the crop of --load-size).")
        var imageSize: Int?
        @Option(help: "pix2pix: load pairs at this size, then crop --image-size at random (default 286 for 256, in proportion).")
        var loadSize: Int?
        @Option(help: "Image channels: 1 (gray) or 3 (RGB).") var channels: Int?
        @Option(help: "Images per batch (progan: the most of any resolution's, NVIDIA's 512 down to 16 at 256).") var batchSize: Int?
        @Option(help: "Epochs (passes over the data).") var epochs = 1
        @Option(help: "Steps (generator updates, or batches for VAEs); overrides --epochs.") var steps: Int?
        @Option(help: "Optimizer: adam, nadam, rmsprop.") var optimizer: OptimizerKind?
        @Option(name: .customLong("lr-g"), help: "Generator (or VAE) learning rate.") var learningRateG: Float?
        @Option(name: .customLong("lr-d"), help: "Discriminator / critic learning rate.") var learningRateD: Float?
        @Option(help: "Adam/NAdam β₁.") var beta1: Float?
        @Option(help: "Adam/NAdam β₂.") var beta2: Float?
        @Option(help: "Latent size (nz).") var latentSize: Int?
        @Option(help: "Generator width (ngf; the VAEs' width).") var ngf: Int?
        @Option(help: "Discriminator / critic width (ndf; the classifier's width).") var ndf: Int?
        @Option(help: "Classifier: units of the feature layer that evaluation compares (256).") var featureSize: Int?
        @Option(help: "FID, KID and precision/recall every this many steps (needs --features).") var evalEvery: Int?
        @Option(help: "Samples of each --eval-every evaluation (at least the features' dimensions: 2048 for Inception).") var evalCount =
            5000
        @Option(help: "Feature network of --eval-every: inception, inception:FILE or classifier:RUN (a run of --model classifier).")
        var features = "inception"
        @Option(help: "Critic updates per generator update (n_critic).") var criticSteps: Int?
        @Option(help: "WGAN: clip the critic's weights to ±this after each update (0: off).") var clip: Float?
        @Option(help: "WGAN-GP: gradient penalty weight λ.") var penaltyWeight: Float?
        @Option(help: "VAEs: weight β of the KL term.") var klWeight: Float?
        @Option(help: "VAEs: reconstruction loss, mse or bce.") var reconstruction: ReconstructionLoss?
        @Option(help: "pix2pix: weight λ of the L1 term.") var l1Weight: Float?
        @Option(help: "pix2pix: AtoB or BtoA.") var direction: TranslationDirection?
        @Option(help: "One-sided label smoothing: real images get the target 1 − this.") var labelSmoothing: Float = 0
        @Option(help: "Standard deviation of instance noise on the discriminator's inputs.") var instanceNoise: Float = 0
        @Option(help: "Dropout rate after the discriminator's activations.") var dropoutD: Float?
        @Option(help: "Seed of weights, noise and data order.") var seed: UInt64 = 1
        @Option(help: "Run folder (default: runs/<model>-<dataset>-<time>).") var out: String?
        @Option(help: "Continue the run in this folder from its latest checkpoint.") var resume: String?
        @Option(help: "Start from weights: a folder with the networks' .safetensors (netG.safetensors, …), e.g. saved from PyTorch.")
        var initFrom: String?
        @Option(help: "Write samples every N steps.") var sampleEvery = 500
        @Option(help: "Save a checkpoint every N steps.") var checkpointEvery = 1000
        @Option(help: "Log a line (when not on a terminal) and TensorBoard scalars every N steps.") var logEvery = 50
        @Flag(inversion: .prefixedNo, help: "Flip real images left–right at random (on by default for progan).") var flip: Bool?
        @Flag(
            inversion: .prefixedNo,
            help: "WGAN: 100 critic steps for each of the first 25 generator steps and every 500th (on by default for wgan).")
        var criticWarmup: Bool?
        @Option(help: "srresnet: the upscaling factor, 2, 4 or 8 (default 4).") var scale: Int?
        @Option(help: "srresnet: residual blocks (default 16).") var blocks: Int?
        @Option(help: "srresnet: the pixel loss, mse or l1 (default mse).") var pixelLoss: PixelLoss?
        @Option(help: "srresnet: the pixel loss's weight (default 1; 0 for the perceptual loss alone).") var pixelWeight: Float?
        @Option(help: "srresnet: Johnson et al.'s perceptual loss on VGG-16 features, vgg16:FILE (tools/convert-vgg16 makes FILE).")
        var perceptual: String?
        @Option(help: "srresnet: the VGG-16 layer of the perceptual loss (default relu2_2).") var perceptualLayer: String?
        @Option(help: "srresnet: the perceptual loss's weight (default 1).") var perceptualWeight: Float?
        @Option(help: "srresnet: SRGAN's adversarial loss with this weight (Ledig et al.'s 1e-3) against their discriminator.")
        var adversarial: Float?
        @Option(help: "progan: thousands of real images in each fade-in and each stable phase (NVIDIA's 600).")
        var kimgPerPhase: Double?
        @Option(help: "progan: thousands of real images in the whole run (NVIDIA's 12000); the last resolution trains on.")
        var kimg: Double?
        @Option(help: "progan: features of a block at 2ˢ pixels are min(fmap-base / 2^(s−1), fmap-max) (NVIDIA's 8192).")
        var fmapBase: Int?
        @Option(help: "progan: the most features of any block (NVIDIA's 512).") var fmapMax: Int?
        @Flag(help: "progan: condition on the data's classes (label input, ACGAN-style loss term).") var conditional = false
        @Option(
            help:
                "GANs: keep the generator's exponential moving average with this β (0.999 is NVIDIA's), saved as netG_ema and used for samples."
        )
        var ema: Float?
        @Flag(help: "On several devices, normalize BatchNorm with the whole batch's statistics, not each device's share's.")
        var syncBatchnorm = false
        @Flag(help: "Check data, model and device, then stop before training.") var dryRun = false

        public func validate() throws {
            if let problem = options.problem() { throw ValidationError(problem) }
            let devices = deviceOptions.devices.count
            if resume == nil, ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] == nil, options.batchSize % devices != 0 {
                throw ValidationError(
                    "--batch-size \(options.batchSize) does not split evenly across \(devices) devices; use a multiple of \(devices)")
            }
        }

        /// The model's study defaults for the data, with the flags given applied on top.
        public var options: TrainOptions {
            var o = TrainOptions(model: model, data: data)
            func set<T>(_ value: T?, _ path: WritableKeyPath<TrainOptions, T>) { if let value { o[keyPath: path] = value } }
            set(imageSize, \.imageSize); set(channels, \.channels); set(batchSize, \.batchSize); set(latentSize, \.latentSize)
            set(ngf, \.generatorWidth); set(ndf, \.discriminatorWidth); set(optimizer, \.optimizer); set(learningRateG, \.learningRateG)
            set(learningRateD, \.learningRateD); set(beta1, \.beta1); set(beta2, \.beta2); set(criticSteps, \.criticSteps);
            set(clip, \.clip)
            set(penaltyWeight, \.penaltyWeight); set(klWeight, \.klWeight); set(reconstruction, \.reconstruction); set(l1Weight, \.l1Weight)
            set(direction, \.direction); set(dropoutD, \.discriminatorDropout); set(featureSize, \.featureSize)
            (o.epochs, o.steps, o.seed) = (epochs, steps, seed)
            (o.realLabel, o.instanceNoise, o.sampleEvery, o.checkpointEvery) = (
                1 - labelSmoothing, instanceNoise, sampleEvery, checkpointEvery
            )
            set(flip, \.flip)
            if let criticWarmup { o.criticWarmup = criticWarmup }
            let srFlags: [Any?] = [scale, blocks, pixelLoss, pixelWeight, perceptual, perceptualLayer, perceptualWeight, adversarial]
            if o.superResolution != nil || srFlags.contains(where: { $0 != nil }) {
                o.superResolution = o.superResolution ?? SuperResolutionOptions()
                set(scale, \.superResolution!.scale); set(blocks, \.superResolution!.blocks); set(pixelLoss, \.superResolution!.loss)
                set(pixelWeight, \.superResolution!.pixelWeight); set(perceptualLayer, \.superResolution!.perceptualLayer)
                set(perceptualWeight, \.superResolution!.perceptualWeight)
                if let perceptual { o.superResolution!.perceptual = perceptual }
                if let adversarial { o.superResolution!.adversarialWeight = adversarial }
            }
            // Growth flags on another model make a schedule it refuses (`TrainOptions.problem`).
            if o.growth != nil || kimgPerPhase != nil || kimg != nil || fmapBase != nil || fmapMax != nil || conditional {
                o.growth = o.growth ?? GrowthOptions()
                set(kimgPerPhase, \.growth!.kimgPerPhase); set(kimg, \.growth!.totalKimg); set(fmapBase, \.growth!.featureBase)
                set(fmapMax, \.growth!.featureMax)
                if conditional { o.growth!.conditional = true }
            }
            (o.logEvery, o.initFrom) = (logEvery, initFrom)
            if syncBatchnorm { o.synchronizedBatchNorm = true }
            if let ema { o.emaDecay = ema }
            if let loadSize { o.loadSize = loadSize }
            if let evalEvery { o.evaluation = TrainingEvaluation(every: evalEvery, count: evalCount, features: features) }
            return o
        }

        public var folder: String {
            if let resume { return resume }
            if let out { return out }
            let dataset = URL(fileURLWithPath: data).lastPathComponent
            let formatter = DateFormatter()
            formatter.dateFormat = "yyyyMMdd-HHmmss"
            return "runs/\(model.rawValue)-\(dataset)-\(formatter.string(from: Date()))"
        }

        public func run() throws {
            // Under mpirun, each rank trains its share on one device and the first writes the run.
            let world = try MPIWorld.launched()
            // Unbuffered, so that progress shows up at once in logs and pipes too; a full or closed
            // standard output does not stop the run (its folder is the record).
            let log = { (line: String) -> Void in
                if (world?.rank ?? 0) == 0 { _ = try? FileHandle.standardOutput.write(contentsOf: Data((line + "\n").utf8)) }
            }
            do {
                let backends = try makeBackends(try devices(of: world))
                var settings = RunSettings(folder: folder)
                settings.resume = resume != nil
                settings.dryRun = dryRun
                try Training.train(options, settings: settings, backends: backends, processes: world, log: log)
                for backend in backends {
                    if let profiling = backend as? any ProfilingBackend, profiling.isProfiling { log(try profiling.profileReport()) }
                }
                world?.finish()
            } catch {
                guard let world else { throw error }
                // The other ranks would wait for this one in their next all-reduce: stop them all.
                FileHandle.standardError.write(Data("genocl train, rank \(world.rank) of \(world.size): \(error)\n".utf8))
                world.abort()
            }
        }

        /// The devices this process drives: all of `--device`, or under mpirun the one its
        /// local rank indexes (one index given: every rank of the machine on that device).
        func devices(of world: MPIWorld?) throws -> [String] {
            let devices = deviceOptions.devices
            guard let world, devices.count > 1 else { return devices }
            guard world.localRank < devices.count else {
                throw ValidationError(
                    "--device \(deviceOptions.device): local rank \(world.localRank) has no device; name one per rank on each machine (or one for all)"
                )
            }
            return [devices[world.localRank]]
        }
    }
}

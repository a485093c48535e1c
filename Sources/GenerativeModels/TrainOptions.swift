// What defines a training run, saved as config.json (`--resume` reads it back):
// the model, its data and the settings of the source study it comes from.
import Datasets
import Foundation
import NeuralNet
import TensorGraph

public enum OptimizerKind: String, Codable, CaseIterable, Sendable { case adam, nadam, rmsprop }
public enum ReconstructionLoss: String, Codable, CaseIterable, Sendable { case mse, bce }
public enum TranslationDirection: String, Codable, CaseIterable, Sendable {
    case aToB = "AtoB", bToA = "BtoA"
}

public struct TrainOptions: Codable, Equatable, Sendable {
    public var model = ModelKind.dcgan
    public var data = defaultFashionMNISTDirectory
    public var imageSize = 28
    public var channels = 1
    public var latentSize = 100
    /// Width of the generator (ngf), or of a VAE's encoder and decoder.
    public var generatorWidth = 64
    /// Width of the discriminator or critic (ndf).
    public var discriminatorWidth = 64
    /// The classifier's feature vectors (its penultimate layer; nil: 256).
    public var featureSize: Int?
    public var batchSize = 64
    public var epochs = 1
    /// Overrides `epochs` when set.
    public var steps: Int?
    public var optimizer = OptimizerKind.adam
    public var learningRateG: Float = 2e-4
    public var learningRateD: Float = 2e-4
    public var beta1: Float = 0.5
    public var beta2: Float = 0.999
    public var seed: UInt64 = 1
    /// The discriminator's target for real images (one-sided label smoothing below 1).
    public var realLabel: Float = 1
    /// Standard deviation of Gaussian noise added to the discriminator's inputs.
    public var instanceNoise: Float = 0
    /// Random horizontal flips of the real images (both sides of a pix2pix pair).
    public var flip = false
    /// Dropout after the discriminator's activations.
    public var discriminatorDropout: Float = 0
    /// Critic (discriminator) updates per generator update.
    public var criticSteps = 1
    /// With one critic step, the discriminator's and the generator's steps run as one plan
    /// (the generator's forward pass once); false keeps two plans (tests compare the two).
    public var combinesAdversarialSteps = true
    /// WGAN: the critic's weights are clipped to ±clip after each update (0: no clipping).
    public var clip: Float = 0
    /// WGAN-GP: λ of the gradient penalty.
    public var penaltyWeight: Float = 10
    /// VAEs: β, the weight of the KL term.
    public var klWeight: Float = 1
    public var reconstruction = ReconstructionLoss.mse
    /// pix2pix: λ of the L1 term.
    public var l1Weight: Float = 100
    public var direction = TranslationDirection.aToB
    /// Start from these weights: a folder with the networks' .safetensors files (netG,
    /// netD, …) or one generator .safetensors file — genocl's or PyTorch's `state_dict`.
    public var initFrom: String?
    /// On several devices, BatchNorm's batch statistics are the global batch's (all-reduced)
    /// rather than each device's share's (nil, the default, as PyTorch's DDP: optional so
    /// that config.json files written before it still load).
    public var synchronizedBatchNorm: Bool?
    /// GANs: β of the generator's exponential moving average (`netG_ema`, updated every step,
    /// used for samples); nil: none (optional, as config.json files written before it load).
    public var emaDecay: Float?
    /// Paired data: the size pairs are loaded at before a random `imageSize` crop (pix2pix's
    /// jitter, the same crop and flip for both images); nil: the paper's 286 for 256, in proportion.
    public var loadSize: Int?
    /// WGAN: the critic's warm-up schedule, 100 critic steps for the first 25 generator steps
    /// and every 500th (nil, as in config.json files written before it: off).
    public var criticWarmup: Bool?
    /// srresnet: scale, depth and loss (nil for other models).
    public var superResolution: SuperResolutionOptions?
    /// progan: the growth schedule and network widths (nil for other models).
    public var growth: GrowthOptions?
    /// FID, KID and precision/recall every so many steps (nil: none).
    public var evaluation: TrainingEvaluation?
    public var sampleEvery = 500
    public var checkpointEvery = 1000
    public var logEvery = 50

    public init() {}

    /// The source study's settings for `model` on `data`: 28×28 gray for MNIST-family
    /// data (IDX folders, CSV tables), 64×64 RGB for image folders, then the model's own (`applyStudyDefaults`).
    public init(model: ModelKind, data: String = defaultFashionMNISTDirectory) {
        self.model = model
        self.data = data
        (imageSize, channels) = DataLayout(data).isDigits ? (28, 1) : (64, 3)
        model.type.applyStudyDefaults(to: &self)
    }
}

public enum PixelLoss: String, Codable, CaseIterable, Sendable { case mse, l1 }

/// A super-resolution model's factor, depth and loss.
public struct SuperResolutionOptions: Codable, Equatable, Sendable {
    /// The upscaling factor: 2, 4 or 8 (pixel-shuffle stages of ×2).
    public var scale = 4
    /// Residual blocks (Ledig et al.'s 16).
    public var blocks = 16
    public var loss = PixelLoss.mse
    /// The pixel loss's weight (0: the perceptual loss alone, as Johnson et al.'s).
    public var pixelWeight: Float = 1
    /// `vgg16:FILE`: Johnson et al.'s perceptual loss on VGG-16 features from FILE (nil: none).
    public var perceptual: String?
    /// The VGG-16 layer compared (`relu2_2`, Johnson et al.'s) and the loss's weight.
    public var perceptualLayer = "relu2_2"
    public var perceptualWeight: Float = 1
    /// SRGAN: the weight of the adversarial loss against Ledig et al.'s discriminator (their
    /// 1e-3); nil: none.
    public var adversarialWeight: Float?
    public init() {}

    /// The weights file of `perceptual` (nil when absent or not `vgg16:FILE`).
    public var perceptualWeights: String? {
        guard let perceptual, perceptual.hasPrefix("vgg16:"), perceptual.count > 6 else { return nil }
        return String(perceptual.dropFirst(6))
    }
}

/// A progressive GAN's schedule (NVIDIA's `TrainingSchedule`) and widths.
/// Evaluation during training (`--eval-every`, `--eval-count`, `--features`).
public struct TrainingEvaluation: Codable, Equatable, Sendable {
    public var every: Int
    public var count = 5000
    /// The feature network (`classifier:RUN`).
    public var features: String
    public init(every: Int, count: Int = 5000, features: String) { (self.every, self.count, self.features) = (every, count, features) }
}

public struct GrowthOptions: Codable, Equatable, Sendable {
    /// Thousands of real images of each stabilization phase and of each fade-in (NVIDIA's
    /// `lod_training_kimg` and `lod_transition_kimg`, 600 each).
    public var kimgPerPhase: Double = 600
    /// Thousands of real images of the whole run (12,000 in the v2 presets); the last
    /// resolution trains on after growing.
    public var totalKimg: Double = 12000
    /// NVIDIA's `fmap_base` and `fmap_max`.
    public var featureBase = 8192
    public var featureMax = 512
    /// Condition on the data's class labels (NVIDIA's label input and ACGAN-style loss term).
    public var conditional = false
    /// The memory of the smallest device the run started on, in GiB, which caps each
    /// resolution's batch per device at 4096/r · memory/16 GiB (NVIDIA's fp32 caps for 16 GB
    /// V100s: 16 at 256, 8 at 512); saved so that a resumed run keeps its schedule. nil: no cap.
    public var deviceMemoryGiB: Double?
    public init() {}
}

extension TrainOptions {
    /// The size paired data are loaded at: `loadSize`, else 286/256 of the crop (the pix2pix
    /// paper's resize to 286 and random crop to 256); other data are loaded at their size.
    public var effectiveLoadSize: Int {
        loadSize ?? (model.type.trainsOn == .pairs ? (imageSize * 286 + 128) / 256 : imageSize)
    }

    /// Whether the model is conditioned on class labels (a conditional model, or `--conditional` progan).
    public var isConditional: Bool { model.isConditional || growth?.conditional == true }

    /// Limits on sizes read from flags or a config.json, far above any study's, so that sizes
    /// derived from them (elements, steps) cannot overflow.
    public static let limits = (batchSize: 1 << 20, steps: 1 << 40, width: 1 << 16, imageSize: 1 << 14)

    /// What is wrong with these options (a message naming the flag), or nil. The CLI checks
    /// its flags with it, and `--resume` the config.json it reads back.
    public func problem() -> String? {
        if let problem = model.type.problem(with: self) { return problem }
        guard channels == 1 || channels == 3 else { return "--channels must be 1 or 3" }
        let positive = [
            ("--batch-size", batchSize), ("--epochs", epochs), ("--sample-every", sampleEvery), ("--checkpoint-every", checkpointEvery),
            ("--log-every", logEvery), ("--latent-size", latentSize), ("--ngf", generatorWidth), ("--ndf", discriminatorWidth),
            ("--critic-steps", criticSteps), ("--image-size", imageSize),
        ]
        for (name, value) in positive where value <= 0 { return "\(name) must be positive, got \(value)" }
        if let steps, steps <= 0 { return "--steps must be positive, got \(steps)" }
        if let featureSize, !(1...(1 << 14)).contains(featureSize) { return "--feature-size must be from 1 to 16384, got \(featureSize)" }
        if let evaluation {
            guard evaluation.every > 0, evaluation.count >= 2 else { return "--eval-every must be positive and --eval-count at least 2" }
            guard model.type.trainsOn != .pairs, model != .classifier, model != .srresnet else {
                return "--eval-every measures generators that sample from latents; \(model) does not"
            }
        }
        let limits = Self.limits
        let bounded = [
            ("--batch-size", batchSize, limits.batchSize), ("--epochs", epochs, limits.steps), ("--steps", steps ?? 1, limits.steps),
            ("--critic-steps", criticSteps, 1 << 10), ("--latent-size", latentSize, limits.width), ("--ngf", generatorWidth, limits.width),
            ("--ndf", discriminatorWidth, limits.width), ("--image-size", imageSize, limits.imageSize),
        ]
        for (name, value, limit) in bounded where value > limit { return "\(name) \(value) is beyond genocl's limit of \(limit)" }
        guard realLabel > 0, realLabel <= 1, (0..<1).contains(discriminatorDropout), instanceNoise >= 0, instanceNoise.isFinite else {
            return "--label-smoothing and --dropout-d must be in [0, 1), --instance-noise ≥ 0"
        }
        guard learningRateG > 0, learningRateD > 0, learningRateG.isFinite, learningRateD.isFinite, (0..<1).contains(beta1),
            (0..<1).contains(beta2)
        else {
            return "learning rates must be positive and betas in [0, 1)"
        }
        if criticWarmup == true && clip == 0 && model != .wgan {
            return "--critic-warmup is WGAN's schedule (weight clipping); use it with --model wgan"
        }
        if growth != nil && model != .progan {
            return
                "--kimg-per-phase, --kimg, --fmap-base, --fmap-max and --conditional grow a progressive GAN; use them with --model progan"
        }
        if loadSize != nil, !model.type.cropsRandomly {
            return "--load-size sets the size images are cropped from (pix2pix, srresnet); \(model.rawValue) trains on whole images"
        }
        if superResolution != nil && model != .srresnet {
            return "--scale, --blocks and --pixel-loss belong to a super-resolution model; use them with --model srresnet"
        }
        if let loadSize, loadSize < imageSize || loadSize > Self.limits.imageSize {
            return "--load-size must be at least the crop (--image-size \(imageSize)) and at most \(Self.limits.imageSize), got \(loadSize)"
        }
        if let emaDecay {
            guard emaDecay > 0 && emaDecay < 1 else { return "--ema must be in (0, 1), such as 0.999, got \(emaDecay)" }
            guard model.type is any AdversarialModel.Type || model == .progan else {
                return "--ema keeps a GAN generator's moving average; \(model.rawValue) has none"
            }
        }
        guard clip >= 0, penaltyWeight >= 0, klWeight >= 0, l1Weight >= 0, [clip, penaltyWeight, klWeight, l1Weight].allSatisfy(\.isFinite)
        else {
            return "--clip, --penalty-weight, --kl-weight and --l1-weight must be ≥ 0"
        }
        return nil
    }
}

/// The optimizer of `kind` with the run's settings (RMSprop and the Adams use PyTorch's defaults otherwise).
public func makeOptimizer(_ kind: OptimizerKind, _ parameters: [Parameter], learningRate: Float, options: TrainOptions, name: String)
    -> any Optimizer
{
    switch kind {
    case .adam: Adam(parameters, learningRate: learningRate, beta1: options.beta1, beta2: options.beta2, name: name)
    case .nadam: NAdam(parameters, learningRate: learningRate, beta1: options.beta1, beta2: options.beta2, name: name)
    case .rmsprop: RMSprop(parameters, learningRate: learningRate, name: name)
    }
}

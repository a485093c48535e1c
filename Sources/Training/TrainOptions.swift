// What defines a training run, saved as config.json (`--resume` reads it back):
// the model, its data and the settings of the source study it comes from.
import Datasets
import Foundation
import GenerativeModels

/// The models of `genocl train --model`.
public enum ModelKind: String, Codable, CaseIterable, Sendable {
    case dcgan, wgan
    case wganGP = "wgan-gp"
    case vae
    case vaeDense = "vae-dense"
    case cvae, acgan, pix2pix

    /// What it is and where its defaults come from (for `--help` and the README).
    public var summary: String {
        switch self {
        case .dcgan: "DCGAN, pytorch/examples (cars study): BCE, Adam 2e-4, β₁ 0.5"
        case .wgan: "WGAN (bicycles study): clip ±0.01, RMSprop 5e-5, 5 critic steps"
        case .wganGP: "WGAN-GP (dogs study): λ 10, LayerNorm G, NAdam 1e-4 β (0.5, 0.9)"
        case .vae: "convolutional VAE (cars study): KL + reconstruction, Adam 1e-3"
        case .vaeDense: "dense VAE (cars study): 2 hidden layers each way, Adam 1e-3"
        case .cvae: "conditional VAE (dogs study); genocl sample --clusters/--perturb"
        case .acgan: "ACGAN (MNIST study): class-conditioned, RMSprop 5e-5, dropout 0.3"
        case .pix2pix: "pix2pix (maps study): U-Net + PatchGAN, GAN + 100·L1, batch 1"
        }
    }

    public var isAdversarial: Bool { ![.vae, .vaeDense, .cvae].contains(self) }
    public var isVAE: Bool { !isAdversarial }
    /// Whether it trains on class labels.
    public var isConditional: Bool { self == .cvae || self == .acgan }
}

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
    public var sampleEvery = 500
    public var checkpointEvery = 1000
    public var logEvery = 50

    public init() {}

    /// The source study's settings for `model` on `data`: 28×28 gray for MNIST-layout
    /// data, 64×64 RGB for image folders, 256×256 RGB for pix2pix.
    public init(model: ModelKind, data: String = defaultFashionMNISTDirectory) {
        self.model = model
        self.data = data
        let idx = isMNISTLayout(data)
        (imageSize, channels) = idx ? (28, 1) : (64, 3)
        switch model {
        case .dcgan:
            break
        case .wgan:
            (optimizer, learningRateG, learningRateD, criticSteps, clip) = (.rmsprop, 5e-5, 5e-5, 5, 0.01)
        case .wganGP:
            (optimizer, learningRateG, learningRateD, beta1, beta2, criticSteps, latentSize) = (.nadam, 1e-4, 1e-4, 0.5, 0.9, 5, 128)
        case .vae, .cvae:
            (learningRateG, beta1, beta2, latentSize) = (1e-3, 0.9, 0.999, 128)
        case .vaeDense:
            (learningRateG, beta1, beta2, latentSize) = (1e-3, 0.9, 0.999, 32)
        case .acgan:
            (optimizer, learningRateG, learningRateD, discriminatorDropout) = (.rmsprop, 5e-5, 5e-5, 0.3)
        case .pix2pix:
            (imageSize, channels, batchSize) = (256, 3, 1)
        }
        learningRateD = model.isVAE ? learningRateG : learningRateD
    }
}

extension TrainOptions {
    /// The DCGAN layout of dcgan, wgan and acgan runs.
    public var dcganConfig: DCGANConfig {
        DCGANConfig(imageSize: imageSize, channels: channels, latentSize: latentSize, generatorWidth: generatorWidth, discriminatorWidth: discriminatorWidth, discriminatorDropout: discriminatorDropout)
    }
    public var wganGPConfig: WGANGPConfig {
        WGANGPConfig(imageSize: imageSize, channels: channels, latentSize: latentSize, generatorWidth: generatorWidth, criticWidth: discriminatorWidth)
    }
    public var pix2pixConfig: Pix2PixConfig {
        Pix2PixConfig(imageSize: imageSize, inputChannels: channels, outputChannels: channels, generatorWidth: generatorWidth, discriminatorWidth: discriminatorWidth)
    }
    /// The VAE layout of vae, vae-dense and cvae runs on data with `classes` classes.
    public func vaeConfig(classes: Int) -> VAEConfig {
        VAEConfig(architecture: model == .vaeDense ? .dense : .convolutional, imageSize: imageSize, channels: channels, latentSize: latentSize, width: generatorWidth, classes: model == .cvae ? classes : 0)
    }
}

// Variational autoencoders of the car and dog studies: a dense and a convolutional
// version, optionally conditioned on a class label (the dog study's CVAE).
//
// Convolutional: the encoder is DCGAN's discriminator stack ending in a conv to
// 2·nz channels (mean and log-variance), the decoder DCGAN's generator. Dense:
// two hidden layers each way. Conditioning appends the one-hot label: as constant
// channels of the encoder's input image (or features of its input vector) and as
// extra latent dimensions of the decoder's input. Images are in [−1, 1] (Tanh).
import Datasets
import NeuralNet
import TensorGraph

public enum VAEArchitecture: String, Codable, Sendable {
    case convolutional, dense
}

public struct VAEConfig: Codable, Equatable, Sendable {
    public var architecture = VAEArchitecture.convolutional
    public var imageSize = 64
    public var channels = 3
    public var latentSize = 128
    /// Convolutional: DCGAN's ngf/ndf; dense: hidden layers of 8·width and 4·width units.
    public var width = 64
    /// Classes of the labels it is conditioned on (0: unconditional).
    public var classes = 0

    public init(
        architecture: VAEArchitecture = .convolutional, imageSize: Int = 64, channels: Int = 3, latentSize: Int = 128, width: Int = 64,
        classes: Int = 0
    ) {
        (self.architecture, self.imageSize, self.channels, self.latentSize, self.width, self.classes) = (
            architecture, imageSize, channels, latentSize, width, classes
        )
    }

    var layout: DCGANConfig {
        DCGANConfig(imageSize: imageSize, channels: channels, latentSize: latentSize, generatorWidth: width, discriminatorWidth: width)
    }
}

public final class VAE {
    public let config: VAEConfig
    public let encoder: Sequential
    public let decoder: Sequential

    public init(_ config: VAEConfig, seed: UInt64) {
        self.config = config
        var rng = SplitMix64(seed: seed)
        let nz = config.latentSize, k = config.classes
        switch config.architecture {
        case .convolutional:
            precondition(DCGANConfig.imageSizes.contains(config.imageSize), "unsupported VAE image size \(config.imageSize)")
            let layout = config.layout
            encoder = Sequential(
                dcganDiscriminatorBody(layout, inputs: config.channels + k, rng: &rng) + [
                    dcganDiscriminatorHead(layout, outputs: 2 * nz, rng: &rng), Reshape([2 * nz]),
                ])
            decoder = Sequential([Reshape([nz + k, 1, 1])] + dcganGenerator(layout, inputs: nz + k, rng: &rng))
            initializeBatchNormScales(encoder.layers + decoder.layers, rng: &rng)
        case .dense:
            let pixels = config.channels * config.imageSize * config.imageSize, h1 = 8 * config.width, h2 = 4 * config.width
            encoder = Sequential([
                Linear(pixels + k, h1, rng: &rng), Activation.relu(), Linear(h1, h2, rng: &rng), Activation.relu(),
                Linear(h2, 2 * nz, rng: &rng),
            ])
            decoder = Sequential([
                Linear(nz + k, h2, rng: &rng), Activation.relu(), Linear(h2, h1, rng: &rng), Activation.relu(),
                Linear(h1, pixels, rng: &rng), Activation.tanh(),
                Reshape([config.channels, config.imageSize, config.imageSize]),
            ])
        }
    }

    /// The one-hot rows `[N, classes]` of float class indices `[N]`.
    private func oneHot(_ labels: Tensor) -> Tensor { labels.graph.apply(.oneHot(depth: config.classes), [labels]) }

    /// Images `[N, C, S, S]` (and labels `[N]` when conditional) → mean and log-variance `[N, nz]`.
    public func encode(_ x: Tensor, labels: Tensor?, _ context: ForwardContext) -> (mean: Tensor, logVariance: Tensor) {
        let n = x.shape[0], nz = config.latentSize
        var input = config.architecture == .dense ? x.reshaped([n, -1]) : x
        if config.classes > 0, let labels {
            let hot = oneHot(labels)
            input =
                config.architecture == .dense
                ? concat([input, hot], axis: 1)
                : concat(
                    [input, hot.reshaped([n, config.classes, 1, 1]).expanded(to: [n, config.classes, x.shape[2], x.shape[3]])], axis: 1)
        }
        let out = encoder(input, context)
        return (out.sliced(axis: 1, 0..<nz), out.sliced(axis: 1, nz..<(2 * nz)))
    }

    /// `z [N, nz]` (and labels `[N]`) → images `[N, C, S, S]` in [−1, 1].
    public func decode(_ z: Tensor, labels: Tensor?, _ context: ForwardContext) -> Tensor {
        var input = z
        if config.classes > 0, let labels { input = concat([z, oneHot(labels)], axis: 1) }
        return decoder(input, context)
    }
}

/// The reparameterization trick: `z = μ + exp(½·logσ²)·ε` with `ε ~ N(0, I)` drawn on the device.
public func reparameterize(mean: Tensor, logVariance: Tensor, seed: UInt64) -> Tensor {
    mean + exp(logVariance * 0.5) * mean.graph.randomNormal(mean.shape, seed: seed)
}

/// vae, vae-dense and cvae: one `VAE`, three recipes (architecture, conditioning, defaults).
public protocol VAEModel: AutoencoderModel {
    static var architecture: VAEArchitecture { get }
    var vae: VAE { get }
    init(vae: VAE)
}

extension VAEModel {
    public static var trainsOn: ExampleKind { .images }

    /// The studies' Adam 1e-3 (β 0.9, 0.999), one learning rate for encoder and decoder.
    public static func applyStudyDefaults(to o: inout TrainOptions) {
        (o.learningRateG, o.beta1, o.beta2, o.latentSize) = (1e-3, 0.9, 0.999, architecture == .dense ? 32 : 128)
        o.learningRateD = o.learningRateG
    }

    /// A dense VAE takes any size; the convolutional ones the DCGAN layout's.
    public static func problem(with options: TrainOptions) -> String? {
        if architecture == .dense { return options.imageSize > 0 ? nil : "--image-size must be positive" }
        return dcganLayoutProblem(name, options)
    }

    public init(_ options: TrainOptions, classes: Int) {
        let config = VAEConfig(
            architecture: Self.architecture, imageSize: options.imageSize, channels: options.channels, latentSize: options.latentSize,
            width: options.generatorWidth, classes: Self.trainsOn == .labeledImages ? classes : 0)
        self.init(vae: VAE(config, seed: options.seed))
    }

    public var networks: [(file: String, module: Module)] {
        [("encoder", Module([("main", vae.encoder)])), ("decoder", Module([("main", vae.decoder)]))]
    }
    public var parameters: [Parameter] { vae.encoder.parameters + vae.decoder.parameters }
    public var latentSize: Int { vae.config.latentSize }
    public func encode(_ x: Tensor, labels: Tensor?, _ context: ForwardContext) -> (mean: Tensor, logVariance: Tensor) {
        vae.encode(x, labels: labels, context)
    }
    public func decode(_ z: Tensor, labels: Tensor?, _ context: ForwardContext) -> Tensor { vae.decode(z, labels: labels, context) }
}

public final class ConvolutionalVAE: VAEModel {
    public static let name = "vae"
    public static let summary = "convolutional VAE (cars study): KL + reconstruction, Adam 1e-3"
    public static let architecture = VAEArchitecture.convolutional
    public let vae: VAE
    public init(vae: VAE) { self.vae = vae }
}

public final class DenseVAE: VAEModel {
    public static let name = "vae-dense"
    public static let summary = "dense VAE (cars study): 2 hidden layers each way, Adam 1e-3"
    public static let architecture = VAEArchitecture.dense
    public let vae: VAE
    public init(vae: VAE) { self.vae = vae }
}

public final class ConditionalVAE: VAEModel {
    public static let name = "cvae"
    public static let summary = "conditional VAE (dogs study); genocl sample --clusters/--perturb"
    public static let architecture = VAEArchitecture.convolutional
    public static let trainsOn = ExampleKind.labeledImages
    public let vae: VAE
    public init(vae: VAE) { self.vae = vae }
}

extension ModelKind {
    public static let vae = ModelKind(ConvolutionalVAE.self)
    public static let vaeDense = ModelKind(DenseVAE.self)
    public static let cvae = ModelKind(ConditionalVAE.self)
}

// DCGAN (Radford et al.), as pytorch/examples `dcgan`: a transposed-convolution
// generator with BatchNorm and ReLU ending in Tanh, a strided-convolution
// discriminator with BatchNorm and LeakyReLU(0.2) ending in Sigmoid, N(0, 0.02)
// conv weights and N(1, 0.02) BatchNorm scales. 64×64 (and 32×32) follow the
// example exactly; 28×28 (MNIST, Fashion-MNIST) starts the generator at 7×7.
// The two stacks are also the building blocks of WGAN, ACGAN and the
// convolutional VAEs (`dcganGenerator`, `dcganDiscriminatorBody`).
import Datasets
import NeuralNet
import TensorGraph

public struct DCGANConfig: Codable, Equatable, Sendable {
    public var imageSize = 64
    public var channels = 3
    public var latentSize = 100
    public var generatorWidth = 64
    public var discriminatorWidth = 64
    /// Dropout after each discriminator activation (0: none), an option of the source studies.
    public var discriminatorDropout: Float = 0

    public init(
        imageSize: Int = 64, channels: Int = 3, latentSize: Int = 100, generatorWidth: Int = 64, discriminatorWidth: Int = 64,
        discriminatorDropout: Float = 0
    ) {
        (self.imageSize, self.channels, self.latentSize, self.generatorWidth, self.discriminatorWidth, self.discriminatorDropout) =
            (imageSize, channels, latentSize, generatorWidth, discriminatorWidth, discriminatorDropout)
    }

    /// The supported sizes: 28 (starts at 7×7) and 4·2ᵏ from 16 to 256.
    public static let imageSizes = [28, 16, 32, 64, 128, 256]

    /// The side of the first generator feature map and of the discriminator's last (7 for 28×28, else 4).
    public var firstSize: Int { imageSize == 28 ? 7 : 4 }

    /// Channel multipliers of the generator's blocks after the first, largest first (64×64: 8, 4, 2, 1).
    public var multipliers: [Int] {
        if imageSize == 28 { return [2, 1] }
        var blocks = 0, size = 4
        while size * 2 < imageSize { size *= 2; blocks += 1 }
        return (0...blocks).reversed().map { 1 << $0 }
    }

    /// Channels of the discriminator body's output (`[N, this, firstSize, firstSize]`).
    public var discriminatorFeatures: Int { discriminatorWidth * multipliers[0] }
}

/// Conv weights N(0, 0.02), as the example's `weights_init`.
private let dcganConv = Initializer.normal(std: 0.02)

/// The DCGAN generator: `[N, inputs, 1, 1]` → `[N, channels, S, S]` in [−1, 1].
public func dcganGenerator(_ config: DCGANConfig, inputs: Int, rng: inout SplitMix64) -> [any Layer] {
    let m = config.multipliers, ngf = config.generatorWidth
    var g: [any Layer] = [
        ConvTranspose2D(inputs, ngf * m[0], kernel: config.firstSize, bias: false, initializer: dcganConv, rng: &rng),
        BatchNorm(ngf * m[0]), Activation.relu(),
    ]
    for (a, b) in zip(m, m.dropFirst()) {
        g += [
            ConvTranspose2D(ngf * a, ngf * b, kernel: 4, stride: 2, padding: 1, bias: false, initializer: dcganConv, rng: &rng),
            BatchNorm(ngf * b), Activation.relu(),
        ]
    }
    return g + [
        ConvTranspose2D(ngf * m.last!, config.channels, kernel: 4, stride: 2, padding: 1, bias: false, initializer: dcganConv, rng: &rng),
        Activation.tanh(),
    ]
}

/// The DCGAN discriminator without its head: `[N, inputs, S, S]` → `[N, discriminatorFeatures, firstSize, firstSize]`.
/// `batchNorm: false` drops the normalization (critics of gradient-penalty and dropout-regularized GANs).
public func dcganDiscriminatorBody(_ config: DCGANConfig, inputs: Int, batchNorm: Bool = true, rng: inout SplitMix64) -> [any Layer] {
    let dm = Array(config.multipliers.reversed()), ndf = config.discriminatorWidth  // 1, 2, 4, 8
    let dropout: [any Layer] = config.discriminatorDropout > 0 ? [Dropout(config.discriminatorDropout)] : []
    var d: [any Layer] =
        [
            Conv2D(inputs, ndf * dm[0], kernel: 4, stride: 2, padding: 1, bias: false, initializer: dcganConv, rng: &rng),
            Activation.leakyReLU(0.2),
        ] + dropout
    for (a, b) in zip(dm, dm.dropFirst()) {
        let norm: [any Layer] = batchNorm ? [BatchNorm(ndf * b)] : []
        d +=
            [Conv2D(ndf * a, ndf * b, kernel: 4, stride: 2, padding: 1, bias: false, initializer: dcganConv, rng: &rng)] + norm + [
                Activation.leakyReLU(0.2)
            ] + dropout
    }
    return d
}

/// The discriminator's head: a `firstSize`×`firstSize` convolution to `outputs` channels (`[N, outputs, 1, 1]`).
public func dcganDiscriminatorHead(_ config: DCGANConfig, outputs: Int, rng: inout SplitMix64) -> Conv2D {
    Conv2D(config.discriminatorFeatures, outputs, kernel: config.firstSize, bias: false, initializer: dcganConv, rng: &rng)
}

/// BatchNorm scales N(1, 0.02), as the example's `weights_init`.
public func initializeBatchNormScales(_ layers: [any Layer], rng: inout SplitMix64) {
    for case let bn as BatchNorm in layers { initialize(bn.weight, .normal(mean: 1, std: 0.02), rng: &rng) }
}

/// The generator and discriminator of a DCGAN, with PyTorch's module names (`main.N.…`).
/// As a WGAN critic (`critic: true`) the discriminator ends without the sigmoid.
public final class DCGAN {
    public let config: DCGANConfig
    public let generator: Sequential
    public let discriminator: Sequential

    public init(_ config: DCGANConfig, seed: UInt64, critic: Bool = false) {
        precondition(DCGANConfig.imageSizes.contains(config.imageSize), "unsupported DCGAN image size \(config.imageSize)")
        self.config = config
        var rng = SplitMix64(seed: seed)
        generator = Sequential(dcganGenerator(config, inputs: config.latentSize, rng: &rng))
        let body = dcganDiscriminatorBody(config, inputs: config.channels, rng: &rng)
        let head = dcganDiscriminatorHead(config, outputs: 1, rng: &rng)
        discriminator = Sequential(body + [head] + (critic ? [] : [Activation.sigmoid()]))
        initializeBatchNormScales(generator.layers + discriminator.layers, rng: &rng)
    }

    /// `z [N, nz, 1, 1]` → images `[N, C, S, S]` in [−1, 1].
    public func generate(_ z: Tensor, _ context: ForwardContext) -> Tensor { generator(z, context) }

    /// Images → probability of "real" (a critic's score for a WGAN), `[N]`.
    public func discriminate(_ x: Tensor, _ context: ForwardContext) -> Tensor {
        discriminator(x, context).reshaped([-1])
    }
}

extension DCGAN: AdversarialModel {
    public static let name = "dcgan"
    public static let summary = "DCGAN, pytorch/examples (cars study): BCE, Adam 2e-4, β₁ 0.5"
    public static let trainsOn = ExampleKind.images

    public convenience init(_ options: TrainOptions, classes: Int) {
        self.init(options.dcganConfig, seed: options.seed)
    }

    /// The example's layout, read off a generator's weights (a PyTorch `netG` state dict).
    public static func options(forGenerator shapes: [String: [Int]]) -> TrainOptions? {
        // `main.<layer>.weight` of rank 4: the transposed convolutions, 3 (16×16, 28×28) to 7 (256×256).
        let convolutions = shapes.compactMap { name, shape -> (Int, [Int])? in
            let parts = name.split(separator: ".")
            guard parts.count == 3, parts[0] == "main", parts[2] == "weight", shape.count == 4, let layer = Int(parts[1]) else {
                return nil
            }
            return (layer, shape)
        }.sorted { $0.0 < $1.0 }.map(\.1)
        guard (3...7).contains(convolutions.count), let first = convolutions.first, let last = convolutions.last else { return nil }
        var options = TrainOptions()
        options.imageSize = first[2] == 7 ? 28 : 4 << (convolutions.count - 1)
        let multiplier = options.imageSize == 28 ? 2 : 1 << (convolutions.count - 2)
        (options.channels, options.latentSize, options.generatorWidth) = (last[1], first[0], first[1] / multiplier)
        return options.problem() == nil ? options : nil
    }

    public var networks: [(file: String, module: Module)] {
        [("netG", Module([("main", generator)])), ("netD", Module([("main", discriminator)]))]
    }
    public var generatorParameters: [Parameter] { generator.parameters }
    public var discriminatorParameters: [Parameter] { discriminator.parameters }
    public func latentShape(_ count: Int) -> Shape? { [count, config.latentSize, 1, 1] }
    public func generate(_ inputs: GeneratorInputs, _ context: ForwardContext) -> Tensor { generate(inputs.noise!, context) }
    public func discriminate(_ images: Tensor, condition: Tensor?, _ context: ForwardContext) -> Discrimination {
        Discrimination(score: discriminate(images, context))
    }

    public func discriminatorLoss(_ step: DiscriminatorStep) -> DiscriminatorLoss {
        DiscriminatorLoss(bceAgainstTargets(step.dReal.score, step.options.realLabel) + bceAgainstTargets(step.dFake.score, 0))
    }

    public func generatorLoss(_ step: GeneratorStep) -> (loss: Tensor, extras: [Tensor]) {
        (bceAgainstTargets(step.dFake.score, 1), [])
    }
}

/// Binary cross-entropy of probabilities against one target for all.
func bceAgainstTargets(_ probabilities: Tensor, _ target: Float) -> Tensor {
    binaryCrossEntropy(probabilities, probabilities.graph.fill(target, probabilities.shape))
}

extension TrainOptions {
    /// The DCGAN layout of dcgan, wgan and acgan runs.
    public var dcganConfig: DCGANConfig {
        DCGANConfig(
            imageSize: imageSize, channels: channels, latentSize: latentSize, generatorWidth: generatorWidth,
            discriminatorWidth: discriminatorWidth,
            discriminatorDropout: discriminatorDropout)
    }
}

extension ModelKind {
    public static let dcgan = ModelKind(DCGAN.self)
}

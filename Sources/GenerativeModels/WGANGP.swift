// WGAN-GP (dogs study): a generator of nearest-neighbour upsampling + 3×3
// convolutions (no transposed convolutions, so no checkerboard), LayerNorm and
// ReLU, with a stride-1 "secondary" conv block after each upsampling block; a
// critic of strided convolutions and LeakyReLU without normalization (the
// gradient penalty is per example, which batch statistics would break); He
// initialization; the penalty λ·E[(‖∇D(x̂)‖ − 1)²] on random interpolates x̂.
import Datasets
import NeuralNet
import TensorGraph

public struct WGANGPConfig: Codable, Equatable, Sendable {
    public var imageSize = 64
    public var channels = 3
    public var latentSize = 128
    public var generatorWidth = 64
    public var criticWidth = 64

    public init(imageSize: Int = 64, channels: Int = 3, latentSize: Int = 128, generatorWidth: Int = 64, criticWidth: Int = 64) {
        (self.imageSize, self.channels, self.latentSize, self.generatorWidth, self.criticWidth) = (
            imageSize, channels, latentSize, generatorWidth, criticWidth
        )
    }

    /// Sizes and channel schedule as DCGAN's (start at 4×4, or 7×7 for 28×28).
    var layout: DCGANConfig {
        DCGANConfig(
            imageSize: imageSize, channels: channels, latentSize: latentSize, generatorWidth: generatorWidth,
            discriminatorWidth: criticWidth)
    }
}

public final class WGANGP {
    public let config: WGANGPConfig
    public let generator: Sequential
    public let critic: Sequential

    public init(_ config: WGANGPConfig, seed: UInt64) {
        precondition(DCGANConfig.imageSizes.contains(config.imageSize), "unsupported WGAN-GP image size \(config.imageSize)")
        self.config = config
        var rng = SplitMix64(seed: seed)
        let layout = config.layout, m = layout.multipliers, first = layout.firstSize, ngf = config.generatorWidth
        func convBlock(_ inputs: Int, _ outputs: Int, size: Int, rng: inout SplitMix64) -> [any Layer] {
            [
                Conv2D(inputs, outputs, kernel: 3, padding: 1, initializer: .heNormal, rng: &rng), LayerNorm([outputs, size, size]),
                Activation.relu(),
            ]
        }
        var g: [any Layer] = [
            Linear(config.latentSize, ngf * m[0] * first * first, initializer: .heNormal, rng: &rng), Reshape([ngf * m[0], first, first]),
            LayerNorm([ngf * m[0], first, first]), Activation.relu(),
        ]
        // Each block doubles the size: upsample, conv to the next width, then a secondary conv at that width.
        var size = first
        for (a, b) in zip(m, m.dropFirst() + [m.last!]) {
            size *= 2
            g +=
                [Upsample(factor: 2)] + convBlock(ngf * a, ngf * b, size: size, rng: &rng)
                + convBlock(ngf * b, ngf * b, size: size, rng: &rng)
        }
        g += [Conv2D(ngf * m.last!, config.channels, kernel: 3, padding: 1, initializer: .heNormal, rng: &rng), Activation.tanh()]
        generator = Sequential(g)

        var body = dcganDiscriminatorBody(layout, inputs: config.channels, batchNorm: false, rng: &rng)
        for case let conv as Conv2D in body { initialize(conv.weight, .heNormal, rng: &rng) }
        body += [Reshape([-1]), Linear(layout.discriminatorFeatures * first * first, 1, initializer: .heNormal, rng: &rng)]
        critic = Sequential(body)
    }

    /// `z [N, nz]` → images `[N, C, S, S]` in [−1, 1].
    public func generate(_ z: Tensor, _ context: ForwardContext) -> Tensor { generator(z, context) }

    /// Images → critic scores `[N]`.
    public func criticize(_ x: Tensor, _ context: ForwardContext) -> Tensor { critic(x, context).reshaped([-1]) }
}

/// The WGAN-GP gradient penalty `E[(‖∇ₓ̂ D(x̂)‖₂ − 1)²]` at `x̂ = α·real + (1 − α)·fake`
/// with one `α [N]` per example. The gradient is a graph, so the penalty's own
/// gradient (second order) flows back into the critic's weights.
public func gradientPenalty(real: Tensor, fake: Tensor, alpha: Tensor, critic: (Tensor) -> Tensor) -> Tensor {
    let n = real.shape[0]
    let a = alpha.reshaped([n] + [Int](repeating: 1, count: real.shape.rank - 1)).expanded(to: real.shape)
    let mixed = real * a + fake * (1 - a)
    let grad = gradients(of: critic(mixed).sum(), wrt: [mixed])[0]
    // A tiny floor keeps the norm's derivative finite at a zero gradient.
    let norm = sqrt(square(grad).reshaped([n, -1]).sum(axes: [1]) + 1e-12)
    return square(norm - 1).mean()
}

extension WGANGP: AdversarialModel {
    public static let name = "wgan-gp"
    public static let summary = "WGAN-GP (dogs study): λ 10, LayerNorm G, NAdam 1e-4 β (0.5, 0.9)"
    public static let trainsOn = ExampleKind.images
    public static let discriminatorMetrics = ["gradient_penalty"]

    public static func applyStudyDefaults(to o: inout TrainOptions) {
        (o.optimizer, o.learningRateG, o.learningRateD, o.beta1, o.beta2, o.criticSteps, o.latentSize) = (
            .nadam, 1e-4, 1e-4, 0.5, 0.9, 5, 128
        )
    }

    public convenience init(_ options: TrainOptions, classes: Int) {
        self.init(
            WGANGPConfig(
                imageSize: options.imageSize, channels: options.channels, latentSize: options.latentSize,
                generatorWidth: options.generatorWidth,
                criticWidth: options.discriminatorWidth), seed: options.seed)
    }

    public var networks: [(file: String, module: Module)] {
        [("netG", Module([("main", generator)])), ("netD", Module([("main", critic)]))]
    }
    public var generatorParameters: [Parameter] { generator.parameters }
    public var discriminatorParameters: [Parameter] { critic.parameters }
    public func latentShape(_ count: Int) -> Shape? { [count, config.latentSize] }
    public func generate(_ inputs: GeneratorInputs, _ context: ForwardContext) -> Tensor { generate(inputs.noise!, context) }
    public func discriminate(_ images: Tensor, condition: Tensor?, _ context: ForwardContext) -> Discrimination {
        Discrimination(score: criticize(images, context))
    }

    /// E[D(G(z))] − E[D(x)] + λ·penalty, the penalty at one random interpolate per example.
    public func discriminatorLoss(_ step: DiscriminatorStep) -> DiscriminatorLoss {
        let fake = stopGradient(step.fake)
        let alpha = step.real.graph.randomUniform([step.real.shape[0]], seed: step.options.seed &+ 5)
        let penalty = gradientPenalty(real: step.real, fake: fake, alpha: alpha, critic: step.critic)
        return DiscriminatorLoss(
            step.dFake.score.mean() - step.dReal.score.mean() + penalty * step.options.penaltyWeight, extras: [penalty])
    }

    public func generatorLoss(_ step: GeneratorStep) -> (loss: Tensor, extras: [Tensor]) { (-step.dFake.score.mean(), []) }

    /// As the dogs study: latents from a normal truncated to ±2.
    public func trainingSamples(_ graph: Graph, options: TrainOptions, classes: Int, heldOut: Examples?, rng: inout SplitMix64)
        -> TrainingSamples
    {
        TrainingSamples(GeneratorInputs(noise: fixedLatents(graph, latentShape(64)!, truncation: 2, rng: &rng)), columns: 8)
    }
}

extension ModelKind {
    public static let wganGP = ModelKind(WGANGP.self)
}

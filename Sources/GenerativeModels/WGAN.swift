// The Wasserstein GANs of the source studies.
//
// WGAN with weight clipping (bicycles study) is DCGAN's pair with the critic's
// sigmoid removed (see `DCGAN(critic: true)`); the clipping is part of its update.
//
// WGAN-GP (dogs study): a generator of nearest-neighbour upsampling + 3×3
// convolutions (no transposed convolutions, so no checkerboard), LayerNorm and
// ReLU, with a stride-1 "secondary" conv block after each upsampling block; a
// critic of strided convolutions and LeakyReLU without normalization (the
// gradient penalty is per example, which batch statistics would break); He
// initialization; the penalty λ·E[(‖∇D(x̂)‖ − 1)²] on random interpolates x̂.
import NeuralNet
import TensorGraph

public struct WGANGPConfig: Codable, Equatable, Sendable {
    public var imageSize = 64
    public var channels = 3
    public var latentSize = 128
    public var generatorWidth = 64
    public var criticWidth = 64

    public init(imageSize: Int = 64, channels: Int = 3, latentSize: Int = 128, generatorWidth: Int = 64, criticWidth: Int = 64) {
        (self.imageSize, self.channels, self.latentSize, self.generatorWidth, self.criticWidth) = (imageSize, channels, latentSize, generatorWidth, criticWidth)
    }

    /// Sizes and channel schedule as DCGAN's (start at 4×4, or 7×7 for 28×28).
    var layout: DCGANConfig { DCGANConfig(imageSize: imageSize, channels: channels, latentSize: latentSize, generatorWidth: generatorWidth, discriminatorWidth: criticWidth) }
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
            [Conv2D(inputs, outputs, kernel: 3, padding: 1, initializer: .heNormal, rng: &rng), LayerNorm([outputs, size, size]), Activation.relu()]
        }
        var g: [any Layer] = [
            Linear(config.latentSize, ngf * m[0] * first * first, initializer: .heNormal, rng: &rng), Reshape([ngf * m[0], first, first]),
            LayerNorm([ngf * m[0], first, first]), Activation.relu(),
        ]
        // Each block doubles the size: upsample, conv to the next width, then a secondary conv at that width.
        var size = first
        for (a, b) in zip(m, m.dropFirst() + [m.last!]) {
            size *= 2
            g += [Upsample(factor: 2)] + convBlock(ngf * a, ngf * b, size: size, rng: &rng) + convBlock(ngf * b, ngf * b, size: size, rng: &rng)
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

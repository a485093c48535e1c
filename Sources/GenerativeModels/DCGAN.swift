// DCGAN (Radford et al.), as pytorch/examples `dcgan`: a transposed-convolution
// generator with BatchNorm and ReLU ending in Tanh, a strided-convolution
// discriminator with BatchNorm and LeakyReLU(0.2) ending in Sigmoid, N(0, 0.02)
// conv weights and N(1, 0.02) BatchNorm scales. 64×64 (and 32×32) follow the
// example exactly; 28×28 (MNIST, Fashion-MNIST) starts the generator at 7×7.
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

    public init(imageSize: Int = 64, channels: Int = 3, latentSize: Int = 100, generatorWidth: Int = 64, discriminatorWidth: Int = 64, discriminatorDropout: Float = 0) {
        (self.imageSize, self.channels, self.latentSize, self.generatorWidth, self.discriminatorWidth, self.discriminatorDropout) =
            (imageSize, channels, latentSize, generatorWidth, discriminatorWidth, discriminatorDropout)
    }

    /// The supported sizes: 28 (starts at 7×7) and 4·2ᵏ from 16 to 256.
    public static let imageSizes = [28, 16, 32, 64, 128, 256]

    /// Channel multipliers of the generator's blocks after the first, largest first (64×64: 8, 4, 2, 1).
    var multipliers: [Int] {
        if imageSize == 28 { return [2, 1] }
        var blocks = 0, size = 4
        while size * 2 < imageSize { size *= 2; blocks += 1 }
        return (0...blocks).reversed().map { 1 << $0 }
    }
}

/// The generator and discriminator of a DCGAN, with PyTorch's module names (`main.N.…`).
public final class DCGAN {
    public let config: DCGANConfig
    public let generator: Sequential
    public let discriminator: Sequential

    public init(_ config: DCGANConfig, seed: UInt64) {
        precondition(DCGANConfig.imageSizes.contains(config.imageSize), "unsupported DCGAN image size \(config.imageSize)")
        self.config = config
        var rng = SplitMix64(seed: seed)
        let m = config.multipliers, ngf = config.generatorWidth, ndf = config.discriminatorWidth, nc = config.channels
        let first = config.imageSize == 28 ? 7 : 4
        // weights_init of the example: conv weights N(0, 0.02); BatchNorm weight N(1, 0.02), bias 0.
        let conv = Initializer.normal(std: 0.02)

        var g: [any Layer] = [
            ConvTranspose2D(config.latentSize, ngf * m[0], kernel: first, bias: false, initializer: conv, rng: &rng), BatchNorm(ngf * m[0]), Activation.relu(),
        ]
        for (a, b) in zip(m, m.dropFirst()) {
            g += [ConvTranspose2D(ngf * a, ngf * b, kernel: 4, stride: 2, padding: 1, bias: false, initializer: conv, rng: &rng), BatchNorm(ngf * b), Activation.relu()]
        }
        g += [ConvTranspose2D(ngf * m.last!, nc, kernel: 4, stride: 2, padding: 1, bias: false, initializer: conv, rng: &rng), Activation.tanh()]
        generator = Sequential(g)

        let dm = Array(m.reversed())  // 1, 2, 4, 8
        let dropout: [any Layer] = config.discriminatorDropout > 0 ? [Dropout(config.discriminatorDropout)] : []
        var d: [any Layer] = [Conv2D(nc, ndf * dm[0], kernel: 4, stride: 2, padding: 1, bias: false, initializer: conv, rng: &rng), Activation.leakyReLU(0.2)] + dropout
        for (a, b) in zip(dm, dm.dropFirst()) {
            d += [Conv2D(ndf * a, ndf * b, kernel: 4, stride: 2, padding: 1, bias: false, initializer: conv, rng: &rng), BatchNorm(ndf * b), Activation.leakyReLU(0.2)] + dropout
        }
        d += [Conv2D(ndf * dm.last!, 1, kernel: first, bias: false, initializer: conv, rng: &rng), Activation.sigmoid()]
        discriminator = Sequential(d)

        for case let bn as BatchNorm in generator.layers + discriminator.layers {
            initialize(bn.weight, .normal(mean: 1, std: 0.02), rng: &rng)
        }
    }

    /// `z [N, nz, 1, 1]` → images `[N, C, S, S]` in [−1, 1].
    public func generate(_ z: Tensor, _ context: ForwardContext) -> Tensor { generator(z, context) }

    /// Images → probability of "real", `[N]`.
    public func discriminate(_ x: Tensor, _ context: ForwardContext) -> Tensor {
        discriminator(x, context).reshaped([-1])
    }
}

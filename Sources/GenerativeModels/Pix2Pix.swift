// pix2pix (Isola et al.) as pytorch-CycleGAN-and-pix2pix's `unet_256` + `basic`
// discriminator: a U-Net generator of log₂(S) encoder blocks (conv 4×4/2,
// BatchNorm, LeakyReLU 0.2) and as many decoder blocks (transposed conv 4×4/2,
// BatchNorm, ReLU) with skip connections, dropout 0.5 in the three decoder blocks
// after the innermost, Tanh out; a 70×70 PatchGAN on the input and output images
// side by side (channel concatenation), giving one logit per patch. N(0, 0.02)
// weights, zero biases, N(1, 0.02) BatchNorm scales.
import Datasets
import NeuralNet
import TensorGraph

public struct Pix2PixConfig: Codable, Equatable, Sendable {
    public var imageSize = 256
    public var inputChannels = 3
    public var outputChannels = 3
    public var generatorWidth = 64
    public var discriminatorWidth = 64

    public init(
        imageSize: Int = 256, inputChannels: Int = 3, outputChannels: Int = 3, generatorWidth: Int = 64, discriminatorWidth: Int = 64
    ) {
        (self.imageSize, self.inputChannels, self.outputChannels, self.generatorWidth, self.discriminatorWidth) =
            (imageSize, inputChannels, outputChannels, generatorWidth, discriminatorWidth)
    }

    /// Encoder blocks: the U-Net halves the image down to 1×1 (8 at 256×256).
    public var depth: Int { imageSize.trailingZeroBitCount }

    /// Why `imageSize` cannot be used, or nil: the U-Net needs a power of two, and the PatchGAN at least 32.
    public var sizeProblem: String? {
        imageSize >= 32 && imageSize & (imageSize - 1) == 0
            ? nil
            : "pix2pix needs a square image whose side is a power of two of at least 32 (the U-Net halves it down to 1×1: 256 → 8 blocks), got \(imageSize)"
    }
}

/// The U-Net generator. State names: `down.<level>.<layer>.*` and `up.<level>.<layer>.*`, level 0 outermost.
public final class UNet: Layer {
    public let config: Pix2PixConfig
    public let down: [Sequential]
    public let up: [Sequential]

    public init(_ config: Pix2PixConfig, rng: inout SplitMix64) {
        self.config = config
        let n = config.depth, ngf = config.generatorWidth
        let width = (0..<n).map { ngf << min($0, 3) }  // ngf, 2ngf, 4ngf, 8ngf, 8ngf, …
        let conv = Initializer.normal(std: 0.02)
        down = (0..<n).map { level in
            let inputs = level == 0 ? config.inputChannels : width[level - 1]
            if level == 0 {
                return Sequential([Conv2D(inputs, width[0], kernel: 4, stride: 2, padding: 1, bias: false, initializer: conv, rng: &rng)])
            }
            let c = Conv2D(inputs, width[level], kernel: 4, stride: 2, padding: 1, bias: false, initializer: conv, rng: &rng)
            return Sequential([Activation.leakyReLU(0.2), c] + (level == n - 1 ? [] : [BatchNorm(width[level])]))
        }
        up = (0..<n).map { level in
            let inputs = level == n - 1 ? width[level] : 2 * width[level]
            if level == 0 {
                let c = ConvTranspose2D(
                    inputs, config.outputChannels, kernel: 4, stride: 2, padding: 1, bias: true, initializer: conv, rng: &rng)
                initialize(c.bias!, .constant(0), rng: &rng)
                return Sequential([Activation.relu(), c, Activation.tanh()])
            }
            let c = ConvTranspose2D(inputs, width[level - 1], kernel: 4, stride: 2, padding: 1, bias: false, initializer: conv, rng: &rng)
            let dropout: [any Layer] = (4..<(n - 1)).contains(level) ? [Dropout(0.5)] : []
            return Sequential([Activation.relu(), c, BatchNorm(width[level - 1])] + dropout)
        }
        initializeBatchNormScales(down.flatMap(\.layers) + up.flatMap(\.layers), rng: &rng)
    }

    private func prefixed(_ items: (Sequential) -> [(name: String, parameter: Parameter)]) -> [(name: String, parameter: Parameter)] {
        down.enumerated().flatMap { i, s in items(s).map { ("down.\(i).\($0.name)", $0.parameter) } }
            + up.enumerated().flatMap { i, s in items(s).map { ("up.\(i).\($0.name)", $0.parameter) } }
    }
    public var namedParameters: [(name: String, parameter: Parameter)] { prefixed(\.namedParameters) }
    public var namedBuffers: [(name: String, parameter: Parameter)] { prefixed(\.namedBuffers) }
    public var namedState: [(name: String, parameter: Parameter)] { prefixed(\.namedState) }

    /// `[N, inputChannels, S, S]` → `[N, outputChannels, S, S]`; the feature maps of
    /// each encoder level are concatenated to the decoder's input at that level.
    public func callAsFunction(_ x: Tensor, _ context: ForwardContext) -> Tensor {
        let s = config.imageSize
        guard x.shape.rank == 4, x.shape[1] == config.inputChannels, x.shape[2] == s, x.shape[3] == s else {
            x.graph.record(
                GraphError(
                    "U-Net",
                    "input \(x.shape) does not fit the generator built for [N, \(config.inputChannels), \(s), \(s)]; resize the images to \(s)×\(s)"
                ))
            return x
        }
        var skips: [Tensor] = []
        var h = x
        for block in down {
            h = block(h, context)
            skips.append(h)
        }
        for level in (0..<config.depth).reversed() {
            // Level L's decoder sees the innermost output (L = n − 1) or [encoder L, decoder L+1].
            let input = level == config.depth - 1 ? h : concat([skips[level], h], axis: 1)
            h = up[level](input, context)
        }
        return h
    }
}

public final class Pix2Pix {
    public let config: Pix2PixConfig
    public let generator: UNet
    public let discriminator: Sequential

    public init(_ config: Pix2PixConfig, seed: UInt64) throws {
        if let problem = config.sizeProblem { throw GraphError("pix2pix", problem) }
        self.config = config
        var rng = SplitMix64(seed: seed)
        generator = UNet(config, rng: &rng)
        let ndf = config.discriminatorWidth, conv = Initializer.normal(std: 0.02)
        // The 70×70 PatchGAN (n_layers = 3): three stride-2 and two stride-1 4×4 convolutions.
        var d: [any Layer] = [
            Conv2D(config.inputChannels + config.outputChannels, ndf, kernel: 4, stride: 2, padding: 1, initializer: conv, rng: &rng),
            Activation.leakyReLU(0.2),
        ]
        for (i, (a, b)) in [(1, 2), (2, 4), (4, 8)].enumerated() {
            d += [
                Conv2D(ndf * a, ndf * b, kernel: 4, stride: i == 2 ? 1 : 2, padding: 1, bias: false, initializer: conv, rng: &rng),
                BatchNorm(ndf * b), Activation.leakyReLU(0.2),
            ]
        }
        d += [Conv2D(ndf * 8, 1, kernel: 4, stride: 1, padding: 1, initializer: conv, rng: &rng)]
        for case let c as Conv2D in d { if let bias = c.bias { initialize(bias, .constant(0), rng: &rng) } }
        discriminator = Sequential(d)
        initializeBatchNormScales(d, rng: &rng)
    }

    /// Input images → translated images.
    public func translate(_ input: Tensor, _ context: ForwardContext) -> Tensor { generator(input, context) }

    /// (input, output) pairs → one logit per 70×70 patch, `[N, 1, P, P]` (30×30 at 256×256).
    public func discriminate(input: Tensor, output: Tensor, _ context: ForwardContext) -> Tensor {
        discriminator(concat([input, output], axis: 1), context)
    }
}

extension Pix2Pix: AdversarialModel {
    public static let name = "pix2pix"
    public static let summary = "pix2pix (maps study): U-Net + PatchGAN, GAN + 100·L1, batch 1"
    public static let trainsOn = ExampleKind.pairs
    public static let showsHeldOut = true
    public static let generatorMetrics = ["loss_g_gan", "loss_g_l1"]

    public static func applyStudyDefaults(to o: inout TrainOptions) { (o.imageSize, o.channels, o.batchSize) = (256, 3, 1) }

    public static func problem(with options: TrainOptions) -> String? {
        pix2pixConfig(options).sizeProblem.map { "--image-size \(options.imageSize): \($0)" }
    }

    private static func pix2pixConfig(_ o: TrainOptions) -> Pix2PixConfig {
        Pix2PixConfig(
            imageSize: o.imageSize, inputChannels: o.channels, outputChannels: o.channels, generatorWidth: o.generatorWidth,
            discriminatorWidth: o.discriminatorWidth)
    }

    public convenience init(_ options: TrainOptions, classes: Int) throws { try self.init(Self.pix2pixConfig(options), seed: options.seed) }

    public var networks: [(file: String, module: Module)] {
        [("netG", Module([("main", generator)])), ("netD", Module([("main", discriminator)]))]
    }
    public var generatorParameters: [Parameter] { generator.parameters }
    public var discriminatorParameters: [Parameter] { discriminator.parameters }
    public func latentShape(_ count: Int) -> Shape? { nil }
    public func generate(_ inputs: GeneratorInputs, _ context: ForwardContext) -> Tensor { translate(inputs.condition!, context) }
    public func discriminate(_ images: Tensor, condition: Tensor?, _ context: ForwardContext) -> Discrimination {
        Discrimination(score: discriminate(input: condition!, output: images, context))
    }

    /// Patch logits against 1 (real) and 0 (generated), halved as in the reference code.
    public func discriminatorLoss(_ step: DiscriminatorStep) -> DiscriminatorLoss {
        let (real, fake) = (step.dReal.score, step.dFake.score)
        let loss = (logitBCEAgainstTargets(real, step.options.realLabel) + logitBCEAgainstTargets(fake, 0)) * 0.5
        return DiscriminatorLoss(loss, probabilities: (sigmoid(real).mean(), sigmoid(fake).mean()))
    }

    /// The GAN term plus λ·L1 to the target.
    public func generatorLoss(_ step: GeneratorStep) -> (loss: Tensor, extras: [Tensor]) {
        let adversarial = logitBCEAgainstTargets(step.dFake.score, 1), l1 = l1Loss(step.fake, step.real)
        return (adversarial + l1 * step.options.l1Weight, [adversarial, l1])
    }

    /// Translates in training mode (batch statistics and dropout), as its test script does.
    public var sampling: Sampling { .translation { [self] x in translate(x, ForwardContext(training: true)) } }

    /// Up to four held-out pairs: input | translation | target.
    public func trainingSamples(_ graph: Graph, options: TrainOptions, classes: Int, heldOut: Examples?, rng: inout SplitMix64) throws
        -> TrainingSamples
    {
        guard let heldOut, heldOut.count > 0 else { throw DatasetError("\(options.data): no pairs to show (the data folder has too few)") }
        let shown = heldOut.subset(Array(0..<min(4, heldOut.count)))
        let (c, s) = (options.channels, options.imageSize)
        return TrainingSamples(GeneratorInputs(condition: graph.constant(shown.images, [shown.count, c, s, s])), columns: 3, shown: shown)
    }
}

/// Binary cross-entropy of logits against one target for all.
func logitBCEAgainstTargets(_ logits: Tensor, _ target: Float) -> Tensor {
    binaryCrossEntropyWithLogits(logits, logits.graph.fill(target, logits.shape))
}

extension ModelKind {
    public static let pix2pix = ModelKind(Pix2Pix.self)
}

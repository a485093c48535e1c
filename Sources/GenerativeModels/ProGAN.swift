// NVIDIA's progressive growing GAN (Karras et al., 2018; tkarras/progressive_growing_of_gans
// `networks.py` G_paper/D_paper, the cars study's Mark III model). Every resolution's
// layers exist from the start, as NVIDIA builds them; a level L works at 4·2ᴸ pixels and
// uses the blocks up to L. Equalized learning rate everywhere, pixelwise normalization
// after each generator convolution and on the latent, LeakyReLU 0.2, nearest upsampling
// and 2×2 average pooling (NVIDIA's fused up/down convolutions are these, computed
// differently), no BatchNorm, the minibatch standard deviation before the critic's last
// block, and a linear generator output. While a level fades in, the generator's output is
// α·toRGB(new block) + (1 − α)·upsampled toRGB(previous level) and the critic's input
// path the mirror of it. The trainer (Progressive.swift) grows it.
import Datasets
import Foundation
import NeuralNet
import TensorGraph

public struct ProGANConfig: Codable, Equatable, Sendable {
    public var imageSize = 256
    public var channels = 3
    public var latentSize = 512
    /// NVIDIA's `fmap_base` and `fmap_max`: a block at 2ˢ pixels has min(base / 2^(s−1), max) features.
    public var featureBase = 8192
    public var featureMax = 512
    /// Class labels for the conditional variant (0: unconditional).
    public var classes = 0
    public var groupSize = 4

    public init(
        imageSize: Int = 256, channels: Int = 3, latentSize: Int = 512, featureBase: Int = 8192, featureMax: Int = 512, classes: Int = 0
    ) {
        (self.imageSize, self.channels, self.latentSize, self.featureBase, self.featureMax, self.classes) = (
            imageSize, channels, latentSize, featureBase, featureMax, classes
        )
    }

    /// The highest level: 4·2^maxLevel = imageSize.
    public var maxLevel: Int { imageSize.trailingZeroBitCount - 2 }
    public static func resolution(_ level: Int) -> Int { 4 << level }
    /// NVIDIA's `nf(stage)` with `fmap_decay` 1.
    public func features(_ stage: Int) -> Int { max(1, min(featureBase >> stage, featureMax)) }

    /// The device memory one image of a batch takes in a training step at `level`: 190 bytes
    /// per activation value of the generator's blocks up to that level (features × pixels,
    /// summed over the levels), which covers the values of both networks, their gradients, the
    /// gradient penalty's second pass and convolution scratch. The constant is genocl's
    /// measured peak at 256×256 with NVIDIA's widths (22.6 GiB at batch 16 on PoCL: 1.42 GiB an
    /// image, weights and optimizer state included); at 8…128 the rule overstates the measured peaks by 1.5–3×, which costs nothing
    /// there, where NVIDIA's batches are far below what memory allows.
    public static func bytesPerImage(level: Int, featureBase: Int = 8192, featureMax: Int = 512) -> Double {
        let config = ProGANConfig(featureBase: featureBase, featureMax: featureMax)
        return 190 * (0...max(level, 0)).reduce(0.0) { $0 + Double(config.width($1)) * Double(resolution($1) * resolution($1)) }
    }
    /// Features of the blocks of level L (NVIDIA's nf(res − 1), res = L + 2).
    func width(_ level: Int) -> Int { features(level + 1) }
}

/// The level of detail a network was last trained at, saved with it as NVIDIA keeps `lod`:
/// L − 1 + α while level L fades in, L once it is stable (3.25: level 4 a quarter faded in), so a checkpoint of a run still growing samples
/// at the resolution it reached.
final class GrowthState: Layer {
    let level = Parameter("level", shape: [1], fill: 0)
    var namedParameters: [(name: String, parameter: Parameter)] { [] }
    var namedBuffers: [(name: String, parameter: Parameter)] { [("level", level)] }
    func callAsFunction(_ x: Tensor, _ context: ForwardContext) -> Tensor { x }
}

/// The generator's 4×4 block: the (normalized) latent through a dense layer to 4×4 maps
/// (gain √2/4 and a bias per channel, as NVIDIA's), then a 3×3 convolution.
final class GeneratorHead: Layer {
    let dense: EqualizedLinear, bias: Parameter, conv: EqualizedConv2D
    let width: Int

    init(inputs: Int, width: Int, rng: inout SplitMix64) {
        dense = EqualizedLinear(inputs, width * 16, gain: Float(2).squareRoot() / 4, bias: false, rng: &rng)
        bias = Parameter("bias", shape: [width], fill: 0)
        conv = EqualizedConv2D(width, width, kernel: 3, rng: &rng)
        self.width = width
    }

    var namedParameters: [(name: String, parameter: Parameter)] {
        dense.stateDict(prefix: "dense") + [("dense.bias", bias)] + conv.stateDict(prefix: "conv")
    }

    func callAsFunction(_ z: Tensor, _ context: ForwardContext) -> Tensor {
        let x =
            dense(pixelNorm(z), context).reshaped([z.shape[0], width, 4, 4])
            + context.current(bias, in: z.graph).reshaped([1, width, 1, 1])
        return pixelNorm(leakyReLU(conv(pixelNorm(leakyReLU(x, slope: 0.2)), context), slope: 0.2))
    }
}

/// The critic's 4×4 block: minibatch standard deviation, a 3×3 convolution, a dense layer and
/// the output layer (gain 1): a score and, when conditional, class logits.
final class CriticTail: Layer {
    let conv: EqualizedConv2D, dense: EqualizedLinear, output: EqualizedLinear
    let groupSize: Int

    init(width: Int, hidden: Int, outputs: Int, groupSize: Int, rng: inout SplitMix64) {
        conv = EqualizedConv2D(width + (groupSize > 1 ? 1 : 0), width, kernel: 3, rng: &rng)
        dense = EqualizedLinear(width * 16, hidden, rng: &rng)
        output = EqualizedLinear(hidden, outputs, gain: 1, rng: &rng)
        self.groupSize = groupSize
    }

    var namedParameters: [(name: String, parameter: Parameter)] {
        conv.stateDict(prefix: "conv") + dense.stateDict(prefix: "dense") + output.stateDict(prefix: "output")
    }

    func callAsFunction(_ x: Tensor, _ context: ForwardContext) -> Tensor {
        let y = groupSize > 1 ? minibatchStddev(x, groupSize: groupSize) : x
        let features = leakyReLU(conv(y, context), slope: 0.2).reshaped([x.shape[0], -1])
        return output(leakyReLU(dense(features, context), slope: 0.2), context)
    }
}

public final class ProGAN {
    public let config: ProGANConfig
    let growth = GrowthState()
    let head: GeneratorHead
    /// The generator's blocks of levels 1…max (upsample, two 3×3 convolutions).
    let generatorBlocks: [Sequential]
    /// toRGB of every level (1×1, gain 1).
    let toRGB: [EqualizedConv2D]
    /// fromRGB of every level (1×1, then LeakyReLU).
    let fromRGB: [EqualizedConv2D]
    /// The critic's blocks of levels 1…max (two 3×3 convolutions, then 2×2 average pooling).
    let criticBlocks: [Sequential]
    let tail: CriticTail

    public init(_ config: ProGANConfig, seed: UInt64) {
        self.config = config
        var rng = SplitMix64(seed: seed)
        let levels = 0...config.maxLevel
        let pixelNormLayer = Activation { pixelNorm($0) }, lrelu = Activation.leakyReLU(0.2)
        head = GeneratorHead(inputs: config.latentSize + config.classes, width: config.width(0), rng: &rng)
        generatorBlocks = levels.dropFirst().map { level in
            let (a, b) = (config.width(level - 1), config.width(level))
            return Sequential([
                Upsample(factor: 2), EqualizedConv2D(a, b, kernel: 3, rng: &rng), lrelu, pixelNormLayer,
                EqualizedConv2D(b, b, kernel: 3, rng: &rng), lrelu, pixelNormLayer,
            ])
        }
        toRGB = levels.map { EqualizedConv2D(config.width($0), config.channels, kernel: 1, gain: 1, rng: &rng) }
        fromRGB = levels.map { EqualizedConv2D(config.channels, config.width($0), kernel: 1, rng: &rng) }
        criticBlocks = levels.dropFirst().map { level in
            let (a, b) = (config.width(level), config.width(level - 1))
            return Sequential([
                EqualizedConv2D(a, a, kernel: 3, rng: &rng), lrelu, EqualizedConv2D(a, b, kernel: 3, rng: &rng), lrelu,
                Activation { avgPool2d($0, kernel: Size2(2)) },
            ])
        }
        tail = CriticTail(
            width: config.width(0), hidden: config.features(0), outputs: 1 + config.classes, groupSize: config.groupSize, rng: &rng)
    }

    /// The level of detail last trained (L − 1 + α while level L fades in), as saved in `netG`.
    public var levelOfDetail: Float {
        get { growth.level.value[0] }
        set { growth.level.value = [newValue] }
    }

    /// `netG`: `growth.level`, `b4.*` (the 4×4 block), `b8.*`, …, `rgb4.*`, …; `netD`: `rgb4.*`, …, `b8.*`, …, `b4.*`.
    public var generatorModule: Module {
        let size = { (level: Int) in String(ProGANConfig.resolution(level)) }
        return Module(
            [("growth", growth as any Layer), ("b4", head)] + generatorBlocks.enumerated().map { ("b" + size($0 + 1), $1) }
                + toRGB.enumerated().map { ("rgb" + size($0), $1) })
    }
    public var criticModule: Module {
        let size = { (level: Int) in String(ProGANConfig.resolution(level)) }
        return Module(
            fromRGB.enumerated().map { ("rgb" + size($0), $1 as any Layer) } + criticBlocks.enumerated().map { ("b" + size($0 + 1), $1) }
                + [("b4", tail)])
    }

    /// The generator's trainable parameters at `level` (with the previous level's toRGB while fading in).
    func generatorParameters(level: Int, fading: Bool) -> [Parameter] {
        head.parameters + generatorBlocks.prefix(level).flatMap(\.parameters) + toRGB[level].parameters
            + (fading ? toRGB[level - 1].parameters : [])
    }

    /// The critic's trainable parameters at `level` (with the previous level's fromRGB while fading in).
    func criticParameters(level: Int, fading: Bool) -> [Parameter] {
        fromRGB[level].parameters + (fading ? fromRGB[level - 1].parameters : []) + criticBlocks.prefix(level).flatMap(\.parameters)
            + tail.parameters
    }

    /// The generator's input: the latent, with the labels one-hot after it when conditional.
    private func input(_ z: Tensor, labels: Tensor?) -> Tensor {
        guard config.classes > 0 else { return z }
        let labels = labels ?? z.graph.constant((0..<z.shape[0]).map { Float($0 % config.classes) }, [z.shape[0]])
        return concat([z, z.graph.apply(.oneHot(depth: config.classes), [labels])], axis: 1)
    }

    /// Images `[N, C, 4·2ᴸ, 4·2ᴸ]` at `level`; with `alpha` (`[1]`), level L fading in over L − 1.
    public func generate(_ z: Tensor, labels: Tensor?, level: Int, alpha: Tensor?, _ context: ForwardContext) -> Tensor {
        var x = head(input(z, labels: labels), context), previous = x
        for l in stride(from: 1, through: level, by: 1) { (previous, x) = (x, generatorBlocks[l - 1](x, context)) }
        let image = toRGB[level](x, context)
        guard let alpha, level > 0 else { return image }
        let faded = upsampleNearest(toRGB[level - 1](previous, context))
        return faded + (image - faded) * alpha
    }

    /// Critic scores `[N]` and, when conditional, class logits `[N, classes]` of images at
    /// `level` (α as `generate`'s: the new block's path against the downsampled image's).
    public func criticize(_ images: Tensor, level: Int, alpha: Tensor?, _ context: ForwardContext) -> Discrimination {
        let lrelu = { leakyReLU($0, slope: 0.2) }
        var x = lrelu(fromRGB[level](images, context))
        if level > 0 {
            x = criticBlocks[level - 1](x, context)
            if let alpha {
                let faded = lrelu(fromRGB[level - 1](avgPool2d(images, kernel: Size2(2)), context))
                x = faded + (x - faded) * alpha
            }
            for l in stride(from: level - 1, to: 0, by: -1) { x = criticBlocks[l - 1](x, context) }
        }
        let out = tail(x, context)
        let n = images.shape[0]
        let score = out.sliced(axis: 1, 0..<1).reshaped([n])
        return Discrimination(score: score, classLogits: config.classes > 0 ? out.sliced(axis: 1, 1..<(1 + config.classes)) : nil)
    }
}

/// NVIDIA's minibatch size per resolution (the v2 preset for four GPUs, whose base of 16
/// is the size above 128, capped for fp32 at 256 and up: `max_minibatch_per_gpu`×4).
public let progressiveBatchSizes = [4: 512, 8: 256, 16: 128, 32: 64, 64: 32, 128: 16, 256: 16, 512: 8, 1024: 4]
/// NVIDIA's learning rates per resolution (the same preset): 0.001 below 256.
public let progressiveLearningRates: [Int: Float] = [256: 0.0015, 512: 0.002, 1024: 0.003]

extension ProGAN: GenerativeModel {
    public static let name = "progan"
    public static let summary = "NVIDIA's progressive GAN (cars study): grows 4×4→--image-size, WGAN-GP + drift, EMA 0.999"
    public static let trainsOn = ExampleKind.images
    public static let samplingNetworks = ["netG"]

    public static func applyStudyDefaults(to o: inout TrainOptions) {
        // 28×28 digits are resized to 32 (the nearest power of two); image folders train at 256.
        o.imageSize = o.imageSize == 28 ? 32 : 256
        (o.learningRateG, o.learningRateD, o.beta1, o.beta2, o.latentSize, o.emaDecay, o.flip) = (1e-3, 1e-3, 0, 0.99, 512, 0.999, true)
        (o.batchSize, o.penaltyWeight) = (progressiveBatchSizes[4]!, 10)
        o.growth = GrowthOptions()
    }

    public static func problem(with o: TrainOptions) -> String? {
        guard o.imageSize >= 8, o.imageSize.nonzeroBitCount == 1 else {
            return "--image-size \(o.imageSize): progan grows by doubling from 4×4, so it needs a power of two from 8 (such as 32, 64, 256)"
        }
        guard let growth = o.growth else { return "progan needs its growth schedule (--kimg-per-phase, --kimg)" }
        guard growth.kimgPerPhase > 0, growth.totalKimg > 0, growth.kimgPerPhase.isFinite, growth.totalKimg <= 1e9,
            growth.featureBase > 0, growth.featureMax > 0, growth.featureBase <= 1 << 16, growth.featureMax <= 1 << 16
        else {
            return
                "--kimg-per-phase and --kimg must be positive (thousands of images, such as 600 and 12000); --fmap-base and --fmap-max positive"
        }
        if o.criticSteps != 1 { return "progan takes one critic step per generator step, as NVIDIA's (drop --critic-steps)" }
        return nil
    }

    public convenience init(_ options: TrainOptions, classes: Int) throws {
        let growth = options.growth ?? GrowthOptions()
        if growth.conditional && classes < 2 {
            throw DatasetError(
                "\(options.data): --conditional needs class labels; put each class's images in its own sub-folder (or use IDX files with labels)"
            )
        }
        self.init(
            ProGANConfig(
                imageSize: options.imageSize, channels: options.channels, latentSize: options.latentSize, featureBase: growth.featureBase,
                featureMax: growth.featureMax, classes: growth.conditional ? classes : 0), seed: options.seed)
    }

    public var networks: [(file: String, module: Module)] { [("netG", generatorModule), ("netD", criticModule)] }

    /// Images at the level the weights were trained to, upscaled (nearest) to the final size.
    public var sampling: Sampling {
        .latent(
            decode: { [self] z, labels, context in
                let lod = min(max(levelOfDetail, 0), Float(config.maxLevel))
                let level = Int(lod.rounded(.up)), alpha = lod - lod.rounded(.down)
                let image = generate(
                    z.reshaped([z.shape[0], config.latentSize]), labels: labels, level: level,
                    alpha: alpha > 0 ? z.graph.constant([alpha], [1]) : nil, context)
                return level == config.maxLevel ? image : upsampleNearest(image, factor: config.imageSize >> (level + 2))
            }, encode: nil)
    }

    public func trainer(_ options: TrainOptions, classes: Int, heldOut: Examples?, session: Session) throws -> any ModelTrainer {
        try ProgressiveTrainer(self, options, session: session)
    }
}

extension ModelKind {
    public static let progan = ModelKind(ProGAN.self)
}

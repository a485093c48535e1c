// Super-resolution (Ledig et al. 2017, SRResNet; the bicycles and dogs studies' upscaling
// network): a 9×9 convolution and PReLU, residual blocks of conv-BN-PReLU-conv-BN with
// skips, a convolution and BatchNorm added back to the first features, ×2 stages of
// convolution to 4× the channels, pixel shuffle and PReLU, and a 9×9 convolution to the
// image. It trains on pairs it makes itself: random high-resolution crops of the data's
// images and their copies downscaled by area averaging (each pixel the mean of its
// scale×scale block, a box filter, done in the graph), with an MSE or L1 loss. Metrics are
// the crops' PSNR and SSIM against the originals, beside those of bicubic upscaling, all
// computed in the graph by matrix products (separable resizes and Gaussian windows).
import Datasets
import Foundation
import NeuralNet
import TensorGraph

/// conv-BN-PReLU-conv-BN with the input added back.
final class ResidualBlock: Layer {
    let conv1: Conv2D, bn1: BatchNorm, prelu: PReLU, conv2: Conv2D, bn2: BatchNorm

    init(_ width: Int, rng: inout SplitMix64) {
        conv1 = Conv2D(width, width, kernel: 3, padding: 1, rng: &rng)
        bn1 = BatchNorm(width)
        prelu = PReLU()
        conv2 = Conv2D(width, width, kernel: 3, padding: 1, rng: &rng)
        bn2 = BatchNorm(width)
    }

    private var children: [(String, any Layer)] { [("conv1", conv1), ("bn1", bn1), ("prelu", prelu), ("conv2", conv2), ("bn2", bn2)] }
    var namedParameters: [(name: String, parameter: Parameter)] {
        children.flatMap { name, layer in layer.namedParameters.map { ("\(name).\($0.name)", $0.parameter) } }
    }
    var namedBuffers: [(name: String, parameter: Parameter)] {
        children.flatMap { name, layer in layer.namedBuffers.map { ("\(name).\($0.name)", $0.parameter) } }
    }
    var namedState: [(name: String, parameter: Parameter)] { children.flatMap { $1.stateDict(prefix: $0) } }

    func callAsFunction(_ x: Tensor, _ context: ForwardContext) -> Tensor {
        x + bn2(conv2(prelu(bn1(conv1(x, context), context), context), context), context)
    }
}

public final class SRResNet {
    public let scale: Int, channels: Int
    let head: Sequential, body: Sequential, mid: Sequential, upsample: Sequential, tail: Conv2D
    /// The perceptual loss's feature network and its weights file, when the run has one.
    var perceptual: (network: VGG16Features, path: String)?
    /// SRGAN's discriminator, when the run has an adversarial loss.
    var discriminator: Sequential?

    public init(channels: Int, width: Int = 64, blocks: Int = 16, scale: Int = 4, seed: UInt64) {
        precondition([2, 4, 8].contains(scale), "scale \(scale)")
        (self.scale, self.channels) = (scale, channels)
        var rng = SplitMix64(seed: seed)
        head = Sequential([Conv2D(channels, width, kernel: 9, padding: 4, rng: &rng), PReLU()])
        body = Sequential((0..<blocks).map { _ in ResidualBlock(width, rng: &rng) })
        mid = Sequential([Conv2D(width, width, kernel: 3, padding: 1, rng: &rng), BatchNorm(width)])
        upsample = Sequential(
            (0..<scale.trailingZeroBitCount).flatMap { _ -> [any Layer] in
                [Conv2D(width, 4 * width, kernel: 3, padding: 1, rng: &rng), Activation { pixelShuffle($0, factor: 2) }, PReLU()]
            })
        tail = Conv2D(width, channels, kernel: 9, padding: 4, rng: &rng)
    }

    public var module: Module { Module([("head", head), ("body", body), ("mid", mid), ("upsample", upsample), ("tail", tail)]) }

    /// Low-resolution images `[N, C, h, w]` → `[N, C, scale·h, scale·w]`.
    public func callAsFunction(_ x: Tensor, _ context: ForwardContext) -> Tensor {
        let features = head(x, context)
        return tail(upsample(mid(body(features, context), context) + features, context), context)
    }
}

extension SRResNet: GenerativeModel {
    public static let name = "srresnet"
    public static let summary = "SRResNet super-resolution (bicycles, dogs studies): ×4, 16 residual blocks, MSE, Adam 1e-4"
    public static let trainsOn = ExampleKind.images
    public static let showsHeldOut = true
    public static let cropsRandomly = true
    public static let samplingNetworks = ["netG"]

    /// Ledig et al.'s: 96×96 crops, batch 16, Adam 1e-4 (β₁ 0.9); images loaded at 192 to crop from.
    public static func applyStudyDefaults(to o: inout TrainOptions) {
        (o.imageSize, o.loadSize, o.batchSize, o.learningRateG, o.beta1, o.beta2) = (96, 192, 16, 1e-4, 0.9, 0.999)
        o.superResolution = SuperResolutionOptions()
    }

    public static func problem(with o: TrainOptions) -> String? {
        let sr = o.superResolution ?? SuperResolutionOptions()
        guard [2, 4, 8].contains(sr.scale) else { return "--scale must be 2, 4 or 8, got \(sr.scale)" }
        guard (1...256).contains(sr.blocks) else { return "--blocks must be from 1 to 256, got \(sr.blocks)" }
        if let perceptual = sr.perceptual {
            guard sr.perceptualWeights != nil else {
                return "--perceptual \(perceptual): give the network and its weights as vgg16:FILE (tools/convert-vgg16 makes FILE)"
            }
            guard VGG16Features.layers[sr.perceptualLayer] != nil else {
                return
                    "--perceptual-layer \(sr.perceptualLayer): VGG-16's layers are \(VGG16Features.layers.sorted { $0.value < $1.value }.map(\.key).joined(separator: ", "))"
            }
        }
        guard sr.pixelWeight >= 0, sr.perceptualWeight >= 0, sr.pixelWeight.isFinite, sr.perceptualWeight.isFinite else {
            return "--pixel-weight and --perceptual-weight must be ≥ 0"
        }
        if let weight = sr.adversarialWeight {
            guard weight > 0, weight.isFinite else { return "--adversarial must be a positive weight (SRGAN's 1e-3), got \(weight)" }
            guard o.imageSize % 16 == 0 else {
                return "--adversarial: the discriminator halves the crop four times; --image-size \(o.imageSize) must be a multiple of 16"
            }
        }
        guard o.imageSize % sr.scale == 0, o.imageSize >= 4 * sr.scale else {
            return
                "--image-size \(o.imageSize) (the high-resolution crop) must be a multiple of --scale \(sr.scale), at least \(4 * sr.scale)"
        }
        return nil
    }

    public convenience init(_ options: TrainOptions, classes: Int) {
        let sr = options.superResolution ?? SuperResolutionOptions()
        self.init(channels: options.channels, width: options.generatorWidth, blocks: sr.blocks, scale: sr.scale, seed: options.seed)
        perceptual = sr.perceptualWeights.map { (VGG16Features(through: sr.perceptualLayer), $0) }
        if sr.adversarialWeight != nil {
            var rng = SplitMix64(seed: options.seed &+ 7)
            discriminator = srganDiscriminator(
                channels: options.channels, size: options.imageSize, width: options.discriminatorWidth, rng: &rng)
        }
    }

    public var networks: [(file: String, module: Module)] {
        [("netG", module)] + (discriminator.map { [("netD", Module([("main", $0)]))] } ?? [])
    }
    public var fixedNetworks: [(path: String, module: Module)] { perceptual.map { [($0.path, $0.network.module)] } ?? [] }

    /// Upscales the given images (BatchNorm with its running statistics).
    public var sampling: Sampling { .translation { [self] x in self(x, ForwardContext(training: false)) } }

    public func trainer(_ options: TrainOptions, classes: Int, heldOut: Examples?, session: Session) throws -> any ModelTrainer {
        try SuperResolutionTrainer(self, options, heldOut: heldOut, session: session)
    }
}

extension ModelKind {
    public static let srresnet = ModelKind(SRResNet.self)
}

/// SRGAN's discriminator (Ledig et al.): 3×3 convolutions of 64, 128, 256 and 512 features (×
/// `width`/64), each width once at stride 1 and once at stride 2, BatchNorm after all but the
/// first, LeakyReLU 0.2; a dense layer of 1024 and one output, a sigmoid probability.
func srganDiscriminator(channels: Int, size: Int, width: Int, rng: inout SplitMix64) -> Sequential {
    var layers: [any Layer] = [], inputs = channels
    for (k, features) in [1, 1, 2, 2, 4, 4, 8, 8].map({ $0 * width }).enumerated() {
        layers.append(Conv2D(inputs, features, kernel: 3, stride: 1 + k % 2, padding: 1, rng: &rng))
        if k > 0 { layers.append(BatchNorm(features)) }
        layers.append(Activation.leakyReLU(0.2))
        inputs = features
    }
    let side = size / 16
    return Sequential(
        layers + [
            Reshape([-1]), Linear(inputs * side * side, 1024, rng: &rng), Activation.leakyReLU(0.2), Linear(1024, 1, rng: &rng),
            Activation.sigmoid(),
        ])
}

/// `x [N, C, H, W]` with each image's rows mapped by `rows` (`[H', H]`) and columns by
/// `columns` (`[W', W]`): `rows · x · columnsᵀ`, a separable linear filter or resize.
func separable(_ x: Tensor, rows: Tensor, columns: Tensor) -> Tensor {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (h2, w2) = (rows.shape[0], columns.shape[0])
    let byColumns = matmul(x.reshaped([n * c * h, w]), columns, transposeB: true)  // [NCH, W']
    let turned = byColumns.reshaped([n * c, h, w2]).permuted([0, 2, 1]).reshaped([n * c * w2, h])
    let byRows = matmul(turned, rows, transposeB: true)  // [NCW', H']
    return byRows.reshaped([n * c, w2, h2]).permuted([0, 2, 1]).reshaped([n, c, h2, w2])
}

/// Bicubic upscaling (PIL's kernel, `bicubicMatrix`) of `[N, C, h, w]` by `scale`.
public func bicubicUpscaled(_ x: Tensor, scale: Int) -> Tensor {
    let (h, w) = (x.shape[2], x.shape[3])
    let g = x.graph
    return separable(
        x, rows: g.constant(bicubicMatrix(from: h, to: h * scale), [h * scale, h]),
        columns: g.constant(bicubicMatrix(from: w, to: w * scale), [w * scale, w]))
}

/// Each image's PSNR in dB against `reference` (values in [−1, 1], a range of 2): `[N]`.
public func peakSignalToNoise(_ x: Tensor, _ reference: Tensor) -> Tensor {
    let n = x.shape[0]
    let mse = square(clamp(x, min: -1, max: 1) - reference).reshaped([n, -1]).mean(axes: [1])
    return (log(mse + 1e-12) * -1 + Float(Foundation.log(4.0))) * Float(10 / Foundation.log(10.0))
}

/// Each image's SSIM against `reference` (as `Datasets.ssim`: 11×11 Gaussian window of σ 1.5,
/// valid positions, mean over pixels and channels): `[N]`.
public func structuralSimilarity(_ x: Tensor, _ reference: Tensor) -> Tensor {
    let (n, size) = (x.shape[0], x.shape[2])
    let radius = min(5, (size - 1) / 2), out = size - 2 * radius
    let window = (-radius...radius).map { (k: Int) -> Float in Float(Foundation.exp(-Double(k * k) / 4.5)) }
    let total = window.reduce(0, +)
    var matrix = [Float](repeating: 0, count: out * size)
    for i in 0..<out { for (k, v) in window.enumerated() { matrix[i * size + i + k] = v / total } }
    let g = x.graph, filter = g.constant(matrix, [out, size])
    let blur = { (t: Tensor) in separable(t, rows: filter, columns: filter) }
    let a = clamp(x, min: -1, max: 1)
    let (mx, my) = (blur(a), blur(reference))
    let (vx, vy) = (blur(a * a) - mx * mx, blur(reference * reference) - my * my)
    let cov = blur(a * reference) - mx * my
    let (c1, c2): (Float, Float) = (0.0004, 0.0036)
    let map = (mx * my * 2 + c1) * (cov * 2 + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return map.reshaped([n, -1]).mean(axes: [1])
}

final class SuperResolutionTrainer: ModelTrainer {
    private(set) var optimizers: [any Optimizer]
    let metricNames: [String]
    let batchesPerStep = 1
    private let options: TrainOptions
    private let replica: Replica
    private let plan: Plan
    /// Held-out crops: low-res, bicubic and super-resolved, with their PSNR.
    private let sampler: Plan?
    private let shown: Examples?

    init(_ model: SRResNet, _ options: TrainOptions, heldOut: Examples?, session: Session) throws {
        self.options = options
        replica = session.replica
        let sr = options.superResolution ?? SuperResolutionOptions()
        let (n, c, s) = (replica.share(of: options.batchSize).count, options.channels, options.imageSize)
        let optimizer = makeOptimizer(
            options.optimizer, model.module.parameters, learningRate: options.learningRateG, options: options, name: "optimizer")
        optimizers = [optimizer]

        let graph = Graph(replica: replica)
        let real = graph.placeholder("real", [n, c, s, s])
        let low = avgPool2d(real, kernel: Size2(sr.scale))
        let train = ForwardContext(training: true)
        let upscaled = model(low, train)
        var loss = (sr.loss == .mse ? meanSquaredError(upscaled, real) : l1Loss(upscaled, real)) * sr.pixelWeight
        var terms: [Tensor] = []
        if let (vgg, _) = model.perceptual {
            // Johnson et al.'s feature reconstruction loss: the features' mean squared difference.
            let fixed = ForwardContext(training: false)
            let feature = meanSquaredError(
                vgg(upscaled, layer: sr.perceptualLayer, fixed), stopGradient(vgg(real, layer: sr.perceptualLayer, fixed)))
            (loss, terms) = (loss + feature * sr.perceptualWeight, [feature])
        }
        var names = ["loss"] + (terms.isEmpty ? [] : ["perceptual"])
        var updates: [Assignment] = []
        if let discriminator = model.discriminator, let weight = sr.adversarialWeight {
            // SRGAN: the discriminator's step on real crops and the super-resolved ones, then the
            // generator's adversarial term against the discriminator after that step.
            let optimizerD = makeOptimizer(
                options.optimizer, discriminator.parameters, learningRate: options.learningRateD, options: options, name: "optimizerD")
            optimizers.append(optimizerD)
            let trainD = ForwardContext(training: true)
            let (dReal, dFake) = (discriminator(real, trainD).reshaped([n]), discriminator(stopGradient(upscaled), trainD).reshaped([n]))
            let lossD = bceAgainstTargets(dReal, 1) + bceAgainstTargets(dFake, 0)
            let updatesD = optimizerD.updates(minimizing: lossD)
            let trainG = ForwardContext(training: true)
            trainG.record(updatesD + trainD.updates)
            let adversarial = bceAgainstTargets(discriminator(upscaled, trainG).reshaped([n]), 1)
            loss = loss + adversarial * weight
            (terms, names) = (terms + [adversarial, lossD, dReal.mean(), dFake.mean()], names + ["adversarial", "loss_d", "d_x", "d_g_z"])
            updates = trainG.updates
        }
        metricNames = names + ["psnr", "ssim", "psnr_bicubic", "ssim_bicubic"]
        let bicubic = bicubicUpscaled(low, scale: sr.scale)
        let quality = [upscaled, bicubic].flatMap { [peakSignalToNoise($0, real).mean(), structuralSimilarity($0, real).mean()] }
        plan = try session.plan(
            fetches: replicaMean([loss] + terms + quality), updates: optimizer.updates(minimizing: loss) + train.updates + updates)

        // Up to eight held-out images, their central crops, on one device's graph.
        shown = heldOut.map {
            $0.subset(Array(0..<min(8, $0.count))).centerCropped(channels: c, size: s, loadSize: options.effectiveLoadSize)
        }
        if let shown {
            let g = Graph()
            let original = g.constant(shown.images, [shown.count, c, s, s])
            let small = avgPool2d(original, kernel: Size2(sr.scale))
            let (bicubic, upscaled) = (bicubicUpscaled(small, scale: sr.scale), model(small, ForwardContext(training: false)))
            sampler = try session.plan(fetches: [
                upsampleNearest(small, factor: sr.scale), bicubic, upscaled, peakSignalToNoise(bicubic, original).mean(),
                peakSignalToNoise(upscaled, original).mean(),
            ])
        } else {
            sampler = nil
        }
    }

    func seek(to step: Int) { plan.step = UInt64(step) }

    var flopsPerStep: Double { plan.multiplyAddFLOPs }

    func train(_ batches: [Batch]) throws -> [Float] {
        let batch = replica.count > 1 ? batches[0].examples(replica.share(of: options.batchSize)) : batches[0]
        return try plan.run(["real": batch.images]).map { $0[0] }
    }

    /// Strips of held-out crops: low-res (nearest) | bicubic | super-resolved | original.
    func outputs() throws -> [OutputImage] {
        guard let sampler, let shown else { return [] }
        let values = try sampler.run()
        let (c, s) = (options.channels, options.imageSize)
        let rows = interleaved(
            [values[0], values[1], values[2].map { min(max($0, -1), 1) }, shown.images], per: c * s * s, count: shown.count)
        var grid = OutputImage(folder: "samples", images: rows, channels: c, size: s, columns: 4)
        grid.columnCaptions = ["low-res", "bicubic", "super-res", "original"]
        grid.note = String(format: "held-out PSNR %.2f dB (bicubic %.2f dB)", values[4][0], values[3][0])
        return [grid]
    }
}

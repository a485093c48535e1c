// DCGAN training as in pytorch/examples `dcgan`: per step, one discriminator
// update on a real batch and a generated batch (BCE, real label 1 or smoothed),
// then one generator update with the same noise; Adam for both. Everything of a
// step is two compiled plans replayed with a new real batch; the noise is drawn
// on the device from the plan's step counter, so a resumed run continues exactly.
import Datasets
import Foundation
import GenerativeModels
import NeuralNet
import TensorGraph

/// Everything that defines a DCGAN run (saved as config.json; `--resume` reads it back).
public struct DCGANOptions: Codable, Equatable, Sendable {
    public var data = defaultFashionMNISTDirectory
    public var model = DCGANConfig(imageSize: 28, channels: 1)
    public var batchSize = 64
    public var epochs = 1
    /// Overrides `epochs` when set.
    public var steps: Int?
    public var learningRateG: Float = 2e-4
    public var learningRateD: Float = 2e-4
    public var beta1: Float = 0.5
    public var beta2: Float = 0.999
    public var seed: UInt64 = 1
    /// The discriminator's target for real images (one-sided label smoothing below 1).
    public var realLabel: Float = 1
    /// Standard deviation of Gaussian noise added to the discriminator's inputs.
    public var instanceNoise: Float = 0
    /// Random horizontal flips of the real images.
    public var flip = false
    /// Start from these weights: a folder with netG.safetensors (and netD.safetensors, if
    /// present) or a netG.safetensors file — genocl's or PyTorch's `state_dict`.
    public var initFrom: String?
    public var sampleEvery = 500
    public var checkpointEvery = 1000
    public var logEvery = 50

    public init() {}
}

/// One row of metrics.csv.
public struct StepMetrics: Sendable {
    public let step: Int, epoch: Int
    public let lossD: Float, lossG: Float, dReal: Float, dFake: Float
}

/// A DCGAN training run: model, plans, data and run folder. Used from one thread; the
/// only other is the prefetch queue, which runs `batch(at:)` while the caller waits
/// on the device, and `trainStep` synchronizes with it before touching the batch state.
public final class DCGANRun: @unchecked Sendable {
    public let options: DCGANOptions
    public let folder: String
    public let model: DCGAN
    public let stepsPerEpoch: Int
    public let totalSteps: Int
    /// The next step to run (0-based).
    public private(set) var step = 0
    private let data: [Float]
    private let imageCount: Int
    /// Files of the data folder that could not be decoded (logged and counted in config.json).
    public let skippedFiles: Int
    private let session: Session
    private let stepD: Plan, stepG: Plan, sampler: Plan
    private let optimizerD: Adam, optimizerG: Adam
    private let log: (String) -> Void
    private let prefetched = Prefetcher()
    /// The image order of epoch `orderEpoch`.
    private var order: [Int] = []
    private var orderEpoch = -1

    /// Builds the run in `folder` (created), resuming from its latest checkpoint when `resume` is set.
    public init(_ options: DCGANOptions, folder: String, backend: any Backend, resume: Bool = false, log: @escaping (String) -> Void) throws {
        self.options = options
        self.folder = folder
        self.log = log
        let m = options.model
        let size = m.imageSize
        let set = try TrainingSet(options.data, size: size, channels: m.channels)
        if !set.skipped.isEmpty {
            log("warning: skipped \(set.skipped.count) file(s) that could not be decoded, e.g. \(set.skipped[0])")
        }
        data = set.pixels
        imageCount = set.count
        skippedFiles = set.skipped.count
        stepsPerEpoch = imageCount / options.batchSize
        guard stepsPerEpoch > 0 else {
            throw DatasetError("\(options.data): \(imageCount) images are fewer than one batch of \(options.batchSize)")
        }
        totalSteps = options.steps ?? options.epochs * stepsPerEpoch

        model = DCGAN(m, seed: options.seed)
        let graph = Graph()
        let train = ForwardContext(training: true, seed: options.seed &+ 11)
        let batch = options.batchSize
        let real = graph.placeholder("real", [batch, m.channels, size, size])
        let noise = graph.randomNormal([batch, m.latentSize, 1, 1], seed: options.seed &+ 1)
        let fake = model.generate(noise, train)
        func noisy(_ x: Tensor, _ salt: UInt64) -> Tensor {
            options.instanceNoise > 0 ? x + graph.randomNormal(x.shape, std: options.instanceNoise, seed: options.seed &+ salt) : x
        }
        let dReal = model.discriminate(noisy(real, 2), train)
        let dFake = model.discriminate(noisy(stopGradient(fake), 3), train)
        let lossD = binaryCrossEntropy(dReal, graph.fill(options.realLabel, [batch])) + binaryCrossEntropy(dFake, graph.zeros([batch]))
        // The generator step runs D once more (PyTorch's third D forward, which moves D's BatchNorm statistics again).
        let trainG = ForwardContext(training: true, seed: options.seed &+ 12)
        let lossG = binaryCrossEntropy(model.discriminate(noisy(fake, 4), trainG), graph.ones([batch]))
        optimizerD = Adam(model.discriminator.parameters, learningRate: options.learningRateD, beta1: options.beta1, beta2: options.beta2, name: "optimizerD")
        optimizerG = Adam(model.generator.parameters, learningRate: options.learningRateG, beta1: options.beta1, beta2: options.beta2, name: "optimizerG")

        let resumedStep = resume ? try Self.restore(folder + "/checkpoints", model, optimizerD, optimizerG, log) : 0
        if !resume, let initFrom = options.initFrom { try Self.initialize(model, from: initFrom, log) }
        session = Session(backend: backend)
        stepD = try session.plan(
            fetches: [lossD, dReal.mean(), dFake.mean()], updates: optimizerD.updates(minimizing: lossD) + train.updates)
        stepG = try session.plan(fetches: [lossG], updates: optimizerG.updates(minimizing: lossG) + trainG.updates)
        // Samples: a fixed noise batch of 64, the generator with batch statistics as in the example.
        var noiseRNG = SplitMix64(seed: options.seed &+ 99)
        let fixedNoise = graph.constant((0..<64 * m.latentSize).map { _ in noiseRNG.normal() }, [64, m.latentSize, 1, 1])
        sampler = try session.plan(fetches: [model.generate(fixedNoise, ForwardContext(training: true))])
        step = resumedStep
        stepD.step = UInt64(step)
        stepG.step = UInt64(step)
    }

    private var allParameters: [Parameter] {
        model.generator.stateDict().map(\.parameter) + model.discriminator.stateDict().map(\.parameter) + optimizerD.state + optimizerG.state
    }

    private var checkpointsFolder: String { folder + "/checkpoints" }

    /// Loads the latest checkpoint into the model and optimizers; returns its step.
    private static func restore(_ checkpointsFolder: String, _ model: DCGAN, _ optimizerD: Adam, _ optimizerG: Adam, _ log: (String) -> Void) throws -> Int {
        let (checkpoint, path) = try Checkpoint.load(checkpointsFolder)
        try load(checkpoint.generator, into: model.generator.stateDict(prefix: "main"), path: path + "/netG.safetensors")
        try load(checkpoint.discriminator, into: model.discriminator.stateDict(prefix: "main"), path: path + "/netD.safetensors")
        let state = (optimizerD.state + optimizerG.state).map { ($0.name, $0) }
        try load(checkpoint.optimizer, into: state, path: path + "/optimizer.safetensors")
        guard let saved = checkpoint.optimizer.metadata["step"].flatMap(Int.init) else {
            throw SafetensorsError(message: "\(path)/optimizer.safetensors: no step in its metadata")
        }
        log("resumed from \(path) at step \(saved)")
        return saved
    }

    /// Loads netG (and netD when it is there) from `path`, a folder or a netG file.
    private static func initialize(_ model: DCGAN, from path: String, _ log: (String) -> Void) throws {
        let folder = path.hasSuffix(".safetensors") ? (path as NSString).deletingLastPathComponent : path
        let generator = path.hasSuffix(".safetensors") ? path : folder + "/netG.safetensors"
        try load(try readSafetensors(generator), into: model.generator.stateDict(prefix: "main"), path: generator)
        var loaded = [generator]
        let discriminator = folder + "/netD.safetensors"
        if FileManager.default.fileExists(atPath: discriminator) {
            try load(try readSafetensors(discriminator), into: model.discriminator.stateDict(prefix: "main"), path: discriminator)
            loaded.append(discriminator)
        }
        log("initialized from \(loaded.joined(separator: " and "))")
    }

    /// Saves a checkpoint of the current step.
    public func saveCheckpoint() throws {
        try session.download(allParameters)
        let optimizer = SafetensorsFile(
            tensors: storedTensors((optimizerD.state + optimizerG.state).map { ($0.name, $0) }),
            metadata: ["step": String(step), "epoch": String(step / stepsPerEpoch), "seed": String(options.seed), "format": "genocl"])
        let checkpoint = Checkpoint(
            generator: SafetensorsFile(tensors: storedTensors(model.generator.stateDict(prefix: "main")), metadata: ["format": "pt"]),
            discriminator: SafetensorsFile(tensors: storedTensors(model.discriminator.stateDict(prefix: "main")), metadata: ["format": "pt"]),
            optimizer: optimizer)
        try checkpoint.save(in: checkpointsFolder, name: String(format: "step_%06d", step))
    }

    /// The real batch of global step `step`: epoch `e` visits the images in a
    /// permutation drawn from (seed, e), so any step's batch is known without history.
    private func batch(at step: Int) -> [Float] {
        let epoch = step / stepsPerEpoch, index = step % stepsPerEpoch
        if epoch != orderEpoch {
            var rng = SplitMix64(seed: options.seed &+ 0x5EED &* UInt64(epoch + 1))
            order = Array(0..<imageCount)
            order.shuffle(using: &rng)
            orderEpoch = epoch
        }
        let imageSize = data.count / imageCount
        var feed: [Float] = []
        feed.reserveCapacity(options.batchSize * imageSize)
        for (k, i) in order[(index * options.batchSize)..<((index + 1) * options.batchSize)].enumerated() {
            let pixels = data[(i * imageSize)..<((i + 1) * imageSize)]
            // Random horizontal flips, a function of (seed, step, slot) so that resuming repeats them.
            var coin = SplitMix64(seed: options.seed ^ UInt64(step) &* 0x9E37_79B9 ^ UInt64(k))
            if options.flip && Bool.random(using: &coin) {
                let m = options.model
                feed += Image(channels: m.channels, height: m.imageSize, width: m.imageSize, pixels: Array(pixels)).flippedHorizontally().pixels
            } else {
                feed += pixels
            }
        }
        return feed
    }

    /// Runs one step and returns its metrics; a non-finite loss is an error (nothing is saved).
    /// The next step's batch is assembled on a background thread while this one runs.
    public func trainStep() throws -> StepMetrics {
        let real = prefetched.take(step) ?? batch(at: step)
        if step + 1 < totalSteps {
            let next = step + 1
            prefetched.fill(next) { [self] in batch(at: next) }
        }
        let d = try stepD.run(["real": real])
        let g = try stepG.run()
        let metrics = StepMetrics(step: step + 1, epoch: step / stepsPerEpoch + 1, lossD: d[0][0], lossG: g[0][0], dReal: d[1][0], dFake: d[2][0])
        guard metrics.lossD.isFinite, metrics.lossG.isFinite else {
            throw PlanError("step \(step + 1): the loss is not finite (Loss_D \(metrics.lossD), Loss_G \(metrics.lossG)); stopped without saving, the last good checkpoint is in \(checkpointsFolder)")
        }
        step += 1
        return metrics
    }

    /// Writes samples/step_NNNNNN.png, an 8×8 grid from the fixed noise; returns its path and PNG.
    public func writeSamples() throws -> (path: String, png: [UInt8], width: Int, height: Int) {
        let images = try sampler.run()[0]
        let m = options.model
        let grid = imageGrid(images, count: 64, channels: m.channels, height: m.imageSize, width: m.imageSize, columns: 8)
        try FileManager.default.createDirectory(atPath: folder + "/samples", withIntermediateDirectories: true)
        let path = folder + String(format: "/samples/step_%06d.png", step)
        let png = try encodePNG(width: grid.width, height: grid.height, channels: m.channels, pixels: grid.pixels)
        try writeAtomically(png, to: path)
        return (path, png, grid.width, grid.height)
    }
}

/// One batch prepared ahead on a background queue.
final class Prefetcher: @unchecked Sendable {
    private let queue = DispatchQueue(label: "genocl.prefetch")
    private var pending: (step: Int, batch: [Float])?

    /// Starts preparing the batch of `step`.
    func fill(_ step: Int, _ make: @escaping @Sendable () -> [Float]) {
        queue.async { self.pending = (step, make()) }
    }

    /// The prepared batch of `step`, waiting for it if it is still being made; nil if another step was prepared.
    func take(_ step: Int) -> [Float]? {
        queue.sync {
            defer { pending = nil }
            return pending?.step == step ? pending?.batch : nil
        }
    }
}

// A training run of any model: its data (split into batches in a seeded order per
// epoch), the model's trainer (compiled plans replayed every step), checkpoints and
// the images it writes. The model-specific parts live in `Models/*Trainer.swift`
// behind `ModelTrainer`; everything here is shared, so every model resumes exactly,
// checkpoints atomically and prefetches its next batches the same way.
import Datasets
import Foundation
import NeuralNet
import TensorGraph

/// One batch: images `[N, C, S, S]`, their class labels `[N]` (as floats), and for
/// paired data the targets `[N, C, S, S]` (then `images` are the generator's inputs).
public struct Batch: Sendable {
    public var images: [Float]
    public var labels: [Float]
    public var targets: [Float]
}

/// Examples in memory, `perImage` floats each.
public struct Examples: Sendable {
    public var images: [Float]
    public var labels: [Int]
    public var targets: [Float]?
    public var count: Int

    var perImage: Int { count == 0 ? 0 : images.count / count }

    /// The examples at `indices`, flipped left–right where `flips` says so.
    func batch(_ indices: some Collection<Int>, flips: [Bool] = [], channels: Int, size: Int) -> Batch {
        let n = perImage
        func gather(_ source: [Float]) -> [Float] {
            var out: [Float] = []
            out.reserveCapacity(indices.count * n)
            for (k, i) in indices.enumerated() {
                let pixels = Array(source[(i * n)..<((i + 1) * n)])
                out += k < flips.count && flips[k] ? Image(channels: channels, height: size, width: size, pixels: pixels).flippedHorizontally().pixels : pixels
            }
            return out
        }
        return Batch(images: gather(images), labels: indices.map { Float(labels[$0]) }, targets: targets.map(gather) ?? [])
    }

    /// The examples at `indices`.
    func subset(_ indices: [Int]) -> Examples {
        let n = perImage
        func pick(_ source: [Float]) -> [Float] { indices.flatMap { source[($0 * n)..<(($0 + 1) * n)] } }
        return Examples(images: pick(images), labels: indices.map { labels[$0] }, targets: targets.map(pick), count: indices.count)
    }
}

/// A grid image a model writes (samples, reconstructions, triptychs) into `folder/step_NNNNNN.png`.
public struct OutputImage {
    public var folder: String
    public var grid: (pixels: [UInt8], width: Int, height: Int)
    public var channels: Int
}

/// Image `i` of each source in turn (`per` floats an image): rows of side-by-side
/// comparisons (original | reconstruction, input | generated | target).
func interleaved(_ sources: [[Float]], per: Int, count: Int) -> [Float] {
    var out: [Float] = []
    out.reserveCapacity(sources.count * count * per)
    for i in 0..<count {
        for source in sources { out += source[(i * per)..<((i + 1) * per)] }
    }
    return out
}

/// The model-specific part of a run.
protocol ModelTrainer: AnyObject {
    /// The networks, each saved as `<file>.safetensors` in a checkpoint (generator first).
    var networks: [(file: String, module: Module)] { get }
    var optimizers: [any Optimizer] { get }
    /// Names of the values `train` returns (metrics.csv columns; the first two are plotted).
    var metricNames: [String] { get }
    /// Batches one step consumes (critic steps per generator step).
    var batchesPerStep: Int { get }
    /// FLOPs of one step's matmuls and convolutions (see `Plan.multiplyAddFLOPs`).
    var flopsPerStep: Double { get }
    /// Positions the plans' random streams at `step` (for resuming).
    func seek(to step: Int)
    /// One training step on `batches`; returns the metrics.
    func train(_ batches: [Batch]) throws -> [Float]
    /// The images to write now.
    func outputs() throws -> [OutputImage]
}

/// One row of metrics.csv.
public struct StepMetrics: Sendable {
    public let step: Int, epoch: Int
    public let names: [String]
    public let values: [Float]
    public subscript(_ name: String) -> Float { values[names.firstIndex(of: name)!] }
}

/// Used from one thread; the only other is the prefetch queue, which runs
/// `batches(at:)` while the caller waits on the device.
public final class TrainingRun: @unchecked Sendable {
    public let options: TrainOptions
    public let folder: String
    public let stepsPerEpoch: Int
    public let totalSteps: Int
    /// The next step to run (0-based).
    public private(set) var step = 0
    /// Files of the data folder that could not be decoded (logged and counted in config.json).
    public let skippedFiles: Int
    /// Classes of the data's labels.
    public let classes: Int
    public let metricNames: [String]
    private let data: Examples
    private let batchesPerEpoch: Int
    private let trainer: any ModelTrainer
    private let session: Session
    private let log: (String) -> Void
    private let prefetched = Prefetcher()
    /// The example order of epoch `orderEpoch`.
    private var order: [Int] = []
    private var orderEpoch = -1

    /// Builds the run in `folder`, resuming from its latest checkpoint when `resume` is set.
    public convenience init(_ options: TrainOptions, folder: String, backend: any Backend, resume: Bool = false, log: @escaping (String) -> Void) throws {
        let loaded = try Self.loadData(options, log: log)
        try self.init(options, data: loaded.train, heldOut: loaded.heldOut, classes: loaded.classes, skippedFiles: loaded.skipped, folder: folder, backend: backend, resume: resume, log: log)
    }

    /// A run on examples already in memory (`genocl bench` uses synthetic ones).
    init(
        _ options: TrainOptions, data: Examples, heldOut: Examples?, classes: Int, skippedFiles: Int = 0, folder: String, backend: any Backend,
        resume: Bool = false, log: @escaping (String) -> Void
    ) throws {
        self.options = options
        self.folder = folder
        self.log = log
        (self.data, self.classes, self.skippedFiles) = (data, classes, skippedFiles)
        batchesPerEpoch = data.count / options.batchSize
        session = Session(backend: backend)
        trainer = try makeTrainer(options, classes: classes, heldOut: heldOut, session: session)
        metricNames = trainer.metricNames
        stepsPerEpoch = batchesPerEpoch / trainer.batchesPerStep
        guard stepsPerEpoch > 0 else {
            throw DatasetError("\(options.data): \(data.count) training images are fewer than one step's \(trainer.batchesPerStep) batch(es) of \(options.batchSize)")
        }
        totalSteps = options.steps ?? options.epochs * stepsPerEpoch
        if resume {
            step = try restore()
        } else if let initFrom = options.initFrom {
            try initialize(from: initFrom)
        }
        try session.upload(trainer.networks.flatMap { $0.module.stateDict().map(\.parameter) } + optimizerState)
        trainer.seek(to: step)
    }

    /// The training examples, the held-out examples and the number of classes.
    private static func loadData(_ options: TrainOptions, log: (String) -> Void) throws -> (train: Examples, heldOut: Examples?, classes: Int, skipped: Int) {
        if options.model == .pix2pix {
            guard !isMNISTLayout(options.data) else {
                throw DatasetError("\(options.data): pix2pix trains on paired images; give --data a folder with train/ and val/ (or test/) of A|B images side by side, or A/ and B/ folders with matching names")
            }
            let sets = try PairedSet.splits(options.data, size: options.imageSize, channels: options.channels, reversed: options.direction == .bToA)
            func examples(_ set: PairedSet) -> Examples {
                Examples(images: set.inputs, labels: [Int](repeating: 0, count: set.count), targets: set.targets, count: set.count)
            }
            var train = examples(sets.train), heldOut = sets.heldOut.map(examples)
            if heldOut == nil {
                // No val/ or test/ folder: hold out a few pairs of the training folder
                // (with fewer than ten, show training pairs instead).
                if train.count >= 10 {
                    let held = min(4, train.count / 5)
                    (heldOut, train) = (train.subset(Array(0..<held)), train.subset(Array(held..<train.count)))
                } else {
                    heldOut = train.subset(Array(0..<min(4, train.count)))
                    log("warning: \(options.data) has no val/ or test/ folder and under ten pairs; the triptychs show training pairs")
                }
            }
            warnSkipped(sets.train.skipped, log)
            return (train, heldOut, 1, sets.train.skipped.count)
        }
        let set = try TrainingSet(options.data, size: options.imageSize, channels: options.channels)
        warnSkipped(set.skipped, log)
        if options.model.isConditional && set.classes < 2 {
            throw DatasetError("\(options.data): --model \(options.model.rawValue) needs class labels; put each class's images in its own sub-folder (or use MNIST-layout IDX files with labels)")
        }
        let all = Examples(images: set.pixels, labels: set.labels, targets: nil, count: set.count)
        guard options.model.isVAE else { return (all, nil, set.classes, set.skipped.count) }
        // VAEs show reconstructions of images they never trained on: a seeded choice of up to 32.
        var rng = SplitMix64(seed: 0x4E1D_0017)
        let held = Set(Array(0..<set.count).shuffled(using: &rng).prefix(min(32, set.count / 10)))
        return (all.subset((0..<set.count).filter { !held.contains($0) }), held.isEmpty ? nil : all.subset(held.sorted()), set.classes, set.skipped.count)
    }

    private static func warnSkipped(_ skipped: [String], _ log: (String) -> Void) {
        if !skipped.isEmpty { log("warning: skipped \(skipped.count) file(s) that could not be decoded, e.g. \(skipped[0])") }
    }

    private var optimizerState: [Parameter] { trainer.optimizers.flatMap(\.state) }
    private var checkpointsFolder: String { folder + "/checkpoints" }

    /// FLOPs of one step's matmuls and convolutions, forward and backward.
    public var flopsPerStep: Double { trainer.flopsPerStep }

    /// Loads the latest checkpoint into the networks and optimizers; returns its step.
    private func restore() throws -> Int {
        let (checkpoint, path) = try Checkpoint.load(checkpointsFolder)
        for (file, module) in trainer.networks {
            try load(try checkpoint.file(file, in: path), into: module.stateDict(), path: "\(path)/\(file).safetensors")
        }
        let optimizer = try checkpoint.file("optimizer", in: path)
        try load(optimizer, into: optimizerState.map { ($0.name, $0) }, path: path + "/optimizer.safetensors")
        guard let saved = optimizer.metadata["step"].flatMap(Int.init) else {
            throw SafetensorsError(message: "\(path)/optimizer.safetensors: no step in its metadata")
        }
        log("resumed from \(path) at step \(saved)")
        return saved
    }

    /// Loads the first network (the generator) from `path`, a folder or a .safetensors
    /// file, and the other networks whose files are in that folder.
    private func initialize(from path: String) throws {
        let single = path.hasSuffix(".safetensors")
        let folder = single ? (path as NSString).deletingLastPathComponent : path
        var loaded: [String] = []
        for (i, (file, module)) in trainer.networks.enumerated() {
            let name = i == 0 && single ? path : "\(folder)/\(file).safetensors"
            guard i == 0 || FileManager.default.fileExists(atPath: name) else { continue }
            try load(try readSafetensors(name), into: module.stateDict(), path: name)
            loaded.append(name)
        }
        log("initialized from \(loaded.joined(separator: " and "))")
    }

    /// Saves a checkpoint of the current step.
    public func saveCheckpoint() throws {
        try session.download(trainer.networks.flatMap { $0.module.stateDict().map(\.parameter) } + optimizerState)
        let optimizer = SafetensorsFile(
            tensors: storedTensors(optimizerState.map { ($0.name, $0) }),
            metadata: ["step": String(step), "epoch": String(step / stepsPerEpoch), "seed": String(options.seed), "model": options.model.rawValue, "format": "genocl"])
        let networks = trainer.networks.map { ($0.file, SafetensorsFile(tensors: storedTensors($0.module.stateDict()), metadata: ["format": "pt"])) }
        try Checkpoint(files: networks + [("optimizer", optimizer)]).save(in: checkpointsFolder, name: String(format: "step_%06d", step))
    }

    /// The batches of `step`. Epoch `e` visits the examples in a permutation drawn from
    /// (seed, e), so any batch is known without history; flips are drawn from (seed, batch, slot).
    private func batches(at step: Int) -> [Batch] {
        (0..<trainer.batchesPerStep).map { k in
            let global = step * trainer.batchesPerStep + k
            let epoch = global / batchesPerEpoch, index = global % batchesPerEpoch
            if epoch != orderEpoch {
                var rng = SplitMix64(seed: options.seed &+ 0x5EED &* UInt64(epoch + 1))
                order = Array(0..<data.count)
                order.shuffle(using: &rng)
                orderEpoch = epoch
            }
            let flips = (0..<options.batchSize).map { slot in
                var coin = SplitMix64(seed: options.seed ^ UInt64(global) &* 0x9E37_79B9 ^ UInt64(slot))
                return options.flip && Bool.random(using: &coin)
            }
            return data.batch(order[(index * options.batchSize)..<((index + 1) * options.batchSize)], flips: flips, channels: options.channels, size: options.imageSize)
        }
    }

    /// Runs one step and returns its metrics; a non-finite loss is an error (nothing is saved).
    /// The next step's batches are assembled on a background thread while this one runs.
    public func trainStep() throws -> StepMetrics {
        let current = prefetched.take(step) ?? batches(at: step)
        if step + 1 < totalSteps {
            let next = step + 1
            prefetched.fill(next) { [self] in batches(at: next) }
        }
        let values = try trainer.train(current)
        let metrics = StepMetrics(step: step + 1, epoch: step / stepsPerEpoch + 1, names: metricNames, values: values)
        guard values.allSatisfy(\.isFinite) else {
            let shown = zip(metricNames, values).map { "\($0) \($1)" }.joined(separator: ", ")
            throw PlanError("step \(step + 1): the loss is not finite (\(shown)); stopped without saving, the last good checkpoint is in \(checkpointsFolder)")
        }
        step += 1
        return metrics
    }

    /// Writes the model's images for the current step as `<folder>/<kind>/step_NNNNNN.png`; returns them with their paths.
    public func writeOutputs() throws -> [(path: String, image: OutputImage, png: [UInt8])] {
        try trainer.outputs().map { image in
            try FileManager.default.createDirectory(atPath: folder + "/" + image.folder, withIntermediateDirectories: true)
            let path = folder + "/" + image.folder + String(format: "/step_%06d.png", step)
            let png = try encodePNG(width: image.grid.width, height: image.grid.height, channels: image.channels, pixels: image.grid.pixels)
            try writeAtomically(png, to: path)
            return (path, image, png)
        }
    }
}

/// The batches of one step, prepared ahead on a background queue.
final class Prefetcher: @unchecked Sendable {
    private let queue = DispatchQueue(label: "genocl.prefetch")
    private var pending: (step: Int, batches: [Batch])?

    /// Starts preparing the batches of `step`.
    func fill(_ step: Int, _ make: @escaping @Sendable () -> [Batch]) {
        queue.async { self.pending = (step, make()) }
    }

    /// The prepared batches of `step`, waiting for them if still being made; nil if another step was prepared.
    func take(_ step: Int) -> [Batch]? {
        queue.sync {
            defer { pending = nil }
            return pending?.step == step ? pending?.batches : nil
        }
    }
}

/// The optimizer of `kind` with the run's settings (RMSprop and the Adams use PyTorch's defaults otherwise).
func makeOptimizer(_ kind: OptimizerKind, _ parameters: [Parameter], learningRate: Float, options: TrainOptions, name: String) -> any Optimizer {
    switch kind {
    case .adam: Adam(parameters, learningRate: learningRate, beta1: options.beta1, beta2: options.beta2, name: name)
    case .nadam: NAdam(parameters, learningRate: learningRate, beta1: options.beta1, beta2: options.beta2, name: name)
    case .rmsprop: RMSprop(parameters, learningRate: learningRate, name: name)
    }
}

/// The trainer of `options.model`.
func makeTrainer(_ options: TrainOptions, classes: Int, heldOut: Examples?, session: Session) throws -> any ModelTrainer {
    switch options.model {
    case .dcgan, .wgan, .wganGP, .acgan, .pix2pix: try AdversarialTrainer(options, classes: classes, heldOut: heldOut, session: session)
    case .vae, .vaeDense, .cvae: try VAETrainer(options, classes: classes, heldOut: heldOut, session: session)
    }
}

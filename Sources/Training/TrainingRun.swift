// A training run of any model: its data (the loader's batches), the model and its
// trainer (compiled plans replayed every step, built by the model's family), its
// checkpoints and the images it writes. Nothing here depends on the model or the
// device: every model resumes exactly, checkpoints atomically and prefetches its next
// batches the same way.
import Datasets
import Foundation
import GenerativeModels
import NeuralNet
import TensorGraph

/// One row of metrics.csv.
public struct StepMetrics: Sendable {
    public let step: Int, epoch: Int
    public let names: [String]
    public let values: [Float]
    public subscript(_ name: String) -> Float { values[names.firstIndex(of: name)!] }
}

/// Used from one thread (the loader prepares the next batches on a queue of its own).
public final class TrainingRun {
    public let options: TrainOptions
    public let folder: String
    public let stepsPerEpoch: Int
    public let totalSteps: Int
    /// The next step to run (0-based).
    public private(set) var step = 0
    /// Files of the data folder that could not be decoded (logged and counted in config.json).
    public let skippedFiles: Int
    /// Classes of the data's labels, and their names (captions of conditional models' grids).
    public let classes: Int
    public let classNames: [String]
    public let metricNames: [String]
    private let loader: DataLoader
    private let model: any GenerativeModel
    private let trainer: any ModelTrainer
    /// One session per device; the first one's weights are the ones saved.
    private let sessions: [Session]
    private var session: Session { sessions[0] }
    /// The replicas' all-reduces on several devices (nil on one).
    public let replicaGroup: ReplicaGroup?
    /// The MPI ranks this process trains among (nil: one process).
    private let processes: (any ProcessGroup)?
    private let log: (String) -> Void

    /// Builds the run in `folder`, resuming from its latest checkpoint when `resume` is set.
    public convenience init(
        _ options: TrainOptions, folder: String, backend: any Backend, resume: Bool = false, log: @escaping (String) -> Void
    ) throws {
        try self.init(options, folder: folder, backends: [backend], resume: resume, log: log)
    }

    /// A run whose global batch is split evenly across `backends` (data parallelism), or
    /// across the `processes` of an MPI launch, this one on its one backend.
    public convenience init(
        _ options: TrainOptions, folder: String, backends: [any Backend], processes: (any ProcessGroup)? = nil, resume: Bool = false,
        log: @escaping (String) -> Void
    ) throws {
        let type = options.model.type
        let loaded = try loadExamples(
            options.data, for: options.model.rawValue, kind: type.trainsOn, size: options.imageSize, channels: options.channels,
            reversedPairs: options.direction == .bToA,
            holdOut: type.showsHeldOut, heldOutShare: type.heldOutShare, loadSize: options.effectiveLoadSize, log: log)
        if type.trainsOn == .labeledImages && loaded.classes < 2 {
            throw DatasetError(
                "\(options.data): --model \(options.model.rawValue) needs class labels; put each class's images in its own sub-folder (or use MNIST-layout IDX files with labels)"
            )
        }
        try self.init(
            options, data: loaded.train, heldOut: loaded.heldOut, classes: loaded.classes, classNames: loaded.classNames,
            skippedFiles: loaded.skipped.count, folder: folder,
            backends: backends, processes: processes, resume: resume, log: log)
    }

    /// A run on examples already in memory, on one device.
    public convenience init(
        _ options: TrainOptions, data: Examples, heldOut: Examples?, classes: Int, skippedFiles: Int = 0, folder: String,
        backend: any Backend, resume: Bool = false, log: @escaping (String) -> Void
    ) throws {
        try self.init(
            options, data: data, heldOut: heldOut, classes: classes, skippedFiles: skippedFiles, folder: folder, backends: [backend],
            resume: resume, log: log)
    }

    /// A run on examples already in memory (`genocl bench` uses synthetic ones), its global
    /// batch split evenly across `backends` (data parallelism on several devices).
    public init(
        _ options: TrainOptions, data: Examples, heldOut: Examples?, classes: Int, classNames: [String] = [], skippedFiles: Int = 0,
        folder: String, backends: [any Backend], processes: (any ProcessGroup)? = nil,
        resume: Bool = false, log: @escaping (String) -> Void
    ) throws {
        self.options = options
        self.folder = folder
        self.log = log
        (self.classes, self.skippedFiles) = (classes, skippedFiles)
        self.classNames = classNames.count == classes ? classNames : (0..<classes).map(String.init)
        guard processes == nil || backends.count == 1 else { throw PlanError("an MPI rank drives one device; name one per rank") }
        let devices = processes?.size ?? backends.count
        guard devices >= 1, options.batchSize % devices == 0 else {
            throw PlanError(
                "--batch-size \(options.batchSize) does not split evenly across \(devices) devices; use a multiple of \(devices) (the global batch is divided among them)"
            )
        }
        let group = processes == nil && devices > 1 ? ReplicaGroup(count: devices) : nil
        let sessions = backends.enumerated().map { index, backend in
            Session(
                backend: backend,
                replica: Replica(
                    index: processes?.rank ?? index, count: devices, synchronizesBatchStatistics: options.synchronizedBatchNorm ?? false),
                communicator: processes ?? group?.member(index))
        }
        let model = try options.model.make(options, classes: classes)
        for (path, module) in model.fixedNetworks { try Self.loadFixedNetwork(path, into: module) }
        // Every replica builds its steps from the one model: they share its host weights.
        let replicas = try sessions.map { try model.trainer(options, classes: classes, heldOut: heldOut, session: $0) }
        let weights = model.networks.flatMap { $0.module.parameters }
        (self.sessions, self.model, replicaGroup, self.processes) = (sessions, model, group, processes)
        trainer = group.map { ReplicatedTrainer(replicas, sessions: sessions, group: $0, weights: weights) } ?? replicas[0]
        metricNames = trainer.metricNames
        loader = DataLoader(
            data, batchSize: options.batchSize, batchesPerStep: trainer.batchesPerStep, seed: options.seed, flip: options.flip,
            channels: options.channels, size: options.imageSize, loadSize: options.effectiveLoadSize, schedule: trainer.schedule)
        stepsPerEpoch = max(loader.stepsPerEpoch, trainer.schedule == nil ? 0 : 1)
        guard stepsPerEpoch > 0, data.count > 0 else {
            throw DatasetError(
                "\(options.data): \(data.count) training images are fewer than one step's \(trainer.batchesPerStep) batch(es) of \(options.batchSize)"
            )
        }
        totalSteps =
            options.steps ?? trainer.schedule?.totalSteps(epochs: options.epochs, examples: data.count) ?? options.epochs * stepsPerEpoch
        if resume {
            step = try restore()
        } else {
            if let initFrom = options.initFrom { try initialize(from: initFrom) }
            // A moving average starts as a copy of the network it follows.
            for replica in replicaTrainers { for companion in replica.companions { companion.copySource() } }
        }
        for (session, replica) in zip(sessions, replicaTrainers) {
            let own = replica.optimizers.flatMap(\.state) + replica.companions.flatMap { $0.state.map(\.parameter) }
            try session.upload(model.networks.flatMap { $0.module.stateDict().map(\.parameter) } + own)
        }
        trainer.seek(to: step)
    }

    /// Loads a network the model uses untrained (a perceptual loss's VGG-16) from `path`: the
    /// module's tensors, other tensors of the file (torchvision's classifier) ignored.
    private static func loadFixedNetwork(_ path: String, into module: Module) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw SafetensorsError(message: "\(path): no such weights file (make it from torchvision's .pth with tools/convert-vgg16)")
        }
        let file = try readSafetensors(path)
        let names = Set(module.stateDict().map(\.name))
        try load(
            SafetensorsFile(tensors: file.tensors.filter { names.contains($0.key) }, metadata: file.metadata), into: module.stateDict(),
            path: path)
    }

    private var optimizerState: [Parameter] { trainer.optimizers.flatMap(\.state) }
    /// Each replica's trainer: its optimizer state and companions are its own parameters,
    /// loaded alike on resume.
    private var replicaTrainers: [any ModelTrainer] { (trainer as? ReplicatedTrainer)?.replicas ?? [trainer] }
    /// The networks saved in a checkpoint: the model's, then the trainer's companions.
    private var savedNetworks: [(file: String, state: [(name: String, parameter: Parameter)])] {
        model.networks.map { ($0.file, $0.module.stateDict()) } + trainer.companions.map { ($0.file, $0.state) }
    }
    private var checkpointsFolder: String { folder + "/checkpoints" }

    /// FLOPs of one step's matmuls and convolutions, forward and backward.
    public var flopsPerStep: Double { trainer.flopsPerStep }

    /// Loads the latest checkpoint into the networks and optimizers; returns its step.
    private func restore() throws -> Int {
        Checkpoint.removeUnfinishedWrites(in: checkpointsFolder)
        let (checkpoint, path) = try Checkpoint.load(checkpointsFolder)
        for (file, module) in model.networks {
            try load(try checkpoint.file(file, in: path), into: module.stateDict(), path: "\(path)/\(file).safetensors")
        }
        let optimizer = try checkpoint.file("optimizer", in: path)
        for replica in replicaTrainers {
            try load(optimizer, into: replica.optimizers.flatMap(\.state).map { ($0.name, $0) }, path: path + "/optimizer.safetensors")
            for companion in replica.companions {
                try load(
                    try checkpoint.file(companion.file, in: path), into: companion.state, path: "\(path)/\(companion.file).safetensors")
            }
        }
        guard let saved = optimizer.metadata["step"].flatMap(Int.init), saved >= 0 else {
            let found = optimizer.metadata["step"].map { "a step of \"\($0)\"" } ?? "no step"
            throw SafetensorsError(
                message: "\(path)/optimizer.safetensors: \(found) in its metadata, not a step count ≥ 0; the checkpoint is damaged")
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
        for (i, (file, module)) in model.networks.enumerated() {
            let name = i == 0 && single ? path : "\(folder)/\(file).safetensors"
            guard i == 0 || FileManager.default.fileExists(atPath: name) else { continue }
            try load(try readSafetensors(name).withoutDataParallelPrefix, into: module.stateDict(), path: name)
            loaded.append(name)
        }
        log("initialized from \(loaded.joined(separator: " and "))")
    }

    /// Saves a checkpoint of the current step.
    public func saveCheckpoint() throws {
        try session.download(savedNetworks.flatMap { $0.state.map(\.parameter) } + optimizerState)
        // A checkpoint is never written with weights or state that have diverged: resuming from it would fail again.
        let state: [(name: String, parameter: Parameter)] =
            savedNetworks.flatMap { network in network.state.map { ("\(network.file) \($0.name)", $0.parameter) } }
            + optimizerState.map { ("optimizer \($0.name)", $0) }
        if let diverged = state.first(where: { !$0.parameter.value.allSatisfy(\.isFinite) }) {
            let latest = (try? String(contentsOfFile: checkpointsFolder + "/latest", encoding: .utf8))?.trimmingCharacters(
                in: .whitespacesAndNewlines)
            let earlier =
                latest.map {
                    "the last finite checkpoint is \(checkpointsFolder)/\($0); start from it with --init-from and lower learning rates"
                }
                ?? "no checkpoint was written before"
            throw PlanError("step \(step): \(diverged.name) holds non-finite values (the run diverged); nothing was saved, \(earlier)")
        }
        let optimizer = SafetensorsFile(
            tensors: storedTensors(optimizerState.map { ($0.name, $0) }),
            metadata: [
                "step": String(step), "epoch": String(step / stepsPerEpoch), "seed": String(options.seed), "model": options.model.rawValue,
                "format": "genocl",
            ])
        let networks = savedNetworks.map { ($0.file, SafetensorsFile(tensors: storedTensors($0.state), metadata: ["format": "pt"])) }
        try Checkpoint(files: networks + [("optimizer", optimizer)]).save(in: checkpointsFolder, name: String(format: "step_%06d", step))
    }

    /// Runs one step and returns its metrics; a non-finite loss is an error (nothing is saved).
    /// The next step's batches are assembled on a background thread while this one runs.
    public func trainStep() throws -> StepMetrics {
        let current = loader.take(step, prefetching: step + 1 < totalSteps ? step + 1 : nil)
        var values = try trainer.train(current)
        let epochEnds = loader.epoch(ofStep: step + 1) != loader.epoch(ofStep: step)
        if epochEnds || step + 1 == totalSteps { values = try trainer.finishEpoch(values, keep: epochEnds) }
        #if DEBUG
            if let processes { try checkRanksAgree(processes, session: session, weights: model.networks.flatMap { $0.module.parameters }) }
        #endif
        let metrics = StepMetrics(step: step + 1, epoch: loader.epoch(ofStep: step), names: metricNames, values: values)
        guard values.allSatisfy(\.isFinite) else {
            let shown = zip(metricNames, values).map { "\($0) \($1)" }.joined(separator: ", ")
            throw PlanError(
                "step \(step + 1): the loss is not finite (\(shown)); stopped without saving, the last good checkpoint is in \(checkpointsFolder)"
            )
        }
        step += 1
        return metrics
    }

    /// How the run grows, where its steps follow a schedule (a progressive GAN's: "4×4 to 256×256 in 13 phases").
    public var growth: String? { trainer.schedule.map { String(describing: $0) } }

    /// The phase of step `step` where the run's schedule has phases (see `BatchSchedule.phaseName`).
    public func phaseName(at step: Int) -> String? { trainer.schedule?.phaseName(at: step) }

    /// The most memory one of the run's devices has held at once since the last call (nil: not
    /// counted), and that device's memory; the count starts again.
    public func takePeakMemory() throws -> (peak: Int, of: Int?)? {
        let peaks = try sessions.compactMap { session in
            try session.backend.peakMemoryBytes.map { peak in
                try session.backend.resetPeakMemory()
                return (peak: peak, of: session.backend.memoryBytes)
            }
        }
        return peaks.max { $0.peak < $1.peak }
    }

    /// `count` samples `[N, C, S, S]` of the generator as it is now (its moving average where the
    /// run keeps one), from latents of `seed`: the same latents at every call, no training stream
    /// touched. nil for a model that does not sample from latents.
    func currentSamples(count: Int, seed: UInt64) throws -> ImageSource? {
        guard case .latent(let decode, _) = model.sampling else { return nil }
        let batch = min(count, samplingChunk(size: options.imageSize)), nz = options.latentSize, conditional = options.isConditional
        if samplePlan == nil {
            let graph = Graph()
            let context = ForwardContext(training: false)
            if let average = trainer.companions.first(where: { $0.file == "netG_ema" }) {
                context.record(zip(average.state, average.source).map { Assignment($1, graph.variable($0.parameter)) })
            }
            let labels = conditional ? graph.placeholder("labels", [batch]) : nil
            samplePlan = try session.plan(fetches: [decode(graph.placeholder("z", [batch, nz]), labels, context)])
        }
        return latentSamples(
            samplePlan!, count: count, channels: options.channels, size: options.imageSize, latentSize: nz,
            classes: conditional ? classes : nil, seed: seed)
    }

    private var samplePlan: Plan?

    /// Plans compiled on all devices so far.
    public var plansCompiled: Int { sessions.reduce(0) { $0 + $1.plansCompiled } }

    /// Real images the run has shown its discriminator (or model) in steps `0..<step`.
    public func imagesShown(before step: Int) -> Int { loader.imagesShown(before: step) }

    /// Writes the model's images for the current step as `<folder>/<kind>/step_NNNNNN.png`; returns them with their paths.
    public func writeOutputs() throws -> [(path: String, image: OutputImage, png: [UInt8])] {
        let epoch = loader.epoch(ofStep: max(step - 1, 0))
        return try trainer.outputs().map { grid in
            let title = ["\(runSubject(options)) — \(grid.folder)", "step \(step), epoch \(epoch)"] + (grid.note.map { [$0] } ?? [])
            let image = captioned(grid, title: title, classNames: classNames)
            try FileManager.default.createDirectory(atPath: folder + "/" + image.folder, withIntermediateDirectories: true)
            let path = folder + "/" + image.folder + String(format: "/step_%06d.png", step)
            let png = try encodePNG(width: image.grid.width, height: image.grid.height, channels: image.channels, pixels: image.grid.pixels)
            try writeAtomically(png, to: path)
            return (path, image, png)
        }
    }
}

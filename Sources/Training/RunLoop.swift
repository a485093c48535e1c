// The training loop around a run: run folder, config.json, metrics.csv, progress,
// samples, checkpoints, and a clean stop on Ctrl-C.
import Foundation
import GenerativeModels
import TensorGraph

public let genoclVersion = "0.1.0"

/// Set by SIGINT; the loop checks it between steps.
nonisolated(unsafe) private var interruptRequested: sig_atomic_t = 0

/// Ctrl-C (SIGINT) and SIGTERM ask the loop to save and stop. Both are unblocked first:
/// a parent may have started us with them blocked (Foundation's `Process` does).
private func installInterruptHandler() {
    var signals = sigset_t()
    sigemptyset(&signals)
    for signal in [SIGINT, SIGTERM] { sigaddset(&signals, signal) }
    pthread_sigmask(SIG_UNBLOCK, &signals, nil)
    // A closed pipe on standard output makes writes fail (ignored) instead of killing the run.
    signal(SIGPIPE, SIG_IGN)
    signal(SIGINT) { _ in interruptRequested = 1 }
    signal(SIGTERM) { _ in interruptRequested = 1 }
}

/// What `genocl train` needs beyond the options.
public struct RunSettings: Sendable {
    public var folder: String
    public var resume = false
    public var dryRun = false
    /// Progress on one rewritten line (a terminal) or log lines.
    public var interactive = isatty(STDOUT_FILENO) != 0
    /// Called as the first step starts: data, model and plans are ready (`genocl bench --real` times the loop from here).
    public var loopStarts: (@Sendable () -> Void)?
    /// Called as each step of the loop ends: its metrics, outputs and checkpoint written.
    public var stepEnds: (@Sendable () -> Void)?
    public init(folder: String) { self.folder = folder }
}

/// Trains the model of `options`; returns the metrics of the steps run.
@discardableResult
public func train(_ options: TrainOptions, settings: RunSettings, backend: any Backend, log: @escaping (String) -> Void) throws
    -> [StepMetrics]
{
    try train(options, settings: settings, backends: [backend], log: log)
}

/// Trains the model of `options` on `backends`, the global batch split evenly across them
/// (or across the `processes` of an MPI launch, this one on its one backend: the first
/// process alone writes the run folder; every one reads it to resume).
@discardableResult
public func train(
    _ options: TrainOptions, settings: RunSettings, backends: [any Backend], processes: (any ProcessGroup)? = nil,
    log: @escaping (String) -> Void
) throws
    -> [StepMetrics]
{
    let writes = (processes?.rank ?? 0) == 0
    var settings = settings
    if !writes { settings.interactive = false }
    var options = options
    if settings.resume {
        let path = settings.folder + "/config.json"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PlanError("--resume \(settings.folder): no config.json there (expected a run folder written by genocl train)")
        }
        let saved: TrainOptions
        do {
            saved = try JSONDecoder().decode(RunConfig.self, from: data).options
        } catch {
            throw PlanError("\(path): not a config.json that genocl can read (\(error)); restore it, or start a new run with a fresh --out")
        }
        // Continue with the saved settings; only the length may be extended.
        let (steps, epochs) = (options.steps, options.epochs)
        options = saved
        if let steps { options.steps = steps } else if epochs > saved.epochs { options.epochs = epochs }
        if let problem = options.problem() {
            throw PlanError("\(path): \(problem) (the file was edited or damaged; fix that value, or start a new run with a fresh --out)")
        }
    } else {
        if let problem = options.problem() { throw PlanError(problem) }
        // A finished or interrupted run is never written over: its metrics and checkpoints would be lost.
        for file in ["metrics.csv", "checkpoints/latest"]
        where writes && FileManager.default.fileExists(atPath: settings.folder + "/" + file) {
            throw PlanError(
                "\(settings.folder) already holds a run (\(file)); continue it with --resume \(settings.folder), or train into a fresh --out"
            )
        }
    }
    if !settings.resume && options.growth != nil {
        options.growth!.deviceMemoryGiB = try smallestDeviceMemory(backends, processes).map { Double($0) / 1_073_741_824 }
    }
    if writes { try FileManager.default.createDirectory(atPath: settings.folder, withIntermediateDirectories: true) }
    let run = try TrainingRun(
        options, folder: settings.folder, backends: backends, processes: processes, resume: settings.resume, log: log)
    let devices = processes.map { "\($0.size) MPI ranks, this one on \(backends[0].deviceDescription)" } ?? devicesDescription(backends)
    let config = RunConfig(
        options: options, device: devices, genoclVersion: genoclVersion, images: run.stepsPerEpoch * options.batchSize,
        skippedFiles: run.skippedFiles, classes: run.classes)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    if writes { try writeAtomically(Array(try encoder.encode(config)), to: settings.folder + "/config.json") }
    let batches =
        run.growth.map { "\(run.imagesShown(before: run.totalSteps)) real images; \($0)" }
        ?? "\(options.batchSize)\(options.criticSteps > 1 ? " × \(options.criticSteps) critic batches" : "") (\(run.stepsPerEpoch) per epoch)"
    log(
        "\(options.model.rawValue) \(options.imageSize)×\(options.imageSize)×\(options.channels) on \(devices): \(run.totalSteps) steps of \(batches), run folder \(settings.folder)"
    )
    if settings.dryRun {
        log("dry run: data, model and plans are ready; nothing trained")
        return []
    }
    installInterruptHandler()
    /// Whether to stop now: Ctrl-C here, or on any rank (all stop after the same step).
    func interrupted() throws -> Bool { try processes?.any(interruptRequested != 0) ?? (interruptRequested != 0) }
    if !writes {
        // The other ranks train their shares; the first one writes everything.
        var history: [StepMetrics] = []
        while run.step < run.totalSteps {
            history.append(try run.trainStep())
            if try interrupted() { break }
        }
        return history
    }

    let metricsPath = settings.folder + "/metrics.csv"
    // --eval-every: FID, KID and precision/recall columns, filled at the evaluated steps.
    let evaluator = try options.evaluation.map { _ in try TrainingEvaluator(options, backend: backends[0], log: log) }
    let evaluated = evaluator == nil ? [] : TrainingEvaluator.metricNames
    let header = (["step", "epoch"] + run.metricNames + evaluated + ["images_per_second", "seconds"]).joined(separator: ",")
    if let text = try? String(contentsOfFile: metricsPath, encoding: .utf8), settings.resume {
        // Rows past the checkpoint (a run killed between a checkpoint and the next) are run
        // again now: keep the rows up to the resumed step only, so every step has one row.
        let rows = text.split(separator: "\n").dropFirst().filter { Int($0.prefix { $0 != "," }).map { $0 <= run.step } ?? false }
        try writeAtomically(Array(([header] + rows.map(String.init)).map { $0 + "\n" }.joined().utf8), to: metricsPath)
    } else {
        try writeAtomically(Array((header + "\n").utf8), to: metricsPath)
    }
    let metricsFile = try FileHandle(forWritingTo: URL(fileURLWithPath: metricsPath))
    defer { try? metricsFile.close() }
    metricsFile.seekToEndOfFile()

    let events = try EventWriter(folder: settings.folder)
    func writeOutputs() throws -> [String] {
        let outputs = try run.writeOutputs()
        for output in outputs {
            try events.image(
                output.image.folder, png: output.png, width: output.image.grid.width, height: output.image.grid.height,
                channels: output.image.channels, step: run.step)
        }
        try refreshRunReport(settings.folder, subject: runSubject(options))
        events.flush()
        return outputs.map(\.path)
    }

    settings.loopStarts?()
    let start = Date()
    let firstStep = run.step
    var history: [StepMetrics] = []
    var lastLog = Date()
    while run.step < run.totalSteps {
        let metrics = try run.trainStep()
        history.append(metrics)
        var evaluation: [Double] = []
        if let evaluator, metrics.step % options.evaluation!.every == 0 || metrics.step == run.totalSteps {
            evaluation = try evaluator.measure(run)
            let shown = zip(evaluated, evaluation).map { String(format: "%@ %.4f", $0, $1) }.joined(separator: "  ")
            if settings.interactive { writeToTerminal("\r\u{1B}[K") }
            log("step \(metrics.step): \(shown)")
            try events.scalars(zip(evaluated, evaluation).map { ("evaluation/" + $0, Float($1)) }, step: metrics.step)
        }
        let seconds = Date().timeIntervalSince(start)
        let shownSoFar = run.imagesShown(before: metrics.step)
        let rate = Double(shownSoFar - run.imagesShown(before: firstStep)) / max(seconds, 1e-9)
        let row =
            ["\(metrics.step)", "\(metrics.epoch)"] + metrics.values.map { String(format: "%.6f", $0) }
            + (evaluation.isEmpty ? evaluated.map { _ in "" } : evaluation.map { String(format: "%.6f", $0) }) + [
                String(format: "%.1f", rate), String(format: "%.3f", seconds),
            ]
        do {
            try metricsFile.write(contentsOf: Data((row.joined(separator: ",") + "\n").utf8))
        } catch {
            throw PlanError(
                "\(metricsPath): writing step \(metrics.step)'s metrics failed (\(error)); is the disk full? Free space and continue with --resume \(settings.folder)"
            )
        }
        let eta = Double(run.imagesShown(before: run.totalSteps) - shownSoFar) / max(rate, 1e-9)
        let shown = zip(metrics.names, metrics.values).map { String(format: "%@ %.4f", $0, $1) }.joined(separator: "  ")
        let line =
            String(
                format: "epoch %d step %d/%d  %.0f img/s  ETA %@  ", metrics.epoch, metrics.step, run.totalSteps, rate, formatDuration(eta))
            + shown
        if settings.interactive {
            if Date().timeIntervalSince(lastLog) > 0.2 || metrics.step == run.totalSteps {
                writeToTerminal("\r\u{1B}[K" + line)
                lastLog = Date()
            }
        } else if metrics.step % options.logEvery == 0 || metrics.step == run.totalSteps {
            log(line)
        }
        // The end of a phase of growth, with the most memory it held: the headroom of the next.
        if let phase = run.phaseName(at: metrics.step - 1), metrics.step == run.totalSteps || run.phaseName(at: metrics.step) != phase {
            let memory = try run.takePeakMemory().map { (peak, of) in
                let gib = { (bytes: Int) in String(format: "%.2f GiB", Double(bytes) / 1_073_741_824) }
                return "; peak device memory \(gib(peak))\(of.map { " of \(gib($0))" } ?? "")"
            }
            if settings.interactive { writeToTerminal("\r\u{1B}[K") }
            log("\(phase): done at step \(metrics.step)\(memory ?? "")")
        }
        if metrics.step % options.logEvery == 0 || metrics.step == run.totalSteps {
            try events.scalars(
                zip(metrics.names, metrics.values).map { (scalarTag($0), $1) } + [("images_per_second", Float(rate))], step: metrics.step)
        }
        if metrics.step % options.sampleEvery == 0 { _ = try writeOutputs() }
        if metrics.step % options.checkpointEvery == 0 { try run.saveCheckpoint() }
        if try interrupted() {
            if settings.interactive { writeToTerminal("\n") }
            try run.saveCheckpoint()
            log("interrupted at step \(metrics.step): checkpoint saved; continue with --resume \(settings.folder)")
            interruptRequested = 0
            return history
        }
        settings.stepEnds?()
    }
    if settings.interactive { writeToTerminal("\n") }
    // The last step's images and checkpoint, unless the loop just wrote them.
    let written = run.step % options.sampleEvery == 0 ? [] : try writeOutputs()
    if run.step % options.checkpointEvery != 0 { try run.saveCheckpoint() }
    let shownImages = written.isEmpty ? "" : "; images \(written.joined(separator: ", "))"
    log(
        "done: \(run.totalSteps) steps in \(formatDuration(Date().timeIntervalSince(start)))\(shownImages); checkpoint \(settings.folder)/checkpoints"
    )
    return history
}

/// The memory of the smallest device of the run (over every MPI rank), nil where one does not
/// say (the CPU reference backend).
func smallestDeviceMemory(_ backends: [any Backend], _ processes: (any ProcessGroup)?) throws -> Int? {
    var memories = backends.map { Float($0.memoryBytes ?? 0) / 1_048_576 }
    if let processes {
        var all = [Float](repeating: 0, count: processes.size)
        all[processes.rank] = memories.min() ?? 0
        try processes.allReduceSum(&all)
        memories = all
    }
    guard let smallest = memories.min(), smallest > 0 else { return nil }
    return Int(smallest) * 1_048_576
}

/// The devices of a run: one's description, or several counted (`2 × pthread-…`) or listed.
public func devicesDescription(_ backends: [any Backend]) -> String {
    let names = backends.map(\.deviceDescription)
    guard names.count > 1 else { return names[0] }
    let batch = "the batch split \(names.count) ways"
    return Set(names).count == 1 ? "\(names.count) × \(names[0]) (\(batch))" : names.joined(separator: " + ") + " (\(batch))"
}

/// Progress on the terminal. A closed or full standard output (a pipe whose reader quit,
/// `> /dev/full`) must not stop a run: the run folder is its record.
private func writeToTerminal(_ text: String) {
    try? FileHandle.standardOutput.write(contentsOf: Data(text.utf8))
}

/// TensorBoard's tag of a metric: `loss_d` → `loss/d`, others as named.
private func scalarTag(_ name: String) -> String {
    name.hasPrefix("loss_") ? "loss/" + name.dropFirst(5) : name
}

/// The model and data a run's pictures name: "dcgan on fashion-mnist".
func runSubject(_ options: TrainOptions) -> String {
    "\(options.model.rawValue) on \(URL(fileURLWithPath: options.data).deletingPathExtension().lastPathComponent)"
}

/// config.json: everything needed to reproduce the run.
public struct RunConfig: Codable {
    public var options: TrainOptions
    public var device: String
    public var genoclVersion: String
    public var images: Int
    public var skippedFiles: Int
    /// Classes of the data's labels (conditional models are built for this many).
    public var classes: Int
}

func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "?" }
    let s = Int(seconds.rounded())
    return s >= 3600 ? String(format: "%dh%02dm", s / 3600, s % 3600 / 60) : String(format: "%dm%02ds", s / 60, s % 60)
}

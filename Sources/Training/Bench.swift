// `genocl bench`: real training iterations of the real models on synthetic data,
// timed on one device, with the device's own measured rates for proportion.
import Foundation
import Datasets
import GenerativeModels
import TensorGraph

/// A benchmark workload: a model at the size, batch and step structure of its study.
public struct BenchWorkload: Sendable {
    public var name: String
    public var options: TrainOptions
    public var classes = 10

    public static let all: [BenchWorkload] = [
        workload("dcgan64", .dcgan, size: 64, channels: 3, batch: 64),
        workload("dcgan28", .dcgan, size: 28, channels: 1, batch: 64),
        workload("wgan-gp64", .wganGP, size: 64, channels: 3, batch: 32),
        workload("vae64", .vae, size: 64, channels: 3, batch: 64),
        workload("pix2pix256", .pix2pix, size: 256, channels: 3, batch: 1),
    ]

    static func workload(_ name: String, _ model: ModelKind, size: Int, channels: Int, batch: Int) -> BenchWorkload {
        var options = TrainOptions(model: model, data: "/nonexistent")
        (options.imageSize, options.channels, options.batchSize) = (size, channels, batch)
        return BenchWorkload(name: name, options: options)
    }

    /// Images one iteration trains on (all critic batches and the generator's).
    public var imagesPerIteration: Int { options.batchSize * options.criticSteps }

    /// Synthetic examples: uniform pixels in [−1, 1], random labels, enough for two iterations
    /// per epoch, at the size the loader keeps them (`loaded`: pix2pix's jitter crops them) or shows them.
    public func syntheticData(loaded: Bool = true) -> Examples {
        let side = loaded ? options.effectiveLoadSize : options.imageSize
        let count = 2 * imagesPerIteration, per = options.channels * side * side
        var rng = SplitMix64(seed: 7)
        func pixels() -> [Float] { (0..<count * per).map { _ in Float.random(in: -1...1, using: &rng) } }
        let labels = (0..<count).map { _ in Int.random(in: 0..<classes, using: &rng) }
        return Examples(images: pixels(), labels: labels, targets: options.model.type.trainsOn == .pairs ? pixels() : nil, count: count)
    }
}

/// What `genocl bench` measured for one workload.
public struct BenchResult: Codable, Sendable {
    public var workload: String
    public var model: String
    public var device: String
    public var batchSize: Int
    public var imagesPerIteration: Int
    public var iterations: Int
    public var millisecondsMedian: Double
    public var millisecondsMin: Double
    public var millisecondsMax: Double
    public var imagesPerSecond: Double
    /// Matmul and convolution FLOPs of one iteration (2 per multiply-add, forward and backward).
    public var flopsPerIteration: Double
    public var flopCount: String
    public var gflops: Double
    public var fractionOfGEMM: Double?
    public var fractionOfMeasuredPeak: Double?
    public var fractionOfNominalPeak: Double?
    /// Building plans (and, on a cold cache, programs).
    public var setupSeconds: Double
    /// The first iteration: first kernel launches, convolution timing, CLBlast's build.
    public var firstIterationSeconds: Double
    public var peakDeviceBytes: Int?
    /// Device time of all kernels per timed iteration (profiling events): the rest of an
    /// iteration is host work (planning launches, reading losses) and gaps between launches.
    public var kernelMillisecondsPerIteration: Double?
    public var topKernels: [KernelTotal]
    /// Devices the batch was split across (data parallelism), with the bytes each one
    /// all-reduced per iteration and the time the first one spent in all-reduces.
    public var devices = 1
    /// The mean iteration: what a run of many iterations averages, slow ones included.
    public var millisecondsMean: Double?
    public var allReduceBytesPerIteration: Int?
    public var allReduceMillisecondsPerIteration: Double?
    public var allReducesPerIteration: Double?
}

/// The device's measured rates (shared by the workloads of one bench run).
public struct DeviceRates: Codable, Sendable {
    public var device: String
    public var gemmGFLOPs: Double?
    public var gemmSize: Int?
    public var peakGFLOPs: Double?
    public var nominalPeakGFLOPs: Double?

    /// The rates known without measuring: the nominal peak, when the device's name is in the table.
    public init(device: String) {
        self.device = device
        nominalPeakGFLOPs = Training.nominalPeakGFLOPs(device)
    }
}

/// fp32 peak from the vendor's data sheet, for devices whose name says what they are.
public func nominalPeakGFLOPs(_ device: String) -> Double? {
    let known: [(String, Double)] = [
        ("H200", 66_900), ("H100 PCIe", 51_200), ("H100", 66_900), ("A100", 19_500), ("V100", 15_700), ("1080 Ti", 11_340),
        ("RTX 4090", 82_600), ("RTX 3090", 35_600),
    ]
    return known.first { device.contains($0.0) }?.1
}

/// The median of sorted, non-empty `values` (the mean of the middle two of an even count).
func median(ofSorted values: [Double]) -> Double {
    values.count % 2 == 1 ? values[values.count / 2] : (values[values.count / 2 - 1] + values[values.count / 2]) / 2
}

/// Runs `warmup` + `iterations` training iterations of `workload` and reports them.
public func runBench(_ workload: BenchWorkload, iterations: Int, warmup: Int = 1, backend: any Backend, rates: DeviceRates) throws
    -> BenchResult
{
    try runBench(workload, iterations: iterations, warmup: warmup, backends: [backend], rates: rates)
}

/// The same, the workload's batch split across `backends` (kernel times are the first one's).
public func runBench(_ workload: BenchWorkload, iterations: Int, warmup: Int = 1, backends: [any Backend], rates: DeviceRates)
    throws -> BenchResult
{
    let backend = backends[0]
    let folder = NSTemporaryDirectory() + "genocl-bench-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var options = workload.options
    options.steps = warmup + iterations + 1
    let setupStart = Date()
    let run = try TrainingRun(
        options, data: workload.syntheticData(), heldOut: options.model.type.showsHeldOut ? workload.syntheticData(loaded: false) : nil,
        classes: workload.classes, folder: folder, backends: backends, log: { _ in })
    let setup = Date().timeIntervalSince(setupStart)
    let profiling = backend as? any ProfilingBackend
    var start = Date()
    _ = try run.trainStep()
    let first = Date().timeIntervalSince(start)
    for _ in 1..<max(warmup, 1) { _ = try run.trainStep() }
    try profiling?.resetProfile()
    let reduced = run.replicaGroup.map { ($0.bytesReduced, $0.secondsReducing, $0.reductions) }
    var times: [Double] = []
    for _ in 0..<iterations {
        start = Date()
        _ = try run.trainStep()  // ends reading the step's losses: the device has finished
        times.append(Date().timeIntervalSince(start))
    }
    times.sort()
    let median = median(ofSorted: times)
    let flops = run.flopsPerStep
    let gflops = flops / median / 1e9
    let kernels = try profiling?.kernelTotals()
    var result = BenchResult(
        workload: workload.name, model: options.model.rawValue, device: backend.deviceDescription, batchSize: options.batchSize,
        imagesPerIteration: workload.imagesPerIteration, iterations: iterations, millisecondsMedian: median * 1e3,
        millisecondsMin: times.first! * 1e3,
        millisecondsMax: times.last! * 1e3, imagesPerSecond: Double(workload.imagesPerIteration) / median, flopsPerIteration: flops,
        flopCount:
            "2 × multiply-adds of every matmul, convolution, transposed convolution and weight-gradient convolution in the iteration's plans (\(options.criticSteps > 1 ? "\(options.criticSteps) critic steps + 1 generator step" : "one step")); elementwise ops, reductions and optimizer updates not counted",
        gflops: gflops, fractionOfGEMM: rates.gemmGFLOPs.map { gflops / $0 }, fractionOfMeasuredPeak: rates.peakGFLOPs.map { gflops / $0 },
        fractionOfNominalPeak: rates.nominalPeakGFLOPs.map { gflops / $0 }, setupSeconds: setup, firstIterationSeconds: first,
        peakDeviceBytes: profiling?.peakMemoryBytes,
        kernelMillisecondsPerIteration: kernels.map { $0.reduce(0) { $0 + $1.seconds } * 1e3 / Double(iterations) },
        topKernels: Array(kernels?.prefix(8) ?? []))
    result.devices = backends.count
    result.millisecondsMean = times.reduce(0, +) / Double(times.count) * 1e3
    if let group = run.replicaGroup, let (bytes, seconds, count) = reduced {
        let perIteration = 1 / Double(iterations)
        result.allReduceBytesPerIteration = Int(Double(group.bytesReduced - bytes) * perIteration)
        result.allReduceMillisecondsPerIteration = (group.secondsReducing - seconds) * 1e3 * perIteration
        result.allReducesPerIteration = Double(group.reductions - count) * perIteration
        result.device = devicesDescription(backends)
    }
    return result
}

/// The human-readable report of one workload.
public func formatBench(_ r: BenchResult) -> String {
    func percent(_ x: Double?) -> String { x.map { String(format: "%.1f %%", 100 * $0) } ?? "unknown" }
    var lines = [
        "\(r.workload) (\(r.model), batch \(r.batchSize), \(r.imagesPerIteration) images per iteration) on \(r.device)",
        String(
            format: "  %.1f ms/iteration (median of %d; min %.1f, max %.1f), %.1f images/s", r.millisecondsMedian, r.iterations,
            r.millisecondsMin, r.millisecondsMax, r.imagesPerSecond),
        String(format: "  %.2f GFLOP per iteration → %.2f GFLOP/s = ", r.flopsPerIteration / 1e9, r.gflops)
            + "\(percent(r.fractionOfGEMM)) of the device's GEMM, \(percent(r.fractionOfMeasuredPeak)) of its measured fp32 peak, \(percent(r.fractionOfNominalPeak)) of nominal",
        "  FLOPs: \(r.flopCount)",
        String(format: "  setup %.2f s, first iteration %.2f s", r.setupSeconds, r.firstIterationSeconds)
            + (r.peakDeviceBytes.map { String(format: ", peak device memory %.1f MiB", Double($0) / 1_048_576) } ?? ""),
    ]
    if let bytes = r.allReduceBytesPerIteration, let ms = r.allReduceMillisecondsPerIteration, let count = r.allReducesPerIteration {
        lines.append(
            String(
                format:
                    "  all-reduce: %.0f sums of %.2f MiB in all per iteration; device 1's reducer thread spent %.1f ms (%.0f %%) in them, beside the step, waits for the others included",
                count, Double(bytes) / 1_048_576, ms, 100 * ms / r.millisecondsMedian))
    }
    if let busy = r.kernelMillisecondsPerIteration {
        lines.append(
            String(
                format: "  kernels: %.1f ms of device time per iteration (%.0f %%); the rest is host work and launch gaps", busy,
                100 * busy / r.millisecondsMedian))
    }
    let total = r.topKernels.reduce(0) { $0 + $1.seconds }
    if !r.topKernels.isEmpty {
        lines.append("  top kernels over the timed iterations:")
        for k in r.topKernels {
            let rate = k.flops > 0 ? String(format: ", %.2f GFLOP/s", k.flops / max(k.seconds, 1e-12) / 1e9) : ""
            lines.append(
                "    " + k.name.padding(toLength: 26, withPad: " ", startingAt: 0)
                    + String(
                        format: "%7d × %9.2f ms total (%4.1f %% of the top)", k.count, k.seconds * 1e3, 100 * k.seconds / max(total, 1e-12))
                    + rate)
        }
    }
    return lines.joined(separator: "\n")
}

/// The data loader alone on a real folder: the decoding at startup, then the batches of a
/// run assembled on its prefetch thread (flips, and box filtering to a smaller `resolution`),
/// and the process's peak resident memory.
public struct LoaderBenchResult: Sendable {
    public var images: Int, skipped: Int
    public var decodeSeconds: Double
    public var batchesPerSecond: Double, imagesPerSecond: Double
    public var peakResidentMiB: Double

    public var description: String {
        String(
            format:
                "%d images decoded in %.1f s (%.0f images/s, %d skipped); batches: %.0f images/s (%.1f batches/s); peak resident memory %.0f MiB",
            images, decodeSeconds, Double(images) / max(decodeSeconds, 1e-9), skipped, imagesPerSecond, batchesPerSecond, peakResidentMiB)
    }
}

/// Times loading `path` at `size` and `steps` batches of `batchSize` at `resolution` (default: `size`).
public func benchLoader(_ path: String, size: Int, channels: Int, batchSize: Int, resolution: Int? = nil, steps: Int = 200) throws
    -> LoaderBenchResult
{
    let start = Date()
    let loaded = try loadExamples(path, for: "bench", kind: .images, size: size, channels: channels, holdOut: false, log: { _ in })
    let decodeSeconds = Date().timeIntervalSince(start)
    struct Spans: BatchSchedule {
        let totalSteps: Int, batch: Int, size: Int
        func totalSteps(epochs: Int, examples: Int) -> Int { totalSteps }
        func span(at step: Int) -> ImageSpan { ImageSpan(start: step * batch, count: batch, size: size) }
    }
    let loader = DataLoader(
        loaded.train, batchSize: batchSize, batchesPerStep: 1, seed: 1, flip: true, channels: channels, size: size,
        schedule: Spans(totalSteps: steps, batch: batchSize, size: resolution ?? size))
    _ = loader.take(0, prefetching: 1)  // a smaller resolution's copy is made here, as at a growth step
    let timed = Date()
    var checksum: Float = 0
    for step in 1...steps { checksum += loader.take(step, prefetching: step < steps ? step + 1 : nil)[0].images[0] }
    let seconds = Date().timeIntervalSince(timed)
    precondition(checksum.isFinite)
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return LoaderBenchResult(
        images: loaded.train.count, skipped: loaded.skipped.count, decodeSeconds: decodeSeconds, batchesPerSecond: Double(steps) / seconds,
        imagesPerSecond: Double(steps * batchSize) / seconds, peakResidentMiB: Double(usage.ru_maxrss) / 1024)
}

/// What a real run measured: `genocl train` with its defaults, the whole training loop.
public struct RealRunResult: Codable, Sendable {
    public var steps: Int
    public var images: Int
    /// Data loading and plan building, before the first step.
    public var setupSeconds: Double
    /// The loop: every step, metrics.csv, TensorBoard, progress, samples and checkpoints.
    public var loopSeconds: Double
    public var imagesPerSecond: Double
    /// The median of the loop's steps, each from the end of the one before (its metrics,
    /// outputs and checkpoint included).
    public var stepMillisecondsMedian: Double
    /// The same network's bench (synthetic data) just before and after the run, each of half
    /// as many iterations as the run's steps, so the benches span as much time as the run:
    /// their means (every step counts, as in the run's rate) and medians.
    public var benchImagesPerSecond: [Double]
    public var benchMillisecondsMedian: [Double]

    /// The run's rate over the benches': by their means, and by their median steps (a shared
    /// host's slow spells move means by 10–20 % from one minute to the next; medians hold).
    public var ratioOfMeans: Double { imagesPerSecond / max(mean(benchImagesPerSecond), 1e-9) }
    public var ratioOfMedians: Double { mean(benchMillisecondsMedian) / max(stepMillisecondsMedian, 1e-9) }

    public var description: String {
        String(
            format: """
                real run (genocl train's defaults: dcgan on fashion-mnist, batch 64): %d steps, %d images in %.1f s = %.1f images/s, median step %.1f ms (setup before the first step %.1f s)
                dcgan28 bench (the same network on synthetic data) before and after: %@ images/s (mean step), median step %@ ms
                real / bench: %.2f by the means, %.2f by the median steps
                """, steps, images, loopSeconds, imagesPerSecond, stepMillisecondsMedian, setupSeconds,
            benchImagesPerSecond.map { String(format: "%.1f", $0) }.joined(separator: ", "),
            benchMillisecondsMedian.map { String(format: "%.1f", $0) }.joined(separator: ", "), ratioOfMeans, ratioOfMedians)
    }

    private func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(max(values.count, 1)) }
}

/// Times set from a callback.
private final class LockedTimes: @unchecked Sendable {
    private let lock = NSLock()
    private var times: [Date] = []
    func append(_ value: Date) { lock.withLock { times.append(value) } }
    func get() -> [Date] { lock.withLock { times } }
}

/// Runs `genocl train`'s default run (`steps`, or one epoch) into a temporary folder on `backends`,
/// as a user runs it, between two benches of its network (`dcgan28`) of at least
/// `benchIterations` iterations each, and reports both.
public func runRealBench(steps: Int?, benchIterations: Int, backends: [any Backend]) throws -> RealRunResult {
    let workload = BenchWorkload.all.first { $0.name == "dcgan28" }!
    let rates = DeviceRates(device: backends[0].deviceDescription)
    var options = TrainOptions()
    options.steps = steps
    // The default run: its epochs of Fashion-MNIST's 60,000 training images, whole batches.
    let runSteps = steps ?? options.epochs * (60_000 / options.batchSize)
    func bench() throws -> (imagesPerSecond: Double, millisecondsMedian: Double) {
        let result = try runBench(workload, iterations: max(benchIterations, runSteps / 2), warmup: 2, backends: backends, rates: rates)
        return (Double(result.imagesPerIteration) / result.millisecondsMean! * 1e3, result.millisecondsMedian)
    }
    let before = try bench()
    let folder = NSTemporaryDirectory() + "genocl-real-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var settings = RunSettings(folder: folder)
    settings.interactive = false
    let marks = LockedTimes()
    settings.loopStarts = { marks.append(Date()) }
    settings.stepEnds = { marks.append(Date()) }
    let start = Date()
    let history = try train(options, settings: settings, backends: backends, log: { _ in })
    let end = Date()
    let times = marks.get()
    let loop = end.timeIntervalSince(times.first ?? start)
    let stepTimes = zip(times.dropFirst(), times).map { $0.timeIntervalSince($1) * 1e3 }.sorted()
    let images = history.count * options.batchSize
    let after = try bench()
    return RealRunResult(
        steps: history.count, images: images, setupSeconds: end.timeIntervalSince(start) - loop, loopSeconds: loop,
        imagesPerSecond: Double(images) / loop, stepMillisecondsMedian: stepTimes.isEmpty ? 0 : median(ofSorted: stepTimes),
        benchImagesPerSecond: [before.imagesPerSecond, after.imagesPerSecond],
        benchMillisecondsMedian: [before.millisecondsMedian, after.millisecondsMedian])
}

// `genocl evaluate`: a generator's quality in numbers. Draws samples from a run (or reads
// a folder of images), encodes them and the reference images with a feature network on
// the device, and reports FID, KID, precision/recall and, where the network classifies,
// the Inception Score, the mean top-class confidence and the class histogram. Writes
// evaluation.json and histogram.png/.svg; the reference's statistics are cached, keyed by
// the data, the network's digest and the preprocessing.
import Datasets
import Evaluation
import Foundation
import GenerativeModels
import NeuralNet
import Plots
import TensorGraph

public struct EvaluateOptions: Sendable {
    /// A generator run (or checkpoint) to draw samples from.
    public var checkpoint: String?
    /// Or images to evaluate: a folder, CSV or IDX folder (its `imagesSplit`: train or t10k).
    public var images: String?
    public var imagesSplit = "train"
    /// The real images (default: the run's training data).
    public var reference: String?
    public var referenceSplit = "train"
    public var count = 10000
    /// `classifier:RUN`.
    public var features: String
    public var movingAverage = true
    public var seed: UInt64 = 1
    /// Where evaluation.json goes (default: the run folder, else the current folder).
    public var output: String?
    public var kidSubsets = 100, kidSubsetSize = 1000, neighbours = 3, splits = 10
    /// The size images of `--images` and the reference are loaded at (nil: the run's
    /// `--image-size`, else the feature network's input size).
    public var imageSize: Int?
    /// Where reference statistics are cached (nil: `$GENOCL_CACHE_DIR`, `$XDG_CACHE_HOME/genocl`, `~/.cache/genocl`).
    public var cacheDirectory: String?
    public init(features: String) { self.features = features }
}

/// What evaluation.json holds.
public struct EvaluationReport: Codable, Sendable {
    public struct Network: Codable, Sendable {
        public var name: String, sha256: String, dimension: Int, imageSize: Int, channels: Int
        public var classes: Int?
        /// A genocl classifier's held-out test accuracy at its last epoch.
        public var testAccuracy: Float?
    }
    public struct Histogram: Codable, Sendable {
        public var classNames: [String], counts: [Int], referenceCounts: [Int]
        public var meanConfidence: Double, entropy: Double, maximumEntropy: Double
        /// The most frequent classes and the count of the rest.
        public var top: [String: Int], other: Int
    }
    public var samples: String, sampleCount: Int
    public var reference: String, referenceCount: Int, referenceDigest: String
    public var featureNetwork: Network
    public var preprocessing: String
    public var fid: Double, kid: Double, kidStandardDeviation: Double, kidSubsets: Int, kidSubsetSize: Int
    public var precision: Double, recall: Double, neighbours: Int
    public var inceptionScore: Double?, inceptionScoreStandardDeviation: Double?
    public var histogram: Histogram?
    public var seconds: Double
    public var genoclVersion: String
}

/// Evaluates `options` on `backend`; writes evaluation.json and the histogram; returns the report and the files written.
public func evaluate(_ options: EvaluateOptions, backend: any Backend, log: (String) -> Void) throws -> (EvaluationReport, [String]) {
    let start = Date()
    guard (options.checkpoint == nil) != (options.images == nil) else {
        throw EvaluationError("give either --checkpoint RUN (samples drawn from a generator) or --images PATH (images to judge)")
    }
    guard options.count >= 2 else {
        throw EvaluationError("--count \(options.count): evaluation needs at least 2 samples (10,000 is usual)")
    }
    let session = Session(backend: backend)
    let network = try FeatureNetwork(options.features, session: session)

    // The samples, drawn (or read) batch by batch as the network encodes them.
    var runData: String?
    let samples: ImageSource, described: String
    var heldOutTargets: ReferenceFeatures?
    if let checkpoint = options.checkpoint {
        let sampler = try loadSampler(checkpoint, movingAverage: options.movingAverage)
        runData = sampler.options.data
        let (c, s) = (sampler.options.channels, sampler.options.imageSize)
        if case .translation(let translate) = sampler.sampling {
            // An image-to-image model: its translations of the held-out inputs against their targets.
            let pairs = try heldOutPairs(sampler.options, count: options.count)
            samples = try translated(pairs.inputs, count: pairs.count, options: sampler.options, translate: translate, session: session)
            let encodedTargets = try network(ImageSource(pairs.targets, channels: c, size: s))
            heldOutTargets = try ReferenceFeatures(
                key: "held-out targets of \(sampler.options.data)",
                statistics: GaussianStatistics(FeatureSet(encodedTargets.features, dimension: network.dimension)),
                vectors: encodedTargets.features.map(Double.init), histogram: nil)
            described =
                "translations of \(pairs.count) held-out inputs of \(sampler.options.data) by \((checkpoint as NSString).standardizingPath)"
        } else {
            samples = try drawnSamples(sampler, count: options.count, seed: options.seed, session: session)
            described =
                "\(options.count) samples of \((checkpoint as NSString).standardizingPath)\(options.movingAverage ? "" : " (--no-ema)")"
        }
    } else {
        let path = options.images!
        let size = options.imageSize ?? network.imageSize
        let set = try TrainingSet(path, size: size, channels: network.channels, split: options.imagesSplit)
        samples = ImageSource(bytes: set.bytes, count: min(options.count, set.count), channels: network.channels, size: size)
        described = "\(samples.count) images of \(path)\(options.imagesSplit == "train" ? "" : " (\(options.imagesSplit))")"
    }
    let sampleCount = samples.count
    try checkSampleCount(sampleCount, network: network, flag: "--count")
    log("encoding \(sampleCount) samples with \(network.name)")
    let encoded = try network(samples, log: log)
    let fake = FeatureSet(encoded.features, dimension: network.dimension)

    // The reference: from the cache, or encoded now.
    guard let referencePath = heldOutTargets != nil ? "the held-out targets" : options.reference ?? runData else {
        throw EvaluationError("--images needs --reference DATA: the real images to compare with")
    }
    // The reference as the run loads its data (or at --image-size), resized by the network as the samples are.
    let reference =
        try heldOutTargets
        ?? referenceFeatures(
            referencePath, split: options.referenceSplit, size: options.imageSize ?? samples.size, network: network, options: options,
            log: log)
    let real = FeatureSet(reference.vectors, dimension: network.dimension)
    log("statistics of \(sampleCount) samples against \(reference.statistics.count) reference images")
    let fid = try frechetDistance(try GaussianStatistics(fake), reference.statistics)
    let kid = try kernelInceptionDistance(real, fake, subsets: options.kidSubsets, subsetSize: options.kidSubsetSize, seed: options.seed)
    let (precision, recall) = try precisionRecall(real, fake, k: options.neighbours)

    var report = EvaluationReport(
        samples: described, sampleCount: sampleCount,
        reference: referencePath + (options.referenceSplit == "train" ? "" : " (\(options.referenceSplit))"),
        referenceCount: reference.statistics.count, referenceDigest: reference.key,
        featureNetwork: .init(
            name: network.name, sha256: network.digest, dimension: network.dimension, imageSize: network.imageSize,
            channels: network.channels, classes: network.classes, testAccuracy: network.testAccuracy),
        preprocessing: network.preprocessing, fid: fid, kid: kid.mean, kidStandardDeviation: kid.standardDeviation,
        kidSubsets: options.kidSubsets, kidSubsetSize: min(options.kidSubsetSize, sampleCount, real.count), precision: precision,
        recall: recall, neighbours: options.neighbours, seconds: 0, genoclVersion: genoclVersion)
    var written: [String] = []
    let folder = options.output ?? options.checkpoint.map(runFolder(of:)) ?? "."
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    if let probabilities = encoded.probabilities, let names = network.classNames {
        let p = FeatureSet(probabilities, dimension: names.count)
        let score = try inceptionScore(p, splits: min(options.splits, sampleCount))
        (report.inceptionScore, report.inceptionScoreStandardDeviation) = (score.mean, score.standardDeviation)
        let histogram = ClassHistogram(p)
        let top = histogram.top(10)
        report.histogram = .init(
            classNames: names, counts: histogram.counts, referenceCounts: reference.histogram ?? [],
            meanConfidence: histogram.meanConfidence,
            entropy: histogram.entropy, maximumEntropy: histogram.maximumEntropy,
            top: Dictionary(uniqueKeysWithValues: top.classes.map { (names[$0.index], $0.count) }), other: top.other)
        // The histogram, largest first, with where the reference's share would put each class.
        let shown =
            top.classes.map { (label: names[$0.index], value: Double($0.count)) } + (top.other > 0 ? [("other", Double(top.other))] : [])
        var chart = BarChart(
            title:
                "\(sampleCount) samples as \(network.name.split(separator: "/").last.map { "classifier " + $0 } ?? network.name) classifies them",
            valueTitle: "samples", bars: shown)
        if let counts = reference.histogram, counts.count == names.count {
            let total = Double(counts.reduce(0, +))
            let expected = top.classes.map { Double(counts[$0.index]) / total * Double(sampleCount) }
            let rest = Double(sampleCount) - expected.reduce(0, +)
            chart.reference = expected + (top.other > 0 ? [rest] : [])
            chart.referenceName = "if the samples followed the reference's classes"
        }
        _ = try writeChart(chart, to: folder + "/histogram")
        written += [folder + "/histogram.png", folder + "/histogram.svg"]
    }
    report.seconds = Date().timeIntervalSince(start)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    try writeAtomically(Array(try encoder.encode(report)), to: folder + "/evaluation.json")
    return (report, [folder + "/evaluation.json"] + written)
}

/// The run folder of a checkpoint path (a run folder, its checkpoints/, or a checkpoint in it).
private func runFolder(of path: String) -> String {
    var folder = (path as NSString).standardizingPath
    for _ in 0..<3 where !FileManager.default.fileExists(atPath: folder + "/config.json") {
        folder = (folder as NSString).deletingLastPathComponent
    }
    return FileManager.default.fileExists(atPath: folder + "/config.json") ? folder : (path as NSString).standardizingPath
}

/// `count` images of a generator from seeded normal latents (conditional models: classes in turn).
func drawnSamples(_ sampler: Sampler, count: Int, seed: UInt64, session: Session) throws -> ImageSource {
    guard let decode = sampler.decode else {
        throw EvaluationError(
            "\(sampler.options.model.rawValue) does not draw samples from latents; evaluate its outputs with --images FOLDER --reference DATA"
        )
    }
    let (nz, batch) = (sampler.options.latentSize, min(count, samplingChunk(size: sampler.options.imageSize)))
    let graph = Graph()
    let z = graph.placeholder("z", [batch, nz])
    let labels = sampler.conditional ? graph.placeholder("labels", [batch]) : nil
    let plan = try session.plan(fetches: [decode(z, labels, ForwardContext(training: false))])
    return latentSamples(
        plan, count: count, channels: sampler.options.channels, size: sampler.options.imageSize, latentSize: nz,
        classes: sampler.conditional ? sampler.classes : nil, seed: seed)
}

/// FID needs at least as many samples as feature dimensions (else the covariance is singular and FID biased).
func checkSampleCount(_ count: Int, network: FeatureNetwork, flag: String) throws {
    guard count >= network.dimension else {
        throw EvaluationError(
            "\(flag) \(count): FID with \(network.name)'s \(network.dimension)-d features needs at least \(network.dimension) samples (their covariance is singular below that); use \(flag) \(max(10000, network.dimension * 2))"
        )
    }
}

/// A translation run's held-out pairs (val/ or test/, else a few training pairs), at most `count`.
private func heldOutPairs(_ options: TrainOptions, count: Int) throws -> (inputs: [Float], targets: [Float], count: Int) {
    let loaded = try loadExamples(
        options.data, for: options.model.rawValue, kind: .pairs, size: options.imageSize, channels: options.channels,
        reversedPairs: options.direction == .bToA, holdOut: true, log: { _ in })
    guard let pairs = loaded.heldOut, pairs.count >= 2 else {
        throw EvaluationError("\(options.data): no held-out pairs to translate (give it a val/ or test/ folder)")
    }
    let kept = pairs.subset(Array(0..<min(count, pairs.count)))
    return (kept.images, kept.targets ?? [], kept.count)
}

/// `inputs` (`[N, C, S, S]`) through a translation network, a chunk at a time.
private func translated(_ inputs: [Float], count: Int, options: TrainOptions, translate: (Tensor) -> Tensor, session: Session) throws
    -> ImageSource
{
    let (c, s) = (options.channels, options.imageSize)
    let chunk = min(count, samplingChunk(size: s)), per = c * s * s
    let graph = Graph()
    let plan = try session.plan(fetches: [translate(graph.placeholder("inputs", [chunk, c, s, s]))])
    var start = 0
    return ImageSource(count: count, channels: c, size: s) {
        let n = min(chunk, count - start)
        let values = Array(inputs[(start * per)..<((start + n) * per)]) + [Float](repeating: 0, count: (chunk - n) * per)
        start += n
        return Array(try plan.run(["inputs": values])[0].prefix(n * per))
    }
}

/// Images of `size`×`size` a sampling plan makes at a time: 250 up to 64×64, fewer for larger
/// images (16 at 256×256), whose generators' activations and convolution scratch grow with the pixels.
public func samplingChunk(size: Int) -> Int { max(1, min(250, 16 * (256 * 256) / max(size * size, 1))) }

/// `count` images of `plan`, fed `z [batch, nz]` of normal latents from `seed` (and where
/// `classes` is given `labels [batch]`, the classes in turn), a batch at a time.
func latentSamples(_ plan: Plan, count: Int, channels: Int, size: Int, latentSize nz: Int, classes: Int?, seed: UInt64) -> ImageSource {
    let batch = plan.feedShape("z")![0]
    var rng = SplitMix64(seed: seed)
    var start = 0
    return ImageSource(count: count, channels: channels, size: size) {
        var feeds = ["z": (0..<(batch * nz)).map { _ in rng.normal() }]
        if let classes { feeds["labels"] = (0..<batch).map { Float((start + $0) % classes) } }
        start += batch
        return try plan.run(feeds)[0]
    }
}

/// FID, KID and precision/recall of a run's generator every `--eval-every` steps, against
/// the run's data: the feature network and the reference's statistics are made once.
public final class TrainingEvaluator {
    public static let metricNames = ["fid", "kid", "precision", "recall"]
    private let network: FeatureNetwork
    private let reference: ReferenceFeatures
    private let settings: TrainingEvaluation
    private let options: TrainOptions

    public init(_ options: TrainOptions, backend: any Backend, log: (String) -> Void) throws {
        guard let settings = options.evaluation else { throw EvaluationError("the run has no --eval-every") }
        (self.settings, self.options) = (settings, options)
        network = try FeatureNetwork(settings.features, session: Session(backend: backend))
        try checkSampleCount(settings.count, network: network, flag: "--eval-count")
        var referenceOptions = EvaluateOptions(features: settings.features)
        (referenceOptions.count, referenceOptions.seed) = (settings.count, options.seed)
        reference = try referenceFeatures(
            options.data, split: "train", size: options.imageSize, network: network, options: referenceOptions, log: log)
    }

    /// The numbers of `metricNames` for the run's generator as it is now.
    public func measure(_ run: TrainingRun) throws -> [Double] {
        guard let samples = try run.currentSamples(count: settings.count, seed: options.seed ^ 0xE7A1) else { return [] }
        let encoded = try network(samples)
        let fake = FeatureSet(encoded.features, dimension: network.dimension)
        let real = FeatureSet(reference.vectors, dimension: network.dimension)
        let kid = try kernelInceptionDistance(real, fake, subsets: 100, subsetSize: 1000, seed: options.seed)
        let (precision, recall) = try precisionRecall(real, fake)
        return [try frechetDistance(try GaussianStatistics(fake), reference.statistics), kid.mean, precision, recall]
    }
}

/// The report's numbers for people, one per line.
public func evaluationSummary(_ r: EvaluationReport) -> String {
    var lines = [
        "\(r.samples) against \(r.referenceCount) images of \(r.reference), features of \(r.featureNetwork.name) (\(r.featureNetwork.dimension)-d)",
        String(format: "FID %.3f", r.fid),
        String(format: "KID %.5f ± %.5f (%d subsets of %d)", r.kid, r.kidStandardDeviation, r.kidSubsets, r.kidSubsetSize),
        String(format: "precision %.3f  recall %.3f (k = %d)", r.precision, r.recall, r.neighbours),
    ]
    if let score = r.inceptionScore, let spread = r.inceptionScoreStandardDeviation, let h = r.histogram {
        lines.append(String(format: "Inception Score %.3f ± %.3f (of the classifier's classes)", score, spread))
        lines.append(
            String(
                format: "mean top-class confidence %.3f; class entropy %.3f of at most %.3f nats", h.meanConfidence, h.entropy,
                h.maximumEntropy))
        let ranked = h.top.filter { $0.value > 0 }.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        lines.append(
            "classes: " + (ranked.map { "\($0.key) \($0.value)" } + (h.other > 0 ? ["other \(h.other)"] : [])).joined(separator: ", "))
    }
    return lines.joined(separator: "\n")
}

// The feature networks of evaluation (the FID Inception-v3, a classifier genocl trained)
// as device plans, and the reference images' features they make, cached on disk.
import Datasets
import Evaluation
import Foundation
import GenerativeModels
import NeuralNet
import TensorGraph

/// A network that maps images to feature vectors (and class probabilities), on a device:
/// the FID Inception-v3 (`inception`, `inception:FILE`) or a classifier genocl trained (`classifier:RUN`).
final class FeatureNetwork {
    let name: String, digest: String, imageSize: Int, channels: Int, dimension: Int
    let classNames: [String]?
    let testAccuracy: Float?
    private let plan: Plan
    let batch: Int
    /// Bilinear (pytorch-fid's resize) rather than area averaging when shrinking.
    private let bilinear: Bool

    init(_ spec: String, session: Session) throws {
        let graph = Graph()
        let context = ForwardContext(training: false)
        let outputs: (features: Tensor, logits: Tensor)
        if spec == "inception" || spec.hasPrefix("inception:") {
            let given =
                spec == "inception" ? ProcessInfo.processInfo.environment["GENOCL_INCEPTION"] : String(spec.dropFirst("inception:".count))
            guard let path = given, !path.isEmpty else {
                throw EvaluationError(
                    "--features inception needs the FID Inception-v3 weights: give inception:FILE or set GENOCL_INCEPTION=FILE (tools/convert-inception turns pytorch-fid's pt_inception-2015-12-05-6726825d.pth into FILE)"
                )
            }
            let bytes = try readWeightsFile(path)
            digest = sha256Hex(bytes)
            let network = FIDInceptionV3()
            do {
                try load(try decodeSafetensors(bytes, path: path), into: network.module.stateDict(), path: path)
            } catch {
                throw EvaluationError("\(error) (SHA-256 \(digest); make the file with tools/convert-inception)")
            }
            (name, imageSize, channels, dimension, batch, bilinear) = (
                "inception-v3-fid", FIDInceptionV3.inputSize, 3, FIDInceptionV3.features, 25, true
            )
            (classNames, testAccuracy) = ((0..<FIDInceptionV3.classes).map { "class \($0)" }, nil)
            outputs = network(graph.placeholder("images", [batch, 3, imageSize, imageSize]), context)
        } else if spec.hasPrefix("classifier:") {
            let path = String(spec.dropFirst("classifier:".count))
            guard let config = runConfig(near: path), config.options.model == .classifier else {
                throw EvaluationError(
                    "\(spec): \(path) is not a classifier run (no config.json of --model classifier); train one with genocl train --model classifier --data DIR"
                )
            }
            let (checkpoint, folder) = try Checkpoint.load(path)
            guard let weights = checkpoint.files.first(where: { $0.name == "netC" })?.file else {
                throw EvaluationError("\(path): its checkpoint has no netC.safetensors")
            }
            let model = try ModelKind.classifier.make(config.options, classes: config.classes) as! Classifier
            try load(weights, into: model.module.stateDict(), path: path)
            digest = sha256Hex(try readWeightsFile(folder + "/netC.safetensors"))
            name = "classifier:" + (path as NSString).standardizingPath
            (imageSize, channels, dimension, batch, bilinear) = (
                model.config.imageSize, model.config.channels, model.config.features, 200, false
            )
            // 0: never measured (a run shorter than an epoch).
            testAccuracy = model.heldOutAccuracy.test > 0 ? model.heldOutAccuracy.test : nil
            classNames = classNamesOf(config.options.data, classes: config.classes)
            let features = model.features(graph.placeholder("images", [batch, channels, imageSize, imageSize]), context)
            outputs = (features, model.logits(features: features, context))
        } else {
            throw EvaluationError(
                "--features \(spec): give inception (or inception:FILE) or classifier:RUN (a run of genocl train --model classifier)")
        }
        plan = try session.plan(fetches: [outputs.features, softmax(outputs.logits)])
    }

    var classes: Int? { classNames?.count }

    /// The feature vectors (and class probabilities) of `count` images `[N, c, s, s]` in [−1, 1],
    /// each resized to this network's size and channels batch by batch.
    func callAsFunction(_ source: ImageSource, log: (String) -> Void = { _ in }) throws -> (features: [Float], probabilities: [Float]?) {
        let perInput = channels * imageSize * imageSize
        var features: [Float] = [], probabilities: [Float] = []
        let start = Date()
        var logged = start
        for first in stride(from: 0, to: source.count, by: batch) {
            let n = min(batch, source.count - first)
            // The last batch is filled up with zeros; only its real rows are kept.
            var values = prepared(try source.images(first..<(first + n)), channels: source.channels, size: source.size)
            values += [Float](repeating: 0, count: (batch - n) * perInput)
            let out = try plan.run(["images": values])
            features += out[0].prefix(n * dimension)
            if let k = classes { probabilities += out[1].prefix(n * k) }
            if Date().timeIntervalSince(logged) > 30 {
                let rate = Double(first + n) / Date().timeIntervalSince(start)
                log(String(format: "  %d of %d images (%.1f/s)", first + n, source.count, rate))
                logged = Date()
            }
        }
        return (features, classes == nil ? nil : probabilities)
    }

    /// `images` (`[N, c, s, s]` in [−1, 1]) at this network's size and channels.
    private func prepared(_ images: [Float], channels c: Int, size s: Int) -> [Float] {
        guard c != channels || s != imageSize else { return images }
        let per = c * s * s
        return (0..<(images.count / per)).flatMap { i in
            let image = Image(channels: c, height: s, width: s, pixels: Array(images[(i * per)..<((i + 1) * per)]))
            let resized: Image =
                bilinear ? image.bilinearResized(height: imageSize, width: imageSize) : image.resized(height: imageSize, width: imageSize)
            return resized.withChannels(channels).pixels
        }
    }

    var preprocessing: String {
        let filter =
            bilinear
            ? "bilinear (align_corners=False, no antialiasing: pytorch-fid's F.interpolate)"
            : "area averaging when shrinking, bilinear with align_corners=False when growing"
        return
            "images in [-1, 1] resized to \(imageSize)×\(imageSize) by \(filter), \(channels == 1 ? "gray (ITU-R 601 luma)" : "RGB (gray repeated)")"
    }
}

/// `count` images `[N, channels, size, size]` in [−1, 1], handed out by consecutive ranges (a
/// feature network's batches), so that no more of them than a batch or two is held as floats:
/// samples drawn chunk by chunk, stored bytes made floats as they are read.
struct ImageSource {
    let count: Int, channels: Int, size: Int
    let images: (Range<Int>) throws -> [Float]

    init(count: Int, channels: Int, size: Int, images: @escaping (Range<Int>) throws -> [Float]) {
        (self.count, self.channels, self.size, self.images) = (count, channels, size, images)
    }

    /// Images already in memory.
    init(_ values: [Float], channels: Int, size: Int) {
        let per = channels * size * size
        self.init(count: values.count / per, channels: channels, size: size) {
            Array(values[($0.lowerBound * per)..<($0.upperBound * per)])
        }
    }

    /// Images stored as bytes (a training set's).
    init(bytes: [UInt8], count: Int, channels: Int, size: Int) {
        let per = channels * size * size
        self.init(count: count, channels: channels, size: size) { dequantized(bytes[($0.lowerBound * per)..<($0.upperBound * per)]) }
    }

    /// Images that `next` makes a chunk at a time, in order.
    init(count: Int, channels: Int, size: Int, chunks next: @escaping () throws -> [Float]) {
        let per = channels * size * size
        let pending = Pending()
        self.init(count: count, channels: channels, size: size) { range in
            while pending.values.count < range.count * per { pending.values += try next() }
            defer { pending.values.removeFirst(range.count * per) }
            return Array(pending.values.prefix(range.count * per))
        }
    }

    private final class Pending { var values: [Float] = [] }
}

/// The bytes of a weights file, or an error that names it.
private func readWeightsFile(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else { throw EvaluationError("\(path): no such readable file") }
    return [UInt8](data)
}

/// The class names of a run's data: Fashion-MNIST's, a folder's sub-folders, or the indices.
private func classNamesOf(_ data: String, classes: Int) -> [String] {
    if classes == 10 && (data == defaultFashionMNISTDirectory || data.lowercased().contains("fashion")) { return fashionMNISTClasses }
    if DataLayout(data) == .imageFolder, let folder = try? ImageFolder(data), folder.classes.count == classes { return folder.classes }
    return (0..<classes).map(String.init)
}

/// The reference's feature statistics, as cached: a JSON header line, then the mean, the
/// covariance and the chosen vectors as little-endian doubles.
struct ReferenceFeatures {
    var key: String
    var statistics: GaussianStatistics
    /// A seeded choice of the reference's feature vectors (KID, precision/recall).
    var vectors: [Double]
    var histogram: [Int]?

    private struct Header: Codable {
        var key: String, count: Int, dimension: Int, vectors: Int, histogram: [Int]?
    }

    var encoded: [UInt8] {
        let d = statistics.dimension
        let header = Header(key: key, count: statistics.count, dimension: d, vectors: vectors.count / d, histogram: histogram)
        let values = statistics.mean + statistics.covariance + vectors
        return Array((try! JSONEncoder().encode(header))) + [10] + values.withUnsafeBytes { Array($0) }
    }

    init(key: String, statistics: GaussianStatistics, vectors: [Double], histogram: [Int]?) {
        (self.key, self.statistics, self.vectors, self.histogram) = (key, statistics, vectors, histogram)
    }

    init?(encoded bytes: [UInt8]) {
        guard let newline = bytes.firstIndex(of: 10), let header = try? JSONDecoder().decode(Header.self, from: Data(bytes[..<newline]))
        else {
            return nil
        }
        let d = header.dimension
        let total = d + d * d + header.vectors * d
        guard bytes.count - newline - 1 == total * 8 else { return nil }
        var values = [Double](repeating: 0, count: total)
        values.withUnsafeMutableBytes { target in bytes[(newline + 1)...].withUnsafeBytes { target.copyMemory(from: $0) } }
        statistics = GaussianStatistics(count: header.count, mean: Array(values[0..<d]), covariance: Array(values[d..<(d + d * d)]))
        (key, vectors, histogram) = (header.key, Array(values[(d + d * d)...]), header.histogram)
    }
}

/// The reference's features: cached under a key of the data (its bytes' digest), the network's
/// digest and the preprocessing; encoded and cached when not there.
func referenceFeatures(
    _ path: String, split: String, size: Int, network: FeatureNetwork, options: EvaluateOptions, log: (String) -> Void
)
    throws -> ReferenceFeatures
{
    let set = try TrainingSet(path, size: size, channels: network.channels, split: split)
    guard set.count >= 2 else {
        throw EvaluationError("\(path): \(set.count) reference image(s); FID needs at least 2 (thousands are usual)")
    }
    let key = sha256Hex(
        Array(
            "\(String(crc32c(set.bytes), radix: 16))|\(set.count)|\(size)|\(network.digest)|\(network.preprocessing)|\(options.count)|\(options.seed)"
                .utf8))
    let folder = (options.cacheDirectory ?? defaultCacheDirectory()) + "/reference"
    let file = folder + "/" + key.prefix(32) + ".features"
    if let data = FileManager.default.contents(atPath: file), let cached = ReferenceFeatures(encoded: [UInt8](data)), cached.key == key {
        log("reference statistics from the cache (\(file))")
        return cached
    }
    log("encoding \(set.count) reference images of \(path) with \(network.name)")
    let encoded = try network(ImageSource(bytes: set.bytes, count: set.count, channels: network.channels, size: size), log: log)
    let all = FeatureSet(encoded.features, dimension: network.dimension)
    var rng = SplitMix64(seed: options.seed ^ 0x5EF)
    let chosen = Array((0..<set.count).shuffled(using: &rng).prefix(options.count)).sorted()
    let histogram = encoded.probabilities.map { ClassHistogram(FeatureSet($0, dimension: network.classes!)).counts }
    let features = ReferenceFeatures(
        key: key, statistics: try GaussianStatistics(all), vectors: all.rows(chosen).values, histogram: histogram)
    do {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try writeAtomically(features.encoded, to: file)
    } catch {
        log("warning: could not cache the reference statistics in \(folder) (\(error)); the next evaluation encodes them again")
    }
    return features
}

/// genocl's cache folder: `$GENOCL_CACHE_DIR`, else `$XDG_CACHE_HOME/genocl`, else `~/.cache/genocl`.
func defaultCacheDirectory() -> String {
    let environment = ProcessInfo.processInfo.environment
    if let dir = environment["GENOCL_CACHE_DIR"], !dir.isEmpty { return dir }
    if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/genocl" }
    return NSHomeDirectory() + "/.cache/genocl"
}

/// `genocl features --network inception:FILE|classifier:RUN`: the feature vectors (`--layer pool`)
/// or class probabilities (`probabilities`) of images `[N, C, H, W]` in [−1, 1] from a .npy
/// file, resized as evaluation resizes them; returns the shape written.
public func evaluationFeatures(network spec: String, layer: String, input: String, output: String, backend: any Backend) throws -> [Int] {
    guard ["pool", "probabilities"].contains(layer) else { throw EvaluationError("--layer \(layer): pool or probabilities") }
    guard let data = FileManager.default.contents(atPath: input) else { throw DatasetError("--input \(input): no such readable file") }
    let (values, shape) = try decodeNpy([UInt8](data), path: input)
    guard shape.count == 4, [1, 3].contains(shape[1]), shape[2] == shape[3], shape[2] >= 1, shape[0] >= 1 else {
        throw DatasetError("\(input): images of shape \(shape); expected [N, 1 or 3, S, S]")
    }
    let network = try FeatureNetwork(spec, session: Session(backend: backend))
    let encoded = try network(ImageSource(values, channels: shape[1], size: shape[2]))
    let result = layer == "pool" ? encoded.features : encoded.probabilities ?? []
    let columns = layer == "pool" ? network.dimension : network.classes ?? 0
    try writeAtomically(encodeNpy(result, shape: [shape[0], columns]), to: output)
    return [shape[0], columns]
}

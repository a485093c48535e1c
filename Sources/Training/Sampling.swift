// `genocl sample`: images from a trained model — grids or single PNGs, raw floats
// as .npy, latent interpolation strips — with normal, truncated-normal or given
// latent vectors; one row per class for the conditional models; for VAEs, latents
// drawn from k-means clusters of encoded training images (the dogs study's CVAE
// sampling) or perturbations of one image's latent; for pix2pix, translations of
// given images.
import Datasets
import Foundation
import GenerativeModels
import NeuralNet
import TensorGraph

public struct SampleOptions: Sendable {
    public var checkpoint: String
    /// Sample the generator's moving average (netG_ema) where the run kept one.
    public var movingAverage = true
    public var count = 64
    public var output = "samples"
    /// Sample z from a normal truncated to ±truncation.
    public var truncation: Float?
    /// Latent vectors `[N, nz]` (or `[N, nz, 1, 1]`) from a .npy file instead of noise.
    public var latents: String?
    public var saveNpy = false
    /// Steps of each interpolation strip between consecutive latents (0: none).
    public var interpolate = 0
    public var single = false
    public var seed: UInt64 = 1
    /// Conditional models: the class of every image (nil: one grid row per class).
    public var classLabel: Int?
    /// VAEs: draw latents from this many k-means clusters of the encoded training images (0: the prior).
    public var clusters = 0
    /// VAEs: pass each sample back through encoder and decoder this many times.
    public var refine = 0
    /// VAEs: an image whose latent is perturbed, with noise of standard deviation `noise`.
    public var perturb: String?
    public var noise: Float = 0.5
    /// pix2pix: an image or a folder of images to translate.
    public var input: String?
    /// A super-resolution run to pass the samples through (`genocl sample --upscale`).
    public var upscale: String?
    public init(checkpoint: String) { self.checkpoint = checkpoint }

    /// The most images one call makes (latents × interpolation steps).
    public static let maximumImages = 16384
}

/// A trained model, ready to generate.
struct Sampler {
    var options: TrainOptions
    var classes: Int
    var sampling: Sampling
    var conditional: Bool { options.isConditional }

    /// `z [N, nz]` (and labels `[N]`) → images, or nil for a model that translates.
    var decode: ((Tensor, Tensor?, ForwardContext) -> Tensor)? {
        if case .latent(let decode, _) = sampling { return decode }
        return nil
    }
    /// VAEs: images (and labels) → latent means.
    var encode: ((Tensor, Tensor?, ForwardContext) -> Tensor)? {
        if case .latent(_, let encode) = sampling { return encode }
        return nil
    }
}

/// Finds the run's config.json at or above `folder`.
func runConfig(near folder: String) -> RunConfig? {
    var folder = (folder as NSString).standardizingPath
    for _ in 0..<4 {
        if let data = FileManager.default.contents(atPath: folder + "/config.json"),
            let config = try? JSONDecoder().decode(RunConfig.self, from: data)
        {
            return config
        }
        folder = (folder as NSString).deletingLastPathComponent
    }
    return nil
}

/// Loads the model of `path`: a run folder, checkpoints folder, checkpoint folder, or a generator .safetensors file.
func loadSampler(_ path: String, movingAverage: Bool = true) throws -> Sampler {
    let bare = path.hasSuffix(".safetensors") ? path : nil
    var folder = bare.map { ($0 as NSString).deletingLastPathComponent } ?? path
    let networkNames = Set(ModelKind.registered.flatMap { $0.samplingNetworks } + ["netG_ema"])
    var files: [String: SafetensorsFile] = [:]
    if let bare {
        files[""] = try readSafetensors(bare).withoutDataParallelPrefix
    } else if networkNames.contains(where: { FileManager.default.fileExists(atPath: "\(folder)/\($0).safetensors") }) {
        for name in networkNames where FileManager.default.fileExists(atPath: "\(folder)/\(name).safetensors") {
            files[name] = try readSafetensors("\(folder)/\(name).safetensors").withoutDataParallelPrefix
        }
    } else {
        let (checkpoint, found) = try Checkpoint.load(path)
        for (name, file) in checkpoint.files { files[name] = file }
        folder = found
    }
    var options: TrainOptions, classes = 1
    if let config = runConfig(near: folder) {
        (options, classes) = (config.options, config.classes)
    } else {
        // No run folder around it: a generator saved on its own (genocl's or PyTorch's), whose
        // architecture a model can tell from its tensors.
        guard let generator = files[""] ?? files["netG"] else {
            throw SafetensorsError(message: "\(path): no config.json near it and no netG.safetensors there")
        }
        let shapes = generator.tensors.mapValues(\.shape)
        guard let inferred = ModelKind.registered.lazy.compactMap({ $0.options(forGenerator: shapes) }).first else {
            throw SafetensorsError(message: "\(path): cannot tell the generator's architecture (no config.json and no conv weights)")
        }
        options = inferred
    }
    if let problem = options.problem() {
        throw SafetensorsError(message: "\(path): the model's settings do not hold (\(problem)); was its config.json edited or damaged?")
    }
    let type = options.model.type
    if let bare = files.removeValue(forKey: "") { files[type.samplingNetworks[0]] = bare }
    // The generator's moving average has the generator's names: it stands in for it.
    if let average = files.removeValue(forKey: "netG_ema"), movingAverage { files["netG"] = average }
    let model = try options.model.make(options, classes: classes)
    for (file, module) in model.networks where type.samplingNetworks.contains(file) {
        guard let weights = files[file] else { throw SafetensorsError(message: "\(path): no \(file).safetensors there") }
        try load(weights, into: module.stateDict(), path: path)
    }
    return Sampler(options: options, classes: classes, sampling: model.sampling)
}

/// Writes the samples of `options`; returns the files written.
@discardableResult
public func sample(_ options: SampleOptions, backend: any Backend) throws -> [String] {
    let model = try loadSampler(options.checkpoint, movingAverage: options.movingAverage)
    let session = Session(backend: backend)
    let (c, s, nz) = (model.options.channels, model.options.imageSize, model.options.latentSize)
    let graph = Graph()
    // Evaluation mode (BatchNorm's running statistics), so each image depends on its latent only.
    let context = ForwardContext(training: false)
    guard let decode = model.decode else {
        guard case .translation(let translate) = model.sampling else {
            throw SafetensorsError(
                message:
                    "\(options.checkpoint): \(model.options.model.rawValue) makes no images; evaluate a generator with it: genocl evaluate --checkpoint GAN_RUN --features classifier:\(options.checkpoint)"
            )
        }
        return try translateImages(options, model: model, translate: translate, session: session)
    }
    if let label = options.classLabel, !(0..<model.classes).contains(label) || !model.conditional {
        throw SafetensorsError(
            message: model.conditional
                ? "--class \(label): the model has classes 0…\(model.classes - 1)"
                : "--class: \(model.options.model.rawValue) is not conditioned on classes")
    }
    guard model.encode != nil || (options.clusters == 0 && options.perturb == nil && options.refine == 0) else {
        let vaes = ModelKind.allCases.filter(\.isVAE).map(\.rawValue).joined(separator: ", ")
        throw SafetensorsError(message: "--clusters, --perturb and --refine need a VAE (\(vaes)); this is \(model.options.model.rawValue)")
    }

    // The latent vectors: given, from a perturbed image, from clusters, or drawn (normal or truncated).
    var z: Tensor
    var prefix: [Float] = []  // images shown before the samples (the perturbed original)
    let count = options.latents == nil ? options.count : 0
    /// Labels: the given class, or one grid row of 8 per class.
    func labels(_ n: Int) -> [Float] { (0..<n).map { Float(options.classLabel ?? ($0 / 8) % model.classes) } }
    if let latents = options.latents {
        guard let data = FileManager.default.contents(atPath: latents) else {
            throw SafetensorsError(message: "\(latents): no such readable file")
        }
        let (values, shape) = try decodeNpy([UInt8](data), path: latents)
        guard shape.count >= 2, shape[0] >= 1, shape.dropFirst().reduce(1, *) == nz else {
            throw SafetensorsError(message: "\(latents): latents of shape \(shape) do not fit a latent size of \(nz) ([N, \(nz)] expected)")
        }
        z = graph.constant(values, [shape[0], nz])
    } else if let perturb = options.perturb {
        let image = try decodeImage(perturb, channels: c)
        let side = min(image.height, image.width)
        prefix = image.centerCropped(height: side, width: side).resized(height: s, width: s).pixels
        let label = model.conditional ? graph.constant([Float(options.classLabel ?? 0)], [1]) : nil
        let mean = model.encode!(graph.constant(prefix, [1, c, s, s]), label, context).expanded(to: [count, nz])
        z = mean + graph.randomNormal([count, nz], std: options.noise, seed: options.seed)
    } else if options.clusters > 0 {
        z = graph.constant(try clusterLatents(options, model: model, labels: labels(count), session: session), [count, nz])
    } else if let t = options.truncation {
        z = graph.truncatedNormal([count, nz], low: -t, high: t, seed: options.seed)
    } else {
        z = graph.randomNormal([count, nz], seed: options.seed)
    }
    let n = z.shape[0]
    let made = options.interpolate > 1 ? (n - 1) * options.interpolate : n
    guard made <= SampleOptions.maximumImages else {
        throw SafetensorsError(
            message:
                "these options make \(made) images; genocl sample writes at most \(SampleOptions.maximumImages) per call (fewer latents or interpolation steps)"
        )
    }
    var labelValues = labels(n)
    if options.perturb != nil { labelValues = [Float](repeating: Float(options.classLabel ?? 0), count: n) }
    if options.interpolate > 1 {
        // Strips from each latent to the next: z_a·(1 − s) + z_b·s for s in 0…1.
        let k = options.interpolate
        guard n >= 2 else { throw SafetensorsError(message: "--interpolate needs at least two latent vectors") }
        let steps = (0..<k).map { Float($0) / Float(k - 1) }
        let a = z.sliced(axis: 0, 0..<(n - 1)), b = z.sliced(axis: 0, 1..<n)
        z = concat(steps.map { s in (a * (1 - s) + b * s).reshaped([n - 1, 1, nz]) }, axis: 1).reshaped([(n - 1) * k, nz])
        labelValues = (0..<((n - 1) * k)).map { labelValues[$0 / k] }
    }
    let labelTensor = model.conditional ? graph.constant(labelValues, [z.shape[0]]) : nil
    // In chunks that large images' activations fit in (a 256×256 progressive GAN's, 16 at a time).
    var values = prefix
    let chunk = samplingChunk(size: s)
    for start in stride(from: 0, to: z.shape[0], by: chunk) {
        let rows = start..<min(start + chunk, z.shape[0])
        let labels = labelTensor?.sliced(axis: 0, rows)
        var images = decode(z.sliced(axis: 0, rows), labels, context)
        for _ in 0..<options.refine { images = decode(model.encode!(images, labels, context), labels, context) }
        values += try session.plan(fetches: [images]).run()[0]
    }
    var size = s
    if let upscale = options.upscale {
        let upscaler = try Upscaler(upscale)
        (values, size) = (try upscaler(values, channels: c, size: s, session: session), s * upscaler.scale)
    }
    return try writeImages(values, options: options, channels: c, size: size, columns: options.interpolate > 1 ? options.interpolate : 8)
}

/// Writes `values` (`[N, C, S, S]`) as samples.npy (if asked), single PNGs or grids.
private func writeImages(_ values: [Float], options: SampleOptions, channels c: Int, size s: Int, columns: Int, name: String = "sample")
    throws -> [String]
{
    try FileManager.default.createDirectory(atPath: options.output, withIntermediateDirectories: true)
    let per = c * s * s, count = values.count / per
    var written: [String] = []
    if options.saveNpy {
        let file = options.output + "/samples.npy"
        try writeAtomically(encodeNpy(values, shape: [count, c, s, s]), to: file)
        written.append(file)
    }
    if options.single {
        for i in 0..<count {
            let grid = imageGrid(Array(values[(i * per)..<((i + 1) * per)]), count: 1, channels: c, height: s, width: s, columns: 1)
            let file = options.output + String(format: "/\(name)_%05d.png", i)
            try writePNG(file, width: grid.width, height: grid.height, channels: c, pixels: grid.pixels)
            written.append(file)
        }
    } else {
        // Grids of up to 8 rows.
        let perGrid = columns * 8
        for (g, start) in stride(from: 0, to: count, by: perGrid).enumerated() {
            let n = min(perGrid, count - start)
            let grid = imageGrid(
                Array(values[(start * per)..<((start + n) * per)]), count: n, channels: c, height: s, width: s, columns: columns)
            let file = options.output + String(format: options.interpolate > 1 ? "/interpolation_%03d.png" : "/grid_%03d.png", g)
            try writePNG(file, width: grid.width, height: grid.height, channels: c, pixels: grid.pixels)
            written.append(file)
        }
    }
    return written
}

/// Translation models: translates `--input` (an image or a folder), writing input | output pairs.
private func translateImages(_ options: SampleOptions, model: Sampler, translate: (Tensor) -> Tensor, session: Session) throws -> [String] {
    guard let input = options.input else {
        throw SafetensorsError(message: "\(model.options.model.rawValue) samples translate images: give --input IMAGE or --input FOLDER")
    }
    let (c, s) = (model.options.channels, model.options.imageSize)
    var isFolder: ObjCBool = false
    let files =
        FileManager.default.fileExists(atPath: input, isDirectory: &isFolder) && isFolder.boolValue ? try ImageFolder(input).files : [input]
    let loaded = loadImages(Array(files.prefix(options.count)), labels: files.map { _ in 0 }, channels: c) {
        $0.resized(height: s, width: s)
    }
    if let first = loaded.skipped.first { throw DatasetError("cannot translate \(first)") }
    var values: [Float] = []
    for chunk in stride(from: 0, to: loaded.images.count, by: 8) {
        let images = loaded.images[chunk..<min(chunk + 8, loaded.images.count)]
        let graph = Graph()
        let x = graph.constant(images.flatMap(\.pixels), [images.count, c, s, s])
        let out = try session.plan(fetches: [translate(x)]).run()[0]
        values += interleaved([images.flatMap(\.pixels), out], per: c * s * s, count: images.count)
    }
    return try writeImages(values, options: options, channels: c, size: s, columns: 2, name: "translation")
}

/// Latents from the training images' clusters: for each class asked for, the latent means
/// of up to 512 of its images are grouped by k-means, and each sample draws
/// `mean + std ⊙ ε` of one cluster (clusters taken in turn).
private func clusterLatents(_ options: SampleOptions, model: Sampler, labels: [Float], session: Session) throws -> [Float] {
    let o = model.options, nz = o.latentSize, per = o.channels * o.imageSize * o.imageSize
    let set = try TrainingSet(o.data, size: o.imageSize, channels: o.channels)
    var rng = SplitMix64(seed: options.seed)
    var statistics: [Float: [(mean: [Float], std: [Float])]] = [:]
    for label in Set(labels) {
        let members = (0..<set.count).filter { !model.conditional || set.labels[$0] == Int(label) }.prefix(512)
        guard members.count >= options.clusters else {
            throw DatasetError(
                "\(o.data): \(members.count) training images of class \(Int(label)) are fewer than --clusters \(options.clusters)")
        }
        // Encode in batches of 64.
        var latents: [[Float]] = []
        let indices = Array(members)
        for start in stride(from: 0, to: indices.count, by: 64) {
            let chunk = indices[start..<min(start + 64, indices.count)]
            let graph = Graph()
            let x = graph.constant(
                chunk.flatMap { set.pixels[($0 * per)..<(($0 + 1) * per)] }, [chunk.count, o.channels, o.imageSize, o.imageSize])
            let y = model.conditional ? graph.constant([Float](repeating: label, count: chunk.count), [chunk.count]) : nil
            let means = try session.plan(fetches: [model.encode!(x, y, ForwardContext(training: false))]).run()[0]
            latents += (0..<chunk.count).map { Array(means[($0 * nz)..<(($0 + 1) * nz)]) }
        }
        statistics[label] = kMeans(latents, clusters: options.clusters, rng: &rng)
    }
    var next: [Float: Int] = [:]
    var out: [Float] = []
    for label in labels {
        let clusters = statistics[label]!
        let k = next[label, default: 0]
        next[label] = k + 1
        let cluster = clusters[k % clusters.count]
        out += (0..<nz).map { cluster.mean[$0] + cluster.std[$0] * rng.normal() }
    }
    return out
}

/// Lloyd's k-means with k-means++ seeding; returns each cluster's mean and per-axis standard deviation.
func kMeans(_ points: [[Float]], clusters k: Int, iterations: Int = 30, rng: inout SplitMix64) -> [(mean: [Float], std: [Float])] {
    func distance(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } }
    var centers = [points[Int.random(in: 0..<points.count, using: &rng)]]
    while centers.count < k {
        let weights = points.map { p in centers.map { distance(p, $0) }.min()! }
        let total = weights.reduce(0, +)
        var pick = Float.random(in: 0..<max(total, .leastNormalMagnitude), using: &rng)
        let index =
            weights.firstIndex {
                pick -= $0; return pick < 0
            } ?? points.count - 1
        centers.append(points[index])
    }
    var assignment = [Int](repeating: 0, count: points.count)
    for _ in 0..<iterations {
        assignment = points.map { p in centers.indices.min { distance(p, centers[$0]) < distance(p, centers[$1]) }! }
        for j in centers.indices {
            let members = points.indices.filter { assignment[$0] == j }
            guard !members.isEmpty else { continue }
            centers[j] = (0..<points[0].count).map { d in members.reduce(0) { $0 + points[$1][d] } / Float(members.count) }
        }
    }
    return centers.indices.map { j in
        let members = points.indices.filter { assignment[$0] == j }
        let std = (0..<points[0].count).map { d -> Float in
            guard members.count > 1 else { return 0 }
            return (members.reduce(0) { $0 + (points[$1][d] - centers[j][d]) * (points[$1][d] - centers[j][d]) } / Float(members.count))
                .squareRoot()
        }
        return (centers[j], std)
    }
}

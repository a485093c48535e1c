// `genocl sample`: images from a trained generator — grids or single PNGs, raw
// floats as .npy, latent interpolation strips — with normal, truncated-normal or
// given latent vectors.
import Datasets
import Foundation
import GenerativeModels
import NeuralNet
import TensorGraph

public struct SampleOptions: Sendable {
    public var checkpoint: String
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
    public init(checkpoint: String) { self.checkpoint = checkpoint }
}

/// The DCGAN configuration of a checkpoint: from its run's config.json, else read off
/// the generator's weights (so a PyTorch `netG` state dict works too).
func dcganConfig(forGenerator file: SafetensorsFile, near path: String) -> DCGANConfig? {
    var folder = (path as NSString).standardizingPath
    for _ in 0..<4 {
        if let data = FileManager.default.contents(atPath: folder + "/config.json"), let config = try? JSONDecoder().decode(RunConfig.self, from: data) {
            return config.options.model
        }
        folder = (folder as NSString).deletingLastPathComponent
    }
    let convolutions = file.tensors.filter { $0.value.shape.count == 4 }.sorted { Int($0.key.split(separator: ".")[1])! < Int($1.key.split(separator: ".")[1])! }
    guard let first = convolutions.first?.value.shape, let last = convolutions.last?.value.shape else { return nil }
    let size = first[2] == 7 ? 28 : 4 << (convolutions.count - 1)
    let multiplier = size == 28 ? 2 : 1 << (convolutions.count - 2)
    return DCGANConfig(imageSize: size, channels: last[1], latentSize: first[0], generatorWidth: first[1] / multiplier, discriminatorWidth: 64)
}

/// Writes the samples of `options`; returns the files written.
@discardableResult
public func sampleDCGAN(_ options: SampleOptions, backend: any Backend) throws -> [String] {
    var path = options.checkpoint
    if path.hasSuffix(".safetensors") { path = (path as NSString).deletingLastPathComponent }
    let generatorFile: SafetensorsFile
    if FileManager.default.fileExists(atPath: path + "/netG.safetensors") {
        generatorFile = try readSafetensors(path + "/netG.safetensors")
    } else {
        let (checkpoint, folder) = try Checkpoint.load(path)
        generatorFile = checkpoint.generator
        path = folder
    }
    guard let config = dcganConfig(forGenerator: generatorFile, near: path) else {
        throw SafetensorsError(message: "\(options.checkpoint): cannot tell the generator's architecture (no config.json and no conv weights)")
    }
    let model = DCGAN(config, seed: 0)
    try load(generatorFile, into: model.generator.stateDict(prefix: "main"), path: path + "/netG.safetensors")

    // The latent vectors: given, or drawn on the device (normal or truncated).
    let graph = Graph()
    var z: Tensor
    if let latents = options.latents {
        guard let data = FileManager.default.contents(atPath: latents) else { throw SafetensorsError(message: "\(latents): no such readable file") }
        let (values, shape) = try decodeNpy([UInt8](data), path: latents)
        guard shape.count >= 2, shape.dropFirst().reduce(1, *) == config.latentSize else {
            throw SafetensorsError(message: "\(latents): latents of shape \(shape) do not fit a latent size of \(config.latentSize) ([N, \(config.latentSize)] expected)")
        }
        z = graph.constant(values, [shape[0], config.latentSize, 1, 1])
    } else if let t = options.truncation {
        z = graph.truncatedNormal([options.count, config.latentSize, 1, 1], low: -t, high: t, seed: options.seed)
    } else {
        z = graph.randomNormal([options.count, config.latentSize, 1, 1], seed: options.seed)
    }
    if options.interpolate > 1 {
        // Strips from each latent to the next: z_a·(1 − s) + z_b·s for s in 0…1.
        let n = z.shape[0], k = options.interpolate
        guard n >= 2 else { throw SafetensorsError(message: "--interpolate needs at least two latent vectors") }
        let steps = (0..<k).map { Float($0) / Float(k - 1) }
        let a = z.sliced(axis: 0, 0..<(n - 1)), b = z.sliced(axis: 0, 1..<n)
        z = concat(steps.map { s in (a * (1 - s) + b * s).reshaped([n - 1, 1, config.latentSize]) }, axis: 1).reshaped([(n - 1) * k, config.latentSize, 1, 1])
    }
    let images = model.generate(z, ForwardContext(training: false))
    let values = try Session(backend: backend).plan(fetches: [images]).run()[0]

    try FileManager.default.createDirectory(atPath: options.output, withIntermediateDirectories: true)
    let (count, c, s) = (images.shape[0], config.channels, config.imageSize)
    var written: [String] = []
    if options.saveNpy {
        let file = options.output + "/samples.npy"
        try writeAtomically(encodeNpy(values, shape: [count, c, s, s]), to: file)
        written.append(file)
    }
    let per = c * s * s
    if options.single {
        for i in 0..<count {
            let grid = imageGrid(Array(values[(i * per)..<((i + 1) * per)]), count: 1, channels: c, height: s, width: s, columns: 1)
            let file = options.output + String(format: "/sample_%05d.png", i)
            try writePNG(file, width: grid.width, height: grid.height, channels: c, pixels: grid.pixels)
            written.append(file)
        }
    } else {
        // Grids of up to 64 (8 per row), or one strip per row for interpolations.
        let columns = options.interpolate > 1 ? options.interpolate : 8
        let perGrid = options.interpolate > 1 ? columns * 8 : 64
        for (g, start) in stride(from: 0, to: count, by: perGrid).enumerated() {
            let n = min(perGrid, count - start)
            let grid = imageGrid(Array(values[(start * per)..<((start + n) * per)]), count: n, channels: c, height: s, width: s, columns: columns)
            let file = options.output + String(format: options.interpolate > 1 ? "/interpolation_%03d.png" : "/grid_%03d.png", g)
            try writePNG(file, width: grid.width, height: grid.height, channels: c, pixels: grid.pixels)
            written.append(file)
        }
    }
    return written
}

// Super-resolution after training: `genocl upscale` runs a super-resolution run's network
// on image files at their own size, and `genocl sample --upscale` passes generated images
// through one (the bicycles study's 64×64 WGAN samples to 256×256).
import Datasets
import Foundation
import GenerativeModels
import NeuralNet
import TensorGraph

/// A trained super-resolution network, loaded from a run folder or checkpoint.
struct Upscaler {
    let channels: Int, scale: Int
    let network: (Tensor) -> Tensor

    init(_ path: String) throws {
        let loaded = try loadSampler(path)
        guard let sr = loaded.options.superResolution, case .translation(let network) = loaded.sampling else {
            throw SafetensorsError(
                message:
                    "\(path): a \(loaded.options.model.rawValue) run; upscaling needs a super-resolution run (genocl train --model srresnet)"
            )
        }
        (channels, scale, self.network) = (loaded.options.channels, sr.scale, network)
    }

    /// Images `[N, C, S, S]` (values in [−1, 1]) upscaled to `[N, C, S·scale, S·scale]`, eight at a time.
    func callAsFunction(_ values: [Float], channels c: Int, size s: Int, session: Session) throws -> [Float] {
        guard c == channels else {
            throw SafetensorsError(message: "the images have \(c) channel(s), the super-resolution network \(channels)")
        }
        var out: [Float] = []
        let per = c * s * s, count = values.count / per
        for start in stride(from: 0, to: count, by: 8) {
            let n = min(8, count - start)
            let x = Graph().constant(Array(values[(start * per)..<((start + n) * per)]), [n, c, s, s])
            out += try session.plan(fetches: [clamp(network(x), min: -1, max: 1)]).run()[0]
        }
        return out
    }
}

/// Upscales `input` (an image or a folder of them) with the super-resolution run at `checkpoint`,
/// each image at its own size; writes `<name>.png` into `output`. Returns the files written.
@discardableResult
public func upscale(checkpoint: String, input: String, output: String, backend: any Backend) throws -> [String] {
    let upscaler = try Upscaler(checkpoint)
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: input, isDirectory: &isFolder) else {
        throw DatasetError("--input \(input): no such file or folder")
    }
    let files = isFolder.boolValue ? try ImageFolder(input).files : [input]
    try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
    let session = Session(backend: backend)
    var written: [String] = []
    for file in files {
        let image = try decodeImage(file, channels: upscaler.channels)
        let x = Graph().constant(image.pixels, [1, image.channels, image.height, image.width])
        let values = try session.plan(fetches: [clamp(upscaler.network(x), min: -1, max: 1)]).run()[0]
        let (h, w) = (image.height * upscaler.scale, image.width * upscaler.scale)
        let grid = imageGrid(values, count: 1, channels: image.channels, height: h, width: w, columns: 1, padding: 0)
        let name = output + "/" + ((file as NSString).lastPathComponent as NSString).deletingPathExtension + ".png"
        try writePNG(name, width: grid.width, height: grid.height, channels: image.channels, pixels: grid.pixels)
        written.append(name)
    }
    return written
}

/// VGG-16's activations at `layer` for `images` (`[N, C, H, W]` in [−1, 1], from a .npy file),
/// with weights from `weights` (tools/convert-vgg16): what the perceptual loss compares, for
/// checking genocl's network against torchvision's (tools/check-vgg16) or using it elsewhere.
public func vggFeatures(weights: String, layer: String, input: String, output: String, backend: any Backend) throws -> [Int] {
    guard VGG16Features.layers[layer] != nil else {
        throw SafetensorsError(
            message:
                "--layer \(layer): VGG-16's layers are \(VGG16Features.layers.sorted { $0.value < $1.value }.map(\.key).joined(separator: ", "))"
        )
    }
    guard let data = FileManager.default.contents(atPath: input) else { throw DatasetError("--input \(input): no such readable file") }
    let (values, shape) = try decodeNpy([UInt8](data), path: input)
    guard shape.count == 4, [1, 3].contains(shape[1]), shape[2] >= 1, shape[3] >= 1, shape[0] >= 1 else {
        throw DatasetError("\(input): images of shape \(shape); expected [N, 1 or 3, H, W]")
    }
    let vgg = VGG16Features(through: layer)
    let file = try readSafetensors(weights)
    let names = Set(vgg.module.stateDict().map(\.name))
    try load(
        SafetensorsFile(tensors: file.tensors.filter { names.contains($0.key) }, metadata: file.metadata), into: vgg.module.stateDict(),
        path: weights)
    let features = vgg(Graph().constant(values, Shape(shape)), layer: layer, ForwardContext(training: false))
    let result = try Session(backend: backend).plan(fetches: [features]).run()[0]
    try writeAtomically(encodeNpy(result, shape: features.shape.dims), to: output)
    return features.shape.dims
}

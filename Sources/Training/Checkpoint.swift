// Checkpoints: one folder per save under `checkpoints/`, holding one file per
// network, e.g. `netG.safetensors` and `netD.safetensors` (PyTorch `state_dict`
// names and layouts, BatchNorm's `num_batches_tracked` as int64), and
// `optimizer.safetensors` (optimizer state,
// with the training position in its metadata). `checkpoints/latest` names the
// newest complete folder and is replaced atomically after every file is written,
// so a kill at any moment leaves the previous checkpoint loadable.
import Foundation
import NeuralNet
import TensorGraph

/// Named parameters → safetensors tensors (`num_batches_tracked` as int64, as PyTorch saves it).
public func storedTensors(_ named: [(name: String, parameter: Parameter)]) -> [String: StoredTensor] {
    Dictionary(
        uniqueKeysWithValues: named.map { name, p in
            (
                name,
                name.hasSuffix("num_batches_tracked")
                    ? .int64(p.value.map { Int64($0) }, shape: p.shape.dims) : .float32(p.value, shape: p.shape.dims)
            )
        })
}

/// Loads `file`'s tensors into `named` parameters, checking that names and shapes agree.
public func load(_ file: SafetensorsFile, into named: [(name: String, parameter: Parameter)], path: String) throws {
    let expected = Set(named.map(\.name)), found = Set(file.tensors.keys)
    if expected != found {
        let missing = expected.subtracting(found).sorted().prefix(5), extra = found.subtracting(expected).sorted().prefix(5)
        throw SafetensorsError(
            message:
                "\(path): tensors do not match the model (missing: \(missing.joined(separator: ", ")); unexpected: \(extra.joined(separator: ", ")))"
        )
    }
    for (name, parameter) in named {
        let tensor = file.tensors[name]!
        guard tensor.shape == parameter.shape.dims else {
            throw SafetensorsError(message: "\(path): \(name) has shape \(tensor.shape), the model expects \(parameter.shape.dims)")
        }
        switch tensor {
        case .float32(let values, _):
            let bad = values.count { !$0.isFinite }
            guard bad == 0 else {
                throw SafetensorsError(
                    message:
                        "\(path): \(name) holds \(bad) non-finite values (NaN or ±inf): these weights come from a run that diverged; use an earlier checkpoint"
                )
            }
            parameter.value = values
        case .int64(let values, _): parameter.value = values.map { Float($0) }
        }
    }
}

/// A checkpoint folder's contents: one safetensors file per network (`netG`, `netD`,
/// `encoder`, …) and `optimizer` with the training position in its metadata.
public struct Checkpoint {
    public var files: [(name: String, file: SafetensorsFile)]

    public init(files: [(name: String, file: SafetensorsFile)]) { self.files = files }

    /// The file `name` (without `.safetensors`), or an error naming the folder it is missing from.
    public func file(_ name: String, in folder: String) throws -> SafetensorsFile {
        guard let found = files.first(where: { $0.name == name }) else {
            throw SafetensorsError(
                message:
                    "\(folder): no \(name).safetensors in this checkpoint (it has \(files.map(\.name).joined(separator: ", "))); was it saved by another model?"
            )
        }
        return found.file
    }

    /// Writes `folder`/<name>.safetensors for each file, then points `latest` at it.
    /// Keeps the newest `keep` checkpoint folders.
    public func save(in checkpoints: String, name: String, keep: Int = 3) throws {
        let folder = checkpoints + "/" + name
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (file, contents) in files { try writeSafetensors(contents, to: "\(folder)/\(file).safetensors") }
        try writeAtomically(Array((name + "\n").utf8), to: checkpoints + "/latest")
        let folders = ((try? FileManager.default.contentsOfDirectory(atPath: checkpoints)) ?? []).filter {
            $0.hasPrefix("step_") && $0 != name
        }.sorted()
        for old in folders.dropLast(max(keep - 1, 0)) { try? FileManager.default.removeItem(atPath: checkpoints + "/" + old) }
    }

    /// Deletes the temporary files of writes that never finished (a process killed while it
    /// saved: `writeAtomically`'s `.<name>.tmp-*`), in `checkpoints` and its checkpoint folders.
    public static func removeUnfinishedWrites(in checkpoints: String) {
        let manager = FileManager.default
        let folders = [checkpoints] + ((try? manager.contentsOfDirectory(atPath: checkpoints)) ?? []).map { checkpoints + "/" + $0 }
        for folder in folders {
            for name in (try? manager.contentsOfDirectory(atPath: folder)) ?? [] where name.hasPrefix(".") && name.contains(".tmp-") {
                try? manager.removeItem(atPath: folder + "/" + name)
            }
        }
    }

    /// The checkpoint that `checkpoints/latest` names, or the folder `path` itself.
    public static func load(_ path: String) throws -> (checkpoint: Checkpoint, folder: String) {
        var folder = path
        if let latest = try? String(contentsOfFile: path + "/latest", encoding: .utf8) {
            folder = path + "/" + latest.trimmingCharacters(in: .whitespacesAndNewlines)
        } else if let latest = try? String(contentsOfFile: path + "/checkpoints/latest", encoding: .utf8) {
            folder = path + "/checkpoints/" + latest.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".safetensors") }.sorted()
        guard !names.isEmpty else {
            throw SafetensorsError(
                message:
                    "\(path): no checkpoint here (expected a run folder, its checkpoints/ folder, or a checkpoint folder with .safetensors files)"
            )
        }
        let files = try names.map { (String($0.dropLast(".safetensors".count)), try readSafetensors(folder + "/" + $0)) }
        return (Checkpoint(files: files), folder)
    }
}

// safetensors (Hugging Face): an 8-byte little-endian header length, a JSON header
// `{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {…}}`,
// then the little-endian tensor bytes, contiguous, in header order. Files are
// written atomically: a temporary file in the same folder, fsync, rename, fsync of
// the folder — a kill at any moment leaves the previous file intact.
import Datasets
import Foundation

/// One tensor of a safetensors file.
public enum StoredTensor: Equatable, Sendable {
    case float32([Float], shape: [Int])
    case int64([Int64], shape: [Int])

    public var shape: [Int] {
        switch self {
        case .float32(_, let shape), .int64(_, let shape): shape
        }
    }

    var dtype: String {
        switch self {
        case .float32: "F32"
        case .int64: "I64"
        }
    }

    var bytes: [UInt8] {
        switch self {
        case .float32(let values, _): values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
        case .int64(let values, _): values.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) }
        }
    }
}

/// The tensors and string metadata of a safetensors file.
public struct SafetensorsFile: Equatable, Sendable {
    public var tensors: [String: StoredTensor]
    public var metadata: [String: String]

    public init(tensors: [String: StoredTensor] = [:], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }
}

/// Why a safetensors file could not be read or written, naming the file.
public struct SafetensorsError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

private func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

/// The file's bytes: tensors in name order, header padded with spaces to 8 bytes.
public func encodeSafetensors(_ file: SafetensorsFile) -> [UInt8] {
    var entries: [String] = []
    if !file.metadata.isEmpty {
        let pairs = file.metadata.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(jsonString($0.value))" }
        entries.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
    }
    var data: [UInt8] = []
    for (name, tensor) in file.tensors.sorted(by: { $0.key < $1.key }) {
        let bytes = tensor.bytes
        let shape = "[" + tensor.shape.map(String.init).joined(separator: ",") + "]"
        entries.append(
            "\(jsonString(name)):{\"dtype\":\"\(tensor.dtype)\",\"shape\":\(shape),\"data_offsets\":[\(data.count),\(data.count + bytes.count)]}"
        )
        data += bytes
    }
    var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
    while header.count % 8 != 0 { header.append(0x20) }
    return withUnsafeBytes(of: UInt64(header.count).littleEndian, Array.init) + header + data
}

/// Parses safetensors bytes; `path` names the file in errors.
public func decodeSafetensors(_ bytes: [UInt8], path: String = "safetensors data") throws -> SafetensorsFile {
    func fail(_ why: String) -> SafetensorsError { SafetensorsError(message: "\(path): \(why)") }
    guard bytes.count >= 8 else { throw fail("truncated: \(bytes.count) bytes, not even a header length") }
    let headerLength = bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    guard headerLength <= UInt64(bytes.count - 8) else {
        throw fail("truncated or not safetensors: header length \(headerLength) exceeds the file (\(bytes.count) bytes)")
    }
    let dataStart = 8 + Int(headerLength)
    guard let json = try? JSONSerialization.jsonObject(with: Data(bytes[8..<dataStart])), let header = json as? [String: Any] else {
        throw fail("the header is not a JSON object")
    }
    var file = SafetensorsFile()
    if let metadata = header["__metadata__"] {
        guard let strings = metadata as? [String: String] else { throw fail("__metadata__ must map strings to strings") }
        file.metadata = strings
    }
    let dataCount = bytes.count - dataStart
    for (name, value) in header where name != "__metadata__" {
        guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
            let shape = (entry["shape"] as? [NSNumber])?.map(\.intValue),
            let offsets = (entry["data_offsets"] as? [NSNumber])?.map(\.intValue),
            offsets.count == 2, shape.allSatisfy({ $0 >= 0 })
        else { throw fail("tensor \(name): malformed header entry") }
        let (begin, end) = (offsets[0], offsets[1])
        guard let count = checkedProduct(shape), count <= bytes.count else {
            throw fail("tensor \(name): shape \(shape) holds more values than the file has bytes")
        }
        let width = dtype == "F32" ? 4 : dtype == "I64" ? 8 : 0
        guard width > 0 else { throw fail("tensor \(name): dtype \(dtype) is not supported (F32 and I64 are)") }
        guard begin >= 0, begin <= end, end <= dataCount else {
            throw fail("truncated: tensor \(name) needs bytes \(begin)..<\(end) of \(dataCount)")
        }
        guard end - begin == count * width else { throw fail("tensor \(name): \(end - begin) bytes for shape \(shape) of \(dtype)") }
        let slice = bytes[(dataStart + begin)..<(dataStart + end)]
        func word<T: FixedWidthInteger>(_ i: Int, _: T.Type) -> T {
            slice[(slice.startIndex + i * width)..<(slice.startIndex + (i + 1) * width)].reversed().reduce(T(0)) { $0 << 8 | T($1) }
        }
        file.tensors[name] =
            width == 4
            ? .float32((0..<count).map { Float(bitPattern: word($0, UInt32.self)) }, shape: shape)
            : .int64((0..<count).map { Int64(bitPattern: word($0, UInt64.self)) }, shape: shape)
    }
    return file
}

extension SafetensorsFile {
    /// The tensors without the `module.` prefix that PyTorch's `DataParallel` adds to every name.
    public var withoutDataParallelPrefix: SafetensorsFile {
        guard !tensors.isEmpty, tensors.keys.allSatisfy({ $0.hasPrefix("module.") }) else { return self }
        return SafetensorsFile(
            tensors: Dictionary(uniqueKeysWithValues: tensors.map { (String($0.key.dropFirst("module.".count)), $0.value) }),
            metadata: metadata)
    }
}

public func readSafetensors(_ path: String) throws -> SafetensorsFile {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw SafetensorsError(message: "\(path): no such readable file")
    }
    return try decodeSafetensors([UInt8](data), path: path)
}

/// Writes `file` to `path` atomically (see the top of this file).
public func writeSafetensors(_ file: SafetensorsFile, to path: String) throws {
    try writeAtomically(encodeSafetensors(file), to: path)
}

/// Replaces `path` with `bytes` so that, whatever happens, `path` holds either the old
/// or the new content in full: temporary file, fsync, rename, fsync of the folder.
public func writeAtomically(_ bytes: [UInt8], to path: String) throws {
    let folder = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
    let temporary = "\(folder)/.\((path as NSString).lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    func fail(_ what: String) -> SafetensorsError {
        SafetensorsError(message: "\(path): \(what) failed: \(String(cString: strerror(errno)))")
    }
    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
    guard fd >= 0 else { throw fail("creating \(temporary)") }
    var written = 0
    let ok = bytes.withUnsafeBytes { buffer -> Bool in
        while written < buffer.count {
            let n = write(fd, buffer.baseAddress! + written, buffer.count - written)
            if n <= 0 { return false }
            written += n
        }
        return true
    }
    guard ok, fsync(fd) == 0 else {
        let error = fail("writing \(temporary)")
        close(fd)
        unlink(temporary)
        throw error
    }
    close(fd)
    guard rename(temporary, path) == 0 else {
        let error = fail("renaming \(temporary)")
        unlink(temporary)
        throw error
    }
    let dirfd = open(folder, O_RDONLY)
    if dirfd >= 0 {
        fsync(dirfd)
        close(dirfd)
    }
}

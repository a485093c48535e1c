// TensorBoard event files, written directly: TFRecord framing (length, masked
// CRC-32C of the length, data, masked CRC-32C of the data) around hand-encoded
// `Event` protocol buffers carrying scalar and image summaries. (Three message
// types with a few fields each do not justify a protobuf code generator.)
import Foundation

/// Appends events to `<folder>/events.out.tfevents.<time>.<host>`, which `tensorboard --logdir` reads.
public final class EventWriter {
    public let path: String
    private let handle: FileHandle

    public init(folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        path = folder + "/events.out.tfevents.\(Int(Date().timeIntervalSince1970)).\(ProcessInfo.processInfo.hostName).genocl"
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw SafetensorsError(message: "\(path): cannot create the TensorBoard event file")
        }
        self.handle = handle
        var event = Protobuf()
        event.double(1, Date().timeIntervalSince1970)
        event.bytes(3, Array("brain.Event:2".utf8))
        try write(event.bytes)
    }

    deinit { try? handle.close() }

    /// Scalars of one step, e.g. `["loss/D": 0.7, "loss/G": 1.3]`.
    public func scalars(_ values: [(String, Float)], step: Int) throws {
        var summary = Protobuf()
        for (tag, value) in values {
            var v = Protobuf()
            v.bytes(1, Array(tag.utf8))
            v.float(2, value)
            summary.bytes(1, v.bytes)
        }
        try event(summary, step: step)
    }

    /// A PNG image summary.
    public func image(_ tag: String, png: [UInt8], width: Int, height: Int, channels: Int, step: Int) throws {
        var image = Protobuf()
        image.varint(1, UInt64(height))
        image.varint(2, UInt64(width))
        image.varint(3, UInt64(channels))
        image.bytes(4, png)
        var v = Protobuf()
        v.bytes(1, Array(tag.utf8))
        v.bytes(4, image.bytes)
        var summary = Protobuf()
        summary.bytes(1, v.bytes)
        try event(summary, step: step)
    }

    private func event(_ summary: Protobuf, step: Int) throws {
        var event = Protobuf()
        event.double(1, Date().timeIntervalSince1970)
        event.varint(2, UInt64(step))
        event.bytes(5, summary.bytes)
        try write(event.bytes)
    }

    private func write(_ data: [UInt8]) throws {
        let length = withUnsafeBytes(of: UInt64(data.count).littleEndian, Array.init)
        let record = length + littleEndian(maskedCRC32C(length)) + data + littleEndian(maskedCRC32C(data))
        do {
            try handle.write(contentsOf: Data(record))
        } catch {
            throw SafetensorsError(
                message: "\(path): writing TensorBoard events failed (\(error)); is the disk full? Free space and continue with --resume")
        }
    }

    public func flush() { try? handle.synchronize() }
}

private func littleEndian(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }

/// A minimal protocol-buffer encoder: varint, 64-bit, 32-bit and length-delimited fields.
struct Protobuf {
    private(set) var bytes: [UInt8] = []

    private mutating func raw(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func varint(_ field: Int, _ value: UInt64) {
        raw(UInt64(field << 3))
        raw(value)
    }

    mutating func double(_ field: Int, _ value: Double) {
        raw(UInt64(field << 3 | 1))
        bytes += withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init)
    }

    mutating func float(_ field: Int, _ value: Float) {
        raw(UInt64(field << 3 | 5))
        bytes += withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init)
    }

    mutating func bytes(_ field: Int, _ value: [UInt8]) {
        raw(UInt64(field << 3 | 2))
        raw(UInt64(value.count))
        bytes += value
    }
}

private let crc32cTable: [UInt32] = (0..<256).map { i in
    (0..<8).reduce(UInt32(i)) { c, _ in c & 1 != 0 ? 0x82F6_3B78 ^ (c >> 1) : c >> 1 }
}

/// CRC-32C (Castagnoli), as TFRecord uses.
public func crc32c(_ bytes: [UInt8]) -> UInt32 {
    ~bytes.reduce(~UInt32(0)) { crc32cTable[Int((($0) ^ UInt32($1)) & 0xFF)] ^ ($0 >> 8) }
}

/// TFRecord's masking of a CRC: rotate right by 15 and add a constant.
public func maskedCRC32C(_ bytes: [UInt8]) -> UInt32 {
    let crc = crc32c(bytes)
    return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
}

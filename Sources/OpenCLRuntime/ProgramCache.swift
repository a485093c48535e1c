// On-disk cache of compiled program binaries, keyed by platform, device, driver
// version, build options and source. An entry holds its full key and a CRC of the
// binary; anything that does not match, fails to load or fails to build is
// rebuilt from source and rewritten, never trusted. Entries are written to a
// unique temporary file and renamed, so concurrent processes share the cache safely.
import COpenCL
import CZlib
import Foundation

public final class ProgramCache: @unchecked Sendable {
    /// The cache at `GENOCL_CACHE_DIR` (else `$XDG_CACHE_HOME/genocl`, else `~/.cache/genocl`).
    public static let shared = ProgramCache(directory: defaultDirectory())

    public let directory: String
    /// Distinguishes cache instances in each device's in-process memo.
    let identity = UUID().uuidString

    public init(directory: String) { self.directory = directory }

    struct Key {
        /// Everything the binary depends on, spelled out (stored in the entry and compared).
        let text: String
        /// A short digest of `text`, the entry's file name.
        let digest: String
    }

    private static func defaultDirectory() -> String {
        let environment = ProcessInfo.processInfo.environment
        if let dir = environment["GENOCL_CACHE_DIR"], !dir.isEmpty { return dir }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/genocl" }
        return NSHomeDirectory() + "/.cache/genocl"
    }

    private static let magic = Array("genocl-program-binary-1\n".utf8)

    static func key(device: DeviceInfo, options: String, source: String) -> Key {
        let text = [
            device.platformName, device.platformVersion, device.name, device.vendor, device.driverVersion, options,
            String(source.utf8.count),
        ]
        .joined(separator: "\u{1F}")
        let digest = String(fnv1a(Array((text + "\u{1E}" + source).utf8)), radix: 16) + "-" + String(crc(Array(source.utf8)), radix: 16)
        return Key(text: text + "\u{1F}" + digest, digest: digest)
    }

    func path(_ key: Key) -> String { directory + "/" + key.digest + ".clbin" }

    /// The program from a valid cache entry, built for the device; nil when there is none.
    func load(_ key: Key, options: String, device: OpenCLDevice) -> cl_program? {
        guard let data = FileManager.default.contents(atPath: path(key)) else { return nil }
        let bytes = [UInt8](data)
        let keyBytes = Array(key.text.utf8)
        let header = Self.magic.count + 8 + keyBytes.count + 8 + 4
        guard bytes.count > header, Array(bytes[0..<Self.magic.count]) == Self.magic else { return invalid(key) }
        var offset = Self.magic.count
        func readInt() -> Int {
            defer { offset += 8 }
            return bytes[offset..<(offset + 8)].reversed().reduce(0) { $0 << 8 | Int($1) }
        }
        guard readInt() == keyBytes.count, Array(bytes[offset..<(offset + keyBytes.count)]) == keyBytes else { return invalid(key) }
        offset += keyBytes.count
        let length = readInt()
        let storedCRC = bytes[offset..<(offset + 4)].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        offset += 4
        guard length == bytes.count - offset else { return invalid(key) }
        let binary = Array(bytes[offset...])
        guard crc(binary) == storedCRC else { return invalid(key) }

        var status: cl_int = 0, binaryStatus: cl_int = 0
        var id: cl_device_id? = device.info.id.raw
        var size = binary.count
        let program = binary.withUnsafeBufferPointer { buffer -> cl_program? in
            var pointer: UnsafePointer<UInt8>? = buffer.baseAddress
            return clCreateProgramWithBinary(device.context, 1, &id, &size, &pointer, &binaryStatus, &status)
        }
        guard let program, status == CL_SUCCESS, binaryStatus == CL_SUCCESS else { return invalid(key) }
        do {
            try device.build(program, options: options)
        } catch {
            return invalid(key)
        }
        return program
    }

    private func invalid(_ key: Key) -> cl_program? {
        try? FileManager.default.removeItem(atPath: path(key))
        return nil
    }

    /// Writes the device binary of a freshly built program (best effort: a cache
    /// that cannot be written only costs a rebuild next time).
    func store(_ program: cl_program, _ key: Key, device: OpenCLDevice) {
        var size = 0
        guard clGetProgramInfo(program, cl_program_info(CL_PROGRAM_BINARY_SIZES), MemoryLayout<Int>.size, &size, nil) == CL_SUCCESS,
            size > 0
        else { return }
        var binary = [UInt8](repeating: 0, count: size)
        let status = binary.withUnsafeMutableBufferPointer { buffer -> cl_int in
            var pointer: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            return clGetProgramInfo(
                program, cl_program_info(CL_PROGRAM_BINARIES), MemoryLayout<UnsafeMutablePointer<UInt8>?>.size, &pointer, nil)
        }
        guard status == CL_SUCCESS else { return }
        let keyBytes = Array(key.text.utf8)
        var entry = Self.magic
        func appendInt(_ value: Int, bytes: Int) { for i in 0..<bytes { entry.append(UInt8(truncatingIfNeeded: value >> (8 * i))) } }
        appendInt(keyBytes.count, bytes: 8)
        entry += keyBytes
        appendInt(binary.count, bytes: 8)
        appendInt(Int(crc(binary)), bytes: 4)
        entry += binary
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let temporary = path(key) + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            guard FileManager.default.createFile(atPath: temporary, contents: Data(entry)) else { return }
            if rename(temporary, path(key)) != 0 { try? FileManager.default.removeItem(atPath: temporary) }
        } catch {
            return
        }
    }
}

/// The 64-bit FNV-1a hash of `bytes` (cache file names, generated kernel names).
public func fnv1a(_ bytes: [UInt8]) -> UInt64 {
    bytes.reduce(0xcbf2_9ce4_8422_2325 as UInt64) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
}

private func crc(_ bytes: [UInt8]) -> UInt32 {
    bytes.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
}

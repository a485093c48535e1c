import Foundation
import Testing
import Training

@Suite struct SafetensorsTests {
    func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "genocl-st-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static let sample = SafetensorsFile(
        tensors: [
            "main.0.weight": .float32([1, -2.5, 0.125, .greatestFiniteMagnitude, -0.0, 3], shape: [2, 3]),
            "main.1.num_batches_tracked": .int64([42], shape: []),
            "odd \"name\"\\": .float32([], shape: [0, 4]),
        ],
        metadata: ["format": "pt", "step": "1200"])

    @Test func roundTrips() throws {
        #expect(try decodeSafetensors(encodeSafetensors(Self.sample)) == Self.sample)
        let path = try temporaryDirectory() + "/a.safetensors"
        try writeSafetensors(Self.sample, to: path)
        #expect(try readSafetensors(path) == Self.sample)
    }

    @Test func layoutFollowsTheSpecification() throws {
        let bytes = encodeSafetensors(SafetensorsFile(tensors: ["b": .int64([-1], shape: [1]), "a": .float32([1, 2], shape: [2])]))
        let length = Int(bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        #expect(length % 8 == 0)
        let header = String(decoding: bytes[8..<(8 + length)], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        #expect(header == #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I64","shape":[1],"data_offsets":[8,16]}}"#)
        // Little-endian data: 1.0f = 00 00 80 3F, 2.0f = 00 00 00 40, −1 = FF × 8.
        #expect(Array(bytes[(8 + length)...]) == [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40] + [UInt8](repeating: 0xFF, count: 8))
    }

    @Test func badFilesAreClearErrors() throws {
        let good = encodeSafetensors(Self.sample)
        let cases: [([UInt8], String)] = [
            (Array(good.prefix(5)), "truncated: 5 bytes"),
            (Array(good.prefix(good.count - 3)), "truncated: tensor "),
            (
                [200, 0, 0, 0, 0, 0, 0, 0] + Array(repeating: 0x20, count: 16),
                "truncated or not safetensors: header length 200 exceeds the file"
            ),
            ([8, 0, 0, 0, 0, 0, 0, 0] + Array("[1,2,3]\n".utf8), "the header is not a JSON object"),
        ]
        for (bytes, message) in cases {
            #expect { try decodeSafetensors(bytes, path: "x.safetensors") } throws: { "\($0)".hasPrefix("x.safetensors: " + message) }
        }
        #expect { try readSafetensors("/nonexistent/x.safetensors") } throws: { "\($0)".contains("no such readable file") }
    }

    @Test func anInterruptedWriteLeavesThePreviousFile() throws {
        let dir = try temporaryDirectory()
        let path = dir + "/latest.safetensors"
        try writeSafetensors(Self.sample, to: path)
        // A writer killed before its rename leaves only a temporary file behind.
        let partial = Array(encodeSafetensors(SafetensorsFile(tensors: ["x": .float32([1, 2, 3], shape: [3])])).prefix(20))
        FileManager.default.createFile(atPath: dir + "/.latest.safetensors.tmp-999-1", contents: Data(partial))
        #expect(try readSafetensors(path) == Self.sample)
        // The next write replaces the file whole.
        let next = SafetensorsFile(tensors: ["x": .float32([1, 2, 3], shape: [3])])
        try writeSafetensors(next, to: path)
        #expect(try readSafetensors(path) == next)
        #expect { try writeSafetensors(next, to: dir + "/missing/folder/x.safetensors") } throws: { "\($0)".contains("failed") }
    }
}

import Foundation
import TestSupport
import Testing
import Training

@Suite struct SamplingTests {
    @Test func npyRoundTripsAndRejectsBadFiles() throws {
        let bytes = encodeNpy([1, -2, 3.5, 0, 5, 6], shape: [2, 3])
        #expect((bytes.count - 6 * 4) % 64 == 0)  // header padded to 64 bytes
        let decoded = try decodeNpy(bytes, path: "z.npy")
        #expect(decoded.values == [1, -2, 3.5, 0, 5, 6] && decoded.shape == [2, 3])
        #expect(try decodeNpy(encodeNpy([7], shape: [1]), path: "v.npy").shape == [1])
        #expect { try decodeNpy(Array("hello world".utf8), path: "x.npy") } throws: { "\($0)" == "x.npy: not a NumPy .npy file" }
        #expect { try decodeNpy(Array(bytes.dropLast(4)), path: "t.npy") } throws: { "\($0)".contains("truncated") }
        var int64 = bytes
        if let at = (0..<(bytes.count - 3)).first(where: { Array(bytes[$0..<($0 + 3)]) == Array("<f4".utf8) }) {
            int64.replaceSubrange(at..<(at + 3), with: Array("<i8".utf8))
        }
        #expect { try decodeNpy(int64, path: "i.npy") } throws: { "\($0)".contains("not supported") }
    }

    @Test func samplesFromATrainedRun() throws {
        let data = try writeTinyDataset()
        try trainTiny(data, folder: data + "/run", steps: 6)

        var grid = SampleOptions(checkpoint: data + "/run")
        (grid.count, grid.output, grid.saveNpy) = (10, data + "/out", true)
        let files = try Training.sample(grid, backend: testBackend())
        #expect(files.map { ($0 as NSString).lastPathComponent } == ["samples.npy", "grid_000.png"])
        let npy = try decodeNpy([UInt8](FileManager.default.contents(atPath: data + "/out/samples.npy")!), path: "samples.npy")
        #expect(npy.shape == [10, 1, 16, 16] && npy.values.allSatisfy { $0 >= -1 && $0 <= 1 })

        // Given latents, interpolated in strips of 4: 3 latents → 2 strips.
        try Data(encodeNpy((0..<24).map { Float($0) / 24 - 0.5 }, shape: [3, 8])).write(to: URL(fileURLWithPath: data + "/z.npy"))
        var strips = SampleOptions(checkpoint: data + "/run/checkpoints")
        (strips.latents, strips.interpolate, strips.output, strips.saveNpy) = (data + "/z.npy", 4, data + "/strips", true)
        try Training.sample(strips, backend: testBackend())
        let stripValues = try decodeNpy([UInt8](FileManager.default.contents(atPath: data + "/strips/samples.npy")!), path: "s.npy")
        #expect(stripValues.shape == [8, 1, 16, 16])
        #expect(FileManager.default.fileExists(atPath: data + "/strips/interpolation_000.png"))
        // The strip's ends are the given latents' images: compare with sampling them directly.
        var direct = SampleOptions(checkpoint: data + "/run")
        (direct.latents, direct.output, direct.saveNpy) = (data + "/z.npy", data + "/direct", true)
        try Training.sample(direct, backend: testBackend())
        let directValues = try decodeNpy([UInt8](FileManager.default.contents(atPath: data + "/direct/samples.npy")!), path: "d.npy").values
        // Equal up to float rounding: batches of 8 and of 3 may get different convolution algorithms.
        let per = 256, close = Tolerance(atol: 1e-6, rtol: 1e-4)
        let first = mismatch(Array(stripValues.values[0..<per]), Array(directValues[0..<per]), close, "strip start")
        let last = mismatch(Array(stripValues.values[(3 * per)..<(4 * per)]), Array(directValues[per..<(2 * per)]), close, "strip end")
        #expect(first == nil, Comment(rawValue: first ?? ""))
        #expect(last == nil, Comment(rawValue: last ?? ""))

        // A bare netG.safetensors (as PyTorch would save it), truncated noise, one file per image.
        try FileManager.default.createDirectory(atPath: data + "/bare", withIntermediateDirectories: true)
        let latest = try String(contentsOfFile: data + "/run/checkpoints/latest", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        try FileManager.default.copyItem(atPath: data + "/run/checkpoints/\(latest)/netG.safetensors", toPath: data + "/bare/netG.safetensors")
        var bare = SampleOptions(checkpoint: data + "/bare/netG.safetensors")
        (bare.count, bare.truncation, bare.single, bare.output) = (3, 0.5, true, data + "/single")
        #expect(try Training.sample(bare, backend: testBackend()).count == 3)
        #expect { try Training.sample(SampleOptions(checkpoint: data + "/nothing"), backend: testBackend()) } throws: { "\($0)".contains("no checkpoint here") }
    }
}

import Datasets
import Foundation
import TestSupport
import Testing

/// The readers on mutated valid files: every case either reads or throws, never traps or
/// hangs (a trap ends the test process and fails the run). `GENOCL_FUZZ_CASES` sets the
/// cases per format (tools/fuzz runs the long run); the seed is `GENOCL_TEST_SEED`'s.
@Suite(.timeLimit(.minutes(10))) struct DatasetFuzzTests {
    /// Runs `cases` mutations of `seed` (a file written to `name`) through `read`; returns (read, refused).
    /// `text` mutates the seed as text (numbers swapped for extreme ones) instead of as bytes.
    func fuzz(
        _ format: String, seed: [UInt8], header: Int, name: String, cases: Int, text: Bool = false, read: (String) throws -> Void
    ) throws -> (Int, Int) {
        let dir = try temporaryDirectory()
        var mutator = Mutator(seed: testSeed &+ UInt64(format.utf8.reduce(0) { $0 &* 31 &+ Int($1) }))
        var (accepted, refused) = (0, 0)
        for k in 0..<cases {
            var (bytes, what) = mutator.mutate(seed, header: header)
            if text {
                let mutated = mutator.mutateText(String(decoding: seed, as: UTF8.self))
                (bytes, what) = ([UInt8](mutated.text.utf8), mutated.what)
            }
            let path = dir + "/" + name
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let start = Date()
            do {
                try read(path)
                accepted += 1
            } catch {
                refused += 1
                #expect(!"\(error)".isEmpty, "\(format) case \(k) (\(what)): an error without a message")
            }
            #expect(
                Date().timeIntervalSince(start) < 10,
                "\(format) case \(k) (\(what)) took \(Date().timeIntervalSince(start)) s, seed \(testSeed)")
        }
        return (accepted, refused)
    }

    @Test func imagesIDXAndPairsNeverTrap() throws {
        let cases = fuzzCases(short: 120)
        let dir = try temporaryDirectory()
        let rgb = (0..<(12 * 9 * 3)).map { UInt8($0 * 7 % 256) }
        try writePNG(dir + "/seed.png", width: 12, height: 9, channels: 3, pixels: rgb)
        let png = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/seed.png")))
        let jpeg = encodeJPEG(rgb, width: 12, height: 9, channels: 3)
        let idx = idxBytes(shape: [3, 4, 5], values: (0..<60).map { UInt8($0) })
        var results: [String: (Int, Int)] = [:]
        results["png"] = try fuzz("png", seed: png, header: 64, name: "x.png", cases: cases) { _ = try decodeImage($0, channels: 3) }
        results["jpeg"] = try fuzz("jpeg", seed: jpeg, header: 200, name: "x.jpg", cases: cases) { _ = try decodeImage($0, channels: 1) }
        results["idx"] = try fuzz("idx", seed: idx, header: 16, name: "x.idx", cases: cases) { _ = try readIDX($0) }
        // An MNIST-layout folder whose images file is mutated (the labels stay valid).
        let mnist = try temporaryDirectory()
        writeGzip(mnist + "/train-labels-idx1-ubyte.gz", idxBytes(shape: [3], values: [0, 1, 2]))
        results["mnist"] = try fuzz("mnist", seed: idx, header: 16, name: "raw", cases: cases) { path in
            writeGzip(mnist + "/train-images-idx3-ubyte.gz", [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
            _ = try TrainingSet(mnist, size: 8, channels: 1)
        }
        // Kaggle-style CSV tables, mutated as bytes and as text; read through TrainingSet (which resizes them).
        let csvHeader: String = "label," + (0..<9).map { "pixel\($0)" }.joined(separator: ",")
        let csvRows: [String] = (0..<3).map { row in
            ([row * 3] + (0..<9).map { (row * 9 + $0) * 9 }).map(String.init).joined(separator: ",")
        }
        let csv = [UInt8](([csvHeader] + csvRows).joined(separator: "\n").utf8) + [10]
        results["csv"] = try fuzz("csv", seed: csv, header: csv.count, name: "train.csv", cases: cases) {
            _ = try TrainingSet($0, size: 8, channels: 1)
        }
        results["csv text"] = try fuzz("csv text", seed: csv, header: 0, name: "train.csv", cases: cases, text: true) {
            _ = try TrainingSet($0, size: 8, channels: 1)
        }
        // An image folder and a pix2pix folder holding the mutated PNG beside a valid one: skipped and counted, or read.
        let folder = try temporaryDirectory()
        try writePNG(folder + "/good.png", width: 16, height: 8, channels: 3, pixels: [UInt8](repeating: 100, count: 16 * 8 * 3))
        results["folders"] = try fuzz("folders", seed: png, header: 64, name: "raw", cases: cases) { path in
            try FileManager.default.copyItem(atPath: path, toPath: folder + "/bad.png")
            defer { try? FileManager.default.removeItem(atPath: folder + "/bad.png") }
            let set = try TrainingSet(folder, size: 8, channels: 3)
            let pairs = try PairedSet(folder, size: 8, channels: 3, reversed: false)
            guard set.count + set.skipped.count == 2, pairs.count + pairs.skipped.count == 2 else {
                throw DatasetError("counted \(set.count) + \(set.skipped.count) images, \(pairs.count) + \(pairs.skipped.count) pairs")
            }
        }
        print(
            "fuzz (seed \(testSeed)): "
                + results.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.0) read, \($0.value.1) refused" }.joined(separator: "; "))
    }
}

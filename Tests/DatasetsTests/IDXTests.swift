import CPNG
import CZlib
import Datasets
import Foundation
import Testing

/// A fresh temporary directory per test.
func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "genocl-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func idxBytes(shape: [Int], values: [UInt8], type: UInt8 = 0x08) -> [UInt8] {
    var bytes: [UInt8] = [0, 0, type, UInt8(shape.count)]
    for d in shape { bytes += [UInt8(d >> 24 & 255), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] }
    return bytes + values
}

func writeGzip(_ path: String, _ bytes: [UInt8]) {
    let file = gzopen(path, "wb")
    _ = bytes.withUnsafeBytes { gzwrite(file, $0.baseAddress, UInt32($0.count)) }
    gzclose(file)
}

@Suite struct IDXTests {
    @Test func readsGzipAndRawFiles() throws {
        let dir = try temporaryDirectory()
        let values: [UInt8] = (0..<24).map { UInt8($0 * 10) }
        writeGzip(dir + "/a.gz", idxBytes(shape: [2, 3, 4], values: values))
        FileManager.default.createFile(atPath: dir + "/b", contents: Data(idxBytes(shape: [24], values: values)))
        let a = try readIDX(dir + "/a.gz"), b = try readIDX(dir + "/b")
        #expect(a.shape == [2, 3, 4] && a.bytes == values)
        #expect(b.shape == [24] && b.bytes == values)
    }

    @Test func badFilesAreClearErrors() throws {
        let dir = try temporaryDirectory()
        writeGzip(dir + "/truncated.gz", idxBytes(shape: [2, 3, 4], values: [1, 2, 3]))
        writeGzip(dir + "/magic.gz", [7, 7, 8, 1, 0, 0, 0, 1, 5])
        writeGzip(dir + "/float.gz", idxBytes(shape: [1], values: [0, 0, 0, 0], type: 0x0D))
        var gz = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/truncated.gz")))
        for i in 12..<gz.count - 8 { gz[i] ^= 0x5A }  // scramble the deflate stream
        FileManager.default.createFile(atPath: dir + "/corrupt.gz", contents: Data(gz))
        let cases = [
            ("truncated.gz", "truncated: header promises 24 values of shape [2, 3, 4], file has 3"),
            ("magic.gz", "not an IDX file (bad magic number)"),
            ("float.gz", "IDX element type 0xd is not supported"),
            ("corrupt.gz", "corrupt gzip data"),
            ("missing.gz", "no such readable file"),
        ]
        for (name, message) in cases {
            #expect(throws: DatasetError.self) { try readIDX(dir + "/" + name) }
            do {
                _ = try readIDX(dir + "/" + name)
            } catch {
                #expect("\(error)".hasPrefix(dir + "/" + name) && "\(error)".contains(message), "\(error)")
            }
        }
    }

    @Test func loadsAnMNISTLayoutDirectory() throws {
        let dir = try temporaryDirectory()
        writeGzip(dir + "/train-images-idx3-ubyte.gz", idxBytes(shape: [2, 2, 2], values: [0, 255, 51, 102, 0, 0, 0, 0]))
        writeGzip(dir + "/train-labels-idx1-ubyte.gz", idxBytes(shape: [2], values: [3, 9]))
        let data = try loadMNISTLayout(directory: dir)
        #expect(data.count == 2 && data.height == 2 && data.width == 2 && data.labels == [3, 9])
        #expect(data.images[0] == -1 && data.images[1] == 1 && Swift.abs(data.images[2] - (-0.6)) < 1e-6)
        #expect { try loadMNISTLayout(directory: dir, split: "t10k") } throws: { "\($0)".contains("no t10k-images* file") }
    }

    @Test func theDebianFashionMNISTPackageLoads() throws {
        // Installed by tools/setup-debian.sh; the built-in default dataset.
        let data = try loadMNISTLayout(directory: defaultFashionMNISTDirectory, split: "t10k")
        #expect(data.count == 10_000 && data.height == 28 && data.width == 28)
        #expect(Set(data.labels) == Set(0..<10))
    }
}

@Suite struct PNGTests {
    @Test func writtenGridReadsBackThroughLibpng() throws {
        let dir = try temporaryDirectory()
        let images: [Float] = [-1, 1, 0, 0.5]  // two 1×1×2 images
        let grid = imageGrid(images, count: 2, channels: 1, height: 1, width: 2, columns: 2)
        #expect(grid.width == 2 * (2 + 2) + 2 && grid.height == 1 + 4)
        try writePNG(dir + "/g.png", width: grid.width, height: grid.height, channels: 1, pixels: grid.pixels)
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        #expect(png_image_begin_read_from_file(&image, dir + "/g.png") != 0)
        image.format = 0
        var pixels = [UInt8](repeating: 7, count: Int(image.width * image.height))
        #expect(pixels.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) } != 0)
        #expect(pixels == grid.pixels)
        // Row 2, columns 2–3: the first image, [-1, 1] → [0, 255]; columns 6–7: [0, 0.5] → [128, 191].
        let row = Array(pixels[(2 * grid.width)..<(3 * grid.width)])
        #expect(row[2] == 0 && row[3] == 255 && row[6] == 128 && row[7] == 191)
        #expect { try writePNG(dir + "/nope/x.png", width: 1, height: 1, channels: 1, pixels: [0]) } throws: {
            "\($0)".contains("cannot write PNG")
        }
    }
}

@Suite struct DatasetDirectoryTests {
    @Test func missingDirectoryNamesThePathAndTheFix() {
        #expect { try loadMNISTLayout(directory: "/nonexistent/mnist") } throws: {
            "\($0)" == "/nonexistent/mnist: no such readable directory; pass --data with a directory of IDX files"
        }
    }
}

/// Headers whose sizes would trap the loader (issue 19): a clear error instead.
@Suite struct IDXHeaderTests {
    @Test func dimensionsThatOverflowOrHoldNoPixelsAreClearErrors() throws {
        let dir = try temporaryDirectory()
        writeGzip(dir + "/overflow.gz", [0, 0, 8, 3] + [UInt8](repeating: 0xFF, count: 12))
        #expect { try readIDX(dir + "/overflow.gz") } throws: { "\($0)".contains("multiply past any file's size") }
        writeGzip(dir + "/train-images-idx3-ubyte.gz", idxBytes(shape: [256, 0, 28], values: []))
        writeGzip(dir + "/train-labels-idx1-ubyte.gz", idxBytes(shape: [256], values: [UInt8](repeating: 1, count: 256)))
        #expect { try loadMNISTLayout(directory: dir) } throws: { "\($0)".contains("hold no pixels") }
        #expect { try TrainingSet(dir, size: 28, channels: 1) } throws: { "\($0)".contains("hold no pixels") }
        #expect(checkedProduct([1 << 40, 1 << 30]) == nil && checkedProduct([3, -1]) == nil && checkedProduct([2, 3, 4]) == 24)
    }

    /// A valid 1×1 image is no A|B pair (its halves would be empty).
    @Test func aOneByOnePairIsSkippedWithAReason() throws {
        let dir = try temporaryDirectory()
        try writePNG(dir + "/tiny.png", width: 1, height: 1, channels: 3, pixels: [10, 20, 30])
        #expect(throws: DatasetError.self) { try PairedSet(dir, size: 32, channels: 3, reversed: false) }
        try writePNG(dir + "/pair.png", width: 8, height: 4, channels: 3, pixels: [UInt8](repeating: 9, count: 96))
        let set = try PairedSet(dir, size: 32, channels: 3, reversed: false)
        #expect(set.count == 1 && set.skipped.count == 1 && set.skipped[0].contains("not an A|B pair"), "\(set.skipped)")
    }
}

/// Sizes that would exhaust memory are refused before anything is decoded (issue 19).
@Suite struct MemoryLimitTests {
    /// A 1×1 PNG whose header claims `width`×`height` (its IHDR checksum made right).
    func claimedPNG(width: UInt32, height: UInt32) throws -> [UInt8] {
        let dir = try temporaryDirectory()
        try writePNG(dir + "/one.png", width: 1, height: 1, channels: 3, pixels: [1, 2, 3])
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/one.png")))
        for (k, value) in [width, height].enumerated() {
            for b in 0..<4 { bytes[16 + 4 * k + b] = UInt8(value >> (24 - 8 * UInt32(b)) & 255) }
        }
        let crc = bytes[12..<29].withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, UInt32($0.count))) }
        for b in 0..<4 { bytes[29 + b] = UInt8(crc >> (24 - 8 * UInt32(b)) & 255) }
        return bytes
    }

    @Test func hugeImagesAndDataSetsAreRefusedUpFront() throws {
        let dir = try temporaryDirectory()
        try Data(try claimedPNG(width: 16384, height: 16384)).write(to: URL(fileURLWithPath: dir + "/huge.png"))
        let start = Date()
        #expect { try decodeImage(dir + "/huge.png", channels: 3) } throws: { "\($0)".contains("beyond genocl's limit of 67108864 pixels") }
        #expect(Date().timeIntervalSince(start) < 1)
        let mnist = try temporaryDirectory()
        writeGzip(mnist + "/train-images-idx3-ubyte.gz", idxBytes(shape: [4, 2, 2], values: [UInt8](repeating: 7, count: 16)))
        writeGzip(mnist + "/train-labels-idx1-ubyte.gz", idxBytes(shape: [4], values: [0, 1, 0, 1]))
        #expect { try TrainingSet(mnist, size: 1 << 20, channels: 3) } throws: { "\($0)".contains("in memory, more than the") }
        #expect(try TrainingSet(mnist, size: 8, channels: 1).count == 4)
    }
}

/// pix2pix's jitter (issue 24): pairs stored at the load size, cropped at random to the
/// image size with the same offset (and flip) for the input and its target.
@Suite struct JitterTests {
    @Test func cropsKeepPairsAlignedAndMove() {
        // Six pairs of 1×6×6 images whose pixel values encode (example, row, column); the
        // target is the input plus one step, so alignment is checkable value by value.
        let (count, load, size) = (6, 6, 4)
        let input = (0..<count * load * load).map { i in Float(i % 200) / 127.5 - 1 }
        let target = input.map { $0 + 1 / 127.5 }
        let examples = Examples(images: input, labels: [Int](repeating: 0, count: count), targets: target, count: count)
        let loader = DataLoader(examples, batchSize: 3, batchesPerStep: 1, seed: 9, flip: true, channels: 1, size: size, loadSize: load)
        var corners = Set<Float>()
        for step in 0..<8 {
            for batch in loader.batches(at: step) {
                #expect(batch.images.count == 3 * size * size && batch.targets.count == batch.images.count)
                for (a, b) in zip(batch.images, batch.targets) { #expect(abs((b - a) - 1 / 127.5) < 1e-5) }
                for k in 0..<3 { corners.insert(batch.images[k * size * size]) }
            }
        }
        // The crops start at different places: the top-left values differ across batches.
        #expect(corners.count > 6, "\(corners.count) distinct crop corners")
        // The same step gives the same crops (resume is exact).
        #expect(
            loader.batches(at: 3)[0].images
                == DataLoader(examples, batchSize: 3, batchesPerStep: 1, seed: 9, flip: true, channels: 1, size: size, loadSize: load)
                .batches(at: 3)[0].images)
        // A center crop for the held-out pairs: rows 1…4, columns 1…4 of each image.
        let center = examples.centerCropped(channels: 1, size: size, loadSize: load)
        #expect(center.count == count && center.images.count == count * size * size)
        #expect(center.images[0] == input[1 * load + 1] && center.images[size * size - 1] == input[4 * load + 4])
    }
}

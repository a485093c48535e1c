import CTurboJPEG
import Datasets
import Foundation
import Testing

/// Encodes interleaved 8-bit pixels as a JPEG (quality 100, no subsampling).
func encodeJPEG(_ pixels: [UInt8], width: Int, height: Int, channels: Int) -> [UInt8] {
    let handle = tjInitCompress()
    defer { tjDestroy(handle) }
    var buffer: UnsafeMutablePointer<UInt8>?
    var size: UInt = 0
    let format = channels == 3 ? Int32(TJPF_RGB.rawValue) : Int32(TJPF_GRAY.rawValue)
    let subsampling = channels == 3 ? Int32(TJSAMP_444.rawValue) : Int32(TJSAMP_GRAY.rawValue)
    _ = pixels.withUnsafeBufferPointer {
        tjCompress2(handle, $0.baseAddress, Int32(width), 0, Int32(height), format, &buffer, &size, subsampling, 100, 0)
    }
    defer { tjFree(buffer) }
    return Array(UnsafeBufferPointer(start: buffer, count: Int(size)))
}

@Suite struct DecodingTests {
    let dir: String = {
        let path = NSTemporaryDirectory() + "genocl-decode-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    // A 3×2 RGB image: red, green, blue / white, black, grey.
    let rgb: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 128, 128, 128]

    @Test func pngDecodesToPlanarFloats() throws {
        try writePNG(dir + "/a.png", width: 3, height: 2, channels: 3, pixels: rgb)
        let image = try decodeImage(dir + "/a.png", channels: 3)
        #expect(image.channels == 3 && image.height == 2 && image.width == 3)
        // Red plane: 255 0 0 / 255 0 128 → 1, −1, −1 / 1, −1, 128/127.5 − 1.
        #expect(Array(image.pixels[0..<6]) == [1, -1, -1, 1, -1, Float(128) / 127.5 - 1])
        let gray = try decodeImage(dir + "/a.png", channels: 1)
        #expect(gray.channels == 1 && gray.pixels[3] == 1 && gray.pixels[4] == -1)
    }

    @Test func jpegDecodesWithinCompressionError() throws {
        let flat = [UInt8](repeating: 200, count: 16 * 16 * 3)
        FileManager.default.createFile(atPath: dir + "/b.jpg", contents: Data(encodeJPEG(flat, width: 16, height: 16, channels: 3)))
        let image = try decodeImage(dir + "/b.jpg", channels: 3)
        #expect(image.height == 16 && image.width == 16)
        #expect(image.pixels.allSatisfy { Swift.abs($0 - (Float(200) / 127.5 - 1)) < 0.02 })
    }

    @Test func badFilesAreClearErrors() throws {
        try writePNG(dir + "/good.png", width: 3, height: 2, channels: 3, pixels: rgb)
        let png = [UInt8](FileManager.default.contents(atPath: dir + "/good.png")!)
        let jpeg = encodeJPEG([UInt8](repeating: 90, count: 32 * 32), width: 32, height: 32, channels: 1)
        var corrupt = png
        for i in 16..<corrupt.count { corrupt[i] ^= 0x3C }
        let cases: [(String, [UInt8], String)] = [
            ("truncated.png", Array(png.prefix(png.count / 2)), "PNG"),
            ("corrupt.png", corrupt, "corrupt PNG"),
            ("truncated.jpg", Array(jpeg.prefix(jpeg.count / 2)), "JPEG"),
            ("header.jpg", Array(jpeg.prefix(6)), "corrupt JPEG header"),
            ("text.png", Array("hello".utf8), "not a PNG or JPEG file"),
        ]
        for (name, bytes, message) in cases {
            FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(bytes))
            #expect { try decodeImage(dir + "/" + name, channels: 3) } throws: {
                "\($0)".hasPrefix(dir + "/" + name) && "\($0)".contains(message)
            }
        }
    }

    @Test func imageFoldersGiveClassesAndSkipBadFiles() throws {
        for (folder, name) in [("cats", "1.png"), ("cats", "2.png"), ("dogs", "x.jpg"), ("dogs", "deep/y.png")] {
            try FileManager.default.createDirectory(
                atPath: (dir + "/set/" + folder + "/" + name as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if name.hasSuffix(".jpg") {
                FileManager.default.createFile(
                    atPath: dir + "/set/\(folder)/\(name)",
                    contents: Data(encodeJPEG([UInt8](repeating: 10, count: 8 * 4 * 3), width: 8, height: 4, channels: 3)))
            } else {
                try writePNG(dir + "/set/\(folder)/\(name)", width: 3, height: 2, channels: 3, pixels: rgb)
            }
        }
        FileManager.default.createFile(atPath: dir + "/set/dogs/broken.png", contents: Data([0x89, 0x50, 0x4E, 0x47, 1, 2]))
        let folder = try ImageFolder(dir + "/set")
        #expect(folder.classes == ["cats", "dogs"])
        #expect(folder.labels == [0, 0, 1, 1, 1])
        let loaded = loadImages(folder, size: 4, channels: 3)
        #expect(loaded.images.count == 4 && loaded.labels == [0, 0, 1, 1])
        #expect(loaded.images.allSatisfy { $0.height == 4 && $0.width == 4 && $0.channels == 3 })
        #expect(loaded.skipped.count == 1 && loaded.skipped[0].contains("broken.png"))
        try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
        #expect { try ImageFolder(dir + "/empty") } throws: { "\($0)".contains("no PNG or JPEG images") }
    }

    @Test func transformsResizeCropFlipAndConvert() {
        let image = Image(channels: 1, height: 2, width: 4, pixels: [0, 1, 2, 3, 4, 5, 6, 7])
        #expect(image.resized(height: 1, width: 2).pixels == [2.5, 4.5])  // area: 2×2 means
        #expect(image.centerCropped(height: 2, width: 2).pixels == [1, 2, 5, 6])
        #expect(image.flippedHorizontally().pixels == [3, 2, 1, 0, 7, 6, 5, 4])
        #expect(image.withChannels(3).pixels == image.pixels + image.pixels + image.pixels)
        let up = Image(channels: 1, height: 1, width: 2, pixels: [0, 1]).resized(height: 1, width: 4)
        #expect(up.pixels == [0, 0.25, 0.75, 1])  // bilinear, align_corners = false
    }
}

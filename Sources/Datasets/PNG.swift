// PNG through libpng's simplified `png_image` API (its setjmp-based error
// handling is unusable from Swift; the simplified API reports errors in the
// struct instead).
import CPNG
import Foundation

/// Encodes 8-bit grayscale (`channels` 1) or RGB (3) pixels, row-major, as PNG.
public func encodePNG(width: Int, height: Int, channels: Int, pixels: [UInt8]) throws -> [UInt8] {
    precondition(channels == 1 || channels == 3, "PNG encoder takes 1 or 3 channels")
    guard pixels.count == width * height * channels, width > 0, height > 0 else {
        throw DatasetError("PNG: \(pixels.count) bytes for a \(width)×\(height)×\(channels) image")
    }
    var image = png_image()
    image.version = png_uint_32(PNG_IMAGE_VERSION)
    image.width = png_uint_32(width)
    image.height = png_uint_32(height)
    image.format = channels == 3 ? png_uint_32(PNG_FORMAT_FLAG_COLOR) : 0
    var size = 0
    // First ask for the size, then write into a buffer of that size.
    let sized = pixels.withUnsafeBytes {
        png_image_write_to_memory(&image, nil, &size, 0, $0.baseAddress, png_int_32(width * channels), nil)
    }
    var bytes = [UInt8](repeating: 0, count: size)
    let ok =
        sized != 0
        && bytes.withUnsafeMutableBytes { out in
            pixels.withUnsafeBytes {
                png_image_write_to_memory(&image, out.baseAddress, &size, 0, $0.baseAddress, png_int_32(width * channels), nil)
            }
        } != 0
    guard ok else {
        let message = withUnsafeBytes(of: image.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        png_image_free(&image)
        throw DatasetError("PNG: cannot encode: \(message)")
    }
    return Array(bytes.prefix(size))
}

/// Writes 8-bit grayscale (`channels` 1) or RGB (3) pixels, row-major, to `path`.
public func writePNG(_ path: String, width: Int, height: Int, channels: Int, pixels: [UInt8]) throws {
    let bytes = try encodePNG(width: width, height: height, channels: channels, pixels: pixels)
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
        throw DatasetError("\(path): cannot write PNG (does the folder exist and is it writable?)")
    }
}

/// Tiles `count` images of `[channels, height, width]` floats in [−1, 1] into a
/// grid of `columns` with a 2-pixel border, as 8-bit pixels.
public func imageGrid(
    _ images: [Float], count: Int, channels: Int, height: Int, width: Int, columns: Int, padding pad: Int = gridPadding
) -> (pixels: [UInt8], width: Int, height: Int) {
    let rows = (count + columns - 1) / columns
    let gridW = columns * (width + pad) + pad, gridH = rows * (height + pad) + pad
    var pixels = [UInt8](repeating: 0, count: gridW * gridH * channels)
    for i in 0..<count {
        let (top, left) = (pad + (i / columns) * (height + pad), pad + (i % columns) * (width + pad))
        for c in 0..<channels {
            for y in 0..<height {
                for x in 0..<width {
                    let v = images[((i * channels + c) * height + y) * width + x]
                    let byte = pixelByte(v)
                    pixels[((top + y) * gridW + left + x) * channels + c] = byte
                }
            }
        }
    }
    return (pixels, gridW, gridH)
}

/// Pixels between the images of a grid (and around them).
public let gridPadding = 2

/// A grid image a model writes (samples, reconstructions, triptychs) into `folder/step_NNNNNN.png`.
public struct OutputImage: Sendable {
    public var folder: String
    public var grid: (pixels: [UInt8], width: Int, height: Int)
    public var channels: Int
    /// The grid's columns and the side of its square cells (image and padding), for captions.
    public var columns = 0, cellSize = 0
    /// Captions of the columns, repeated across them (input | generated | target).
    public var columnCaptions: [String] = []
    /// The class each row shows, for conditional models' one-row-per-class grids.
    public var rowClasses: [Int]?
    /// A line of the title saying what the grid shows (a progressive GAN's resolution and α).
    public var note: String?

    public init(folder: String, grid: (pixels: [UInt8], width: Int, height: Int), channels: Int) {
        (self.folder, self.grid, self.channels) = (folder, grid, channels)
    }

    /// `images` (`[count, C, S, S]` in [−1, 1], count from their size) as a grid of `columns`.
    public init(folder: String, images: [Float], channels: Int, size: Int, columns: Int) {
        let count = images.count / (channels * size * size)
        self.init(
            folder: folder, grid: imageGrid(images, count: count, channels: channels, height: size, width: size, columns: columns),
            channels: channels)
        (self.columns, cellSize) = (columns, size + gridPadding)
    }
}

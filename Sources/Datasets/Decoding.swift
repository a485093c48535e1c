// Decoding PNG (libpng's simplified API) and JPEG (libturbojpeg) into `Image`s of
// 1 or 3 channels scaled to [−1, 1]. A file that cannot be decoded is an error
// naming the file and what is wrong with it.
import CPNG
import CTurboJPEG
import Foundation

/// The largest image genocl decodes, in pixels (8192×8192): its size is read from the header
/// first, so a small file that claims a huge image costs nothing.
public let maximumImagePixels = 1 << 26

/// Decodes a PNG or JPEG file (chosen by its first bytes, not its name) to `channels` (1 or 3).
public func decodeImage(_ path: String, channels: Int) throws -> Image {
    guard let data = FileManager.default.contents(atPath: path) else { throw DatasetError("\(path): cannot read the file") }
    let bytes = [UInt8](data)
    if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return try decodePNG(bytes, path: path, channels: channels) }
    if bytes.starts(with: [0xFF, 0xD8]) { return try decodeJPEG(bytes, path: path, channels: channels) }
    throw DatasetError("\(path): not a PNG or JPEG file")
}

private func scaled(_ pixels: [UInt8], channels: Int, height: Int, width: Int) -> Image {
    // Interleaved HWC bytes → planar CHW floats in [−1, 1].
    var planar = [Float](repeating: 0, count: pixels.count)
    let plane = height * width
    for i in 0..<plane {
        for c in 0..<channels { planar[c * plane + i] = pixelValue(pixels[i * channels + c]) }
    }
    return Image(channels: channels, height: height, width: width, pixels: planar)
}

func decodePNG(_ bytes: [UInt8], path: String, channels: Int) throws -> Image {
    var image = png_image()
    image.version = png_uint_32(PNG_IMAGE_VERSION)
    let message = { (image: png_image) in withUnsafeBytes(of: image.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) } }
    guard bytes.withUnsafeBytes({ png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }) != 0 else {
        throw DatasetError("\(path): corrupt PNG (\(message(image)))")
    }
    image.format = channels == 3 ? png_uint_32(PNG_FORMAT_FLAG_COLOR) : 0
    let (width, height) = (Int(image.width), Int(image.height))
    guard width > 0, height > 0, width * height <= maximumImagePixels else {
        png_image_free(&image)
        throw DatasetError(
            "\(path): PNG of \(width)×\(height) is empty or beyond genocl's limit of \(maximumImagePixels) pixels (8192×8192); downscale it"
        )
    }
    var pixels = [UInt8](repeating: 0, count: width * height * channels)
    let ok = pixels.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
    guard ok != 0 else { throw DatasetError("\(path): corrupt or truncated PNG (\(message(image)))") }
    return scaled(pixels, channels: channels, height: height, width: width)
}

func decodeJPEG(_ bytes: [UInt8], path: String, channels: Int) throws -> Image {
    guard let handle = tjInitDecompress() else { throw DatasetError("\(path): cannot start libturbojpeg") }
    defer { tjDestroy(handle) }
    let error = { String(cString: tjGetErrorStr2(handle)) }
    var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
    guard
        bytes.withUnsafeBufferPointer({
            tjDecompressHeader3(handle, $0.baseAddress, UInt($0.count), &width, &height, &subsampling, &colorspace)
        }) == 0,
        width > 0, height > 0
    else { throw DatasetError("\(path): corrupt JPEG header (\(error()))") }
    guard Int(width) * Int(height) <= maximumImagePixels else {
        throw DatasetError(
            "\(path): JPEG of \(width)×\(height) is beyond genocl's limit of \(maximumImagePixels) pixels (8192×8192); downscale it")
    }
    var pixels = [UInt8](repeating: 0, count: Int(width) * Int(height) * channels)
    let format = channels == 3 ? Int32(TJPF_RGB.rawValue) : Int32(TJPF_GRAY.rawValue)
    let status = bytes.withUnsafeBufferPointer { source in
        pixels.withUnsafeMutableBufferPointer {
            tjDecompress2(handle, source.baseAddress, UInt(source.count), $0.baseAddress, width, 0, height, format, 0)
        }
    }
    // A truncated JPEG decodes with a warning and grey rows; libturbojpeg reports it as an error too.
    guard status == 0 else { throw DatasetError("\(path): corrupt or truncated JPEG (\(error()))") }
    return scaled(pixels, channels: channels, height: Int(height), width: Int(width))
}

/// A folder of PNG/JPEG images, searched recursively. When every image sits in a
/// first-level sub-folder, the sub-folders (sorted by name) are the classes.
public struct ImageFolder: Sendable {
    public let files: [String]
    public let labels: [Int]
    public let classes: [String]

    public init(_ root: String) throws {
        guard let enumerator = FileManager.default.enumerator(atPath: root) else {
            throw DatasetError("\(root): no such readable folder")
        }
        var found: [String] = []
        while let relative = enumerator.nextObject() as? String {
            let lower = relative.lowercased()
            if lower.hasSuffix(".png") || lower.hasSuffix(".jpg") || lower.hasSuffix(".jpeg") { found.append(relative) }
        }
        found.sort()
        guard !found.isEmpty else { throw DatasetError("\(root): no PNG or JPEG images in this folder or below") }
        let topFolders = found.map { $0.split(separator: "/").count > 1 ? String($0.split(separator: "/")[0]) : nil }
        if topFolders.allSatisfy({ $0 != nil }) {
            classes = Array(Set(topFolders.compactMap { $0 })).sorted()
            let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
            labels = topFolders.map { index[$0!]! }
        } else {
            classes = []
            labels = [Int](repeating: 0, count: found.count)
        }
        files = found.map { root + "/" + $0 }
    }
}

/// Decodes every image of `folder`, center-crops it square and resizes it to
/// `size`×`size` with `channels`, in parallel. Files that fail to decode are skipped
/// and returned with their errors, so the caller can warn and count them.
public func loadImages(_ folder: ImageFolder, size: Int, channels: Int) -> (images: [Image], labels: [Int], skipped: [String]) {
    loadImages(folder.files, labels: folder.labels, channels: channels) { image in
        let side = min(image.height, image.width)
        return image.centerCropped(height: side, width: side).resized(height: size, width: size)
    }
}

/// Decodes the images of `folder` in parallel, each center-cropped to a square, resized to
/// `size` and given `channels`, straight into bytes (`b/127.5 − 1`): no image is ever kept as
/// floats, so a data set takes a byte a value. Undecodable files are skipped.
public func loadImageBytes(_ folder: ImageFolder, size: Int, channels: Int) -> (
    bytes: [UInt8], labels: [Int], skipped: [String], count: Int
) {
    let per = channels * size * size, files = folder.files
    final class Slots: @unchecked Sendable {
        var bytes: [UInt8]
        var failures: [String?]
        init(_ count: Int, _ per: Int) {
            (bytes, failures) = ([UInt8](repeating: 0, count: count * per), Array(repeating: nil, count: count))
        }
    }
    let slots = Slots(files.count, per)
    slots.bytes.withUnsafeMutableBufferPointer { buffer in
        let base = UncheckedPointer(buffer.baseAddress)
        slots.failures.withUnsafeMutableBufferPointer { failures in
            let failed = UncheckedPointer(failures.baseAddress)
            DispatchQueue.concurrentPerform(iterations: files.count) { i in
                do {
                    let image = try decodeImage(files[i], channels: channels)
                    let side = min(image.height, image.width)
                    let values = image.centerCropped(height: side, width: side).resized(height: size, width: size).withChannels(channels)
                        .pixels
                    for (k, v) in values.enumerated() { base.pointer![i * per + k] = pixelByte(v) }
                } catch {
                    failed.pointer![i] = "\(error)"
                }
            }
        }
    }
    // Close the gaps the skipped files left, in order.
    var kept = 0, labels: [Int] = [], skipped: [String] = []
    for i in files.indices {
        if let failure = slots.failures[i] {
            skipped.append(failure)
            continue
        }
        if kept != i { slots.bytes.replaceSubrange(kept * per..<(kept + 1) * per, with: slots.bytes[i * per..<(i + 1) * per]) }
        labels.append(folder.labels[i])
        kept += 1
    }
    slots.bytes.removeSubrange(kept * per..<slots.bytes.count)
    return (slots.bytes, labels, skipped, kept)
}

/// A raw pointer handed to the decoding threads, each writing its own slots.
struct UncheckedPointer<Element>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Element>?
    init(_ pointer: UnsafeMutablePointer<Element>?) { self.pointer = pointer }
}

/// Decodes `files` in parallel and applies `prepare` to each; undecodable files are skipped.
public func loadImages(
    _ files: [String], labels: [Int], channels: Int, prepare: @escaping @Sendable (Image) throws -> Image
) -> (images: [Image], labels: [Int], skipped: [String]) {
    /// Each slot is written by exactly one iteration, through a raw pointer (no shared
    /// array mutation, which Swift's exclusivity checks would reject).
    final class Slots: @unchecked Sendable {
        let results: UnsafeMutableBufferPointer<Result<Image, Error>?>
        init(_ count: Int) {
            results = .allocate(capacity: count)
            results.initialize(repeating: nil)
        }
        deinit {
            results.deinitialize()
            results.deallocate()
        }
    }
    let slots = Slots(files.count)
    DispatchQueue.concurrentPerform(iterations: files.count) { i in
        let result = Result<Image, Error> { try prepare(try decodeImage(files[i], channels: channels)) }
        slots.results[i] = result
    }
    var images: [Image] = [], kept: [Int] = [], skipped: [String] = []
    for (i, result) in slots.results.enumerated() {
        switch result! {
        case .success(let image):
            images.append(image)
            kept.append(labels[i])
        case .failure(let error):
            skipped.append("\(error)")
        }
    }
    return (images, kept, skipped)
}

// The images a model trains on: an MNIST-layout IDX folder, a CSV table of image rows or
// a folder of PNG/JPEG images, decoded once and resized to the model's size and channels.
import Foundation

/// Whether `path` is an MNIST-layout IDX folder (the built-in Fashion-MNIST, or one holding `train-images*`).
public func isMNISTLayout(_ path: String) -> Bool {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    return names.contains { $0.hasPrefix("train-images") } || path == defaultFashionMNISTDirectory
}

public struct TrainingSet: Sendable {
    /// `[count, channels, size, size]` as bytes `b` of the values `b/127.5 − 1` (see `Examples`).
    public let bytes: [UInt8]
    /// The same in [−1, 1].
    public var pixels: [Float] { dequantized(bytes[...]) }
    public let labels: [Int]
    public let count: Int
    /// The number of classes: sub-folders of an image folder, 10 for IDX data, 1 when unlabeled.
    public let classes: Int
    /// The classes' names: the sub-folders of an image folder, Fashion-MNIST's garments, else the labels' digits.
    public let classNames: [String]
    /// Files that could not be decoded, with why (skipped).
    public let skipped: [String]

    /// Loads `path`: an IDX folder (its `split`, `train` or `t10k`), a CSV table of image rows, or an
    /// image folder (see `DataLayout`).
    public init(_ path: String, size: Int, channels: Int, split: String = "train") throws {
        var images: [Image] = []
        var bytes: [UInt8] = []
        let layout = DataLayout(path)
        if layout.isDigits {
            let table =
                layout == .csv
                ? try readImageCSV(path)
                : ImageTable(images: try loadMNISTLayout(directory: path, split: split), labeled: true, skipped: [])
            let data = table.images
            try checkMemory(path, images: data.count, channels: channels, size: size)
            let plane = data.height * data.width
            images = (0..<data.count).map { i in
                Image(channels: 1, height: data.height, width: data.width, pixels: Array(data.images[(i * plane)..<((i + 1) * plane)]))
            }
            labels = data.labels
            let count = table.labeled ? (data.labels.max() ?? 0) + 1 : 1
            let fashion = count == 10 && (path == defaultFashionMNISTDirectory || path.lowercased().contains("fashion"))
            (classes, classNames) = (count, (0..<count).map { fashion ? fashionMNISTClasses[$0] : String($0) })
            skipped = table.skipped
        } else {
            let folder = try ImageFolder(path)
            try checkMemory(path, images: folder.files.count, channels: channels, size: size)
            let loaded = loadImageBytes(folder, size: size, channels: channels)
            guard loaded.count > 0 else {
                throw DatasetError(
                    "\(path): none of the \(loaded.skipped.count) images could be decoded; the first: \(loaded.skipped.first ?? "")")
            }
            (bytes, labels, skipped) = (loaded.bytes, loaded.labels, loaded.skipped)
            classes = max(folder.classes.count, 1)
            classNames = folder.classes.isEmpty ? ["images"] : folder.classes
        }
        // IDX and CSV images, small as decoded: resized one by one into bytes.
        bytes.reserveCapacity(bytes.count + images.count * channels * size * size)
        for image in images { bytes += quantized(image.resized(height: size, width: size).withChannels(channels).pixels) }
        self.bytes = bytes
        count = bytes.count / max(channels * size * size, 1)
    }
}

/// Fashion-MNIST's labels 0–9.
public let fashionMNISTClasses = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

/// Refuses a data set whose decoded images (`images` of `channels`×`size`×`size` values, a byte
/// each where kept as bytes) would not fit in this machine's memory, before decoding any: the
/// loader keeps them all.
func checkMemory(_ path: String, images: Int, channels: Int, size: Int, copies: Int = 1, bytesPerValue: Int = 1) throws {
    let bytes = checkedProduct([images, channels, size, size, bytesPerValue, copies]) ?? .max
    // Half the memory: decoding and resizing need room beside the images, and training more.
    let available = Int(clamping: ProcessInfo.processInfo.physicalMemory) / 2
    guard bytes <= available else {
        let gib = { (b: Int) in String(format: "%.1f GiB", Double(b) / 1_073_741_824) }
        throw DatasetError(
            "\(path): \(images) images at \(size)×\(size)×\(channels) take \(bytes == .max ? "more than any machine's memory" : gib(bytes)) in memory, more than the \(gib(available)) this machine can give them; use a smaller --image-size or a subset of the images"
        )
    }
}

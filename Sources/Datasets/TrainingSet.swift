// The images a model trains on: an MNIST-layout IDX folder or a folder of PNG/JPEG
// images, decoded once and resized to the model's size and channels.
import Foundation

/// Whether `path` is an MNIST-layout IDX folder (the built-in Fashion-MNIST, or one holding `train-images*`).
public func isMNISTLayout(_ path: String) -> Bool {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    return names.contains { $0.hasPrefix("train-images") } || path == defaultFashionMNISTDirectory
}

public struct TrainingSet: Sendable {
    /// `[count, channels, size, size]` in [−1, 1].
    public let pixels: [Float]
    public let labels: [Int]
    public let count: Int
    /// The number of classes: sub-folders of an image folder, 10 for IDX data, 1 when unlabeled.
    public let classes: Int
    /// Files that could not be decoded, with why (skipped).
    public let skipped: [String]

    /// Loads `path` (IDX layout when it holds `train-images*`, else an image folder).
    public init(_ path: String, size: Int, channels: Int) throws {
        var images: [Image] = []
        if isMNISTLayout(path) {
            let data = try loadMNISTLayout(directory: path)
            let plane = data.height * data.width
            images = (0..<data.count).map { i in
                Image(channels: 1, height: data.height, width: data.width, pixels: Array(data.images[(i * plane)..<((i + 1) * plane)]))
            }
            labels = data.labels
            classes = (data.labels.max() ?? 0) + 1
            skipped = []
        } else {
            let folder = try ImageFolder(path)
            let loaded = loadImages(folder, size: size, channels: channels)
            guard !loaded.images.isEmpty else {
                throw DatasetError(
                    "\(path): none of the \(loaded.skipped.count) images could be decoded; the first: \(loaded.skipped.first ?? "")")
            }
            (images, labels, skipped) = (loaded.images, loaded.labels, loaded.skipped)
            classes = max(folder.classes.count, 1)
        }
        var pixels: [Float] = []
        pixels.reserveCapacity(images.count * channels * size * size)
        for image in images { pixels += image.resized(height: size, width: size).withChannels(channels).pixels }
        self.pixels = pixels
        count = images.count
    }
}

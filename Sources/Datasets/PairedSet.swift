// Paired images for image-to-image translation (pix2pix), laid out as the public
// pix2pix datasets are: each file holds A and B side by side (A left), in `train/`
// and `val/` (or `test/`) sub-folders of the dataset root; or `A/` and `B/` folders
// whose files match by name. Each side is resized to `size`×`size`.
import Foundation

public struct PairedSet: Sendable {
    /// `[count, channels, size, size]` in [−1, 1]: the generator's inputs and targets.
    public let inputs: [Float]
    public let targets: [Float]
    public let count: Int
    public let skipped: [String]

    /// The pairs of one folder; `reversed` swaps A and B (`--direction BtoA`).
    public init(_ path: String, size: Int, channels: Int, reversed: Bool) throws {
        let manager = FileManager.default
        var isFolder: ObjCBool = false
        var a: [Image] = [], b: [Image] = [], skipped: [String] = []
        if manager.fileExists(atPath: path + "/A", isDirectory: &isFolder), isFolder.boolValue, manager.fileExists(atPath: path + "/B") {
            let left = try ImageFolder(path + "/A"), right = try ImageFolder(path + "/B")
            let names = Set(right.files.map { String($0.dropFirst(path.count + 3)) })
            let matched = left.files.filter { names.contains(String($0.dropFirst(path.count + 3))) }
            guard !matched.isEmpty else { throw DatasetError("\(path): no file of A/ has a file of the same name in B/") }
            try checkMemory(path, images: matched.count, channels: channels, size: size, copies: 2)
            let prepare: @Sendable (Image) -> Image = { $0.resized(height: size, width: size) }
            let loadedA = loadImages(matched, labels: matched.map { _ in 0 }, channels: channels, prepare: prepare)
            let loadedB = loadImages(
                matched.map { path + "/B/" + $0.dropFirst(path.count + 3) }, labels: matched.map { _ in 0 }, channels: channels,
                prepare: prepare)
            guard loadedA.skipped.isEmpty, loadedB.skipped.isEmpty else {
                throw DatasetError("\(path): cannot decode \((loadedA.skipped + loadedB.skipped)[0]); fix or remove the pair")
            }
            (a, b) = (loadedA.images, loadedB.images)
        } else {
            let files = try ImageFolder(path).files
            try checkMemory(path, images: files.count, channels: channels, size: size, copies: 2)
            // One decode per file; the halves are stacked as channels and split below.
            let loaded = loadImages(files, labels: files.map { _ in 0 }, channels: channels) { image in
                guard image.width >= 2, image.width >= 2 * image.height * 9 / 10 else {
                    throw DatasetError(
                        "an image of \(image.width)×\(image.height) is not an A|B pair side by side (expected about twice as wide as high)")
                }
                let half = image.width / 2
                let left = image.cropped(top: 0, left: 0, height: image.height, width: half).resized(height: size, width: size)
                let right = image.cropped(top: 0, left: half, height: image.height, width: half).resized(height: size, width: size)
                return Image(channels: 2 * channels, height: size, width: size, pixels: left.pixels + right.pixels)
            }
            let plane = channels * size * size
            a = loaded.images.map { Image(channels: channels, height: size, width: size, pixels: Array($0.pixels[0..<plane])) }
            b = loaded.images.map { Image(channels: channels, height: size, width: size, pixels: Array($0.pixels[plane...])) }
            skipped = loaded.skipped
            guard !a.isEmpty else {
                throw DatasetError("\(path): none of the \(skipped.count) images could be used; the first: \(skipped.first ?? "")")
            }
        }
        if reversed { swap(&a, &b) }
        inputs = a.flatMap(\.pixels)
        targets = b.flatMap(\.pixels)
        count = a.count
        self.skipped = skipped
    }

    /// The training pairs and the held-out pairs of a dataset root: `train/` and `val/`
    /// (else `test/`) when present, else the root itself with no held-out split.
    public static func splits(_ root: String, size: Int, channels: Int, reversed: Bool) throws -> (train: PairedSet, heldOut: PairedSet?) {
        let manager = FileManager.default
        guard manager.fileExists(atPath: root + "/train") else {
            return (try PairedSet(root, size: size, channels: channels, reversed: reversed), nil)
        }
        let train = try PairedSet(root + "/train", size: size, channels: channels, reversed: reversed)
        for name in ["val", "test"] where manager.fileExists(atPath: root + "/" + name) {
            return (train, try PairedSet(root + "/" + name, size: size, channels: channels, reversed: reversed))
        }
        return (train, nil)
    }
}

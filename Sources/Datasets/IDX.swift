// IDX files (the MNIST family's format), gzip-compressed or raw: a big-endian
// header `0 0 type rank`, `rank` UInt32 dimensions, then the values.
import CZlib
import Foundation

/// An error reading a dataset file, naming the file and what to do.
public struct DatasetError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The product of sizes read from a file (a shape), or nil when a size is negative or the
/// product overflows: a header's sizes are never trusted before they are multiplied.
public func checkedProduct(_ sizes: [Int]) -> Int? {
    var product = 1
    for size in sizes {
        guard size >= 0 else { return nil }
        let (result, overflow) = product.multipliedReportingOverflow(by: size)
        if overflow { return nil }
        product = result
    }
    return product
}

/// The unsigned-byte contents of an IDX file.
public struct IDXArray {
    public let shape: [Int]
    public let bytes: [UInt8]
}

/// Reads an IDX file of unsigned bytes (type 0x08); `.gz` files are inflated.
public func readIDX(_ path: String) throws -> IDXArray {
    guard FileManager.default.isReadableFile(atPath: path) else {
        throw DatasetError("\(path): no such readable file")
    }
    guard let file = gzopen(path, "rb") else { throw DatasetError("\(path): cannot open") }
    defer { gzclose(file) }
    var data = [UInt8]()
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let n = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
        if n < 0 { throw DatasetError("\(path): corrupt gzip data") }
        if n == 0 { break }
        data.append(contentsOf: chunk[0..<Int(n)])
    }
    guard data.count >= 4, data[0] == 0, data[1] == 0 else {
        throw DatasetError("\(path): not an IDX file (bad magic number)")
    }
    guard data[2] == 0x08 else {
        throw DatasetError("\(path): IDX element type 0x\(String(data[2], radix: 16)) is not supported (only unsigned bytes, 0x08)")
    }
    let rank = Int(data[3])
    guard rank >= 1, data.count >= 4 + 4 * rank else { throw DatasetError("\(path): truncated IDX header") }
    let shape = (0..<rank).map { axis in
        data[(4 + 4 * axis)..<(8 + 4 * axis)].reduce(0) { $0 << 8 | Int($1) }
    }
    guard let count = checkedProduct(shape) else {
        throw DatasetError("\(path): the header's dimensions \(shape) multiply past any file's size; the file is damaged")
    }
    let start = 4 + 4 * rank
    guard data.count - start >= count else {
        throw DatasetError("\(path): truncated: header promises \(count) values of shape \(shape), file has \(data.count - start)")
    }
    return IDXArray(shape: shape, bytes: Array(data[start..<(start + count)]))
}

/// Images and labels of an MNIST-layout directory (MNIST, Fashion-MNIST).
public struct LabeledImages {
    /// `[N, 1, H, W]` scaled to [−1, 1].
    public let images: [Float]
    public let labels: [Int]
    public let count: Int
    public let height: Int
    public let width: Int
}

/// Where Debian's `dataset-fashion-mnist` package installs Fashion-MNIST.
public let defaultFashionMNISTDirectory = "/usr/share/datasets/fashion-mnist"

/// Loads `train` or `t10k` images and labels from an MNIST-layout directory.
public func loadMNISTLayout(directory: String, split: String = "train") throws -> LabeledImages {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
        let hint =
            directory == defaultFashionMNISTDirectory
            ? "install Debian's dataset-fashion-mnist package (tools/setup-debian.sh does)" : "pass --data with a directory of IDX files"
        throw DatasetError("\(directory): no such readable directory; \(hint)")
    }
    func find(_ kind: String) throws -> String {
        guard let name = names.sorted().first(where: { $0.hasPrefix("\(split)-\(kind)") }) else {
            throw DatasetError(
                "\(directory): no \(split)-\(kind)* file (expected the MNIST layout, e.g. \(split)-\(kind)-idx\(kind == "images" ? 3 : 1)-ubyte.gz)"
            )
        }
        return directory + "/" + name
    }
    let images = try readIDX(try find("images"))
    let labels = try readIDX(try find("labels"))
    guard images.shape.count == 3, labels.shape.count == 1, images.shape[0] == labels.shape[0] else {
        throw DatasetError("\(directory): images \(images.shape) and labels \(labels.shape) do not match")
    }
    guard images.shape.allSatisfy({ $0 > 0 }) else {
        throw DatasetError("\(directory): images of shape \(images.shape) hold no pixels (a dimension is 0); the IDX file is damaged")
    }
    return LabeledImages(
        images: images.bytes.map(pixelValue), labels: labels.bytes.map(Int.init),
        count: images.shape[0], height: images.shape[1], width: images.shape[2])
}

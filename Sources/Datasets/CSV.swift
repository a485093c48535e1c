// Images as rows of a CSV table, as Kaggle ships MNIST-family data (digit-recognizer's
// train.csv and test.csv, Fashion-MNIST's CSVs): a header naming an optional `label`
// column and the pixel columns, then one image per row, its pixels 0–255 in row-major
// order. A malformed row is skipped and reported by its line number, as a broken image
// file in a folder is.
import Foundation

/// The kind of data `--data` names.
public enum DataLayout: Sendable {
    /// An MNIST-layout folder of IDX files (the built-in Fashion-MNIST, or one holding `train-images*`).
    case idx
    /// A CSV file of image rows (`.csv`).
    case csv
    /// A folder of PNG/JPEG images (or of pairs).
    case imageFolder

    public init(_ path: String) {
        if path.lowercased().hasSuffix(".csv") {
            self = .csv
        } else {
            self = isMNISTLayout(path) ? .idx : .imageFolder
        }
    }

    /// Whether the data are 28×28-class gray digits (the MNIST family), which sets the study defaults.
    public var isDigits: Bool { self != .imageFolder }
}

/// The images of a CSV table, and the rows that were skipped.
public struct ImageTable {
    public let images: LabeledImages
    /// Whether the table has a `label` column (train.csv does, test.csv does not).
    public let labeled: Bool
    /// The rows skipped, each as "path line N: why".
    public let skipped: [String]
}

/// Labels a table may hold: a class index below this (its classes size the models' embeddings).
let maximumCSVClasses = 1024

/// Reads a CSV table of images: `label` (optional, any column), then a square number of pixel
/// columns; a header line is optional when the column count tells the layout (n² or n² + 1).
public func readImageCSV(_ path: String) throws -> ImageTable {
    guard let data = FileManager.default.contents(atPath: path) else { throw DatasetError("\(path): no such readable file") }
    // Each value takes at least two bytes ("0,") and becomes a 4-byte float.
    let available = Int(clamping: ProcessInfo.processInfo.physicalMemory) / 2
    guard data.count <= available / 2 else {
        throw DatasetError(
            "\(path): \(data.count >> 20) MiB of CSV would not fit in this machine's memory once decoded; use a subset of its rows")
    }
    var lines = CSVLines([UInt8](data))
    guard let (firstNumber, first) = lines.next() else { throw DatasetError("\(path): the file is empty; expected a header and rows") }
    let names = first.map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespaces) }
    let hasHeader = names.contains { Int($0) == nil }
    let labelColumn: Int?
    if hasHeader {
        labelColumn = names.firstIndex { $0.lowercased() == "label" }
    } else {
        labelColumn = isSquare(names.count) ? nil : 0
    }
    let pixels = names.count - (labelColumn == nil ? 0 : 1)
    guard pixels > 0, isSquare(pixels) else {
        throw DatasetError(
            "\(path) line \(firstNumber): \(pixels) pixel columns do not make a square image; expected a header like label,pixel0,…,pixel783 and rows of 0–255"
        )
    }
    let side = Int(Double(pixels).squareRoot().rounded())
    var values: [Float] = [], labels: [Int] = [], skipped: [String] = []
    var row = [Float](repeating: 0, count: pixels)
    func read(_ fields: [ArraySlice<UInt8>], line: Int) {
        guard fields.count == names.count else {
            skipped.append("\(path) line \(line): \(fields.count) values, expected \(names.count)")
            return
        }
        var label = 0, p = 0
        for (column, field) in fields.enumerated() {
            guard let value = parseCount(field) else {
                skipped.append(
                    "\(path) line \(line): column \(column + 1) (\(String(decoding: field.prefix(20), as: UTF8.self))) is not a whole number"
                )
                return
            }
            if column == labelColumn {
                guard value < maximumCSVClasses else {
                    skipped.append("\(path) line \(line): label \(value) is not a class from 0 to \(maximumCSVClasses - 1)")
                    return
                }
                label = value
            } else {
                guard value <= 255 else {
                    skipped.append("\(path) line \(line): pixel \(p) is \(value), not 0–255")
                    return
                }
                row[p] = pixelValue(UInt8(value))
                p += 1
            }
        }
        values += row
        labels.append(label)
    }
    if !hasHeader { read(first, line: firstNumber) }
    while let (number, fields) = lines.next() { read(fields, line: number) }
    guard !labels.isEmpty else {
        throw DatasetError(
            "\(path): none of its \(skipped.count) rows is an image; the first: \(skipped.first ?? "no rows after the header")")
    }
    return ImageTable(
        images: LabeledImages(images: values, labels: labels, count: labels.count, height: side, width: side), labeled: labelColumn != nil,
        skipped: skipped)
}

private func isSquare(_ n: Int) -> Bool {
    let root = Int(Double(n).squareRoot().rounded())
    return root * root == n
}

/// A non-negative decimal integer with optional surrounding spaces (at most 9 digits), or nil.
private func parseCount(_ field: ArraySlice<UInt8>) -> Int? {
    var value = 0, digits = 0
    for byte in field {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            guard digits < 9 else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
            digits += 1
        case UInt8(ascii: " "), UInt8(ascii: "\t"):
            continue
        default:
            return nil
        }
    }
    return digits > 0 ? value : nil
}

/// The non-empty lines of a CSV file, numbered from 1, split at commas (Kaggle's tables
/// quote nothing; a quoted field is not a number and its row is skipped).
private struct CSVLines {
    private let bytes: [UInt8]
    private var at = 0, number = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func next() -> (number: Int, fields: [ArraySlice<UInt8>])? {
        while at < bytes.count {
            number += 1
            var end = at
            while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
            var line = bytes[at..<end]
            at = end + 1
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            if line.allSatisfy({ $0 == UInt8(ascii: " ") }) { continue }
            return (number, line.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false))
        }
        return nil
    }
}

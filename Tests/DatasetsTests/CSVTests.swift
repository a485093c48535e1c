import Datasets
import Foundation
import Testing

/// Kaggle's digit tables (issue 24's CSV reader): the same images as the IDX files they
/// were made from; malformed rows skipped by line number; unreadable tables refused.
@Suite struct CSVTests {
    /// Three 3×3 images with labels 0, 7, 2, as IDX values.
    let values: [UInt8] = (0..<27).map { UInt8($0 * 9 % 256) }
    let labels: [UInt8] = [0, 7, 2]

    func table(header: Bool = true, label: Bool = true, newline: String = "\n", extra: [String] = []) -> String {
        var lines: [String] = []
        if header { lines.append(((label ? ["label"] : []) + (0..<9).map { "pixel\($0)" }).joined(separator: ",")) }
        for i in 0..<3 {
            let pixels = values[(i * 9)..<(i * 9 + 9)].map(String.init)
            lines.append(((label ? [String(labels[i])] : []) + pixels).joined(separator: ","))
        }
        return (lines + extra).joined(separator: newline) + newline
    }

    func write(_ text: String) throws -> String {
        let path = try temporaryDirectory() + "/train.csv"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func tablesReadAsTheIDXFilesTheyWereMadeFrom() throws {
        let dir = try temporaryDirectory()
        writeGzip(dir + "/train-images-idx3-ubyte.gz", idxBytes(shape: [3, 3, 3], values: values))
        writeGzip(dir + "/train-labels-idx1-ubyte.gz", idxBytes(shape: [3], values: labels))
        let idx = try TrainingSet(dir, size: 3, channels: 1)
        for text in [table(), table(newline: "\r\n"), table(header: false)] {
            let csv = try TrainingSet(try write(text), size: 3, channels: 1)
            #expect(csv.pixels == idx.pixels && csv.labels == idx.labels && csv.classes == 8 && csv.skipped.isEmpty)
        }
        // test.csv: no label column, one class; the label may be any column of a header.
        let unlabeled = try TrainingSet(try write(table(label: false)), size: 3, channels: 1)
        #expect(unlabeled.pixels == idx.pixels && unlabeled.classes == 1 && unlabeled.labels == [0, 0, 0])
        let moved = "pixel0,pixel1,pixel2,pixel3,Label,pixel4,pixel5,pixel6,pixel7,pixel8\n1,2,3,4,5,6,7,8,9,10\n"
        let table = try readImageCSV(try write(moved))
        #expect(
            table.labeled && table.images.labels == [5]
                && table.images.images == [1, 2, 3, 4, 6, 7, 8, 9, 10].map { Float($0) / 127.5 - 1 })
        #expect(DataLayout("/x/train.CSV") == .csv && DataLayout("/x/train.CSV").isDigits && DataLayout(dir) == .idx)
        #expect(DataLayout("/nonexistent/images") == .imageFolder && !DataLayout("/nonexistent/images").isDigits)
    }

    @Test func malformedRowsAreSkippedByLineNumber() throws {
        let bad = [
            "1,2,3", "3,1,2,3,4,5,6,7,8,x", "4,1,2,3,4,5,6,7,8,256", "2000,1,2,3,4,5,6,7,8,9", "\"5\",1,2,3,4,5,6,7,8,9",
            "-1,1,2,3,4,5,6,7,8,9", "1,1,2,3,4,5,6,7,8,9,10", "", "  ",
        ]
        let table = try readImageCSV(try write(table(extra: bad)))
        #expect(table.images.count == 3 && table.images.labels == [0, 7, 2])
        #expect(table.skipped.count == 7)
        let reasons = [
            "line 5: 3 values, expected 10", "line 6: column 10 (x) is not a whole number", "line 7: pixel 8 is 256, not 0–255",
            "line 8: label 2000 is not a class from 0 to 1023", "line 9: column 1 (\"5\") is not a whole number",
            "line 10: column 1 (-1) is not a whole number", "line 11: 11 values, expected 10",
        ]
        for (skip, reason) in zip(table.skipped, reasons) { #expect(skip.hasSuffix(reason), "\(skip)") }
    }

    @Test func unreadableTablesAreRefused() throws {
        let cases = [
            ("", "the file is empty"), ("label,a,b\n1,2,3\n", "2 pixel columns do not make a square image"),
            ("label,pixel0\n1,x\n", "none of its 1 rows is an image; the first: "), ("label,pixel0\n", "no rows after the header"),
            ("1,2,3\n", "2 pixel columns"),
        ]
        for (text, message) in cases {
            #expect { try readImageCSV(try write(text)) } throws: { "\($0)".contains(message) }
        }
        #expect { try readImageCSV("/nonexistent/train.csv") } throws: { "\($0)".contains("no such readable file") }
    }
}

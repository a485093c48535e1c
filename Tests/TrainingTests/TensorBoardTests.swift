import Datasets
import Foundation
import Testing
import Training

/// Reads TFRecord framing back, checking both CRCs of every record.
func readRecords(_ path: String) throws -> [[UInt8]] {
    let bytes = [UInt8](FileManager.default.contents(atPath: path) ?? Data())
    var records: [[UInt8]] = [], offset = 0
    func u32(_ at: Int) -> UInt32 { bytes[at..<(at + 4)].reversed().reduce(0) { $0 << 8 | UInt32($1) } }
    while offset < bytes.count {
        let lengthBytes = Array(bytes[offset..<(offset + 8)])
        let length = Int(lengthBytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        #expect(u32(offset + 8) == maskedCRC32C(lengthBytes))
        let data = Array(bytes[(offset + 12)..<(offset + 12 + length)])
        #expect(u32(offset + 12 + length) == maskedCRC32C(data))
        records.append(data)
        offset += 16 + length
    }
    return records
}

@Suite struct TensorBoardTests {
    @Test func crc32cMatchesTheStandardCheckValue() {
        #expect(crc32c(Array("123456789".utf8)) == 0xE306_9283)
        #expect(crc32c([]) == 0)
    }

    @Test func eventsAreFramedAndCarryTheirValues() throws {
        let dir = NSTemporaryDirectory() + "genocl-tb-" + UUID().uuidString
        let writer = try EventWriter(folder: dir)
        try writer.scalars([("loss/D", 0.5)], step: 7)
        try writer.image("samples", png: [1, 2, 3], width: 1, height: 1, channels: 1, step: 8)
        writer.flush()
        let records = try readRecords(writer.path)
        #expect(records.count == 3)
        #expect(String(decoding: records[0], as: UTF8.self).contains("brain.Event:2"))
        // Event: wall_time (field 1, fixed64: key and 8 bytes), then step = 7 (field 2, varint);
        // the Value: tag "loss/D", simple_value 0.5 (field 2, fixed32). (Searching for the
        // step's key byte anywhere would match wall-time bytes now and then.)
        #expect(records[1].count > 10 && records[1][0] == 0x09 && records[1][9] == 0x10 && records[1][10] == 7)
        let scalar: [UInt8] = [0x0A, 6] + Array("loss/D".utf8) + [0x15, 0, 0, 0, 0x3F]
        #expect(records[1].windows(scalar.count).contains(scalar))
        let image: [UInt8] = [0x08, 1, 0x10, 1, 0x18, 1, 0x22, 3, 1, 2, 3]
        #expect(records[2].windows(image.count).contains(image))
    }

    @Test func lossPlotIsAPNG() throws {
        let folder = NSTemporaryDirectory() + "genocl-plots-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let rows =
            "step,epoch,loss_d,loss_g,d_x,d_g_z,gradient_penalty,images_per_second,seconds\n1,1,1.4,0.7,0.5,0.4,0.1,30,1\n2,1,1.2,0.9,0.6,0.4,0.2,31,2\n3,1,0.9,1.5,0.7,0.3,0.1,32,3\n"
        try Data(rows.utf8).write(to: URL(fileURLWithPath: folder + "/metrics.csv"))
        let written = try writeRunPlots(folder: folder, subject: "wgan-gp on dogs")
        #expect(
            written.map { ($0 as NSString).lastPathComponent } == [
                "losses.png", "discriminator.png", "gradient-penalty.png", "throughput.png",
            ])
        let png = try #require(FileManager.default.contents(atPath: folder + "/loss.png"))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 100)
        for file in written { #expect(FileManager.default.fileExists(atPath: file.replacingOccurrences(of: ".png", with: ".svg"))) }
    }

    @Test func metricGroupsFollowTheModelsMetrics() {
        #expect(
            metricGroups(["loss", "reconstruction", "kl", "images_per_second", "seconds"]).map(\.file) == [
                "losses", "vae-terms", "throughput",
            ])
        #expect(
            metricGroups(["loss_d", "loss_g", "d_x", "d_g_z", "loss_g_gan", "loss_g_l1"]).map(\.metrics) == [
                ["loss_d", "loss_g"], ["loss_g_gan", "loss_g_l1"], ["d_x", "d_g_z"],
            ])
        #expect(metricGroups(["loss_d", "loss_g", "d_x", "d_g_z", "class_accuracy"]).last?.title == "class accuracy")
    }
}

extension Array where Element == UInt8 {
    func windows(_ size: Int) -> [[UInt8]] { count >= size ? (0...(count - size)).map { Array(self[$0..<($0 + size)]) } : [] }
}

/// Grids that explain themselves: a title band above the grid, column captions where they
/// fit their cells (else in the title), class names beside the rows.
@Suite struct CaptionTests {
    func grid(columns: Int, rows: Int, size: Int) -> OutputImage {
        OutputImage(
            folder: "samples", images: [Float](repeating: -1, count: columns * rows * size * size), channels: 1, size: size,
            columns: columns)
    }

    /// Dark pixels (text on white) in a region of an RGB image.
    func dark(_ image: OutputImage, x: Range<Int>, y: Range<Int>) -> Int {
        var count = 0
        for row in y { for column in x where image.grid.pixels[(row * image.grid.width + column) * 3] < 100 { count += 1 } }
        return count
    }

    @Test func titleCaptionsAndClassNamesAreDrawn() {
        var image = grid(columns: 3, rows: 2, size: 64)
        image.columnCaptions = ["input", "generated", "target"]
        let framed = captioned(image, title: ["pix2pix on maps — samples", "step 500, epoch 2"], classNames: [])
        // One title line fits 200 pixels; the captions fit 66-pixel cells: a band of 16 below.
        #expect(framed.channels == 3 && framed.grid.height == image.grid.height + 8 + 16 * 2 + 16, "\(framed.grid.height)")
        #expect(dark(framed, x: 0..<framed.grid.width, y: 0..<22) > 40, "the title")
        var conditional = grid(columns: 10, rows: 3, size: 28)
        conditional.rowClasses = [0, 1, 2]
        let labeled = captioned(conditional, title: ["acgan on mnist — samples"], classNames: ["T-shirt/top", "Trouser", "Pullover"])
        let labelWidth = labeled.grid.width - conditional.grid.width
        #expect(labelWidth > 40)
        let top = labeled.grid.height - conditional.grid.height
        for row in 0..<3 {
            let y = top + 2 + row * 30
            #expect(dark(labeled, x: 0..<labelWidth - 2, y: y..<(y + 28)) > 10, "row \(row)'s class name")
        }
    }

    @Test func captionsTooWideForTheirCellsJoinTheTitle() {
        var image = grid(columns: 8, rows: 2, size: 28)
        image.columnCaptions = ["original", "reconstruction"]
        let framed = captioned(image, title: ["vae on cars — reconstructions"], classNames: [])
        // No caption band: the captions are a title part of their own (two lines of title).
        #expect(framed.grid.height == image.grid.height + 8 + 16 * 2, "\(framed.grid.height)")
    }
}

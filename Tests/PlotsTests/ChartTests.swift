import Datasets
import Foundation
#if canImport(FoundationXML)
    import FoundationXML
#endif
import Plots
import Testing

/// What can be checked of a chart without eyes: the PNG decodes at its size, text was
/// drawn where the labels go, the SVG parses and names every series.
@Suite struct ChartTests {
    func chart(_ names: [String] = ["loss_d", "loss_g"], steps: Int = 200) -> Chart {
        let series = names.enumerated().map { k, name in
            Series(name, (1...steps).map { (Double($0), 1 + Double(k) + sin(Double($0) / 9) * 0.3 + Double(($0 * 7919 + k) % 13) / 40) })
        }
        return Chart(title: "dcgan on fashion-mnist — losses", yTitle: "loss", series: series)
    }

    @Test func aChartRendersToAPNGOfItsSize() throws {
        var chart = chart()
        (chart.width, chart.height) = (640, 360)
        let raster = chart.raster()
        let png = try encodePNG(width: raster.width, height: raster.height, channels: 3, pixels: raster.rgb)
        let path = NSTemporaryDirectory() + "chart-\(UUID().uuidString).png"
        try Data(png).write(to: URL(fileURLWithPath: path))
        let image = try decodeImage(path, channels: 3)
        #expect(image.width == 640 && image.height == 360)
    }

    /// Dark pixels of the text colour in the title band, the tick-label column and the
    /// legend; none there for a chart with no text (the check can fail).
    @Test func textIsDrawnWhereTheLabelsGo() throws {
        let raster = chart().raster()
        let pixels = raster.rgb
        func darkPixels(x: Range<Int>, y: Range<Int>) -> Int {
            var count = 0
            for row in y {
                for column in x {
                    let i = (row * raster.width + column) * 3; if pixels[i] < 90 && pixels[i + 1] < 90 && pixels[i + 2] < 90 { count += 1 }
                }
            }
            return count
        }
        #expect(darkPixels(x: 200..<600, y: 5..<35) > 50, "the title")
        #expect(darkPixels(x: 20..<70, y: 50..<390) > 50, "the y tick labels")
        #expect(darkPixels(x: 300..<500, y: 420..<445) > 20, "the x-axis title")
        var empty = Chart(title: "", xTitle: "", yTitle: "", series: [])
        (empty.width, empty.height) = (800, 450)
        let blank = empty.raster().rgb
        var dark = 0
        for row in 5..<35 { for column in 200..<600 { let i = (row * 800 + column) * 3; if blank[i] < 90 { dark += 1 } } }
        #expect(dark == 0)
    }

    @Test func theSVGParsesAndNamesEverySeries() throws {
        let names = ["loss", "reconstruction", "kl"]
        let svg = chart(names).svg()
        let parser = XMLParser(data: Data(svg.utf8))
        let collector = TextCollector()
        parser.delegate = collector
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        for name in names { #expect(collector.texts.contains(name), "\(name) in \(collector.texts)") }
        #expect(collector.texts.contains("dcgan on fashion-mnist — losses") && collector.texts.contains("step"))
    }

    @Test func valuesThatSpanDecadesGetALogarithmicAxis() {
        let decaying = Series("kl", (1...100).map { (Double($0), 1000 * exp(-Double($0) / 10)) })
        #expect(Chart(title: "", yTitle: "", series: [decaying]).isLogarithmic)
        #expect(!chart().isLogarithmic)
        let negative = Series("loss_d", [(1, -5), (2, 500)])
        #expect(!Chart(title: "", yTitle: "", series: [negative]).isLogarithmic)
    }

    @Test func smoothingIsTensorBoards() {
        let points: [(x: Double, y: Double)] = [(1, 1), (2, 0), (3, 1)]
        let smooth = Chart.smoothed(points, weight: 0.5).map(\.y)
        // Debiased EMA: 1; (0.25 + 0)/0.75 = 1/3; (0.125 + 0 + 0.5)/0.875 = 5/7.
        #expect(abs(smooth[0] - 1) < 1e-12 && abs(smooth[1] - 1.0 / 3) < 1e-12 && abs(smooth[2] - 5.0 / 7) < 1e-12)
    }
}

private final class TextCollector: NSObject, XMLParserDelegate {
    var texts: [String] = []
    private var current: String?
    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]
    ) {
        if name == "text" || name == "title" { current = "" }
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) { current? += string }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if let current, name == "text" || name == "title" { texts.append(current) }
        current = nil
    }
}

@Suite struct TickTests {
    @Test func ticksAreRoundAndTheirLabelsExact() {
        let ticks = niceTicks(-0.02, 1.02)
        #expect(ticks == [0, 0.25, 0.5, 0.75, 1])
        #expect(ticks.map { tickLabel($0, step: 0.25) } == ["0.00", "0.25", "0.50", "0.75", "1.00"])
        #expect(niceTicks(0, 500, count: 7).map { tickLabel($0, step: 100) } == ["0", "100", "200", "300", "400", "500"])
        #expect(tickLabel(0.4, step: 0.2) == "0.4" && tickLabel(3_000_000, step: 1_000_000) == "3.0e+06")
    }
}

@Suite struct DecimationTests {
    /// A run of days logs millions of rows: the chart draws at most a few points per pixel
    /// column and keeps each column's lowest and highest value.
    @Test func longSeriesAreDrawnByTheirEnvelope() {
        var points: [(x: Double, y: Double)] = (0..<200_000).map { i -> (x: Double, y: Double) in (Double(i), sin(Double(i) / 500)) }
        points[123_457].y = 9
        let kept = decimated(points, columns: 700, from: 0, to: 199_999)
        #expect(kept.count <= 1400 && kept.count >= 700, "\(kept.count)")
        #expect(kept.map(\.y).max() == points.map(\.y).max() && kept.map(\.y).min() == points.map(\.y).min())
        #expect(zip(kept, kept.dropFirst()).allSatisfy { $0.x < $1.x })
        #expect(decimated(Array(points.prefix(1000)), columns: 700, from: 0, to: 999).count == 1000)
        let series = [Series("loss_d", points), Series("loss_g", points)]
        let svg = Chart(title: "long", yTitle: "loss", series: series).svg()
        #expect(svg.utf8.count < 400_000)
    }
}

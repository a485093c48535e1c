import Foundation
import GenerativeModels
import Testing
import Training

/// report.html and `genocl report`: every section, inline charts that name the metrics,
/// and links to files that exist (a browser's check is tools/report-screenshot).
@Suite struct ReportTests {
    /// The relative links (src, href) of a page.
    func links(_ page: String) -> [String] {
        page.components(separatedBy: "src=\"").dropFirst().compactMap { $0.split(separator: "\"").first.map(String.init) }
            + page.components(separatedBy: "href=\"").dropFirst().compactMap { $0.split(separator: "\"").first.map(String.init) }
    }

    @Test func aRunWritesItsReportAsItTrains() throws {
        let data = try writeTinyDataset()
        var options = tinyOptions(data, model: .wganGP)
        (options.steps, options.sampleEvery, options.checkpointEvery, options.criticSteps) = (4, 2, 2, 1)
        try train(options, settings: plainSettings(data + "/run"), backend: testBackend(), log: { _ in })
        let page = try String(contentsOfFile: data + "/run/report.html", encoding: .utf8)
        for section in [
            "Settings and data", "Training curves", "Samples over time", "Evaluation", "Throughput", "Checkpoints", "Continue and sample",
        ] {
            #expect(page.contains("<h2>\(section)"), "\(section)")
        }
        for metric in ["loss_d", "loss_g", "d_x", "d_g_z", "gradient_penalty", "images_per_second"] {
            #expect(page.contains(">\(metric)</text>"), "\(metric) in a chart's legend")
        }
        #expect(page.contains("step_000002") && page.contains("step_000004") && page.contains("genocl train --resume \(data)/run"))
        // Self-contained: no script or file from elsewhere (the SVG namespace is a name, not a fetch).
        let offline = page.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
        #expect(!offline.contains("<script src") && !offline.contains("http:") && !offline.contains("https:"))
        for link in links(page) { #expect(FileManager.default.fileExists(atPath: data + "/run/" + link), "\(link)") }
    }

    @Test func severalRunsOnOnePage() throws {
        let data = try writeTinyDataset()
        for (name, model) in [("gan", ModelKind.dcgan), ("vae", ModelKind.vae)] {
            var options = tinyOptions(data, model: model)
            (options.steps, options.sampleEvery, options.checkpointEvery) = (3, 3, 3)
            try train(options, settings: plainSettings(data + "/" + name), backend: testBackend(), log: { _ in })
        }
        let path = try writeComparisonReport([data + "/gan", data + "/vae"], out: data + "/compare")
        let page = try String(contentsOfFile: path, encoding: .utf8)
        #expect(page.contains("2 runs compared") && page.contains(">gan</text>") && page.contains(">vae</text>"))
        #expect(FileManager.default.fileExists(atPath: data + "/compare/plots/images_per_second.png"))
        for link in links(page) { #expect(FileManager.default.fileExists(atPath: data + "/compare/" + link), "\(link)") }
        #expect { try writeComparisonReport([data + "/gan", data], out: data + "/bad") } throws: { "\($0)".contains("no metrics.csv") }
    }
}

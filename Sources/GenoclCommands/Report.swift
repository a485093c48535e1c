import ArgumentParser
import Foundation
import Training

extension Genocl {
    public struct Report: ParsableCommand {
        public init() {}

        public static let configuration = CommandConfiguration(
            abstract: "Put runs on one page: their curves overlaid, their latest samples side by side, their settings in one table.",
            discussion: """
                With one run, redraws that run's charts and rewrites its report.html (training writes both as it goes). \
                With several, writes OUT/report.html and the charts it shows (OUT/plots/*.png and .svg); \
                open it in any browser, offline.
                """)

        @Argument(help: "Run folders written by genocl train.") var runs: [String]
        @Option(help: "Folder for the comparison page and its charts.") var out = "report"
        @Option(help: "Smoothing of the curves, as TensorBoard's (0: the raw curves only; below 1).") var smoothing = 0.6

        public func validate() throws {
            guard (0..<1).contains(smoothing) else { throw ValidationError("--smoothing must be in [0, 1), got \(smoothing)") }
            guard !runs.isEmpty else { throw ValidationError("name at least one run folder (written by genocl train)") }
            for run in runs where !FileManager.default.fileExists(atPath: run + "/metrics.csv") {
                throw ValidationError("\(run): no metrics.csv there; name folders written by genocl train")
            }
        }

        public func run() throws {
            if runs.count == 1 {
                try refreshRunReport(runs[0], smoothing: smoothing)
                print(runs[0] + "/report.html")
            } else {
                print(try writeComparisonReport(runs, out: out, smoothing: smoothing))
            }
        }
    }
}

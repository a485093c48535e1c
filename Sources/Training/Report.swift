// report.html: a run on one page that any browser opens offline — its settings and data,
// its charts (inline SVG), its sample grids over time (a slider over the PNGs beside it),
// its checkpoints, its throughput, and the commands that resume and sample it. `genocl
// report RUN…` puts several runs on one page: curves overlaid, latest samples side by side.
import Datasets
import Foundation
import Plots
import TensorGraph

/// What a report shows of one run, read from its folder.
struct RunRecord {
    let folder: String
    let config: RunConfig?
    let metrics: (steps: [Double], columns: [String: [Double]], names: [String])
    /// Each kind of grid (samples, reconstructions) with its steps' PNGs, oldest first.
    let grids: [(kind: String, files: [String])]
    let checkpoints: [String]
    let latestCheckpoint: String?

    init(_ folder: String) {
        self.folder = folder
        let manager = FileManager.default
        config = manager.contents(atPath: folder + "/config.json").flatMap { try? JSONDecoder().decode(RunConfig.self, from: $0) }
        metrics = readMetrics(folder + "/metrics.csv")
        grids = ["samples", "reconstructions"].compactMap { kind in
            let files = ((try? manager.contentsOfDirectory(atPath: folder + "/" + kind)) ?? []).filter { $0.hasSuffix(".png") }.sorted()
            return files.isEmpty ? nil : (kind, files.map { kind + "/" + $0 })
        }
        checkpoints = ((try? manager.contentsOfDirectory(atPath: folder + "/checkpoints")) ?? []).filter { $0.hasPrefix("step_") }.sorted()
        latestCheckpoint = (try? String(contentsOfFile: folder + "/checkpoints/latest", encoding: .utf8))?.trimmingCharacters(
            in: .whitespacesAndNewlines)
    }

    var name: String { (folder as NSString).lastPathComponent }
    var subject: String { config.map { runSubject($0.options) } ?? name }
}

/// An SVG document, without its XML declaration, to sit inside HTML.
private func inlineSVG(_ svg: String) -> String {
    svg.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("<?xml") }.joined(separator: "\n")
}

private let style = """
    body { font-family: "DejaVu Sans", sans-serif; margin: 24px auto; max-width: 1100px; color: #222; }
    h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
    table { border-collapse: collapse; font-size: 13px; } td, th { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: left; }
    td.number { text-align: right; font-variant-numeric: tabular-nums; }
    .charts svg { max-width: 100%; height: auto; margin: 6px 0; }
    .grid img { image-rendering: pixelated; max-width: 100%; min-width: 420px; border: 1px solid #ccc; }
    .strip { display: flex; gap: 6px; overflow-x: auto; } .strip figure { margin: 0; font-size: 11px; text-align: center; }
    .strip img { height: 96px; image-rendering: pixelated; border: 1px solid #ccc; }
    code { background: #f4f4f4; padding: 2px 5px; } .side { display: flex; gap: 16px; flex-wrap: wrap; align-items: flex-start; }
    """

/// A slider over `files` (paths relative to the page), the newest shown first, and a strip of all of them.
private func timeline(_ id: String, _ files: [String]) -> String {
    let list = files.map { "\"\(escaped($0))\"" }.joined(separator: ",")
    let step = { (file: String) in String(Int(file.split(separator: "_").last?.prefix(6) ?? "") ?? 0) }
    return """
        <div class="grid"><p><input type="range" id="\(id)-slider" min="0" max="\(files.count - 1)" value="\(files.count - 1)"> \
        step <span id="\(id)-step">\(step(files.last!))</span></p><img id="\(id)-image" src="\(escaped(files.last!))" alt="\(id) grid"></div>
        <script>
        (function () {
          var files = [\(list)];
          var slider = document.getElementById("\(id)-slider");
          slider.addEventListener("input", function () {
            var file = files[slider.value];
            document.getElementById("\(id)-image").src = file;
            document.getElementById("\(id)-step").textContent = String(parseInt(file.split("_").pop(), 10));
          });
        })();
        </script>
        <div class="strip">\(files.map { "<figure><img src=\"\(escaped($0))\" alt=\"\"><figcaption>step \(step($0))</figcaption></figure>" }.joined())</div>
        """
}

/// The page of `run`, its links relative to its folder, showing `charts` (SVG documents).
func runReportHTML(_ run: RunRecord, charts: [String]) -> String {
    let folder = run.folder
    var sections: [String] = []
    if let config = run.config {
        let o = config.options
        let rows: [(String, String)] = [
            ("model", o.model.rawValue), ("data", o.data), ("training images", String(config.images)),
            ("skipped files", String(config.skippedFiles)), ("classes", String(config.classes)),
            ("image size", "\(o.imageSize)×\(o.imageSize)×\(o.channels)"), ("batch", String(o.batchSize)),
            ("steps", o.steps.map(String.init) ?? "\(o.epochs) epochs"), ("optimizer", o.optimizer.rawValue),
            ("learning rates (G, D)", "\(o.learningRateG), \(o.learningRateD)"), ("β₁, β₂", "\(o.beta1), \(o.beta2)"),
            ("latent size", String(o.latentSize)), ("widths (G, D)", "\(o.generatorWidth), \(o.discriminatorWidth)"),
            ("critic steps", String(o.criticSteps)), ("seed", String(o.seed)), ("device", config.device),
            ("genocl", config.genoclVersion),
        ]
        sections.append(
            "<h2>Settings and data</h2><table>\(rows.map { "<tr><th>\(escaped($0.0))</th><td>\(escaped($0.1))</td></tr>" }.joined())</table>"
        )
    }
    if !charts.isEmpty {
        sections.append("<h2>Training curves</h2><div class=\"charts\">\(charts.map(inlineSVG).joined(separator: "\n"))</div>")
    }
    for grid in run.grids { sections.append("<h2>\(escaped(grid.kind.capitalized)) over time</h2>" + timeline(grid.kind, grid.files)) }
    sections.append(
        "<h2>Evaluation</h2><p>No evaluation of this run yet: FID, KID, precision and recall will appear here when the run is evaluated.</p>"
    )
    if let last = run.metrics.steps.last {
        let seconds = run.metrics.columns["seconds"]?.last ?? .nan, rate = run.metrics.columns["images_per_second"]?.last ?? .nan
        sections.append(
            "<h2>Throughput</h2><p>\(Int(last)) steps in \(formatDuration(seconds)) of this session, \(String(format: "%.1f", rate)) images/s (see the throughput chart above).</p>"
        )
    }
    let checkpointRows = run.checkpoints.map { name in
        "<tr><td>\(escaped(name))</td><td class=\"number\">\(Int(name.dropFirst(5)) ?? 0)</td><td>\(name == run.latestCheckpoint ? "latest" : "")</td></tr>"
    }
    sections.append(
        "<h2>Checkpoints</h2>"
            + (checkpointRows.isEmpty
                ? "<p>None yet.</p>" : "<table><tr><th>folder</th><th>step</th><th></th></tr>\(checkpointRows.joined())</table>"))
    sections.append(
        """
        <h2>Continue and sample</h2><p>Continue: <code>genocl train --resume \(escaped(folder))</code> (add <code>--steps N</code> to go further)</p>
        <p>Sample: <code>genocl sample --checkpoint \(escaped(folder)) --count 64</code></p>
        """)
    return page(title: run.subject, heading: "\(run.subject) — \(run.name)", sections)
}

private func page(title: String, heading: String, note: String = "it updates as training goes", _ sections: [String]) -> String {
    """
    <!DOCTYPE html>
    <html lang="en"><head><meta charset="utf-8"><title>\(escaped(title))</title><style>
    \(style)
    </style></head><body>
    <h1>\(escaped(heading))</h1>
    <p>Written by genocl \(genoclVersion) on \(escaped(ISO8601DateFormatter().string(from: Date()))); \(note).</p>
    \(sections.joined(separator: "\n"))
    </body></html>

    """
}

/// Redraws the charts of the run in `folder` from its metrics.csv (read once), then rewrites
/// its report.html around them, atomically. `subject` names model and data in the titles
/// (default: from its config.json).
public func refreshRunReport(_ folder: String, subject: String? = nil, smoothing: Double = 0.6) throws {
    let run = RunRecord(folder)
    let charts = try drawRunPlots(folder: folder, subject: subject ?? run.subject, metrics: run.metrics, smoothing: smoothing)
    try writeAtomically(Array(runReportHTML(run, charts: charts.map(\.svg)).utf8), to: folder + "/report.html")
}

/// `genocl report RUN…`: several runs on one page in `out` (report.html and its charts):
/// each metric the runs share on one chart, a curve per run; their latest grids side by
/// side; their settings in one table. Returns the page's path.
@discardableResult
public func writeComparisonReport(_ folders: [String], out: String, smoothing: Double = 0.6) throws -> String {
    let runs = folders.map(RunRecord.init)
    for run in runs where run.metrics.steps.isEmpty {
        throw PlanError("\(run.folder): no metrics.csv with steps (not a genocl run folder, or it has not trained a step)")
    }
    try FileManager.default.createDirectory(atPath: out + "/plots", withIntermediateDirectories: true)
    let names = runs[0].metrics.names.filter { name in name != "seconds" && runs.allSatisfy { $0.metrics.names.contains(name) } }
    var charts: [String] = []
    for name in names {
        let series = runs.map { run in Series(run.name, zip(run.metrics.steps, run.metrics.columns[name] ?? []).map { ($0, $1) }) }
        var chart = Chart(title: "\(name.replacingOccurrences(of: "_", with: " ")) of \(runs.count) runs", yTitle: name, series: series)
        chart.smoothing = smoothing
        charts.append(inlineSVG(try writeChart(chart, to: out + "/plots/" + name).svg))
    }
    // Links to each run's files, relative to the page.
    let base = URL(fileURLWithPath: out).standardizedFileURL.path
    func relative(_ path: String) -> String {
        let target = URL(fileURLWithPath: path).standardizedFileURL.path
        let (from, to) = (base.split(separator: "/"), target.split(separator: "/"))
        let common = zip(from, to).prefix { $0 == $1 }.count
        return (Array(repeating: "..", count: from.count - common) + to.dropFirst(common).map(String.init)).joined(separator: "/")
    }
    let latest = runs.map { run in
        let grids = run.grids.map { "<figure><img src=\"\(escaped(relative(run.folder + "/" + $0.files.last!)))\" alt=\"\"></figure>" }
        return "<div><h3>\(escaped(run.name))</h3><p>\(escaped(run.subject))</p>\(grids.joined())</div>"
    }
    let keys = ["model", "data", "image size", "batch", "steps trained", "final " + (names.first ?? "")]
    let rows = runs.map { run -> String in
        var values = ["?", "?", "?", "?"]
        if let o = run.config?.options { values = [o.model.rawValue, o.data, "\(o.imageSize)×\(o.imageSize)", String(o.batchSize)] }
        values.append(String(Int(run.metrics.steps.last ?? 0)))
        let final: Double? = names.first.flatMap { run.metrics.columns[$0]?.last }
        values.append(final.map { String(format: "%.4f", $0) } ?? "")
        return
            "<tr><th><a href=\"\(escaped(relative(run.folder + "/report.html")))\">\(escaped(run.name))</a></th>\(values.map { "<td>\(escaped($0))</td>" }.joined())</tr>"
    }
    // Each run's own losses, for runs whose metrics differ (a GAN beside a VAE).
    let own = runs.compactMap { run -> String? in
        guard let svg = try? String(contentsOfFile: run.folder + "/plots/losses.svg", encoding: .utf8) else { return nil }
        return "<div><h3>\(escaped(run.name))</h3>\(inlineSVG(svg))</div>"
    }
    let sections = [
        "<h2>Runs</h2><table><tr><th>run</th>\(keys.map { "<th>\(escaped($0))</th>" }.joined())</tr>\(rows.joined())</table>",
        "<h2>Evaluation</h2><p>No run has been evaluated yet.</p>",
        "<h2>Curves, overlaid</h2><p>The metrics every run has, one curve per run.</p><div class=\"charts\">\(charts.joined(separator: "\n"))</div>",
        "<h2>Each run's losses</h2><div class=\"charts\">\(own.joined(separator: "\n"))</div>",
        "<h2>Latest samples</h2><div class=\"side grid\">\(latest.joined())</div>",
    ]
    let path = out + "/report.html"
    try writeAtomically(
        Array(
            page(
                title: "genocl: \(runs.count) runs", heading: "\(runs.count) runs compared", note: "genocl report writes it anew", sections
            ).utf8), to: path)
    return path
}

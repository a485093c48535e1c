// The run folder's plots: one chart per metric group of the model (losses; D(x) and
// D(G(z)); the gradient penalty; class accuracy; reconstruction and KL; throughput), read
// back from metrics.csv, as plots/<group>.png and .svg; loss.png is the losses chart.
import Datasets
import Foundation
import Plots

/// A chart of some metrics of a run.
public struct MetricGroup: Equatable, Sendable {
    public var file: String, title: String, yTitle: String
    public var metrics: [String]
}

/// The charts of a model whose metrics.csv has `names` (after step and epoch): named
/// groups first, then each remaining metric on its own, then throughput.
public func metricGroups(_ names: [String]) -> [MetricGroup] {
    let known: [MetricGroup] = [
        MetricGroup(
            file: "losses", title: "losses", yTitle: "loss", metrics: names.filter { $0 == "loss" || ["loss_d", "loss_g"].contains($0) }),
        MetricGroup(
            file: "generator-terms", title: "generator loss terms", yTitle: "loss", metrics: names.filter { $0.hasPrefix("loss_g_") }),
        MetricGroup(
            file: "discriminator", title: "D(x) and D(G(z))", yTitle: "mean discriminator output",
            metrics: names.filter { ["d_x", "d_g_z"].contains($0) }),
        MetricGroup(
            file: "vae-terms", title: "reconstruction and KL", yTitle: "per image",
            metrics: names.filter { ["reconstruction", "kl"].contains($0) }),
    ]
    // A metric's baseline (`psnr_bicubic` beside `psnr`) is drawn on the metric's chart.
    let baselines = names.filter { $0.hasSuffix("_bicubic") && names.contains(String($0.dropLast(8))) }
    let grouped = Set(known.flatMap(\.metrics) + baselines + ["images_per_second", "seconds"])
    let single = names.filter { !grouped.contains($0) }.map { name in
        MetricGroup(
            file: name.replacingOccurrences(of: "_", with: "-"), title: name.replacingOccurrences(of: "_", with: " "), yTitle: name,
            metrics: [name] + baselines.filter { $0 == name + "_bicubic" })
    }
    let throughput =
        names.contains("images_per_second")
        ? [MetricGroup(file: "throughput", title: "throughput", yTitle: "images per second", metrics: ["images_per_second"])] : []
    return known.filter { !$0.metrics.isEmpty } + single + throughput
}

/// metrics.csv as columns: the step of each row, and each named column's values.
func readMetrics(_ path: String) -> (steps: [Double], columns: [String: [Double]], names: [String]) {
    let lines = ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
    guard let header = lines.first?.split(separator: ",").map(String.init), header.first == "step" else { return ([], [:], []) }
    var steps: [Double] = [], columns: [String: [Double]] = [:]
    for line in lines.dropFirst() {
        let fields = line.split(separator: ",", omittingEmptySubsequences: false)
        guard fields.count == header.count, let step = Double(fields[0]) else { continue }
        steps.append(step)
        for (name, field) in zip(header, fields).dropFirst(2) { columns[name, default: []].append(Double(field) ?? .nan) }
    }
    return (steps, columns, Array(header.dropFirst(2)))
}

/// Writes every chart of the run in `folder` (from its metrics.csv) under `plots/`, and
/// the losses chart as `loss.png`; returns the charts' PNG paths. `subject` names the
/// model and data in the titles ("dcgan on fashion-mnist"); `smoothing` is TensorBoard's.
@discardableResult
public func writeRunPlots(folder: String, subject: String, smoothing: Double = 0.6) throws -> [String] {
    try drawRunPlots(folder: folder, subject: subject, metrics: readMetrics(folder + "/metrics.csv"), smoothing: smoothing).map(\.path)
}

/// The charts of `metrics` written under `folder/plots`: each one's PNG path and SVG.
func drawRunPlots(
    folder: String, subject: String, metrics: (steps: [Double], columns: [String: [Double]], names: [String]), smoothing: Double
) throws -> [(path: String, svg: String)] {
    let (steps, columns, names) = metrics
    guard !steps.isEmpty else { return [] }
    try FileManager.default.createDirectory(atPath: folder + "/plots", withIntermediateDirectories: true)
    var written: [(path: String, svg: String)] = []
    for group in metricGroups(names) {
        let series = group.metrics.map { name in Series(name, zip(steps, columns[name] ?? []).map { ($0, $1) }) }
        var chart = Chart(title: "\(subject) — \(group.title)", yTitle: group.yTitle, series: series)
        chart.smoothing = smoothing
        let (png, svg) = try writeChart(chart, to: folder + "/plots/" + group.file)
        if group.file == "losses" { try writeAtomically(png, to: folder + "/loss.png") }
        written.append((folder + "/plots/\(group.file).png", svg))
    }
    return written
}

/// Writes `chart` as `<path>.png` and `<path>.svg`, atomically; returns both.
func writeChart(_ chart: some Figure, to path: String) throws -> (png: [UInt8], svg: String) {
    let raster = chart.raster()
    let png = try encodePNG(width: raster.width, height: raster.height, channels: 3, pixels: raster.rgb)
    let svg = chart.svg()
    try writeAtomically(png, to: path + ".png")
    try writeAtomically(Array(svg.utf8), to: path + ".svg")
    return (png, svg)
}

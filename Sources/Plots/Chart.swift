// A line chart as people read them: a title, axes with tick labels and titles, a legend
// with the series' names, smoothing as TensorBoard's (the raw curve faint, the smoothed
// one on top), and a logarithmic y axis where the values span decades.
import Foundation

/// One named curve: (x, y) points in x order; non-finite values are left out.
public struct Series: Sendable {
    public var name: String
    public var points: [(x: Double, y: Double)]
    public init(_ name: String, _ points: [(x: Double, y: Double)]) { (self.name, self.points) = (name, points) }
}

/// A figure drawn on any canvas: as PNG pixels (`raster`) or SVG markup (`svg`).
public protocol Figure {
    var title: String { get }
    var width: Int { get }
    var height: Int { get }
    func draw(on canvas: any Canvas)
}

extension Figure {
    /// The figure as RGB pixels.
    public func raster() -> Raster {
        let raster = Raster(width: width, height: height)
        draw(on: raster)
        return raster
    }

    /// The figure as an SVG document.
    public func svg() -> String {
        let document = SVGDocument(width: width, height: height)
        draw(on: document)
        return document.markup(title: title)
    }
}

public struct Chart: Sendable, Figure {
    public var title: String
    public var xTitle: String, yTitle: String
    public var series: [Series]
    /// TensorBoard's smoothing weight (an exponential moving average, debiased); 0: none.
    public var smoothing = 0.6
    /// nil: logarithmic when every value is positive and they span two decades or more.
    public var logarithmic: Bool?
    public var width = 800, height = 450

    public init(title: String, xTitle: String = "step", yTitle: String, series: [Series]) {
        (self.title, self.xTitle, self.yTitle, self.series) = (title, xTitle, yTitle, series)
    }

    private var finite: [Series] { series.map { Series($0.name, $0.points.filter { $0.x.isFinite && $0.y.isFinite }) } }

    /// Whether the y axis is logarithmic.
    public var isLogarithmic: Bool {
        if let logarithmic { return logarithmic }
        let ys = finite.flatMap { $0.points.map(\.y) }
        guard let low = ys.min(), let high = ys.max(), low > 0 else { return false }
        return high / low >= 100
    }

    /// TensorBoard's smoothing of `points`: an exponential moving average, debiased at the start.
    public static func smoothed(_ points: [(x: Double, y: Double)], weight: Double) -> [(x: Double, y: Double)] {
        var last = 0.0
        return points.enumerated().map { i, point in
            last = last * weight + (1 - weight) * point.y
            return (point.x, weight > 0 ? last / (1 - pow(weight, Double(i + 1))) : point.y)
        }
    }

    public func draw(on canvas: any Canvas) {
        let series = finite
        let (w, h) = (Double(width), Double(height))
        let (font, small) = (15.0, 12.0)
        canvas.text(title, x: w / 2, y: 26, size: 17, anchor: .middle, .text, bold: true, rotated: false)

        // The data's ranges, padded; one point or a flat curve still gets a span.
        let xs = series.flatMap { $0.points.map(\.x) }, ys = series.flatMap { $0.points.map(\.y) }
        let log = isLogarithmic
        let transform: (Double) -> Double = log ? { Foundation.log10($0) } : { $0 }
        var (xLow, xHigh) = (xs.min() ?? 0, xs.max() ?? 1)
        if xHigh <= xLow { (xLow, xHigh) = (xLow - 1, xHigh + 1) }
        var (yLow, yHigh) = (ys.map(transform).min() ?? 0, ys.map(transform).max() ?? 1)
        if yHigh - yLow < 1e-12 {
            (yLow, yHigh) = (yLow - (log ? 0.5 : max(abs(yLow) * 0.1, 1)), yHigh + (log ? 0.5 : max(abs(yHigh) * 0.1, 1)))
        }
        let pad = (yHigh - yLow) * 0.05
        (yLow, yHigh) = (yLow - pad, yHigh + pad)
        let yTicks = log ? decadeTicks(yLow, yHigh) : niceTicks(yLow, yHigh)
        let xTicks = niceTicks(xLow, xHigh, count: 7).filter { $0 >= xLow && $0 <= xHigh }

        // The plot area: room for the y tick labels and title at the left, the x ones below.
        let yLabels = yTicks.map { log ? decadeLabel($0) : tickLabel($0, step: yTicks.count > 1 ? yTicks[1] - yTicks[0] : 1) }
        let labelWidth = yLabels.map { textWidth($0, size: small) }.max() ?? 0
        // Room at the right for half the last x tick label, which centers on the axis' end.
        let xStep = xTicks.count > 1 ? xTicks[1] - xTicks[0] : 1
        let lastLabel = xTicks.last.map { textWidth(tickLabel($0, step: xStep), size: small) / 2 + 6 } ?? 0
        let (left, right, top, bottom) = (34 + labelWidth + 8, w - max(20, lastLabel), 44.0, h - 58)
        func px(_ x: Double) -> Double { left + (x - xLow) / (xHigh - xLow) * (right - left) }
        func py(_ y: Double) -> Double { bottom - (transform(y) - yLow) / (yHigh - yLow) * (bottom - top) }
        func pyTick(_ t: Double) -> Double { bottom - (t - yLow) / (yHigh - yLow) * (bottom - top) }

        for (tick, label) in zip(yTicks, yLabels) where tick >= yLow && tick <= yHigh {
            canvas.polyline([(left, pyTick(tick)), (right, pyTick(tick))], .grid, lineWidth: 1, alpha: 1)
            canvas.text(label, x: left - 6, y: pyTick(tick) + 4, size: small, anchor: .end, .text, bold: false, rotated: false)
        }
        for tick in xTicks {
            canvas.polyline([(px(tick), bottom), (px(tick), bottom + 5)], .axis, lineWidth: 1, alpha: 1)
            canvas.text(
                tickLabel(tick, step: xStep), x: px(tick), y: bottom + 19, size: small, anchor: .middle, .text, bold: false, rotated: false)
        }
        canvas.stroke(x: left, y: top, width: right - left, height: bottom - top, .axis, lineWidth: 1)
        canvas.text(xTitle, x: (left + right) / 2, y: h - 18, size: font, anchor: .middle, .text, bold: false, rotated: false)
        canvas.text(
            yTitle + (log ? " (log scale)" : ""), x: 18, y: (top + bottom) / 2, size: font, anchor: .middle, .text, bold: false,
            rotated: true)

        // The curves: raw faint under the smoothed one (or the raw one alone, unsmoothed).
        let smooth = smoothing > 0 && series.contains { $0.points.count > 2 }
        for (i, curve) in series.enumerated() {
            let color = Color.series[i % Color.series.count]
            // Days of steps are millions of points: drawn, at most a few per pixel column.
            let columns = Int(right - left)
            let raw = decimated(curve.points, columns: columns, from: xLow, to: xHigh).map { (px($0.x), py($0.y)) }
            canvas.polyline(raw, color, lineWidth: 1.5, alpha: smooth ? 0.25 : 1)
            if smooth {
                let smoothed = decimated(Self.smoothed(curve.points, weight: smoothing), columns: columns, from: xLow, to: xHigh)
                canvas.polyline(smoothed.map { (px($0.x), py($0.y)) }, color, lineWidth: 2, alpha: 1)
            }
        }

        // The legend, top right inside the plot.
        guard !series.isEmpty else { return }
        let names = series.map(\.name) + (smooth ? ["(smoothed \(String(format: "%.2g", smoothing)); raw faint)"] : [])
        let boxWidth = (names.map { textWidth($0, size: small) }.max() ?? 0) + 44
        let boxHeight = Double(names.count) * 18 + 8
        let (boxX, boxY) = (right - boxWidth - 8, top + 8)
        canvas.fill(x: boxX, y: boxY, width: boxWidth, height: boxHeight, .white, alpha: 0.85)
        canvas.stroke(x: boxX, y: boxY, width: boxWidth, height: boxHeight, .grid, lineWidth: 1)
        for (i, name) in names.enumerated() {
            let y = boxY + 18 * Double(i) + 17
            if i < series.count {
                canvas.polyline([(boxX + 8, y - 4), (boxX + 30, y - 4)], Color.series[i % Color.series.count], lineWidth: 2.5, alpha: 1)
            }
            canvas.text(name, x: boxX + 36, y: y, size: small, anchor: .start, .text, bold: false, rotated: false)
        }
    }
}

/// `points` (in x order) with at most the lowest and highest of each of `columns` equal
/// slices of [low, high], in x order: the curve's envelope as drawn, where it has more
/// points than pixels; as they are where it has few.
public func decimated(_ points: [(x: Double, y: Double)], columns: Int, from low: Double, to high: Double) -> [(x: Double, y: Double)] {
    guard columns > 0, points.count > 4 * columns, high > low else { return points }
    var out: [(x: Double, y: Double)] = []
    out.reserveCapacity(2 * columns + 2)
    var start = 0
    while start < points.count {
        let column = min(columns - 1, Int((points[start].x - low) / (high - low) * Double(columns)))
        var end = start + 1
        while end < points.count, min(columns - 1, Int((points[end].x - low) / (high - low) * Double(columns))) == column { end += 1 }
        let slice = points[start..<end]
        let lowest = slice.indices.min { points[$0].y < points[$1].y }!, highest = slice.indices.max { points[$0].y < points[$1].y }!
        for index in Set([lowest, highest]).sorted() { out.append(points[index]) }
        start = end
    }
    return out
}

/// Round tick values (1, 2 or 5 × 10ᵏ apart) covering [low, high].
public func niceTicks(_ low: Double, _ high: Double, count: Int = 6) -> [Double] {
    let raw = (high - low) / Double(max(count - 1, 1))
    let magnitude = pow(10, floor(log10(raw)))
    let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
    let first = ceil(low / step) * step
    return stride(from: first, through: high + step * 1e-9, by: step).map { abs($0) < step * 1e-9 ? 0 : $0 }
}

/// Ticks of a logarithmic axis (values are log₁₀): every decade, or every few where many.
func decadeTicks(_ low: Double, _ high: Double) -> [Double] {
    let decades = Array(Int(ceil(low))...max(Int(ceil(low)), Int(floor(high))))
    let every = max(1, decades.count / 6)
    return decades.filter { $0 % every == 0 }.map(Double.init)
}

func decadeLabel(_ exponent: Double) -> String {
    let e = Int(exponent)
    return (-3...4).contains(e) ? tickLabel(pow(10, exponent), step: pow(10, Double(min(e, 0)))) : "1e\(e)"
}

/// A tick's value with as many decimals as its spacing needs.
public func tickLabel(_ value: Double, step: Double) -> String {
    if abs(value) >= 1e6 || (abs(value) < 1e-4 && value != 0) { return String(format: "%.1e", value) }
    // Enough decimals that every tick reads exactly: 0.25 steps need two, 0.2 steps one.
    var decimals = max(0, Int(-floor(log10(abs(step)) + 1e-9)))
    while decimals < 8, abs((step * pow(10, Double(decimals))).rounded() - step * pow(10, Double(decimals))) > 1e-6 { decimals += 1 }
    return String(format: "%.\(decimals)f", value)
}

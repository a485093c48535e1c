// A horizontal bar chart with a label per bar (class names read along the rows) and a
// count at each bar's end; where a reference is given, a tick on each row marks the
// reference's value (what the class would get if the samples followed the real data).
import Foundation

public struct BarChart: Sendable, Figure {
    public var title: String
    public var valueTitle: String
    public var bars: [(label: String, value: Double)]
    /// The reference value of each bar (same order), drawn as a tick; nil: none.
    public var reference: [Double]?
    public var referenceName = "reference"
    public var width = 800

    public init(title: String, valueTitle: String, bars: [(label: String, value: Double)], reference: [Double]? = nil) {
        (self.title, self.valueTitle, self.bars, self.reference) = (title, valueTitle, bars, reference)
    }

    public var height: Int { (reference == nil ? 110 : 122) + 24 * max(bars.count, 1) }

    public func draw(on canvas: any Canvas) {
        let (w, h, small) = (Double(width), Double(height), 12.0)
        canvas.text(title, x: w / 2, y: 26, size: 17, anchor: .middle, .text, bold: true, rotated: false)
        let labelWidth = bars.map { textWidth($0.label, size: small) }.max() ?? 0
        let high = max(bars.map(\.value).max() ?? 0, reference?.max() ?? 0, 1e-12)
        let ticks = niceTicks(0, high * 1.08).filter { $0 >= 0 }
        let top = high * 1.08 > (ticks.last ?? 0) ? high * 1.08 : ticks.last ?? high
        let (left, right, upper, lower) = (labelWidth + 24, w - 30, reference == nil ? 48.0 : 60, h - 56)
        func px(_ value: Double) -> Double { left + value / top * (right - left) }
        let step = ticks.count > 1 ? ticks[1] - ticks[0] : 1
        for tick in ticks where tick <= top {
            canvas.polyline([(px(tick), upper), (px(tick), lower)], .grid, lineWidth: 1, alpha: 1)
            canvas.text(
                tickLabel(tick, step: step), x: px(tick), y: lower + 17, size: small, anchor: .middle, .text, bold: false, rotated: false)
        }
        let row = (lower - upper) / Double(max(bars.count, 1))
        for (i, bar) in bars.enumerated() {
            let y = upper + row * Double(i)
            canvas.fill(x: left, y: y + row * 0.15, width: px(bar.value) - left, height: row * 0.7, Color.series[0], alpha: 0.85)
            canvas.text(bar.label, x: left - 8, y: y + row / 2 + 4, size: small, anchor: .end, .text, bold: false, rotated: false)
            canvas.text(
                tickLabel(bar.value, step: bar.value.rounded() == bar.value ? 1 : 0.01),
                x: px(max(bar.value, reference.map { i < $0.count ? $0[i] : 0 } ?? 0)) + 5, y: y + row / 2 + 4,
                size: small, anchor: .start, .text, bold: false, rotated: false)
            if let reference, i < reference.count {
                canvas.polyline([(px(reference[i]), y + 2), (px(reference[i]), y + row - 2)], Color.series[1], lineWidth: 2.5, alpha: 1)
            }
        }
        canvas.stroke(x: left, y: upper, width: right - left, height: lower - upper, .axis, lineWidth: 1)
        canvas.text(valueTitle, x: (left + right) / 2, y: h - 18, size: 15, anchor: .middle, .text, bold: false, rotated: false)
        if reference != nil {
            canvas.polyline(
                [(right - textWidth(referenceName, size: small) - 14, 40), (right - textWidth(referenceName, size: small) - 14, 52)],
                Color.series[1], lineWidth: 2.5, alpha: 1)
            canvas.text(referenceName, x: right, y: 50, size: small, anchor: .end, .text, bold: false, rotated: false)
        }
    }
}

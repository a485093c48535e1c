// The loss plot (`loss.png` in the run folder): Loss_D and Loss_G against the step,
// drawn into an RGB raster — axes, both curves, a legend swatch per curve.
import Datasets

/// Renders the two loss curves as a `width`×`height` RGB PNG.
public func lossPlotPNG(_ history: [(step: Int, lossD: Float, lossG: Float)], width: Int = 640, height: Int = 360) throws -> [UInt8] {
    var pixels = [UInt8](repeating: 255, count: width * height * 3)
    func set(_ x: Int, _ y: Int, _ color: (UInt8, UInt8, UInt8)) {
        guard x >= 0, x < width, y >= 0, y < height else { return }
        let i = (y * width + x) * 3
        (pixels[i], pixels[i + 1], pixels[i + 2]) = color
    }
    func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ color: (UInt8, UInt8, UInt8)) {
        // Bresenham.
        var (x, y) = (x0, y0)
        let (dx, dy) = (abs(x1 - x0), -abs(y1 - y0))
        let (sx, sy) = (x0 < x1 ? 1 : -1, y0 < y1 ? 1 : -1)
        var error = dx + dy
        while true {
            set(x, y, color)
            if x == x1 && y == y1 { return }
            let e2 = 2 * error
            if e2 >= dy { error += dy; x += sx }
            if e2 <= dx { error += dx; y += sy }
        }
    }
    let (left, right, top, bottom) = (40, width - 10, 10, height - 30)
    let black: (UInt8, UInt8, UInt8) = (0, 0, 0), blue: (UInt8, UInt8, UInt8) = (31, 119, 180),
        orange: (UInt8, UInt8, UInt8) = (255, 127, 14)
    line(left, bottom, right, bottom, black)
    line(left, top, left, bottom, black)
    let finite = history.filter { $0.lossD.isFinite && $0.lossG.isFinite }
    if finite.count >= 2 {
        let maxLoss = max(finite.map { max($0.lossD, $0.lossG) }.max()!, 1e-6)
        let (first, last) = (finite.first!.step, max(finite.last!.step, finite.first!.step + 1))
        func point(_ step: Int, _ loss: Float) -> (Int, Int) {
            (left + (step - first) * (right - left) / (last - first), bottom - Int(Float(bottom - top) * loss / maxLoss))
        }
        for (series, color) in [(\(step: Int, lossD: Float, lossG: Float).lossD, blue), (\.lossG, orange)] {
            for (a, b) in zip(finite, finite.dropFirst()) {
                let (p, q) = (point(a.step, a[keyPath: series]), point(b.step, b[keyPath: series]))
                line(p.0, p.1, q.0, q.1, color)
            }
        }
        // Ticks every tenth of the loss range.
        for k in 1...10 { line(left - 4, bottom - k * (bottom - top) / 10, left, bottom - k * (bottom - top) / 10, black) }
    }
    // Legend: a blue swatch (Loss_D) and an orange one (Loss_G), bottom right.
    for (offset, color) in [(0, blue), (30, orange)] {
        for y in (height - 20)..<(height - 10) { for x in (right - 60 + offset)..<(right - 40 + offset) { set(x, y, color) } }
    }
    return try encodePNG(width: width, height: height, channels: 3, pixels: pixels)
}

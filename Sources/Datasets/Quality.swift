// Image quality against a reference, for super-resolution: PSNR, and SSIM (Wang et al.
// 2004: an 11×11 Gaussian window of σ 1.5, K₁ 0.01 and K₂ 0.03, the mean over pixels and
// channels). Images are in [−1, 1], a dynamic range of 2.
import Foundation

/// Peak signal-to-noise ratio in dB of `image` against `reference` (values in [−1, 1]); +∞ when equal.
public func psnr(_ image: [Float], _ reference: [Float]) -> Float {
    precondition(image.count == reference.count && !image.isEmpty, "PSNR of images of different sizes")
    var sum: Double = 0
    for (a, b) in zip(image, reference) {
        let d = Double(Swift.min(Swift.max(a, -1), 1) - b)
        sum += d * d
    }
    let mse = sum / Double(image.count)
    return mse == 0 ? .infinity : Float(10 * log10(4 / mse))
}

/// Structural similarity of `image` against `reference`, both `[channels, size, size]` in [−1, 1]
/// (the window is cut at the edges, as "valid" filtering does).
public func ssim(_ image: [Float], _ reference: [Float], channels: Int, size: Int) -> Float {
    precondition(image.count == reference.count && image.count == channels * size * size, "SSIM of images of different sizes")
    let radius = Swift.min(5, (size - 1) / 2)
    let window: [Float] = (-radius...radius).map { (k: Int) -> Float in Float(exp(-Double(k * k) / 4.5)) }
    let norm = window.reduce(0, +)
    let w = window.map { $0 / norm }
    let (c1, c2): (Float, Float) = (0.01 * 0.01 * 4, 0.03 * 0.03 * 4)
    let out = size - 2 * radius
    var total: Double = 0
    let clamped = image.map { Swift.min(Swift.max($0, -1), 1) }
    for c in 0..<channels {
        let base = c * size * size
        // The five filtered maps (x, y, x², y², xy), separably: rows, then columns.
        func filtered(_ f: (Int) -> Float) -> [Float] {
            var rows = [Float](repeating: 0, count: size * out)
            for y in 0..<size {
                for x in 0..<out {
                    var sum: Float = 0
                    for k in 0..<w.count { sum += w[k] * f(base + y * size + x + k) }
                    rows[y * out + x] = sum
                }
            }
            var result = [Float](repeating: 0, count: out * out)
            for y in 0..<out {
                for x in 0..<out {
                    var sum: Float = 0
                    for k in 0..<w.count { sum += w[k] * rows[(y + k) * out + x] }
                    result[y * out + x] = sum
                }
            }
            return result
        }
        let mx = filtered { clamped[$0] }, my = filtered { reference[$0] }
        let xx = filtered { clamped[$0] * clamped[$0] }, yy = filtered { reference[$0] * reference[$0] }
        let xy = filtered { clamped[$0] * reference[$0] }
        for i in 0..<(out * out) {
            let (vx, vy, cov) = (xx[i] - mx[i] * mx[i], yy[i] - my[i] * my[i], xy[i] - mx[i] * my[i])
            total += Double((2 * mx[i] * my[i] + c1) * (2 * cov + c2) / ((mx[i] * mx[i] + my[i] * my[i] + c1) * (vx + vy + c2)))
        }
    }
    return Float(total / Double(channels * out * out))
}

// Resampling family on NCHW images. Forward ops gather; the adjoint (backward)
// ops scatter into Double accumulators, mirroring their forward definitions
// term by term. Bilinear follows PyTorch's align_corners = false source index.
import TensorGraph

func upsampleNearestForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ ys: Shape, factor: Int) {
    let (planes, H, W) = (ys[0] * ys[1], ys[2], ys[3])
    let (h0, w0) = (H / factor, W / factor)
    for plane in 0..<planes {
        for h in 0..<H {
            for w in 0..<W { y[(plane * H + h) * W + w] = x[(plane * h0 + h / factor) * w0 + w / factor] }
        }
    }
}

/// Source taps of output index `i` for ×2 upsampling of `size`: (i0, i1, weight of i1).
private func bilinearTaps(_ i: Int, size: Int) -> (Int, Int, Float) {
    let source = Swift.max((Float(i) + 0.5) * 0.5 - 0.5, 0)
    let i0 = Int(source)
    let i1 = i0 < size - 1 ? i0 + 1 : i0
    return (i0, i1, source - Float(i0))
}

func upsampleBilinear2xForward(_ x: UnsafePointer<Float>, _ xs: Shape, _ y: UnsafeMutablePointer<Float>, _ ys: Shape) {
    let (planes, H, W) = (xs[0] * xs[1], xs[2], xs[3])
    for plane in 0..<planes {
        let X = x + plane * H * W
        for h in 0..<ys[2] {
            let (h0, h1, lh) = bilinearTaps(h, size: H)
            for w in 0..<ys[3] {
                let (w0, w1, lw) = bilinearTaps(w, size: W)
                let top = (1 - lw) * X[h0 * W + w0] + lw * X[h0 * W + w1]
                let bottom = (1 - lw) * X[h1 * W + w0] + lw * X[h1 * W + w1]
                y[(plane * ys[2] + h) * ys[3] + w] = (1 - lh) * top + lh * bottom
            }
        }
    }
}

func upsampleBilinear2xBackward(_ dy: UnsafePointer<Float>, _ dys: Shape, _ dx: UnsafeMutablePointer<Float>, _ dxs: Shape) {
    let (planes, H, W) = (dxs[0] * dxs[1], dxs[2], dxs[3])
    var sums = [Double](repeating: 0, count: dxs.count)
    for plane in 0..<planes {
        let base = plane * H * W
        for h in 0..<dys[2] {
            let (h0, h1, lh) = bilinearTaps(h, size: H)
            for w in 0..<dys[3] {
                let (w0, w1, lw) = bilinearTaps(w, size: W)
                let g = Double(dy[(plane * dys[2] + h) * dys[3] + w])
                sums[base + h0 * W + w0] += g * Double((1 - lh) * (1 - lw))
                sums[base + h0 * W + w1] += g * Double((1 - lh) * lw)
                sums[base + h1 * W + w0] += g * Double(lh * (1 - lw))
                sums[base + h1 * W + w1] += g * Double(lh * lw)
            }
        }
    }
    for i in 0..<dxs.count { dx[i] = Float(sums[i]) }
}

/// Calls `body(outputIndex, inputIndex)` for every (window, tap) pair of the pooling.
private func forEachPoolTap(_ xs: Shape, _ ys: Shape, _ p: PoolConfig, _ body: (Int, Int) -> Void) {
    let (planes, H, W, P, Q) = (xs[0] * xs[1], xs[2], xs[3], ys[2], ys[3])
    for plane in 0..<planes {
        for oh in 0..<P {
            for ow in 0..<Q {
                for kh in 0..<p.kernel.h {
                    let h = oh * p.stride.h - p.padding.h + kh
                    guard h >= 0 && h < H else { continue }
                    for kw in 0..<p.kernel.w {
                        let w = ow * p.stride.w - p.padding.w + kw
                        guard w >= 0 && w < W else { continue }
                        body((plane * P + oh) * Q + ow, (plane * H + h) * W + w)
                    }
                }
            }
        }
    }
}

func avgPool2dForward(_ x: UnsafePointer<Float>, _ xs: Shape, _ y: UnsafeMutablePointer<Float>, _ ys: Shape, _ p: PoolConfig) {
    var sums = [Double](repeating: 0, count: ys.count)
    forEachPoolTap(xs, ys, p) { out, input in sums[out] += Double(x[input]) }
    let area = Double(p.kernel.h * p.kernel.w)
    for i in 0..<ys.count { y[i] = Float(sums[i] / area) }
}

func avgPool2dBackward(_ dy: UnsafePointer<Float>, _ dys: Shape, _ dx: UnsafeMutablePointer<Float>, _ dxs: Shape, _ p: PoolConfig) {
    var sums = [Double](repeating: 0, count: dxs.count)
    forEachPoolTap(dxs, dys, p) { out, input in sums[input] += Double(dy[out]) }
    let area = Double(p.kernel.h * p.kernel.w)
    for i in 0..<dxs.count { dx[i] = Float(sums[i] / area) }
}

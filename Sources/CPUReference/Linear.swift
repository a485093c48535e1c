// Linear family: matmul, and the three convolutions as one sum over the taps of
// the convolution, accumulated in Double into whichever operand the op produces —
// each op is its definition, read off directly. Letters: N batch, C in channels, O out
// channels, H W input size, P Q output size, K kernel, S stride, D dilation.
import TensorGraph

func matmulForward(
    _ a: UnsafePointer<Float>, _ aShape: Shape, _ b: UnsafePointer<Float>, _ bShape: Shape,
    _ y: UnsafeMutablePointer<Float>, _ yShape: Shape, transposeA: Bool, transposeB: Bool
) {
    let M = yShape[yShape.rank - 2], N = yShape[yShape.rank - 1]
    let K = transposeA ? aShape[aShape.rank - 2] : aShape[aShape.rank - 1]
    let batches = yShape.rank == 3 ? yShape[0] : 1
    let aBatch = aShape.rank == 3 ? M * K : 0, bBatch = bShape.rank == 3 ? K * N : 0
    for batch in 0..<batches {
        let A = a + batch * aBatch, B = b + batch * bBatch, Y = y + batch * M * N
        for m in 0..<M {
            for n in 0..<N {
                var sum = 0.0
                for k in 0..<K {
                    let av = transposeA ? A[k * M + m] : A[m * K + k]
                    let bv = transposeB ? B[n * K + k] : B[k * N + n]
                    sum += Double(av) * Double(bv)
                }
                Y[m * N + n] = Float(sum)
            }
        }
    }
}

/// Calls `body(large, weight, small)` with the element indices of every tap of a
/// convolution: large side `[N, C, H, W]`, small side `[N, O, P, Q]`, weight
/// `[O, C, KH, KW]`, where `h = pS − P + kh·D` and `w = qS − P + kw·D` fall inside the image.
/// conv2d, its adjoint and its weight gradient are the same sum over these taps,
/// accumulated into a different operand.
private func forEachConvTap(large: Shape, small: Shape, kernel: (Int, Int), _ cfg: ConvConfig, _ body: (Int, Int, Int) -> Void) {
    let (N, C, H, W) = (large[0], large[1], large[2], large[3])
    let (O, P, Q) = (small[1], small[2], small[3])
    let (KH, KW) = kernel
    for n in 0..<N {
        for o in 0..<O {
            for p in 0..<P {
                for q in 0..<Q {
                    let s = ((n * O + o) * P + p) * Q + q
                    for c in 0..<C {
                        for kh in 0..<KH {
                            let h = p * cfg.stride.h - cfg.padding.h + kh * cfg.dilation.h
                            guard h >= 0 && h < H else { continue }
                            for kw in 0..<KW {
                                let w = q * cfg.stride.w - cfg.padding.w + kw * cfg.dilation.w
                                guard w >= 0 && w < W else { continue }
                                body(((n * C + c) * H + h) * W + w, ((o * C + c) * KH + kh) * KW + kw, s)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Sums in Double, then stores as Float.
private func accumulate(into y: UnsafeMutablePointer<Float>, count: Int, _ fill: (inout [Double]) -> Void) {
    var sums = [Double](repeating: 0, count: count)
    fill(&sums)
    for i in 0..<count { y[i] = Float(sums[i]) }
}

/// `y[n, o, p, q] = Σ_{c, kh, kw} x[n, c, pS − P + kh·D, qS − P + kw·D] · w[o, c, kh, kw]`.
func conv2dForward(
    _ x: UnsafePointer<Float>, _ xs: Shape, _ w: UnsafePointer<Float>, _ ws: Shape,
    _ y: UnsafeMutablePointer<Float>, _ ys: Shape, _ cfg: ConvConfig
) {
    accumulate(into: y, count: ys.count) { sums in
        forEachConvTap(large: xs, small: ys, kernel: (ws[2], ws[3]), cfg) { l, k, s in sums[s] += Double(x[l]) * Double(w[k]) }
    }
}

/// The adjoint of conv2d: x is the small side `[N, C_in, P, Q]`, w is `[C_in, C_out, KH, KW]`
/// (PyTorch's layout, the conv2d weight with O = C_in), y the large side `[N, C_out, H, W]`.
func convTranspose2dForward(
    _ x: UnsafePointer<Float>, _ xs: Shape, _ w: UnsafePointer<Float>, _ ws: Shape,
    _ y: UnsafeMutablePointer<Float>, _ ys: Shape, _ cfg: ConvConfig
) {
    accumulate(into: y, count: ys.count) { sums in
        forEachConvTap(large: ys, small: xs, kernel: (ws[2], ws[3]), cfg) { l, k, s in sums[l] += Double(x[s]) * Double(w[k]) }
    }
}

/// `dWeight[o, c, kh, kw] = Σ_{n, p, q} dy[n, o, p, q] · x[n, c, pS − P + kh·D, qS − P + kw·D]`.
func conv2dBackwardWeight(
    _ x: UnsafePointer<Float>, _ xs: Shape, _ dy: UnsafePointer<Float>, _ dys: Shape,
    _ dw: UnsafeMutablePointer<Float>, _ dws: Shape, _ cfg: ConvConfig
) {
    accumulate(into: dw, count: dws.count) { sums in
        forEachConvTap(large: xs, small: dys, kernel: (dws[2], dws[3]), cfg) { l, k, s in sums[k] += Double(dy[s]) * Double(x[l]) }
    }
}

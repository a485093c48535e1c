// Linear family: matmul and the three direct convolutions. Each output element
// is one Double-accumulated dot product (gather form), so every op is easy to
// check against its definition. Letters: N batch, C in channels, O out
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

/// `y[n, o, p, q] = Σ_{c, kh, kw} x[n, c, pS − P + kh·D, qS − P + kw·D] · w[o, c, kh, kw]`.
func conv2dForward(
    _ x: UnsafePointer<Float>, _ xs: Shape, _ w: UnsafePointer<Float>, _ ws: Shape,
    _ y: UnsafeMutablePointer<Float>, _ ys: Shape, _ cfg: ConvConfig
) {
    let (N, C, H, W) = (xs[0], xs[1], xs[2], xs[3])
    let (O, KH, KW, P, Q) = (ws[0], ws[2], ws[3], ys[2], ys[3])
    for n in 0..<N {
        for o in 0..<O {
            for p in 0..<P {
                for q in 0..<Q {
                    var sum = 0.0
                    for c in 0..<C {
                        for kh in 0..<KH {
                            let h = p * cfg.stride.h - cfg.padding.h + kh * cfg.dilation.h
                            guard h >= 0 && h < H else { continue }
                            for kw in 0..<KW {
                                let wi = q * cfg.stride.w - cfg.padding.w + kw * cfg.dilation.w
                                guard wi >= 0 && wi < W else { continue }
                                sum += Double(x[((n * C + c) * H + h) * W + wi]) * Double(w[((o * C + c) * KH + kh) * KW + kw])
                            }
                        }
                    }
                    y[((n * O + o) * P + p) * Q + q] = Float(sum)
                }
            }
        }
    }
}

/// The adjoint of conv2d: `y[n, o, h, w] = Σ x[n, c, p, q] · w[c, o, kh, kw]` over
/// all `(c, kh, kw)` with `h = pS − P + kh·D` (and likewise for w).
func convTranspose2dForward(
    _ x: UnsafePointer<Float>, _ xs: Shape, _ w: UnsafePointer<Float>, _ ws: Shape,
    _ y: UnsafeMutablePointer<Float>, _ ys: Shape, _ cfg: ConvConfig
) {
    let (N, C, P, Q) = (xs[0], xs[1], xs[2], xs[3])
    let (O, KH, KW, H, W) = (ws[1], ws[2], ws[3], ys[2], ys[3])
    for n in 0..<N {
        for o in 0..<O {
            for h in 0..<H {
                for wo in 0..<W {
                    var sum = 0.0
                    for kh in 0..<KH {
                        let ph = h + cfg.padding.h - kh * cfg.dilation.h
                        guard ph >= 0, ph % cfg.stride.h == 0, ph / cfg.stride.h < P else { continue }
                        for kw in 0..<KW {
                            let qw = wo + cfg.padding.w - kw * cfg.dilation.w
                            guard qw >= 0, qw % cfg.stride.w == 0, qw / cfg.stride.w < Q else { continue }
                            for c in 0..<C {
                                sum += Double(x[((n * C + c) * P + ph / cfg.stride.h) * Q + qw / cfg.stride.w])
                                    * Double(w[((c * O + o) * KH + kh) * KW + kw])
                            }
                        }
                    }
                    y[((n * O + o) * H + h) * W + wo] = Float(sum)
                }
            }
        }
    }
}

/// `dWeight[o, c, kh, kw] = Σ_{n, p, q} dy[n, o, p, q] · x[n, c, pS − P + kh·D, qS − P + kw·D]`.
func conv2dBackwardWeight(
    _ x: UnsafePointer<Float>, _ xs: Shape, _ dy: UnsafePointer<Float>, _ dys: Shape,
    _ dw: UnsafeMutablePointer<Float>, _ dws: Shape, _ cfg: ConvConfig
) {
    let (N, C, H, W) = (xs[0], xs[1], xs[2], xs[3])
    let (O, P, Q, KH, KW) = (dys[1], dys[2], dys[3], dws[2], dws[3])
    for o in 0..<O {
        for c in 0..<C {
            for kh in 0..<KH {
                for kw in 0..<KW {
                    var sum = 0.0
                    for n in 0..<N {
                        for p in 0..<P {
                            let h = p * cfg.stride.h - cfg.padding.h + kh * cfg.dilation.h
                            guard h >= 0 && h < H else { continue }
                            for q in 0..<Q {
                                let wi = q * cfg.stride.w - cfg.padding.w + kw * cfg.dilation.w
                                guard wi >= 0 && wi < W else { continue }
                                sum += Double(dy[((n * O + o) * P + p) * Q + q]) * Double(x[((n * C + c) * H + h) * W + wi])
                            }
                        }
                    }
                    dw[((o * C + c) * KH + kh) * KW + kw] = Float(sum)
                }
            }
        }
    }
}

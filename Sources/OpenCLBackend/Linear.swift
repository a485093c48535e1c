// Linear family: matmul through CLBlast (one SGEMM per batch entry), and the
// direct convolution kernels of Kernels/linear.cl.
import OpenCLRuntime
import TensorGraph

/// The `conv_t` words: N, C, H, W (large side), O, P, Q (small side), KH, KW, stride, padding, dilation.
private func convWords(_ large: Shape, _ small: Shape, kernel: (Int, Int), _ c: ConvConfig) -> [Int32] {
    [large[0], large[1], large[2], large[3], small[1], small[2], small[3], kernel.0, kernel.1,
     c.stride.h, c.stride.w, c.padding.h, c.padding.w, c.dilation.h, c.dilation.w].map { Int32($0) }
}

func linearWork(_ op: Op, _ x: [CLBuffer], _ xs: [Shape], _ y: CLBuffer, _ ys: Shape) -> [Work] {
    switch op {
    case .matmul(let tA, let tB):
        let (a, b) = (xs[0], xs[1])
        let m = ys[ys.rank - 2], n = ys[ys.rank - 1]
        let k = tA ? a[a.rank - 2] : a[a.rank - 1]
        let batches = ys.rank == 3 ? ys[0] : 1
        let aStride = a.rank == 3 ? m * k : 0, bStride = b.rank == 3 ? k * n : 0
        return (0..<batches).map { i in
            .gemm(transposeA: tA, transposeB: tB, m: m, n: n, k: k, a: (x[0], i * aStride), b: (x[1], i * bStride), c: (y, i * m * n))
        }
    case .conv2d(let c):
        let w = xs[1]
        return [.kernel("conv2d_forward", count: ys.count, [.buffer(x[0]), .buffer(x[1]), .buffer(y), .words(convWords(xs[0], ys, kernel: (w[2], w[3]), c))])]
    case .convTranspose2d(let c, _):
        let w = xs[1]
        return [.kernel("conv_transpose2d_forward", count: ys.count, [.buffer(x[0]), .buffer(x[1]), .buffer(y), .words(convWords(ys, xs[0], kernel: (w[2], w[3]), c))])]
    case .conv2dBackwardWeight(let c, let k):
        return [.kernel("conv2d_backward_weight", count: ys.count, [.buffer(x[0]), .buffer(x[1]), .buffer(y), .words(convWords(xs[0], xs[1], kernel: (k.h, k.w), c))])]
    default:
        preconditionFailure("\(op.name) is not a linear op")
    }
}

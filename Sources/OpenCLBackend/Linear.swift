// Linear family: matmul as one GEMM per batch entry (ours or CLBlast's, see OpenCLBackend.gemm).
// Convolutions are in Convolution.swift.
import OpenCLRuntime
import TensorGraph

func matmulWork(_ op: Op, _ x: [CLBuffer], _ xs: [Shape], _ y: CLBuffer, _ ys: Shape) -> [Work] {
    guard case .matmul(let tA, let tB) = op else { preconditionFailure("\(op.name) is not matmul") }
    let (a, b) = (xs[0], xs[1])
    let m = ys[ys.rank - 2], n = ys[ys.rank - 1]
    let k = tA ? a[a.rank - 2] : a[a.rank - 1]
    let batches = ys.rank == 3 ? ys[0] : 1
    let aStride = a.rank == 3 ? m * k : 0, bStride = b.rank == 3 ? k * n : 0
    return (0..<batches).map { i in
        .gemm(transposeA: tA, transposeB: tB, m: m, n: n, k: k, a: (x[0], i * aStride), b: (x[1], i * bStride), c: (y, i * m * n))
    }
}

// Linear family: matmul (optional transposes, optional batch axis), conv2d, its
// adjoint convTranspose2d, and conv2dBackwardWeight. The three convolution ops
// are closed under differentiation, so gradients of gradients need nothing new.
// Letters: N batch, C in channels, O out channels, H W size, K kernel, S stride,
// P padding, D dilation.

/// `op(a) · op(b)` for `[M, K]·[K, N]`, or batched `[B, M, K]·[B, K, N]` (a rank-2
/// operand is shared across the batch); `transposeA`/`transposeB` transpose the
/// last two axes first.
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    a.graph.apply(.matmul(transposeA: transposeA, transposeB: transposeB), [a, b])
}

/// 2-D convolution: `x [N, C, H, W]`, `weight [O, C, KH, KW]`, `bias [O]` →
/// `[N, O, (H + 2P − D(K − 1) − 1)/S + 1, …]`.
public func conv2d(
    _ x: Tensor, _ weight: Tensor, bias: Tensor? = nil,
    stride: Size2 = Size2(1), padding: Size2 = Size2(0), dilation: Size2 = Size2(1)
) -> Tensor {
    // A 3×3 "same" convolution of a nearest 2× upsampling reads, at each output phase (row and
    // column parity), every input pixel through a 2×2 of its taps, some of them summed: it is
    // the stride-2 transposed convolution of the input itself with those sums as a 4×4 kernel.
    // 4/9 of the multiply-adds, and no upsampled copy (WGAN-GP's and ProGAN's generators).
    if case .upsampleNearest(factor: 2) = x.op, weight.shape.rank == 4, weight.shape[2] == 3, weight.shape[3] == 3, stride == Size2(1),
        padding == Size2(1), dilation == Size2(1)
    {
        return convTranspose2d(x.inputs[0], upsampledKernel(weight), bias: bias, stride: Size2(2), padding: Size2(1))
    }
    let config = ConvConfig(stride: stride, padding: padding, dilation: dilation)
    return addChannelBias(x.graph.apply(.conv2d(config), [x, weight]), bias)
}

/// A 3×3 kernel `[O, C, 3, 3]` as the 4×4 transposed-convolution kernel `[C, O, 4, 4]` that
/// applies it to a nearest 2× upsampling: along each axis the taps (w₂, w₁ + w₂, w₀ + w₁, w₀).
/// Output row 2i takes input row i − 1 through w₀ and row i through w₁ + w₂; row 2i + 1 takes
/// row i through w₀ + w₁ and row i + 1 through w₂ (the transposed convolution's taps 3, 1 and
/// 2, 0 at stride 2, padding 1).
func upsampledKernel(_ weight: Tensor) -> Tensor {
    let (o, c) = (weight.shape[0], weight.shape[1])
    let sums: [[Float]] = [[0, 0, 1], [0, 1, 1], [1, 1, 0], [1, 0, 0]]
    var map = [Float](repeating: 0, count: 9 * 16)
    for t in 0..<9 {
        for u in 0..<16 { map[t * 16 + u] = sums[u / 4][t / 3] * sums[u % 4][t % 3] }
    }
    let taps = weight.permuted([1, 0, 2, 3]).reshaped([c * o, 9])
    return matmul(taps, weight.graph.constant(map, [9, 16])).reshaped([c, o, 4, 4])
}

/// Transposed 2-D convolution: `x [N, C, H, W]`, `weight [C, O, KH, KW]` (PyTorch's
/// layout), `bias [O]` → `[N, O, (H − 1)S − 2P + D(K − 1) + outputPadding + 1, …]`.
public func convTranspose2d(
    _ x: Tensor, _ weight: Tensor, bias: Tensor? = nil,
    stride: Size2 = Size2(1), padding: Size2 = Size2(0), outputPadding: Size2 = Size2(0),
    dilation: Size2 = Size2(1)
) -> Tensor {
    let config = ConvConfig(stride: stride, padding: padding, dilation: dilation)
    return addChannelBias(x.graph.apply(.convTranspose2d(config, outputPadding: outputPadding), [x, weight]), bias)
}

private func addChannelBias(_ y: Tensor, _ bias: Tensor?) -> Tensor {
    guard let bias else { return y }
    return y + bias.reshaped([1, bias.shape.count, 1, 1])
}

/// The spatial size a convolution produces from `size`.
public func convOutputSize(_ size: Int, kernel: Int, stride: Int, padding: Int, dilation: Int) -> Int {
    let span = size + 2 * padding - dilation * (kernel - 1) - 1
    return span < 0 ? 0 : span / stride + 1
}

/// The spatial size a transposed convolution produces from `size`.
public func convTransposeOutputSize(_ size: Int, kernel: Int, stride: Int, padding: Int, dilation: Int, outputPadding: Int) -> Int {
    (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + outputPadding + 1
}

func linearShape(_ op: Op, _ s: [Shape]) throws -> Shape {
    switch op {
    case .matmul(let transposeA, let transposeB):
        let (a, b) = (s[0], s[1])
        guard (2...3).contains(a.rank), (2...3).contains(b.rank) else {
            throw GraphError("matmul", "operands must be rank 2 or 3, got \(a) and \(b)")
        }
        let (m, k) = transposeA ? (a[a.rank - 1], a[a.rank - 2]) : (a[a.rank - 2], a[a.rank - 1])
        let (k2, n) = transposeB ? (b[b.rank - 1], b[b.rank - 2]) : (b[b.rank - 2], b[b.rank - 1])
        guard k == k2 else { throw GraphError("matmul", "inner dimensions differ: \(a) and \(b)") }
        if a.rank == 3 && b.rank == 3 && a[0] != b[0] {
            throw GraphError("matmul", "batch sizes differ: \(a) and \(b)")
        }
        let batch = a.rank == 3 ? [a[0]] : b.rank == 3 ? [b[0]] : []
        return Shape(batch + [m, n])
    case .conv2d(let c):
        let (x, w) = (s[0], s[1])
        try checkRank4("conv2d", x, w)
        guard x[1] == w[1] else { throw GraphError("conv2d", "input \(x) has \(x[1]) channels, weight \(w) expects \(w[1])") }
        let h = convOutputSize(x[2], kernel: w[2], stride: c.stride.h, padding: c.padding.h, dilation: c.dilation.h)
        let wo = convOutputSize(x[3], kernel: w[3], stride: c.stride.w, padding: c.padding.w, dilation: c.dilation.w)
        guard h > 0, wo > 0 else { throw GraphError("conv2d", "input \(x) is smaller than the dilated kernel \(w)") }
        return Shape([x[0], w[0], h, wo])
    case .convTranspose2d(let c, let op):
        let (x, w) = (s[0], s[1])
        try checkRank4("convTranspose2d", x, w)
        guard x[1] == w[0] else {
            throw GraphError("convTranspose2d", "input \(x) has \(x[1]) channels, weight \(w) expects \(w[0])")
        }
        guard op.h >= 0, op.w >= 0, op.h < max(c.stride.h, c.dilation.h), op.w < max(c.stride.w, c.dilation.w) else {
            throw GraphError("convTranspose2d", "output padding \(op) must be smaller than stride or dilation")
        }
        let h = convTransposeOutputSize(
            x[2], kernel: w[2], stride: c.stride.h, padding: c.padding.h, dilation: c.dilation.h, outputPadding: op.h)
        let wo = convTransposeOutputSize(
            x[3], kernel: w[3], stride: c.stride.w, padding: c.padding.w, dilation: c.dilation.w, outputPadding: op.w)
        guard h > 0, wo > 0 else { throw GraphError("convTranspose2d", "padding \(c.padding) leaves no output for \(x)") }
        return Shape([x[0], w[1], h, wo])
    case .conv2dBackwardWeight(let c, let k):
        let (x, dy) = (s[0], s[1])
        try checkRank4("conv2dBackwardWeight", x, dy)
        let h = convOutputSize(x[2], kernel: k.h, stride: c.stride.h, padding: c.padding.h, dilation: c.dilation.h)
        let w = convOutputSize(x[3], kernel: k.w, stride: c.stride.w, padding: c.padding.w, dilation: c.dilation.w)
        guard x[0] == dy[0], dy[2] == h, dy[3] == w else {
            throw GraphError("conv2dBackwardWeight", "gradient \(dy) does not match input \(x) with kernel \(k)")
        }
        return Shape([dy[1], x[1], k.h, k.w])
    default:
        preconditionFailure("\(op.name) is not a linear op")
    }
}

private func checkRank4(_ name: String, _ a: Shape, _ b: Shape) throws {
    guard a.rank == 4, b.rank == 4 else { throw GraphError(name, "expects rank-4 operands, got \(a) and \(b)") }
}

/// The output padding that makes a transposed convolution of `dy` produce `size`.
private func outputPadding(restoring size: Shape, from dy: Shape, _ c: ConvConfig, kernel: Size2) -> Size2 {
    Size2(
        size[2]
            - convTransposeOutputSize(
                dy[2], kernel: kernel.h, stride: c.stride.h, padding: c.padding.h, dilation: c.dilation.h, outputPadding: 0),
        size[3]
            - convTransposeOutputSize(
                dy[3], kernel: kernel.w, stride: c.stride.w, padding: c.padding.w, dilation: c.dilation.w, outputPadding: 0))
}

func linearGradient(_ op: Op, _ x: [Tensor], _ dy: Tensor) -> [Tensor?] {
    let g = dy.graph
    switch op {
    case .matmul(let tA, let tB):
        let (a, b) = (x[0], x[1])
        let (da, db): (Tensor, Tensor)
        switch (tA, tB) {
        case (false, false): (da, db) = (matmul(dy, b, transposeB: true), matmul(a, dy, transposeA: true))
        case (true, false): (da, db) = (matmul(b, dy, transposeB: true), matmul(a, dy))
        case (false, true): (da, db) = (matmul(dy, b), matmul(dy, a, transposeA: true))
        case (true, true): (da, db) = (matmul(b, dy, transposeA: true, transposeB: true), matmul(dy, a, transposeA: true, transposeB: true))
        }
        return [da.sum(to: a.shape), db.sum(to: b.shape)]
    case .conv2d(let c):
        let (input, w) = (x[0], x[1])
        let kernel = Size2(w.shape[2], w.shape[3])
        let op = outputPadding(restoring: input.shape, from: dy.shape, c, kernel: kernel)
        return [
            g.apply(.convTranspose2d(c, outputPadding: op), [dy, w]),
            g.apply(.conv2dBackwardWeight(c, kernel: kernel), [input, dy]),
        ]
    case .convTranspose2d(let c, _):
        let (input, w) = (x[0], x[1])
        return [
            g.apply(.conv2d(c), [dy, w]),
            g.apply(.conv2dBackwardWeight(c, kernel: Size2(w.shape[2], w.shape[3])), [dy, input]),
        ]
    case .conv2dBackwardWeight(let c, let kernel):
        // dWeight is bilinear in (x, dy): differentiate each side with the other fixed.
        let (input, outGrad) = (x[0], x[1])
        let op = outputPadding(restoring: input.shape, from: outGrad.shape, c, kernel: kernel)
        return [
            g.apply(.convTranspose2d(c, outputPadding: op), [outGrad, dy]),
            g.apply(.conv2d(c), [input, dy]),
        ]
    default:
        preconditionFailure("\(op.name) is not a linear op")
    }
}

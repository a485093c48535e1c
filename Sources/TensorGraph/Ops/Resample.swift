// Resampling family on NCHW images: nearest upsampling ×k, bilinear ×2
// (align_corners = false) and average pooling. The linear ops come in adjoint
// pairs (bilinear ↔ its backward, avgPool ↔ its backward), so each pair's
// gradients are each other and can be differentiated again.

/// Nearest-neighbour upsampling: `[N, C, H, W]` → `[N, C, kH, kW]`.
public func upsampleNearest(_ x: Tensor, factor: Int = 2) -> Tensor {
    x.graph.apply(.upsampleNearest(factor: factor), [x])
}

/// Bilinear upsampling ×2 with `align_corners = false`: `[N, C, H, W]` → `[N, C, 2H, 2W]`.
public func upsampleBilinear2x(_ x: Tensor) -> Tensor { x.graph.apply(.upsampleBilinear2x, [x]) }

/// Average pooling (padded zeros count): `[N, C, H, W]` → `[N, C, (H + 2P − K)/S + 1, …]`.
public func avgPool2d(_ x: Tensor, kernel: Size2, stride: Size2? = nil, padding: Size2 = Size2(0)) -> Tensor {
    x.graph.apply(.avgPool2d(PoolConfig(kernel: kernel, stride: stride, padding: padding)), [x])
}

func poolOutputShape(_ x: Shape, _ p: PoolConfig) -> Shape {
    Shape([x[0], x[1], (x[2] + 2 * p.padding.h - p.kernel.h) / p.stride.h + 1, (x[3] + 2 * p.padding.w - p.kernel.w) / p.stride.w + 1])
}

func resampleShape(_ op: Op, _ shapes: [Shape]) throws -> Shape {
    let x = shapes[0]
    guard x.rank == 4 else { throw GraphError(op.name, "expects [N, C, H, W], got \(x)") }
    switch op {
    case .upsampleNearest(let k):
        guard k >= 1 else { throw GraphError("upsampleNearest", "factor \(k) must be at least 1") }
        return Shape([x[0], x[1], x[2] * k, x[3] * k])
    case .upsampleBilinear2x:
        return Shape([x[0], x[1], x[2] * 2, x[3] * 2])
    case .upsampleBilinear2xBackward:
        guard x[2] % 2 == 0, x[3] % 2 == 0 else {
            throw GraphError("upsampleBilinear2xBackward", "gradient \(x) must have even height and width")
        }
        return Shape([x[0], x[1], x[2] / 2, x[3] / 2])
    case .avgPool2d(let p):
        guard p.kernel.h >= 1, p.kernel.w >= 1, p.stride.h >= 1, p.stride.w >= 1,
            p.padding.h * 2 <= p.kernel.h, p.padding.w * 2 <= p.kernel.w,
            x[2] + 2 * p.padding.h >= p.kernel.h, x[3] + 2 * p.padding.w >= p.kernel.w
        else {
            throw GraphError("avgPool2d", "kernel \(p.kernel) stride \(p.stride) padding \(p.padding) does not fit \(x)")
        }
        return poolOutputShape(x, p)
    case .avgPool2dBackward(let p, let shape):
        guard poolOutputShape(shape, p) == x else {
            throw GraphError("avgPool2dBackward", "gradient \(x) does not match pooling of \(shape)")
        }
        return shape
    default:
        preconditionFailure("\(op.name) is not a resampling op")
    }
}

func resampleGradient(_ op: Op, _ x: Tensor, _ dy: Tensor) -> [Tensor?] {
    let g = dy.graph
    switch op {
    case .upsampleNearest(let k):
        return [avgPool2d(dy, kernel: Size2(k)) * Float(k * k)]
    case .upsampleBilinear2x:
        return [g.apply(.upsampleBilinear2xBackward, [dy])]
    case .upsampleBilinear2xBackward:
        return [upsampleBilinear2x(dy)]
    case .avgPool2d(let p):
        return [g.apply(.avgPool2dBackward(p, shape: x.shape), [dy])]
    case .avgPool2dBackward(let p, _):
        return [g.apply(.avgPool2d(p), [dy])]
    default:
        preconditionFailure("\(op.name) is not a resampling op")
    }
}

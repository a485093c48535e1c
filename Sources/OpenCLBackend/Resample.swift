// Resampling family → Kernels/resample.cl.
import OpenCLRuntime
import TensorGraph

func resampleWork(_ op: Op, _ x: CLBuffer, _ xs: Shape, _ y: CLBuffer, _ ys: Shape) -> Work {
    let planes = Int32(xs[0] * xs[1])
    switch op {
    case .upsampleNearest(let factor):
        return .kernel(
            "upsample_nearest_forward", count: xs[0] * xs[1] * xs[2],
            [.buffer(x), .buffer(y), .int(planes), .int(Int32(xs[2])), .int(Int32(xs[3])), .int(Int32(factor))])
    case .upsampleBilinear2x:
        return .kernel(
            "upsample_bilinear2x_forward", count: ys.count, [.buffer(x), .buffer(y), .int(planes), .int(Int32(xs[2])), .int(Int32(xs[3]))])
    case .upsampleBilinear2xBackward:
        return .kernel(
            "upsample_bilinear2x_backward", count: ys.count, [.buffer(x), .buffer(y), .int(planes), .int(Int32(ys[2])), .int(Int32(ys[3]))])
    case .avgPool2d(let p):
        return .kernel("avg_pool2d_forward", count: ys.count, [.buffer(x), .buffer(y), .words(poolWords(large: xs, small: ys, p))])
    case .avgPool2dBackward(let p, _):
        return .kernel("avg_pool2d_backward", count: ys.count, [.buffer(x), .buffer(y), .words(poolWords(large: ys, small: xs, p))])
    default:
        preconditionFailure("\(op.name) is not a resampling op")
    }
}

/// The `pool_t` words: planes, H, W (pooled input), P, Q (pooled output), kernel, stride, padding.
private func poolWords(large: Shape, small: Shape, _ p: PoolConfig) -> [Int32] {
    [large[0] * large[1], large[2], large[3], small[2], small[3], p.kernel.h, p.kernel.w, p.stride.h, p.stride.w, p.padding.h, p.padding.w]
        .map { Int32($0) }
}

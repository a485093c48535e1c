// Layout family → Kernels/layout.cl: every op is a strided copy (pad zero-fills
// first; reshape and stopGradient are buffer copies).
import OpenCLRuntime
import TensorGraph

private let maxRank = 8

/// The `strided_copy_t` words: rank, count, work-items per row, bases, then shape and both
/// strides padded to 8. Size-1 axes are dropped and neighbours contiguous in both tensors
/// merged, so the kernel's rows (its last axis) are as long as possible.
private func stridedCopy(
    _ x: CLBuffer, _ y: CLBuffer, shape: [Int], source: [Int], sourceBase: Int = 0, destination: [Int], destinationBase: Int = 0,
    rows spread: (_ rows: Int, _ length: Int) -> RowSpread
) throws -> Work {
    var axes: [(size: Int, source: Int, destination: Int)] = []
    for (size, (s, d)) in zip(shape, zip(source, destination)) where size != 1 {
        axes.append((size, s, d))
    }
    // Merge axis i into i + 1 when stepping i equals stepping over all of i + 1 in both tensors.
    var merged: [(size: Int, source: Int, destination: Int)] = []
    for axis in axes {
        merged.append(axis)
        while merged.count >= 2 {
            let inner = merged[merged.count - 1], outer = merged[merged.count - 2]
            guard outer.source == inner.source * inner.size, outer.destination == inner.destination * inner.size else { break }
            merged.removeLast(2)
            merged.append((outer.size * inner.size, inner.source, inner.destination))
        }
    }
    if merged.isEmpty { merged = [(1, 1, 1)] }
    guard merged.count <= maxRank else { throw PlanError("layout ops support rank ≤ \(maxRank) on OpenCL, got \(shape)") }
    let pad = { (v: [Int]) in (v + [Int](repeating: 0, count: maxRank - v.count)).map { Int32($0) } }
    let count = shape.reduce(1, *), length = merged.last!.size, rows = count / length
    let parts = spread(rows, length).parts
    let words =
        [Int32(merged.count), Int32(count), Int32(parts), Int32(sourceBase), Int32(destinationBase)] + pad(merged.map(\.size))
        + pad(merged.map(\.source)) + pad(merged.map(\.destination))
    return .kernel("strided_copy", count: rows * parts, [.buffer(x), .buffer(y), .words(words)])
}

func layoutWork(
    _ op: Op, _ x: [CLBuffer], _ xs: [Shape], _ y: CLBuffer, _ ys: Shape, spread: (Int) -> ElementSpread,
    rows: (_ rows: Int, _ length: Int) -> RowSpread
) throws -> [Work] {
    switch op {
    case .reshape, .stopGradient:
        // In place (the plan gave the output its input's buffer): the elements are there already.
        return x[0] === y ? [] : [.copy(x[0], y, elements: ys.count)]
    case .permute(let permutation):
        return [
            try stridedCopy(x[0], y, shape: ys.dims, source: permutation.map { xs[0].strides[$0] }, destination: ys.strides, rows: rows)
        ]
    case .expand:
        let lead = ys.rank - xs[0].rank
        let strides = (0..<ys.rank).map { axis in axis < lead || xs[0][axis - lead] == 1 ? 0 : xs[0].strides[axis - lead] }
        return [try stridedCopy(x[0], y, shape: ys.dims, source: strides, destination: ys.strides, rows: rows)]
    case .concat(let axis):
        var offset = 0
        return try zip(x, xs).map { input, shape in
            defer { offset += shape[axis] }
            return try stridedCopy(
                input, y, shape: shape.dims, source: shape.strides, destination: ys.strides, destinationBase: offset * ys.strides[axis],
                rows: rows)
        }
    case .slice(let starts, _):
        let base = zip(starts, xs[0].strides).map(*).reduce(0, +)
        return [try stridedCopy(x[0], y, shape: ys.dims, source: xs[0].strides, sourceBase: base, destination: ys.strides, rows: rows)]
    case .pad(let before, _):
        let base = zip(before, ys.strides).map(*).reduce(0, +)
        return [
            fill(y, 0, count: ys.count, spread: spread(ys.count)),
            try stridedCopy(x[0], y, shape: xs[0].dims, source: xs[0].strides, destination: ys.strides, destinationBase: base, rows: rows),
        ]
    default:
        preconditionFailure("\(op.name) is not a layout op")
    }
}

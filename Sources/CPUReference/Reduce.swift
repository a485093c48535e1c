// Reductions: walk the input once, accumulating into the output element that
// each input element maps to (reduced axes have output stride 0). Sums
// accumulate in Double.
import TensorGraph

/// `z`: the second factor of `sumOfProducts` (laid out as x).
func reduceForward(
    _ op: ReduceOp, _ x: UnsafePointer<Float>, _ xs: Shape, _ y: UnsafeMutablePointer<Float>, axes: [Int], z: UnsafePointer<Float>? = nil
) {
    let kept = xs.reduced(over: axes, keepDims: true)
    let outStrides = (0..<xs.rank).map { axes.contains($0) ? 0 : kept.strides[$0] }
    let outCount = kept.count
    var index = [Int](repeating: 0, count: xs.rank)
    var out = 0
    switch op {
    case .sum, .sumOfProducts:
        var sums = [Double](repeating: 0, count: outCount)
        for i in 0..<xs.count {
            sums[out] += Double(x[i]) * (z.map { Double($0[i]) } ?? 1)
            advance(&index, &out, xs.dims, outStrides)
        }
        for i in 0..<outCount { y[i] = Float(sums[i]) }
    case .max:
        y.update(repeating: -.infinity, count: outCount)
        for i in 0..<xs.count {
            if x[i] > y[out] || x[i].isNaN { y[out] = x[i] }
            advance(&index, &out, xs.dims, outStrides)
        }
    }
}

/// Odometer step over `dims`, moving `offset` by `strides`.
private func advance(_ index: inout [Int], _ offset: inout Int, _ dims: [Int], _ strides: [Int]) {
    var axis = dims.count - 1
    while axis >= 0 {
        index[axis] += 1
        offset += strides[axis]
        if index[axis] < dims[axis] { return }
        offset -= strides[axis] * dims[axis]
        index[axis] = 0
        axis -= 1
    }
}

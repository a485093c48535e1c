// Layout family. Every op here is one strided copy: walk `shape` with an
// odometer, reading at `source` strides and writing at `destination` strides.
import TensorGraph

func stridedCopy(
    _ shape: [Int], from source: UnsafePointer<Float>, _ sourceStrides: [Int], sourceBase: Int = 0,
    to destination: UnsafeMutablePointer<Float>, _ destinationStrides: [Int], destinationBase: Int = 0
) {
    let count = shape.reduce(1, *)
    guard count > 0 else { return }
    var index = [Int](repeating: 0, count: shape.count)
    var s = sourceBase, d = destinationBase
    for _ in 0..<count {
        destination[d] = source[s]
        var axis = shape.count - 1
        while axis >= 0 {
            index[axis] += 1
            s += sourceStrides[axis]
            d += destinationStrides[axis]
            if index[axis] < shape[axis] { break }
            s -= sourceStrides[axis] * shape[axis]
            d -= destinationStrides[axis] * shape[axis]
            index[axis] = 0
            axis -= 1
        }
    }
}

func permuteForward(_ x: UnsafePointer<Float>, _ xs: Shape, _ y: UnsafeMutablePointer<Float>, _ permutation: [Int]) {
    let shape = permutation.map { xs[$0] }
    stridedCopy(shape, from: x, permutation.map { xs.strides[$0] }, to: y, Shape(shape).strides)
}

func expandForward(_ x: UnsafePointer<Float>, _ xs: Shape, _ y: UnsafeMutablePointer<Float>, _ ys: Shape) {
    let lead = ys.rank - xs.rank
    let strides = (0..<ys.rank).map { axis in
        axis < lead || xs[axis - lead] == 1 ? 0 : xs.strides[axis - lead]
    }
    stridedCopy(ys.dims, from: x, strides, to: y, ys.strides)
}

func concatForward(_ x: [UnsafePointer<Float>], _ xs: [Shape], _ y: UnsafeMutablePointer<Float>, _ ys: Shape, axis: Int) {
    var offset = 0
    for (input, shape) in zip(x, xs) {
        stridedCopy(shape.dims, from: input, shape.strides, to: y, ys.strides, destinationBase: offset * ys.strides[axis])
        offset += shape[axis]
    }
}

func sliceForward(_ x: UnsafePointer<Float>, _ xs: Shape, _ y: UnsafeMutablePointer<Float>, _ ys: Shape, starts: [Int]) {
    let base = zip(starts, xs.strides).map(*).reduce(0, +)
    stridedCopy(ys.dims, from: x, xs.strides, sourceBase: base, to: y, ys.strides)
}

func padForward(_ x: UnsafePointer<Float>, _ xs: Shape, _ y: UnsafeMutablePointer<Float>, _ ys: Shape, before: [Int]) {
    y.update(repeating: 0, count: ys.count)
    let base = zip(before, ys.strides).map(*).reduce(0, +)
    stridedCopy(xs.dims, from: x, xs.strides, to: y, ys.strides, destinationBase: base)
}

// Reductions → Kernels/reduce.cl: one work-item per output element, looping
// over the reduced axes (Kahan-compensated sums).
import OpenCLRuntime
import TensorGraph

func reduceWork(_ op: ReduceOp, axes: [Int], _ x: CLBuffer, _ xs: Shape, _ y: CLBuffer) throws -> Work {
    guard xs.rank <= 8 else { throw PlanError("reductions support rank ≤ 8 on OpenCL, got \(xs)") }
    let kept = (0..<xs.rank).filter { !axes.contains($0) }
    let pad = { (v: [Int]) in (v + [Int](repeating: 0, count: 8 - v.count)).map { Int32($0) } }
    let keptCount = kept.map { xs[$0] }.reduce(1, *), reducedCount = axes.map { xs[$0] }.reduce(1, *)
    // Reduced axes adjacent in memory become one (NCHW over (0, 2, 3): N and H·W).
    var reduced: [(size: Int, stride: Int)] = []
    for axis in axes.sorted() {
        if let outer = reduced.last, axis > 0, axes.contains(axis - 1), outer.stride == xs.strides[axis] * xs[axis] {
            reduced[reduced.count - 1] = (outer.size * xs[axis], xs.strides[axis])
        } else {
            reduced.append((xs[axis], xs.strides[axis]))
        }
    }
    if reduced.isEmpty { reduced = [(1, 1)] }
    let words = [Int32(kept.count), Int32(keptCount), Int32(reduced.count), Int32(reducedCount)]
        + pad(kept.map { xs[$0] }) + pad(kept.map { xs.strides[$0] }) + pad(reduced.map(\.size)) + pad(reduced.map(\.stride))
    let name = op == .sum ? "reduce_sum_forward" : "reduce_max_forward"
    return .kernel(name, count: keptCount, [.buffer(x), .buffer(y), .words(words)])
}

// Reductions → Kernels/reduce.cl: one work-item per output element, looping
// over the reduced axes (Kahan-compensated sums).
import OpenCLRuntime
import TensorGraph

func reduceWork(_ op: ReduceOp, axes: [Int], _ x: CLBuffer, _ xs: Shape, _ y: CLBuffer) throws -> Work {
    guard xs.rank <= 8 else { throw PlanError("reductions support rank ≤ 8 on OpenCL, got \(xs)") }
    let kept = (0..<xs.rank).filter { !axes.contains($0) }
    let pad = { (v: [Int]) in (v + [Int](repeating: 0, count: 8 - v.count)).map { Int32($0) } }
    let keptCount = kept.map { xs[$0] }.reduce(1, *), reducedCount = axes.map { xs[$0] }.reduce(1, *)
    let words = [Int32(kept.count), Int32(keptCount), Int32(axes.count), Int32(reducedCount)]
        + pad(kept.map { xs[$0] }) + pad(kept.map { xs.strides[$0] }) + pad(axes.map { xs[$0] }) + pad(axes.map { xs.strides[$0] })
    let name = op == .sum ? "reduce_sum_forward" : "reduce_max_forward"
    return .kernel(name, count: keptCount, [.buffer(x), .buffer(y), .words(words)])
}

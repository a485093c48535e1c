// Reductions → Kernels/reduce.cl: one work-item per output element, looping
// over the reduced axes (sums track their rounding errors), or eight side by side where the
// outputs are contiguous in every reduced row (sums down columns); long sums into few outputs are
// split into parts summed by a second launch; on a GPU, long sums go to work-groups.
import OpenCLRuntime
import TensorGraph

/// A reduction in the `reduce_t` frame of Kernels/reduce.cl.
struct Reduction {
    let op: ReduceOp
    let keptCount: Int, reducedCount: Int
    /// Whether the kept axes' innermost is contiguous in runs of 8 (`reduce_sum_columns`).
    private let columns: Bool
    private let words: [Int32]

    init(_ op: ReduceOp, axes: [Int], _ xs: Shape) throws {
        guard xs.rank <= 8 else { throw PlanError("reductions support rank ≤ 8 on OpenCL, got \(xs)") }
        self.op = op
        let kept = (0..<xs.rank).filter { !axes.contains($0) }
        keptCount = kept.map { xs[$0] }.reduce(1, *)
        reducedCount = axes.map { xs[$0] }.reduce(1, *)
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
        // (An empty sum stays with the row kernel: the column kernel divides by the last reduced axis.)
        columns = reducedCount > 0 && (kept.last.map { xs.strides[$0] == 1 && xs[$0] % 8 == 0 } ?? false)
        words = Self.words(kept: kept.map { (xs[$0], xs.strides[$0]) }, reduced: reduced)
    }

    private static func words(kept: [(size: Int, stride: Int)], reduced: [(size: Int, stride: Int)]) -> [Int32] {
        let pad = { (v: [Int]) in (v + [Int](repeating: 0, count: 8 - v.count)).map { Int32($0) } }
        return [Int32(kept.count), Int32(kept.map(\.size).reduce(1, *)), Int32(reduced.count), Int32(reduced.map(\.size).reduce(1, *))]
            + pad(kept.map(\.size)) + pad(kept.map(\.stride)) + pad(reduced.map(\.size)) + pad(reduced.map(\.stride))
    }

    /// Work-items of one group of `reduce_sum_groups` (its REDUCE_GROUP).
    static let groupSize = 64

    /// How the sum spreads over the device: `parts` per output, each part summed by one
    /// work-item, or by a work-group of `groupSize` when `grouped`. A CPU takes parts of at
    /// least 2048 elements, enough to give its cores 256 work-items each. A GPU groups sums of
    /// 256 terms or more, so neighbouring work-items read neighbouring elements, in parts of
    /// at least 512 terms until about 16 groups per compute unit: one work-item per part
    /// (2048 work-items for BatchNorm's 64 channel sums) left an H100 nearly idle, 60 µs a sum.
    func spread(cpu: Bool, computeUnits: Int) -> (parts: Int, grouped: Bool) {
        guard op != .max else { return (1, false) }
        let units = max(computeUnits, 1)
        if cpu || reducedCount < 256 {
            let workItems = units * (cpu ? 256 : 2048)
            return (max(1, min(reducedCount / 2048, (workItems + keptCount - 1) / keptCount)), false)
        }
        return (max(1, min(reducedCount / 512, (units * 16 + keptCount - 1) / keptCount)), true)
    }

    /// Floats of scratch for the partial sums.
    func scratchElements(parts: Int) -> Int { parts > 1 ? keptCount * parts : 0 }

    /// `x`: the input, or (`sumOfProducts`) the two factors.
    func work(_ x: [CLBuffer], _ y: CLBuffer, parts: Int, grouped: Bool = false, scratch: CLBuffer?) -> [Work] {
        if op == .max {
            return [.kernel("reduce_max_forward", count: keptCount, [.buffer(x[0]), .buffer(y), .words(words)])]
        }
        let sum = { (x: [CLBuffer], y: CLBuffer, words: [Int32], parts: Int) -> Work in
            let arguments: [KernelArgument] = [
                .buffer(x[0]), .buffer(x.last!), .buffer(y), .words(words), .int(Int32(parts)), .int(x.count > 1 ? 1 : 0),
            ]
            return grouped
                ? .kernel("reduce_sum_groups", count: self.keptCount * parts * Self.groupSize, arguments, local: Self.groupSize)
                : .kernel("reduce_sum_forward", count: self.keptCount * parts, arguments)
        }
        if columns, parts == 1, !grouped {
            let arguments: [KernelArgument] = [.buffer(x[0]), .buffer(x.last!), .buffer(y), .words(words), .int(x.count > 1 ? 1 : 0)]
            return [.kernel("reduce_sum_columns", count: keptCount / 8, arguments)]
        }
        guard parts > 1, let scratch else { return [sum(x, y, words, 1)] }
        // The partial sums [kept, parts], then their sum over the parts.
        let partials = Self.words(kept: [(keptCount, parts)], reduced: [(parts, 1)])
        return [sum(x, scratch, words, parts), sum([scratch], y, partials, 1)]
    }
}

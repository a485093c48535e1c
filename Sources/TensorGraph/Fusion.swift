// Elementwise fusion: on a backend that can (`Backend.fusesElementwise`), a plan runs each
// tree of elementwise ops (unary, binary, select) whose inner values nothing else reads as
// one fused op: one pass over memory and one launch where there were one per op. The tree's
// leaves are read in place, including tensors broadcast by `expand` (read through their
// index pattern instead of copied out) and filled scalars (literals). Backends that do not
// fuse (the CPU reference) run the ops one by one: the oracle for the fused kernels.

/// The value of a fused op at one element, from its inputs at that element.
public indirect enum ElementwiseExpression: Hashable, Sendable {
    /// Input `k` of the fused op.
    case input(Int)
    case scalar(Float)
    case unary(UnaryOp, ElementwiseExpression)
    case binary(BinaryOp, ElementwiseExpression, ElementwiseExpression)
    /// `condition != 0 ? a : b`.
    case select(ElementwiseExpression, ElementwiseExpression, ElementwiseExpression)
}

/// How a fused op reads an input at output element `i`: element `(i / inner) % period`. An
/// input of the output's size has inner 1 and period `count`; a tensor broadcast by `expand`
/// whose kept axes are one run has `period` = their elements and `inner` = the output
/// elements after them ([1, C, 1, 1] → [N, C, H, W]: inner H·W, period C).
public struct FusedIndexing: Hashable, Sendable {
    public let inner: Int, period: Int
    public init(inner: Int, period: Int) { (self.inner, self.period) = (inner, period) }

    /// Whether it reads element i at output element i.
    public func isIdentity(count: Int) -> Bool { inner == 1 && period >= count }

    /// The indexing of `expand(from: source, to: target)`, or nil when its kept axes are not
    /// one run (such an expand stays a copy).
    public static func expand(from source: Shape, to target: Shape) -> FusedIndexing? {
        let lead = target.rank - source.rank
        guard lead >= 0 else { return nil }
        let kept = (0..<target.rank).filter { target[$0] > 1 && $0 >= lead && source[$0 - lead] == target[$0] }
        guard let first = kept.first, let last = kept.last else { return FusedIndexing(inner: max(target.count, 1), period: 1) }
        // Between the first and last kept axis every axis of more than one element is kept.
        guard (first...last).allSatisfy({ target[$0] == 1 || kept.contains($0) }) else { return nil }
        let inner = (last + 1..<target.rank).reduce(1) { $0 * target[$1] }
        return FusedIndexing(inner: inner, period: (first...last).reduce(1) { $0 * target[$1] })
    }
}

/// A fused op: `expression` at each of `count` output elements, input k read through `indexing[k]`.
public struct FusedElementwise: Hashable, Sendable {
    public let expression: ElementwiseExpression
    public let indexing: [FusedIndexing]
    public let count: Int
    /// The ops it replaces (for logs).
    public let opCount: Int
}

/// Finds the fused ops of a schedule. `bound` says which nodes already have a value
/// (sources and values computed once), `targets` which values leave the plan.
struct ElementwiseFusion {
    /// The most inputs and ops one fused op takes (kernel arguments, compile time).
    static let maxInputs = 10, maxOps = 48

    /// Fused roots → (the fused op, the node ids of its inputs in order); the ids it absorbed.
    static func fuse(_ graph: Graph, schedule: [Int], targets: Set<Int>, bound: (Int) -> Bool) -> (
        fused: [Int: (op: FusedElementwise, inputs: [Int])], absorbed: Set<Int>
    ) {
        var consumers: [Int: Int] = [:]
        for id in schedule {
            for input in graph[id].inputs { consumers[input, default: 0] += 1 }
        }
        let scheduled = Set(schedule)
        var fused: [Int: (op: FusedElementwise, inputs: [Int])] = [:]
        var absorbed = Set<Int>()
        var sharedExpandReads: [Int: Int] = [:]
        for root in schedule.reversed() where !absorbed.contains(root) && isElementwise(graph[root].op) {
            let count = graph[root].shape.count
            // The largest tree within `maxOps` ops: depth first, operands in order.
            func tree(maxOps: Int) -> (ElementwiseExpression, leaves: [(id: Int, indexing: FusedIndexing)], taken: [Int], shared: [Int]) {
                var leaves: [(id: Int, indexing: FusedIndexing)] = []
                var taken: [Int] = []
                // Expands read in place here though other ops read them too (counted in `sharedExpandReads`).
                var shared: [Int] = []
                func leaf(_ id: Int, _ indexing: FusedIndexing = FusedIndexing(inner: 1, period: count)) -> ElementwiseExpression {
                    if let k = leaves.firstIndex(where: { $0.id == id && $0.indexing == indexing }) { return .input(k) }
                    leaves.append((id, indexing))
                    return .input(leaves.count - 1)
                }
                func filled(_ id: Int) -> Float? {
                    guard bound(id), case .fill(let value, _) = graph[id].op else { return nil }
                    return value
                }
                // The value of an operand: absorbed when only this tree reads it.
                func operand(_ id: Int) -> ElementwiseExpression {
                    if let value = filled(id) { return .scalar(value) }
                    let node = graph[id]
                    // An expand's source is read in place: taken when only this tree reads the
                    // expand, else counted in `shared`.
                    if case .expand = node.op, scheduled.contains(id), !absorbed.contains(id), !targets.contains(id),
                        node.shape.count == count,
                        let indexing = FusedIndexing.expand(from: graph[node.inputs[0]].shape, to: node.shape)
                    {
                        if consumers[id] == 1 {
                            guard taken.count + 1 < maxOps else { return leaf(id) }
                            taken.append(id)
                        } else {
                            shared.append(id)
                        }
                        if let value = filled(node.inputs[0]) { return .scalar(value) }
                        return leaf(node.inputs[0], indexing)
                    }
                    guard scheduled.contains(id), !absorbed.contains(id), !targets.contains(id), consumers[id] == 1,
                        node.shape.count == count, taken.count + 1 < maxOps
                    else { return leaf(id) }
                    switch node.op {
                    case .unary, .binary, .select, .stopGradient, .reshape:
                        taken.append(id)
                        return combine(node.op, node.inputs.map(operand))
                    default:
                        return leaf(id)
                    }
                }
                return (combine(graph[root].op, graph[root].inputs.map(operand)), leaves, taken, shared)
            }
            // Fewer ops until the inputs fit (one op alone has at most three).
            var budget = maxOps
            var (result, leaves, taken, shared) = tree(maxOps: budget)
            while leaves.count > maxInputs {
                budget /= 2
                (result, leaves, taken, shared) = tree(maxOps: budget)
            }
            // Worth a fused op when it replaces another op or reads a scalar or a broadcast in place.
            guard !taken.isEmpty || result.hasScalar || !shared.isEmpty else { continue }
            absorbed.formUnion(taken)
            for id in shared { sharedExpandReads[id, default: 0] += 1 }
            fused[root] = (
                op: FusedElementwise(expression: result, indexing: leaves.map(\.indexing), count: count, opCount: 1 + taken.count),
                inputs: leaves.map(\.id)
            )
        }
        // An expand that every reader reads in place is not materialized at all. (A reader that
        // a later tree absorbed read it through that tree, which counted it again.)
        for (id, reads) in sharedExpandReads where reads == consumers[id] { absorbed.insert(id) }
        return (fused, absorbed)
    }

    /// `op` applied to expressions of its operands (stopGradient and reshape: the same elements).
    static func combine(_ op: Op, _ operands: [ElementwiseExpression]) -> ElementwiseExpression {
        switch op {
        case .unary(let unary): .unary(unary, operands[0])
        case .binary(let binary): .binary(binary, operands[0], operands[1])
        case .select: .select(operands[0], operands[1], operands[2])
        default: operands[0]
        }
    }

    static func isElementwise(_ op: Op) -> Bool {
        switch op {
        case .unary, .binary, .select: true
        default: false
        }
    }
}

extension ElementwiseExpression {
    var hasScalar: Bool {
        switch self {
        case .input: false
        case .scalar: true
        case .unary(_, let x): x.hasScalar
        case .binary(_, let a, let b): a.hasScalar || b.hasScalar
        case .select(let c, let a, let b): c.hasScalar || a.hasScalar || b.hasScalar
        }
    }
}

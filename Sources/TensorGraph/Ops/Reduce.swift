// Reductions family: sum and max over axes (negative axes count from the end),
// with or without the reduced axes kept as size 1; mean is sum / count.

extension Tensor {
    private func normalized(_ axes: [Int]?) -> [Int] {
        guard let axes else { return Array(0..<shape.rank) }
        return axes.map { $0 < 0 ? $0 + shape.rank : $0 }.sorted()
    }

    /// Sum over `axes` (all axes when nil). The sum of a product or a square (normalizations'
    /// statistics and gradients) sums the factors' products in one pass, the product not
    /// written out first (it is still computed where something else reads it).
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let axes = normalized(axes)
        guard !axes.isEmpty else { return self }
        // A binary op's inputs have its shape (broadcasts are explicit `expand`s).
        let products = Op.reduce(.sumOfProducts, axes: axes, keepDims: keepDims)
        switch graph[id].op {
        case .binary(.mul): return graph.apply(products, inputs)
        case .unary(.square): return graph.apply(products, [inputs[0], inputs[0]])
        default: return graph.apply(.reduce(.sum, axes: axes, keepDims: keepDims), [self])
        }
    }

    /// Mean over `axes` (all axes when nil).
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let axes = normalized(axes)
        let count = axes.filter { shape.dims.indices.contains($0) }.map { shape[$0] }.reduce(1, *)
        return sum(axes: axes, keepDims: keepDims) * (1 / Float(Swift.max(count, 1)))
    }

    /// Maximum over `axes` (all axes when nil); ties share the gradient evenly.
    public func max(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let axes = normalized(axes)
        return axes.isEmpty ? self : graph.apply(.reduce(.max, axes: axes, keepDims: keepDims), [self])
    }
}

func reduceShape(_ name: String, _ x: Shape, axes: [Int], keepDims: Bool) throws -> Shape {
    guard axes.allSatisfy({ (0..<x.rank).contains($0) }), Set(axes).count == axes.count else {
        throw GraphError(name, "axes \(axes) invalid for \(x)")
    }
    return x.reduced(over: axes, keepDims: keepDims)
}

func reduceGradient(_ op: ReduceOp, axes: [Int], _ inputs: [Tensor], _ y: Tensor, _ dy: Tensor) -> [Tensor?] {
    let x = inputs[0], kept = x.shape.reduced(over: axes, keepDims: true)
    let dyFull = dy.reshaped(kept).expanded(to: x.shape)
    switch op {
    case .sum:
        return [dyFull]
    case .sumOfProducts:
        return [dyFull * inputs[1], dyFull * x]
    case .max:
        let mask = equal(x, y.reshaped(kept).expanded(to: x.shape))
        let ties = mask.sum(axes: axes, keepDims: true).expanded(to: x.shape)
        return [dyFull * mask / ties]
    }
}

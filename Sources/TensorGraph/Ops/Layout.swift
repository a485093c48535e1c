// Layout family: reshape, permute, expand (broadcast), concat, slice and zero
// padding. `expand`'s gradient, `sumTo`, is the one generic place where
// broadcast gradients are reduced.

extension Tensor {
    /// The same elements in a new shape; one dimension may be -1 (inferred).
    public func reshaped(_ dims: [Int]) -> Tensor {
        var dims = dims
        if let unknown = dims.firstIndex(of: -1) {
            let known = dims.enumerated().filter { $0.offset != unknown }.map(\.element).reduce(1, *)
            dims[unknown] = known == 0 ? 0 : shape.count / known
        }
        return graph.apply(.reshape(Shape(dims)), [self])
    }

    public func reshaped(_ shape: Shape) -> Tensor { shape == self.shape ? self : reshaped(shape.dims) }

    /// Axes reordered: output axis `i` is input axis `permutation[i]`.
    public func permuted(_ permutation: [Int]) -> Tensor { graph.apply(.permute(permutation), [self]) }

    /// The matrix transpose of a rank-2 tensor.
    public func transposed() -> Tensor { permuted([1, 0]) }

    /// The elements `starts[i] ..< starts[i] + sizes[i]` of each axis.
    public func sliced(starts: [Int], sizes: [Int]) -> Tensor {
        graph.apply(.slice(starts: starts, sizes: sizes), [self])
    }

    /// The elements `range` of one axis.
    public func sliced(axis: Int, _ range: Range<Int>) -> Tensor {
        var starts = [Int](repeating: 0, count: shape.rank)
        var sizes = shape.dims
        if shape.dims.indices.contains(axis) {
            starts[axis] = range.lowerBound
            sizes[axis] = range.count
        }
        return sliced(starts: starts, sizes: sizes)
    }

    /// Zero padding: `before[i]` and `after[i]` elements around axis `i`.
    public func padded(before: [Int], after: [Int]) -> Tensor {
        graph.apply(.pad(before: before, after: after), [self])
    }

    /// Sums this (broadcast) gradient down to `shape`, inverting NumPy broadcasting.
    public func sum(to shape: Shape) -> Tensor {
        if shape == self.shape { return self }
        // Σ(−t) = −Σt exactly: summing first negates the small tensor, where a full-size
        // negation would be written only for the sum to read it (the gradient of `x − mean`
        // with respect to BatchNorm's broadcast mean).
        if case .unary(.neg) = op { return -inputs[0].sum(to: shape) }
        let lead = self.shape.rank - shape.rank
        var axes = Array(0..<Swift.max(lead, 0))
        for (i, size) in shape.dims.enumerated() where size == 1 && self.shape[i + lead] != 1 {
            axes.append(i + lead)
        }
        return sum(axes: axes, keepDims: true).reshaped(shape)
    }
}

/// Sub-pixel upsampling (PyTorch's `pixel_shuffle`): `[N, C·r², H, W]` → `[N, C, H·r, W·r]`,
/// output `(c, h·r + i, w·r + j)` from input channel `c·r² + i·r + j` at `(h, w)`. A reshape,
/// a permutation and a reshape, so its gradient and every backend come with them.
public func pixelShuffle(_ x: Tensor, factor r: Int) -> Tensor {
    let (n, channels, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    guard x.shape.rank == 4, r > 0, channels % (r * r) == 0 else {
        x.graph.record(GraphError("pixelShuffle", "\(x.shape) has no channels in groups of \(r)² for a factor of \(r)"))
        return x
    }
    let c = channels / (r * r)
    return x.reshaped([n, c, r, r, h, w]).permuted([0, 1, 4, 2, 5, 3]).reshaped([n, c, h * r, w * r])
}

/// The inverse of `pixelShuffle` (PyTorch's `pixel_unshuffle`): `[N, C, H·r, W·r]` → `[N, C·r², H, W]`.
public func pixelUnshuffle(_ x: Tensor, factor r: Int) -> Tensor {
    let (n, c, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    guard x.shape.rank == 4, r > 0, height % r == 0, width % r == 0 else {
        x.graph.record(GraphError("pixelUnshuffle", "\(x.shape) does not split into \(r)×\(r) blocks"))
        return x
    }
    let (h, w) = (height / r, width / r)
    return x.reshaped([n, c, h, r, w, r]).permuted([0, 1, 3, 5, 2, 4]).reshaped([n, c * r * r, h, w])
}

/// Tensors joined along `axis`; all other dimensions must agree.
public func concat(_ tensors: [Tensor], axis: Int) -> Tensor {
    tensors[0].graph.apply(.concat(axis: axis), tensors)
}

func layoutShape(_ op: Op, _ shapes: [Shape]) throws -> Shape {
    let x = shapes[0]
    switch op {
    case .reshape(let shape):
        guard shape.count == x.count, shape.dims.allSatisfy({ $0 >= 0 }) else {
            throw GraphError("reshape", "cannot reshape \(x) (\(x.count) elements) to \(shape)")
        }
        return shape
    case .permute(let permutation):
        guard permutation.sorted() == Array(0..<x.rank) else {
            throw GraphError("permute", "\(permutation) is not a permutation of the axes of \(x)")
        }
        return Shape(permutation.map { x[$0] })
    case .expand(let shape):
        let lead = shape.rank - x.rank
        guard lead >= 0, x.dims.enumerated().allSatisfy({ $0.element == shape[$0.offset + lead] || $0.element == 1 }) else {
            throw GraphError("expand", "cannot broadcast \(x) to \(shape)")
        }
        return shape
    case .concat(let axis):
        guard (0..<x.rank).contains(axis) else { throw GraphError("concat", "axis \(axis) out of range for \(x)") }
        var dims = x.dims
        for other in shapes.dropFirst() {
            guard other.rank == x.rank, (0..<x.rank).allSatisfy({ $0 == axis || other[$0] == x[$0] }) else {
                throw GraphError("concat", "shapes \(x) and \(other) differ outside axis \(axis)")
            }
            dims[axis] += other[axis]
        }
        return Shape(dims)
    case .slice(let starts, let sizes):
        guard starts.count == x.rank, sizes.count == x.rank,
            (0..<x.rank).allSatisfy({ starts[$0] >= 0 && sizes[$0] >= 0 && starts[$0] + sizes[$0] <= x[$0] })
        else {
            throw GraphError("slice", "starts \(starts) sizes \(sizes) out of bounds for \(x)")
        }
        return Shape(sizes)
    case .pad(let before, let after):
        guard before.count == x.rank, after.count == x.rank, (before + after).allSatisfy({ $0 >= 0 }) else {
            throw GraphError("pad", "padding \(before)/\(after) does not fit \(x)")
        }
        return Shape((0..<x.rank).map { x[$0] + before[$0] + after[$0] })
    default:
        preconditionFailure("\(op.name) is not a layout op")
    }
}

func layoutGradient(_ op: Op, _ x: [Tensor], _ dy: Tensor) -> [Tensor?] {
    switch op {
    case .reshape:
        return [dy.reshaped(x[0].shape)]
    case .permute(let permutation):
        var inverse = permutation
        for (i, axis) in permutation.enumerated() { inverse[axis] = i }
        return [dy.permuted(inverse)]
    case .expand:
        return [dy.sum(to: x[0].shape)]
    case .concat(let axis):
        var offset = 0
        return x.map { input in
            defer { offset += input.shape[axis] }
            return dy.sliced(axis: axis, offset..<offset + input.shape[axis])
        }
    case .slice(let starts, let sizes):
        let after = (0..<starts.count).map { x[0].shape[$0] - starts[$0] - sizes[$0] }
        return [dy.padded(before: starts, after: after)]
    case .pad(let before, _):
        return [dy.sliced(starts: before, sizes: x[0].shape.dims)]
    default:
        preconditionFailure("\(op.name) is not a layout op")
    }
}

// Elementwise family: unary math, binary arithmetic with NumPy broadcasting
// (made explicit with `expand`, so backends only see equal shapes), comparisons,
// select and stopGradient — builders, shape rule and gradient rules.

extension Tensor {
    func unary(_ op: UnaryOp) -> Tensor { graph.apply(.unary(op), [self]) }

    /// A scalar filled to this tensor's shape.
    func filled(_ value: Float) -> Tensor { graph.fill(value, shape) }

    /// This tensor broadcast to `shape` (no node when the shape already matches).
    public func expanded(to shape: Shape) -> Tensor {
        shape == self.shape ? self : graph.apply(.expand(shape), [self])
    }
}

/// `op(a, b)` after broadcasting both to a common shape.
func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) -> Tensor {
    guard let shape = Shape.broadcast(a.shape, b.shape) else {
        a.graph.record(GraphError("\(op)", "shapes \(a.shape) and \(b.shape) cannot be broadcast"))
        return a
    }
    return a.graph.apply(.binary(op), [a.expanded(to: shape), b.expanded(to: shape)])
}

public func + (a: Tensor, b: Tensor) -> Tensor { binary(.add, a, b) }
public func - (a: Tensor, b: Tensor) -> Tensor { binary(.sub, a, b) }
public func * (a: Tensor, b: Tensor) -> Tensor { binary(.mul, a, b) }
public func / (a: Tensor, b: Tensor) -> Tensor { binary(.div, a, b) }
public func + (a: Tensor, b: Float) -> Tensor { binary(.add, a, a.filled(b)) }
public func - (a: Tensor, b: Float) -> Tensor { binary(.sub, a, a.filled(b)) }
public func * (a: Tensor, b: Float) -> Tensor { binary(.mul, a, a.filled(b)) }
public func / (a: Tensor, b: Float) -> Tensor { binary(.div, a, a.filled(b)) }
public func + (a: Float, b: Tensor) -> Tensor { binary(.add, b.filled(a), b) }
public func - (a: Float, b: Tensor) -> Tensor { binary(.sub, b.filled(a), b) }
public func * (a: Float, b: Tensor) -> Tensor { binary(.mul, b.filled(a), b) }
public func / (a: Float, b: Tensor) -> Tensor { binary(.div, b.filled(a), b) }
public prefix func - (x: Tensor) -> Tensor { x.unary(.neg) }

public func exp(_ x: Tensor) -> Tensor { x.unary(.exp) }
public func log(_ x: Tensor) -> Tensor { x.unary(.log) }
public func sqrt(_ x: Tensor) -> Tensor { x.unary(.sqrt) }
public func rsqrt(_ x: Tensor) -> Tensor { x.unary(.rsqrt) }
public func square(_ x: Tensor) -> Tensor { x.unary(.square) }
public func abs(_ x: Tensor) -> Tensor { x.unary(.abs) }
public func sign(_ x: Tensor) -> Tensor { x.unary(.sign) }
public func pow(_ a: Tensor, _ b: Tensor) -> Tensor { binary(.pow, a, b) }
public func pow(_ a: Tensor, _ b: Float) -> Tensor { binary(.pow, a, a.filled(b)) }
public func maximum(_ a: Tensor, _ b: Tensor) -> Tensor { binary(.maximum, a, b) }
public func minimum(_ a: Tensor, _ b: Tensor) -> Tensor { binary(.minimum, a, b) }
public func maximum(_ a: Tensor, _ b: Float) -> Tensor { binary(.maximum, a, a.filled(b)) }
public func minimum(_ a: Tensor, _ b: Float) -> Tensor { binary(.minimum, a, a.filled(b)) }
/// Elements limited to `[min, max]`.
public func clamp(_ x: Tensor, min: Float, max: Float) -> Tensor { x.unary(.clamp(min: min, max: max)) }

// Comparisons: 1 where true, 0 where false; their gradient is zero.
public func equal(_ a: Tensor, _ b: Tensor) -> Tensor { binary(.equal, a, b) }
public func notEqual(_ a: Tensor, _ b: Tensor) -> Tensor { binary(.notEqual, a, b) }
public func less(_ a: Tensor, _ b: Tensor) -> Tensor { binary(.less, a, b) }
public func lessEqual(_ a: Tensor, _ b: Tensor) -> Tensor { binary(.lessEqual, a, b) }
public func greater(_ a: Tensor, _ b: Tensor) -> Tensor { binary(.greater, a, b) }
public func greaterEqual(_ a: Tensor, _ b: Tensor) -> Tensor { binary(.greaterEqual, a, b) }
public func greater(_ a: Tensor, _ b: Float) -> Tensor { binary(.greater, a, a.filled(b)) }
public func greaterEqual(_ a: Tensor, _ b: Float) -> Tensor { binary(.greaterEqual, a, a.filled(b)) }
public func less(_ a: Tensor, _ b: Float) -> Tensor { binary(.less, a, a.filled(b)) }
public func lessEqual(_ a: Tensor, _ b: Float) -> Tensor { binary(.lessEqual, a, a.filled(b)) }

/// `a` where `condition` is nonzero, else `b` (all three broadcast together).
public func select(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
    guard let ab = Shape.broadcast(a.shape, b.shape), let shape = Shape.broadcast(condition.shape, ab) else {
        a.graph.record(GraphError("select", "shapes \(condition.shape), \(a.shape) and \(b.shape) cannot be broadcast"))
        return a
    }
    return a.graph.apply(.select, [condition.expanded(to: shape), a.expanded(to: shape), b.expanded(to: shape)])
}

/// The identity in the forward pass; blocks gradients (PyTorch's `detach`).
public func stopGradient(_ x: Tensor) -> Tensor { x.graph.apply(.stopGradient, [x]) }

func elementwiseShape(_ op: Op, _ shapes: [Shape]) throws -> Shape {
    for shape in shapes.dropFirst() where shape != shapes[0] {
        throw GraphError(op.name, "shapes differ: " + shapes.map(\.description).joined(separator: " and "))
    }
    return shapes[0]
}

/// Gradient rules of the elementwise family.
func elementwiseGradient(_ op: Op, _ x: [Tensor], _ y: Tensor, _ dy: Tensor) -> [Tensor?] {
    switch op {
    case .unary(let unary):
        return [unaryGradient(unary, x[0], y, dy)]
    case .binary(let binary):
        let (a, b) = (x[0], x[1])
        switch binary {
        case .add: return [dy, dy]
        case .sub: return [dy, -dy]
        case .mul: return [dy * b, dy * a]
        case .div: return [dy / b, -(dy * y) / b]
        case .pow:
            // d/db = y·log(a); a ≤ 0 contributes 0 there (as PyTorch for a = 0) instead of NaN.
            let safeLog = log(maximum(a, Float.leastNormalMagnitude))
            return [dy * b * pow(a, b - 1), select(greater(a, 0), dy * y * safeLog, a.filled(0))]
        case .maximum, .minimum:
            // Ties split the gradient evenly, as PyTorch does.
            let wins = binary == .maximum ? greater(a, b) : less(a, b)
            let share = wins + equal(a, b) * 0.5
            return [dy * share, dy * (1 - share)]
        case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual:
            return [nil, nil]
        }
    case .select:
        let zero = dy.filled(0)
        return [nil, select(x[0], dy, zero), select(x[0], zero, dy)]
    default:
        return x.map { _ in nil }
    }
}

private func unaryGradient(_ op: UnaryOp, _ x: Tensor, _ y: Tensor, _ dy: Tensor) -> Tensor? {
    switch op {
    case .neg: return -dy
    case .exp: return dy * y
    case .log: return dy / x
    case .sqrt: return dy / (y * 2)
    case .rsqrt: return dy * y * y * y * -0.5
    case .square: return dy * x * 2
    case .abs: return dy * sign(x)
    case .sign: return nil
    case .clamp(let lo, let hi): return dy * greaterEqual(x, lo) * lessEqual(x, hi)
    case .relu, .leakyReLU, .tanh, .sigmoid, .softplus: return activationGradient(op, x, y, dy)
    }
}

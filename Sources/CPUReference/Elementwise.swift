// Elementwise family and activations: one loop per op over contiguous,
// equal-shaped operands (broadcasting was made explicit by the graph).
import Foundation
import TensorGraph

func unaryValue(_ op: UnaryOp, _ x: Float) -> Float {
    switch op {
    case .neg: return -x
    case .exp: return Foundation.exp(x)
    case .log: return Foundation.log(x)
    case .sqrt: return x.squareRoot()
    case .rsqrt: return 1 / x.squareRoot()
    case .square: return x * x
    case .abs: return Swift.abs(x)
    case .sign: return x > 0 ? 1 : x < 0 ? -1 : x  // keeps ±0 and NaN
    case .relu: return x > 0 ? x : 0
    case .leakyReLU(let slope): return x > 0 ? x : x * slope
    case .tanh: return Foundation.tanh(x)
    case .sigmoid: return x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x))
    // log(1 + e^x) = max(x, 0) + log1p(e^−|x|): no overflow for large |x|.
    case .softplus: return Swift.max(x, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(x)))
    case .clamp(let lo, let hi): return Swift.min(Swift.max(x, lo), hi)
    }
}

func binaryValue(_ op: BinaryOp, _ a: Float, _ b: Float) -> Float {
    switch op {
    case .add: return a + b
    case .sub: return a - b
    case .mul: return a * b
    case .div: return a / b
    case .pow: return Foundation.pow(a, b)
    case .maximum: return a.isNaN || b.isNaN ? .nan : Swift.max(a, b)  // NaN propagates, as in PyTorch
    case .minimum: return a.isNaN || b.isNaN ? .nan : Swift.min(a, b)
    case .equal: return a == b ? 1 : 0
    case .notEqual: return a != b ? 1 : 0
    case .less: return a < b ? 1 : 0
    case .lessEqual: return a <= b ? 1 : 0
    case .greater: return a > b ? 1 : 0
    case .greaterEqual: return a >= b ? 1 : 0
    }
}

func unaryForward(_ op: UnaryOp, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
    for i in 0..<count { y[i] = unaryValue(op, x[i]) }
}

func binaryForward(_ op: BinaryOp, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
    for i in 0..<count { y[i] = binaryValue(op, a[i], b[i]) }
}

/// Float class indices → one-hot rows; returns the error for an index outside `0..<depth`.
func oneHotForward(_ labels: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, depth: Int) -> PlanError? {
    y.update(repeating: 0, count: rows * depth)
    for row in 0..<rows {
        let label = labels[row]
        guard label >= 0, label < Float(depth), label == label.rounded() else {
            return PlanError("oneHot: label \(label) in row \(row) is not a class index in 0..<\(depth)")
        }
        y[row * depth + Int(label)] = 1
    }
    return nil
}

/// A fused op's values on the host, from its inputs' values: the oracle for fused kernels
/// where a plan checks them op by op (the CPU reference itself never fuses).
public func fusedElementwiseValues(_ op: FusedElementwise, _ inputs: [[Float]]) -> [Float] {
    func value(_ e: ElementwiseExpression, _ i: Int) -> Float {
        switch e {
        case .input(let k): return inputs[k][(i / op.indexing[k].inner) % op.indexing[k].period]
        case .scalar(let s): return s
        case .unary(let u, let x): return unaryValue(u, value(x, i))
        case .binary(let b, let x, let y): return binaryValue(b, value(x, i), value(y, i))
        case .select(let c, let a, let b): return value(c, i) != 0 ? value(a, i) : value(b, i)
        }
    }
    return (0..<op.count).map { value(op.expression, $0) }
}

// Elementwise family (activations included) → Kernels/elementwise.cl. The codes
// below are the `op` switch cases of unary_forward and binary_forward.
import OpenCLRuntime
import TensorGraph

extension UnaryOp {
    /// The kernel's op code and its two parameters.
    var kernelCode: (Int32, Float, Float) {
        switch self {
        case .neg: (0, 0, 0)
        case .exp: (1, 0, 0)
        case .log: (2, 0, 0)
        case .sqrt: (3, 0, 0)
        case .rsqrt: (4, 0, 0)
        case .square: (5, 0, 0)
        case .abs: (6, 0, 0)
        case .sign: (7, 0, 0)
        case .relu: (8, 0, 0)
        case .leakyReLU(let slope): (9, slope, 0)
        case .tanh: (10, 0, 0)
        case .sigmoid: (11, 0, 0)
        case .softplus: (12, 0, 0)
        case .clamp(let lo, let hi): (13, lo, hi)
        }
    }
}

extension BinaryOp {
    var kernelCode: Int32 {
        switch self {
        case .add: 0
        case .sub: 1
        case .mul: 2
        case .div: 3
        case .pow: 4
        case .maximum: 5
        case .minimum: 6
        case .equal: 7
        case .notEqual: 8
        case .less: 9
        case .lessEqual: 10
        case .greater: 11
        case .greaterEqual: 12
        }
    }
}

func elementwiseWork(_ op: Op, _ x: [CLBuffer], _ xs: [Shape], _ y: CLBuffer, _ ys: Shape, status: CLBuffer, spread: ElementSpread) -> Work {
    let count = ys.count, items = spread.workItems, tail = spread.arguments(count)
    switch op {
    case .unary(let unary):
        let (code, p0, p1) = unary.kernelCode
        return .kernel("unary_forward", count: items, [.buffer(x[0]), .buffer(y), .int(code), .float(p0), .float(p1)] + tail)
    case .binary(let binary):
        return .kernel("binary_forward", count: items, [.buffer(x[0]), .buffer(x[1]), .buffer(y), .int(binary.kernelCode)] + tail)
    case .select:
        return .kernel("select_forward", count: items, [.buffer(x[0]), .buffer(x[1]), .buffer(x[2]), .buffer(y)] + tail)
    case .oneHot(let depth):
        let rows = xs[0].count
        return .kernel("one_hot_forward", count: rows, [.buffer(x[0]), .buffer(y), .buffer(status), .int(Int32(rows)), .int(Int32(depth))])
    default:
        preconditionFailure("\(op.name) is not elementwise")
    }
}

func fill(_ y: CLBuffer, _ value: Float, count: Int, spread: ElementSpread) -> Work {
    .kernel("fill_forward", count: spread.workItems, [.buffer(y), .float(value)] + spread.arguments(count))
}

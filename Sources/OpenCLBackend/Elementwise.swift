// Elementwise family (activations included) → Kernels/elementwise.cl (one op per launch) and
// the fused kernels of FusedKernels.swift. The codes below select unary_op and binary_op of
// Kernels/element_functions.cl, by the names both sides give them.
import OpenCLRuntime
import TensorGraph

/// The op codes of `unary_op` in Kernels/element_functions.cl, where each is `#define`d as
/// `UNARY_<NAME>` (`macro`); `OpenCLOpTests` checks that the two lists agree.
public enum UnaryKernelCode: Int32, CaseIterable, Sendable {
    case neg, exp, log, sqrt, rsqrt, square, abs, sign, relu, leakyReLU, tanh, sigmoid, softplus, clamp
    public var macro: String { kernelMacro("UNARY", self) }
}

/// The op codes of `binary_op`, `#define`d as `BINARY_<NAME>`.
public enum BinaryKernelCode: Int32, CaseIterable, Sendable {
    case add, sub, mul, div, pow, maximum, minimum, equal, notEqual, less, lessEqual, greater, greaterEqual
    public var macro: String { kernelMacro("BINARY", self) }
}

/// `leakyReLU` → `<PREFIX>_LEAKY_RELU`: the case name in upper snake case.
private func kernelMacro(_ prefix: String, _ code: some Any) -> String {
    var name = ""
    for character in "\(code)".replacingOccurrences(of: "ReLU", with: "Relu") {
        if character.isUppercase { name += "_" }
        name += character.uppercased()
    }
    return prefix + "_" + name
}

extension UnaryOp {
    /// The kernel's op code and its two parameters.
    var kernelCode: (UnaryKernelCode, Float, Float) {
        switch self {
        case .neg: (.neg, 0, 0)
        case .exp: (.exp, 0, 0)
        case .log: (.log, 0, 0)
        case .sqrt: (.sqrt, 0, 0)
        case .rsqrt: (.rsqrt, 0, 0)
        case .square: (.square, 0, 0)
        case .abs: (.abs, 0, 0)
        case .sign: (.sign, 0, 0)
        case .relu: (.relu, 0, 0)
        case .leakyReLU(let slope): (.leakyReLU, slope, 0)
        case .tanh: (.tanh, 0, 0)
        case .sigmoid: (.sigmoid, 0, 0)
        case .softplus: (.softplus, 0, 0)
        case .clamp(let lo, let hi): (.clamp, lo, hi)
        }
    }
}

extension BinaryOp {
    var kernelCode: BinaryKernelCode {
        switch self {
        case .add: .add
        case .sub: .sub
        case .mul: .mul
        case .div: .div
        case .pow: .pow
        case .maximum: .maximum
        case .minimum: .minimum
        case .equal: .equal
        case .notEqual: .notEqual
        case .less: .less
        case .lessEqual: .lessEqual
        case .greater: .greater
        case .greaterEqual: .greaterEqual
        }
    }
}

func elementwiseWork(_ op: Op, _ x: [CLBuffer], _ xs: [Shape], _ y: CLBuffer, _ ys: Shape, status: CLBuffer, spread: ElementSpread) -> Work
{
    let count = ys.count, items = spread.workItems, tail = spread.arguments(count)
    switch op {
    case .unary(let unary):
        let (code, p0, p1) = unary.kernelCode
        return .kernel("unary_forward", count: items, [.buffer(x[0]), .buffer(y), .int(code.rawValue), .float(p0), .float(p1)] + tail)
    case .binary(let binary):
        return .kernel("binary_forward", count: items, [.buffer(x[0]), .buffer(x[1]), .buffer(y), .int(binary.kernelCode.rawValue)] + tail)
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

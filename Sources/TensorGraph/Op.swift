/// The closed set of primitive operations. Backends `switch` over it with no
/// `default:`, so adding a case is a compile error in every backend until it is
/// implemented there. Each case's builder, shape rule and gradient rule live in
/// `Ops/<Family>.swift`; composite operations (losses, normalization, dropout) are
/// built from these and need no backend code.
public enum Op: Sendable {
    // Sources: bound by the plan, never executed by a backend.
    case placeholder(name: String, shape: Shape)
    case variable(Parameter)
    case constant(Constant)
    // Generated values.
    case fill(value: Float, shape: Shape)
    /// Samples whose element `i` is element `offset + i` of the stream: a data-parallel
    /// replica draws its share of the global batch's values (see `Replica`).
    case random(RandomDistribution, seed: UInt64, shape: Shape, offset: Int)
    // Elementwise (inputs of one shape; broadcasting is an explicit `expand`).
    case unary(UnaryOp)
    case binary(BinaryOp)
    /// `select(cond, a, b)`: `a` where `cond != 0`, else `b`.
    case select
    // Layout.
    case reshape(Shape)
    case permute([Int])
    /// NumPy-style broadcast of the input to `shape`.
    case expand(Shape)
    case concat(axis: Int)
    case slice(starts: [Int], sizes: [Int])
    /// Zero padding of each axis.
    case pad(before: [Int], after: [Int])
    // Reductions.
    case reduce(ReduceOp, axes: [Int], keepDims: Bool)
    // Linear algebra.
    case matmul(transposeA: Bool, transposeB: Bool)
    /// `x [N, C, H, W]`, `w [O, C, KH, KW]` → `[N, O, H', W']`.
    case conv2d(ConvConfig)
    /// `x [N, C, H, W]`, `w [C, O, KH, KW]` → `[N, O, H', W']`: the adjoint of conv2d.
    case convTranspose2d(ConvConfig, outputPadding: Size2)
    /// `x [N, C, H, W]`, `dy [N, O, H', W']` → `dWeight [O, C, KH, KW]`.
    case conv2dBackwardWeight(ConvConfig, kernel: Size2)
    // Resampling.
    case upsampleNearest(factor: Int)
    /// Bilinear ×2, `align_corners = false` (PyTorch's default).
    case upsampleBilinear2x
    /// The adjoint of `upsampleBilinear2x`: `[N, C, 2H, 2W]` → `[N, C, H, W]`.
    case upsampleBilinear2xBackward
    case avgPool2d(PoolConfig)
    /// The adjoint of `avgPool2d`, scattering to an input of `shape`.
    case avgPool2dBackward(PoolConfig, shape: Shape)
    // Miscellaneous.
    /// Float class indices `[N]` → one-hot rows `[N, depth]`.
    case oneHot(depth: Int)
    /// Identity whose gradient is zero.
    case stopGradient
    // Optimizers.
    /// Output `output` of one fused optimizer update (see `OptimizerRule` for the inputs).
    case optimizerUpdate(OptimizerRule, output: Int)
    // Data parallelism.
    /// The sum of the input over the replicas of a data-parallel step, each replica's value
    /// in its own process or device (the plan runs it through its session's communicator).
    case allReduce
}

public enum UnaryOp: Sendable, Hashable {
    case neg, exp, log, sqrt, rsqrt, square, abs, sign
    case relu, tanh, sigmoid, softplus
    case leakyReLU(slope: Float)
    case clamp(min: Float, max: Float)
}

public enum BinaryOp: Sendable, Hashable {
    case add, sub, mul, div, pow, maximum, minimum
    /// Comparisons give 1 where true and 0 where false.
    case equal, notEqual, less, lessEqual, greater, greaterEqual
}

public enum ReduceOp: Sendable, Equatable {
    /// `sumOfProducts` sums a·b of its two inputs (of one shape): `sum` of a product or square.
    case sum, max, sumOfProducts
}

public enum RandomDistribution: Sendable, Equatable {
    case uniform(low: Float, high: Float)
    case normal(mean: Float, std: Float)
    /// A normal distribution restricted to `[low, high]` (absolute bounds, as PyTorch's `trunc_normal_`).
    case truncatedNormal(mean: Float, std: Float, low: Float, high: Float)
}

/// Stride, zero padding and dilation of a 2-D convolution.
public struct ConvConfig: Hashable, Sendable {
    public var stride: Size2
    public var padding: Size2
    public var dilation: Size2
    public init(stride: Size2 = Size2(1), padding: Size2 = Size2(0), dilation: Size2 = Size2(1)) {
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
    }
}

/// Average pooling; padded zeros count in the mean (PyTorch's `count_include_pad = true`).
public struct PoolConfig: Hashable, Sendable {
    public var kernel: Size2
    public var stride: Size2
    public var padding: Size2
    public init(kernel: Size2, stride: Size2? = nil, padding: Size2 = Size2(0)) {
        self.kernel = kernel
        self.stride = stride ?? kernel
        self.padding = padding
    }
}

/// Values of a constant tensor, shared by reference so graphs stay cheap to copy.
public final class Constant: Sendable {
    public let values: [Float]
    public let shape: Shape
    public init(_ values: [Float], shape: Shape) {
        precondition(values.count == shape.count, "constant: \(values.count) values for shape \(shape)")
        self.values = values
        self.shape = shape
    }
}

/// A trainable or state tensor whose value persists across plan runs and is updated in place.
public final class Parameter: @unchecked Sendable, CustomStringConvertible {
    public let name: String
    public let shape: Shape
    /// The host copy: the initial value, and the device value after `Session.download`.
    public var value: [Float]

    public init(_ name: String, shape: Shape, value: [Float]) {
        precondition(
            value.count == shape.count || (Parameter.shapesOnly && value.isEmpty),
            "parameter \(name): \(value.count) values for shape \(shape)")
        self.name = name
        self.shape = shape
        self.value = value
    }

    public convenience init(_ name: String, shape: Shape, fill: Float = 0) {
        self.init(name, shape: shape, value: [Float](repeating: fill, count: Parameter.shapesOnly ? 0 : shape.count))
    }

    /// Whether parameters are being made without values (see `measuring`).
    @TaskLocal public static var shapesOnly = false

    /// Runs `build` in shapes-only mode, as PyTorch's "meta" device: the parameters it makes get
    /// their shapes but no values (initializers draw nothing), so the memory a model takes is known
    /// before its weights are allocated, and a model too big for the machine is refused, not trapped on.
    public static func measuring<T>(_ build: () throws -> T) rethrows -> T {
        try $shapesOnly.withValue(true) { try build() }
    }

    public var description: String { "\(name) \(shape)" }
}

extension Op {
    /// The op's short name, as used in error messages and profiles.
    public var name: String {
        switch self {
        case .placeholder: "placeholder"
        case .variable: "variable"
        case .constant: "constant"
        case .fill: "fill"
        case .random: "random"
        case .unary(let op): String("\(op)".prefix { $0 != "(" })
        case .binary(let op): "\(op)"
        case .select: "select"
        case .reshape: "reshape"
        case .permute: "permute"
        case .expand: "expand"
        case .concat: "concat"
        case .slice: "slice"
        case .pad: "pad"
        case .reduce(let op, _, _): op == .sum ? "reduceSum" : op == .max ? "reduceMax" : "reduceSumOfProducts"
        case .matmul: "matmul"
        case .conv2d: "conv2d"
        case .convTranspose2d: "convTranspose2d"
        case .conv2dBackwardWeight: "conv2dBackwardWeight"
        case .upsampleNearest: "upsampleNearest"
        case .upsampleBilinear2x: "upsampleBilinear2x"
        case .upsampleBilinear2xBackward: "upsampleBilinear2xBackward"
        case .avgPool2d: "avgPool2d"
        case .avgPool2dBackward: "avgPool2dBackward"
        case .oneHot: "oneHot"
        case .stopGradient: "stopGradient"
        case .optimizerUpdate: "optimizerUpdate"
        case .allReduce: "allReduce"
        }
    }
}

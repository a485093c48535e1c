// Activations family: relu, leakyReLU, tanh, sigmoid, softplus. They are unary
// elementwise ops; their gradient rules are written here with other ops so that
// they can be differentiated again.

public func relu(_ x: Tensor) -> Tensor { x.unary(.relu) }
/// `x` where `x > 0`, else `slope · x`.
public func leakyReLU(_ x: Tensor, slope: Float = 0.2) -> Tensor { x.unary(.leakyReLU(slope: slope)) }
public func tanh(_ x: Tensor) -> Tensor { x.unary(.tanh) }
public func sigmoid(_ x: Tensor) -> Tensor { x.unary(.sigmoid) }
/// `log(1 + exp(x))`, computed without overflow for large `|x|`.
public func softplus(_ x: Tensor) -> Tensor { x.unary(.softplus) }

/// ReLU and LeakyReLU (slope ≥ 0) take their masks from the output, which has the input's
/// sign: the input is then read by nothing after the activation (a BatchNorm's output fuses
/// into it, a convolution's is written over), and the output is kept for the next layer anyway.
func activationGradient(_ op: UnaryOp, _ x: Tensor, _ y: Tensor, _ dy: Tensor) -> Tensor? {
    switch op {
    case .relu: return dy * greater(y, 0)
    case .leakyReLU(let slope) where slope >= 0: return select(greater(y, 0), dy, dy * slope)
    case .leakyReLU(let slope): return select(greater(x, 0), dy, dy * slope)
    case .tanh: return dy * (1 - square(y))
    case .sigmoid: return dy * y * (1 - y)
    case .softplus: return dy * sigmoid(x)
    default: preconditionFailure("\(op) is not an activation")
    }
}

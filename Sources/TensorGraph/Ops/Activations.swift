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

func activationGradient(_ op: UnaryOp, _ x: Tensor, _ y: Tensor, _ dy: Tensor) -> Tensor? {
    switch op {
    case .relu: return dy * greater(x, 0)
    case .leakyReLU(let slope): return select(greater(x, 0), dy, dy * slope)
    case .tanh: return dy * (1 - square(y))
    case .sigmoid: return dy * y * (1 - y)
    case .softplus: return dy * sigmoid(x)
    default: preconditionFailure("\(op) is not an activation")
    }
}

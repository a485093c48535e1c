// Optimizers family: the fused update rules (`Op.optimizerUpdate`) and their shape rule.
// Autodiff treats them as constants (no gradient flows through an update); NeuralNet's
// optimizers build them from gradients.

/// A fused optimizer update, PyTorch's rules. Inputs are the parameter `p`, its
/// gradient `g` (weight decay already folded in), the rule's state, and the step
/// `t ≥ 1` as a `[1]` tensor; each output is one updated tensor.
public enum OptimizerRule: Sendable, Equatable {
    /// Inputs `p, g, b, t`; outputs 0: `b' = t = 1 ? g : μb + (1 − d)g`, 1: `p' = p − lr·(nesterov ? g + μb' : b')`.
    case sgd(learningRate: Float, momentum: Float, dampening: Float, nesterov: Bool)
    /// Inputs `p, g, m, v, t`; outputs 0: `m'`, 1: `v'`, 2: `p' = p − lr·m̂ / (√v̂ + ε)`.
    case adam(learningRate: Float, beta1: Float, beta2: Float, epsilon: Float)
    /// Inputs `p, g, m, v, t, Πμ` (the product including step t); outputs 0: `m'`, 1: `v'`, 2: `p'`.
    case nadam(learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, momentumDecay: Float)
    /// Inputs `p, g, v`; outputs 0: `v' = αv + (1 − α)g²`, 1: `p' = p − lr·g / (√v' + ε)`.
    case rmsprop(learningRate: Float, alpha: Float, epsilon: Float)

    /// The rule's outputs: its state tensors, then the new parameter.
    public var outputCount: Int {
        switch self {
        case .sgd, .rmsprop: 2
        case .adam, .nadam: 3
        }
    }

    /// The input that output `output` replaces in a step: state `j` is input `2 + j`, the new
    /// parameter (the last output) input 0.
    public func replacedInput(_ output: Int) -> Int { output == outputCount - 1 ? 0 : 2 + output }
}

/// An update's output has the parameter's shape; its state tensors (the inputs before the
/// `[1]` step counter) must have it too.
func optimizerShape(_ shapes: [Shape]) throws -> Shape {
    for shape in shapes.dropFirst().prefix(while: { $0 != Shape([1]) }) where shape != shapes[0] {
        throw GraphError("optimizerUpdate", "state \(shape) does not match the parameter \(shapes[0])")
    }
    return shapes[0]
}

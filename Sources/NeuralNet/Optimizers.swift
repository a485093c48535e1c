// Optimizers as graph transforms: each returns the assignments that one step
// applies to its parameters (and to its own state, kept in parameters too so it
// lives on the device and goes into checkpoints).
import TensorGraph

/// Adam (Kingma & Ba) with PyTorch's semantics and defaults:
/// `m ← β₁m + (1 − β₁)g`, `v ← β₂v + (1 − β₂)g²`,
/// `p ← p − lr·m̂ / (√v̂ + ε)` with bias-corrected `m̂ = m / (1 − β₁ᵗ)`, `v̂ = v / (1 − β₂ᵗ)`.
public final class Adam {
    public let learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    public let parameters: [Parameter]
    /// First and second moments, one pair per parameter.
    public let moments: [(m: Parameter, v: Parameter)]
    /// The number of steps taken, `t`.
    public let stepCount: Parameter

    public init(_ parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, name: String = "adam") {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        moments = parameters.map {
            (Parameter("\(name).\($0.name).exp_avg", shape: $0.shape), Parameter("\(name).\($0.name).exp_avg_sq", shape: $0.shape))
        }
        stepCount = Parameter("\(name).step", shape: [1])
    }

    /// The updates of one step, given the loss to minimize.
    public func updates(minimizing loss: Tensor) -> [Assignment] {
        let graph = loss.graph
        let weights = parameters.map { graph.variable($0) }
        let grads = gradients(of: loss, wrt: weights)
        let t = graph.variable(stepCount) + 1
        let correction1 = 1 - pow(graph.fill(beta1, [1]), t)
        let correction2 = 1 - pow(graph.fill(beta2, [1]), t)
        var result = [Assignment(stepCount, t)]
        for ((parameter, weight), (grad, moment)) in zip(zip(parameters, weights), zip(grads, moments)) {
            let m = graph.variable(moment.m) * beta1 + grad * (1 - beta1)
            let v = graph.variable(moment.v) * beta2 + square(grad) * (1 - beta2)
            let step = (m / correction1) / (sqrt(v / correction2) + epsilon) * learningRate
            result += [Assignment(moment.m, m), Assignment(moment.v, v), Assignment(parameter, weight - step)]
        }
        return result
    }
}

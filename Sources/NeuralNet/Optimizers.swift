// Optimizers as graph transforms with PyTorch's semantics and defaults: each
// returns the assignments that one step applies to its parameters and to its own
// state, which lives in parameters too (on the device, and in checkpoints). Each
// updated tensor is one fused kernel (`Op.optimizerUpdate`) reading p, g, the
// state and the step counter on the device.
import TensorGraph

/// A first-order optimizer over a fixed list of parameters.
public protocol Optimizer: AnyObject {
    var parameters: [Parameter] { get }
    /// The optimizer's state tensors (moments, step counters), named as in checkpoints.
    var state: [Parameter] { get }
    /// The assignments of one step minimizing `loss`.
    func updates(minimizing loss: Tensor) -> [Assignment]
}

/// State of one kind per parameter, named `"<prefix>.<index>.<kind>"` by the parameter's
/// position (as PyTorch's optimizer `state_dict` numbers parameters).
private func perParameter(_ parameters: [Parameter], _ prefix: String, _ kind: String) -> [Parameter] {
    parameters.enumerated().map { Parameter("\(prefix).\($0.offset).\(kind)", shape: $0.element.shape) }
}

/// The outputs `0..<count` of one fused update rule applied to `inputs`.
private func fusedUpdate(_ rule: OptimizerRule, _ inputs: [Tensor], outputs count: Int) -> [Tensor] {
    (0..<count).map { inputs[0].graph.apply(.optimizerUpdate(rule, output: $0), inputs) }
}

/// One step of a fused rule: for each parameter, the rule applied to `[p, g] + its state +
/// extra` and its outputs assigned to `its state + [p]`.
private func fusedStep(
    _ loss: Tensor, _ parameters: [Parameter], weightDecay: Float, _ rule: OptimizerRule, state: [[Parameter]], extra: [Tensor]
) -> [Assignment] {
    let g = loss.graph
    let weights = parameters.map { g.variable($0) }
    let grads = decayedGradients(loss, weights, weightDecay: weightDecay)
    return parameters.indices.flatMap { i -> [Assignment] in
        let outputs = fusedUpdate(rule, [weights[i], grads[i]] + state[i].map { g.variable($0) } + extra, outputs: state[i].count + 1)
        return zip(state[i] + [parameters[i]], outputs).map { Assignment($0, $1) }
    }
}

/// Gradients of `loss` with L2 weight decay folded in (PyTorch's `weight_decay`). In a
/// data-parallel step they are the means over the replicas (each replica's loss is its
/// share's mean), so every replica applies the same update: the global batch's gradient.
/// Each is averaged as soon as the backward pass completes it (see `gradients`), so the
/// sums overlap the rest of the backward pass.
private func decayedGradients(_ loss: Tensor, _ weights: [Tensor], weightDecay: Float) -> [Tensor] {
    let grads = gradients(of: loss, wrt: weights) { replicaMean($1) }
    guard weightDecay != 0 else { return grads }
    return zip(grads, weights).map { $0 + $1 * weightDecay }
}

/// SGD with momentum: `b ← μb + (1 − dampening)g` (`b = g` at the first step), `p ← p − lr·b`
/// (Nesterov: `p ← p − lr·(g + μb)`).
public final class SGD: Optimizer {
    public let parameters: [Parameter]
    public let learningRate: Float, momentum: Float, dampening: Float, weightDecay: Float, nesterov: Bool
    public let buffers: [Parameter]
    public let stepCount: Parameter

    public init(
        _ parameters: [Parameter], learningRate: Float, momentum: Float = 0, dampening: Float = 0, weightDecay: Float = 0,
        nesterov: Bool = false, name: String = "sgd"
    ) {
        (self.parameters, self.learningRate, self.momentum, self.dampening, self.weightDecay, self.nesterov) =
            (parameters, learningRate, momentum, dampening, weightDecay, nesterov)
        buffers = perParameter(parameters, name, "momentum_buffer")
        stepCount = Parameter("\(name).step", shape: [1])
    }

    public var state: [Parameter] { buffers + [stepCount] }

    public func updates(minimizing loss: Tensor) -> [Assignment] {
        let t = loss.graph.variable(stepCount) + 1
        let rule = OptimizerRule.sgd(learningRate: learningRate, momentum: momentum, dampening: dampening, nesterov: nesterov)
        return [Assignment(stepCount, t)]
            + fusedStep(loss, parameters, weightDecay: weightDecay, rule, state: buffers.map { [$0] }, extra: [t])
    }
}

/// Adam (Kingma & Ba): `m ← β₁m + (1 − β₁)g`, `v ← β₂v + (1 − β₂)g²`,
/// `p ← p − lr·m̂ / (√v̂ + ε)` with `m̂ = m / (1 − β₁ᵗ)`, `v̂ = v / (1 − β₂ᵗ)`.
public final class Adam: Optimizer {
    public let parameters: [Parameter]
    public let learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    /// First and second moments, one pair per parameter.
    public let moments: [(m: Parameter, v: Parameter)]
    /// The number of steps taken, `t`.
    public let stepCount: Parameter

    public init(
        _ parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
        weightDecay: Float = 0, name: String = "adam"
    ) {
        (self.parameters, self.learningRate, self.beta1, self.beta2, self.epsilon, self.weightDecay) = (
            parameters, learningRate, beta1, beta2, epsilon, weightDecay
        )
        moments = Array(zip(perParameter(parameters, name, "exp_avg"), perParameter(parameters, name, "exp_avg_sq")))
        stepCount = Parameter("\(name).step", shape: [1])
    }

    private init(sharing adam: Adam, _ subset: [Parameter], learningRate: Float) {
        let index = Dictionary(adam.parameters.enumerated().map { (ObjectIdentifier($1), $0) }) { a, _ in a }
        (parameters, self.learningRate, beta1, beta2, epsilon, weightDecay) = (
            subset, learningRate, adam.beta1, adam.beta2, adam.epsilon, adam.weightDecay
        )
        moments = subset.map { adam.moments[index[ObjectIdentifier($0)]!] }
        stepCount = adam.stepCount
    }

    /// This optimizer's steps on `subset` of its parameters at `learningRate`, with its own state
    /// (moments and step count): a progressive GAN trains the layers in use at each resolution.
    public func restricted(to subset: [Parameter], learningRate: Float) -> Adam {
        Adam(sharing: self, subset, learningRate: learningRate)
    }

    public var state: [Parameter] { moments.flatMap { [$0.m, $0.v] } + [stepCount] }

    public func updates(minimizing loss: Tensor) -> [Assignment] {
        let t = loss.graph.variable(stepCount) + 1
        let rule = OptimizerRule.adam(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon)
        return [Assignment(stepCount, t)]
            + fusedStep(loss, parameters, weightDecay: weightDecay, rule, state: moments.map { [$0.m, $0.v] }, extra: [t])
    }
}

/// NAdam (Dozat), as PyTorch's `NAdam`: Adam with Nesterov momentum and the momentum
/// schedule `μₜ = β₁(1 − ½·0.96^(t·ψ))` (ψ = `momentumDecay`).
public final class NAdam: Optimizer {
    public let parameters: [Parameter]
    public let learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float, momentumDecay: Float
    public let moments: [(m: Parameter, v: Parameter)]
    public let stepCount: Parameter
    /// Π μᵢ over the steps taken.
    public let muProduct: Parameter

    public init(
        _ parameters: [Parameter], learningRate: Float = 2e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
        weightDecay: Float = 0, momentumDecay: Float = 4e-3, name: String = "nadam"
    ) {
        (self.parameters, self.learningRate, self.beta1, self.beta2, self.epsilon, self.weightDecay, self.momentumDecay) =
            (parameters, learningRate, beta1, beta2, epsilon, weightDecay, momentumDecay)
        moments = Array(zip(perParameter(parameters, name, "exp_avg"), perParameter(parameters, name, "exp_avg_sq")))
        stepCount = Parameter("\(name).step", shape: [1])
        muProduct = Parameter("\(name).mu_product", shape: [1], fill: 1)
    }

    public var state: [Parameter] { moments.flatMap { [$0.m, $0.v] } + [stepCount, muProduct] }

    public func updates(minimizing loss: Tensor) -> [Assignment] {
        let g = loss.graph
        let t = g.variable(stepCount) + 1
        let mu = (1 - pow(g.fill(0.96, [1]), t * momentumDecay) * 0.5) * beta1
        let product = g.variable(muProduct) * mu
        let rule = OptimizerRule.nadam(
            learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, momentumDecay: momentumDecay)
        return [Assignment(stepCount, t), Assignment(muProduct, product)]
            + fusedStep(loss, parameters, weightDecay: weightDecay, rule, state: moments.map { [$0.m, $0.v] }, extra: [t, product])
    }
}

/// RMSprop, as PyTorch's (uncentered, no momentum): `v ← αv + (1 − α)g²`, `p ← p − lr·g / (√v + ε)`.
public final class RMSprop: Optimizer {
    public let parameters: [Parameter]
    public let learningRate: Float, alpha: Float, epsilon: Float, weightDecay: Float
    public let squareAverages: [Parameter]

    public init(
        _ parameters: [Parameter], learningRate: Float = 1e-2, alpha: Float = 0.99, epsilon: Float = 1e-8, weightDecay: Float = 0,
        name: String = "rmsprop"
    ) {
        (self.parameters, self.learningRate, self.alpha, self.epsilon, self.weightDecay) = (
            parameters, learningRate, alpha, epsilon, weightDecay
        )
        squareAverages = perParameter(parameters, name, "square_avg")
    }

    public var state: [Parameter] { squareAverages }

    public func updates(minimizing loss: Tensor) -> [Assignment] {
        let rule = OptimizerRule.rmsprop(learningRate: learningRate, alpha: alpha, epsilon: epsilon)
        return fusedStep(loss, parameters, weightDecay: weightDecay, rule, state: squareAverages.map { [$0] }, extra: [])
    }
}

// Layers build graph ops from their parameters. Parameter names follow PyTorch's
// `state_dict` (`weight`, `bias`, `running_mean`, …; `Sequential` children are
// numbered), so checkpoints interoperate with PyTorch models of the same shape.
import TensorGraph

/// What a forward pass needs besides its input: the mode, and where layers put
/// the updates they make (BatchNorm running statistics) and draw dropout seeds from.
public final class ForwardContext {
    public let training: Bool
    /// The pending updates, one per parameter (a later update of the same parameter replaces it).
    public private(set) var updates: [Assignment] = []
    private var seed: UInt64

    public init(training: Bool, seed: UInt64 = 0) {
        self.training = training
        self.seed = seed
    }

    /// Records updates; one that builds on `current(_:)` chains after the earlier one.
    public func record(_ assignments: [Assignment]) {
        for assignment in assignments {
            if let i = updates.firstIndex(where: { $0.parameter === assignment.parameter }) {
                updates[i] = assignment
            } else {
                updates.append(assignment)
            }
        }
    }

    /// The parameter's value after the updates recorded so far in this pass. Layers read
    /// their weights through it too, so a pass whose context holds an optimizer's updates
    /// runs the network with the updated weights (a GAN's generator step after the
    /// discriminator's, in one plan).
    public func current(_ parameter: Parameter, in graph: Graph) -> Tensor {
        updates.last { $0.parameter === parameter }?.value ?? graph.variable(parameter)
    }

    /// A fresh seed for one random op of the graph.
    public func nextSeed() -> UInt64 {
        seed &+= 0x9E37_79B9_7F4A_7C15
        return seed
    }
}

/// A building block of a model.
public protocol Layer: AnyObject {
    /// Trainable parameters, named relative to the layer, in PyTorch's order.
    var namedParameters: [(name: String, parameter: Parameter)] { get }
    /// Non-trainable state saved with the model (running statistics).
    var namedBuffers: [(name: String, parameter: Parameter)] { get }
    /// Parameters and buffers in `state_dict` order: module by module, each module's
    /// parameters, then its buffers.
    var namedState: [(name: String, parameter: Parameter)] { get }
    /// Applies the layer to `x` in `graph` mode `context`.
    func callAsFunction(_ x: Tensor, _ context: ForwardContext) -> Tensor
}

extension Layer {
    public var namedBuffers: [(name: String, parameter: Parameter)] { [] }
    public var namedState: [(name: String, parameter: Parameter)] { namedParameters + namedBuffers }
    public var parameters: [Parameter] { namedParameters.map(\.parameter) }
    /// The tensors of `state_dict()`, in its order, with `prefix.` before each name.
    public func stateDict(prefix: String = "") -> [(name: String, parameter: Parameter)] {
        let dot = prefix.isEmpty ? "" : prefix + "."
        return namedState.map { (dot + $0.name, $0.parameter) }
    }
}

/// Layers applied in order; children are named "0", "1", … as in `nn.Sequential`.
public final class Sequential: Layer {
    public let layers: [any Layer]
    public init(_ layers: [any Layer]) { self.layers = layers }

    private func prefixed(_ items: (any Layer) -> [(name: String, parameter: Parameter)]) -> [(name: String, parameter: Parameter)] {
        layers.enumerated().flatMap { i, layer in items(layer).map { ("\(i).\($0.name)", $0.parameter) } }
    }
    public var namedParameters: [(name: String, parameter: Parameter)] { prefixed(\.namedParameters) }
    public var namedBuffers: [(name: String, parameter: Parameter)] { prefixed(\.namedBuffers) }
    public var namedState: [(name: String, parameter: Parameter)] { prefixed(\.namedState) }

    public func callAsFunction(_ x: Tensor, _ context: ForwardContext) -> Tensor {
        layers.reduce(x) { $1($0, context) }
    }
}

/// An elementwise function as a layer (ReLU, LeakyReLU, Tanh, Sigmoid, …).
public final class Activation: Layer {
    private let function: (Tensor) -> Tensor
    public init(_ function: @escaping (Tensor) -> Tensor) { self.function = function }
    public static func relu() -> Activation { Activation(TensorGraph.relu) }
    public static func leakyReLU(_ slope: Float = 0.2) -> Activation { Activation { TensorGraph.leakyReLU($0, slope: slope) } }
    public static func tanh() -> Activation { Activation(TensorGraph.tanh) }
    public static func sigmoid() -> Activation { Activation(TensorGraph.sigmoid) }

    public var namedParameters: [(name: String, parameter: Parameter)] { [] }
    public func callAsFunction(_ x: Tensor, _ context: ForwardContext) -> Tensor { function(x) }
}

/// Named sub-modules, as the attributes of a PyTorch `nn.Module`: the state of child
/// `name` is saved as `name.<its state names>`. A network saved in one checkpoint file.
public final class Module {
    public let children: [(name: String, layer: any Layer)]
    public init(_ children: [(name: String, layer: any Layer)]) { self.children = children }

    /// `state_dict()`: each child's state, in the children's order.
    public func stateDict() -> [(name: String, parameter: Parameter)] {
        children.flatMap { $0.layer.stateDict(prefix: $0.name) }
    }

    /// The trainable parameters of all children.
    public var parameters: [Parameter] { children.flatMap(\.layer.parameters) }
}

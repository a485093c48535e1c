/// One node of a graph: a primitive op applied to earlier nodes. Node ids are
/// topologically ordered: every input id is smaller than the node's own id.
public struct Node: Sendable {
    public let op: Op
    public let inputs: [Int]
    public let shape: Shape
}

/// A shape or graph construction error, naming the op and the shapes involved.
public struct GraphError: Error, CustomStringConvertible, Equatable {
    public let op: String
    public let message: String
    public init(_ op: String, _ message: String) {
        self.op = op
        self.message = message
    }
    public var description: String { "\(op): \(message)" }
}

/// A growing graph of primitive ops. Model code builds it once through `Tensor`
/// handles; a `Plan` compiles a part of it and replays it step after step.
///
/// Building never traps on a bad shape: the first error is kept in `error`, the
/// offending node gets a stand-in shape, and `Session.plan` reports the error.
public final class Graph {
    public private(set) var nodes: [Node] = []
    /// The first construction error, if any.
    public private(set) var error: GraphError?
    private var variableNodes: [ObjectIdentifier: Int] = [:]
    /// Every placeholder name declared in this graph.
    public private(set) var placeholderNames: Set<String> = []

    /// The share of a data-parallel step this graph computes (`.single` on one device).
    public let replica: Replica

    public init(replica: Replica = .single) { self.replica = replica }

    public subscript(id: Int) -> Node { nodes[id] }

    /// A value fed at each run, by name.
    public func placeholder(_ name: String, _ shape: Shape) -> Tensor {
        placeholderNames.insert(name)
        return append(Node(op: .placeholder(name: name, shape: shape), inputs: [], shape: shape))
    }

    /// The tensor of a parameter; one node per parameter per graph.
    public func variable(_ parameter: Parameter) -> Tensor {
        if let id = variableNodes[ObjectIdentifier(parameter)] { return Tensor(graph: self, id: id) }
        let tensor = append(Node(op: .variable(parameter), inputs: [], shape: parameter.shape))
        variableNodes[ObjectIdentifier(parameter)] = tensor.id
        return tensor
    }

    public func constant(_ values: [Float], _ shape: Shape) -> Tensor {
        guard values.count == shape.count else {
            record(GraphError("constant", "\(values.count) values for shape \(shape) (\(shape.count) elements)"))
            return fill(0, shape)
        }
        return append(Node(op: .constant(Constant(values, shape: shape)), inputs: [], shape: shape))
    }

    public func fill(_ value: Float, _ shape: Shape) -> Tensor {
        append(Node(op: .fill(value: value, shape: shape), inputs: [], shape: shape))
    }

    public func zeros(_ shape: Shape) -> Tensor { fill(0, shape) }
    public func ones(_ shape: Shape) -> Tensor { fill(1, shape) }

    /// Applies `op` to `inputs`, inferring the output shape.
    public func apply(_ op: Op, _ inputs: [Tensor]) -> Tensor {
        for input in inputs where input.graph !== self {
            record(GraphError(op.name, "an input belongs to another graph"))
        }
        let shapes = inputs.map(\.shape)
        let shape: Shape
        do {
            shape = try inferShape(op, shapes)
        } catch {
            record(error as? GraphError ?? GraphError(op.name, "\(error)"))
            shape = shapes.first ?? Shape([])
        }
        return append(Node(op: op, inputs: inputs.map(\.id), shape: shape))
    }

    /// Records a construction error (the first one wins).
    public func record(_ error: GraphError) {
        if self.error == nil { self.error = error }
    }

    private func append(_ node: Node) -> Tensor {
        nodes.append(node)
        return Tensor(graph: self, id: nodes.count - 1)
    }
}

/// A lazy handle to a node of a graph. Arithmetic on tensors adds nodes; nothing
/// is computed until a `Plan` runs.
public struct Tensor {
    public let graph: Graph
    public let id: Int

    public init(graph: Graph, id: Int) {
        self.graph = graph
        self.id = id
    }

    public var node: Node { graph[id] }
    public var shape: Shape { graph[id].shape }
    public var op: Op { graph[id].op }
    public var inputs: [Tensor] { graph[id].inputs.map { Tensor(graph: graph, id: $0) } }
}

/// The output shape of `op` on inputs of `shapes`, or an error naming the op and the shapes.
func inferShape(_ op: Op, _ shapes: [Shape]) throws -> Shape {
    switch op {
    case .placeholder(_, let shape), .fill(_, let shape), .random(_, _, let shape, _):
        return shape
    case .variable(let parameter):
        return parameter.shape
    case .constant(let constant):
        return constant.shape
    case .unary, .binary, .select, .stopGradient:
        return try elementwiseShape(op, shapes)
    case .reshape, .permute, .expand, .concat, .slice, .pad:
        return try layoutShape(op, shapes)
    case .reduce(_, let axes, let keepDims):
        return try reduceShape(op.name, shapes[0], axes: axes, keepDims: keepDims)
    case .matmul, .conv2d, .convTranspose2d, .conv2dBackwardWeight:
        return try linearShape(op, shapes)
    case .upsampleNearest, .upsampleBilinear2x, .upsampleBilinear2xBackward, .avgPool2d, .avgPool2dBackward:
        return try resampleShape(op, shapes)
    case .optimizerUpdate:
        return try optimizerShape(shapes)
    case .allReduce:
        return shapes[0]
    case .oneHot(let depth):
        guard shapes[0].rank == 1 else { throw GraphError("oneHot", "labels must be [N], got \(shapes[0])") }
        return Shape([shapes[0][0], depth])
    }
}

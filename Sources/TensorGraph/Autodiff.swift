/// Reverse-mode automatic differentiation as a graph transform.
///
/// Returns, for each of `xs`, a new tensor of the same graph holding
/// `∂y/∂x` (zeros where `y` does not depend on `x`). The gradients are built
/// from ordinary ops, so they can be differentiated again (WGAN-GP's penalty
/// needs `∂/∂θ ‖∇ₓ D(x)‖`). `y` must hold one element.
///
/// `finished(i, g)` is applied to each answer `g = ∂y/∂xs[i]` as soon as it is complete, in
/// the order the backward pass completes them (the last layers' first): its nodes then come
/// before the rest of the backward pass, so a data-parallel step sums the last layers'
/// gradients across devices while the device computes the earlier layers'.
public func gradients(of y: Tensor, wrt xs: [Tensor], finished: ((Int, Tensor) -> Tensor)? = nil) -> [Tensor] {
    let graph = y.graph
    guard y.shape.count == 1 else {
        graph.record(GraphError("gradients", "expects a scalar, got \(y.shape)"))
        return xs.map { graph.zeros($0.shape) }
    }
    // Nodes on a path from some x to y: they depend on an x and y depends on them.
    var dependsOnX = [Bool](repeating: false, count: y.id + 1)
    for x in xs where x.id <= y.id { dependsOnX[x.id] = true }
    for id in 0...y.id where !dependsOnX[id] {
        dependsOnX[id] = graph[id].inputs.contains { dependsOnX[$0] }
    }
    var grads: [Int: Tensor] = [y.id: graph.ones(y.shape)]
    var answers: [Int: Tensor] = [:]
    for id in stride(from: y.id, through: 0, by: -1) {
        guard dependsOnX[id], let dy = grads.removeValue(forKey: id) else { continue }
        // Every consumer of node `id` has a larger id: its gradient is complete.
        if let index = xs.firstIndex(where: { $0.id == id }) { answers[id] = finished?(index, dy) ?? dy }
        let node = graph[id]
        let inputs = node.inputs.map { Tensor(graph: graph, id: $0) }
        let inputGrads = gradient(of: node.op, inputs, Tensor(graph: graph, id: id), dy)
        for (input, grad) in zip(inputs, inputGrads) {
            guard let grad, dependsOnX[input.id] else { continue }
            grads[input.id] = grads[input.id].map { $0 + grad } ?? grad
        }
    }
    return xs.map { answers[$0.id] ?? graph.zeros($0.shape) }
}

/// The vector-Jacobian product of one op: the gradient of each input (nil when it
/// gets none). The rules live beside each op family in `Ops/`.
private func gradient(of op: Op, _ x: [Tensor], _ y: Tensor, _ dy: Tensor) -> [Tensor?] {
    switch op {
    case .placeholder, .variable, .constant, .fill, .random, .oneHot, .stopGradient, .optimizerUpdate:
        return x.map { _ in nil }
    case .unary, .binary, .select:
        return elementwiseGradient(op, x, y, dy)
    case .reshape, .permute, .expand, .concat, .slice, .pad:
        return layoutGradient(op, x, dy)
    case .reduce(let reduce, let axes, _):
        return reduceGradient(reduce, axes: axes, x, y, dy)
    case .matmul, .conv2d, .convTranspose2d, .conv2dBackwardWeight:
        return linearGradient(op, x, dy)
    case .upsampleNearest, .upsampleBilinear2x, .upsampleBilinear2xBackward, .avgPool2d, .avgPool2dBackward:
        return resampleGradient(op, x[0], dy)
    case .allReduce:
        // Every replica's output is the sum of every replica's input: each input's gradient
        // is the sum of the outputs' gradients.
        return [dy.graph.apply(.allReduce, [dy])]
    }
}

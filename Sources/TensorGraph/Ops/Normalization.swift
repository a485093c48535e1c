// Normalization family, composed from primitives so that its gradients (and
// their gradients) come from autodiff: batch normalization with running
// statistics, and layer normalization over all axes but the batch.

/// The result of a normalization that also updates running statistics.
public struct NormalizationOutput {
    public let output: Tensor
    /// Running-statistics updates to apply after the step (empty in inference).
    public let updates: [Assignment]
}

/// Batch normalization over every axis but 1 (channels), as PyTorch's
/// `BatchNorm1d/2d`. Training uses batch statistics and returns running-statistics
/// updates `r ← (1 − momentum)·r + momentum·batch` (variance unbiased); inference
/// uses the running statistics. `scale`, `offset` and the statistics are `[C]`.
public func batchNorm(
    _ x: Tensor, scale: Tensor?, offset: Tensor?, runningMean: Parameter, runningVariance: Parameter,
    momentum: Float = 0.1, epsilon: Float = 1e-5, training: Bool
) -> NormalizationOutput {
    let g = x.graph
    let channels = x.shape.rank >= 2 ? x.shape[1] : 0
    guard runningMean.shape == Shape([channels]), runningVariance.shape == Shape([channels]) else {
        g.record(GraphError("batchNorm", "running statistics must be [\(channels)] for input \(x.shape)"))
        return NormalizationOutput(output: x, updates: [])
    }
    let axes = [0] + Array(2..<x.shape.rank)
    var statShape = [Int](repeating: 1, count: x.shape.rank)
    statShape[1] = channels
    let output: Tensor
    var updates: [Assignment] = []
    if training {
        let mean = x.mean(axes: axes, keepDims: true)
        let centered = x - mean
        let variance = square(centered).mean(axes: axes, keepDims: true)
        output = centered * rsqrt(variance + epsilon)
        let n = Float(x.shape.count / max(channels, 1))
        let unbiased = variance.reshaped([channels]) * (n / max(n - 1, 1))
        let oldMean = g.variable(runningMean), oldVariance = g.variable(runningVariance)
        updates = [
            Assignment(runningMean, stopGradient(oldMean * (1 - momentum) + mean.reshaped([channels]) * momentum)),
            Assignment(runningVariance, stopGradient(oldVariance * (1 - momentum) + unbiased * momentum)),
        ]
    } else {
        let mean = g.variable(runningMean).reshaped(statShape)
        let variance = g.variable(runningVariance).reshaped(statShape)
        output = (x - mean) * rsqrt(variance + epsilon)
    }
    return NormalizationOutput(output: affine(output, scale: scale, offset: offset, shape: Shape(statShape)), updates: updates)
}

/// Layer normalization over every axis but the batch (PyTorch's
/// `LayerNorm([C, H, W])`): `scale` and `offset` have the shape `[C, H, W]`.
public func layerNorm(_ x: Tensor, scale: Tensor?, offset: Tensor?, epsilon: Float = 1e-5) -> Tensor {
    let axes = Array(1..<x.shape.rank)
    let centered = x - x.mean(axes: axes, keepDims: true)
    let variance = square(centered).mean(axes: axes, keepDims: true)
    let normalized = centered * rsqrt(variance + epsilon)
    return affine(normalized, scale: scale, offset: offset, shape: Shape([1] + x.shape.dims.dropFirst()))
}

private func affine(_ x: Tensor, scale: Tensor?, offset: Tensor?, shape: Shape) -> Tensor {
    var y = x
    if let scale { y = y * scale.reshaped(shape) }
    if let offset { y = y + offset.reshaped(shape) }
    return y
}

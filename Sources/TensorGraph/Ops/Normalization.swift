// Normalization family, composed from primitives so that its gradients (and
// their gradients) come from autodiff: batch normalization with running
// statistics, and layer normalization over all axes but the batch.

/// Batch normalization's output and the running statistics after it.
public struct BatchNormOutput {
    public let output: Tensor
    /// `(1 − momentum)·r + momentum·batch` in training (variance unbiased); the inputs in inference.
    public let runningMean: Tensor
    public let runningVariance: Tensor
}

/// Batch normalization over every axis but 1 (channels), as PyTorch's
/// `BatchNorm1d/2d`. Training normalizes with batch statistics and returns the
/// updated running statistics (to be assigned by the caller, so that several
/// forward passes in one step chain their updates as PyTorch's do); inference uses
/// the running statistics. `scale`, `offset` and the statistics are `[C]`.
public func batchNorm(
    _ x: Tensor, scale: Tensor?, offset: Tensor?, runningMean: Tensor, runningVariance: Tensor,
    momentum: Float = 0.1, epsilon: Float = 1e-5, training: Bool
) -> BatchNormOutput {
    let channels = x.shape.rank >= 2 ? x.shape[1] : 0
    guard runningMean.shape == Shape([channels]), runningVariance.shape == Shape([channels]) else {
        x.graph.record(GraphError("batchNorm", "running statistics must be [\(channels)] for input \(x.shape)"))
        return BatchNormOutput(output: x, runningMean: runningMean, runningVariance: runningVariance)
    }
    let axes = [0] + Array(2..<x.shape.rank)
    var statShape = [Int](repeating: 1, count: x.shape.rank)
    statShape[1] = channels
    guard training else {
        let normalized = (x - runningMean.reshaped(statShape)) * rsqrt(runningVariance.reshaped(statShape) + epsilon)
        return BatchNormOutput(
            output: affine(normalized, scale: scale, offset: offset, shape: Shape(statShape)), runningMean: runningMean,
            runningVariance: runningVariance)
    }
    // Synchronized over data-parallel replicas (equal shares), the statistics are the
    // global batch's: the means of the shares' means, then of their squared deviations
    // from the global mean. The all-reduces' gradients carry the other replicas' terms.
    let synchronized = x.graph.replica.synchronizesBatchStatistics
    let replicas = synchronized ? x.graph.replica.count : 1
    let statistic = { (t: Tensor) in synchronized ? replicaMean(t) : t }
    let mean = statistic(x.mean(axes: axes, keepDims: true))
    let centered = x - mean
    let variance = statistic(square(centered).mean(axes: axes, keepDims: true))
    // The scale folds into the per-channel factor, y = (x − μ)·(γ/σ) + β (PyTorch folds it
    // too): the backward pass then keeps x − μ alone, not x̂ = (x − μ)/σ as well.
    let inverse = rsqrt(variance + epsilon)
    let n = Float(x.shape.count / max(channels, 1) * replicas)
    let unbiased = variance.reshaped([channels]) * (n / max(n - 1, 1))
    return BatchNormOutput(
        output: affine(centered, scale: scale.map { inverse * $0.reshaped(statShape) } ?? inverse, offset: offset, shape: Shape(statShape)),
        runningMean: stopGradient(runningMean * (1 - momentum) + mean.reshaped([channels]) * momentum),
        runningVariance: stopGradient(runningVariance * (1 - momentum) + unbiased * momentum))
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

// Losses, composed from primitives; each returns a scalar (rank 0) averaged over
// all elements unless said otherwise, with PyTorch's definitions.

/// Binary cross-entropy of probabilities; logs are clamped at −100 as in PyTorch.
public func binaryCrossEntropy(_ probabilities: Tensor, _ targets: Tensor) -> Tensor {
    let p = probabilities
    let logP = maximum(log(p), -100), log1mP = maximum(log(1 - p), -100)
    return -(targets * logP + (1 - targets) * log1mP).mean()
}

/// Binary cross-entropy of logits, `softplus(x) − x·t`: stable for any `|x|`.
public func binaryCrossEntropyWithLogits(_ logits: Tensor, _ targets: Tensor) -> Tensor {
    (softplus(logits) - logits * targets).mean()
}

public func meanSquaredError(_ predictions: Tensor, _ targets: Tensor) -> Tensor {
    square(predictions - targets).mean()
}

public func l1Loss(_ predictions: Tensor, _ targets: Tensor) -> Tensor {
    abs(predictions - targets).mean()
}

/// `log(softmax(x))` along the last axis of `[N, K]`, shifted by the row maximum.
public func logSoftmax(_ logits: Tensor) -> Tensor {
    let shifted = logits - stopGradient(logits.max(axes: [-1], keepDims: true))
    return shifted - log(exp(shifted).sum(axes: [-1], keepDims: true))
}

public func softmax(_ logits: Tensor) -> Tensor { exp(logSoftmax(logits)) }

/// Softmax cross-entropy of logits `[N, K]` with class indices `labels [N]`
/// (stored as floats 0 … K−1), averaged over the batch.
public func softmaxCrossEntropy(_ logits: Tensor, labels: Tensor) -> Tensor {
    guard logits.shape.rank == 2 else {
        logits.graph.record(GraphError("softmaxCrossEntropy", "logits must be [N, K], got \(logits.shape)"))
        return logits
    }
    let oneHot = labels.graph.apply(.oneHot(depth: logits.shape[1]), [labels])
    return -(logSoftmax(logits) * oneHot).sum(axes: [1]).mean()
}

/// KL divergence of diagonal Gaussians `N(mean, exp(logVariance))` to `N(0, I)`,
/// summed over the latent axes and averaged over the batch (axis 0).
public func klDivergenceToStandardNormal(mean: Tensor, logVariance: Tensor) -> Tensor {
    let perElement = (1 + logVariance - square(mean) - exp(logVariance)) * -0.5
    return perElement.sum() * (1 / Float(max(mean.shape.dims.first ?? 1, 1)))
}

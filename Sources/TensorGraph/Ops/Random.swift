// Random family: counter-based (Philox 4×32-10) samples. An element's value is a
// function of (seed, element index, plan step) only, so runs reproduce exactly,
// a resumed run continues the same stream, and any backend can generate the
// same numbers in parallel. The sampling transforms are specified in
// CPUReference/Random.swift.

extension Graph {
    /// Where a random tensor's values start in the stream: a replica's share of a batch
    /// (leading axis) draws the global batch's values for its examples, so N replicas draw
    /// what one device would.
    func streamOffset(_ shape: Shape) -> Int { replica.index * shape.count }

    /// Uniform samples in `(low, high)`, new at every plan step.
    public func randomUniform(_ shape: Shape, low: Float = 0, high: Float = 1, seed: UInt64) -> Tensor {
        apply(.random(.uniform(low: low, high: high), seed: seed, shape: shape, offset: streamOffset(shape)), [])
    }

    /// Normal samples, new at every plan step.
    public func randomNormal(_ shape: Shape, mean: Float = 0, std: Float = 1, seed: UInt64) -> Tensor {
        apply(.random(.normal(mean: mean, std: std), seed: seed, shape: shape, offset: streamOffset(shape)), [])
    }

    /// Normal samples restricted to `[low, high]` (inverse-CDF sampling, as PyTorch's `trunc_normal_`).
    public func truncatedNormal(_ shape: Shape, mean: Float = 0, std: Float = 1, low: Float = -2, high: Float = 2, seed: UInt64) -> Tensor {
        if !(low < high) { record(GraphError("truncatedNormal", "bounds [\(low), \(high)] are empty")) }
        return apply(
            .random(.truncatedNormal(mean: mean, std: std, low: low, high: high), seed: seed, shape: shape, offset: streamOffset(shape)), []
        )
    }
}

/// Inverted dropout: zeroes each element with probability `rate` and scales the
/// rest by `1 / (1 − rate)`; the identity when not training.
public func dropout(_ x: Tensor, rate: Float, seed: UInt64, training: Bool = true) -> Tensor {
    guard training, rate > 0 else { return x }
    guard rate < 1 else { return x * 0 }
    let keep = greaterEqual(x.graph.randomUniform(x.shape, seed: seed), rate)
    return x * keep * (1 / (1 - rate))
}

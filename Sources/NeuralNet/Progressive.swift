// The layers of NVIDIA's progressive GAN (Karras et al., 2018): the equalized learning
// rate (weights drawn from N(0, 1) and scaled at run time by He's constant, so every
// layer learns at the same pace under Adam), pixelwise feature normalization, and the
// minibatch standard deviation the discriminator sees before its last block.
import Foundation
import TensorGraph

/// He's constant for a layer of `fanIn` inputs: `gain / √fanIn` (NVIDIA's `get_weight`
/// with `use_wscale`; gain √2 by default, √2/4 for the generator's first dense layer, 1 for
/// toRGB and the discriminator's output).
public func equalizedScale(fanIn: Int, gain: Float = Float(2).squareRoot()) -> Float { gain / Float(max(fanIn, 1)).squareRoot() }

/// Weights N(0, 1) and a zero bias: the scale lives in the forward pass.
private func unitWeights(_ shape: Shape, outputs: Int, _ rng: inout SplitMix64) -> (Parameter, Parameter) {
    let weight = Parameter("weight", shape: shape, value: Initializer.normal(std: 1).values(shape, fanIn: 1, fanOut: 1, &rng))
    return (weight, Parameter("bias", shape: [outputs], fill: 0))
}

/// A dense layer with the equalized learning rate: `y = x·(c·W)ᵀ + b`, `W [out, in]` ~ N(0, 1).
public final class EqualizedLinear: WeightAndBias {
    public let weight: Parameter
    public let bias: Parameter?
    /// The run-time scale `c` of the weights.
    public let scale: Float

    /// Without `bias`, the caller adds its own (NVIDIA's first generator layer has one per channel).
    public init(_ inputs: Int, _ outputs: Int, gain: Float = Float(2).squareRoot(), bias: Bool = true, rng: inout SplitMix64) {
        let (w, b) = unitWeights([outputs, inputs], outputs: outputs, &rng)
        (weight, self.bias, scale) = (w, bias ? b : nil, equalizedScale(fanIn: inputs, gain: gain))
    }

    public func callAsFunction(_ x: Tensor, _ context: ForwardContext) -> Tensor {
        let g = x.graph
        let y = matmul(x, context.current(weight, in: g) * scale, transposeB: true)
        return bias.map { y + context.current($0, in: g) } ?? y
    }
}

/// A 2-D convolution (stride 1, "same" padding) with the equalized learning rate, `W [O, C, K, K]` ~ N(0, 1).
public final class EqualizedConv2D: WeightAndBias {
    public let weight: Parameter
    public let bias: Parameter?
    public let scale: Float
    public let padding: Size2

    public init(_ inputs: Int, _ outputs: Int, kernel: Int, gain: Float = Float(2).squareRoot(), rng: inout SplitMix64) {
        let (w, b) = unitWeights([outputs, inputs, kernel, kernel], outputs: outputs, &rng)
        (weight, bias, scale, padding) = (w, b, equalizedScale(fanIn: inputs * kernel * kernel, gain: gain), Size2(kernel / 2))
    }

    public func callAsFunction(_ x: Tensor, _ context: ForwardContext) -> Tensor {
        let g = x.graph
        return conv2d(x, context.current(weight, in: g) * scale, bias: context.current(bias!, in: g), stride: Size2(1), padding: padding)
    }
}

/// Pixelwise feature normalization: each pixel's feature vector divided by its root mean
/// square over the channels (axis 1), `x / √(mean(x²) + ε)`.
public func pixelNorm(_ x: Tensor, epsilon: Float = 1e-8) -> Tensor {
    x * rsqrt(square(x).mean(axes: [1], keepDims: true) + epsilon)
}

/// The minibatch standard deviation (NVIDIA's `minibatch_stddev_layer`): the batch `[N, C, H,
/// W]` in groups of `groupSize` (at most N; N must be a multiple), each feature's standard
/// deviation over its group, averaged over features and pixels, appended as one more channel.
/// Example n belongs to group n mod (N / groupSize), as NVIDIA's reshape to [G, M, C, H, W] has it.
public func minibatchStddev(_ x: Tensor, groupSize: Int = 4, epsilon: Float = 1e-8) -> Tensor {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let group = min(groupSize, n)
    guard group > 0, n % group == 0 else {
        x.graph.record(GraphError("minibatchStddev", "a batch of \(n) does not split into groups of \(group)"))
        return x
    }
    let m = n / group
    let grouped = x.reshaped([group, m, c, h, w])
    let centered = grouped - grouped.mean(axes: [0], keepDims: true).expanded(to: grouped.shape)
    let deviation = sqrt(square(centered).mean(axes: [0]) + epsilon)  // [M, C, H, W]
    let perGroup = deviation.mean(axes: [1, 2, 3], keepDims: true)  // [M, 1, 1, 1]
    let channel = perGroup.reshaped([1, m, 1, 1, 1]).expanded(to: Shape([group, m, 1, h, w])).reshaped([n, 1, h, w])
    return concat([x, channel], axis: 1)
}

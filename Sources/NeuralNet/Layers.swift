// The layers of the source studies, with PyTorch's parameter layouts and default
// initialization (`reset_parameters`), given a seeded generator.
import TensorGraph

/// A layer made of a `weight` and an optional `bias` (Linear and the convolutions).
public protocol WeightAndBias: Layer {
    var weight: Parameter { get }
    var bias: Parameter? { get }
}

extension WeightAndBias {
    public var namedParameters: [(name: String, parameter: Parameter)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }
}

/// A weight drawn by `initializer` and, when asked for, a bias drawn as PyTorch does (±1/√fanIn).
private func weightAndBias(
    _ shape: Shape, outputs: Int, fanIn: Int, fanOut: Int, bias: Bool, _ initializer: Initializer, _ rng: inout SplitMix64
) -> (Parameter, Parameter?) {
    let weight = Parameter("weight", shape: shape, value: initializer.values(shape, fanIn: fanIn, fanOut: fanOut, &rng))
    let b =
        bias
        ? Parameter("bias", shape: [outputs], value: Initializer.pytorchDefault.values([outputs], fanIn: fanIn, fanOut: fanOut, &rng)) : nil
    return (weight, b)
}

/// `y = x·Wᵀ + b` on `[N, in]`; `weight [out, in]`, `bias [out]`.
public final class Linear: WeightAndBias {
    public let weight: Parameter
    public let bias: Parameter?

    public init(_ inputs: Int, _ outputs: Int, bias: Bool = true, initializer: Initializer = .pytorchDefault, rng: inout SplitMix64) {
        (weight, self.bias) = weightAndBias(
            [outputs, inputs], outputs: outputs, fanIn: inputs, fanOut: outputs, bias: bias, initializer, &rng)
    }

    public func callAsFunction(_ x: Tensor, _ context: ForwardContext) -> Tensor {
        let g = x.graph
        let y = matmul(x, context.current(weight, in: g), transposeB: true)
        return bias.map { y + context.current($0, in: g) } ?? y
    }
}

/// 2-D convolution; `weight [O, C, K, K]`, `bias [O]`.
public final class Conv2D: WeightAndBias {
    public let weight: Parameter
    public let bias: Parameter?
    public let stride: Size2, padding: Size2, dilation: Size2

    public init(
        _ inputs: Int, _ outputs: Int, kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1, bias: Bool = true,
        initializer: Initializer = .pytorchDefault, rng: inout SplitMix64
    ) {
        let k = kernel * kernel
        (weight, self.bias) = weightAndBias(
            [outputs, inputs, kernel, kernel], outputs: outputs, fanIn: inputs * k, fanOut: outputs * k, bias: bias, initializer, &rng)
        (self.stride, self.padding, self.dilation) = (Size2(stride), Size2(padding), Size2(dilation))
    }

    public func callAsFunction(_ x: Tensor, _ context: ForwardContext) -> Tensor {
        let g = x.graph
        return conv2d(
            x, context.current(weight, in: g), bias: bias.map { context.current($0, in: g) }, stride: stride, padding: padding,
            dilation: dilation)
    }
}

/// PyTorch's `PReLU`: `max(0, x) + a·min(0, x)` with a learned slope `a` per channel (axis 1),
/// or one for all; `weight [num_parameters]` starts at 0.25. SRResNet's activation.
public final class PReLU: Layer {
    public let weight: Parameter

    public init(_ parameters: Int = 1, initial: Float = 0.25) { weight = Parameter("weight", shape: [parameters], fill: initial) }

    public var namedParameters: [(name: String, parameter: Parameter)] { [("weight", weight)] }

    public func callAsFunction(_ x: Tensor, _ context: ForwardContext) -> Tensor {
        let a = context.current(weight, in: x.graph)
        var shape = [Int](repeating: 1, count: x.shape.rank)
        if weight.shape.count > 1, x.shape.rank >= 2 { shape[1] = weight.shape.count }
        return relu(x) + minimum(x, 0) * a.reshaped(shape).expanded(to: x.shape)
    }
}

/// Transposed 2-D convolution; `weight [C_in, C_out, K, K]` (PyTorch's layout), `bias [C_out]`.
public final class ConvTranspose2D: WeightAndBias {
    public let weight: Parameter
    public let bias: Parameter?
    public let stride: Size2, padding: Size2, outputPadding: Size2

    public init(
        _ inputs: Int, _ outputs: Int, kernel: Int, stride: Int = 1, padding: Int = 0, outputPadding: Int = 0, bias: Bool = true,
        initializer: Initializer = .pytorchDefault, rng: inout SplitMix64
    ) {
        // PyTorch computes the fan of a transposed convolution from its weight's dim 1.
        let k = kernel * kernel
        (weight, self.bias) = weightAndBias(
            [inputs, outputs, kernel, kernel], outputs: outputs, fanIn: outputs * k, fanOut: inputs * k, bias: bias, initializer, &rng)
        (self.stride, self.padding, self.outputPadding) = (Size2(stride), Size2(padding), Size2(outputPadding))
    }

    public func callAsFunction(_ x: Tensor, _ context: ForwardContext) -> Tensor {
        let g = x.graph
        return convTranspose2d(
            x, context.current(weight, in: g), bias: bias.map { context.current($0, in: g) }, stride: stride, padding: padding,
            outputPadding: outputPadding)
    }
}

/// Batch normalization over channels (`BatchNorm1d/2d`): affine `weight`/`bias`,
/// running statistics and `num_batches_tracked` (saved as int64).
public final class BatchNorm: Layer {
    public let weight: Parameter, bias: Parameter
    public let runningMean: Parameter, runningVariance: Parameter, batchesTracked: Parameter
    public let momentum: Float, epsilon: Float

    public init(_ channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        weight = Parameter("weight", shape: [channels], fill: 1)
        bias = Parameter("bias", shape: [channels], fill: 0)
        runningMean = Parameter("running_mean", shape: [channels], fill: 0)
        runningVariance = Parameter("running_var", shape: [channels], fill: 1)
        batchesTracked = Parameter("num_batches_tracked", shape: [], fill: 0)
        (self.momentum, self.epsilon) = (momentum, epsilon)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] { [("weight", weight), ("bias", bias)] }
    public var namedBuffers: [(name: String, parameter: Parameter)] {
        [("running_mean", runningMean), ("running_var", runningVariance), ("num_batches_tracked", batchesTracked)]
    }

    public func callAsFunction(_ x: Tensor, _ context: ForwardContext) -> Tensor {
        let g = x.graph
        // Each training forward pass updates the statistics, chained on earlier passes of
        // the same step (PyTorch's D sees a real and a fake batch, each moving them).
        let result = batchNorm(
            x, scale: context.current(weight, in: g), offset: context.current(bias, in: g),
            runningMean: context.current(runningMean, in: g),
            runningVariance: context.current(runningVariance, in: g), momentum: momentum, epsilon: epsilon, training: context.training)
        if context.training {
            context.record([
                Assignment(runningMean, result.runningMean), Assignment(runningVariance, result.runningVariance),
                Assignment(batchesTracked, context.current(batchesTracked, in: g) + 1),
            ])
        }
        return result.output
    }
}

/// Layer normalization over (C, H, W) with elementwise affine `weight`/`bias` of that shape.
public final class LayerNorm: Layer {
    public let weight: Parameter, bias: Parameter
    public let epsilon: Float

    public init(_ shape: Shape, epsilon: Float = 1e-5) {
        weight = Parameter("weight", shape: shape, fill: 1)
        bias = Parameter("bias", shape: shape, fill: 0)
        self.epsilon = epsilon
    }

    public var namedParameters: [(name: String, parameter: Parameter)] { [("weight", weight), ("bias", bias)] }

    public func callAsFunction(_ x: Tensor, _ context: ForwardContext) -> Tensor {
        layerNorm(x, scale: context.current(weight, in: x.graph), offset: context.current(bias, in: x.graph), epsilon: epsilon)
    }
}

/// Rows of `weight [count, dimension]` picked by float class indices `[N]` (initialized N(0, 1), as PyTorch).
public final class Embedding: Layer {
    public let weight: Parameter

    public init(_ count: Int, _ dimension: Int, rng: inout SplitMix64) {
        weight = Parameter(
            "weight", shape: [count, dimension], value: Initializer.normal(std: 1).values([count, dimension], fanIn: 1, fanOut: 1, &rng))
    }

    public var namedParameters: [(name: String, parameter: Parameter)] { [("weight", weight)] }

    public func callAsFunction(_ labels: Tensor, _ context: ForwardContext) -> Tensor {
        let g = labels.graph
        return matmul(g.apply(.oneHot(depth: weight.shape[0]), [labels]), context.current(weight, in: g))
    }
}

/// Inverted dropout in training, identity in evaluation.
public final class Dropout: Layer {
    public let rate: Float
    public init(_ rate: Float) { self.rate = rate }
    public var namedParameters: [(name: String, parameter: Parameter)] { [] }
    public func callAsFunction(_ x: Tensor, _ context: ForwardContext) -> Tensor {
        dropout(x, rate: rate, seed: context.nextSeed(), training: context.training)
    }
}

/// Upsampling ×`factor`: nearest neighbour, or bilinear (×2, align_corners = false).
public final class Upsample: Layer {
    public enum Mode: Sendable { case nearest, bilinear }
    public let factor: Int, mode: Mode
    public init(factor: Int = 2, mode: Mode = .nearest) {
        precondition(mode == .nearest || factor == 2, "bilinear upsampling is ×2")
        (self.factor, self.mode) = (factor, mode)
    }
    public var namedParameters: [(name: String, parameter: Parameter)] { [] }
    public func callAsFunction(_ x: Tensor, _ context: ForwardContext) -> Tensor {
        mode == .nearest ? upsampleNearest(x, factor: factor) : upsampleBilinear2x(x)
    }
}

/// Reshapes each example to `dims` (the batch axis is kept), as `nn.Flatten` / `nn.Unflatten`.
public final class Reshape: Layer {
    public let dims: [Int]
    public init(_ dims: [Int]) { self.dims = dims }
    public var namedParameters: [(name: String, parameter: Parameter)] { [] }
    public func callAsFunction(_ x: Tensor, _ context: ForwardContext) -> Tensor {
        x.reshaped([x.shape[0]] + dims)
    }
}

// Weight initializers on the host, from a seeded generator (the values go into
// `Parameter.value` before the first upload).
import Foundation
import TensorGraph

/// How a parameter's initial values are drawn.
public enum Initializer: Sendable {
    /// PyTorch's `reset_parameters` default: uniform in ±1/√fanIn (kaiming_uniform with a = √5).
    case pytorchDefault
    /// N(mean, std²), e.g. DCGAN's N(0, 0.02²).
    case normal(mean: Float = 0, std: Float)
    /// Kaiming/He normal: N(0, 2/fanIn) (ReLU gain), as `kaiming_normal_`.
    case heNormal
    /// Xavier/Glorot uniform: ±gain·√(6/(fanIn + fanOut)).
    case xavierUniform(gain: Float = 1)
    /// N(mean, std²) restricted to [mean − 2std, mean + 2std] by resampling, as `trunc_normal_`.
    case truncatedNormal(mean: Float = 0, std: Float)
    case constant(Float)

    public func values(_ shape: Shape, fanIn: Int, fanOut: Int, _ rng: inout SplitMix64) -> [Float] {
        // A model being measured (`Parameter.measuring`) draws nothing.
        guard !Parameter.shapesOnly else { return [] }
        let count = shape.count
        switch self {
        case .pytorchDefault:
            let bound = 1 / Float(max(fanIn, 1)).squareRoot()
            return (0..<count).map { _ in Float.random(in: -bound...bound, using: &rng) }
        case .normal(let mean, let std):
            return (0..<count).map { _ in mean + std * rng.normal() }
        case .heNormal:
            let std = (2 / Float(max(fanIn, 1))).squareRoot()
            return (0..<count).map { _ in std * rng.normal() }
        case .xavierUniform(let gain):
            let bound = gain * (6 / Float(max(fanIn + fanOut, 1))).squareRoot()
            return (0..<count).map { _ in Float.random(in: -bound...bound, using: &rng) }
        case .truncatedNormal(let mean, let std):
            return (0..<count).map { _ in
                var z = rng.normal()
                while Swift.abs(z) > 2 { z = rng.normal() }
                return mean + std * z
            }
        case .constant(let value):
            return [Float](repeating: value, count: count)
        }
    }
}

/// Re-initializes `parameter` with `initializer`, taking fans from its shape as PyTorch does
/// (`[out, in, k…]`: fanIn = in·k…, fanOut = out·k…).
public func initialize(_ parameter: Parameter, _ initializer: Initializer, rng: inout SplitMix64) {
    let dims = parameter.shape.dims
    let receptive = dims.dropFirst(2).reduce(1, *)
    let fanIn = dims.count >= 2 ? dims[1] * receptive : dims.first ?? 1
    let fanOut = dims.count >= 2 ? dims[0] * receptive : dims.first ?? 1
    parameter.value = initializer.values(parameter.shape, fanIn: fanIn, fanOut: fanOut, &rng)
}

// Weight initializers on the host, from a seeded generator (the values go into
// `Parameter.value` before the first upload).
import TensorGraph

/// PyTorch's `nn.Linear` default: uniform in ±1/√fanIn (Kaiming-uniform with a = √5).
public func linearInit(fanIn: Int, count: Int, using rng: inout SplitMix64) -> [Float] {
    let bound = 1 / Float(fanIn).squareRoot()
    return (0..<count).map { _ in Float.random(in: -bound...bound, using: &rng) }
}

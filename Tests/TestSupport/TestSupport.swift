// Shared test helpers: a seeded generator, the odd-shape lists, tolerance
// comparison, plan evaluation and central finite differences. Product code
// never imports this module.
import CPUReference
import Foundation
import TensorGraph

/// The seeded generator of tests.
public typealias SeededGenerator = SplitMix64

/// The seed of randomized tests: `GENOCL_TEST_SEED`, else a fixed default.
public let testSeed: UInt64 = ProcessInfo.processInfo.environment["GENOCL_TEST_SEED"].flatMap { UInt64($0) } ?? 20_261_122

public func randomValues(_ count: Int, in range: ClosedRange<Float> = -1...1, seed: UInt64) -> [Float] {
    var rng = SeededGenerator(seed: seed)
    return (0..<count).map { _ in Float.random(in: range, using: &rng) }
}

/// Values with `|v| ≥ 0.1`, so finite differences never straddle a kink at 0.
public func valuesAwayFromZero(_ count: Int, seed: UInt64) -> [Float] {
    var rng = SeededGenerator(seed: seed)
    return (0..<count).map { _ in Float.random(in: 0.1...1, using: &rng) * (Bool.random(using: &rng) ? 1 : -1) }
}

/// Odd shapes on purpose: batch 1 and 3, channels 1/3/5, prime and tiny sizes.
public enum OddShapes {
    public static let vectors: [Shape] = [[1], [7], [63], [65]]
    public static let matrices: [Shape] = [[1, 1], [3, 5], [7, 2]]
    public static let images: [Shape] = [[1, 1, 5, 5], [3, 3, 4, 7], [2, 5, 7, 3]]
}

/// `|got − want| ≤ atol + rtol·|want|` element by element.
public struct Tolerance: Sendable {
    public var atol: Float
    public var rtol: Float
    public init(atol: Float, rtol: Float) { self.atol = atol; self.rtol = rtol }
    public static let exact = Tolerance(atol: 0, rtol: 0)
    public static let transcendental = Tolerance(atol: 1e-6, rtol: 1e-5)
    public static let sums = Tolerance(atol: 1e-5, rtol: 1e-4)
}

/// nil when every element is within tolerance, else a message with the first
/// mismatch (index, got, want) and the largest error.
public func mismatch(_ got: [Float], _ want: [Float], _ tolerance: Tolerance, _ context: String) -> String? {
    guard got.count == want.count else { return "\(context): \(got.count) values, want \(want.count)" }
    var first: String?
    var worst: Float = 0
    for i in got.indices {
        let error = Swift.abs(got[i] - want[i])
        let ok = got[i] == want[i] || error <= tolerance.atol + tolerance.rtol * Swift.abs(want[i])
        if !ok {
            worst = Swift.max(worst, error.isNaN ? .infinity : error)
            if first == nil { first = "first at [\(i)]: got \(got[i]), want \(want[i])" }
        }
    }
    guard let first else { return nil }
    return "\(context): \(first); max error \(worst) (atol \(tolerance.atol), rtol \(tolerance.rtol), seed \(testSeed))"
}

/// Runs `fetches` once on `backend` and returns their values.
public func evaluate(_ fetches: [Tensor], feeds: [String: [Float]] = [:], backend: any Backend = CPUBackend()) throws -> [[Float]] {
    try Session(backend: backend).plan(fetches: fetches).run(feeds)
}

/// An input of a gradient check: a placeholder name, its shape and values.
public struct CheckInput: Sendable {
    public let name: String
    public let shape: Shape
    public let values: [Float]
    /// Not probed by finite differences (class labels, say).
    public let isConstant: Bool
    public init(_ name: String, _ shape: Shape, _ values: [Float], constant: Bool = false) {
        self.name = name
        self.shape = shape
        self.values = values
        self.isConstant = constant
    }
}

/// Checks `gradients(of:wrt:)` of `f` against central finite differences.
///
/// The loss is `Σ f(x) · R` with a fixed random `R`, evaluated in Double on the
/// host; `probes` coordinates of each input are perturbed by ±`step`. Returns nil
/// on success, else a message naming the input, the coordinate, and both values.
public func gradientMismatch(
    _ inputs: [CheckInput], probes: Int = 24, step: Float = 1e-2, tolerance: Tolerance = Tolerance(atol: 5e-4, rtol: 2e-3),
    seed: UInt64 = testSeed, _ f: ([Tensor]) -> Tensor
) throws -> String? {
    let graph = Graph()
    let xs = inputs.map { graph.placeholder($0.name, $0.shape) }
    let y = f(xs)
    let weights = randomValues(y.shape.count, seed: seed &+ 99)
    let loss = (y * graph.constant(weights, y.shape)).sum()
    let grads = gradients(of: loss, wrt: xs)
    let session = Session(backend: CPUBackend())
    // Every run uses random stream 0, so dropout masks agree between evaluations.
    let analytic = try session.plan(fetches: grads).run(Dictionary(uniqueKeysWithValues: inputs.map { ($0.name, $0.values) }))
    let forward = try session.plan(fetches: [y])
    func lossAt(_ feeds: [String: [Float]]) throws -> Double {
        forward.step = 0
        return zip(try forward.run(feeds)[0], weights).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
    var rng = SeededGenerator(seed: seed)
    var feeds = Dictionary(uniqueKeysWithValues: inputs.map { ($0.name, $0.values) })
    for (k, input) in inputs.enumerated() where input.shape.count > 0 && !input.isConstant {
        let indices =
            input.shape.count <= probes
            ? Array(0..<input.shape.count) : (0..<probes).map { _ in Int.random(in: 0..<input.shape.count, using: &rng) }
        var numeric: [Float] = []
        for i in indices {
            var values = input.values
            values[i] += step
            feeds[input.name] = values
            let plus = try lossAt(feeds)
            values[i] -= 2 * step
            feeds[input.name] = values
            let minus = try lossAt(feeds)
            numeric.append(Float((plus - minus) / Double(2 * step)))
        }
        feeds[input.name] = input.values
        let scale = Swift.max(1, numeric.map { Swift.abs($0) }.max() ?? 1)
        let scaled = Tolerance(atol: tolerance.atol * scale, rtol: tolerance.rtol)
        if let message = mismatch(
            indices.map { analytic[k][$0] }, numeric, scaled, "∂/∂\(input.name) \(input.shape) at indices \(indices.prefix(8))…")
        {
            return message
        }
    }
    return nil
}

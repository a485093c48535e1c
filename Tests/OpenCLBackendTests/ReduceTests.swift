import CPUReference
import NeuralNet
import OpenCLBackend
import OpenCLRuntime
import TensorGraph
import TestSupport
import Testing

/// Reductions on the OpenCL device against the CPU reference, forward and
/// backward, on odd shapes, with outputs poisoned (NaN) before each op runs.
@Suite(.enabled(if: openCLTestsEnabled, "no OpenCL device"))
struct OpenCLReduceTests {
    @Test(arguments: [[65], [3, 4, 5], [2, 3, 17, 5]] as [Shape])
    func reductions(_ shape: Shape) throws {
        let x = input("x", shape, 20)
        var rng = SeededGenerator(seed: seed(21))
        let distinct = CheckInput("x", shape, (0..<shape.count).map { Float($0) * 0.01 }.shuffled(using: &rng))
        try expectOpenCLMatches([x], tolerance: .sums, "sum all \(shape)") { $0[0].sum() }
        try expectOpenCLMatches([x], tolerance: .sums, "mean axis 0 \(shape)") { $0[0].mean(axes: [0], keepDims: true) }
        try expectOpenCLMatches([x], tolerance: .sums, "sum last \(shape)") { $0[0].sum(axes: [-1]) }
        try expectOpenCLMatches([x], tolerance: .sums, "squares axis 0 \(shape)") { square($0[0]).mean(axes: [0], keepDims: true) }
        try expectOpenCLMatches([x], tolerance: .sums, "products last \(shape)") { ($0[0] * tanh($0[0])).sum(axes: [-1]) }
        try expectOpenCLMatches([distinct], tolerance: .sums, "max axis 0 \(shape)") { $0[0].max(axes: [0]) }
        try expectOpenCLMatches([distinct], tolerance: .sums, "max all \(shape)") { $0[0].max() }
    }

    /// Long sums into few outputs run in parts (partial sums, then their sum): BatchNorm's
    /// per-channel statistics, a whole-tensor sum and a strided axis, with parts that end
    /// inside rows and terms that cancel, split as on this device, as on a 2-core CPU and as on a 3-unit GPU.
    @Test func longSumsInParts() throws {
        let graph = Graph()
        let x = graph.constant(randomValues(64 * 3 * 33 * 31, seed: seed(22)), [64, 3, 33, 31])
        let y = graph.constant(randomValues(5001 * 3, seed: seed(23)), [5001, 3])
        // Terms of ±1000 that cancel to a sum of the small parts (BatchNorm's gradient sums
        // cancel so): the compensated sums must keep their low bits.
        let small = randomValues(3 * 40_000, seed: seed(24))
        let cancelling = graph.constant(small.indices.map { small[$0] + ($0 % 2 == 0 ? 1000 : -1000) }, [3, 40_000])
        let fetches = [
            x.sum(axes: [0, 2, 3]), x.sum(), x.sum(axes: [0, 3]), y.sum(axes: [0]), cancelling.sum(axes: [1]),
            // Sums of products and squares (BatchNorm's variance and gradients) in the same spreads.
            (x * sigmoid(x)).sum(axes: [0, 2, 3]), square(x).sum(axes: [0, 3]), square(y).sum(), (cancelling * 0.5).sum(axes: [1]),
        ]
        for device: (cpu: Bool, computeUnits: Int)? in [nil, (true, 2), (false, 3)] {
            let message = try backendMismatch(
                fetches, feeds: [:], tolerance: .sums, context: "sums spread as \(String(describing: device))"
            ) {
                $0.spreadDevice = device
            }
            #expect(message == nil, Comment(rawValue: message ?? ""))
        }
    }
}

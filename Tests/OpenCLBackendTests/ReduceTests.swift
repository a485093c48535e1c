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

    /// Sums down columns (`reduce_sum_columns`, outputs contiguous in runs of 8): over the batch
    /// (a LayerNorm scale's and a bias's gradient), over two axes apart from each other, of
    /// products and squares, and a kept axis of 8 and 24 beside one of 12 (the row kernel).
    @Test func sumsDownColumns() throws {
        let graph = Graph()
        let x = graph.constant(randomValues(9 * 3 * 5 * 16, seed: seed(25)), [9, 3, 5, 16])
        let w = graph.constant(randomValues(7 * 2 * 3 * 8, seed: seed(26)), [7, 2, 3, 8])
        let y = graph.constant(randomValues(33 * 24, seed: seed(27)), [33, 24])
        let z = graph.constant(randomValues(33 * 12, seed: seed(28)), [33, 12])
        let fetches = [
            x.sum(axes: [0]), (x * tanh(x)).sum(axes: [0]), w.sum(axes: [0, 2]), square(w).sum(axes: [0, 2]), y.sum(axes: [0]),
            square(y).mean(axes: [0]), z.sum(axes: [0]), x.sum(axes: [0, 1, 2]),
        ]
        var device: OpenCLBackend?
        let message = try backendMismatch(fetches, feeds: [:], tolerance: .sums, context: "sums down columns", profiling: true) {
            device = $0
        }
        #expect(message == nil, Comment(rawValue: message ?? ""))
        let kernels = try device?.kernelTotals().map(\.name) ?? []
        #expect(kernels.contains("reduce_sum_columns") && kernels.contains("reduce_sum_forward"), "\(kernels)")
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

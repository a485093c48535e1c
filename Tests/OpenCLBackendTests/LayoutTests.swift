import CPUReference
import NeuralNet
import OpenCLBackend
import OpenCLRuntime
import TensorGraph
import TestSupport
import Testing

/// Layout ops (strided copies, broadcasts, concatenations, slices, pads) on the OpenCL device against the CPU reference, forward and
/// backward, on odd shapes, with outputs poisoned (NaN) before each op runs.
@Suite(.enabled(if: openCLTestsEnabled, "no OpenCL device"))
struct OpenCLLayoutTests {
    @Test func broadcastAndLayout() throws {
        let x = input("x", [3, 4, 5], 10), row = input("r", [5], 11), column = input("c", [3, 1, 1], 12)
        try expectOpenCLMatches([x, row, column], tolerance: .transcendental, "broadcast") { $0[0] * $0[1] + $0[2] }
        try expectOpenCLMatches([x], "reshape") { $0[0].reshaped([5, 12]) * 2 }
        try expectOpenCLMatches([x], "permute") { $0[0].permuted([2, 0, 1]) }
        try expectOpenCLMatches([x, input("y", [3, 2, 5], 13)], "concat") { concat([$0[0], $0[1], $0[0]], axis: 1) }
        try expectOpenCLMatches([x], "slice") { $0[0].sliced(starts: [1, 0, 2], sizes: [2, 3, 3]) }
        try expectOpenCLMatches([x], "pad") { $0[0].padded(before: [0, 2, 1], after: [1, 0, 3]) }
        try expectOpenCLMatches([x], "stopGradient") { stopGradient($0[0]) * $0[0] }
        try expectOpenCLMatches([input("s", [2, 12, 3, 5], 15)], "pixelShuffle") { pixelShuffle($0[0], factor: 2) * 3 }
        let labels = CheckInput("l", [4], [0, 4, 2, 2], constant: true)
        try expectOpenCLMatches([input("z", [4, 5], 14), labels], "softmaxCrossEntropy") { softmaxCrossEntropy($0[0], labels: $0[1]) }
    }

    /// Layout ops (strided copies) with rows shared by several work-items, as on a GPU:
    /// parts that divide a row and parts that do not, rows longer than the parts, single
    /// merged rows of 70k elements; spread as on this device, a 2-core CPU, a 3-unit GPU
    /// and a 132-unit GPU.
    @Test func layoutSpreads() throws {
        let graph = Graph()
        let x = graph.constant(randomValues(1000 * 70, seed: seed(96)), [1000, 70])
        let long = graph.constant(randomValues(70_001, seed: seed(97)), [70_001]),
            short = graph.constant(randomValues(5, seed: seed(98)), [5])
        let row = graph.constant(randomValues(70, seed: seed(99)), [1, 70])
        let fetches = [
            x.permuted([1, 0]), row.expanded(to: [1000, 70]), concat([long, short, long], axis: 0), concat([x, x], axis: 1),
            x.sliced(starts: [3, 5], sizes: [990, 59]), long.padded(before: [7], after: [2]),
            x.reshaped([10, 100, 70]).permuted([2, 0, 1]),
        ]
        for device: (cpu: Bool, computeUnits: Int)? in [nil, (true, 2), (false, 3), (false, 132)] {
            let message = try backendMismatch(
                fetches, feeds: [:], tolerance: .exact, context: "layout spread as \(String(describing: device))"
            ) {
                $0.spreadDevice = device
            }
            #expect(message == nil, Comment(rawValue: message ?? ""))
        }
    }

    /// Work-items per row: one on a CPU; at least 32 on a GPU, more while rows are few, never
    /// more than a row's elements.
    @Test func rowSpreads() {
        #expect(RowSpread(rows: 3, length: 1_000_000, cpu: true, computeUnits: 2).parts == 1)
        #expect(RowSpread(rows: 1, length: 8_000_000, cpu: false, computeUnits: 132).parts == 132 * 2048)
        #expect(RowSpread(rows: 100_000, length: 64, cpu: false, computeUnits: 132).parts == 32)
        #expect(RowSpread(rows: 100_000, length: 5, cpu: false, computeUnits: 132).parts == 5)
    }
}

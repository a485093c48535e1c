import CPUReference
import NeuralNet
import OpenCLBackend
import OpenCLRuntime
import TensorGraph
import TestSupport
import Testing

/// Random streams on the OpenCL device against the CPU reference, forward and
/// backward, on odd shapes, with outputs poisoned (NaN) before each op runs.
@Suite(.enabled(if: openCLTestsEnabled, "no OpenCL device"))
struct OpenCLRandomTests {
    @Test func randomStreamsMatchTheReference() throws {
        // Same Philox stream; the transforms use float built-ins on both sides.
        let graph = Graph()
        let fetches = [
            graph.randomUniform([1000], low: -2, high: 3, seed: 11), graph.randomNormal([1001], mean: 1, std: 2, seed: 12),
            graph.truncatedNormal([999], seed: 13), dropout(graph.ones([77]), rate: 0.3, seed: 14),
        ]
        let message = try backendMismatch(fetches, feeds: [:], tolerance: Tolerance(atol: 1e-5, rtol: 1e-4), context: "random")
        #expect(message == nil, Comment(rawValue: message ?? ""))
    }
}

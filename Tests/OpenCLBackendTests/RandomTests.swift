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

    /// A data-parallel replica's random tensor is its share of the one-device stream: replica
    /// 1 of 2 draws elements `count ..< 2·count` (the offset is a 64-bit counter on both sides).
    @Test func aReplicaDrawsItsShareOfTheStream() throws {
        let replica = Graph(replica: Replica(index: 1, count: 2))
        let share = [replica.randomNormal([5, 7], seed: 3), replica.randomUniform([5, 7], low: -1, high: 1, seed: 4)]
        let message = try backendMismatch(share, feeds: [:], tolerance: Tolerance(atol: 1e-5, rtol: 1e-4), context: "replica stream")
        #expect(message == nil, Comment(rawValue: message ?? ""))
        let whole = Graph()
        let wholeFetches = [whole.randomNormal([10, 7], seed: 3), whole.randomUniform([10, 7], low: -1, high: 1, seed: 4)]
        for backend in [CPUBackend(), try makeTestBackend()] as [any Backend] {
            let (got, want) = (try evaluate(share, backend: backend), try evaluate(wholeFetches, backend: backend))
            #expect(got[0] == Array(want[0][35...]) && got[1] == Array(want[1][35...]), "\(backend.deviceDescription)")
        }
    }
}

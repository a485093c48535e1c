import OpenCLBackend
import TensorGraph
import TestSupport
import Testing

/// The op-by-op check that model steps with tuned choices rely on (TestSupport/OpByOpCheck.swift).
@Suite(.enabled(if: openCLTestsEnabled, "no OpenCL device"))
struct OpByOpCheckTests {
    /// conv → BatchNorm → LeakyReLU → mean, and its gradients: convolutions, reductions,
    /// layout ops and fused elementwise chains.
    func step() -> (fetches: [Tensor], feeds: [String: [Float]]) {
        let g = Graph()
        let x = g.placeholder("x", [3, 4, 9, 9]), w = g.placeholder("w", [6, 4, 3, 3])
        let c = conv2d(x, w, stride: Size2(2), padding: Size2(1))
        let n = batchNorm(
            c, scale: nil, offset: nil, runningMean: g.zeros([6]), runningVariance: g.ones([6]), training: true)
        let loss = square(leakyReLU(n.output, slope: 0.2)).mean()
        return (
            [loss] + gradients(of: loss, wrt: [x, w]),
            ["x": randomValues(3 * 4 * 81, seed: seed(520)), "w": randomValues(6 * 4 * 9, seed: seed(521))]
        )
    }

    @Test func everyOpAgreesAndFusedOpsAreChecked() throws {
        let (fetches, feeds) = step()
        var checked: OpCheckedBackend?
        let message = try opByOpMismatch(fetches, feeds: feeds, tolerance: Tolerance(atol: 2e-5, rtol: 1e-4), context: "checked step") {
            checked = $0
        }
        #expect(message == nil, Comment(rawValue: message ?? ""))
        #expect((checked?.opsChecked ?? 0) > 10)
        #expect((checked?.fusedChecked ?? 0) > 0)
    }

    @Test(arguments: ["conv2d", "fused", "reduceSum"])
    func aWrongOutputIsFoundAndNamed(_ op: String) throws {
        let (fetches, feeds) = step()
        let message = try opByOpMismatch(fetches, feeds: feeds, tolerance: Tolerance(atol: 2e-5, rtol: 1e-4), context: "tampered step") {
            $0.tamper = op
        }
        #expect(message?.contains(", \(op)") == true, Comment(rawValue: message ?? "no mismatch found"))
    }
}

import CPUReference
import TensorGraph
import TestSupport
import Testing

/// WGAN-GP needs ∂/∂θ of ‖∇ₓ D(x̂)‖: gradients of gradients through conv2d,
/// leakyReLU and matmul. Checked against finite differences of the first-order
/// penalty (itself computed with autodiff).
@Suite struct SecondOrderTests {
    /// A small critic: conv (stride 2, padding 1) + bias + leakyReLU, then linear.
    static func critic(_ x: Tensor, _ w1: Tensor, _ b1: Tensor, _ w2: Tensor) -> Tensor {
        let h = leakyReLU(conv2d(x, w1, bias: b1, stride: Size2(2), padding: Size2(1)), slope: 0.2)
        return matmul(h.reshaped([x.shape[0], -1]), w2)
    }

    /// λ · mean over the batch of (‖∇ₓ D(x)‖₂ − 1)².
    static func gradientPenalty(_ x: Tensor, _ w1: Tensor, _ b1: Tensor, _ w2: Tensor) -> Tensor {
        let gx = gradients(of: critic(x, w1, b1, w2).sum(), wrt: [x])[0]
        let norms = sqrt(square(gx).sum(axes: [1, 2, 3]) + 1e-12)
        return square(norms - 1).mean() * 10
    }

    static let inputs = [
        CheckInput("x", [3, 2, 5, 5], randomValues(150, seed: seed(900))),
        CheckInput("w1", [4, 2, 3, 3], randomValues(72, in: -0.5...0.5, seed: seed(901))),
        CheckInput("b1", [4], randomValues(4, in: -0.2...0.2, seed: seed(902))),
        CheckInput("w2", [36, 1], randomValues(36, in: -0.5...0.5, seed: seed(903))),
    ]

    @Test func gradientPenaltyGradientMatchesFiniteDifferences() throws {
        // A smaller step keeps the probes off leakyReLU's kinks; the penalty is
        // piecewise smooth in the weights (its second derivative lives in the
        // linear parts), so finite differences are exact up to rounding.
        try expectGradients(Self.inputs, probes: 20, step: 1e-3, tolerance: Tolerance(atol: 5e-4, rtol: 2e-3)) {
            Self.gradientPenalty($0[0], $0[1], $0[2], $0[3])
        }
    }

    @Test func gradientPenaltyIsNotTriviallyZero() throws {
        // The test above would pass vacuously if the penalty ignored the weights.
        let graph = Graph()
        let xs = Self.inputs.map { graph.placeholder($0.name, $0.shape) }
        let penalty = Self.gradientPenalty(xs[0], xs[1], xs[2], xs[3])
        let grads = gradients(of: penalty, wrt: [xs[1], xs[3]])
        let values = try evaluate([penalty] + grads, feeds: Dictionary(uniqueKeysWithValues: Self.inputs.map { ($0.name, $0.values) }))
        #expect(values[0][0] > 0)
        #expect(values[1].contains { Swift.abs($0) > 1e-3 })
        #expect(values[2].contains { Swift.abs($0) > 1e-3 })
    }

    @Test func thirdOrderThroughSmoothOps() throws {
        // d/dx of (d/dx Σ tanh(x)²)² exercises rules applied to gradient graphs twice.
        try expectGradients([CheckInput("x", [7], randomValues(7, seed: seed(904)))]) { x in
            let g = gradients(of: square(tanh(x[0])).sum(), wrt: [x[0]])[0]
            return gradients(of: square(g).sum(), wrt: [x[0]])[0]
        }
    }
}

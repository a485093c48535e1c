import CPUReference
import Foundation
import NeuralNet
import TensorGraph
import TestSupport
import Testing

/// Each optimizer runs three steps on loss = Σ cᵢ·pᵢ² + Σ pᵢ (so gradients 2cᵢpᵢ + 1 change
/// every step) and is compared with PyTorch's update rule evaluated in Double.
@Suite struct OptimizerTests {
    static let start: [Double] = [1, -2, 0.5, 3]
    static let c: [Double] = [0.5, 1, 2, 0.25]

    /// Runs `make`'s optimizer for three steps on the CPU reference and returns p.
    func run(_ make: (Parameter) -> any Optimizer) throws -> [Float] {
        let p = Parameter("p", shape: [4], value: Self.start.map(Float.init))
        let graph = Graph()
        let weight = graph.variable(p)
        let loss = (square(weight) * graph.constant(Self.c.map(Float.init), [4]) + weight).sum()
        let optimizer = make(p)
        let session = Session(backend: CPUBackend())
        let step = try session.plan(fetches: [loss], updates: optimizer.updates(minimizing: loss))
        for _ in 0..<3 { try step.run() }
        try session.download([p])
        return p.value
    }

    /// PyTorch's rule in Double: `update(t, p, g, &state) -> p`.
    func reference(_ update: (Int, Double, Double, inout [Double]) -> Double) -> [Float] {
        Self.start.indices.map { i in
            var p = Self.start[i], state = [Double](repeating: 0, count: 4)
            for t in 1...3 { p = update(t, p, 2 * Self.c[i] * p + 1, &state) }
            return Float(p)
        }
    }

    let tolerance = Tolerance(atol: 2e-6, rtol: 2e-6)

    @Test func sgdWithMomentumAndDampening() throws {
        let got = try run { SGD([$0], learningRate: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01) }
        let want = reference { t, p, g0, s in
            let g = g0 + 0.01 * p
            s[0] = t == 1 ? g : 0.9 * s[0] + 0.9 * g
            return p - 0.1 * s[0]
        }
        expectClose(got, want, tolerance)
        let nesterov = try run { SGD([$0], learningRate: 0.1, momentum: 0.9, nesterov: true) }
        expectClose(
            nesterov,
            reference { t, p, g, s in
                s[0] = t == 1 ? g : 0.9 * s[0] + g
                return p - 0.1 * (g + 0.9 * s[0])
            }, tolerance)
        expectClose(try run { SGD([$0], learningRate: 0.1) }, reference { _, p, g, _ in p - 0.1 * g }, tolerance)
    }

    @Test func adamWithWeightDecay() throws {
        let got = try run { Adam([$0], learningRate: 0.01, beta1: 0.5, beta2: 0.999, weightDecay: 0.1) }
        expectClose(
            got,
            reference { t, p, g0, s in
                let g = g0 + 0.1 * p
                s[0] = 0.5 * s[0] + 0.5 * g
                s[1] = 0.999 * s[1] + 0.001 * g * g
                let mHat = s[0] / (1 - pow(0.5, Double(t))), vHat = s[1] / (1 - pow(0.999, Double(t)))
                return p - 0.01 * mHat / (vHat.squareRoot() + 1e-8)
            }, tolerance)
    }

    @Test func nadamFollowsPyTorch() throws {
        let got = try run { NAdam([$0], learningRate: 0.01, beta1: 0.9, beta2: 0.999) }
        expectClose(
            got,
            reference { t, p, g, s in
                // s[2] holds Π μ (starting at 1 via the first multiplication).
                if t == 1 { s[2] = 1 }
                let mu = 0.9 * (1 - 0.5 * pow(0.96, Double(t) * 0.004))
                let muNext = 0.9 * (1 - 0.5 * pow(0.96, Double(t + 1) * 0.004))
                s[2] *= mu
                s[0] = 0.9 * s[0] + 0.1 * g
                s[1] = 0.999 * s[1] + 0.001 * g * g
                let denominator = (s[1] / (1 - pow(0.999, Double(t)))).squareRoot() + 1e-8
                return p - 0.01 * (1 - mu) / (1 - s[2]) * g / denominator - 0.01 * muNext / (1 - s[2] * muNext) * s[0] / denominator
            }, Tolerance(atol: 1e-5, rtol: 1e-5))
    }

    @Test func rmspropFollowsPyTorch() throws {
        // The MNIST GAN study's setting: RMSprop with lr 5e-5.
        let got = try run { RMSprop([$0], learningRate: 5e-5) }
        expectClose(
            got,
            reference { _, p, g, s in
                s[0] = 0.99 * s[0] + 0.01 * g * g
                return p - 5e-5 * g / (s[0].squareRoot() + 1e-8)
            }, tolerance)
    }

    @Test func stateIsNamedForCheckpoints() {
        let p = Parameter("weight", shape: [2]), q = Parameter("weight", shape: [3])
        #expect(
            Adam([p, q], name: "optimizerD").state.map(\.name) == [
                "optimizerD.0.exp_avg", "optimizerD.0.exp_avg_sq", "optimizerD.1.exp_avg", "optimizerD.1.exp_avg_sq", "optimizerD.step",
            ])
        #expect(RMSprop([p]).state.map(\.name) == ["rmsprop.0.square_avg"])
    }
}

func expectClose(_ got: [Float], _ want: [Float], _ tolerance: Tolerance, sourceLocation: SourceLocation = #_sourceLocation) {
    let message = mismatch(got, want, tolerance, "optimizer")
    #expect(message == nil, Comment(rawValue: message ?? ""), sourceLocation: sourceLocation)
}

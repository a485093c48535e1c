import Foundation
import TensorGraph
import TestSupport
import Testing

@Suite struct ElementwiseTests {
    let xs: [Float] = [-2, -0.5, 0, 0.5, 3]

    @Test func unaryForwardMatchesHandValues() throws {
        let shape: Shape = [5]
        expectClose(try forward(shape, xs) { -$0 }, [2, 0.5, 0, -0.5, -3], .exact)
        expectClose(try forward(shape, xs) { square($0) }, [4, 0.25, 0, 0.25, 9], .exact)
        expectClose(try forward(shape, xs) { abs($0) }, [2, 0.5, 0, 0.5, 3], .exact)
        expectClose(try forward(shape, xs) { sign($0) }, [-1, -1, 0, 1, 1], .exact)
        expectClose(try forward(shape, xs) { exp($0) }, [0.135335283, 0.60653066, 1, 1.64872127, 20.0855369])
        expectClose(try forward(shape, xs) { clamp($0, min: -1, max: 1) }, [-1, -0.5, 0, 0.5, 1], .exact)
        let positive: [Float] = [0.25, 1, 4, 9]
        expectClose(try forward([4], positive) { log($0) }, [-1.38629436, 0, 1.38629436, 2.19722458])
        expectClose(try forward([4], positive) { sqrt($0) }, [0.5, 1, 2, 3])
        expectClose(try forward([4], positive) { rsqrt($0) }, [2, 1, 0.5, 1.0 / 3])
    }

    @Test func activationsForwardMatchHandValues() throws {
        let shape: Shape = [5]
        expectClose(try forward(shape, xs) { relu($0) }, [0, 0, 0, 0.5, 3], .exact)
        expectClose(try forward(shape, xs) { leakyReLU($0, slope: 0.2) }, [-0.4, -0.1, 0, 0.5, 3])
        expectClose(try forward(shape, xs) { tanh($0) }, [-0.96402758, -0.46211716, 0, 0.46211716, 0.99505475])
        expectClose(try forward(shape, xs) { sigmoid($0) }, [0.11920292, 0.37754067, 0.5, 0.62245933, 0.95257413])
        expectClose(try forward(shape, xs) { softplus($0) }, [0.12692801, 0.47407698, 0.69314718, 0.97407698, 3.04858735])
        // Extreme inputs stay finite: softplus(±100), sigmoid(±100).
        expectClose(try forward([2], [-100, 100]) { softplus($0) }, [0, 100], Tolerance(atol: 1e-30, rtol: 1e-6))
        expectClose(try forward([2], [-100, 100]) { sigmoid($0) }, [3.7200760e-44, 1], Tolerance(atol: 1e-40, rtol: 1e-6))
    }

    @Test func binaryForwardBroadcastsAndMatchesHandValues() throws {
        let a = CheckInput("a", [2, 3], [1, 2, 3, 4, 5, 6])
        let b = CheckInput("b", [3], [2, 0.5, -1])
        expectClose(try forward([a, b]) { $0[0] + $0[1] }, [3, 2.5, 2, 6, 5.5, 5], .exact)
        expectClose(try forward([a, b]) { $0[0] - $0[1] }, [-1, 1.5, 4, 2, 4.5, 7], .exact)
        expectClose(try forward([a, b]) { $0[0] * $0[1] }, [2, 1, -3, 8, 2.5, -6], .exact)
        expectClose(try forward([a, b]) { $0[0] / $0[1] }, [0.5, 4, -3, 2, 10, -6], .exact)
        expectClose(try forward([a, b]) { pow($0[0], $0[1]) }, [1, 1.41421356, 0.33333333, 16, 2.23606798, 0.16666667])
        expectClose(try forward([a, b]) { maximum($0[0], $0[1]) }, [2, 2, 3, 4, 5, 6], .exact)
        expectClose(try forward([a, b]) { minimum($0[0], $0[1]) }, [1, 0.5, -1, 2, 0.5, -1], .exact)
        // A column [2, 1] broadcast against a row [3]: [2, 3].
        let column = CheckInput("c", [2, 1], [10, 20])
        expectClose(try forward([column, b]) { $0[0] * $0[1] }, [20, 5, -10, 40, 10, -20], .exact)
        expectClose(try forward([2, 3], a.values) { 1 - $0 * 2 }, [-1, -3, -5, -7, -9, -11], .exact)
    }

    @Test func comparisonsAndSelect() throws {
        let a = CheckInput("a", [4], [1, 2, 3, 4])
        let b = CheckInput("b", [4], [2, 2, 2, 2])
        expectClose(try forward([a, b]) { equal($0[0], $0[1]) }, [0, 1, 0, 0], .exact)
        expectClose(try forward([a, b]) { notEqual($0[0], $0[1]) }, [1, 0, 1, 1], .exact)
        expectClose(try forward([a, b]) { less($0[0], $0[1]) }, [1, 0, 0, 0], .exact)
        expectClose(try forward([a, b]) { lessEqual($0[0], $0[1]) }, [1, 1, 0, 0], .exact)
        expectClose(try forward([a, b]) { greater($0[0], $0[1]) }, [0, 0, 1, 1], .exact)
        expectClose(try forward([a, b]) { greaterEqual($0[0], $0[1]) }, [0, 1, 1, 1], .exact)
        expectClose(try forward([a, b]) { select(greater($0[0], $0[1]), $0[0], $0[1] * 10) }, [20, 20, 3, 4], .exact)
    }

    @Test func unaryGradientsMatchFiniteDifferences() throws {
        for (i, shape) in OddShapes.vectors.enumerated() {
            let n = shape.count
            let any = CheckInput("x", shape, randomValues(n, seed: seed(UInt64(i))))
            let kinked = CheckInput("x", shape, valuesAwayFromZero(n, seed: seed(UInt64(i) + 10)))
            let positive = CheckInput("x", shape, randomValues(n, in: 0.5...2, seed: seed(UInt64(i) + 20)))
            try expectGradients([any]) { -$0[0] }
            try expectGradients([any]) { exp($0[0]) }
            try expectGradients([positive]) { log($0[0]) }
            try expectGradients([positive]) { sqrt($0[0]) }
            try expectGradients([positive]) { rsqrt($0[0]) }
            try expectGradients([any]) { square($0[0]) }
            try expectGradients([kinked]) { abs($0[0]) }
            // Keep values ≥ 0.08 away from the bounds ±0.5.
            let aroundBounds = CheckInput("x", shape, kinked.values.map { $0 > 0.5 ? $0 + 0.1 : $0 < -0.5 ? $0 - 0.1 : $0 * 0.8 })
            try expectGradients([aroundBounds]) { clamp($0[0], min: -0.5, max: 0.5) }
            try expectGradients([kinked]) { relu($0[0]) }
            try expectGradients([kinked]) { leakyReLU($0[0], slope: 0.2) }
            try expectGradients([any]) { tanh($0[0] * 2) }
            try expectGradients([any]) { sigmoid($0[0] * 3) }
            try expectGradients([any]) { softplus($0[0] * 4) }
        }
    }

    @Test func binaryGradientsMatchFiniteDifferences() throws {
        for (i, shape) in (OddShapes.matrices + [[3, 4, 5]]).enumerated() {
            let n = shape.count
            let a = CheckInput("a", shape, randomValues(n, seed: seed(UInt64(i) + 30)))
            let b = CheckInput("b", shape, randomValues(n, in: 0.5...2, seed: seed(UInt64(i) + 40)))
            // Differences of at least 0.1 keep maximum/minimum away from ties.
            let gap = valuesAwayFromZero(n, seed: seed(UInt64(i) + 50))
            let c = CheckInput("b", shape, zip(a.values, gap).map { $0 + $1 })
            let positive = CheckInput("a", shape, randomValues(n, in: 0.5...2, seed: seed(UInt64(i) + 60)))
            try expectGradients([a, b]) { $0[0] + $0[1] }
            try expectGradients([a, b]) { $0[0] - $0[1] }
            try expectGradients([a, b]) { $0[0] * $0[1] }
            try expectGradients([a, b]) { $0[0] / $0[1] }
            try expectGradients([positive, a.renamed("b")]) { pow($0[0], $0[1]) }
            try expectGradients([a, c]) { maximum($0[0], $0[1]) }
            try expectGradients([a, c]) { minimum($0[0], $0[1]) }
            try expectGradients([a, c]) { select(greater($0[0], $0[1]), $0[0] * 2, $0[1] * $0[1]) }
        }
    }

    @Test func broadcastGradientsAreReducedToInputShapes() throws {
        let a = CheckInput("a", [3, 1, 5], randomValues(15, seed: seed(70)))
        let b = CheckInput("b", [4, 1], randomValues(4, seed: seed(71)))
        try expectGradients([a, b]) { $0[0] * $0[1] + $0[1] }
    }

    @Test func maximumTiesShareTheGradient() throws {
        let graph = Graph()
        let a = graph.placeholder("a", [2]), b = graph.placeholder("b", [2])
        let grads = gradients(of: maximum(a, b).sum(), wrt: [a, b])
        let values = try evaluate(grads, feeds: ["a": [1, 5], "b": [1, 2]])
        expectClose(values[0], [0.5, 1], .exact)
        expectClose(values[1], [0.5, 0], .exact)
    }
}

extension CheckInput {
    func renamed(_ name: String) -> CheckInput { CheckInput(name, shape, values) }
}

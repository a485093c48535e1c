import CPUReference
import Foundation
import TensorGraph
import TestSupport
import Testing

@Suite struct LossTests {
    @Test func lossesMatchHandValues() throws {
        let p = CheckInput("p", [2], [0.8, 0.3]), t = CheckInput("t", [2], [1, 0])
        expectClose(try forward([p, t]) { binaryCrossEntropy($0[0], $0[1]) }, [(-log(0.8 as Float) - log(0.7 as Float)) / 2])
        // log(0) is clamped to −100, as in PyTorch.
        expectClose(try forward([CheckInput("p", [1], [0]), CheckInput("t", [1], [1])]) { binaryCrossEntropy($0[0], $0[1]) }, [100])
        let logits = CheckInput("x", [3], [0, 2, -3]), targets = CheckInput("t", [3], [1, 0, 1])
        expectClose(
            try forward([logits, targets]) { binaryCrossEntropyWithLogits($0[0], $0[1]) }, [(0.693147181 + 2.126928011 + 3.048587351) / 3])
        expectClose(
            try forward([CheckInput("x", [2], [100, -100]), CheckInput("t", [2], [0, 1])]) { binaryCrossEntropyWithLogits($0[0], $0[1]) },
            [100])
        let a = CheckInput("a", [3], [1, 2, 3]), b = CheckInput("b", [3], [2, 2, 5])
        expectClose(try forward([a, b]) { meanSquaredError($0[0], $0[1]) }, [5.0 / 3])
        expectClose(try forward([a, b]) { l1Loss($0[0], $0[1]) }, [1])
        let scores = CheckInput("x", [2, 3], [1, 2, 3, 1000, 0, 0]), labels = CheckInput("l", [2], [2, 1])
        expectClose(try forward([scores, labels]) { softmaxCrossEntropy($0[0], labels: $0[1]) }, [(0.407605964 + 1000) / 2])
        expectClose(try forward([CheckInput("x", [1, 3], [1, 2, 3])]) { softmax($0[0]) }, [0.090030573, 0.244728471, 0.665240956])
        let mu = CheckInput("m", [1, 2], [0, 1]), logVar = CheckInput("v", [1, 2], [0, log(2 as Float)])
        expectClose(
            try forward([mu, logVar]) { klDivergenceToStandardNormal(mean: $0[0], logVariance: $0[1]) }, [-0.5 * (log(2 as Float) - 2)])
    }

    @Test func lossGradientsMatchFiniteDifferences() throws {
        let n = 13
        let p = CheckInput("p", [n], randomValues(n, in: 0.1...0.9, seed: seed(800)))
        let t = CheckInput("t", [n], randomValues(n, in: 0...1, seed: seed(801)))
        let x = CheckInput("x", [n], randomValues(n, in: -4...4, seed: seed(802)))
        let y = CheckInput("y", [n], valuesAwayFromZero(n, seed: seed(803)))
        try expectGradients([p, t]) { binaryCrossEntropy($0[0], $0[1]) }
        try expectGradients([x, t]) { binaryCrossEntropyWithLogits($0[0], $0[1]) }
        try expectGradients([x, t.renamed("y")]) { meanSquaredError($0[0], $0[1]) }
        try expectGradients([y, CheckInput("z", [n], [Float](repeating: 0, count: n))]) { l1Loss($0[0], $0[1]) }
        let logits = CheckInput("x", [5, 7], randomValues(35, in: -3...3, seed: seed(804)))
        let labels = CheckInput("l", [5], [0, 6, 3, 3, 1], constant: true)
        try expectGradients([logits, labels]) { softmaxCrossEntropy($0[0], labels: $0[1]) }
        let mu = CheckInput("m", [3, 4], randomValues(12, seed: seed(805)))
        let logVar = CheckInput("v", [3, 4], randomValues(12, seed: seed(806)))
        try expectGradients([mu, logVar]) { klDivergenceToStandardNormal(mean: $0[0], logVariance: $0[1]) }
    }

    @Test func badLabelIsAClearError() throws {
        #expect {
            try forward([CheckInput("x", [1, 3], [1, 2, 3]), CheckInput("l", [1], [3])]) { softmaxCrossEntropy($0[0], labels: $0[1]) }
        } throws: { "\($0)".contains("label 3.0 in row 0 is not a class index in 0..<3") }
    }
}

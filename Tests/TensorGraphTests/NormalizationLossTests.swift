import CPUReference
import Foundation
import TensorGraph
import TestSupport
import Testing

@Suite struct NormalizationTests {
    @Test func batchNormTrainingAndInference() throws {
        let graph = Graph()
        let x = graph.placeholder("x", [2, 1, 1, 2])
        let mean = Parameter("running_mean", shape: [1], fill: 0)
        let variance = Parameter("running_var", shape: [1], fill: 1)
        let train = batchNorm(
            x, scale: graph.constant([2], [1]), offset: graph.constant([1], [1]), runningMean: graph.variable(mean), runningVariance: graph.variable(variance),
            training: true)
        let session = Session(backend: CPUBackend())
        let updates = [Assignment(mean, train.runningMean), Assignment(variance, train.runningVariance)]
        let out = try session.plan(fetches: [train.output], updates: updates).run(["x": [1, 2, 3, 4]])[0]
        let s = 1 / (1.25 + 1e-5 as Float).squareRoot()
        expectClose(out, [-1.5 * s * 2 + 1, -0.5 * s * 2 + 1, 0.5 * s * 2 + 1, 1.5 * s * 2 + 1])
        try session.download([mean, variance])
        // Momentum 0.1; the running variance is unbiased: 1.25 · 4/3.
        expectClose(mean.value, [0.25])
        expectClose(variance.value, [0.9 + 0.1 * 1.25 * 4 / 3])

        let infer = batchNorm(x, scale: nil, offset: nil, runningMean: graph.variable(mean), runningVariance: graph.variable(variance), training: false)
        let y = try session.plan(fetches: [infer.output]).run(["x": [1, 2, 3, 4]])[0]
        expectClose(y, [1, 2, 3, 4].map { ($0 - 0.25) / (variance.value[0] + 1e-5).squareRoot() })
        #expect(infer.runningMean.id == graph.variable(mean).id)
    }

    @Test func batchNormAndLayerNormGradients() throws {
        let x = CheckInput("x", [3, 2, 3, 5], randomValues(90, seed: seed(700)))
        let scale = CheckInput("scale", [2], randomValues(2, in: 0.5...1.5, seed: seed(701)))
        let offset = CheckInput("offset", [2], randomValues(2, seed: seed(702)))
        try expectGradients([x, scale, offset]) {
            let g = $0[0].graph
            return batchNorm($0[0], scale: $0[1], offset: $0[2], runningMean: g.zeros([2]), runningVariance: g.ones([2]), training: true).output
        }
        let lnScale = CheckInput("scale", [2, 3, 5], randomValues(30, in: 0.5...1.5, seed: seed(703)))
        let lnOffset = CheckInput("offset", [2, 3, 5], randomValues(30, seed: seed(704)))
        try expectGradients([x, lnScale, lnOffset]) { layerNorm($0[0], scale: $0[1], offset: $0[2]) }
    }

    @Test func layerNormNormalizesEachSample() throws {
        let out = try forward([2, 1, 1, 2], [1, 3, 10, 30]) { layerNorm($0, scale: nil, offset: nil) }
        let a = 1 / (1 + 1e-5 as Float).squareRoot(), b = 10 / (100 + 1e-5 as Float).squareRoot()
        expectClose(out, [-a, a, -b, b])
    }
}

@Suite struct LossTests {
    @Test func lossesMatchHandValues() throws {
        let p = CheckInput("p", [2], [0.8, 0.3]), t = CheckInput("t", [2], [1, 0])
        expectClose(try forward([p, t]) { binaryCrossEntropy($0[0], $0[1]) }, [(-log(0.8 as Float) - log(0.7 as Float)) / 2])
        // log(0) is clamped to −100, as in PyTorch.
        expectClose(try forward([CheckInput("p", [1], [0]), CheckInput("t", [1], [1])]) { binaryCrossEntropy($0[0], $0[1]) }, [100])
        let logits = CheckInput("x", [3], [0, 2, -3]), targets = CheckInput("t", [3], [1, 0, 1])
        expectClose(try forward([logits, targets]) { binaryCrossEntropyWithLogits($0[0], $0[1]) }, [(0.693147181 + 2.126928011 + 3.048587351) / 3])
        expectClose(try forward([CheckInput("x", [2], [100, -100]), CheckInput("t", [2], [0, 1])]) { binaryCrossEntropyWithLogits($0[0], $0[1]) }, [100])
        let a = CheckInput("a", [3], [1, 2, 3]), b = CheckInput("b", [3], [2, 2, 5])
        expectClose(try forward([a, b]) { meanSquaredError($0[0], $0[1]) }, [5.0 / 3])
        expectClose(try forward([a, b]) { l1Loss($0[0], $0[1]) }, [1])
        let scores = CheckInput("x", [2, 3], [1, 2, 3, 1000, 0, 0]), labels = CheckInput("l", [2], [2, 1])
        expectClose(try forward([scores, labels]) { softmaxCrossEntropy($0[0], labels: $0[1]) }, [(0.407605964 + 1000) / 2])
        expectClose(try forward([CheckInput("x", [1, 3], [1, 2, 3])]) { softmax($0[0]) }, [0.090030573, 0.244728471, 0.665240956])
        let mu = CheckInput("m", [1, 2], [0, 1]), logVar = CheckInput("v", [1, 2], [0, log(2 as Float)])
        expectClose(try forward([mu, logVar]) { klDivergenceToStandardNormal(mean: $0[0], logVariance: $0[1]) }, [-0.5 * (log(2 as Float) - 2)])
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

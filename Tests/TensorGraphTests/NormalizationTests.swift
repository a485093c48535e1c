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
            x, scale: graph.constant([2], [1]), offset: graph.constant([1], [1]), runningMean: graph.variable(mean),
            runningVariance: graph.variable(variance),
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

        let infer = batchNorm(
            x, scale: nil, offset: nil, runningMean: graph.variable(mean), runningVariance: graph.variable(variance), training: false)
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
            return batchNorm($0[0], scale: $0[1], offset: $0[2], runningMean: g.zeros([2]), runningVariance: g.ones([2]), training: true)
                .output
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

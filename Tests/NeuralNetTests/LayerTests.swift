import CPUReference
import NeuralNet
import TensorGraph
import TestSupport
import Testing

@Suite struct LayerTests {
    @Test func stateDictNamesFollowPyTorch() {
        var rng = SplitMix64(seed: 1)
        // The first blocks of pytorch/examples' DCGAN discriminator.
        let main = Sequential([
            Conv2D(3, 8, kernel: 4, stride: 2, padding: 1, bias: false, rng: &rng), Activation.leakyReLU(0.2),
            Conv2D(8, 16, kernel: 4, stride: 2, padding: 1, bias: false, rng: &rng), BatchNorm(16), Activation.leakyReLU(0.2),
        ])
        let names = main.stateDict(prefix: "main").map(\.name)
        #expect(
            names == [
                "main.0.weight", "main.2.weight", "main.3.weight", "main.3.bias",
                "main.3.running_mean", "main.3.running_var", "main.3.num_batches_tracked",
            ])
        #expect(main.stateDict().map(\.parameter.shape) == [[8, 3, 4, 4], [16, 8, 4, 4], [16], [16], [16], [16], []])
        #expect(main.parameters.count == 4)
    }

    @Test func layersComputeWhatTheyShould() throws {
        var rng = SplitMix64(seed: 2)
        let linear = Linear(3, 2, rng: &rng)
        linear.weight.value = [1, 2, 3, 4, 5, 6]
        linear.bias!.value = [0.5, -0.5]
        let embedding = Embedding(3, 2, rng: &rng)
        embedding.weight.value = [1, 2, 3, 4, 5, 6]
        let g = Graph()
        let eval = ForwardContext(training: false)
        let y = linear(g.constant([1, 0, -1, 2, 1, 0], [2, 3]), eval)
        let rows = embedding(g.constant([2, 0], [2]), eval)
        let kept = Dropout(0.5)(g.constant([1, 2, 3], [3]), eval)
        let up = Upsample(factor: 2)(g.constant([1, 2, 3, 4], [1, 1, 2, 2]), eval)
        let values = try Session(backend: CPUBackend()).plan(fetches: [y, rows, kept, up]).run()
        #expect(values[0] == [-1.5, -2.5, 4.5, 12.5])  // x·Wᵀ + b
        #expect(values[1] == [5, 6, 1, 2])
        #expect(values[2] == [1, 2, 3])
        #expect(values[3] == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
    }

    @Test func batchNormTracksBatchesInTraining() throws {
        let bn = BatchNorm(2)
        let g = Graph()
        let context = ForwardContext(training: true)
        let y = bn(g.constant((0..<8).map(Float.init), [2, 2, 1, 2]), context)
        // A second forward pass in the same step chains its update on the first, as in PyTorch.
        let y2 = bn(g.constant((0..<8).map { Float($0) + 10 }, [2, 2, 1, 2]), context)
        #expect(context.updates.count == 3)
        let session = Session(backend: CPUBackend())
        let plan = try session.plan(fetches: [y, y2], updates: context.updates)
        try plan.run()
        try plan.run()
        try session.download([bn.batchesTracked, bn.runningMean])
        #expect(bn.batchesTracked.value == [4])
        // Channel 0 sees means 2.5 then 12.5, twice: r ← 0.9r + 0.1·mean, four times from 0.
        let expected = [2.5, 12.5, 2.5, 12.5].reduce(0.0) { 0.9 * $0 + 0.1 * $1 }
        #expect(Swift.abs(Double(bn.runningMean.value[0]) - expected) < 1e-5)
    }

    @Test func initializersHaveTheirStatistics() {
        var rng = SplitMix64(seed: 3)
        let n = 100_000
        func std(_ v: [Float]) -> Float {
            let mean = v.reduce(0, +) / Float(v.count)
            return (v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(v.count)).squareRoot()
        }
        let he = Initializer.heNormal.values([n], fanIn: 50, fanOut: 1, &rng)
        #expect(Swift.abs(std(he) - (2.0 / 50).squareRoot()) < 0.003)
        let xavier = Initializer.xavierUniform().values([n], fanIn: 20, fanOut: 30, &rng)
        #expect(xavier.allSatisfy { Swift.abs($0) <= (6.0 / 50).squareRoot() })
        let truncated = Initializer.truncatedNormal(std: 0.02).values([n], fanIn: 1, fanOut: 1, &rng)
        #expect(truncated.allSatisfy { Swift.abs($0) <= 0.04 })
        let dcgan = Initializer.normal(std: 0.02).values([n], fanIn: 1, fanOut: 1, &rng)
        #expect(Swift.abs(std(dcgan) - 0.02) < 0.0005)
        let p = Parameter("w", shape: [8, 4, 3, 3])
        initialize(p, .pytorchDefault, rng: &rng)
        #expect(p.value.allSatisfy { Swift.abs($0) <= 1 / Float(36).squareRoot() } && Set(p.value).count > 200)
    }
}

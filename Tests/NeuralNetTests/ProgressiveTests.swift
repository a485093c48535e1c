import CPUReference
import NeuralNet
import TensorGraph
import TestSupport
import Testing

/// The progressive GAN's layers (issue 21): the equalized learning rate against its closed
/// form, pixel norm and minibatch stddev against hand-computed cases, their gradients
/// against finite differences, and the OpenCL device against the CPU reference.
@Suite struct ProgressiveLayerTests {
    @Test func equalizedLayersScaleUnitWeightsByHesConstant() throws {
        var rng = SplitMix64(seed: 3)
        let conv = EqualizedConv2D(8, 16, kernel: 3, rng: &rng)
        #expect(conv.scale == Float(2).squareRoot() / Float(8 * 9).squareRoot())
        let values = conv.weight.value
        let mean = values.reduce(0, +) / Float(values.count)
        let std = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(values.count)).squareRoot()
        #expect(abs(mean) < 0.1 && abs(std - 1) < 0.1, "weights N(0, 1): mean \(mean), std \(std)")
        #expect(conv.bias!.value.allSatisfy { $0 == 0 })
        #expect(
            EqualizedLinear(512, 8192, gain: Float(2).squareRoot() / 4, rng: &rng).scale == Float(2).squareRoot() / 4
                / Float(512).squareRoot())

        // The output is a plain convolution with the scaled weights.
        let graph = Graph()
        let x = graph.placeholder("x", [2, 8, 5, 5])
        let reference = Conv2D(8, 16, kernel: 3, padding: 1, rng: &rng)
        reference.weight.value = conv.weight.value.map { $0 * conv.scale }
        reference.bias!.value = randomValues(16, seed: 4)
        conv.bias!.value = reference.bias!.value
        let feeds = ["x": randomValues(2 * 8 * 25, seed: 5)]
        let context = ForwardContext(training: true)
        let got = try evaluate([conv(x, context), reference(x, context)], feeds: feeds)
        if let problem = mismatch(got[0], got[1], Tolerance(atol: 1e-5, rtol: 1e-5), "equalized conv") { Issue.record("\(problem)") }
    }

    @Test func pixelNormAndMinibatchStddevByHand() throws {
        let graph = Graph()
        // One pixel of two channels (3, 4) and one of (0, 2): divided by √12.5 and √2.
        let x = graph.constant([3, 0, 4, 2], [1, 2, 1, 2])
        let normalized = try evaluate([pixelNorm(x)])[0]
        let want: [Float] = [3 / Float(12.5).squareRoot(), 0, 4 / Float(12.5).squareRoot(), 2 / Float(2).squareRoot()]
        #expect(mismatch(normalized, want, Tolerance(atol: 1e-6, rtol: 1e-6), "pixel norm") == nil)
        // Four examples of one value each, 1, 2, 3, 5: in groups of 2, example n is in group n mod 2,
        // {1, 3} (std 1) and {2, 5} (std 1.5); in one group of 4, the population std of all four.
        let batch = graph.constant([1, 2, 3, 5], [4, 1, 1, 1])
        let pairs = try evaluate([minibatchStddev(batch, groupSize: 2)])[0]
        // [N, C+1, 1, 1] laid out example by example: (1, σ₀), (2, σ₁), (3, σ₀), (5, σ₁).
        #expect(mismatch(pairs, [1, 1, 2, 1.5, 3, 1, 5, 1.5], Tolerance(atol: 1e-4, rtol: 1e-4), "groups of 2") == nil, "\(pairs)")
        let whole = try evaluate([minibatchStddev(batch, groupSize: 4)])[0]
        let sigma = Float((([1, 2, 3, 5] as [Float]).map { ($0 - 2.75) * ($0 - 2.75) }.reduce(0, +) / 4)).squareRoot()
        #expect(
            mismatch(whole, [1, sigma, 2, sigma, 3, sigma, 5, sigma], Tolerance(atol: 1e-4, rtol: 1e-4), "one group") == nil, "\(whole)")
    }

    /// PReLU (SRResNet's activation, issue 24): a slope per channel on the negative side.
    @Test func preluByHandAndItsGradients() throws {
        let prelu = PReLU(2)
        prelu.weight.value = [0.25, 0.5]
        let graph = Graph()
        let x = graph.constant([-4, 2, -2, 6], [1, 2, 1, 2])
        #expect(try evaluate([prelu(x, ForwardContext(training: true))])[0] == [-1, 2, -1, 6])
        #expect(prelu.stateDict(prefix: "act").map(\.name) == ["act.weight"])
        let input = CheckInput("x", [3, 2, 2, 2], valuesAwayFromZero(24, seed: 8))
        let slope = CheckInput("a", [2], [0.1, 0.3])
        #expect(
            try gradientMismatch([input, slope]) {
                relu($0[0]) + minimum($0[0], 0) * $0[1].reshaped([1, 2, 1, 1]).expanded(to: $0[0].shape)
            } == nil)
    }

    @Test func gradientsMatchFiniteDifferences() throws {
        let x = CheckInput("x", [4, 3, 2, 2], randomValues(48, in: 0.5...2, seed: 6))
        #expect(try gradientMismatch([x]) { pixelNorm($0[0]) } == nil)
        #expect(try gradientMismatch([x]) { minibatchStddev($0[0], groupSize: 2) } == nil)
        #expect(try gradientMismatch([x]) { minibatchStddev($0[0], groupSize: 4) } == nil)
    }

    @Test(.enabled(if: openCLTestsEnabled, "no OpenCL device")) func theDeviceMatchesTheReference() throws {
        let graph = Graph()
        let x = graph.placeholder("x", [8, 5, 3, 7])
        let fetches = [pixelNorm(x), minibatchStddev(x, groupSize: 4), gradients(of: minibatchStddev(pixelNorm(x)).sum(), wrt: [x])[0]]
        let message = try backendMismatch(
            fetches, feeds: ["x": randomValues(8 * 5 * 21, seed: 7)], tolerance: Tolerance(atol: 1e-5, rtol: 1e-4), context: "progressive")
        #expect(message == nil, Comment(rawValue: message ?? ""))
    }
}

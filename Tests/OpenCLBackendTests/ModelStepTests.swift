import CPUReference
import OpenCLBackend
import TensorGraph
import TestSupport
import Testing

/// Whole training steps on OpenCL against the CPU reference: the DCGAN 64×64
/// step of pytorch/examples (forward, BCE losses, every gradient, BatchNorm
/// running statistics) and a WGAN-GP critic step with its second-order penalty.
@Suite(.enabled(if: openCLTestsEnabled, "no OpenCL device"))
struct OpenCLModelStepTests {
    /// Parameters with DCGAN's N(0, 0.02) conv init and N(1, 0.02) BatchNorm scale.
    final class Weights {
        var rng = SeededGenerator(seed: seed(500))
        var all: [Parameter] = []
        func make(_ name: String, _ shape: Shape, mean: Float = 0, std: Float = 0.02) -> Parameter {
            let p = Parameter(name, shape: shape, value: (0..<shape.count).map { _ in mean + std * rng.normal() })
            all.append(p)
            return p
        }
    }

    /// conv / convTranspose → BatchNorm (training) → activation, collecting running-statistics updates.
    static func bnBlock(_ x: Tensor, _ w: Weights, _ name: String, _ channels: Int, _ updates: inout [Assignment]) -> Tensor {
        let g = x.graph
        let mean = Parameter("\(name).running_mean", shape: [channels]),
            variance = Parameter("\(name).running_var", shape: [channels], fill: 1)
        let bn = batchNorm(
            x, scale: g.variable(w.make("\(name).weight", [channels], mean: 1)),
            offset: g.variable(w.make("\(name).bias", [channels], std: 0)),
            runningMean: g.variable(mean), runningVariance: g.variable(variance), training: true)
        updates += [Assignment(mean, bn.runningMean), Assignment(variance, bn.runningVariance)]
        return bn.output
    }

    /// Each algorithm for every convolution, compared at the step's end; and the tuner's
    /// choices (nil: the path users get), checked op by op. The tuned mix varies from machine
    /// to machine and so does its rounding: one mix put a BatchNorm input within rounding of
    /// its mean, where the next LeakyReLU's slope is 1 on one side and 0.2 on the other, and
    /// the discriminator's weight gradients came out 0.005–0.025 from the reference with
    /// every op right. Op by op (TestSupport's OpCheckedBackend) no rounding carries over.
    @Test(arguments: [nil, .gemm, .batchedGEMM, .implicitGEMM, .batchImplicitGEMM] as [ConvolutionAlgorithm?])
    func dcgan64TrainingStepMatchesTheReference(_ algorithm: ConvolutionAlgorithm?) throws {
        let (batch, nz, ngf, ndf, nc) = (2, 100, 64, 64, 3)
        let graph = Graph()
        let w = Weights()
        var updates: [Assignment] = []
        let s2 = Size2(2), p1 = Size2(1)
        // Generator: z [N, nz, 1, 1] → [N, 3, 64, 64].
        let gw = [
            w.make("G.0", [nz, ngf * 8, 4, 4]), w.make("G.3", [ngf * 8, ngf * 4, 4, 4]), w.make("G.6", [ngf * 4, ngf * 2, 4, 4]),
            w.make("G.9", [ngf * 2, ngf, 4, 4]), w.make("G.12", [ngf, nc, 4, 4]),
        ]
        let gParams = w.all
        var h = graph.randomNormal([batch, nz, 1, 1], seed: 7)
        h = relu(Self.bnBlock(convTranspose2d(h, graph.variable(gw[0])), w, "G.1", ngf * 8, &updates))
        for (i, channels) in [ngf * 4, ngf * 2, ngf].enumerated() {
            h = relu(
                Self.bnBlock(
                    convTranspose2d(h, graph.variable(gw[i + 1]), stride: s2, padding: p1), w, "G.\(3 * i + 4)", channels, &updates))
        }
        let fake = tanh(convTranspose2d(h, graph.variable(gw[4]), stride: s2, padding: p1))
        let gAll = w.all
        // Discriminator: [N, 3, 64, 64] → [N] probabilities.
        let dw = [
            w.make("D.0", [ndf, nc, 4, 4]), w.make("D.2", [ndf * 2, ndf, 4, 4]), w.make("D.5", [ndf * 4, ndf * 2, 4, 4]),
            w.make("D.8", [ndf * 8, ndf * 4, 4, 4]), w.make("D.11", [1, ndf * 8, 4, 4]),
        ]
        var dUpdates: [Assignment] = []
        func discriminator(_ x: Tensor) -> Tensor {
            var h = leakyReLU(conv2d(x, graph.variable(dw[0]), stride: s2, padding: p1), slope: 0.2)
            for (i, channels) in [ndf * 2, ndf * 4, ndf * 8].enumerated() {
                h = leakyReLU(
                    Self.bnBlock(conv2d(h, graph.variable(dw[i + 1]), stride: s2, padding: p1), w, "D.\(3 * i + 3)", channels, &dUpdates),
                    slope: 0.2)
            }
            return sigmoid(conv2d(h, graph.variable(dw[4]))).reshaped([-1])
        }
        let real = graph.placeholder("real", [batch, nc, 64, 64])
        let ones = graph.ones([batch]), zeros = graph.zeros([batch])
        let dParamsBefore = w.all.count
        let dReal = discriminator(real)
        let dParams = Array(w.all[gAll.count..<dParamsBefore]) + Array(w.all[dParamsBefore...])
        let errD = binaryCrossEntropy(dReal, ones) + binaryCrossEntropy(discriminator(stopGradient(fake)), zeros)
        let errG = binaryCrossEntropy(discriminator(fake), ones)
        let gradsD = gradients(of: errD, wrt: dParams.map { graph.variable($0) })
        let gradsG = gradients(of: errG, wrt: gParams.map { graph.variable($0) })
        let fetches = [errD, errG, fake] + gradsD + gradsG + (updates + dUpdates).map(\.value)
        let feeds = ["real": randomValues(batch * nc * 64 * 64, seed: seed(501))]
        let context = "DCGAN 64×64 step \(algorithm?.rawValue ?? "tuned")"
        let message =
            try algorithm == nil
            ? opByOpMismatch(fetches, feeds: feeds, tolerance: Tolerance(atol: 2e-5, rtol: 1e-4), context: context)
            : backendMismatch(
                fetches, feeds: feeds,
                // Gradients through four BatchNorms of a 2-image batch are sums of ~10⁵
                // terms with cancellation; 1e-3 relative (and 2e-5 absolute on tiny entries) covers float order effects.
                tolerance: Tolerance(atol: 2e-5, rtol: 1e-3), context: context, convolution: algorithm)
        #expect(message == nil, Comment(rawValue: message ?? ""))
    }

    @Test(arguments: ConvolutionAlgorithm.allCases)
    func wganGPCriticStepMatchesTheReference(_ algorithm: ConvolutionAlgorithm) throws {
        let (batch, channels) = (3, 3)
        let graph = Graph()
        let w = Weights()
        let weights = [
            w.make("C.0", [16, channels, 4, 4], std: 0.1), w.make("C.2", [32, 16, 4, 4], std: 0.1), w.make("C.4", [1, 32, 4, 4], std: 0.1),
        ]
        let biases = [w.make("C.0.bias", [16]), w.make("C.2.bias", [32]), w.make("C.4.bias", [1])]
        func critic(_ x: Tensor) -> Tensor {
            var h = leakyReLU(
                conv2d(x, graph.variable(weights[0]), bias: graph.variable(biases[0]), stride: Size2(2), padding: Size2(1)), slope: 0.2)
            h = leakyReLU(
                conv2d(h, graph.variable(weights[1]), bias: graph.variable(biases[1]), stride: Size2(2), padding: Size2(1)), slope: 0.2)
            return conv2d(h, graph.variable(weights[2]), bias: graph.variable(biases[2])).reshaped([-1])
        }
        let real = graph.placeholder("real", [batch, channels, 16, 16]), fake = graph.placeholder("fake", [batch, channels, 16, 16])
        let epsilon = graph.randomUniform([batch, 1, 1, 1], seed: 3)
        let mixed = real * epsilon + fake * (1 - epsilon)
        let gx = gradients(of: critic(mixed).sum(), wrt: [mixed])[0]
        let penalty = square(sqrt(square(gx).sum(axes: [1, 2, 3]) + 1e-12) - 1).mean() * 10
        let loss = critic(fake).mean() - critic(real).mean() + penalty
        let grads = gradients(of: loss, wrt: (weights + biases).map { graph.variable($0) })
        let message = try backendMismatch(
            [loss, penalty] + grads,
            feeds: [
                "real": randomValues(batch * channels * 256, seed: seed(502)),
                "fake": randomValues(batch * channels * 256, seed: seed(503)),
            ],
            tolerance: Tolerance(atol: 1e-5, rtol: 1e-3), context: "WGAN-GP critic step, \(algorithm.rawValue) convolutions",
            convolution: algorithm)
        #expect(message == nil, Comment(rawValue: message ?? ""))
    }
}

import CPUReference
import Datasets
import Foundation
import GenerativeModels
import NeuralNet
import TensorGraph
import TestSupport
import Testing
import Training

/// A pix2pix dataset: `train/` and `val/` of 64×32 A|B PNGs (A a bar, B the same bar brighter and wider).
func writePairedDataset(train: Int = 12, val: Int = 2) throws -> String {
    let dir = NSTemporaryDirectory() + "genocl-pairs-" + UUID().uuidString
    for (folder, count) in [("train", train), ("val", val)] {
        try FileManager.default.createDirectory(atPath: "\(dir)/\(folder)", withIntermediateDirectories: true)
        for i in 0..<count {
            var pixels = [UInt8](repeating: 20, count: 64 * 32 * 3)
            for y in 0..<32 {
                for x in 0..<64 where (x < 32 ? abs(x - 4 - 2 * i) < 2 : abs(x - 36 - 2 * i) < 4) && y > 4 {
                    for c in 0..<3 { pixels[(y * 64 + x) * 3 + c] = x < 32 ? 120 : UInt8(200 + c * 20) }
                }
            }
            try writePNG("\(dir)/\(folder)/\(i).png", width: 64, height: 32, channels: 3, pixels: pixels)
        }
    }
    return dir
}

/// Tiny options of `model` on the tiny data of its kind (pix2pix: paired 32×32 RGB).
func tinyModelOptions(_ model: ModelKind, data: String) -> TrainOptions {
    var o = tinyOptions(data, model: model)
    if model == .pix2pix { (o.imageSize, o.channels, o.generatorWidth, o.discriminatorWidth, o.batchSize) = (32, 3, 4, 4, 2) }
    // progan: one step a phase, so that four steps grow from 4×4 to 16×16.
    if model == .srresnet { (o.loadSize, o.superResolution!.scale, o.superResolution!.blocks) = (24, 2, 2) }
    if model == .progan { (o.growth!.kimgPerPhase, o.growth!.featureBase, o.growth!.featureMax) = (0.008, 32, 8) }
    (o.steps, o.sampleEvery, o.checkpointEvery, o.logEvery) = (4, 4, 2, 2)
    return o
}

@Suite struct ModelTests {
    @Test(arguments: ModelKind.allCases)
    func everyModelTrainsMovesItsLossesAndResumesExactly(_ model: ModelKind) throws {
        let data = model == .pix2pix ? try writePairedDataset() : try writeTinyDataset()
        let options = tinyModelOptions(model, data: data)
        let straight = try train(options, settings: plainSettings(data + "/straight"), backend: testBackend(), log: { _ in })
        #expect(straight.count == 4 && straight.allSatisfy { $0.values.allSatisfy(\.isFinite) })
        // Every metric moves (the losses, and what the model logs beside them).
        for name in straight[0].names { #expect(Set(straight.map { $0[name] }).count > 1, "\(model): \(name) does not move") }
        var outputs = [model == .classifier ? "checkpoints/step_000004/netC.safetensors" : "samples/step_000004.png"]
        outputs += ["checkpoints/latest", "metrics.csv", "loss.png"]
        if model.isVAE {
            outputs += [
                "reconstructions/step_000004.png", "checkpoints/step_000004/encoder.safetensors",
                "checkpoints/step_000004/decoder.safetensors",
            ]
        }
        if model.isAdversarial { outputs += ["checkpoints/step_000004/netG.safetensors", "checkpoints/step_000004/netD.safetensors"] }
        for file in outputs { #expect(FileManager.default.fileExists(atPath: data + "/straight/" + file), "\(model): \(file)") }

        // Two steps, then a resumed run to four: the same metrics bit for bit.
        var half = options
        half.steps = 2
        var settings = plainSettings(data + "/resumed")
        try train(half, settings: settings, backend: testBackend(), log: { _ in })
        settings.resume = true
        let rest = try train(options, settings: settings, backend: testBackend(), log: { _ in })
        #expect(rest.map(\.step) == [3, 4])
        #expect(rest.map(\.values) == straight.suffix(2).map(\.values), "\(model) after resume")
    }

    /// With one critic step the two GAN steps run as one plan, the generator's forward pass
    /// once: the metrics and every saved tensor equal those of two plans, bit for bit.
    @Test(arguments: [ModelKind.dcgan, .acgan, .pix2pix])
    func oneCombinedPlanEqualsTwoPlans(_ model: ModelKind) throws {
        let data = model == .pix2pix ? try writePairedDataset() : try writeTinyDataset()
        var options = tinyModelOptions(model, data: data)
        options.steps = 3
        let combined = try train(options, settings: plainSettings(data + "/combined"), backend: testBackend(), log: { _ in })
        options.combinesAdversarialSteps = false
        let separate = try train(options, settings: plainSettings(data + "/separate"), backend: testBackend(), log: { _ in })
        #expect(combined.map(\.values) == separate.map(\.values), "\(model)")
        for file in ["netG", "netD", "optimizer"] {
            let path = "/checkpoints/step_000002/\(file).safetensors"
            let (a, b) = (
                FileManager.default.contents(atPath: data + "/combined" + path),
                FileManager.default.contents(atPath: data + "/separate" + path)
            )
            #expect(a != nil && a == b, "\(model) \(file)")
        }
    }

    @Test func wganClipsTheCriticsWeights() throws {
        let data = try writeTinyDataset()
        var options = tinyOptions(data, model: .wgan)
        (options.steps, options.learningRateD) = (2, 5e-3)  // steps large enough to push every weight to the box
        try train(options, settings: plainSettings(data + "/run"), backend: testBackend(), log: { _ in })
        let (checkpoint, folder) = try Checkpoint.load(data + "/run")
        let critic = try checkpoint.file("netD", in: folder).tensors.filter {
            !$0.key.contains("running") && !$0.key.contains("num_batches")
        }
        var values: [Float] = []
        for case .float32(let v, _) in critic.values { values += v }
        #expect(!values.isEmpty && values.allSatisfy { Swift.abs($0) <= 0.01 })
        // The clipping is active: unclipped, no weight would land on ±0.01 exactly. How many sit
        // there depends on how many gradients round to nearly 0, which moves with the summation
        // order of the convolution algorithm: 663 of 2464 on the CPU reference, 687 to 1453 on
        // PoCL with each algorithm forced.
        #expect(values.filter { Swift.abs($0) == 0.01 }.count > values.count / 10)
    }

    @Test func wganGPPenaltyMatchesTheCPUReferenceAndFiniteDifferences() throws {
        let model = WGANGP(WGANGPConfig(imageSize: 16, channels: 1, latentSize: 4, generatorWidth: 2, criticWidth: 2), seed: 3)
        let graph = Graph()
        let real = graph.constant(randomValues(3 * 256, seed: testSeed), [3, 1, 16, 16])
        let fake = graph.constant(randomValues(3 * 256, seed: testSeed &+ 1), [3, 1, 16, 16])
        let penalty = gradientPenalty(real: real, fake: fake, alpha: graph.constant([0.2, 0.5, 0.9], [3])) {
            model.criticize($0, ForwardContext(training: true))
        }
        let parameters = model.critic.parameters
        let grads = gradients(of: penalty, wrt: parameters.map { graph.variable($0) })
        let device = try backendMismatch(
            [penalty] + grads, feeds: [:], tolerance: Tolerance(atol: 1e-5, rtol: 1e-3), context: "WGAN-GP penalty")
        #expect(device == nil, Comment(rawValue: device ?? ""))

        // Second order for real: central differences of the penalty in each critic weight.
        let session = Session(backend: CPUBackend())
        let plan = try session.plan(fetches: [penalty] + grads)
        let analytic = try plan.run()
        // Every weight matters (the last bias cannot: it does not change ∇ₓD).
        #expect(
            analytic[0][0] > 0
                && parameters.indices.allSatisfy { k in parameters[k].name == "bias" || analytic[k + 1].contains { Swift.abs($0) > 1e-4 } })
        var rng = SplitMix64(seed: testSeed)
        let step: Float = 1e-3
        for (k, p) in parameters.enumerated() {
            for _ in 0..<6 {
                let i = Int.random(in: 0..<p.value.count, using: &rng), original = p.value[i]
                func penaltyAt(_ value: Float) throws -> Double {
                    p.value[i] = value
                    try session.upload([p])
                    return Double(try plan.run()[0][0])
                }
                let numeric = (try penaltyAt(original + step) - penaltyAt(original - step)) / Double(2 * step)
                p.value[i] = original
                try session.upload([p])
                let want = Float(numeric), got = analytic[k + 1][i]
                #expect(
                    Swift.abs(got - want) <= 1e-4 + 2e-3 * Swift.abs(want),
                    "∂penalty/∂\(p.name)[\(i)]: autodiff \(got), differences \(want)")
            }
        }
    }

    @Test func klTermMatchesItsClosedForm() throws {
        let (n, nz) = (4, 6)
        let mean = randomValues(n * nz, seed: testSeed), logVariance = randomValues(n * nz, in: -2...1, seed: testSeed &+ 1)
        let graph = Graph()
        let kl = klDivergenceToStandardNormal(mean: graph.constant(mean, [n, nz]), logVariance: graph.constant(logVariance, [n, nz]))
        let got = try evaluate([kl], backend: testBackend())[0][0]
        // KL(N(μ, σ²) ‖ N(0, 1)) = ½(μ² + σ² − 1 − log σ²) per dimension, summed, averaged over the batch.
        let want =
            zip(mean, logVariance).reduce(0.0) { $0 + 0.5 * (Double($1.0 * $1.0) + exp(Double($1.1)) - 1 - Double($1.1)) } / Double(n)
        #expect(Swift.abs(Double(got) - want) < 1e-5 * want)
        // And zero for the prior itself.
        let zero = try evaluate(
            [klDivergenceToStandardNormal(mean: graph.zeros([n, nz]), logVariance: graph.zeros([n, nz]))], backend: testBackend())[0][0]
        #expect(zero == 0)
    }

    @Test func conditionalVAEShapes() {
        for architecture in [VAEArchitecture.convolutional, .dense] {
            let vae = VAE(VAEConfig(architecture: architecture, imageSize: 28, channels: 1, latentSize: 5, width: 2, classes: 3), seed: 1)
            let graph = Graph()
            let labels = graph.placeholder("labels", [4])
            let (mean, logVariance) = vae.encode(graph.placeholder("x", [4, 1, 28, 28]), labels: labels, ForwardContext(training: true))
            #expect(mean.shape == [4, 5] && logVariance.shape == [4, 5])
            #expect(vae.decode(mean, labels: labels, ForwardContext(training: true)).shape == [4, 1, 28, 28])
            #expect(graph.error == nil, "\(architecture): \(graph.error.map { "\($0)" } ?? "")")
        }
    }

    @Test func uNetSkipsLineUpAt256AndOddSizesAreRejected() throws {
        let model = try Pix2Pix(Pix2PixConfig(imageSize: 256, generatorWidth: 4, discriminatorWidth: 4), seed: 1)
        #expect(model.generator.down.count == 8 && model.generator.up.count == 8)
        // Decoder level L sees [encoder L, decoder L+1]: twice encoder L's channels (the innermost only its own).
        let widths = [4, 8, 16, 32, 32, 32, 32, 32]
        for level in 0..<8 {
            let convolution = model.generator.up[level].layers.compactMap { $0 as? ConvTranspose2D }[0]
            #expect(convolution.weight.shape[0] == (level == 7 ? 32 : 2 * widths[level]), "up.\(level)")
            #expect(convolution.weight.shape[1] == (level == 0 ? 3 : widths[level - 1]), "up.\(level)")
        }
        #expect(model.generator.up.map { $0.layers.contains { $0 is Dropout } } == [false, false, false, false, true, true, true, false])
        let graph = Graph()
        let input = graph.placeholder("a", [1, 3, 256, 256])
        let output = model.translate(input, ForwardContext(training: true))
        #expect(output.shape == [1, 3, 256, 256])
        #expect(model.discriminate(input: input, output: output, ForwardContext(training: true)).shape == [1, 1, 30, 30])
        #expect(graph.error == nil)

        for size in [100, 255, 16] {
            #expect { try Pix2Pix(Pix2PixConfig(imageSize: size), seed: 1) } throws: {
                "\($0)".contains("power of two of at least 32") && "\($0)".contains("got \(size)")
            }
        }
        let small = try Pix2Pix(Pix2PixConfig(imageSize: 64, generatorWidth: 2, discriminatorWidth: 2), seed: 1)
        let other = Graph()
        _ = small.translate(other.placeholder("a", [1, 3, 48, 48]), ForwardContext(training: true))
        #expect(other.error?.message.contains("does not fit the generator built for [N, 3, 64, 64]") == true)
    }

    @Test func acganClassHeadLearnsSeparableClasses() throws {
        // The tiny set's four classes are the four quadrants of its bright square.
        let data = try writeTinyDataset()
        var options = tinyOptions(data, model: .acgan)
        (options.steps, options.optimizer, options.learningRateD, options.learningRateG, options.logEvery) = (36, .adam, 2e-3, 2e-4, 36)
        let history = try train(options, settings: plainSettings(data + "/run"), backend: testBackend(), log: { _ in })
        let early = history.prefix(3).map { $0["class_accuracy"] }, late = history.suffix(6).map { $0["class_accuracy"] }
        #expect(late.reduce(0, +) / 6 >= 0.9, "class accuracy \(early) … \(late)")
        #expect(early.reduce(0, +) / 3 < 0.75)
        #expect(
            try String(contentsOfFile: data + "/run/metrics.csv", encoding: .utf8).hasPrefix(
                "step,epoch,loss_d,loss_g,d_x,d_g_z,class_accuracy,"))
    }
}

@Suite struct PairedDataTests {
    @Test func sideBySidePairsAndFoldersOfAAndB() throws {
        let dir = try writePairedDataset(train: 3, val: 1)
        let sets = try PairedSet.splits(dir, size: 16, channels: 3, reversed: false)
        #expect(sets.train.count == 3 && sets.heldOut?.count == 1)
        // A (left) is the dim bar, B (right) the bright one.
        #expect(sets.train.inputs.max()! < sets.train.targets.max()!)
        let reversed = try PairedSet.splits(dir, size: 16, channels: 3, reversed: true)
        #expect(reversed.train.inputs == sets.train.targets && reversed.train.targets == sets.train.inputs)

        // A/ and B/ with matching names (an unmatched file is ignored).
        let folders = dir + "/ab"
        for side in ["A", "B"] {
            try FileManager.default.createDirectory(atPath: folders + "/" + side, withIntermediateDirectories: true)
            for i in 0..<2 {
                try writePNG(
                    "\(folders)/\(side)/\(i).png", width: 8, height: 8, channels: 3,
                    pixels: [UInt8](repeating: side == "A" ? 0 : 255, count: 192))
            }
        }
        try writePNG(folders + "/A/extra.png", width: 8, height: 8, channels: 3, pixels: [UInt8](repeating: 9, count: 192))
        let ab = try PairedSet(folders, size: 8, channels: 3, reversed: false)
        #expect(ab.count == 2 && ab.inputs.allSatisfy { $0 == -1 } && ab.targets.allSatisfy { $0 == 1 })

        // A square image is not a pair.
        let square = dir + "/square"
        try FileManager.default.createDirectory(atPath: square, withIntermediateDirectories: true)
        try writePNG(square + "/x.png", width: 8, height: 8, channels: 3, pixels: [UInt8](repeating: 0, count: 192))
        #expect { try PairedSet(square, size: 8, channels: 3, reversed: false) } throws: {
            "\($0)".contains("not an A|B pair side by side")
        }
    }
}

/// WGAN's critic schedule (issue 24): 100 critic steps for the first 25 generator steps and
/// every 500th, `criticSteps` otherwise.
@Suite struct CriticScheduleTests {
    @Test func theCountsAreThePapers() {
        let s = CriticSchedule(batchSize: 64, criticSteps: 5, imageSize: 64)
        #expect((0..<25).allSatisfy { s.iterations(at: $0) == 100 })
        #expect([25, 26, 499, 501, 999].allSatisfy { s.iterations(at: $0) == 5 })
        #expect([500, 1000, 1500].allSatisfy { s.iterations(at: $0) == 100 })
        #expect(s.batchesBefore(25) == 2500 && s.batchesBefore(26) == 2505 && s.batchesBefore(501) == 2500 + 475 * 5 + 100)
        // Every generator step's critic batches follow the previous step's.
        let brute = (0..<1200).reduce(into: [0]) { sums, step in sums.append(sums.last! + s.iterations(at: step)) }
        #expect((0..<1200).allSatisfy { s.batchesBefore($0) == brute[$0] })
        #expect((0..<1199).allSatisfy { s.span(at: $0 + 1).start == s.span(at: $0).start + s.span(at: $0).count })
        // An epoch of 2500 batches is the 25 warm-up steps; one more batch is not a step.
        #expect(s.totalSteps(epochs: 1, examples: 64 * 2500) == 25 && s.totalSteps(epochs: 1, examples: 64 * 2504) == 25)
        #expect(s.totalSteps(epochs: 2, examples: 64 * 2505 / 2 + 32) == 26)
    }

    @Test func wganWarmsItsCriticUpByDefault() throws {
        let data = try writeTinyDataset()
        var options = tinyModelOptions(.wgan, data: data)
        #expect(options.criticWarmup == true)
        options.steps = 2
        let loaded = try loadExamples(data, for: "wgan", kind: .images, size: 16, channels: 1, holdOut: false, log: { _ in })
        let run = try TrainingRun(options, data: loaded.train, heldOut: nil, classes: 4, folder: data + "/run", backend: testBackend()) {
            _ in
        }
        _ = try run.trainStep()
        #expect(run.imagesShown(before: 1) == 100 * 8 && run.imagesShown(before: 2) == 200 * 8)
        // Without it, five critic batches a step.
        options.criticWarmup = false
        #expect(
            try TrainingRun(options, data: loaded.train, heldOut: nil, classes: 4, folder: data + "/off", backend: testBackend()) { _ in }
                .imagesShown(before: 2) == 2 * 5 * 8)
    }
}

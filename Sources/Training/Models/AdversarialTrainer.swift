// The GANs: dcgan, wgan, wgan-gp, acgan and pix2pix share one step structure —
// `criticSteps` discriminator updates on real batches and generated ones, then one
// generator update — and differ in networks, inputs and losses, chosen below.
// Each update is a compiled plan (with one critic step, both updates are one plan);
// the noise is drawn on the device from the plan's step counter, so a resumed run
// continues exactly. The generator's output `fake` is one graph node for both
// updates, so the generator's BatchNorm statistics move once per step, in the
// discriminator's update, as PyTorch's do.
import Datasets
import GenerativeModels
import NeuralNet
import TensorGraph

final class AdversarialTrainer: ModelTrainer {
    let networks: [(file: String, module: Module)]
    let optimizers: [any Optimizer]
    let metricNames: [String]
    let batchesPerStep: Int
    private let options: TrainOptions
    private let classes: Int
    /// The discriminator's and the generator's steps: one plan for both when the
    /// discriminator steps once per iteration (the generator's forward pass then runs
    /// once), else `criticSteps` runs of the first and one of the second.
    private let steps: (d: Plan, g: Plan)?, combined: Plan?
    /// Fetches of the discriminator's part of the combined plan (the generator's follow).
    private let discriminatorFetches: Int
    private let sampler: Plan
    /// How the sampler's output becomes a grid: images per row and, for pix2pix, the held-out pairs shown beside it.
    private let columns: Int
    private let triptychs: Examples?
    private var step = 0

    init(_ options: TrainOptions, classes: Int, heldOut: Examples?, session: Session) throws {
        self.options = options
        self.classes = classes
        let kind = options.model, seed = options.seed
        let (n, c, s, nz) = (options.batchSize, options.channels, options.imageSize, options.latentSize)
        let graph = Graph()

        // The networks: the generator from (noise, labels, condition), the discriminator
        // from (images, condition) to a score (probability, critic value or patch logits)
        // and, for ACGAN, class logits.
        typealias Generate = (_ noise: Tensor?, _ labels: Tensor?, _ condition: Tensor?, ForwardContext) -> Tensor
        typealias Discriminate = (_ images: Tensor, _ condition: Tensor?, ForwardContext) -> (score: Tensor, classLogits: Tensor?)
        let generate: Generate, discriminate: Discriminate
        let generatorParameters: [Parameter], discriminatorParameters: [Parameter]
        /// The latent batch shape for `count` examples (nil: no noise, pix2pix).
        let latentShape: (Int) -> Shape?
        let dcgan = options.dcganConfig
        switch kind {
        case .dcgan, .wgan:
            let m = DCGAN(dcgan, seed: seed, critic: kind == .wgan)
            networks = [("netG", Module([("main", m.generator)])), ("netD", Module([("main", m.discriminator)]))]
            generate = { z, _, _, context in m.generate(z!, context) }
            discriminate = { x, _, context in (m.discriminate(x, context), nil) }
            (generatorParameters, discriminatorParameters) = (m.generator.parameters, m.discriminator.parameters)
            latentShape = { [$0, nz, 1, 1] }
        case .wganGP:
            let m = WGANGP(options.wganGPConfig, seed: seed)
            networks = [("netG", Module([("main", m.generator)])), ("netD", Module([("main", m.critic)]))]
            generate = { z, _, _, context in m.generate(z!, context) }
            discriminate = { x, _, context in (m.criticize(x, context), nil) }
            (generatorParameters, discriminatorParameters) = (m.generator.parameters, m.critic.parameters)
            latentShape = { [$0, nz] }
        case .acgan:
            let m = ACGAN(dcgan, classes: classes, seed: seed)
            networks = [("netG", m.generatorModule), ("netD", m.discriminatorModule)]
            generate = { z, labels, _, context in m.generate(z!, labels: labels!, context) }
            discriminate = { x, _, context in
                let out = m.discriminate(x, context)
                return (out.real, out.classLogits)
            }
            (generatorParameters, discriminatorParameters) = (m.generatorModule.parameters, m.discriminatorModule.parameters)
            latentShape = { [$0, nz] }
        case .pix2pix:
            let m = try Pix2Pix(options.pix2pixConfig, seed: seed)
            networks = [("netG", Module([("main", m.generator)])), ("netD", Module([("main", m.discriminator)]))]
            generate = { _, _, condition, context in m.translate(condition!, context) }
            discriminate = { x, condition, context in (m.discriminate(input: condition!, output: x, context), nil) }
            (generatorParameters, discriminatorParameters) = (m.generator.parameters, m.discriminator.parameters)
            latentShape = { _ in nil }
        case .vae, .vaeDense, .cvae:
            throw PlanError("\(kind.rawValue) is not an adversarial model")
        }
        if options.clip > 0 {
            // WGAN keeps the critic in the box from the start (PyTorch clamps before each critic step).
            for p in discriminatorParameters { p.value = p.value.map { min(max($0, -options.clip), options.clip) } }
        }

        // The discriminator's step.
        let real = graph.placeholder("real", [n, c, s, s])
        let labels = kind == .acgan ? graph.placeholder("labels", [n]) : nil
        let fakeLabels = kind == .acgan ? graph.placeholder("fakeLabels", [n]) : nil
        let condition = kind == .pix2pix ? graph.placeholder("condition", [n, c, s, s]) : nil
        let noise = latentShape(n).map { graph.randomNormal($0, seed: seed &+ 1) }
        let trainD = ForwardContext(training: true, seed: seed &+ 11)
        let fake = generate(noise, fakeLabels, condition, trainD)
        func noisy(_ x: Tensor, _ salt: UInt64) -> Tensor {
            options.instanceNoise > 0 ? x + graph.randomNormal(x.shape, std: options.instanceNoise, seed: seed &+ salt) : x
        }
        let dReal = discriminate(noisy(real, 2), condition, trainD)
        let dFake = discriminate(noisy(stopGradient(fake), 3), condition, trainD)
        func target(_ value: Float, _ like: Tensor) -> Tensor { graph.fill(value, like.shape) }
        var lossD: Tensor
        var extrasD: [Tensor] = []
        var (dx, dgz) = (dReal.score.mean(), dFake.score.mean())
        switch kind {
        case .dcgan:
            lossD = binaryCrossEntropy(dReal.score, target(options.realLabel, dReal.score)) + binaryCrossEntropy(dFake.score, target(0, dFake.score))
        case .wgan:
            lossD = dFake.score.mean() - dReal.score.mean()
        case .wganGP:
            let penalty = gradientPenalty(
                real: real, fake: stopGradient(fake), alpha: graph.randomUniform([n], seed: seed &+ 5), critic: { discriminate($0, nil, trainD).score })
            lossD = dFake.score.mean() - dReal.score.mean() + penalty * options.penaltyWeight
            extrasD = [penalty]
        case .acgan:
            lossD = binaryCrossEntropy(dReal.score, target(options.realLabel, dReal.score)) + binaryCrossEntropy(dFake.score, target(0, dFake.score))
                + softmaxCrossEntropy(dReal.classLogits!, labels: labels!) + softmaxCrossEntropy(dFake.classLogits!, labels: fakeLabels!)
            extrasD = [classAccuracy(dReal.classLogits!, labels: labels!)]
        case .pix2pix:
            lossD = (binaryCrossEntropyWithLogits(dReal.score, target(options.realLabel, dReal.score)) + binaryCrossEntropyWithLogits(dFake.score, target(0, dFake.score))) * 0.5
            (dx, dgz) = (sigmoid(dReal.score).mean(), sigmoid(dFake.score).mean())
        case .vae, .vaeDense, .cvae:
            fatalError("unreachable")
        }
        let optimizerD = makeOptimizer(options.optimizer, discriminatorParameters, learningRate: options.learningRateD, options: options, name: "optimizerD")
        let optimizerG = makeOptimizer(options.optimizer, generatorParameters, learningRate: options.learningRateG, options: options, name: "optimizerG")
        optimizers = [optimizerD, optimizerG]
        var updatesD = optimizerD.updates(minimizing: lossD)
        if options.clip > 0 {
            let critic = Set(discriminatorParameters.map(ObjectIdentifier.init))
            updatesD = updatesD.map { critic.contains(ObjectIdentifier($0.parameter)) ? Assignment($0.parameter, clamp($0.value, min: -options.clip, max: options.clip)) : $0 }
        }
        let fetchesD = [lossD, dx, dgz] + extrasD

        // The generator's step: the discriminator once more on the same fakes (PyTorch's
        // third D forward, which moves D's BatchNorm statistics again), with the weights of
        // its step: in one plan with it, the context starts from the discriminator step's
        // updates; in a plan of its own, they have been applied.
        let combine = options.criticSteps == 1 && options.combinesAdversarialSteps
        let trainG = ForwardContext(training: true, seed: seed &+ 12)
        if combine { trainG.record(updatesD + trainD.updates) }
        let dG = discriminate(noisy(fake, 4), condition, trainG)
        var lossG: Tensor
        var extrasG: [Tensor] = []
        switch kind {
        case .dcgan: lossG = binaryCrossEntropy(dG.score, target(1, dG.score))
        case .wgan, .wganGP: lossG = -dG.score.mean()
        case .acgan: lossG = binaryCrossEntropy(dG.score, target(1, dG.score)) + softmaxCrossEntropy(dG.classLogits!, labels: fakeLabels!)
        case .pix2pix:
            let adversarial = binaryCrossEntropyWithLogits(dG.score, target(1, dG.score)), l1 = l1Loss(fake, real)
            lossG = adversarial + l1 * options.l1Weight
            extrasG = [adversarial, l1]
        case .vae, .vaeDense, .cvae: fatalError("unreachable")
        }
        let updatesG = optimizerG.updates(minimizing: lossG)
        discriminatorFetches = fetchesD.count
        if combine {
            // trainG's updates hold the discriminator step's (its BatchNorm statistics chained on).
            combined = try session.plan(fetches: fetchesD + [lossG] + extrasG, updates: updatesG + trainG.updates)
            steps = nil
        } else {
            combined = nil
            steps = (try session.plan(fetches: fetchesD, updates: updatesD + trainD.updates),
                     try session.plan(fetches: [lossG] + extrasG, updates: updatesG + trainG.updates))
        }
        batchesPerStep = options.criticSteps
        metricNames = ["loss_d", "loss_g", "d_x", "d_g_z"]
            + (kind == .wganGP ? ["gradient_penalty"] : kind == .acgan ? ["class_accuracy"] : kind == .pix2pix ? ["loss_g_gan", "loss_g_l1"] : [])

        // Samples from fixed inputs, the generator with batch statistics as in pytorch/examples.
        var rng = SplitMix64(seed: seed &+ 99)
        let sampleContext = ForwardContext(training: true)
        switch kind {
        case .pix2pix:
            guard let heldOut, heldOut.count > 0 else { throw DatasetError("\(options.data): no pairs to show (the data folder has too few)") }
            let shown = heldOut.subset(Array(0..<min(4, heldOut.count)))
            triptychs = shown
            columns = 3
            sampler = try session.plan(fetches: [generate(nil, nil, graph.constant(shown.images, [shown.count, c, s, s]), sampleContext)])
        case .acgan:
            // One row per class (at most 16), ten per row.
            let rows = min(classes, 16)
            let z = graph.constant((0..<rows * 10 * nz).map { _ in rng.normal() }, latentShape(rows * 10)!)
            let rowLabels = graph.constant((0..<rows * 10).map { Float($0 / 10) }, [rows * 10])
            (triptychs, columns) = (nil, 10)
            sampler = try session.plan(fetches: [generate(z, rowLabels, nil, sampleContext)])
        default:
            // WGAN-GP samples from a truncated normal (±2), as the dogs study.
            let values = (0..<64 * nz).map { _ -> Float in
                var z = rng.normal()
                while kind == .wganGP && Swift.abs(z) > 2 { z = rng.normal() }
                return z
            }
            (triptychs, columns) = (nil, 8)
            sampler = try session.plan(fetches: [generate(graph.constant(values, latentShape(64)!), nil, nil, sampleContext)])
        }
    }

    func seek(to step: Int) { self.step = step }

    var flopsPerStep: Double {
        if let steps { return Double(batchesPerStep) * steps.d.multiplyAddFLOPs + steps.g.multiplyAddFLOPs }
        return combined!.multiplyAddFLOPs
    }

    /// The fake class labels of `step`, drawn on the host from (seed, step) so a resumed run repeats them.
    private func fakeLabels(_ step: Int) -> [Float] {
        var rng = SplitMix64(seed: options.seed ^ 0xC1A5_5E5 &* UInt64(step + 1))
        return (0..<options.batchSize).map { _ in Float(Int.random(in: 0..<classes, using: &rng)) }
    }

    private func feeds(_ batch: Batch) -> [String: [Float]] {
        switch options.model {
        case .pix2pix: ["condition": batch.images, "real": batch.targets]
        case .acgan: ["real": batch.images, "labels": batch.labels, "fakeLabels": fakeLabels(step)]
        default: ["real": batch.images]
        }
    }

    func train(_ batches: [Batch]) throws -> [Float] {
        var d: [[Float]] = [], g: [[Float]] = []
        if let steps {
            for (k, batch) in batches.enumerated() {
                steps.d.step = UInt64(step * batchesPerStep + k)
                d = try steps.d.run(feeds(batch))
            }
            steps.g.step = UInt64(step)
            g = try steps.g.run(feeds(batches.last!))
        } else {
            // The random streams are those of the separate plans: both ran at `step`.
            combined!.step = UInt64(step)
            let values = try combined!.run(feeds(batches[0]))
            (d, g) = (Array(values.prefix(discriminatorFetches)), Array(values.dropFirst(discriminatorFetches)))
        }
        step += 1
        return [d[0][0], g[0][0]] + d.dropFirst().map { $0[0] } + g.dropFirst().map { $0[0] }
    }

    func outputs() throws -> [OutputImage] {
        let images = try sampler.run()[0]
        let (c, s) = (options.channels, options.imageSize)
        guard let triptychs else {
            let count = images.count / (c * s * s)
            return [OutputImage(folder: "samples", grid: imageGrid(images, count: count, channels: c, height: s, width: s, columns: columns), channels: c)]
        }
        // input | generated | target, one held-out pair per row.
        let rows = interleaved([triptychs.images, images, triptychs.targets!], per: c * s * s, count: triptychs.count)
        return [OutputImage(folder: "samples", grid: imageGrid(rows, count: 3 * triptychs.count, channels: c, height: s, width: s, columns: 3), channels: c)]
    }
}

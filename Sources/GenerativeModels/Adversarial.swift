// The adversarial family (dcgan, wgan, wgan-gp, acgan, pix2pix): `criticSteps`
// discriminator updates on real batches and generated ones, then one generator
// update. A model says its networks and losses; the trainer here builds the steps.
// Each update is a compiled plan (with one critic step, both updates are one plan);
// the noise is drawn on the device from the plan's step counter, so a resumed run
// continues exactly. The generator's output `fake` is one graph node for both
// updates, so the generator's BatchNorm statistics move once per step, in the
// discriminator's update, as PyTorch's do.
import Datasets
import NeuralNet
import TensorGraph

/// What the generator reads: noise, class labels, an input image — each where the model uses it.
public struct GeneratorInputs {
    public var noise: Tensor?
    public var labels: Tensor?
    public var condition: Tensor?
    public init(noise: Tensor? = nil, labels: Tensor? = nil, condition: Tensor? = nil) {
        (self.noise, self.labels, self.condition) = (noise, labels, condition)
    }
}

/// The discriminator's verdict on a batch: a score per image (probability, critic value or
/// patch logits) and, for class-conditioned models, class logits `[N, classes]`.
public struct Discrimination {
    public var score: Tensor
    public var classLogits: Tensor?
    public init(score: Tensor, classLogits: Tensor? = nil) { (self.score, self.classLogits) = (score, classLogits) }
}

/// What a discriminator loss is built from.
public struct DiscriminatorStep {
    public let options: TrainOptions
    /// Real images, and the generator's output (not yet cut from the generator's gradient).
    public let real: Tensor, fake: Tensor
    public let dReal: Discrimination, dFake: Discrimination
    /// Class labels of the real images, and those the fakes were generated for.
    public let labels: Tensor?, fakeLabels: Tensor?
    /// The discriminator's score of other images in this step (a gradient penalty's interpolates).
    public let critic: (Tensor) -> Tensor
}

/// The discriminator's loss, extra metrics (the model's `discriminatorMetrics`), and the
/// mean probabilities D(x), D(G(z)) where the scores are logits (nil: the scores' means).
public struct DiscriminatorLoss {
    public var loss: Tensor
    public var extras: [Tensor]
    public var probabilities: (real: Tensor, fake: Tensor)?
    public init(_ loss: Tensor, extras: [Tensor] = [], probabilities: (real: Tensor, fake: Tensor)? = nil) {
        (self.loss, self.extras, self.probabilities) = (loss, extras, probabilities)
    }
}

/// What a generator loss is built from.
public struct GeneratorStep {
    public let options: TrainOptions
    public let real: Tensor, fake: Tensor
    /// The discriminator on the fakes, with its weights after its own step.
    public let dFake: Discrimination
    public let fakeLabels: Tensor?
}

/// The fixed inputs of the sample grids written while training: the grid's columns and,
/// for translations, the held-out examples shown beside the outputs (input | output | target).
public struct TrainingSamples {
    public var inputs: GeneratorInputs
    public var columns: Int
    public var shown: Examples?
    /// The class of each row, where the grid shows one class per row.
    public var rowClasses: [Int]?
    public init(_ inputs: GeneratorInputs, columns: Int, shown: Examples? = nil, rowClasses: [Int]? = nil) {
        (self.inputs, self.columns, self.shown, self.rowClasses) = (inputs, columns, shown, rowClasses)
    }
}

/// A generator and a discriminator trained against each other.
public protocol AdversarialModel: GenerativeModel {
    var generatorParameters: [Parameter] { get }
    var discriminatorParameters: [Parameter] { get }
    /// The noise batch of `count` examples (nil: no noise).
    func latentShape(_ count: Int) -> Shape?
    /// Generated images `[N, C, S, S]`.
    func generate(_ inputs: GeneratorInputs, _ context: ForwardContext) -> Tensor
    /// The discriminator on images (and the condition they were generated from).
    func discriminate(_ images: Tensor, condition: Tensor?, _ context: ForwardContext) -> Discrimination
    func discriminatorLoss(_ step: DiscriminatorStep) -> DiscriminatorLoss
    /// The generator's loss and extra metrics (`generatorMetrics`).
    func generatorLoss(_ step: GeneratorStep) -> (loss: Tensor, extras: [Tensor])
    /// Names of the extra metrics of each loss, after loss_d, loss_g, d_x and d_g_z.
    static var discriminatorMetrics: [String] { get }
    static var generatorMetrics: [String] { get }
    /// The inputs of the grids written while training (default: 64 fixed normal latents, 8 a row).
    func trainingSamples(_ graph: Graph, options: TrainOptions, classes: Int, heldOut: Examples?, rng: inout SplitMix64) throws
        -> TrainingSamples
}

extension AdversarialModel {
    public static var samplingNetworks: [String] { ["netG"] }
    public static var discriminatorMetrics: [String] { [] }
    public static var generatorMetrics: [String] { [] }

    public var sampling: Sampling {
        .latent(
            decode: { [self] z, labels, context in
                generate(GeneratorInputs(noise: z.reshaped(latentShape(z.shape[0])!), labels: labels), context)
            }, encode: nil)
    }

    public func trainingSamples(_ graph: Graph, options: TrainOptions, classes: Int, heldOut: Examples?, rng: inout SplitMix64) throws
        -> TrainingSamples
    {
        TrainingSamples(GeneratorInputs(noise: fixedLatents(graph, latentShape(64)!, rng: &rng)), columns: 8)
    }

    public func trainer(_ options: TrainOptions, classes: Int, heldOut: Examples?, session: Session) throws -> any ModelTrainer {
        try AdversarialTrainer(self, options, classes: classes, heldOut: heldOut, session: session)
    }
}

/// A constant batch of normal latents of `shape`, drawn from `rng`; with `truncation`,
/// values outside ±truncation are drawn again.
public func fixedLatents(_ graph: Graph, _ shape: Shape, truncation: Float? = nil, rng: inout SplitMix64) -> Tensor {
    let values = (0..<shape.count).map { _ -> Float in
        var z = rng.normal()
        while let truncation, Swift.abs(z) > truncation { z = rng.normal() }
        return z
    }
    return graph.constant(values, shape)
}

/// WGAN's critic schedule (Arjovsky et al.'s `main.py`): 100 critic iterations for each of the
/// first 25 generator iterations and for every 500th, `criticSteps` otherwise, so the critic
/// is near its optimum when the generator starts and again from time to time. The batches
/// run on through epochs (the original cuts a critic phase short at an epoch's end).
public struct CriticSchedule: BatchSchedule, CustomStringConvertible {
    public let batchSize: Int, criticSteps: Int, imageSize: Int
    public static let (warmIterations, warmSteps, period) = (100, 25, 500)

    public init(batchSize: Int, criticSteps: Int, imageSize: Int) {
        (self.batchSize, self.criticSteps, self.imageSize) = (batchSize, criticSteps, imageSize)
    }

    /// The generator steps whose critic batches `epochs` passes over `examples` images cover.
    public func totalSteps(epochs: Int, examples: Int) -> Int {
        let images = epochs * examples
        var (low, high) = (1, max(1, images / max(batchSize * criticSteps, 1)) + 1)
        while low < high {
            let mid = (low + high + 1) / 2
            if Self.batchesBefore(mid, criticSteps) * batchSize <= images { low = mid } else { high = mid - 1 }
        }
        return low
    }

    /// Critic iterations of generator step `step`.
    public func iterations(at step: Int) -> Int {
        step < Self.warmSteps || step % Self.period == 0 ? Self.warmIterations : criticSteps
    }

    /// Critic batches of the steps before `step`.
    static func batchesBefore(_ step: Int, _ criticSteps: Int) -> Int {
        let warm = step == 0 ? 0 : min(step, warmSteps) + max(0, (step - 1) / period)
        return warm * warmIterations + (step - warm) * criticSteps
    }

    public func batchesBefore(_ step: Int) -> Int { Self.batchesBefore(step, criticSteps) }

    public func span(at step: Int) -> ImageSpan {
        ImageSpan(start: batchesBefore(step) * batchSize, count: iterations(at: step) * batchSize, size: imageSize)
    }

    public var description: String {
        "\(batchSize) × \(criticSteps) critic batches (\(Self.warmIterations) for the first \(Self.warmSteps) steps and every \(Self.period)th)"
    }
}

final class AdversarialTrainer<Model: AdversarialModel>: ModelTrainer {
    let optimizers: [any Optimizer]
    let metricNames: [String]
    let batchesPerStep: Int
    private let options: TrainOptions
    private let classes: Int
    /// This trainer's share of each global batch (all of it on one device).
    private let replica: Replica
    /// The discriminator's and the generator's steps: one plan for both when the
    /// discriminator steps once per iteration (the generator's forward pass then runs
    /// once), else `criticSteps` runs of the first and one of the second.
    private let steps: (d: Plan, g: Plan)?, combined: Plan?
    /// Fetches of the discriminator's part of the combined plan (the generator's follow).
    private let discriminatorFetches: Int
    private let sampler: Plan
    private let samples: TrainingSamples
    private var step = 0
    let companions: [Companion]
    /// WGAN's critic warm-up (`--critic-warmup`), nil otherwise.
    private let critics: CriticSchedule?
    var schedule: (any BatchSchedule)? { critics }

    init(_ model: Model, _ options: TrainOptions, classes: Int, heldOut: Examples?, session: Session) throws {
        self.options = options
        critics =
            options.criticWarmup == true
            ? CriticSchedule(batchSize: options.batchSize, criticSteps: options.criticSteps, imageSize: options.imageSize) : nil
        self.classes = classes
        replica = session.replica
        let seed = options.seed
        // A data-parallel replica builds the step for its share of the batch.
        let (n, c, s) = (replica.share(of: options.batchSize).count, options.channels, options.imageSize)
        let graph = Graph(replica: replica)
        if options.clip > 0 {
            // WGAN keeps the critic in the box from the start (PyTorch clamps before each critic step).
            for p in model.discriminatorParameters { p.value = p.value.map { min(max($0, -options.clip), options.clip) } }
        }

        // The discriminator's step.
        let real = graph.placeholder("real", [n, c, s, s])
        let labeled = Model.trainsOn == .labeledImages
        let labels = labeled ? graph.placeholder("labels", [n]) : nil
        let fakeLabels = labeled ? graph.placeholder("fakeLabels", [n]) : nil
        let condition = Model.trainsOn == .pairs ? graph.placeholder("condition", [n, c, s, s]) : nil
        let noise = model.latentShape(n).map { graph.randomNormal($0, seed: seed &+ 1) }
        let trainD = ForwardContext(training: true, seed: seed &+ 11)
        let fake = model.generate(GeneratorInputs(noise: noise, labels: fakeLabels, condition: condition), trainD)
        func noisy(_ x: Tensor, _ salt: UInt64) -> Tensor {
            options.instanceNoise > 0 ? x + graph.randomNormal(x.shape, std: options.instanceNoise, seed: seed &+ salt) : x
        }
        let dReal = model.discriminate(noisy(real, 2), condition: condition, trainD)
        let dFake = model.discriminate(noisy(stopGradient(fake), 3), condition: condition, trainD)
        var (dx, dgz) = (dReal.score.mean(), dFake.score.mean())
        let lossD = model.discriminatorLoss(
            DiscriminatorStep(
                options: options, real: real, fake: fake, dReal: dReal, dFake: dFake, labels: labels, fakeLabels: fakeLabels,
                critic: { model.discriminate($0, condition: nil, trainD).score }))
        if let probabilities = lossD.probabilities { (dx, dgz) = probabilities }
        let optimizerD = makeOptimizer(
            options.optimizer, model.discriminatorParameters, learningRate: options.learningRateD, options: options, name: "optimizerD")
        let optimizerG = makeOptimizer(
            options.optimizer, model.generatorParameters, learningRate: options.learningRateG, options: options, name: "optimizerG")
        optimizers = [optimizerD, optimizerG]
        var updatesD = optimizerD.updates(minimizing: lossD.loss)
        if options.clip > 0 {
            let critic = Set(model.discriminatorParameters.map(ObjectIdentifier.init))
            updatesD = updatesD.map {
                critic.contains(ObjectIdentifier($0.parameter))
                    ? Assignment($0.parameter, clamp($0.value, min: -options.clip, max: options.clip)) : $0
            }
        }
        // Metrics are the global batch's: the means of the replicas' (equal shares).
        let fetchesD = replicaMean([lossD.loss, dx, dgz] + lossD.extras)

        // The generator's step: the discriminator once more on the same fakes (PyTorch's
        // third D forward, which moves D's BatchNorm statistics again), with the weights of
        // its step: in one plan with it, the context starts from the discriminator step's
        // updates; in a plan of its own, they have been applied.
        let combine = options.criticSteps == 1 && options.combinesAdversarialSteps
        let trainG = ForwardContext(training: true, seed: seed &+ 12)
        if combine { trainG.record(updatesD + trainD.updates) }
        let dG = model.discriminate(noisy(fake, 4), condition: condition, trainG)
        let lossG = model.generatorLoss(GeneratorStep(options: options, real: real, fake: fake, dFake: dG, fakeLabels: fakeLabels))
        let updatesG = optimizerG.updates(minimizing: lossG.loss)
        discriminatorFetches = fetchesD.count
        // The generator's moving average: each state tensor after the step, averaged in.
        let generatorState = model.networks.first { $0.file == Model.samplingNetworks[0] }?.module.stateDict() ?? []
        let ema = options.emaDecay.map { _ in
            Companion(
                file: "netG_ema", state: generatorState.map { ($0.name, Parameter("netG_ema." + $0.name, shape: $0.parameter.shape)) },
                source: generatorState.map(\.parameter))
        }
        companions = ema.map { [$0] } ?? []
        func averaged(_ updates: [Assignment]) -> [Assignment] {
            guard let ema, let decay = options.emaDecay else { return [] }
            let after = Dictionary(updates.map { (ObjectIdentifier($0.parameter), $0.value) }) { $1 }
            return zip(ema.state, ema.source).map { target, source in
                let new = after[ObjectIdentifier(source)] ?? graph.variable(source)
                // A counter (BatchNorm's batches tracked) is copied, not averaged.
                let value =
                    target.name.hasSuffix("num_batches_tracked") ? new : graph.variable(target.parameter) * decay + new * (1 - decay)
                return Assignment(target.parameter, stopGradient(value))
            }
        }
        // In one plan, trainG's updates hold the discriminator step's (its BatchNorm statistics chained on).
        let updates = updatesG + trainG.updates
        if combine {
            combined = try session.plan(
                fetches: fetchesD + replicaMean([lossG.loss] + lossG.extras), updates: updates + averaged(updates))
            steps = nil
        } else {
            combined = nil
            steps = (
                try session.plan(fetches: fetchesD, updates: updatesD + trainD.updates),
                try session.plan(fetches: replicaMean([lossG.loss] + lossG.extras), updates: updates + averaged(updates))
            )
        }
        batchesPerStep = options.criticSteps
        metricNames = ["loss_d", "loss_g", "d_x", "d_g_z"] + Model.discriminatorMetrics + Model.generatorMetrics

        // Samples from fixed inputs, the generator with batch statistics as in pytorch/examples;
        // a graph of one device's, as only the first replica draws them.
        var rng = SplitMix64(seed: seed &+ 99)
        let sampleGraph = Graph()
        samples = try model.trainingSamples(sampleGraph, options: options, classes: classes, heldOut: heldOut, rng: &rng)
        // With a moving average, the grids show it: the generator read through its weights.
        let sampling = ForwardContext(training: true)
        if let ema { sampling.record(zip(ema.state, ema.source).map { Assignment($1, sampleGraph.variable($0.parameter)) }) }
        sampler = try session.plan(fetches: [model.generate(samples.inputs, sampling)])
    }

    func seek(to step: Int) { self.step = step }

    var flopsPerStep: Double {
        if let steps { return Double(batchesPerStep) * steps.d.multiplyAddFLOPs + steps.g.multiplyAddFLOPs }
        return combined!.multiplyAddFLOPs
    }

    /// The fake class labels of `step`, drawn on the host from (seed, step) so a resumed run
    /// repeats them: the global batch's, this replica's share of them.
    private func fakeLabels(_ step: Int) -> [Float] {
        var rng = SplitMix64(seed: options.seed ^ 0xC1A5_5E5 &* UInt64(step + 1))
        let labels = (0..<options.batchSize).map { _ in Float(Int.random(in: 0..<classes, using: &rng)) }
        return Array(labels[replica.share(of: options.batchSize)])
    }

    private func feeds(_ global: Batch) -> [String: [Float]] {
        let batch = replica.count > 1 ? global.examples(replica.share(of: options.batchSize)) : global
        return switch Model.trainsOn {
        case .pairs: ["condition": batch.images, "real": batch.targets]
        case .labeledImages: ["real": batch.images, "labels": batch.labels, "fakeLabels": fakeLabels(step)]
        case .images: ["real": batch.images]
        }
    }

    func train(_ batches: [Batch]) throws -> [Float] {
        var d: [[Float]] = [], g: [[Float]] = []
        if let steps {
            // Under a critic schedule the loader's one batch holds the step's critic batches.
            let (first, batches) =
                critics.map { c in
                    (
                        c.batchesBefore(step),
                        (0..<c.iterations(at: step)).map { batches[0].examples($0 * c.batchSize..<($0 + 1) * c.batchSize) }
                    )
                } ?? (step * batchesPerStep, batches)
            for (k, batch) in batches.enumerated() {
                steps.d.step = UInt64(first + k)
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
        guard let shown = samples.shown else {
            var grid = OutputImage(folder: "samples", images: images, channels: c, size: s, columns: samples.columns)
            grid.rowClasses = samples.rowClasses
            return [grid]
        }
        // input | generated | target, one held-out pair per row.
        let rows = interleaved([shown.images, images, shown.targets!], per: c * s * s, count: shown.count)
        var grid = OutputImage(folder: "samples", images: rows, channels: c, size: s, columns: 3)
        grid.columnCaptions = ["input", "generated", "target"]
        return [grid]
    }
}

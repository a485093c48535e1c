// Growing a progressive GAN (NVIDIA's `train.py`): the schedule of resolutions and
// fade-ins measured in real images shown, and the trainer that follows it. Each phase
// (a resolution fading in, or stable) compiles its step and sampler plans once, when the
// run reaches it; α is fed to the fade-in's plans every step. All weights, the Adam
// moments and the generator's moving average stay on the device across a growth step.
import Datasets
import Foundation
import NeuralNet
import TensorGraph

/// NVIDIA's `TrainingSchedule` in steps: 4×4 stable for `kimgPerPhase`, then for each doubling
/// a fade-in and a stable phase of `kimgPerPhase` each, the last resolution to the end. A
/// phase's steps all take its resolution's batch (`progressiveBatchSizes`), so a phase shows
/// its images rounded up to whole batches; α is the fraction of the fade-in's images shown
/// before the step (0 at its first step, as NVIDIA's lod at the phase's first image).
public struct GrowthSchedule: BatchSchedule, CustomStringConvertible {
    public struct Phase: Sendable, Equatable {
        public var level: Int, fading: Bool, batch: Int, steps: Int, firstStep: Int, firstImage: Int
        public var resolution: Int { ProGANConfig.resolution(level) }
    }
    public let phases: [Phase]
    public let totalSteps: Int

    /// The schedule to `maxLevel`; batches are capped at `batchLimit`, at what 85% of
    /// `deviceMemoryGiB` holds per device (`ProGANConfig.bytesPerImage` of the networks of
    /// `featureBase`/`featureMax`), and rounded down to a multiple of `devices` (NVIDIA's
    /// division among GPUs).
    public init(
        maxLevel: Int, kimgPerPhase: Double, totalKimg: Double, batchLimit: Int, devices: Int = 1, deviceMemoryGiB: Double? = nil,
        featureBase: Int = 8192, featureMax: Int = 512
    ) {
        let perPhase = max(1, Int((kimgPerPhase * 1000).rounded())), total = max(1, Int((totalKimg * 1000).rounded()))
        var phases: [Phase] = [], image = 0, step = 0
        let order = [(0, false)] + (0..<maxLevel).flatMap { [($0 + 1, true), ($0 + 1, false)] }
        for (k, (level, fading)) in order.enumerated() where image < total {
            let wanted = k == order.count - 1 ? total - image : min(perPhase, total - image)
            let r = ProGANConfig.resolution(level)
            let perImage = ProGANConfig.bytesPerImage(level: level, featureBase: featureBase, featureMax: featureMax)
            let perDevice = deviceMemoryGiB.map { max(1, Int(min(0.85 * $0 * 1_073_741_824 / perImage, 1e9))) } ?? .max
            let preset = min(progressiveBatchSizes[r] ?? 4, batchLimit, perDevice.multipliedReportingOverflow(by: devices).partialValue)
            let batch = max(devices, preset - preset % devices)
            let steps = (wanted + batch - 1) / batch
            phases.append(Phase(level: level, fading: fading, batch: batch, steps: steps, firstStep: step, firstImage: image))
            (image, step) = (image + steps * batch, step + steps)
        }
        (self.phases, totalSteps) = (phases, step)
    }

    /// The schedule's own length, in real images rather than epochs.
    public func totalSteps(epochs: Int, examples: Int) -> Int { totalSteps }

    /// The index of the phase of `step` (the last phase for steps past the end).
    public func phaseIndex(at step: Int) -> Int { phases.lastIndex { $0.firstStep <= step } ?? 0 }

    /// α at `step` in a fade-in, nil in a stable phase.
    public func alpha(at step: Int) -> Float? {
        let phase = phases[phaseIndex(at: step)]
        return phase.fading ? Float(step - phase.firstStep) / Float(phase.steps) : nil
    }

    /// The level of detail NVIDIA's way: L − 1 + α while level L fades in, L when stable.
    public func levelOfDetail(at step: Int) -> Float {
        let phase = phases[phaseIndex(at: step)]
        return alpha(at: step).map { Float(phase.level - 1) + $0 } ?? Float(phase.level)
    }

    public func span(at step: Int) -> ImageSpan {
        let phase = phases[phaseIndex(at: step)]
        return ImageSpan(start: phase.firstImage + (step - phase.firstStep) * phase.batch, count: phase.batch, size: phase.resolution)
    }

    public func phaseName(at step: Int) -> String? {
        let phase = phases[phaseIndex(at: step)]
        return "\(phase.resolution)×\(phase.resolution) \(phase.fading ? "fading in" : "stable"), batch \(phase.batch)"
    }

    public var description: String {
        let last = phases.last!.resolution
        return
            "growing 4×4 to \(last)×\(last) in \(phases.count) phases, batches \(phases.map(\.batch).map(String.init).joined(separator: "/"))"
    }
}

final class ProgressiveTrainer: ModelTrainer {
    let optimizers: [any Optimizer]
    let metricNames: [String]
    let batchesPerStep = 1
    let companions: [Companion]
    private let growth: GrowthSchedule
    var schedule: (any BatchSchedule)? { growth }
    private let model: ProGAN
    private let options: TrainOptions
    private let session: Session
    private let replica: Replica
    private let classes: Int
    /// The EMA companion's level of detail (a copy of the generator's).
    private let averageLevel: Parameter?
    /// The plans of each phase the run has reached.
    private var plans: [Int: (step: Plan, sampler: Plan)] = [:]
    private var phase = -1
    private var step = 0
    private let sampleLatents: [Float]

    init(_ model: ProGAN, _ options: TrainOptions, session: Session) throws {
        (self.model, self.options, self.session, replica, classes) = (model, options, session, session.replica, model.config.classes)
        let growthOptions = options.growth ?? GrowthOptions()
        growth = GrowthSchedule(
            maxLevel: model.config.maxLevel, kimgPerPhase: growthOptions.kimgPerPhase, totalKimg: growthOptions.totalKimg,
            batchLimit: options.batchSize, devices: session.replica.count, deviceMemoryGiB: growthOptions.deviceMemoryGiB,
            featureBase: model.config.featureBase, featureMax: model.config.featureMax)
        // NVIDIA's Adam (β₁ 0, β₂ 0.99, ε 1e-8) over each network; each phase steps the layers it uses.
        optimizers = [
            Adam(model.criticModule.parameters, beta1: options.beta1, beta2: options.beta2, name: "optimizerD"),
            Adam(model.generatorModule.parameters, beta1: options.beta1, beta2: options.beta2, name: "optimizerG"),
        ]
        let generatorState = model.generatorModule.stateDict()
        let ema = options.emaDecay.map { _ in
            Companion(
                file: "netG_ema", state: generatorState.map { ($0.name, Parameter("netG_ema." + $0.name, shape: $0.parameter.shape)) },
                source: generatorState.map(\.parameter))
        }
        companions = ema.map { [$0] } ?? []
        averageLevel = ema.flatMap { zip($0.state, $0.source).first { $1 === model.growth.level }?.0.parameter }
        metricNames =
            ["loss_d", "loss_g", "d_x", "d_g_z", "gradient_penalty", "drift"] + (classes > 0 ? ["class_loss_d", "class_loss_g"] : [])
            + ["resolution", "alpha", "kimg"]
        var rng = SplitMix64(seed: options.seed &+ 99)
        sampleLatents = (0..<(64 * model.config.latentSize)).map { _ in rng.normal() }
    }

    /// The learning rate of a resolution: the run's, raised at 256 and above as NVIDIA's preset.
    private func learningRate(_ base: Float, _ resolution: Int) -> Float { base * (progressiveLearningRates[resolution] ?? 1e-3) / 1e-3 }

    /// The plans of phase `index`, compiled on first use.
    private func plans(_ index: Int) throws -> (step: Plan, sampler: Plan) {
        if let made = plans[index] { return made }
        // Phases only move forward: the earlier phase's plans and activations are freed first.
        plans.removeAll()
        session.releaseIntermediateBuffers()
        let phase = growth.phases[index]
        let (level, fading, seed) = (phase.level, phase.fading, options.seed)
        let (n, c, r, nz) = (replica.share(of: phase.batch).count, options.channels, phase.resolution, model.config.latentSize)
        let graph = Graph(replica: replica)
        let alpha = fading ? graph.placeholder("alpha", [1]) : nil
        // The reals fade in too: their 2× box-filtered copy, upsampled, blended by the same α.
        var real = graph.placeholder("real", [n, c, r, r])
        if let alpha {
            let coarse = upsampleNearest(avgPool2d(real, kernel: Size2(2)))
            real = coarse + (real - coarse) * alpha
        }
        let conditional = classes > 0
        let labels = conditional ? graph.placeholder("labels", [n]) : nil
        let fakeLabels = conditional ? [graph.placeholder("fakeLabelsD", [n]), graph.placeholder("fakeLabelsG", [n])] : [nil, nil]

        // The critic's step: WGAN-GP (one interpolation weight per example) plus the drift 0.001·D(x)².
        let trainD = ForwardContext(training: true)
        let critic = { (x: Tensor, context: ForwardContext) in self.model.criticize(x, level: level, alpha: alpha, context) }
        let fake = stopGradient(
            model.generate(graph.randomNormal([n, nz], seed: seed &+ 1), labels: fakeLabels[0], level: level, alpha: alpha, trainD))
        let (dReal, dFake) = (critic(real, trainD), critic(fake, trainD))
        let mixing = graph.randomUniform([n], seed: seed &+ 5)
        let penalty = gradientPenalty(real: real, fake: fake, alpha: mixing) { critic($0, trainD).score }
        let drift = square(dReal.score).mean()
        var lossD = dFake.score.mean() - dReal.score.mean() + penalty * options.penaltyWeight + drift * 1e-3
        var classLosses: [Tensor] = []
        if conditional {
            let term =
                softmaxCrossEntropy(dReal.classLogits!, labels: labels!) + softmaxCrossEntropy(dFake.classLogits!, labels: fakeLabels[0]!)
            (lossD, classLosses) = (lossD + term, [term])
        }
        let adam = (d: optimizers[0] as! Adam, g: optimizers[1] as! Adam)
        let updatesD = adam.d.restricted(
            to: model.criticParameters(level: level, fading: fading), learningRate: learningRate(options.learningRateD, r)
        ).updates(minimizing: lossD)

        // The generator's step, on fresh latents, against the critic after its step.
        let trainG = ForwardContext(training: true)
        trainG.record(updatesD)
        let dG = critic(
            model.generate(graph.randomNormal([n, nz], seed: seed &+ 2), labels: fakeLabels[1], level: level, alpha: alpha, trainG), trainG)
        var lossG = -dG.score.mean()
        if conditional {
            let term = softmaxCrossEntropy(dG.classLogits!, labels: fakeLabels[1]!)
            (lossG, classLosses) = (lossG + term, classLosses + [term])
        }
        let trained = model.generatorParameters(level: level, fading: fading)
        let updatesG = adam.g.restricted(to: trained, learningRate: learningRate(options.learningRateG, r)).updates(minimizing: lossG)
        let step = try session.plan(
            fetches: replicaMean([lossD, lossG, dReal.score.mean(), dFake.score.mean(), penalty, drift] + classLosses),
            updates: updatesD + updatesG + averaged(updatesG, graph: graph))

        // Samples of the moving average (else the generator) at this phase, upscaled to the final size.
        let sampleGraph = Graph()
        let sampling = ForwardContext(training: false)
        if let ema = companions.first {
            sampling.record(zip(ema.state, ema.source).map { Assignment($1, sampleGraph.variable($0.parameter)) })
        }
        // The 64 latents in chunks of the phase's batch, whose activations fit where its training step's do.
        let chunk = sampleChunk(phase)
        let z = sampleGraph.placeholder("z", [chunk, nz])
        let rows = conditional ? sampleGraph.placeholder("labels", [chunk]) : nil
        let images = model.generate(
            z, labels: rows, level: level, alpha: fading ? sampleGraph.placeholder("alpha", [1]) : nil, sampling)
        let sampler = try session.plan(fetches: [upsampleNearest(images, factor: options.imageSize / r)])
        plans[index] = (step, sampler)
        return (step, sampler)
    }

    /// The moving average's updates: each generator weight this step trains, after the step, averaged in.
    private func averaged(_ updates: [Assignment], graph: Graph) -> [Assignment] {
        guard let ema = companions.first, let decay = options.emaDecay else { return [] }
        let average = Dictionary(zip(ema.source, ema.state).map { (ObjectIdentifier($0), $1.parameter) }) { a, _ in a }
        return updates.compactMap { update in
            average[ObjectIdentifier(update.parameter)].map {
                Assignment($0, stopGradient(graph.variable($0) * decay + update.value * (1 - decay)))
            }
        }
    }

    /// Enters the phase of `step`: its plans, and the networks' saved level of detail. Each phase
    /// starts Adam afresh at its first step (NVIDIA's `reset_opt_for_new_lod`), whether the run
    /// got there by training or resumed there; a run resumed later in a phase keeps the moments
    /// it was saved with.
    private func enter(_ step: Int) throws {
        let index = growth.phaseIndex(at: step)
        _ = try plans(index)
        if step > 0 && step == growth.phases[index].firstStep {
            let state = optimizers.flatMap(\.state)
            for parameter in state { parameter.value = [Float](repeating: 0, count: parameter.shape.count) }
            try session.upload(state)
        }
        phase = index
        // The level of detail changes only during fade-ins: sent to the device then, not every step.
        let level = growth.levelOfDetail(at: step)
        guard level != uploadedLevel else { return }
        // The replicas of a data-parallel run share the model's host weights: one at a time.
        try Self.sharedLevel.withLock {
            model.levelOfDetail = level
            averageLevel?.value = [level]
            try session.upload([model.growth.level] + (averageLevel.map { [$0] } ?? []))
        }
        uploadedLevel = level
    }

    /// The level of detail this trainer's session holds (nil: not sent since the trainer was built).
    private var uploadedLevel: Float?

    private static let sharedLevel = NSLock()

    func seek(to step: Int) {
        self.step = step
        phase = -1
    }

    var flopsPerStep: Double { (try? plans(growth.phaseIndex(at: step)).step.multiplyAddFLOPs) ?? 0 }

    /// Host-drawn class labels of the generated images of `step` (`salt` 0: the critic's, 1: the
    /// generator's), from (seed, step) so a resumed run repeats them: this replica's share.
    private func fakeLabels(_ step: Int, salt: UInt64, batch: Int) -> [Float] {
        var rng = SplitMix64(seed: options.seed ^ (0x9C0_6A11 &+ salt) &* UInt64(step + 1))
        let labels = (0..<batch).map { _ in Float(Int.random(in: 0..<classes, using: &rng)) }
        return Array(labels[replica.share(of: batch)])
    }

    func train(_ batches: [Batch]) throws -> [Float] {
        try enter(step)
        let current = growth.phases[phase]
        let batch = replica.count > 1 ? batches[0].examples(replica.share(of: current.batch)) : batches[0]
        var feeds = ["real": batch.images]
        if let alpha = growth.alpha(at: step) { feeds["alpha"] = [alpha] }
        if classes > 0 {
            feeds["labels"] = batch.labels
            feeds["fakeLabelsD"] = fakeLabels(step, salt: 0, batch: current.batch)
            feeds["fakeLabelsG"] = fakeLabels(step, salt: 1, batch: current.batch)
        }
        let plan = try plans(phase).step
        plan.step = UInt64(step)
        let values = try plan.run(feeds).map { $0[0] }
        let alpha = growth.alpha(at: step) ?? 1
        step += 1
        let shown = Double(current.firstImage + (step - current.firstStep) * current.batch) / 1000
        return values + [Float(current.resolution), alpha, Float(shown)]
    }

    /// Sample-grid images a sampler plan makes at a time in `phase`: a divisor of 64 up to its batch.
    private func sampleChunk(_ phase: GrowthSchedule.Phase) -> Int {
        64 >> max(0, 6 - (phase.batch.bitWidth - phase.batch.leadingZeroBitCount - 1))
    }

    func outputs() throws -> [OutputImage] {
        let index = growth.phaseIndex(at: max(step - 1, 0))
        let alpha = growth.alpha(at: max(step - 1, 0))
        let chunk = sampleChunk(growth.phases[index]), nz = model.config.latentSize
        var images: [Float] = []
        for start in stride(from: 0, to: 64, by: chunk) {
            var feeds = ["z": Array(sampleLatents[(start * nz)..<((start + chunk) * nz)])]
            if let alpha { feeds["alpha"] = [alpha] }
            if classes > 0 { feeds["labels"] = (start..<(start + chunk)).map { Float($0 / 8 % classes) } }
            images += try plans(index).sampler.run(feeds)[0]
        }
        var grid = OutputImage(folder: "samples", images: images, channels: options.channels, size: options.imageSize, columns: 8)
        let r = growth.phases[index].resolution
        grid.note =
            "\(r)×\(r)\(alpha.map { String(format: " fading in, α %.2f", $0) } ?? "")\(companions.isEmpty ? "" : ", moving-average generator")"
        grid.rowClasses = classes > 0 ? (0..<8).map { $0 % classes } : nil
        return [grid]
    }
}

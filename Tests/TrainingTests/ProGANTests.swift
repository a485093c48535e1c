import CPUReference
import Datasets
import Foundation
import GenerativeModels
import NeuralNet
import TensorGraph
import TestSupport
import Testing
import Training

/// NVIDIA's progressive GAN (issue 21): the schedule, fade-in continuity, growing through every
/// phase with plans compiled once per phase, and exact resume in the middle of a fade-in.
@Suite struct ProGANTests {
    @Test func theScheduleIsNVIDIAs() {
        let s = GrowthSchedule(maxLevel: 6, kimgPerPhase: 600, totalKimg: 12000, batchLimit: 512)
        // 4×4 stable, then a fade-in and a stable phase for each of 8…256.
        #expect(s.phases.map(\.resolution) == [4, 8, 8, 16, 16, 32, 32, 64, 64, 128, 128, 256, 256])
        #expect(s.phases.map(\.fading) == [false] + (0..<6).flatMap { _ in [true, false] })
        #expect(s.phases.map(\.batch) == [512, 256, 256, 128, 128, 64, 64, 32, 32, 16, 16, 16, 16])
        // Each phase shows 600k images in whole batches; the last runs to 12M.
        #expect(s.phases.dropLast().allSatisfy { $0.steps == (600_000 + $0.batch - 1) / $0.batch })
        let end = s.span(at: s.totalSteps - 1)
        #expect(end.start + end.count >= 12_000_000 && end.start < 12_000_000)
        // Spans follow one another with no gap; α climbs from 0 through each fade-in.
        for step in [0, 1171, 1172, 1173, 5000, s.totalSteps - 2] {
            let (a, b) = (s.span(at: step), s.span(at: step + 1))
            #expect(b.start == a.start + a.count, "step \(step)")
        }
        let fade = s.phases[1]
        #expect(s.alpha(at: fade.firstStep) == 0 && s.alpha(at: fade.firstStep - 1) == nil)
        #expect(s.alpha(at: fade.firstStep + fade.steps / 2) == Float(fade.steps / 2) / Float(fade.steps))
        #expect(s.levelOfDetail(at: fade.firstStep + fade.steps / 2) == 0.5 && s.levelOfDetail(at: s.totalSteps - 1) == 6)
        // Capped by --batch-size and divided evenly among three devices.
        let three = GrowthSchedule(maxLevel: 6, kimgPerPhase: 600, totalKimg: 12000, batchLimit: 100, devices: 3)
        #expect(three.phases.map(\.batch) == [99, 99, 99, 99, 99, 63, 63, 30, 30, 15, 15, 15, 15])
        // Sized for the device's memory: what 85% of it holds at genocl's measured bytes per image
        // (1.42 GiB at 256×256: 12 on PoCL's 21.6 GiB, 9 on a 16 GiB card, 4 on 8 GiB).
        #expect(abs(ProGANConfig.bytesPerImage(level: 6) / 1_073_741_824 - 1.42) < 0.01)
        let pocl = GrowthSchedule(maxLevel: 6, kimgPerPhase: 600, totalKimg: 12000, batchLimit: 512, deviceMemoryGiB: 21.59)
        #expect(pocl.phases.map(\.batch) == [512, 256, 256, 128, 128, 64, 64, 32, 32, 16, 16, 12, 12])
        #expect(
            GrowthSchedule(maxLevel: 6, kimgPerPhase: 600, totalKimg: 12000, batchLimit: 512, deviceMemoryGiB: 16).phases.last?.batch == 9)
        let small = GrowthSchedule(maxLevel: 6, kimgPerPhase: 600, totalKimg: 12000, batchLimit: 512, deviceMemoryGiB: 8)
        #expect(small.phases.map(\.batch).suffix(8) == [55, 55, 22, 22, 10, 10, 4, 4])
        // Two devices of 4 GiB: each holds 2 at 256, 4 in all.
        let twoSmall = GrowthSchedule(maxLevel: 6, kimgPerPhase: 600, totalKimg: 12000, batchLimit: 512, devices: 2, deviceMemoryGiB: 4)
        #expect(twoSmall.phases.map(\.batch).suffix(2) == [4, 4] && twoSmall.phases[0].batch == 512)
        #expect(GrowthSchedule(maxLevel: 6, kimgPerPhase: 600, totalKimg: 12000, batchLimit: 512, deviceMemoryGiB: 80).phases == s.phases)
        // A shorter run stops growing where its images end.
        #expect(GrowthSchedule(maxLevel: 6, kimgPerPhase: 600, totalKimg: 1500, batchLimit: 512).phases.count == 3)
    }

    func tinyModel() -> ProGAN {
        ProGAN(ProGANConfig(imageSize: 16, channels: 3, latentSize: 8, featureBase: 32, featureMax: 8), seed: 7)
    }

    /// Right after a growth step (α = 0) the generator's output is the previous level's,
    /// upsampled, and the critic's score is the previous level's on the downsampled input; at
    /// α = 1 the fade-in is the stable network.
    @Test func fadeInIsContinuous() throws {
        let model = tinyModel()
        let graph = Graph()
        let context = ForwardContext(training: true)
        let z = graph.constant(randomValues(8 * 8, seed: 1), [8, 8])
        let (zero, one) = (graph.constant([0], [1]), graph.constant([1], [1]))
        let images = graph.constant(randomValues(8 * 3 * 16 * 16, seed: 2), [8, 3, 16, 16])
        for level in [1, 2] {
            let r = 4 << level
            let x = level == 2 ? images : avgPool2d(images, kernel: Size2(2))
            let got = try evaluate([
                model.generate(z, labels: nil, level: level, alpha: zero, context),
                upsampleNearest(model.generate(z, labels: nil, level: level - 1, alpha: nil, context)),
                model.generate(z, labels: nil, level: level, alpha: one, context),
                model.generate(z, labels: nil, level: level, alpha: nil, context),
                model.criticize(x, level: level, alpha: zero, context).score,
                model.criticize(avgPool2d(x, kernel: Size2(2)), level: level - 1, alpha: nil, context).score,
                model.criticize(x, level: level, alpha: one, context).score,
                model.criticize(x, level: level, alpha: nil, context).score,
            ])
            #expect(got[0].count == 8 * 3 * r * r)
            let tolerance = Tolerance(atol: 1e-5, rtol: 1e-5)
            for (a, b, what) in [(0, 1, "generator at α 0"), (2, 3, "generator at α 1"), (4, 5, "critic at α 0"), (6, 7, "critic at α 1")] {
                if let problem = mismatch(got[a], got[b], tolerance, "level \(level): \(what)") { Issue.record("\(problem)") }
            }
            #expect(got[0] != got[3], "level \(level): the new block changes the output once faded in")
        }
    }

    func options(_ data: String, steps: Int? = nil) -> TrainOptions {
        var o = tinyOptions(data, model: .progan)
        (o.steps, o.batchSize, o.sampleEvery, o.checkpointEvery, o.logEvery) = (steps, 8, 1000, 1000, 1000)
        // 4 steps of 8 a phase: 4×4, fade to 8, 8, fade to 16, then 16×16 to 200 images (25 steps).
        (o.growth!.kimgPerPhase, o.growth!.totalKimg, o.growth!.featureBase, o.growth!.featureMax) = (0.032, 0.2, 32, 8)
        return o
    }

    @Test func aTinyProGANGrowsThroughEveryPhaseCompilingEachOnce() throws {
        let data = try writeTinyDataset()
        let loaded = try loadExamples(data, for: "progan", kind: .images, size: 16, channels: 1, holdOut: false, log: { _ in })
        let run = try TrainingRun(
            options(data), data: loaded.train, heldOut: nil, classes: 4, folder: data + "/run", backend: testBackend(), log: { _ in })
        #expect(run.totalSteps == 25)
        var history: [StepMetrics] = []
        while run.step < run.totalSteps {
            history.append(try run.trainStep())
            if run.step == 1 { #expect(run.plansCompiled == 2, "the first phase's step and sampler") }
        }
        // Five phases, two plans each, however many steps.
        #expect(run.plansCompiled == 10)
        #expect(history.map { Int($0["resolution"]) } == [4, 4, 4, 4] + Array(repeating: 8, count: 8) + Array(repeating: 16, count: 13))
        #expect(history[4..<8].map { $0["alpha"] } == [0, 0.25, 0.5, 0.75] && history[8]["alpha"] == 1)
        #expect(history.last!["kimg"] == 0.2)
        #expect(history.allSatisfy { $0.values.allSatisfy(\.isFinite) })
        for name in ["loss_d", "loss_g", "gradient_penalty", "drift"] {
            #expect(Set(history.map { $0[name] }).count > 20, "\(name) moves")
        }
        // Samples at every resolution come out at the final size.
        let outputs = try run.writeOutputs()
        #expect(outputs.count == 1 && FileManager.default.fileExists(atPath: outputs[0].path))
        #expect(outputs[0].image.grid.height > 8 * 16, "eight rows of the final size")
    }

    @Test func aRunResumedInTheMiddleOfAFadeInEqualsOneThatNeverStopped() throws {
        let data = try writeTinyDataset()
        var every = options(data)
        every.checkpointEvery = 1
        let straight = try train(every, settings: plainSettings(data + "/straight"), backend: testBackend(), log: { _ in })
        // Stopped at step 14, halfway through the fade-in to 16×16 (α 0.5), then resumed.
        var settings = plainSettings(data + "/resumed")
        let first = try train(options(data, steps: 14), settings: settings, backend: testBackend(), log: { _ in })
        #expect(first.last!["alpha"] == 0.25 && first.last!["resolution"] == 16)
        settings.resume = true
        let rest = try train(options(data, steps: 25), settings: settings, backend: testBackend(), log: { _ in })
        #expect(rest.map(\.step) == Array(15...25))
        // The batches were sized for the device the run started on, and stay so.
        let config = try JSONDecoder().decode(RunConfig.self, from: Data(contentsOf: URL(fileURLWithPath: data + "/resumed/config.json")))
        #expect(
            config.options.growth?.deviceMemoryGiB
                == (try testBackend().memoryBytes.map { Double($0 / 1_048_576 * 1_048_576) / 1_073_741_824 }))
        #expect(rest.map(\.values) == straight.suffix(11).map(\.values))
        for file in ["netG", "netG_ema", "netD", "optimizer"] {
            let path = "/checkpoints/step_000025/\(file).safetensors"
            let (a, b) = (try readSafetensors(data + "/straight" + path), try readSafetensors(data + "/resumed" + path))
            #expect(a.tensors.count == b.tensors.count && a.tensors.allSatisfy { b.tensors[$0.key] == $0.value }, "\(file)")
        }
        // The moving average: ema₂₅ = β·ema₂₄ + (1 − β)·G₂₅ for the weights step 25 trains; the
        // earlier levels' toRGB, out of use at 16×16, keep their averages.
        func tensors(_ step: Int, _ file: String) throws -> [String: [Float]] {
            let path = data + "/straight/checkpoints/step_0000\(step)/\(file).safetensors"
            return try readSafetensors(path).tensors.compactMapValues { if case .float32(let v, _) = $0 { v } else { nil } }
        }
        let (ema24, ema25, g25) = (try tensors(24, "netG_ema"), try tensors(25, "netG_ema"), try tensors(25, "netG"))
        for (name, values) in ema25 where name != "growth.level" {
            let unused = name.hasPrefix("rgb4.") || name.hasPrefix("rgb8.")
            let want = unused ? ema24[name]! : zip(ema24[name]!, g25[name]!).map { 0.999 * $0 + 0.001 * $1 }
            let worst = zip(values, want).map { abs($0 - $1) / max(abs($1), 1e-3) }.max() ?? 1
            #expect(worst < 1e-5, "\(name): relative error \(worst)")
        }
        #expect(ema25["b16.1.weight"] != ema24["b16.1.weight"] && ema25 != g25)
        // The generator saved mid-fade knows its level of detail, and samples there: 16×16
        // images (level 2 a quarter faded in), the moving average's unless --no-ema.
        let mid = try readSafetensors(data + "/resumed/checkpoints/step_000014/netG.safetensors")
        if case .float32(let level, _) = mid.tensors["growth.level"] { #expect(level == [1.25]) } else { Issue.record("no growth.level") }
        var sampling = SampleOptions(checkpoint: data + "/resumed/checkpoints/step_000014")
        (sampling.count, sampling.output, sampling.saveNpy) = (8, data + "/ema", true)
        try Training.sample(sampling, backend: testBackend())
        (sampling.movingAverage, sampling.output) = (false, data + "/raw")
        try Training.sample(sampling, backend: testBackend())
        let (ema, raw) = (try npy(data + "/ema/samples.npy"), try npy(data + "/raw/samples.npy"))
        #expect(ema.shape == [8, 1, 16, 16] && raw.shape == [8, 1, 16, 16] && ema.values != raw.values)
        let finite = ema.values.allSatisfy { $0.isFinite }
        #expect(finite)
    }

    func npy(_ path: String) throws -> (values: [Float], shape: [Int]) {
        try decodeNpy([UInt8](FileManager.default.contents(atPath: path)!), path: path)
    }

    /// `--conditional`: the labels go into the generator, and both losses gain the class terms;
    /// samples come one row per class.
    @Test func aConditionalProGANLearnsItsClassTerms() throws {
        let data = try writeTinyDataset()
        var o = options(data, steps: 10)
        o.growth!.conditional = true
        let metrics = try train(o, settings: plainSettings(data + "/run"), backend: testBackend(), log: { _ in })
        #expect(metrics[0].names.contains("class_loss_d") && metrics[0].names.contains("class_loss_g"))
        #expect(Set(metrics.map { $0["class_loss_d"] }).count > 5 && metrics.allSatisfy { $0.values.allSatisfy(\.isFinite) })
        var sampling = SampleOptions(checkpoint: data + "/run")
        (sampling.count, sampling.output, sampling.saveNpy, sampling.classLabel) = (4, data + "/class2", true, 2)
        try Training.sample(sampling, backend: testBackend())
        #expect(try npy(data + "/class2/samples.npy").shape == [4, 1, 16, 16])
    }

    /// On two devices each takes half of every phase's batch (its minibatch-stddev groups within
    /// its half, as NVIDIA's per-GPU groups); debug builds check every step that both replicas
    /// hold the same weights.
    @Test func twoDevicesGrowInStep() throws {
        let data = try writeTinyDataset()
        let backends = try (0..<2).map { _ in try testBackend() }
        let metrics = try train(options(data, steps: 14), settings: plainSettings(data + "/two"), backends: backends, log: { _ in })
        #expect(metrics.count == 14 && metrics.allSatisfy { $0.values.allSatisfy(\.isFinite) })
        #expect(Int(metrics.last!["resolution"]) == 16)
    }
}

import Foundation
import GenerativeModels
import Testing
import Training

/// The generator's moving average (`--ema β`, issue 21): its formula, its checkpoint file,
/// exact resume, and sampling from it by default.
@Suite struct EMATests {
    func options(_ data: String, steps: Int) -> TrainOptions {
        var options = tinyOptions(data)
        (options.steps, options.checkpointEvery, options.sampleEvery, options.emaDecay) = (steps, 1, 1000, 0.9)
        return options
    }

    func tensors(_ folder: String, _ file: String) throws -> [String: [Float]] {
        var result: [String: [Float]] = [:]
        for (name, tensor) in try readSafetensors(folder + "/" + file + ".safetensors").tensors {
            if case .float32(let values, _) = tensor { result[name] = values }
        }
        return result
    }

    @Test func theAverageFollowsItsFormulaAndResumesExactly() throws {
        let data = try writeTinyDataset()
        try train(options(data, steps: 4), settings: plainSettings(data + "/straight"), backend: testBackend(), log: { _ in })
        let (one, two) = (data + "/straight/checkpoints/step_000003", data + "/straight/checkpoints/step_000004")
        let (ema1, ema2, netG2) = (try tensors(one, "netG_ema"), try tensors(two, "netG_ema"), try tensors(two, "netG"))
        #expect(!ema2.isEmpty && ema2.keys.sorted() == netG2.keys.sorted())
        // ema₄ = β·ema₃ + (1 − β)·w₄ for every weight and running statistic.
        for (name, values) in ema2 {
            let want = zip(ema1[name]!, netG2[name]!).map { 0.9 * $0 + 0.1 * $1 }
            let worst = zip(values, want).map { abs($0 - $1) / max(abs($1), 1e-3) }.max() ?? 0
            #expect(worst < 1e-5, "\(name): relative error \(worst)")
        }
        #expect(ema2 != netG2, "the average lags the generator")
        // Stopped after step 2 and resumed: the same average at step 4, bit for bit.
        try train(options(data, steps: 2), settings: plainSettings(data + "/resumed"), backend: testBackend(), log: { _ in })
        var settings = plainSettings(data + "/resumed")
        settings.resume = true
        try train(options(data, steps: 4), settings: settings, backend: testBackend(), log: { _ in })
        let last = "/checkpoints/step_000004"
        #expect(try tensors(data + "/resumed" + last, "netG_ema") == (try tensors(data + "/straight" + last, "netG_ema")))
    }

    /// `genocl sample` draws from netG_ema where the run kept one, from netG with --no-ema.
    @Test func samplingUsesTheAverage() throws {
        let data = try writeTinyDataset()
        try train(options(data, steps: 3), settings: plainSettings(data + "/run"), backend: testBackend(), log: { _ in })
        func draw(_ checkpoint: String, average: Bool, _ out: String) throws -> Data? {
            var sample = SampleOptions(checkpoint: checkpoint)
            (sample.count, sample.saveNpy, sample.output, sample.movingAverage) = (8, true, data + "/" + out, average)
            try Training.sample(sample, backend: testBackend())
            return FileManager.default.contents(atPath: data + "/" + out + "/samples.npy")
        }
        let (average, generator) = (try draw(data + "/run", average: true, "a"), try draw(data + "/run", average: false, "g"))
        #expect(average != nil && average != generator)
        // The same as a generator file holding the average's weights.
        let folder = data + "/run/checkpoints/step_000003"
        try FileManager.default.createDirectory(atPath: data + "/swapped", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: folder + "/netG_ema.safetensors", toPath: data + "/swapped/netG.safetensors")
        try FileManager.default.copyItem(atPath: data + "/run/config.json", toPath: data + "/swapped/config.json")
        #expect(try draw(data + "/swapped", average: false, "s") == average)
    }
}

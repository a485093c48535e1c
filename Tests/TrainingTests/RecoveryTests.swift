import Foundation
import GenerativeModels
import Testing
import Training

/// Damaged run folders and reused ones: a clear error and nothing lost (issue 19).
@Suite struct RecoveryTests {
    /// A tiny DCGAN run of `steps` steps in `<data>/run`, a checkpoint every `every` steps.
    @discardableResult
    func run(_ data: String, steps: Int, every: Int = 2, resume: Bool = false) throws -> [StepMetrics] {
        var options = tinyOptions(data)
        (options.steps, options.checkpointEvery, options.sampleEvery) = (steps, every, 1000)
        var settings = plainSettings(data + "/run")
        settings.resume = resume
        return try train(options, settings: settings, backend: testBackend(), log: { _ in })
    }

    func contents(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    @Test func aRunFolderIsNeverTrainedOver() throws {
        let data = try writeTinyDataset()
        try run(data, steps: 2)
        let (metrics, latest) = (contents(data + "/run/metrics.csv"), contents(data + "/run/checkpoints/latest"))
        #expect { try run(data, steps: 2) } throws: {
            "\($0)".contains("already holds a run") && "\($0)".contains("--resume \(data)/run") && "\($0)".contains("fresh --out")
        }
        #expect(metrics != nil && contents(data + "/run/metrics.csv") == metrics)
        #expect(latest != nil && contents(data + "/run/checkpoints/latest") == latest)
    }

    /// `--resume` checks the config.json it reads back as the CLI checks its flags.
    @Test func resumeRevalidatesADamagedConfig() throws {
        let data = try writeTinyDataset()
        try run(data, steps: 2)
        let path = data + "/run/config.json"
        let original = try #require(contents(path))
        let cases: [(key: String, value: Any, message: String)] = [
            ("batchSize", 0, "--batch-size must be positive, got 0"), ("criticSteps", 0, "--critic-steps must be positive, got 0"),
            ("sampleEvery", 0, "--sample-every must be positive, got 0"), ("imageSize", 7, "--image-size 7: dcgan supports"),
            ("batchSize", 1 << 62, "--batch-size 4611686018427387904 is beyond genocl's limit"),
        ]
        for (key, value, message) in cases {
            var config = try #require(try JSONSerialization.jsonObject(with: original) as? [String: Any])
            var options = try #require(config["options"] as? [String: Any])
            options[key] = value
            config["options"] = options
            try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: path))
            #expect(throws: (any Error).self, "\(key) \(value)") { try run(data, steps: 4, resume: true) }
            do { try run(data, steps: 4, resume: true) } catch {
                #expect("\(error)".contains(message) && "\(error)".contains("config.json"), "\(key) \(value): \(error)")
            }
        }
        try Data("{\"options\": 3".utf8).write(to: URL(fileURLWithPath: path))
        #expect { try run(data, steps: 4, resume: true) } throws: { "\($0)".contains("not a config.json that genocl can read") }
    }

    @Test func resumeRejectsANegativeStep() throws {
        let data = try writeTinyDataset()
        try run(data, steps: 2)
        let path = data + "/run/checkpoints/step_000002/optimizer.safetensors"
        var file = try readSafetensors(path)
        file.metadata["step"] = "-5"
        try writeSafetensors(file, to: path)
        #expect { try run(data, steps: 4, resume: true) } throws: { "\($0)".contains("a step of \"-5\"") && "\($0)".contains("damaged") }
    }

    /// A run killed after its last checkpoint has metrics rows past it; the resumed run trains
    /// those steps again and keeps one row per step. Temporary files of an unfinished write go.
    @Test func resumeKeepsOneMetricsRowPerStepAndNoTemporaryFiles() throws {
        let data = try writeTinyDataset()
        let straight = try run(data, steps: 4)
        // As if killed after step 4's row but before its checkpoint: latest is step 2's.
        try Data("step_000002\n".utf8).write(to: URL(fileURLWithPath: data + "/run/checkpoints/latest"))
        let leftover = data + "/run/checkpoints/step_000002/.netG.safetensors.tmp-1-2"
        FileManager.default.createFile(atPath: leftover, contents: Data(count: 64))
        let resumed = try run(data, steps: 4, resume: true)
        #expect(resumed.map(\.step) == [3, 4] && resumed.map(\.values) == straight.suffix(2).map(\.values))
        let rows = try String(contentsOfFile: data + "/run/metrics.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        #expect(rows.map { $0.prefix { $0 != "," } } == ["1", "2", "3", "4"], "\(rows)")
        #expect(!FileManager.default.fileExists(atPath: leftover))
    }

    /// A diverged run never writes a checkpoint with non-finite weights, and non-finite
    /// weights given to --init-from are refused.
    @Test func nonFiniteWeightsAreNeverSavedNorLoaded() throws {
        let data = try writeTinyDataset()
        var options = tinyOptions(data)
        (options.steps, options.checkpointEvery, options.learningRateD, options.learningRateG) = (12, 1, 1e6, 1e6)
        #expect { try train(options, settings: plainSettings(data + "/diverged"), backend: testBackend(), log: { _ in }) } throws: {
            "\($0)".contains("non-finite") && ("\($0)".contains("nothing was saved") || "\($0)".contains("not finite"))
        }
        for folder in (try? FileManager.default.contentsOfDirectory(atPath: data + "/diverged/checkpoints")) ?? []
        where folder.hasPrefix("step_") {
            for file in try FileManager.default.contentsOfDirectory(atPath: data + "/diverged/checkpoints/" + folder) {
                for case .float32(let values, _) in try readSafetensors(data + "/diverged/checkpoints/\(folder)/\(file)").tensors.values {
                    let finite = values.allSatisfy { $0.isFinite }
                    #expect(finite, "\(folder)/\(file)")
                }
            }
        }
        try run(data, steps: 1)
        let (checkpoint, folder) = try Checkpoint.load(data + "/run/checkpoints")
        var generator = try checkpoint.file("netG", in: folder)
        guard case .float32(var values, let shape) = generator.tensors["main.0.weight"]! else { return }
        values[3] = .nan
        generator.tensors["main.0.weight"] = .float32(values, shape: shape)
        try FileManager.default.createDirectory(atPath: data + "/nan", withIntermediateDirectories: true)
        try writeSafetensors(generator, to: data + "/nan/netG.safetensors")
        var start = tinyOptions(data)
        (start.steps, start.initFrom) = (1, data + "/nan/netG.safetensors")
        #expect { try train(start, settings: plainSettings(data + "/from-nan"), backend: testBackend(), log: { _ in }) } throws: {
            "\($0)".contains("main.0.weight holds 1 non-finite values")
        }
    }
}

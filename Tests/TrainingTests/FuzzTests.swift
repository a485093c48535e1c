import CPUReference
import Datasets
import Foundation
import GenerativeModels
import TensorGraph
import TestSupport
import Testing
import Training

/// The run-folder readers and the CLI on mutated valid files (issue 19): every case reads or
/// is refused with a message, never traps or hangs. `GENOCL_FUZZ_CASES` sets the cases
/// (tools/fuzz runs the long run); the seed is `GENOCL_TEST_SEED`'s.
@Suite(.timeLimit(.minutes(10))) struct FuzzTests {
    /// Runs `cases` outcomes of `attempt` (which mutates and reads one input), counting reads and refusals.
    func fuzz(_ format: String, cases: Int, _ attempt: (Int) throws -> String) -> (read: Int, refused: Int) {
        var (read, refused) = (0, 0)
        for k in 0..<cases {
            let start = Date()
            do {
                _ = try attempt(k)
                read += 1
            } catch {
                refused += 1
                #expect(!"\(error)".isEmpty, "\(format) case \(k): an error without a message")
            }
            #expect(Date().timeIntervalSince(start) < 20, "\(format) case \(k) took \(Date().timeIntervalSince(start)) s, seed \(testSeed)")
        }
        return (read, refused)
    }

    @Test func runFolderFilesNeverTrap() throws {
        let cases = fuzzCases(short: 100)
        let data = try writeTinyDataset()
        var options = tinyOptions(data)
        (options.steps, options.checkpointEvery) = (1, 1)
        try train(options, settings: plainSettings(data + "/run"), backend: CPUBackend(), log: { _ in })
        let config = try String(contentsOfFile: data + "/run/config.json", encoding: .utf8)
        let generator = [UInt8](try Data(contentsOf: URL(fileURLWithPath: data + "/run/checkpoints/step_000001/netG.safetensors")))
        let latents = encodeNpy((0..<24).map { Float($0) / 24 }, shape: [3, 8])
        var mutator = Mutator(seed: testSeed)
        var results: [String: (read: Int, refused: Int)] = [:]
        let dir = data + "/fuzz"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        results["npy"] = fuzz("npy", cases: cases) { _ in
            let (bytes, what) = mutator.mutate(latents, header: 128)
            _ = try decodeNpy(bytes, path: "z.npy (\(what))")
            return what
        }
        results["config.json"] = fuzz("config.json", cases: cases) { _ in
            let (text, what) = mutator.mutateText(config)
            let decoded = try JSONDecoder().decode(RunConfig.self, from: Data(text.utf8))
            if let problem = decoded.options.problem() { throw PlanError(problem) }
            return what
        }
        // A mutated generator as a bare netG.safetensors: read, recognized and sampled from, or refused.
        results["netG"] = fuzz("netG", cases: cases) { _ in
            let (bytes, what) = mutator.mutate(generator, header: 512)
            try Data(bytes).write(to: URL(fileURLWithPath: dir + "/netG.safetensors"))
            var sample = SampleOptions(checkpoint: dir + "/netG.safetensors")
            (sample.count, sample.output) = (2, dir + "/out")
            try Training.sample(sample, backend: CPUBackend())
            return what
        }
        print(
            "fuzz (seed \(testSeed)): "
                + results.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.read) read, \($0.value.refused) refused" }.joined(
                    separator: "; "))
    }

    /// The CLI itself on mutated files: `genocl train --dry-run` on a mutated IDX folder, and
    /// `genocl train --resume` of a run whose config.json or generator checkpoint is mutated,
    /// end with a status, never a signal or a hang.
    @Test(.enabled(if: ProcessTests.runs, "the genocl binary was not built beside the tests")) func theCLINeverTraps() throws {
        let binary = try #require(ProcessTests.binary, "the genocl binary was not built beside the tests")
        let cases = max(fuzzCases(short: 100) / 10, 4)
        let data = try writeTinyDataset()
        let images = [UInt8](try Data(contentsOf: URL(fileURLWithPath: data + "/train-images-idx3-ubyte.gz")))
        let tiny = ["--device", "cpu-reference", "--image-size", "16", "--ngf", "4", "--ndf", "4", "--batch-size", "4"]
        var mutator = Mutator(seed: testSeed &+ 1)
        var (signals, statuses) = ([String](), [String: Int]())
        /// Runs genocl; counts its status under the first word of `what` (nil: not counted).
        func run(_ arguments: [String], _ what: String, counted: Bool = true) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
            process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
            process.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try process.run()
            let deadline = Date().addingTimeInterval(60)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                signals.append("\(what): hung")
            }
            process.waitUntilExit()
            if process.terminationReason == .uncaughtSignal {
                signals.append("\(what): signal \(process.terminationStatus)")
            } else if counted {
                statuses[String(what.prefix { $0 != " " }) + (process.terminationStatus == 0 ? " ran" : " refused"), default: 0] += 1
            }
        }
        for k in 0..<cases {
            let (bytes, what) = mutator.mutate(images, header: 32)
            let folder = data + "/case\(k)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: folder + "/train-images-idx3-ubyte.gz"))
            try FileManager.default.copyItem(atPath: data + "/train-labels-idx1-ubyte.gz", toPath: folder + "/train-labels-idx1-ubyte.gz")
            try run(["train", "--data", folder, "--dry-run", "--out", folder + "/run"] + tiny, "IDX case \(k) (\(what))")
        }
        // A Kaggle-style table, mutated as text.
        let columns: [String] = ["label"] + (0..<16).map { "pixel\($0)" }
        let rows: [String] = (0..<8).map { row in ([row % 3] + (0..<16).map { (row * 16 + $0) * 2 }).map(String.init).joined(separator: ",")
        }
        let table: String = ([columns.joined(separator: ",")] + rows).joined(separator: "\n") + "\n"
        for k in 0..<cases {
            let mutated = mutator.mutateText(table)
            let path = data + "/table\(k).csv"
            try mutated.text.write(toFile: path, atomically: true, encoding: .utf8)
            try run(
                ["train", "--data", path, "--model", "acgan", "--dry-run", "--out", data + "/table\(k)"] + tiny,
                "CSV case \(k) (\(mutated.what))")
        }
        // A one-step run, resumed to two steps with one of its files mutated.
        let base = data + "/base"
        try run(["train", "--data", data, "--steps", "1", "--checkpoint-every", "1", "--out", base] + tiny, "the base run", counted: false)
        let config = try String(contentsOfFile: base + "/config.json", encoding: .utf8)
        let generator = [UInt8](try Data(contentsOf: URL(fileURLWithPath: base + "/checkpoints/step_000001/netG.safetensors")))
        for k in 0..<cases {
            let folder = data + "/resume\(k)"
            try FileManager.default.copyItem(atPath: base, toPath: folder)
            let what: String
            if k % 2 == 0 {
                let mutated = mutator.mutateText(config)
                try mutated.text.write(toFile: folder + "/config.json", atomically: true, encoding: .utf8)
                what = "config.json case \(k) (\(mutated.what))"
            } else {
                let mutated = mutator.mutate(generator, header: 512)
                try Data(mutated.bytes).write(to: URL(fileURLWithPath: folder + "/checkpoints/step_000001/netG.safetensors"))
                what = "netG.safetensors case \(k) (\(mutated.what))"
            }
            try run(["train", "--resume", folder, "--steps", "2", "--device", "cpu-reference"], what)
        }
        print("CLI fuzz (seed \(testSeed)): " + statuses.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
        #expect(signals.isEmpty, "seed \(testSeed): \(signals)")
    }
}

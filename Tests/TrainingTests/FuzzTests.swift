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

    /// The CLI itself on mutated files: `genocl train --dry-run` on a mutated IDX folder and
    /// `genocl sample` on a mutated generator end with a status, never a signal.
    @Test(.enabled(if: ProcessTests.runs, "the genocl binary was not built beside the tests")) func theCLINeverTraps() throws {
        let binary = try #require(ProcessTests.binary, "the genocl binary was not built beside the tests")
        let cases = max(fuzzCases(short: 100) / 10, 4)
        let data = try writeTinyDataset()
        let images = [UInt8](try Data(contentsOf: URL(fileURLWithPath: data + "/train-images-idx3-ubyte.gz")))
        var mutator = Mutator(seed: testSeed &+ 1)
        var signals: [String] = []
        for k in 0..<cases {
            let (bytes, what) = mutator.mutate(images, header: 32)
            let folder = data + "/case\(k)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: folder + "/train-images-idx3-ubyte.gz"))
            try FileManager.default.copyItem(atPath: data + "/train-labels-idx1-ubyte.gz", toPath: folder + "/train-labels-idx1-ubyte.gz")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = [
                "train", "--device", "cpu-reference", "--data", folder, "--image-size", "16", "--ngf", "4", "--ndf", "4", "--dry-run",
                "--out", folder + "/run",
            ]
            process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
            process.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try process.run()
            let deadline = Date().addingTimeInterval(60)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                signals.append("case \(k) (\(what)): hung")
            }
            process.waitUntilExit()
            if process.terminationReason == .uncaughtSignal { signals.append("case \(k) (\(what)): signal \(process.terminationStatus)") }
        }
        #expect(signals.isEmpty, "seed \(testSeed): \(signals)")
    }
}

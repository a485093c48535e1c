import Foundation
import Testing
import Training

/// `genocl` itself, killed and interrupted while it trains: the built binary beside the test bundle.
@Suite struct ProcessTests {
    static let binary: String? = {
        let directory = (CommandLine.arguments[0] as NSString).deletingLastPathComponent
        for candidate in [directory + "/genocl", (directory as NSString).deletingLastPathComponent + "/genocl"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return nil
    }()

    /// Runs without the binary only outside CI, where a missing binary means the tests were
    /// built alone; under CI the tests fail on it instead of skipping silently.
    static let runs = binary != nil || ProcessInfo.processInfo.environment["CI"] == "true"

    /// Starts genocl with `arguments` (or `launcher` with its arguments before genocl's, as
    /// mpirun), writing its output to `output`, with `environment` added to this process's.
    func start(_ arguments: [String], output: String, launcher: [String] = [], environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        let binary = try #require(
            Self.binary,
            "the genocl binary was not built beside the tests (\(CommandLine.arguments[0])): build it with `swift build` (tools/test.sh runs `swift test`, which builds it)"
        )
        process.executableURL = URL(fileURLWithPath: launcher.first ?? binary)
        process.arguments = launcher.isEmpty ? arguments : Array(launcher.dropFirst()) + [binary] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        FileManager.default.createFile(atPath: output, contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: output)
        process.standardError = process.standardOutput
        try process.run()
        return process
    }

    func waitFor(_ path: String, seconds: Double = 120) {
        let deadline = Date().addingTimeInterval(seconds)
        while !FileManager.default.fileExists(atPath: path) && Date() < deadline { usleep(20_000) }
    }

    /// Waits for `process` to end; one still running after `seconds` is killed (and the test fails).
    func finish(_ process: Process, seconds: Double = 120) {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            Issue.record("genocl did not stop within \(seconds) s; killing it")
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
    }

    func arguments(_ data: String, _ folder: String, steps: Int) -> [String] {
        [
            "train", "--device", "cpu-reference", "--data", data, "--image-size", "16", "--latent-size", "8", "--ngf", "8", "--ndf", "8",
            "--batch-size", "8", "--steps", "\(steps)", "--checkpoint-every", "1", "--sample-every", "1000", "--out", folder,
        ]
    }

    @Test(.enabled(if: runs, "the genocl binary was not built beside the tests")) func killDashNineLeavesALoadableCheckpoint() throws {
        let data = try writeTinyDataset()
        let folder = data + "/run"
        let process = try start(arguments(data, folder, steps: 100_000), output: data + "/out.txt")
        waitFor(folder + "/checkpoints/latest")
        usleep(UInt32.random(in: 50_000...400_000))  // land somewhere inside the stream of checkpoint writes
        kill(process.processIdentifier, SIGKILL)
        finish(process)
        #expect(process.terminationReason == .uncaughtSignal)
        let (checkpoint, loaded) = try Checkpoint.load(folder + "/checkpoints")
        let step = try #require(checkpoint.file("optimizer", in: loaded).metadata["step"].flatMap(Int.init))
        #expect(loaded.hasSuffix(String(format: "step_%06d", step)))
        // And the run resumes from it.
        let resumed = try start(
            ["train", "--device", "cpu-reference", "--resume", folder, "--steps", "\(step + 2)"], output: data + "/resumed.txt")
        finish(resumed)
        let text = try String(contentsOfFile: data + "/resumed.txt", encoding: .utf8)
        #expect(resumed.terminationStatus == 0, "\(text)")
        #expect(text.contains("resumed from") && text.contains("done: \(step + 2) steps"))
    }

    @Test(.enabled(if: runs, "the genocl binary was not built beside the tests")) func ctrlCSavesACheckpointAndExitsCleanly() throws {
        let data = try writeTinyDataset()
        let folder = data + "/run"
        let process = try start(arguments(data, folder, steps: 100_000), output: data + "/out.txt")
        waitFor(folder + "/checkpoints/latest")
        process.interrupt()
        finish(process)
        let text = try String(contentsOfFile: data + "/out.txt", encoding: .utf8)
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("interrupted at step") && text.contains("checkpoint saved; continue with --resume"))
        _ = try Checkpoint.load(folder + "/checkpoints")
    }

    /// Standard output on a full device (`> /dev/full`): the run trains to the end and its
    /// folder is complete (it trapped in a file write before).
    @Test(.enabled(if: runs, "the genocl binary was not built beside the tests")) func aFullStandardOutputDoesNotStopTheRun() throws {
        let data = try writeTinyDataset()
        let folder = data + "/run"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Self.binary, "the genocl binary was not built beside the tests"))
        process.arguments = arguments(data, folder, steps: 3)
        process.standardOutput = try #require(FileHandle(forWritingAtPath: "/dev/full"))
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        finish(process)
        #expect(process.terminationStatus == 0)
        let rows = try String(contentsOfFile: folder + "/metrics.csv", encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 4 && FileManager.default.fileExists(atPath: folder + "/checkpoints/step_000003/netG.safetensors"))
    }
}

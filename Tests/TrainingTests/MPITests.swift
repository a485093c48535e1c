import Foundation
import TestSupport
import Testing
import Training

/// `mpirun -np 2 genocl train` on the loopback (issue 20): the ranks train as one process
/// does, a run moves between rank counts, and a killed rank stops the others.
@Suite(.serialized) struct MPITests {
    static let mpirun: String? = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first { FileManager.default.isExecutableFile(atPath: $0) }
    /// Under CI the tests fail on a missing mpirun or binary (tools/setup-debian.sh installs Open MPI) instead of skipping.
    static let runs = (mpirun != nil && ProcessTests.binary != nil) || ProcessInfo.processInfo.environment["CI"] == "true"

    /// Starts `genocl` with `arguments`, under `mpirun -np ranks` when `ranks` is given.
    func start(_ arguments: [String], ranks: Int?, output: String, environment: [String: String] = [:]) throws -> Process {
        guard let ranks else { return try ProcessTests().start(arguments, output: output, environment: environment) }
        let mpirun = try #require(Self.mpirun, "mpirun is missing: tools/setup-debian.sh installs openmpi-bin")
        // Tests run as root in CI; Open MPI asks for both to allow it.
        let root = ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"]
        return try ProcessTests().start(
            arguments, output: output, launcher: [mpirun, "--oversubscribe", "-np", "\(ranks)"],
            environment: environment.merging(root) { $1 })
    }

    /// Runs to the end (at most `seconds`); returns the exit status and the output.
    @discardableResult
    func run(_ arguments: [String], ranks: Int?, in folder: String, seconds: Double = 300, environment: [String: String] = [:]) throws
        -> (status: Int32, output: String)
    {
        let output = folder + "-\(UUID().uuidString).txt"
        let process = try start(arguments, ranks: ranks, output: output, environment: environment)
        ProcessTests().finish(process, seconds: seconds)
        return (process.terminationStatus, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }

    let device = openCLTestsEnabled ? "0" : "cpu-reference"

    func arguments(_ data: String, _ folder: String, steps: Int) -> [String] {
        [
            "train", "--model", "wgan-gp", "--device", device, "--data", data, "--image-size", "16", "--latent-size", "8", "--ngf", "8",
            "--ndf", "8", "--batch-size", "8", "--critic-steps", "2", "--steps", "\(steps)", "--checkpoint-every", "2", "--sample-every",
            "1000", "--out", folder,
        ]
    }

    /// metrics.csv's losses, and the latest checkpoint's tensors.
    func result(_ folder: String) throws -> (metrics: [[Float]], weights: [String: [Float]]) {
        let rows = try String(contentsOfFile: folder + "/metrics.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        let metrics = rows.map { $0.split(separator: ",").dropFirst(2).dropLast(2).compactMap { Float($0) } }
        return (metrics, try latestTensors(folder))
    }

    func expectAgree(
        _ a: (metrics: [[Float]], weights: [String: [Float]]), _ b: (metrics: [[Float]], weights: [String: [Float]]), _ context: String
    ) {
        let tolerance = Tolerance(atol: 2e-5, rtol: 2e-4)
        #expect(
            a.metrics.count == b.metrics.count && !a.weights.isEmpty && a.weights.keys.sorted() == b.weights.keys.sorted(), "\(context)")
        for (i, (x, y)) in zip(a.metrics, b.metrics).enumerated() {
            if let problem = mismatch(x, y, tolerance, "\(context): metrics row \(i + 1)") { Issue.record("\(problem)") }
        }
        for (name, values) in a.weights {
            if let problem = mismatch(values, b.weights[name] ?? [], tolerance, "\(context): \(name)") { Issue.record("\(problem)") }
        }
    }

    /// Two ranks train WGAN-GP as one process does, and the run resumes on the other count.
    @Test(.enabled(if: runs, "mpirun or the genocl binary is missing")) func twoRanksTrainAsOneProcessAndResumeOnOne() throws {
        let data = try writeTinyDataset()
        let one = try run(arguments(data, data + "/one", steps: 4), ranks: nil, in: data + "/one")
        #expect(one.status == 0, "\(one.output)")
        let two = try run(arguments(data, data + "/two", steps: 4), ranks: 2, in: data + "/two")
        #expect(two.status == 0 && two.output.contains("2 MPI ranks"), "\(two.output)")
        expectAgree(try result(data + "/two"), try result(data + "/one"), "2 ranks vs 1 process")
        // Started on two ranks, resumed in one process; started in one, resumed on two.
        #expect(try run(arguments(data, data + "/twoThenOne", steps: 2), ranks: 2, in: data + "/a").status == 0)
        let resumedOnOne = try run(
            ["train", "--device", device, "--resume", data + "/twoThenOne", "--steps", "4"], ranks: nil, in: data + "/b")
        #expect(resumedOnOne.status == 0 && resumedOnOne.output.contains("resumed from"), "\(resumedOnOne.output)")
        expectAgree(try result(data + "/twoThenOne"), try result(data + "/one"), "2 ranks, resumed in 1 process")
        #expect(try run(arguments(data, data + "/oneThenTwo", steps: 2), ranks: nil, in: data + "/c").status == 0)
        let resumedOnTwo = try run(
            ["train", "--device", device, "--resume", data + "/oneThenTwo", "--steps", "4"], ranks: 2, in: data + "/d")
        #expect(resumedOnTwo.status == 0, "\(resumedOnTwo.output)")
        expectAgree(try result(data + "/oneThenTwo"), try result(data + "/one"), "1 process, resumed on 2 ranks")
    }

    /// Every model trains from the command line on two ranks, and on two PoCL devices of one
    /// process (`POCL_DEVICES="pthread pthread"` makes PoCL show two).
    @Test(.enabled(if: runs, "mpirun or the genocl binary is missing")) func everyModelTrainsOnTwoRanksAndTwoDevices() throws {
        let (digits, pairs) = (try writeTinyDataset(), try writePairedDataset())
        for model in ["dcgan", "wgan", "wgan-gp", "vae", "vae-dense", "cvae", "acgan", "pix2pix"] {
            let data = model == "pix2pix" ? pairs : digits
            let size =
                model == "pix2pix"
                ? ["--image-size", "32", "--channels", "3", "--batch-size", "2"] : ["--image-size", "16", "--batch-size", "8"]
            let common =
                ["train", "--model", model, "--data", data, "--ngf", "4", "--ndf", "4", "--steps", "2", "--critic-steps", "1"] + size
            let ranks = try run(common + ["--device", device, "--out", data + "/mpi-" + model], ranks: 2, in: data + "/mpi")
            #expect(ranks.status == 0 && ranks.output.contains("done: 2 steps"), "\(model) on 2 ranks: \(ranks.output)")
            guard openCLTestsEnabled else { continue }
            let devices = try run(
                common + ["--device", "0,1", "--sync-batchnorm", "--out", data + "/devices-" + model], ranks: nil, in: data + "/devices",
                environment: ["POCL_DEVICES": "pthread pthread"])
            #expect(devices.status == 0 && devices.output.contains("2 × "), "\(model) on 2 PoCL devices: \(devices.output)")
        }
    }

    /// A rank killed mid-run: mpirun stops the other within seconds, nothing hangs, and the
    /// last checkpoint stays loadable.
    @Test(.enabled(if: runs, "mpirun or the genocl binary is missing")) func aKilledRankStopsTheRun() throws {
        let data = try writeTinyDataset()
        let folder = data + "/run"
        let output = data + "/out.txt"
        let process = try start(arguments(data, folder, steps: 100_000), ranks: 2, output: output)
        ProcessTests().waitFor(folder + "/checkpoints/latest")
        // The ranks are mpirun's children: kill the second one.
        let children = try String(
            contentsOfFile: "/proc/\(process.processIdentifier)/task/\(process.processIdentifier)/children", encoding: .utf8
        )
        .split(separator: " ").compactMap { Int32($0) }
        #expect(children.count == 2, "mpirun's children: \(children)")
        let killed = Date()
        kill(try #require(children.last), SIGKILL)
        ProcessTests().finish(process, seconds: 60)
        let seconds = Date().timeIntervalSince(killed)
        #expect(
            process.terminationStatus != 0 && seconds < 30, "mpirun ended \(seconds) s after the kill with \(process.terminationStatus)")
        // Rank 0 is gone (or a zombie waiting for its reaper) within seconds too.
        let survivor = try #require(children.first)
        func running() -> Bool {
            guard let status = try? String(contentsOfFile: "/proc/\(survivor)/status", encoding: .utf8) else { return false }
            return !status.contains("State:\tZ")
        }
        let deadline = Date().addingTimeInterval(10)
        while running() && Date() < deadline { usleep(50_000) }
        #expect(!running(), "rank 0 (pid \(survivor)) is still running")
        _ = try Checkpoint.load(folder + "/checkpoints")
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        #expect(text.contains("signal 9") || text.contains("Killed") || text.contains("exited"), "\(text)")
    }
}

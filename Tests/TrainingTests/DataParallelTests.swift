import CPUReference
import Foundation
import GenerativeModels
import TensorGraph
import TestSupport
import Testing
import Training

/// The float tensors of a GAN run's latest checkpoint, as "<file> <name>".
func latestTensors(_ folder: String) throws -> [String: [Float]] {
    let (checkpoint, path) = try Checkpoint.load(folder + "/checkpoints")
    var tensors: [String: [Float]] = [:]
    for file in ["netG", "netD", "optimizer"] {
        for (name, tensor) in try checkpoint.file(file, in: path).tensors {
            if case .float32(let values, _) = tensor { tensors[file + " " + name] = values }
        }
    }
    return tensors
}

/// Data parallelism (issue 20): a batch split across devices trains as on one device.
@Suite struct DataParallelTests {
    /// Two backends of the kind the suite tests: two OpenCL replicas on the PoCL device (each
    /// with its own queue), or two CPU oracles.
    func backends(_ count: Int) throws -> [any Backend] { try (0..<count).map { _ in try testBackend() } }

    /// Trains `options` on `devices` replicas into `folder`; returns the metrics and the
    /// latest checkpoint's tensors, by file and name.
    func train(_ options: TrainOptions, devices: Int, folder: String, resume: Bool = false) throws
        -> (metrics: [StepMetrics], weights: [String: [Float]])
    {
        var settings = plainSettings(folder)
        settings.resume = resume
        let metrics = try Training.train(options, settings: settings, backends: try backends(devices), log: { _ in })
        return (metrics, try latestTensors(folder))
    }

    /// Every metric and every weight of `a` within `tolerance` of `b`'s.
    func expectAgree(
        _ a: (metrics: [StepMetrics], weights: [String: [Float]]), _ b: (metrics: [StepMetrics], weights: [String: [Float]]),
        _ tolerance: Tolerance, _ context: String
    ) {
        #expect(a.metrics.count == b.metrics.count && a.weights.keys.sorted() == b.weights.keys.sorted(), "\(context)")
        for (x, y) in zip(a.metrics, b.metrics) {
            if let problem = mismatch(x.values, y.values, tolerance, "\(context): step \(x.step) metrics \(x.names)") {
                Issue.record("\(problem)")
            }
        }
        for (name, values) in a.weights {
            if let problem = mismatch(values, b.weights[name] ?? [], tolerance, "\(context): \(name)") { Issue.record("\(problem)") }
        }
    }

    func wganGP(_ data: String, steps: Int) -> TrainOptions {
        var options = tinyOptions(data, model: .wganGP)
        (options.steps, options.criticSteps, options.checkpointEvery, options.sampleEvery) = (steps, 2, 2, 1000)
        return options
    }

    /// WGAN-GP has no BatchNorm: two devices with the same global batch reproduce one device
    /// (noise, interpolation weights and data order are keyed by the global example).
    @Test func twoDevicesTrainWGANGPAsOneDoes() throws {
        let data = try writeTinyDataset()
        let one = try train(wganGP(data, steps: 3), devices: 1, folder: data + "/one")
        let two = try train(wganGP(data, steps: 3), devices: 2, folder: data + "/two")
        expectAgree(two, one, Tolerance(atol: 2e-5, rtol: 2e-4), "2 devices vs 1")
        // The losses move, so the comparison is not between two untrained runs.
        #expect(one.metrics[0]["loss_d"] != one.metrics[2]["loss_d"])
    }

    /// A run started on two devices resumes on one (and the other way round) as if it never stopped.
    @Test func aRunResumesOnAnotherDeviceCount() throws {
        let data = try writeTinyDataset()
        let straight = try train(wganGP(data, steps: 4), devices: 1, folder: data + "/straight")
        _ = try train(wganGP(data, steps: 2), devices: 2, folder: data + "/twoThenOne")
        let resumedOnOne = try train(wganGP(data, steps: 4), devices: 1, folder: data + "/twoThenOne", resume: true)
        _ = try train(wganGP(data, steps: 2), devices: 1, folder: data + "/oneThenTwo")
        let resumedOnTwo = try train(wganGP(data, steps: 4), devices: 2, folder: data + "/oneThenTwo", resume: true)
        let last = (metrics: Array(straight.metrics.suffix(2)), weights: straight.weights)
        expectAgree(resumedOnOne, last, Tolerance(atol: 2e-5, rtol: 2e-4), "2 devices, resumed on 1")
        expectAgree(resumedOnTwo, last, Tolerance(atol: 2e-5, rtol: 2e-4), "1 device, resumed on 2")
    }

    /// DCGAN's BatchNorm: with synchronized statistics two devices normalize by the global
    /// batch's, so they reproduce one device (running statistics included); per device they
    /// normalize by their halves' and the runs part.
    @Test func batchNormPerDeviceAndSynchronized() throws {
        let data = try writeTinyDataset()
        var options = tinyOptions(data)
        (options.steps, options.checkpointEvery, options.sampleEvery) = (3, 3, 3)
        let one = try train(options, devices: 1, folder: data + "/one")
        options.synchronizedBatchNorm = true
        let synchronized = try train(options, devices: 2, folder: data + "/synchronized")
        expectAgree(synchronized, one, Tolerance(atol: 5e-5, rtol: 5e-4), "synchronized BatchNorm on 2 devices vs 1")
        options.synchronizedBatchNorm = nil
        let perDevice = try train(options, devices: 2, folder: data + "/perDevice")
        #expect(perDevice.metrics.allSatisfy { $0.values.allSatisfy(\.isFinite) })
        let differs = mismatch(perDevice.metrics[0].values, one.metrics[0].values, Tolerance(atol: 1e-4, rtol: 1e-3), "") != nil
        #expect(differs, "per-device statistics of half batches should change the first step's losses")
        #expect(FileManager.default.fileExists(atPath: data + "/perDevice/samples/step_000003.png"))
    }

    /// Every model trains for two steps on two devices (conditional ones, the VAEs, pix2pix).
    @Test func everyModelTrainsOnTwoDevices() throws {
        let (digits, pairs) = (try writeTinyDataset(), try writePairedDataset())
        for model in ModelKind.allCases {
            let data = model == .pix2pix ? pairs : digits
            var options = tinyModelOptions(model, data: data)
            (options.steps, options.checkpointEvery, options.sampleEvery) = (2, 2, 2)
            var settings = plainSettings(data + "/" + model.rawValue)
            settings.interactive = false
            let metrics = try Training.train(options, settings: settings, backends: try backends(2), log: { _ in })
            #expect(metrics.count == 2 && metrics.allSatisfy { $0.values.allSatisfy(\.isFinite) }, "\(model)")
            #expect(FileManager.default.fileExists(atPath: data + "/\(model.rawValue)/checkpoints/latest"), "\(model)")
        }
    }

    @Test func aBatchThatDoesNotSplitIsRefused() throws {
        let data = try writeTinyDataset()
        var options = tinyOptions(data)
        options.batchSize = 9
        #expect { try train(options, devices: 2, folder: data + "/run") } throws: {
            "\($0)".contains("--batch-size 9 does not split evenly across 2 devices")
        }
    }

    /// A replica that fails releases the ones waiting for it in an all-reduce at once.
    @Test func aFailedReplicaReleasesTheOthers() throws {
        let group = ReplicaGroup(count: 3)
        let finished = DispatchSemaphore(value: 0)
        let start = Date()
        for index in 0..<2 {
            Thread {
                var values: [Float] = [1, 2]
                do {
                    try group.member(index).allReduceSum(&values)
                    Issue.record("replica \(index)'s sum returned without the third replica")
                } catch {
                    #expect("\(error)".contains("device 3 ran out of memory"))
                }
                finished.signal()
            }.start()
        }
        usleep(100_000)
        group.abort("device 3 ran out of memory")
        for _ in 0..<2 { #expect(finished.wait(timeout: .now() + 5) == .success) }
        #expect(Date().timeIntervalSince(start) < 5)
        // And later sums fail at once.
        var values: [Float] = [1]
        #expect(throws: PlanError.self) { try group.member(2).allReduceSum(&values) }
    }

    /// The sum is taken in replica order, the same on every replica whatever the arrival order.
    @Test func sumsAreTheSameOnEveryReplica() throws {
        let group = ReplicaGroup(count: 4)
        let results = Collected()
        let finished = DispatchSemaphore(value: 0)
        for index in 0..<4 {
            Thread {
                usleep(UInt32.random(in: 0...20_000))
                var values = randomValues(33, seed: UInt64(index))
                try? group.member(index).allReduceSum(&values)
                results.append(values)
                finished.signal()
            }.start()
        }
        for _ in 0..<4 { finished.wait() }
        let want = (0..<4).map { randomValues(33, seed: UInt64($0)) }.reduce([Float](repeating: 0, count: 33)) { zip($0, $1).map(+) }
        #expect(results.values.count == 4 && results.values.allSatisfy { $0 == want })
        #expect(group.bytesReduced == 33 * 4 && group.reductions == 1)
    }
}

/// Values appended from several threads.
private final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [[Float]] = []
    var values: [[Float]] { lock.withLock { stored } }
    func append(_ value: [Float]) { lock.withLock { stored.append(value) } }
}

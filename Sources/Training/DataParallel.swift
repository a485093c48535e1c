// Data-parallel training on several devices of one process: one replica of the model's
// trainer per device, each with a session of its own, all driven by one thread each and
// meeting in the all-reduces of their plans (the gradients, the metrics and, with
// --sync-batchnorm, BatchNorm's statistics). Threads, not processes, because the
// replicas then share the data loader, the model's host weights and one run folder, and a
// failure in one is seen by the others at once; several machines use MPI ranks instead.
import Datasets
import Foundation
import GenerativeModels
import NeuralNet
import TensorGraph

/// The trainers of one step's replicas, run together: replica 0's metrics (already the
/// global batch's), images and optimizers stand for all of them.
final class ReplicatedTrainer: ModelTrainer {
    let replicas: [any ModelTrainer]
    let group: ReplicaGroup
    private let sessions: [Session]
    /// The trainable weights, which every replica must hold bit for bit the same.
    private let weights: [Parameter]

    init(_ replicas: [any ModelTrainer], sessions: [Session], group: ReplicaGroup, weights: [Parameter]) {
        (self.replicas, self.sessions, self.group, self.weights) = (replicas, sessions, group, weights)
    }

    var optimizers: [any Optimizer] { replicas[0].optimizers }
    var companions: [Companion] { replicas[0].companions }
    var metricNames: [String] { replicas[0].metricNames }
    var batchesPerStep: Int { replicas[0].batchesPerStep }
    var schedule: (any BatchSchedule)? { replicas[0].schedule }
    /// Every replica's share, so that rates compare with one device's.
    var flopsPerStep: Double { replicas.reduce(0) { $0 + $1.flopsPerStep } }

    func seek(to step: Int) { for replica in replicas { replica.seek(to: step) } }

    /// The replicas hold the same weights: the first measures for all.
    func finishEpoch(_ metrics: [Float], keep: Bool) throws -> [Float] { try replicas[0].finishEpoch(metrics, keep: keep) }

    func train(_ batches: [Batch]) throws -> [Float] {
        let step = ReplicaStep(self, batches)
        let done = DispatchSemaphore(value: 0)
        // A thread per replica beyond the first, which runs on this one: replicas wait for
        // each other, so none may queue behind another on a shared pool.
        for index in 1..<replicas.count {
            let thread = Thread {
                step.run(index)
                done.signal()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        step.run(0)
        for _ in 1..<replicas.count { done.wait() }
        if let failure = group.failure { throw PlanError(failure + "; the run stopped, its last checkpoint stays") }
        let values = try step.results[0]!.get()
        #if DEBUG
            try checkReplicasAgree()
        #endif
        return values
    }

    /// Every replica's weights equal replica 0's, bit for bit: they start equal and apply
    /// the same summed gradients (debug builds check it after every step).
    func checkReplicasAgree() throws {
        let reference = try sessions[0].deviceValues(weights)
        for (index, session) in sessions.enumerated().dropFirst() {
            let values = try session.deviceValues(weights)
            for (i, weight) in weights.enumerated() where values[i] != reference[i] {
                throw PlanError("replica \(index)'s \(weight.name) differs from replica 0's: the replicas' updates diverged")
            }
        }
    }

    func outputs() throws -> [OutputImage] { try replicas[0].outputs() }

    func deviceName(_ index: Int) -> String { sessions[index].backend.deviceDescription }
}

/// One step of every replica, each run by its own thread.
private final class ReplicaStep: @unchecked Sendable {
    let trainer: ReplicatedTrainer
    let batches: [Batch]
    private let lock = NSLock()
    private(set) var results: [Result<[Float], any Error>?]

    init(_ trainer: ReplicatedTrainer, _ batches: [Batch]) {
        (self.trainer, self.batches) = (trainer, batches)
        results = Array(repeating: nil, count: trainer.replicas.count)
    }

    func run(_ index: Int) {
        let result = Result { try trainer.replicas[index].train(batches) }
        if case .failure(let error) = result {
            // The others may be waiting for this replica in an all-reduce: release them.
            trainer.group.abort("device \(index + 1) of \(results.count) (\(trainer.deviceName(index))) failed: \(error)")
        }
        lock.withLock { results[index] = result }
    }
}

/// Every rank holds the same weights, bit for bit (debug builds check it after every step):
/// a 16-bit FNV-1a digest of this rank's weights, summed over the ranks, is `size` times
/// its own only when (barring a one-in-65,536 collision) all digests agree.
func checkRanksAgree(_ processes: any ProcessGroup, session: Session, weights: [Parameter]) throws {
    var hash: UInt32 = 2_166_136_261
    for values in try session.deviceValues(weights) {
        for value in values ?? [] { hash = (hash ^ value.bitPattern) &* 16_777_619 }
    }
    let digest = Float(hash & 0xFFFF)
    var sum = [digest]
    try processes.allReduceSum(&sum)
    guard sum[0] == digest * Float(processes.size) else {
        throw PlanError("rank \(processes.rank)'s weights differ from another rank's: the ranks' updates diverged")
    }
}

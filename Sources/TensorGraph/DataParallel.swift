// Data parallelism: N replicas of a training step, each on its own device with 1/N of the
// global batch, their gradients (and BatchNorm statistics) averaged by `allReduce` nodes
// before the optimizer updates, so every replica's parameters stay the same. A replica's
// graph differs from one device's only in its batch size, its random streams' offsets
// (`Graph.streamOffset`) and those nodes; the communicator that sums across replicas is
// the session's: threads of one process (`ReplicaGroup`), or MPI ranks.
import Foundation

/// Which share of a data-parallel step a graph computes: the examples
/// `index·n ..< (index + 1)·n` of a global batch of `count·n`.
public struct Replica: Sendable, Equatable {
    public let index: Int, count: Int
    /// BatchNorm normalizes with the statistics of the global batch (`--sync-batchnorm`),
    /// not of this replica's share (the default, as PyTorch's DistributedDataParallel).
    public let synchronizesBatchStatistics: Bool
    public init(index: Int, count: Int, synchronizesBatchStatistics: Bool = false) {
        (self.index, self.count, self.synchronizesBatchStatistics) = (index, count, synchronizesBatchStatistics)
    }
    public static let single = Replica(index: 0, count: 1)

    /// This replica's part `[start, start + size)` of `total` items split evenly.
    public func share(of total: Int) -> Range<Int> {
        let size = total / count
        return index * size..<(index + 1) * size
    }
}

/// Sums values across the replicas of a step. Every replica calls it with the same sizes in
/// the same order (the replicas run the same plans); the sum is the same on all of them,
/// bit for bit, so their updates are too.
public protocol Communicator: AnyObject {
    /// Replaces `values` by their sum over the replicas.
    func allReduceSum(_ values: inout [Float]) throws
}

/// The processes of a data-parallel run (MPI ranks), each one replica on one device.
public protocol ProcessGroup: Communicator {
    var rank: Int { get }
    var size: Int { get }
    /// Whether any process says yes: every process gets the same answer at the same step.
    func any(_ flag: Bool) throws -> Bool
}

/// The mean of `x` over the replicas of its graph (`x` itself on one device).
public func replicaMean(_ x: Tensor) -> Tensor {
    let count = x.graph.replica.count
    guard count > 1 else { return x }
    return x.graph.apply(.allReduce, [x]) * (1 / Float(count))
}

/// The means of `xs` over the replicas of their graph, in one all-reduce: the tensors are
/// flattened into one bucket, so a step pays one synchronization for all its gradients
/// (each all-reduce waits for every replica) rather than one per parameter.
public func replicaMean(_ xs: [Tensor]) -> [Tensor] {
    guard let first = xs.first, first.graph.replica.count > 1 else { return xs }
    if xs.count == 1 { return [replicaMean(first)] }
    let bucket = replicaMean(concat(xs.map { $0.reshaped([$0.shape.count]) }, axis: 0))
    var start = 0
    return xs.map { x in
        defer { start += x.shape.count }
        return bucket.sliced(axis: 0, start..<start + x.shape.count).reshaped(x.shape)
    }
}

/// The replicas of one process, one thread each: `member(i)` is replica i's communicator.
/// A sum is taken in replica order, whatever order the threads arrive in. A replica that
/// fails calls `abort`, and every replica waiting in or arriving at a sum throws instead of
/// waiting for it forever.
public final class ReplicaGroup: @unchecked Sendable {
    public let count: Int
    private let condition = NSCondition()
    private var contributions: [[Float]?]
    private var arrived = 0, round = 0
    private var sum: [Float] = []
    /// Why the sums stopped (a replica failed), or nil.
    public private(set) var failure: String?
    /// Bytes each replica contributed to sums so far, and the sums taken (for `genocl bench`).
    public private(set) var bytesReduced = 0, reductions = 0
    /// Seconds replica 0 spent in sums: copying, waiting for the others, adding.
    public private(set) var secondsReducing = 0.0

    public init(count: Int) {
        self.count = count
        contributions = Array(repeating: nil, count: count)
    }

    public func member(_ index: Int) -> any Communicator { Member(group: self, index: index) }

    /// Stops every sum now and from now on: `reason` names the replica that failed and why.
    public func abort(_ reason: String) {
        condition.lock()
        if failure == nil { failure = reason }
        condition.broadcast()
        condition.unlock()
    }

    fileprivate func allReduceSum(_ values: inout [Float], from index: Int) throws {
        let start = index == 0 ? DispatchTime.now().uptimeNanoseconds : 0
        defer {
            if index == 0 { secondsReducing += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        }
        condition.lock()
        defer { condition.unlock() }
        if let failure { throw PlanError(failure) }
        contributions[index] = values
        arrived += 1
        if arrived == count {
            var total = contributions[0]!
            for other in contributions[1...] {
                guard let other, other.count == total.count else {
                    failure = "the replicas' all-reduce sizes differ (their plans are not the same)"
                    condition.broadcast()
                    throw PlanError(failure!)
                }
                for i in total.indices { total[i] += other[i] }
            }
            sum = total
            bytesReduced += total.count * 4
            reductions += 1
            contributions = Array(repeating: nil, count: count)
            arrived = 0
            round += 1
            condition.broadcast()
        } else {
            let mine = round
            while round == mine && failure == nil { condition.wait() }
            if round == mine, let failure { throw PlanError(failure) }
        }
        values = sum
    }

    private final class Member: Communicator {
        let group: ReplicaGroup, index: Int
        init(group: ReplicaGroup, index: Int) { (self.group, self.index) = (group, index) }
        func allReduceSum(_ values: inout [Float]) throws { try group.allReduceSum(&values, from: index) }
    }
}

/// Sums taken beside a session's plans, one at a time in the order they are started (every
/// replica starts the same sums in the same order): the plan reads a value, hands it over
/// and goes on launching the rest of its schedule while the replicas meet and add; it
/// waits only where a node reads the sum. A thread of its own, not a shared pool: it may
/// wait long for the other replicas.
final class Reducer: @unchecked Sendable {
    /// One sum in flight: its values, then their sum or why there is none.
    final class Sum: @unchecked Sendable {
        var values: [Float]
        var error: (any Error)?
        let done = DispatchSemaphore(value: 0)
        init(_ values: [Float]) { self.values = values }

        /// The sum, once taken.
        func wait() throws -> [Float] {
            done.wait()
            done.signal()  // later waits return at once
            if let error { throw error }
            return values
        }
    }

    /// The queue of sums, shared with the thread (which outlives the reducer by a moment).
    private final class Queue: @unchecked Sendable {
        let condition = NSCondition()
        var sums: [Sum] = []
        var closed = false
    }

    private let communicator: any Communicator
    private let queue = Queue()
    private var started = false

    init(_ communicator: any Communicator) { self.communicator = communicator }

    deinit {
        queue.condition.lock()
        queue.closed = true
        queue.condition.broadcast()
        queue.condition.unlock()
    }

    /// Starts summing `values` across the replicas.
    func start(_ values: [Float]) -> Sum {
        let sum = Sum(values)
        queue.condition.lock()
        defer { queue.condition.unlock() }
        queue.sums.append(sum)
        if !started {
            started = true
            let (queue, communicator) = (queue, UncheckedCommunicator(communicator))
            let thread = Thread {
                while true {
                    queue.condition.lock()
                    while queue.sums.isEmpty && !queue.closed { queue.condition.wait() }
                    guard !queue.sums.isEmpty else {
                        queue.condition.unlock()
                        return
                    }
                    let sum = queue.sums.removeFirst()
                    queue.condition.unlock()
                    do { try communicator.base.allReduceSum(&sum.values) } catch { sum.error = error }
                    sum.done.signal()
                }
            }
            thread.name = "genocl all-reduce"
            thread.start()
        }
        queue.condition.signal()
        return sum
    }
}

/// A communicator handed to the reducer's thread, the one thread that calls it then.
private struct UncheckedCommunicator: @unchecked Sendable {
    let base: any Communicator
    init(_ base: any Communicator) { self.base = base }
}

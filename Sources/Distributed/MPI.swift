// Several machines: the ranks of an `mpirun` launch, each driving one device, their
// gradients (and metrics, and synchronized BatchNorm statistics) summed by Open MPI's
// MPI_Allreduce. MPI starts only under a launcher: a plain `genocl train` never loads it.
import CMPI
import Foundation
import TensorGraph

/// This process's rank among the processes `mpirun` started, and the sums across them.
public final class MPIWorld: ProcessGroup {
    public let rank: Int, size: Int
    /// The rank among those on this machine: it picks the device from `--device`.
    public let localRank: Int
    private var finalized = false

    /// The world of an Open MPI launch of more than one process, or nil when genocl was not
    /// started by `mpirun` (or by `mpirun -np 1`). MPI is initialized here.
    public static func launched(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> MPIWorld? {
        guard let size = environment["OMPI_COMM_WORLD_SIZE"].flatMap(Int.init), size > 1 else { return nil }
        return try MPIWorld(localRank: environment["OMPI_COMM_WORLD_LOCAL_RANK"].flatMap(Int.init) ?? 0)
    }

    private init(localRank: Int) throws {
        try Self.check(genocl_mpi_init(), "MPI_Init_thread")
        try Self.check(genocl_mpi_return_errors(), "MPI_Comm_set_errhandler")
        (rank, size, self.localRank) = (Int(genocl_mpi_rank()), Int(genocl_mpi_size()), localRank)
    }

    /// Sums `values` over the ranks in place (in pieces of at most 2³¹ − 1 floats, MPI's count).
    public func allReduceSum(_ values: inout [Float]) throws {
        let piece = Int(Int32.max)
        try values.withUnsafeMutableBufferPointer { buffer in
            var start = 0
            while start < buffer.count {
                let count = min(piece, buffer.count - start)
                try Self.check(genocl_mpi_allreduce_sum(buffer.baseAddress! + start, Int32(count)), "MPI_Allreduce on rank \(rank)")
                start += count
            }
        }
    }

    /// Whether any rank says yes (a Ctrl-C seen by some ranks stops all of them at the same step).
    public func any(_ flag: Bool) throws -> Bool {
        var value: [Float] = [flag ? 1 : 0]
        try allReduceSum(&value)
        return value[0] > 0
    }

    /// Ends this rank's part of the run normally.
    public func finish() {
        guard !finalized else { return }
        finalized = true
        _ = genocl_mpi_finalize()
    }

    /// Stops every rank of the launch now (after an error on this one): nothing waits for a
    /// rank that will never reach the next all-reduce.
    public func abort(_ code: Int32 = 1) -> Never {
        _ = genocl_mpi_abort(code)
        exit(code)
    }

    private static func check(_ code: Int32, _ call: String) throws {
        guard code != MPI_SUCCESS else { return }
        var text = [CChar](repeating: 0, count: 512)
        genocl_mpi_error_string(code, &text, Int32(text.count))
        throw PlanError(
            "\(call) failed: \(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)) (error \(code)); a rank of the run has failed or its network is down"
        )
    }
}

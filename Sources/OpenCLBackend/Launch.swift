// How the backend puts work on its queue: the units an op maps to (kernels, GEMMs,
// copies), the launch shapes (how elements and rows spread over work-items on CPUs and
// GPUs), launching (profiled when profiling is on), and the scratch buffers that ops
// share (the queue is in order, so one op's scratch is free for the next).
import Foundation
import OpenCLRuntime
import TensorGraph

/// One unit of device work that an op maps to.
enum Work {
    /// A kernel of Kernels/*.cl over `count` work-items (`flops` for the profile, when known).
    /// `local` fixes the work-group size (kernels that share local memory), else the runtime picks it.
    case kernel(String, count: Int, [KernelArgument], flops: Double = 0, local: Int? = nil)
    /// Row-major `c[m×n] = op(a) · op(b) + beta · c` (our GEMM kernels or CLBlast), with element offsets.
    case gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, a: (CLBuffer, Int), b: (CLBuffer, Int), c: (CLBuffer, Int),
        beta: Float = 0)
    case copy(CLBuffer, CLBuffer, elements: Int)
}

/// How the elementwise and optimizer kernels spread `elements` over work-items (see
/// FOR_EACH_ELEMENT in Kernels/element_functions.cl): about 1024 work-items per compute unit on
/// a GPU, each striding by its work-group's width (coalesced); on a CPU about 64 per core,
/// each a contiguous run of at least 512 elements (vectorized; an optimizer's scalars are
/// paid once per run).
public struct ElementSpread: Equatable, Sendable {
    public let workItems: Int, chunk: Int, lanes: Int

    public init(elements: Int, cpu: Bool, computeUnits: Int) {
        let units = max(computeUnits, 1)
        let target = cpu ? units * 64 : units * 1024
        let chunk = max(cpu ? 512 : 1, (elements + target - 1) / target)
        lanes = cpu ? 1 : 64
        // Whole blocks of lanes · chunk elements; the kernel skips indices past the end.
        let blocks = (elements + lanes * chunk - 1) / (lanes * chunk)
        (workItems, self.chunk) = (max(blocks, 1) * lanes, chunk)
    }

    /// The kernels' trailing arguments: count, chunk, lanes.
    func arguments(_ elements: Int) -> [KernelArgument] { [.int(Int32(elements)), .int(Int32(chunk)), .int(Int32(lanes))] }

    /// The elements work-item `w` updates, as FOR_EACH_ELEMENT walks them.
    public func elements(of w: Int, count: Int) -> [Int] {
        let first = (w / lanes) * lanes * chunk + w % lanes
        return stride(from: first, to: min(first + lanes * chunk, count), by: lanes).map { $0 }
    }
}

/// How kernels that walk rows (strided copies, im2col and col2im) spread them: `parts`
/// work-items share each row, part `j` taking elements j, j + parts, … so that
/// neighbouring work-items touch neighbouring elements. A CPU keeps one work-item per row,
/// the index arithmetic paid once per row and the row's loop vectorized. A GPU gives each
/// row at least a warp's 32 work-items, and more while rows are too few to fill its units:
/// one work-item per row (per 64-element row, or per merged 8M-element copy) stalled an H100
/// for milliseconds per launch (WGAN-GP's copies took 1.0 of its 1.2 s per iteration).
public struct RowSpread: Equatable, Sendable {
    public let parts: Int

    public init(rows: Int, length: Int, cpu: Bool, computeUnits: Int) {
        guard !cpu else {
            parts = 1
            return
        }
        let target = max(computeUnits, 1) * 2048, rows = max(rows, 1)
        parts = max(1, min(length, max(32, (target + rows - 1) / rows)))
    }
}

extension OpenCLBackend {
    func run(_ work: [Work], _ op: Op) throws {
        for item in work { try perform(item, op: op.name) }
    }

    /// A scratch buffer of at least `elements` floats, reused by every op (the queue is in order).
    func scratch(_ elements: Int) throws -> CLBuffer? {
        guard elements > 0 else { return nil }
        return try grown(&scratchBuffer, elements: elements, label: "scratch")
    }

    /// `buffer`, replaced by a larger one first when it holds fewer than `elements` floats
    /// (the old one is released before the new one is allocated).
    func grown(_ buffer: inout CLBuffer?, elements: Int, label: String) throws -> CLBuffer {
        if let buffer, buffer.byteCount >= elements * 4 { return buffer }
        buffer = nil
        let new = try queue.allocate(byteCount: elements * 4, label: "\(label) (\(elements) floats)")
        buffer = new
        return new
    }

    func perform(_ work: Work, op: String) throws {
        switch work {
        case .kernel(let name, let count, let arguments, let flops, let local):
            // GENOCL_DEBUG=4 times each kernel alone, logged before its op's line.
            let start = debugLevel >= 4 ? try finishedNow() : Date()
            let event = try queue.launch(name, count: count, arguments, localSize: local)
            if debugLevel >= 4 {
                log(String(format: "genocl:   kernel %@ %.3f ms", name, try finishedNow().timeIntervalSince(start) * 1e3))
            }
            // The generated fused kernels (one name per expression) count as one in profiles.
            if let event { profiler?.record(name.hasPrefix("fused_") ? "fused_elementwise" : name, event, flops: flops) }
        case .gemm(let tA, let tB, let m, let n, let k, let a, let b, let c, let beta):
            try gemm(transposeA: tA, transposeB: tB, m: m, n: n, k: k, a: a, b: b, c: c, beta: beta)
        case .copy(let source, let destination, let elements):
            try queue.copy(source, to: destination, byteCount: elements * 4)
        }
    }
}

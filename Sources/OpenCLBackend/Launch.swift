// How the backend puts work on its queue: the units an op maps to (kernels, GEMMs,
// copies), launching them (profiled when profiling is on), and the scratch buffers
// that ops share (the queue is in order, so one op's scratch is free for the next).
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
            let event = try queue.launch(name, count: count, arguments, localSize: local)
            // The generated fused kernels (one name per expression) count as one in profiles.
            if let event { profiler?.record(name.hasPrefix("fused_") ? "fused_elementwise" : name, event, flops: flops) }
        case .gemm(let tA, let tB, let m, let n, let k, let a, let b, let c, let beta):
            try gemm(transposeA: tA, transposeB: tB, m: m, n: n, k: k, a: a, b: b, c: c, beta: beta)
        case .copy(let source, let destination, let elements):
            try queue.copy(source, to: destination, byteCount: elements * 4)
        }
    }
}

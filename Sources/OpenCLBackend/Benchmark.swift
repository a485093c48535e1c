// Device rates for `genocl bench`: what this device's fp32 units and its GEMM reach,
// measured, so that a workload's rate can be put in proportion.
import COpenCL
import Foundation
import OpenCLRuntime
import TensorGraph

extension OpenCLBackend {
    /// The fp32 multiply-add rate (FLOP/s, 2 per multiply-add) of `fma_peak`, best of three runs.
    public func measurePeakFLOPs() throws -> Double {
        let isCPU = queue.device.info.type.lowercased().contains("cpu")
        let items = isCPU ? 4096 : 1 << 20, iterations = isCPU ? 4096 : 8192
        let out = try queue.allocate(byteCount: items * 4, label: "fma_peak output")
        var best = 0.0
        for _ in 0..<3 {
            let seconds = try timed {
                let event = try queue.launch("fma_peak", count: items, [.buffer(out), .float(0.999), .int(Int32(iterations))])
                if let event { clReleaseEvent(event) }
            }
            best = max(best, Double(items) * Double(iterations) * 12 * 8 * 2 / seconds)  // 12 float8 chains
        }
        return best
    }

    /// The GEMM rate (FLOP/s) of an n×n×n matmul through this backend (as training runs it), best of three.
    public func measureGEMMFLOPs(size n: Int? = nil) throws -> (flops: Double, size: Int) {
        let size = n ?? (queue.device.info.type.lowercased().contains("cpu") ? 1024 : 4096)
        return (try measureGEMMFLOPs(m: size, n: size, k: size), size)
    }

    /// The rate (FLOP/s) of an [m, k] · [k, n] matmul through this backend, best of `runs`.
    public func measureGEMMFLOPs(m: Int, n: Int, k: Int, runs: Int = 3) throws -> Double {
        let run = try gemmRun(m: m, n: n, k: k)
        return try (0..<runs).map { _ in try run() }.max()!
    }

    /// A plan of one [m, k] · [k, n] matmul, run once (program and GEMM kernel builds), and a
    /// closure that runs it again and returns the rate (FLOP/s) of that run: one upload of the
    /// operands serves every timed run, whatever `gemmPacking` says between them.
    public func gemmRun(m: Int, n: Int, k: Int) throws -> () throws -> Double {
        // Variables: uploaded once, so each run times the GEMM itself (random operands drawn
        // in the plan cost more than the GEMM on a CPU). Not constants: a plan computes what
        // depends on constants alone once, when it is built.
        let graph = Graph()
        var rng = SplitMix64(seed: 1)
        let operand = { (name: String, rows: Int, columns: Int) in
            graph.variable(
                Parameter(name, shape: [rows, columns], value: (0..<rows * columns).map { _ in Float(rng.next() % 1024) / 1024 }))
        }
        let a = operand("gemm rate a", m, k), b = operand("gemm rate b", k, n)
        let plan = try Session(backend: self).plan(fetches: [matmul(a, b).sliced(starts: [0, 0], sizes: [1, 1])])
        try plan.run()
        return {
            let start = Date()
            try plan.run()
            return 2 * Double(m) * Double(n) * Double(k) / Date().timeIntervalSince(start)
        }
    }
}

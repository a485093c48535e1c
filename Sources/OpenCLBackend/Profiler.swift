// Kernel profiling from OpenCL events (GENOCL_PROFILE=1): per-kernel counts, total
// and mean device time, and GFLOP/s where the work is known.
import COpenCL
import Foundation
import OpenCLRuntime
import TensorGraph

final class Profiler {
    private var events: [(name: String, event: cl_event, flops: Double)] = []

    func record(_ name: String, _ event: cl_event, flops: Double = 0) {
        events.append((name, event, flops))
    }

    deinit { reset() }

    /// Forgets the events so far.
    func reset() {
        for entry in events { clReleaseEvent(entry.event) }
        events = []
    }

    /// Count, device seconds and FLOPs per kernel name, by total time. The queue must be finished.
    func totals() -> [KernelTotal] {
        var totals: [String: KernelTotal] = [:]
        for entry in events {
            var start: cl_ulong = 0, end: cl_ulong = 0
            clGetEventProfilingInfo(entry.event, cl_profiling_info(CL_PROFILING_COMMAND_START), 8, &start, nil)
            clGetEventProfilingInfo(entry.event, cl_profiling_info(CL_PROFILING_COMMAND_END), 8, &end, nil)
            let old = totals[entry.name] ?? KernelTotal(name: entry.name, count: 0, seconds: 0, flops: 0)
            totals[entry.name] = KernelTotal(
                name: entry.name, count: old.count + 1, seconds: old.seconds + Double(end &- start) * 1e-9, flops: old.flops + entry.flops)
        }
        return totals.values.sorted { $0.seconds > $1.seconds }
    }

    /// A table of kernels by total time. The queue must be finished.
    func report() -> String {
        let totals = totals()
        func column(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(width - text.count, 0)) + text }
        let all = totals.reduce(0) { $0 + $1.seconds }
        var lines = [
            "kernel".padding(toLength: 28, withPad: " ", startingAt: 0) + column("count", 8) + column("total ms", 12) + column("share", 8)
                + column("mean µs", 11) + column("GFLOP/s", 10)
        ]
        for t in totals {
            let name = t.name
            let rate = t.flops > 0 && t.seconds > 0 ? String(format: "%.2f", t.flops / t.seconds * 1e-9) : "-"
            lines.append(
                name.padding(toLength: 28, withPad: " ", startingAt: 0) + column("\(t.count)", 8)
                    + column(String(format: "%.3f", t.seconds * 1e3), 12)
                    + column(String(format: "%.1f%%", 100 * t.seconds / max(all, 1e-12)), 8)
                    + column(String(format: "%.1f", t.seconds / Double(t.count) * 1e6), 11)
                    + column(rate, 10))
        }
        return lines.joined(separator: "\n")
    }
}

// Profiling and GENOCL_DEBUG logging of the backend's ops.
extension OpenCLBackend {
    /// With GENOCL_DEBUG ≥ 3 an op is timed alone: the queue drains before (here) and after it (`logEnd`).
    func logStart() throws -> Date { debugLevel >= 3 ? try finishedNow() : Date() }

    /// Logs an op (GENOCL_DEBUG 2), with its time since `start` (3).
    func logEnd(_ description: @autoclosure () -> String, _ start: Date) {
        if debugLevel >= 3, let elapsed = try? finishedNow().timeIntervalSince(start) {
            log(String(format: "genocl: %@ %.3f ms", description(), elapsed * 1e3))
        } else if debugLevel == 2 {
            log("genocl: \(description())")
        }
    }

    /// Waits for the queue (GENOCL_DEBUG ≥ 3 times each op this way) and returns the time.
    func finishedNow() throws -> Date {
        try queue.finish()
        return Date()
    }

    /// Seconds that `body`'s device work takes (it waits for the queue before and after).
    func timed(_ body: () throws -> Void) throws -> Double {
        try queue.finish()
        let start = Date()
        try body()
        try queue.finish()
        return Date().timeIntervalSince(start)
    }

    public var isProfiling: Bool { queue.profiling }
    public var peakMemoryBytes: Int? { queue.peakAllocatedBytes }

    public func resetPeakMemory() throws {
        try queue.finish()
        queue.resetPeakBytes()
    }

    /// Per-kernel totals so far (empty when profiling is off).
    public func kernelTotals() throws -> [KernelTotal] {
        try queue.finish()
        return profiler?.totals() ?? []
    }

    /// Forgets the profile so far and restarts the peak-memory count.
    public func resetProfile() throws {
        try queue.finish()
        profiler?.reset()
        queue.resetPeakBytes()
    }

    /// Per-kernel counts and times so far (profiling must be on).
    public func profileReport() throws -> String {
        try queue.finish()
        return profiler?.report() ?? "profiling is off (set GENOCL_PROFILE=1)"
    }
}

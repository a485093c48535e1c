// Kernel profiling from OpenCL events (GENOCL_PROFILE=1): per-kernel counts, total
// and mean device time, and GFLOP/s where the work is known.
import COpenCL
import Foundation
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
            totals[entry.name] = KernelTotal(name: entry.name, count: old.count + 1, seconds: old.seconds + Double(end &- start) * 1e-9, flops: old.flops + entry.flops)
        }
        return totals.values.sorted { $0.seconds > $1.seconds }
    }

    /// A table of kernels by total time. The queue must be finished.
    func report() -> String {
        let totals = totals()
        func column(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(width - text.count, 0)) + text }
        let all = totals.reduce(0) { $0 + $1.seconds }
        var lines = ["kernel".padding(toLength: 28, withPad: " ", startingAt: 0) + column("count", 8) + column("total ms", 12) + column("share", 8) + column("mean µs", 11) + column("GFLOP/s", 10)]
        for t in totals {
            let name = t.name
            let rate = t.flops > 0 && t.seconds > 0 ? String(format: "%.2f", t.flops / t.seconds * 1e-9) : "-"
            lines.append(
                name.padding(toLength: 28, withPad: " ", startingAt: 0) + column("\(t.count)", 8) + column(String(format: "%.3f", t.seconds * 1e3), 12)
                    + column(String(format: "%.1f%%", 100 * t.seconds / max(all, 1e-12)), 8) + column(String(format: "%.1f", t.seconds / Double(t.count) * 1e6), 11)
                    + column(rate, 10))
        }
        return lines.joined(separator: "\n")
    }
}


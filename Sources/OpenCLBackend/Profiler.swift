// Kernel profiling from OpenCL events (GENOCL_PROFILE=1): per-kernel counts, total
// and mean device time, and GFLOP/s where the work is known.
import COpenCL
import Foundation

final class Profiler {
    private var events: [(name: String, event: cl_event, flops: Double)] = []

    func record(_ name: String, _ event: cl_event, flops: Double = 0) {
        events.append((name, event, flops))
    }

    deinit { for entry in events { clReleaseEvent(entry.event) } }

    /// A table of kernels by total time. The queue must be finished.
    func report() -> String {
        var totals: [String: (count: Int, seconds: Double, flops: Double)] = [:]
        for entry in events {
            var start: cl_ulong = 0, end: cl_ulong = 0
            clGetEventProfilingInfo(entry.event, cl_profiling_info(CL_PROFILING_COMMAND_START), 8, &start, nil)
            clGetEventProfilingInfo(entry.event, cl_profiling_info(CL_PROFILING_COMMAND_END), 8, &end, nil)
            let seconds = Double(end &- start) * 1e-9
            let old = totals[entry.name] ?? (0, 0, 0)
            totals[entry.name] = (old.count + 1, old.seconds + seconds, old.flops + entry.flops)
        }
        func column(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(width - text.count, 0)) + text }
        let all = totals.values.reduce(0) { $0 + $1.seconds }
        var lines = ["kernel".padding(toLength: 28, withPad: " ", startingAt: 0) + column("count", 8) + column("total ms", 12) + column("share", 8) + column("mean µs", 11) + column("GFLOP/s", 10)]
        for (name, t) in totals.sorted(by: { $0.value.seconds > $1.value.seconds }) {
            let rate = t.flops > 0 && t.seconds > 0 ? String(format: "%.2f", t.flops / t.seconds * 1e-9) : "-"
            lines.append(
                name.padding(toLength: 28, withPad: " ", startingAt: 0) + column("\(t.count)", 8) + column(String(format: "%.3f", t.seconds * 1e3), 12)
                    + column(String(format: "%.1f%%", 100 * t.seconds / max(all, 1e-12)), 8) + column(String(format: "%.1f", t.seconds / Double(t.count) * 1e6), 11)
                    + column(rate, 10))
        }
        return lines.joined(separator: "\n")
    }
}

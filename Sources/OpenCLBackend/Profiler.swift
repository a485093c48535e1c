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
        var lines = [String(format: "%-32@ %8@ %12@ %12@ %10@", "kernel" as NSString, "count" as NSString, "total ms" as NSString, "mean µs" as NSString, "GFLOP/s" as NSString)]
        for (name, t) in totals.sorted(by: { $0.value.seconds > $1.value.seconds }) {
            let rate = t.flops > 0 && t.seconds > 0 ? String(format: "%10.2f", t.flops / t.seconds * 1e-9) : String(repeating: " ", count: 9) + "-"
            lines.append(String(format: "%-32@ %8d %12.3f %12.1f ", name as NSString, t.count, t.seconds * 1e3, t.seconds / Double(t.count) * 1e6) + rate)
        }
        return lines.joined(separator: "\n")
    }
}

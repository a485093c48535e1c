// Choosing the backend that `--device` names.
import CPUReference
import Foundation
import OpenCLBackend
import OpenCLRuntime
import TensorGraph

/// `--device`'s default: `GENOCL_DEVICE`, else OpenCL device 0.
public let defaultDeviceSpec = ProcessInfo.processInfo.environment["GENOCL_DEVICE"].flatMap { $0.isEmpty ? nil : $0 } ?? "0"

/// The backend for a `--device` value: an OpenCL device index, or `cpu-reference`.
public func makeBackend(_ spec: String, profiling: Bool? = nil) throws -> any Backend {
    if spec == "cpu-reference" { return CPUBackend() }
    guard let index = Int(spec), index >= 0 else {
        throw PlanError("--device \(spec): expected an OpenCL device index (see `genocl devices`) or cpu-reference")
    }
    return try OpenCLBackend(device: index, profiling: profiling)
}

/// `genocl devices`: every OpenCL platform and device, one block each.
public func describeDevices() throws -> String {
    try listDevices().map { d in
        let gib = { (bytes: Int) in String(format: "%.1f GiB", Double(bytes) / 1_073_741_824) }
        return """
            device \(d.index): \(d.name)
              platform        \(d.platformName) (\(d.platformVersion))
              type, vendor    \(d.type), \(d.vendor)
              driver          \(d.driverVersion)
              OpenCL C        \(d.openCLCVersion)
              compute units   \(d.computeUnits) at \(d.clockMHz) MHz
              memory          \(gib(d.globalMemory)) global, \(d.localMemory / 1024) KiB local, \(gib(d.maxAllocation)) largest allocation
              work-group      \(d.maxWorkGroupSize) work-items at most
              fp16            \(d.fp16 ? "yes" : "no")
              fp32 FMA        \(d.fusedMultiplyAdd ? "in hardware (kernels use fma)" : "no (kernels use mad)")
            """
    }.joined(separator: "\n")
}

// Choosing the backend that `--device` names, listing the devices, and what only an
// OpenCL device can measure (its peak and GEMM rates, GEMM packing). The one module
// besides the CLI that knows the concrete backends; Training works on `Backend`.
import CPUReference
import Foundation
import OpenCLBackend
import OpenCLRuntime
import TensorGraph
import Training

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
/// What is wrong with a `--device` list (a message naming the value), or nil.
public func deviceListProblem(_ specs: [String]) -> String? {
    for spec in specs where spec != "cpu-reference" && (Int(spec) ?? -1) < 0 {
        let which = specs.count > 1 ? " for each device of the list, got \"\(spec)\"" : ""
        return "--device \(specs.joined(separator: ",")): expected an OpenCL device index (see `genocl devices`) or cpu-reference\(which)"
    }
    return specs.isEmpty ? "--device needs a device index (see `genocl devices`) or cpu-reference" : nil
}

/// The backends of a `--device` list: a data-parallel run uses one per entry (an index may
/// repeat: two replicas on one device, each with its own queue, share its context).
public func makeBackends(_ specs: [String], profiling: Bool? = nil) throws -> [any Backend] {
    if let problem = deviceListProblem(specs) { throw PlanError(problem) }
    return try specs.map { try makeBackend($0, profiling: profiling) }
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

/// Measures the device's GEMM and multiply-add rates (OpenCL devices only).
public func measureDeviceRates(_ backend: any Backend) throws -> DeviceRates {
    var rates = DeviceRates(device: backend.deviceDescription)
    if let openCL = backend as? OpenCLBackend {
        let gemm = try openCL.measureGEMMFLOPs()
        (rates.gemmGFLOPs, rates.gemmSize) = (gemm.flops / 1e9, gemm.size)
        rates.peakGFLOPs = try openCL.measurePeakFLOPs() / 1e9
    }
    return rates
}

/// `genocl bench --gemm MxNxK`: an [M, K] · [K, N] matmul's rate through the backend as
/// training runs it, then (on OpenCL, where our GEMM kernels serve) with B's packing into
/// panels forced off and on: `rounds` alternating rounds, the best rate of each.
public func benchGEMM(m: Int, n: Int, k: Int, backend: any Backend, rounds: Int = 3) throws -> String {
    guard let openCL = backend as? OpenCLBackend else {
        return "\(m)×\(n)×\(k): GEMM rates are measured on OpenCL devices only"
    }
    let settings: [(name: String, packing: Bool?)] = [("as run", nil), ("row-major", false), ("packed", true)]
    var best = [Double](repeating: 0, count: settings.count)
    defer { openCL.gemmPacking = nil }
    let run = try openCL.gemmRun(m: m, n: n, k: k)
    for _ in 0..<rounds {
        for (index, setting) in settings.enumerated() {
            openCL.gemmPacking = setting.packing
            best[index] = max(best[index], try run())
        }
    }
    let kernel = openCL.gemmKernel.map(\.rawValue) ?? "?"
    let rates = zip(settings, best).map { "\($0.name) " + String(format: "%.1f", $1 / 1e9) }.joined(separator: ", ")
    let note = openCL.gemmKernel?.registerTile != nil ? "" : " (the \(kernel) GEMM never packs)"
    return "\(m)×\(n)×\(k), GEMM kernel \(kernel): GFLOP/s \(rates)\(note)"
}

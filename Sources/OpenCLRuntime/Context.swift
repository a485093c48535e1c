// A device's context and its compiled program, shared by everything in the
// process that uses the device; queues, buffers and kernels are per user.
import COpenCL
import Foundation

/// A device opened for compute: its OpenCL context and built programs.
public final class OpenCLDevice: @unchecked Sendable {
    public let info: DeviceInfo
    let context: cl_context
    private var programs: [String: cl_program] = [:]
    private let lock = NSLock()

    private nonisolated(unsafe) static var opened: [Int: OpenCLDevice] = [:]
    private static let openLock = NSLock()

    /// The device with global index `index` (see `listDevices`), opened once per process.
    public static func open(_ index: Int) throws -> OpenCLDevice {
        openLock.lock()
        defer { openLock.unlock() }
        if let device = opened[index] { return device }
        let devices = try listDevices()
        guard devices.indices.contains(index) else {
            let names = devices.map { "\($0.index): \($0.name) (\($0.platformName))" }.joined(separator: "; ")
            throw OpenCLError(
                "open device", CL_DEVICE_NOT_FOUND, "there is no device \(index); the devices are: \(names). Run `genocl devices`.")
        }
        let device = try OpenCLDevice(devices[index])
        opened[index] = device
        return device
    }

    private init(_ info: DeviceInfo) throws {
        self.info = info
        var status: cl_int = 0
        var id: cl_device_id? = info.id.raw
        guard let context = clCreateContext(nil, 1, &id, nil, nil, &status), status == CL_SUCCESS else {
            throw OpenCLError("clCreateContext", status, "device \(info.index) (\(info.name))")
        }
        self.context = context
    }

    deinit {
        for program in programs.values { clReleaseProgram(program) }
        clReleaseContext(context)
    }

    /// The program built from `source` with `options`: already in this process, from
    /// the on-disk binary cache when it holds a valid entry, else compiled (and cached).
    func program(source: String, options: String, cache: ProgramCache) throws -> (cl_program, ProgramOrigin) {
        lock.lock()
        defer { lock.unlock() }
        let key = ProgramCache.key(device: info, options: options, source: source)
        let memo = cache.identity + key.digest
        if let program = programs[memo] { return (program, .process) }
        let result: (cl_program, ProgramOrigin)
        if let program = cache.load(key, options: options, device: self) {
            result = (program, .diskCache)
        } else {
            result = (try buildFromSource(source, options: options, key: key, cache: cache), .compiled)
        }
        programs[memo] = result.0
        return result
    }

    private func buildFromSource(_ source: String, options: String, key: ProgramCache.Key, cache: ProgramCache) throws -> cl_program {
        var status: cl_int = 0
        let program = source.withCString { text -> cl_program? in
            var pointer: UnsafePointer<CChar>? = text
            return clCreateProgramWithSource(context, 1, &pointer, nil, &status)
        }
        guard let program, status == CL_SUCCESS else { throw OpenCLError("clCreateProgramWithSource", status) }
        try build(program, options: options)
        cache.store(program, key, device: self)
        return program
    }

    /// Builds `program`; a failure carries the compiler's log.
    func build(_ program: cl_program, options: String) throws {
        var id: cl_device_id? = info.id.raw
        let status = clBuildProgram(program, 1, &id, options, nil, nil)
        if status != CL_SUCCESS {
            let log = buildLog(program)
            clReleaseProgram(program)
            throw OpenCLError("clBuildProgram", status, "kernel build failed on \(info.name):\n\(log)")
        }
    }

    private func buildLog(_ program: cl_program) -> String {
        var size = 0
        clGetProgramBuildInfo(program, info.id.raw, cl_program_build_info(CL_PROGRAM_BUILD_LOG), 0, nil, &size)
        var bytes = [UInt8](repeating: 0, count: max(size, 1))
        clGetProgramBuildInfo(program, info.id.raw, cl_program_build_info(CL_PROGRAM_BUILD_LOG), size, &bytes, nil)
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }
}

/// Where a built program came from.
public enum ProgramOrigin: String, Sendable {
    case process = "already built in this process"
    case diskCache = "loaded from the binary cache"
    case compiled = "compiled from source"
}

/// A device memory object; released with its owner.
public final class CLBuffer: @unchecked Sendable {
    public let mem: cl_mem
    public let byteCount: Int
    private let ledger: MemoryLedger
    init(mem: cl_mem, byteCount: Int, ledger: MemoryLedger) {
        self.mem = mem
        self.byteCount = byteCount
        self.ledger = ledger
    }
    deinit {
        clReleaseMemObject(mem)
        ledger.add(-byteCount)
    }
}

/// Bytes held in live buffers of one queue.
final class MemoryLedger: @unchecked Sendable {
    private var bytes = 0
    /// The most bytes held at once since the last `resetPeak`.
    private(set) var peak = 0
    private let lock = NSLock()
    /// Adds `delta` and returns the new total.
    @discardableResult
    func add(_ delta: Int) -> Int {
        lock.lock()
        defer { lock.unlock() }
        bytes += delta
        peak = max(peak, bytes)
        return bytes
    }

    func resetPeak() {
        lock.lock()
        defer { lock.unlock() }
        peak = bytes
    }
}

/// An in-order command queue with the kernels of one program. Not thread-safe:
/// one user (one backend) per queue, as kernel arguments are per kernel object.
public final class CommandQueue: @unchecked Sendable {
    public let device: OpenCLDevice
    public let queue: cl_command_queue
    public let profiling: Bool
    /// Where the program came from: this process, the disk cache, or the compiler.
    public let programOrigin: ProgramOrigin
    /// Identifies the program (device, driver, options and source): measurements of its
    /// kernels are valid while it stays the same.
    public let programDigest: String
    private let program: cl_program
    private let ledger = MemoryLedger()
    private var kernels: [String: cl_kernel] = [:]
    /// Kernels of programs added after the queue's own (`addProgram`), by name.
    private var addedKernels: [String: cl_program] = [:]

    public init(device: OpenCLDevice, source: String, options: String = "", profiling: Bool = false, cache: ProgramCache = .shared) throws {
        self.device = device
        self.profiling = profiling
        (program, programOrigin) = try device.program(source: source, options: options, cache: cache)
        programDigest = ProgramCache.key(device: device.info, options: options, source: source).digest
        var status: cl_int = 0
        // The OpenCL 1.2 entry point: every driver has it (PoCL, NVIDIA, AMD, Intel).
        let properties = cl_command_queue_properties(profiling ? CL_QUEUE_PROFILING_ENABLE : 0)
        guard let queue = clCreateCommandQueue(device.context, device.info.id.raw, properties, &status), status == CL_SUCCESS else {
            throw OpenCLError("clCreateCommandQueue", status)
        }
        self.queue = queue
    }

    deinit {
        clFinish(queue)
        for kernel in kernels.values { clReleaseKernel(kernel) }
        clReleaseCommandQueue(queue)
    }

    /// Bytes held in this queue's live buffers.
    public var allocatedBytes: Int { ledger.add(0) }
    /// The most bytes held at once in this queue's buffers (since `resetPeakBytes`).
    public var peakAllocatedBytes: Int { ledger.peak }
    public func resetPeakBytes() { ledger.resetPeak() }

    /// A buffer of `byteCount` bytes; `label` names the tensor if the device refuses.
    /// Requests beyond the device's largest allocation or its global memory (GPU drivers
    /// allocate lazily and would fail later, at a launch that names no tensor) are refused here.
    public func allocate(byteCount: Int, label: String) throws -> CLBuffer {
        let limit = device.info.maxAllocation, memory = device.info.globalMemory
        if limit > 0 && byteCount > limit {
            throw OpenCLError(
                "clCreateBuffer", CL_INVALID_BUFFER_SIZE,
                "\(label) needs \(formatBytes(byteCount)), more than \(device.info.name)'s largest allocation of \(formatBytes(limit)); use a smaller batch or image size"
            )
        }
        let total = ledger.add(byteCount)
        if memory > 0 && total > memory {
            ledger.add(-byteCount)
            throw OpenCLError(
                "clCreateBuffer", CL_MEM_OBJECT_ALLOCATION_FAILURE,
                "\(label) needs \(formatBytes(byteCount)) with \(formatBytes(total - byteCount)) already in use, more than \(device.info.name)'s \(formatBytes(memory)) of global memory; use a smaller batch or image size"
            )
        }
        var status: cl_int = 0
        let mem = clCreateBuffer(device.context, cl_mem_flags(CL_MEM_READ_WRITE), max(byteCount, 4), nil, &status)
        guard let mem, status == CL_SUCCESS else {
            ledger.add(-byteCount)
            throw OpenCLError(
                "clCreateBuffer", status,
                "\(label) needs \(formatBytes(byteCount)) on \(device.info.name) (\(formatBytes(device.info.globalMemory)) global memory); use a smaller batch or image size"
            )
        }
        return CLBuffer(mem: mem, byteCount: byteCount, ledger: ledger)
    }

    public func write(_ bytes: UnsafeRawBufferPointer, to buffer: CLBuffer, offset: Int = 0) throws {
        try check(
            clEnqueueWriteBuffer(queue, buffer.mem, cl_bool(CL_TRUE), offset, bytes.count, bytes.baseAddress, 0, nil, nil),
            "clEnqueueWriteBuffer")
    }

    /// Reads after all queued work has finished (a blocking read on an in-order queue).
    public func read(_ buffer: CLBuffer, into bytes: UnsafeMutableRawBufferPointer, offset: Int = 0) throws {
        try check(
            clEnqueueReadBuffer(queue, buffer.mem, cl_bool(CL_TRUE), offset, bytes.count, bytes.baseAddress, 0, nil, nil),
            "clEnqueueReadBuffer")
    }

    public func copy(_ source: CLBuffer, to destination: CLBuffer, byteCount: Int) throws {
        try check(clEnqueueCopyBuffer(queue, source.mem, destination.mem, 0, 0, byteCount, 0, nil, nil), "clEnqueueCopyBuffer")
    }

    public func finish() throws { try check(clFinish(queue), "clFinish") }

    /// Builds (or loads from the cache) a further program whose kernels `names` this queue
    /// launches from then on, as it does its own.
    @discardableResult
    public func addProgram(source: String, options: String, kernels names: [String], cache: ProgramCache = .shared) throws -> ProgramOrigin
    {
        let (added, origin) = try device.program(source: source, options: options, cache: cache)
        for name in names { addedKernels[name] = added }
        return origin
    }

    /// The kernel `name` of this queue's program (or of one added to it).
    public func kernel(_ name: String) throws -> cl_kernel {
        if let kernel = kernels[name] { return kernel }
        var status: cl_int = 0
        guard let kernel = clCreateKernel(addedKernels[name] ?? program, name, &status), status == CL_SUCCESS else {
            throw OpenCLError("clCreateKernel", status, "kernel \(name)")
        }
        kernels[name] = kernel
        return kernel
    }

    /// Work-items per work-group: 64 on GPUs. A CPU runs each work-group on one core
    /// (PoCL loops over its work-items), so small launches of long work-items (a GEMM's
    /// 86 tiles) get small work-groups that every core can share — about 32 groups per
    /// core, at most 64 items each (large elementwise launches keep 64, which PoCL
    /// vectorizes across). Measured on 2 cores: GEMM 512×16×4096 33 → 48 GFLOP/s.
    func localSize(_ count: Int) -> Int {
        guard device.info.type == "CPU" else { return 64 }
        return max(1, min(64, count / (max(device.info.computeUnits, 1) * 32)))
    }

    /// Launches kernel `name` over `count` work-items (1-D) with `arguments` in order, in
    /// work-groups of `localSize` or of the runtime's choice (rounded up to whole groups).
    /// Returns the profiling event when profiling is on (the caller releases it).
    @discardableResult
    public func launch(_ name: String, count: Int, _ arguments: [KernelArgument], localSize fixed: Int? = nil) throws -> cl_event? {
        let kernel = try kernel(name)
        for (index, argument) in arguments.enumerated() {
            try argument.set(kernel, cl_uint(index), name)
        }
        guard count > 0 else { return nil }
        let local = fixed ?? localSize(count)
        var global = (count + local - 1) / local * local
        var localSize = local
        var event: cl_event?
        let status =
            profiling
            ? clEnqueueNDRangeKernel(queue, kernel, 1, nil, &global, &localSize, 0, nil, &event)
            : clEnqueueNDRangeKernel(queue, kernel, 1, nil, &global, &localSize, 0, nil, nil)
        try check(status, "clEnqueueNDRangeKernel(\(name), \(count) work-items)")
        return event
    }
}

/// One argument of a kernel launch.
public enum KernelArgument {
    case buffer(CLBuffer)
    case int(Int32)
    case uint(UInt32)
    case float(Float)
    /// A struct passed by value, as its 32-bit fields in order.
    case words([Int32])

    func set(_ kernel: cl_kernel, _ index: cl_uint, _ name: String) throws {
        let status: cl_int
        switch self {
        case .buffer(let buffer):
            var mem: cl_mem? = buffer.mem
            status = clSetKernelArg(kernel, index, MemoryLayout<cl_mem>.size, &mem)
        case .int(var value): status = clSetKernelArg(kernel, index, 4, &value)
        case .uint(var value): status = clSetKernelArg(kernel, index, 4, &value)
        case .float(var value): status = clSetKernelArg(kernel, index, 4, &value)
        case .words(let words):
            status = words.withUnsafeBytes { clSetKernelArg(kernel, index, $0.count, $0.baseAddress) }
        }
        try check(status, "clSetKernelArg(\(name), \(index))")
    }
}

func formatBytes(_ bytes: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes), unit = 0
    while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
}

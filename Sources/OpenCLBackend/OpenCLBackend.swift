import CCLBlast
import COpenCL
import Foundation
import OpenCLRuntime
import TensorGraph

/// Device memory of the OpenCL backend.
final class OpenCLBuffer: DeviceBuffer, @unchecked Sendable {
    let buffer: CLBuffer
    let capacity: Int
    init(_ buffer: CLBuffer, capacity: Int) {
        self.buffer = buffer
        self.capacity = capacity
    }
}

/// The `Backend` for any OpenCL device: each op becomes kernels of `Kernels/*.cl`
/// (embedded in the binary) or GEMMs (ours or CLBlast's) on one in-order queue. Nothing
/// waits for the device except reads (and the one-time timing of a new convolution shape).
///
/// `GENOCL_FUSE=0` runs elementwise ops one by one instead of fused.
/// `GENOCL_PROFILE=1` records kernel times (`profileReport`); `GENOCL_DEBUG`: 1 device and
/// program origin, 2 every op, 3 every op with its time (waiting after each), 4 also each of
/// its kernels' times (before the op's line) and the kernel source.
public final class OpenCLBackend: ProfilingBackend {
    public let queue: CommandQueue
    /// Fill every op's output with NaN before it runs (tests), so unwritten elements show.
    public var poisonOutputs = false
    /// Forces one convolution algorithm (tests, experiments) instead of the measured choice
    /// (where it applies: the implicit GEMM only at dilation 1, transposed with stride ≤ kernel).
    public var convolutionAlgorithm: ConvolutionAlgorithm?
    /// Whether plans hand this backend fused elementwise ops (FusedKernels.swift); tests turn it off.
    public var fusesElementwise = true
    /// Elementwise outputs over dying inputs of their size (Plan's `inPlaceInput`); not while
    /// outputs are poisoned, which would poison the input too.
    public var writesElementwiseInPlace: Bool { !poisonOutputs }
    /// Fused kernels by op, and the names of those compiled.
    private var fusedKernels: [FusedElementwise: FusedKernel] = [:]
    private var compiledFusedKernels: Set<String> = []
    /// Spreads elementwise work (optimizer updates, long sums) as on this kind of device instead of the one present (tests).
    public var spreadDevice: (cpu: Bool, computeUnits: Int)?
    var deviceKind: (cpu: Bool, computeUnits: Int) {
        spreadDevice ?? (queue.device.info.type == "CPU", queue.device.info.computeUnits)
    }
    /// How an elementwise loop over `elements` spreads over this device's work-items.
    func spread(_ elements: Int) -> ElementSpread {
        ElementSpread(elements: elements, cpu: deviceKind.cpu, computeUnits: deviceKind.computeUnits)
    }
    /// How row-walking kernels share `rows` rows of `length` elements on this device.
    func rowSpread(rows: Int, length: Int) -> RowSpread {
        RowSpread(rows: rows, length: length, cpu: deviceKind.cpu, computeUnits: deviceKind.computeUnits)
    }
    let profiler: Profiler?
    let debugLevel: Int
    /// Set by one_hot_forward to (first bad row + 1).
    private let status: CLBuffer
    private var statusPending = false
    var scratchBuffer: CLBuffer?
    /// What the measured choices depend on: the device, its driver, our kernels and how
    /// they are launched (`launchRevision` counts changes to the launch code, such as
    /// work-group sizes, or to how candidates are timed, that make earlier measurements
    /// stale; 4: timed in rounds; 5: the dense convolution joined the candidates; 6: GEMMs
    /// pack B by rows of A as well as its shape, and the GEMM kernel is timed in seven rounds; 7: the
    /// implicit GEMMs are timed with other register tiles too).
    var measurementContext: String {
        "\(queue.device.info.name) | \(queue.device.info.driverVersion) | \(queue.programDigest) | launch \(Self.launchRevision)"
    }
    static let launchRevision = 7
    /// The device as far as timing goes: backends timing on one device take turns.
    var timingDevice: String { "\(queue.device.info.platformName) | \(queue.device.info.name)" }
    /// The measured choices: convolution algorithm per shape, GEMM kernel per device.
    let convolutionChoices: MeasuredChoices, gemmChoices: MeasuredChoices
    /// The GEMM kernel in use (CLBlast or one of ours), chosen at the first GEMM.
    public var gemmKernel: GEMMKernel?
    /// Whether our GEMM kernels pack B into panels first: always, never, or by the rule in
    /// `ownGEMM` (nil). For measuring the rule (`genocl bench --gemm`).
    public var gemmPacking: Bool?
    var gemmScratchBuffer: CLBuffer?, gemmScratchBufferA: CLBuffer?, gemmScratchBufferPacked: CLBuffer?
    /// The A operand last transposed into `gemmScratchBufferA` during the current op
    /// (the per-image GEMMs of a convolution share their weight matrix).
    var transposedA: (buffer: ObjectIdentifier, offset: Int, rows: Int, columns: Int)?

    /// Opens device `index` (see `genocl devices`) and builds or loads its kernels
    /// (`kernelSource` replaces Kernels/*.cl, for tests). `measurements` names the files of
    /// measured choices in the cache directory apart from the default ones: tests keep theirs
    /// apart, since they time beside other tests running at once and their choices must not
    /// become the ones a training run uses.
    public init(
        device index: Int, profiling: Bool? = nil, kernelSource source: String? = nil, cache: ProgramCache = .shared,
        measurements: String? = nil
    ) throws {
        let environment = ProcessInfo.processInfo.environment
        let profile = profiling ?? (environment["GENOCL_PROFILE"].map { $0 != "0" && !$0.isEmpty } ?? false)
        debugLevel = Int(environment["GENOCL_DEBUG"] ?? "") ?? 0
        fusesElementwise = environment["GENOCL_FUSE"] != "0"
        convolutionAlgorithm = environment["GENOCL_CONVOLUTION"].flatMap(ConvolutionAlgorithm.init(rawValue:))
        let device = try OpenCLDevice.open(index)
        let start = Date()
        queue = try CommandQueue(
            device: device, source: source ?? kernelSource(), options: Self.buildOptions(device.info), profiling: profile, cache: cache)
        if debugLevel >= 4 { log(try source ?? kernelSource()) }
        if debugLevel >= 1 {
            let seconds = String(format: "%.2f", Date().timeIntervalSince(start))
            log("genocl: \(device.info.name) (\(device.info.platformName)): kernels \(queue.programOrigin.rawValue) in \(seconds) s")
        }
        profiler = profile ? Profiler() : nil
        let tag = measurements.map { ".\($0)" } ?? ""
        convolutionChoices = MeasuredChoices.shared(cache.directory + "/convolution-algorithms\(tag).tsv")
        gemmChoices = MeasuredChoices.shared(cache.directory + "/gemm-kernels\(tag).tsv")
        status = try queue.allocate(byteCount: 4, label: "status word")
        try writeStatus(0)
    }

    /// OpenCL C 1.2, and `MULADD(a, b, c)` = a·b + c for the kernels' inner loops: `fma` where
    /// the device fuses it in hardware, else `mad`. PoCL compiles `mad` as a multiply and an
    /// add; `fma` made the GEMM kernel 48 → 69–75 GFLOP/s on a 2-core EPYC.
    static func buildOptions(_ device: DeviceInfo) -> String {
        "-cl-std=CL1.2 -D MULADD=\(device.fusedMultiplyAdd ? "fma" : "mad")"
    }

    public var deviceDescription: String { "\(queue.device.info.name) (\(queue.device.info.platformName))" }
    public var memoryBytes: Int? { queue.device.info.globalMemory > 0 ? queue.device.info.globalMemory : nil }

    public func allocate(elements: Int, label: String) throws -> any DeviceBuffer {
        OpenCLBuffer(try queue.allocate(byteCount: elements * 4, label: label), capacity: elements)
    }

    public func write(_ values: [Float], to buffer: any DeviceBuffer) throws {
        try values.withUnsafeBytes { try queue.write($0, to: (buffer as! OpenCLBuffer).buffer) }
    }

    public func read(_ buffer: any DeviceBuffer, count: Int) throws -> [Float] {
        var values = [Float](repeating: 0, count: count)
        try values.withUnsafeMutableBytes { try queue.read((buffer as! OpenCLBuffer).buffer, into: $0) }
        try checkStatus()
        return values
    }

    public func copy(_ source: any DeviceBuffer, to destination: any DeviceBuffer, count: Int) throws {
        try queue.copy((source as! OpenCLBuffer).buffer, to: (destination as! OpenCLBuffer).buffer, byteCount: count * 4)
    }

    public func execute(_ op: Op, inputs: [Operand], output: Operand, step: UInt64) throws {
        let x = inputs.map { ($0.buffer as! OpenCLBuffer).buffer }
        let y = (output.buffer as! OpenCLBuffer).buffer
        transposedA = nil  // inputs may change between ops; within one op they do not
        if poisonOutputs { try perform(fill(y, .nan, count: output.shape.count, spread: spread(output.shape.count)), op: "poison") }
        let start = try logStart()
        defer { logEnd("\(op.name) \(inputs.map(\.shape)) → \(output.shape)", start) }
        switch try dispatch(op, x, inputs.map(\.shape), y, output.shape, step: step) {
        case .work(let work):
            try run(work, op)
        case .convolution(let convolution):
            try runConvolution(convolution, op, x, y)
        case .reduction(let reduction):
            let (parts, grouped) = reduction.spread(cpu: deviceKind.cpu, computeUnits: deviceKind.computeUnits)
            try run(reduction.work(x, y, parts: parts, grouped: grouped, scratch: scratch(reduction.scratchElements(parts: parts))), op)
        }
        if case .oneHot = op { statusPending = true }
    }

    /// What an op becomes on the device: work to enqueue, or a convolution or reduction whose
    /// work depends on a choice or on scratch memory made when it runs.
    private enum Dispatch {
        case work([Work])
        case convolution(Convolution)
        case reduction(Reduction)
    }

    /// Every op, by family. (Kept free of device calls: a throwing device call inside a large
    /// op switch was miscompiled in release builds — see CPUBackend.)
    private func dispatch(_ op: Op, _ x: [CLBuffer], _ xs: [Shape], _ y: CLBuffer, _ ys: Shape, step: UInt64) throws -> Dispatch {
        switch op {
        case .placeholder, .variable, .constant, .allReduce:
            throw PlanError("\(op.name) is run by the plan, not executed")
        case .fill(let value, _):
            return .work([fill(y, value, count: ys.count, spread: spread(ys.count))])
        case .random(let distribution, let seed, _, let offset):
            return .work([randomWork(y, count: ys.count, distribution, seed: seed, step: step, offset: offset)])
        case .unary, .binary, .select, .oneHot:
            return .work([elementwiseWork(op, x, xs, y, ys, status: status, spread: spread(ys.count))])
        case .reshape, .stopGradient, .permute, .expand, .concat, .slice, .pad:
            return .work(try layoutWork(op, x, xs, y, ys, spread: spread, rows: rowSpread))
        case .reduce(let reduce, let axes, _):
            return .reduction(try Reduction(reduce, axes: axes, xs[0]))
        case .matmul:
            return .work(matmulWork(op, x, xs, y, ys))
        case .conv2d(let config):
            return .convolution(Convolution(forward: config, xs, ys))
        case .convTranspose2d(let config, _):
            return .convolution(Convolution(transpose: config, xs, ys))
        case .conv2dBackwardWeight(let config, let kernel):
            return .convolution(Convolution(weight: config, kernel: kernel, xs, ys))
        case .upsampleNearest, .upsampleBilinear2x, .upsampleBilinear2xBackward, .avgPool2d, .avgPool2dBackward:
            return .work([resampleWork(op, x[0], xs[0], y, ys)])
        case .optimizerUpdate(let rule, let output):
            return .work([optimizerWork(rule, output: output, x, y, count: ys.count, spread: spread(ys.count))])
        }
    }

    /// Runs a convolution by the algorithm forced or measured for its shape (timing each
    /// candidate the first time a shape is seen on this device).
    private func runConvolution(_ convolution: Convolution, _ op: Op, _ x: [CLBuffer], _ y: CLBuffer) throws {
        // The implicit GEMM uses the GEMM's register tile (CLBlast and the work-group GEMMs have none: 4x2).
        let gemm = try gemmKernel ?? chooseGEMMKernel()
        let tile = gemm.registerTile != nil ? gemm : .tile4x2
        let work = { (choice: (algorithm: ConvolutionAlgorithm, tile: GEMMKernel)) in
            try convolution.work(
                choice.algorithm, x, y, scratch: self.scratch(convolution.scratchElements(choice.algorithm, tile: choice.tile)),
                tile: choice.tile, rows: self.rowSpread)
        }
        let forced = convolutionAlgorithm.flatMap { convolution.supports($0) ? ($0, tile) : nil }
        let choice =
            try forced
            ?? Convolution.parse(
                convolutionChoices.choice(
                    for: convolution.key, context: measurementContext, device: timingDevice,
                    candidates: convolution.candidates(tile: tile, alternatives: tile.implicitAlternatives)
                ) { candidate in
                    let seconds = try timed { try run(work(Convolution.parse(candidate, tile: tile)!), op) }
                    if debugLevel >= 1 { log(String(format: "genocl: timing %@: %@ %.2f ms", convolution.key, candidate, seconds * 1e3)) }
                    return seconds
                }, tile: tile)!
        try run(work(choice), op)
    }

    public func prepareFused(_ ops: [FusedElementwise]) throws {
        var new: [String: FusedKernel] = [:]
        for op in ops {
            let kernel = fusedKernel(op)
            if !compiledFusedKernels.contains(kernel.name) { new[kernel.name] = kernel }
        }
        guard !new.isEmpty else { return }
        let kernels = new.keys.sorted().map { new[$0]! }
        let start = Date()
        let origin = try queue.addProgram(
            source: FusedKernel.program(kernels), options: Self.buildOptions(queue.device.info), kernels: kernels.map(\.name))
        compiledFusedKernels.formUnion(new.keys)
        if debugLevel >= 1 {
            log(
                String(
                    format: "genocl: %d fused elementwise kernels %@ in %.2f s", kernels.count, origin.rawValue,
                    Date().timeIntervalSince(start)))
        }
    }

    /// One launch of the rule's kernel with `which` = −1: every output over its input.
    public func updateInPlace(_ rule: OptimizerRule, inputs: [Operand]) throws {
        let x = inputs.map { ($0.buffer as! OpenCLBuffer).buffer }, count = inputs[0].shape.count
        let start = try logStart()
        defer { logEnd("optimizer step in place \(inputs.map(\.shape))", start) }
        try perform(optimizerWork(rule, output: -1, x, x[0], count: count, spread: spread(count)), op: "optimizerUpdate")
    }

    public func executeFused(_ op: FusedElementwise, inputs: [Operand], output: Operand) throws {
        let kernel = fusedKernel(op)
        if !compiledFusedKernels.contains(kernel.name) { try prepareFused([op]) }
        let y = (output.buffer as! OpenCLBuffer).buffer
        if poisonOutputs { try perform(fill(y, .nan, count: op.count, spread: spread(op.count)), op: "poison") }
        let start = try logStart()
        defer { logEnd("fused (\(op.opCount) ops) \(inputs.map(\.shape)) → \(output.shape)", start) }
        let spread = spread(op.count)
        let arguments = kernel.arguments(op, inputs.map { ($0.buffer as! OpenCLBuffer).buffer }, y, spread: spread)
        try perform(.kernel(kernel.name, count: spread.workItems, arguments), op: "fused")
    }

    private func fusedKernel(_ op: FusedElementwise) -> FusedKernel {
        if let kernel = fusedKernels[op] { return kernel }
        let kernel = FusedKernel(op)
        fusedKernels[op] = kernel
        return kernel
    }

    private func writeStatus(_ value: Int32) throws {
        var word = value
        try withUnsafeBytes(of: &word) { try queue.write($0, to: status) }
    }

    /// Turns a flag raised by a kernel (a bad class label) into an error.
    private func checkStatus() throws {
        guard statusPending else { return }
        statusPending = false
        var word: Int32 = 0
        try withUnsafeMutableBytes(of: &word) { try queue.read(status, into: $0) }
        if word != 0 {
            try writeStatus(0)
            throw PlanError("oneHot: the label in row \(word - 1) is not a class index (0 ..< number of classes)")
        }
    }

}

/// All kernel files as one program (kernel names are unique across files):
/// `GENOCL_KERNEL_DIR`'s `.cl` files when set, else the copies embedded at build time.
public func kernelSource() throws -> String {
    try kernelFiles().map { "#line 1 \"\($0.name)\"\n" + $0.source }.joined(separator: "\n")
}

/// Kernels/*.cl by name, in order: embedded, or read from `GENOCL_KERNEL_DIR`.
func kernelFiles() throws -> [(name: String, source: String)] {
    if let dir = ProcessInfo.processInfo.environment["GENOCL_KERNEL_DIR"], !dir.isEmpty {
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".cl") }.sorted()
        return try names.map { ($0, try String(contentsOfFile: dir + "/" + $0, encoding: .utf8)) }
    }
    return embeddedKernelSources
}

func log(_ line: String) { try? FileHandle.standardError.write(contentsOf: Data((line + "\n").utf8)) }

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

/// One unit of device work that an op maps to.
enum Work {
    /// A kernel of Kernels/*.cl over `count` work-items (`flops` for the profile, when known).
    /// `local` fixes the work-group size (kernels that share local memory), else the runtime picks it.
    case kernel(String, count: Int, [KernelArgument], flops: Double = 0, local: Int? = nil)
    /// Row-major `c[m×n] = op(a) · op(b) + beta · c` (our GEMM kernels or CLBlast), with element offsets.
    case gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, a: (CLBuffer, Int), b: (CLBuffer, Int), c: (CLBuffer, Int), beta: Float = 0)
    case copy(CLBuffer, CLBuffer, elements: Int)
}

/// The `Backend` for any OpenCL device: each op becomes kernels of `Kernels/*.cl`
/// (embedded in the binary) or GEMMs (ours or CLBlast's) on one in-order queue. Nothing
/// waits for the device except reads (and the one-time timing of a new convolution shape).
///
/// `GENOCL_FUSE=0` runs elementwise ops one by one instead of fused.
/// `GENOCL_PROFILE=1` records kernel times (`profileReport`); `GENOCL_DEBUG`: 1 device and
/// program origin, 2 every op, 3 every op with its time (waiting after each), 4 also the
/// kernel source.
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
    private var deviceKind: (cpu: Bool, computeUnits: Int) {
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
    private let debugLevel: Int
    /// Set by one_hot_forward to (first bad row + 1).
    private let status: CLBuffer
    private var statusPending = false
    private var scratchBuffer: CLBuffer?
    /// What the measured choices depend on: the device, its driver, our kernels and how
    /// they are launched (`launchRevision` counts changes to the launch code, such as
    /// work-group sizes, or to how candidates are timed, that make earlier measurements
    /// stale; 4: timed in rounds; 5: the dense convolution joined the candidates; 6: GEMMs
    /// pack B by rows of A as well as its shape, and the GEMM kernel is timed in seven rounds).
    var measurementContext: String {
        "\(queue.device.info.name) | \(queue.device.info.driverVersion) | \(queue.programDigest) | launch \(Self.launchRevision)"
    }
    static let launchRevision = 6
    /// The device as far as timing goes: backends timing on one device take turns.
    var timingDevice: String { "\(queue.device.info.platformName) | \(queue.device.info.name)" }
    /// The measured choices: convolution algorithm per shape, GEMM kernel per device.
    let convolutionChoices: MeasuredChoices, gemmChoices: MeasuredChoices
    /// The GEMM kernel in use (`clblast` or one of ours), chosen at the first GEMM.
    public var gemmKernel: String?
    /// Whether our GEMM kernels pack B into panels first: always, never, or by the rule in
    /// `ownGEMM` (nil). For measuring the rule (`genocl bench --gemm`).
    public var gemmPacking: Bool?
    var gemmScratchBuffer: CLBuffer?, gemmScratchBufferA: CLBuffer?, gemmScratchBufferPacked: CLBuffer?
    /// The A operand last transposed into `gemmScratchBufferA` during the current op
    /// (the per-image GEMMs of a convolution share their weight matrix).
    private var transposedA: (buffer: ObjectIdentifier, offset: Int, rows: Int, columns: Int)?

    /// Opens device `index` (see `genocl devices`) and builds or loads its kernels
    /// (`kernelSource` replaces Kernels/*.cl, for tests). `measurements` names the files of
    /// measured choices in the cache directory apart from the default ones: tests keep theirs
    /// apart, since they time beside other tests running at once and their choices must not
    /// become the ones a training run uses.
    public init(device index: Int, profiling: Bool? = nil, kernelSource source: String? = nil, cache: ProgramCache = .shared, measurements: String? = nil) throws {
        let environment = ProcessInfo.processInfo.environment
        let profile = profiling ?? (environment["GENOCL_PROFILE"].map { $0 != "0" && !$0.isEmpty } ?? false)
        debugLevel = Int(environment["GENOCL_DEBUG"] ?? "") ?? 0
        fusesElementwise = environment["GENOCL_FUSE"] != "0"
        convolutionAlgorithm = environment["GENOCL_CONVOLUTION"].flatMap(ConvolutionAlgorithm.init(rawValue:))
        let device = try OpenCLDevice.open(index)
        let start = Date()
        queue = try CommandQueue(device: device, source: source ?? kernelSource(), options: Self.buildOptions(device.info), profiling: profile, cache: cache)
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
        let shapes = inputs.map(\.shape)
        if let convolution = Convolution(op, shapes, output.shape) {
            // The implicit GEMM uses the GEMM's register tile (CLBlast and the work-group GEMMs have none: 4x2).
            let gemm = try gemmKernel ?? chooseGEMMKernel()
            let variant = Self.isRegisterTile(gemm) ? gemm : "4x2"
            let work = { (algorithm: ConvolutionAlgorithm) in
                try convolution.work(algorithm, x, y, scratch: self.scratch(convolution.scratchElements(algorithm)), variant: variant, rows: self.rowSpread)
            }
            let forced = convolutionAlgorithm.flatMap { convolution.supports($0) ? $0 : nil }
            let algorithm = try forced ?? ConvolutionAlgorithm(rawValue: convolutionChoices.choice(
                for: convolution.key, context: measurementContext, device: timingDevice, candidates: convolution.candidates.map(\.rawValue)
            ) { candidate in
                let seconds = try timed { try run(work(ConvolutionAlgorithm(rawValue: candidate)!), op) }
                if debugLevel >= 1 { log(String(format: "genocl: timing %@: %@ %.2f ms", convolution.key, candidate, seconds * 1e3)) }
                return seconds
            })!
            try run(work(algorithm), op)
        } else if case .reduce(let reduce, let axes, _) = op {
            let reduction = try Reduction(reduce, axes: axes, shapes[0])
            let (parts, grouped) = reduction.spread(cpu: deviceKind.cpu, computeUnits: deviceKind.computeUnits)
            try run(reduction.work(x[0], y, parts: parts, grouped: grouped, scratch: scratch(reduction.scratchElements(parts: parts))), op)
        } else {
            try run(try plan(op, x, shapes, y, output.shape, step: step), op)
        }
        if case .oneHot = op { statusPending = true }
    }

    /// The device work of one op. (Kept free of device calls: a throwing call inside
    /// a large op switch was miscompiled in release builds — see CPUBackend.)
    private func plan(_ op: Op, _ x: [CLBuffer], _ xs: [Shape], _ y: CLBuffer, _ ys: Shape, step: UInt64) throws -> [Work] {
        switch op {
        case .placeholder, .variable, .constant:
            preconditionFailure("\(op.name) is bound by the plan, not executed")
        case .fill(let value, _):
            return [fill(y, value, count: ys.count, spread: spread(ys.count))]
        case .random(let distribution, let seed, _):
            return [randomWork(y, count: ys.count, distribution, seed: seed, step: step)]
        case .unary, .binary, .select, .oneHot:
            return [elementwiseWork(op, x, xs, y, ys, status: status, spread: spread(ys.count))]
        case .reshape, .stopGradient, .permute, .expand, .concat, .slice, .pad:
            return try layoutWork(op, x, xs, y, ys, spread: spread, rows: rowSpread)
        case .reduce:
            preconditionFailure("reductions are dispatched with their scratch")
        case .matmul:
            return matmulWork(op, x, xs, y, ys)
        case .conv2d, .convTranspose2d, .conv2dBackwardWeight:
            preconditionFailure("convolutions are dispatched by the tuner")
        case .upsampleNearest, .upsampleBilinear2x, .upsampleBilinear2xBackward, .avgPool2d, .avgPool2dBackward:
            return [resampleWork(op, x[0], xs[0], y, ys)]
        case .optimizerUpdate(let rule, let output):
            return [optimizerWork(rule, output: output, x, y, count: ys.count, spread: spread(ys.count))]
        }
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
        let origin = try queue.addProgram(source: FusedKernel.program(kernels), options: Self.buildOptions(queue.device.info), kernels: kernels.map(\.name))
        compiledFusedKernels.formUnion(new.keys)
        if debugLevel >= 1 {
            log(String(format: "genocl: %d fused elementwise kernels %@ in %.2f s", kernels.count, origin.rawValue, Date().timeIntervalSince(start)))
        }
    }

    /// One launch of the rule's kernel with `which` = −1: every output over its input.
    public func updateInPlace(_ rule: OptimizerRule, inputs: [Operand]) throws {
        let x = inputs.map { ($0.buffer as! OpenCLBuffer).buffer }, count = inputs[0].shape.count
        let start = try logStart()
        defer { logEnd("optimizer step in place \(inputs.map(\.shape))", start) }
        try perform(optimizerWork(rule, output: -1, x, x[0], count: count, spread: spread(count)), op: "optimizerUpdate")
    }

    /// With GENOCL_DEBUG ≥ 3 an op is timed alone: the queue drains before (here) and after it (`logEnd`).
    private func logStart() throws -> Date { debugLevel >= 3 ? try finishedNow() : Date() }

    /// Logs an op (GENOCL_DEBUG 2), with its time since `start` (3).
    private func logEnd(_ description: @autoclosure () -> String, _ start: Date) {
        if debugLevel >= 3, let elapsed = try? finishedNow().timeIntervalSince(start) {
            log(String(format: "genocl: %@ %.3f ms", description(), elapsed * 1e3))
        } else if debugLevel == 2 {
            log("genocl: \(description())")
        }
    }

    public func executeFused(_ op: FusedElementwise, inputs: [Operand], output: Operand) throws {
        let kernel = fusedKernel(op)
        if !compiledFusedKernels.contains(kernel.name) { try prepareFused([op]) }
        let y = (output.buffer as! OpenCLBuffer).buffer
        if poisonOutputs { try perform(fill(y, .nan, count: op.count, spread: spread(op.count)), op: "poison") }
        if debugLevel >= 2 { log("genocl: fused (\(op.opCount) ops) \(inputs.map(\.shape)) → \(output.shape)") }
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

    private func run(_ work: [Work], _ op: Op) throws {
        for item in work { try perform(item, op: op.name) }
    }

    /// Waits for the queue (GENOCL_DEBUG ≥ 3 times each op this way) and returns the time.
    private func finishedNow() throws -> Date {
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

    /// A scratch buffer of at least `elements` floats, reused by every op (the queue is in order).
    private func scratch(_ elements: Int) throws -> CLBuffer? {
        guard elements > 0 else { return nil }
        return try grown(&scratchBuffer, elements: elements, label: "scratch")
    }

    /// `buffer`, replaced by a larger one first when it holds fewer than `elements` floats
    /// (the old one is released before the new one is allocated).
    private func grown(_ buffer: inout CLBuffer?, elements: Int, label: String) throws -> CLBuffer {
        if let buffer, buffer.byteCount >= elements * 4 { return buffer }
        buffer = nil
        let new = try queue.allocate(byteCount: elements * 4, label: "\(label) (\(elements) floats)")
        buffer = new
        return new
    }

    private func perform(_ work: Work, op: String) throws {
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

    private func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, a: (CLBuffer, Int), b: (CLBuffer, Int), c: (CLBuffer, Int), beta: Float) throws {
        let kernel = try gemmKernel ?? chooseGEMMKernel()
        if kernel == "clblast" {
            try clblastGEMM(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, b: b, c: c, beta: beta)
        } else {
            try ownGEMM(kernel, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, b: b, c: c, beta: beta)
        }
    }

    private func clblastGEMM(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, a: (CLBuffer, Int), b: (CLBuffer, Int), c: (CLBuffer, Int), beta: Float) throws {
        var commandQueue: cl_command_queue? = queue.queue
        var event: cl_event?
        let status = CLBlastSgemm(
            CLBlastLayoutRowMajor, transposeA ? CLBlastTransposeYes : CLBlastTransposeNo, transposeB ? CLBlastTransposeYes : CLBlastTransposeNo,
            m, n, k, 1, a.0.mem, a.1, transposeA ? m : k, b.0.mem, b.1, transposeB ? k : n, beta, c.0.mem, c.1, n,
            &commandQueue, &event)
        guard status == CLBlastSuccess else {
            throw OpenCLError("CLBlastSgemm", status.rawValue, "GEMM \(m)×\(n)×\(k) failed (CLBlast status \(status.rawValue))")
        }
        if let event {
            if let profiler { profiler.record("clblast_sgemm", event, flops: 2 * Double(m * n * k)) } else { clReleaseEvent(event) }
        }
    }

    /// Kernels/gemm.cl's `gemm_{nn,np}_<variant>` (transposed operands are transposed into
    /// scratch first) or, for the GPU variants `tiled64` and `tiled128`, `gemm_<variant>_{n,t}{n,t}`
    /// (work-groups of 256 over tiles of C, reading transposed operands in place).
    private func ownGEMM(_ variant: String, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, a: (CLBuffer, Int), b: (CLBuffer, Int), c: (CLBuffer, Int), beta: Float) throws {
        if let tile = Self.tiledGEMMVariants[variant] {
            // Few tiles and a long K (weight gradients: K = N·P·Q) split K into slices of at
            // least 128 terms, until about two groups per compute unit.
            let tiles = (m + tile - 1) / tile * ((n + tile - 1) / tile)
            let slices = max(1, min((2 * max(deviceKind.computeUnits, 1) + tiles - 1) / tiles, k / 128))
            let kSlice = (k + slices - 1) / slices
            // The slices go to the packing scratch: the tiled kernels never pack B.
            let output = slices > 1 ? (try grown(&gemmScratchBufferPacked, elements: slices * m * n, label: "GEMM slices scratch"), 0) : c
            let arguments: [KernelArgument] = [
                .int(Int32(m)), .int(Int32(n)), .int(Int32(k)), .buffer(a.0), .int(Int32(a.1)), .int(Int32(transposeA ? m : k)),
                .buffer(b.0), .int(Int32(b.1)), .int(Int32(transposeB ? k : n)), .buffer(output.0), .int(Int32(output.1)),
                .int(Int32(n)), .float(slices > 1 ? 0 : beta), .int(Int32(kSlice)), .int(Int32(m * n)),
            ]
            let name = "gemm_\(variant)_\(transposeA ? "t" : "n")\(transposeB ? "t" : "n")"
            try perform(.kernel(name, count: tiles * slices * 256, arguments, flops: 2 * Double(m * n * k), local: 256), op: "matmul")
            if slices > 1 {
                try perform(.kernel("gemm_sum_slices", count: m * n, [
                    .buffer(output.0), .int(Int32(slices)), .int(Int32(m)), .int(Int32(n)), .buffer(c.0), .int(Int32(c.1)), .int(Int32(n)), .float(beta),
                ]), op: "matmul")
            }
            return
        }
        var a = a, b = b, ldb = n
        // A transposed operand is transposed into scratch first (the A·B kernels are the
        // fast ones); a transposed A is reused by the later GEMMs of the same op.
        func transposed(_ source: (CLBuffer, Int), rows: Int, columns: Int, into scratch: inout CLBuffer?) throws -> (CLBuffer, Int) {
            let out = try grown(&scratch, elements: rows * columns, label: "GEMM transpose scratch")
            try perform(.kernel("transpose_matrix", count: (rows + 7) / 8 * columns, [.buffer(source.0), .int(Int32(source.1)), .int(Int32(rows)), .buffer(out), .int(0), .int(Int32(rows)), .int(Int32(columns)), .int(1)]), op: "matmul")
            return (out, 0)
        }
        if transposeB { (b, ldb) = (try transposed(b, rows: k, columns: n, into: &gemmScratchBuffer), n) }
        if transposeA {
            if let done = transposedA, done.buffer == ObjectIdentifier(a.0), done.offset == a.1, done.rows == m, done.columns == k {
                a = (gemmScratchBufferA!, 0)
            } else {
                let source = a
                a = try transposed(source, rows: m, columns: k, into: &gemmScratchBufferA)
                transposedA = (ObjectIdentifier(source.0), source.1, m, k)
            }
        }
        // "<TM>x<VN>": TM rows × 8·VN columns per work-item.
        let parts = variant.split(separator: "x").compactMap { Int($0) }
        let width = 8 * parts[1], panels = (n + width - 1) / width
        let items = (m + parts[0] - 1) / parts[0] * panels
        // B is packed into column panels first (see Kernels/gemm.cl) where its panels' rows lie
        // far apart and A has enough rows to pay for the extra pass over B (which costs about
        // as much as a GEMM with M ≈ 64 rows). Measured on a 2-core EPYC (`genocl bench --gemm`,
        // row-major → packed, GFLOP/s): 512×961×4096 41 → 99 (a 4×4 stride-1 convolution of
        // pix2pix's PatchGAN), 256×256×2048 70 → 93–111, 512×64×4096 96–109 → 107–159,
        // 2048×256×256 96–146 → 160, 64×1024×1024 47–69 → 67–78; but 64×961×1024 77–87 → 58,
        // 1×900×8192 3.1 → 1.7, 1024×256×128 101–110 → 85–102, and no gain for one panel
        // (N ≤ its width: its rows already lie one after another).
        let packed = gemmPacking ?? (k >= 256 && n > width && (m >= 128 || (m >= 32 && n >= 1024)))
        if packed {
            let out = try grown(&gemmScratchBufferPacked, elements: panels * width * k, label: "GEMM packing scratch")
            try perform(.kernel("pack_panels", count: panels * k, [
                .buffer(b.0), .int(Int32(b.1)), .int(Int32(ldb)), .buffer(out), .int(Int32(k)), .int(Int32(n)), .int(Int32(width)),
            ]), op: "matmul")
            (b, ldb) = ((out, 0), width)
        }
        let arguments: [KernelArgument] = [
            .int(Int32(m)), .int(Int32(n)), .int(Int32(k)), .buffer(a.0), .int(Int32(a.1)), .int(Int32(k)),
            .buffer(b.0), .int(Int32(b.1)), .int(Int32(ldb)), .buffer(c.0), .int(Int32(c.1)), .int(Int32(n)), .float(beta),
        ]
        try perform(.kernel("gemm_\(packed ? "np" : "nn")_\(variant)", count: items, arguments, flops: 2 * Double(m * n * k)), op: "matmul")
    }

    /// Our GEMM kernels' variants (Kernels/gemm.cl) and CLBlast, timed once per device on three
    /// convolution-sized problems; the fastest serves every GEMM. `GENOCL_GEMM` forces one.
    public static let gemmCandidates = ["clblast", "4x2", "8x1", "6x2", "4x3", "tiled64", "tiled128"]
    /// The work-group GEMMs and their tiles' side.
    static let tiledGEMMVariants = ["tiled64": 64, "tiled128": 128]
    /// Whether GEMM kernel `name` is one of our register-tile kernels ("<TM>x<VN>"), the ones
    /// with a tile for the implicit GEMM and a packed B; CLBlast and the work-group tiles are not.
    public static func isRegisterTile(_ name: String) -> Bool { name != "clblast" && tiledGEMMVariants[name] == nil }

    private func chooseGEMMKernel() throws -> String {
        if let forced = ProcessInfo.processInfo.environment["GENOCL_GEMM"], Self.gemmCandidates.contains(forced) {
            gemmKernel = forced
            return forced
        }
        // Three convolution shapes (a batched one, and the per-image GEMMs of a deep and a middle
        // layer, where the tiles compete differently); each candidate's score is its time on the
        // first shape plus the others' scaled to the first one's work.
        let shapes = [(m: 256, n: 1024, k: 576), (m: 512, n: 16, k: 4096), (m: 128, n: 256, k: 1024)]
        let largest = { (size: ((m: Int, n: Int, k: Int)) -> Int) in shapes.map(size).max()! }
        // The operands exist only while candidates are timed (a recorded choice needs none).
        var operands: (a: CLBuffer, b: CLBuffer, c: CLBuffer)?
        let problem = shapes.map { "\($0.m)x\($0.n)x\($0.k)" }.joined(separator: ",")
        // Seven rounds, not three: the one choice serves every GEMM of every run on the device,
        // and three rounds on a 2-core EPYC recorded 4x2 over 6x2 (about 25 % faster here) in 1
        // of 12 fresh timings (and in 2 of 5 on a busier day; dcgan64 then ran 1.2–1.3× slower).
        let choice = try gemmChoices.choice(for: "gemm \(problem)", context: measurementContext, device: timingDevice, candidates: Self.gemmCandidates, rounds: 7) { candidate in
            if operands == nil {
                let a = try queue.allocate(byteCount: largest { $0.m * $0.k } * 4, label: "GEMM timing A")
                let b = try queue.allocate(byteCount: largest { $0.k * $0.n } * 4, label: "GEMM timing B")
                let c = try queue.allocate(byteCount: largest { $0.m * $0.n } * 4, label: "GEMM timing C")
                for buffer in [a, b, c] { try perform(fill(buffer, 0.5, count: buffer.byteCount / 4, spread: spread(buffer.byteCount / 4)), op: "fill") }
                operands = (a, b, c)
            }
            let (a, b, c) = operands!
            var score = 0.0
            for (m, n, k) in shapes {
                let seconds = try timed {
                    if candidate == "clblast" {
                        try clblastGEMM(transposeA: false, transposeB: false, m: m, n: n, k: k, a: (a, 0), b: (b, 0), c: (c, 0), beta: 0)
                    } else {
                        try ownGEMM(candidate, transposeA: false, transposeB: false, m: m, n: n, k: k, a: (a, 0), b: (b, 0), c: (c, 0), beta: 0)
                    }
                }
                score += seconds * Double(shapes[0].m * shapes[0].n * shapes[0].k) / Double(m * n * k)
                if debugLevel >= 1 { log(String(format: "genocl: timing GEMM %d×%d×%d: %@ %.2f ms", m, n, k, candidate, seconds * 1e3)) }
            }
            return score
        }
        if debugLevel >= 1 { log("genocl: GEMM kernel \(choice)") }
        gemmKernel = choice
        return choice
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

    public var isProfiling: Bool { queue.profiling }
    public var peakAllocatedBytes: Int { queue.peakAllocatedBytes }

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

func log(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }

// GEMM on OpenCL: our kernels (Kernels/gemm.cl: register tiles for CPUs and GPUs, work-group
// tiles for GPUs) or CLBlast, one of them chosen per device by timing and recorded beside
// the program cache. Row-major C[m×n] = op(A)·op(B) + β·C with element offsets.
import COpenCL
import Foundation
import OpenCLRuntime

/// A GEMM kernel: CLBlast, one of our register-tile kernels (`<TM>x<VN>`: TM rows × 8·VN
/// columns per work-item in float8 vectors, `<TM>x<VN>w16` in float16 ones for AVX-512; the
/// tiles the implicit-GEMM convolutions use too, with B packed into panels where it pays), or
/// a work-group tile (GPUs: 256 work-items over a square of C).
public enum GEMMKernel: String, CaseIterable, Sendable, CustomStringConvertible {
    case clblast
    case tile4x2 = "4x2", tile8x1 = "8x1", tile6x2 = "6x2", tile4x3 = "4x3"
    case tile6x1w16 = "6x1w16", tile6x2w16 = "6x2w16"
    case tile8x2w16 = "8x2w16", tile4x4w16 = "4x4w16", tile6x4w16 = "6x4w16", tile8x3w16 = "8x3w16"
    case tiled64, tiled128

    /// Rows, column vectors and the vector's lanes of a work-item's tile, for the register-tile kernels.
    public var registerTile: (rows: Int, vectors: Int, lanes: Int)? {
        switch self {
        case .tile4x2: (4, 2, 8)
        case .tile8x1: (8, 1, 8)
        case .tile6x2: (6, 2, 8)
        case .tile4x3: (4, 3, 8)
        case .tile6x1w16: (6, 1, 16)
        case .tile6x2w16: (6, 2, 16)
        case .tile8x2w16: (8, 2, 16)
        case .tile4x4w16: (4, 4, 16)
        case .tile6x4w16: (6, 4, 16)
        case .tile8x3w16: (8, 3, 16)
        case .clblast, .tiled64, .tiled128: nil
        }
    }

    /// Other tiles the convolution tuner times for the implicit GEMMs beside this one, the
    /// device's GEMM tile: on AVX-512 (float16 tiles) no one tile wins every layer (8×2 the
    /// forward ones, 6×4 the weight gradients on dcgan28: docs/performance.md).
    public var implicitAlternatives: [GEMMKernel] {
        registerTile?.lanes == 16 ? [.tile6x2w16, .tile8x2w16, .tile6x4w16].filter { $0 != self } : []
    }

    /// The columns of C one work-item computes.
    public var panelWidth: Int? { registerTile.map { $0.vectors * $0.lanes } }

    /// The side of C's square that one work-group computes, for the work-group kernels.
    public var workGroupTile: Int? {
        switch self {
        case .tiled64: 64
        case .tiled128: 128
        default: nil
        }
    }

    public var description: String { rawValue }
}

extension OpenCLBackend {
    func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, a: (CLBuffer, Int), b: (CLBuffer, Int), c: (CLBuffer, Int), beta: Float
    ) throws {
        let kernel = try gemmKernel ?? chooseGEMMKernel()
        if kernel == .clblast {
            try clblastGEMM(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, b: b, c: c, beta: beta)
        } else {
            try ownGEMM(kernel, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, b: b, c: c, beta: beta)
        }
    }

    /// Kernels/gemm.cl's `gemm_{nn,np}_<tile>` (transposed operands are transposed into
    /// scratch first) or, for the work-group kernels `tiled64` and `tiled128`, `gemm_<kernel>_{n,t}{n,t}`
    /// (work-groups of 256 over tiles of C, reading transposed operands in place).
    func ownGEMM(
        _ variant: GEMMKernel, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, a: (CLBuffer, Int), b: (CLBuffer, Int),
        c: (CLBuffer, Int), beta: Float
    ) throws {
        if let tile = variant.workGroupTile {
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
            let name = "gemm_\(variant.rawValue)_\(transposeA ? "t" : "n")\(transposeB ? "t" : "n")"
            try perform(.kernel(name, count: tiles * slices * 256, arguments, flops: 2 * Double(m * n * k), local: 256), op: "matmul")
            if slices > 1 {
                try perform(
                    .kernel(
                        "gemm_sum_slices", count: m * n,
                        [
                            .buffer(output.0), .int(Int32(slices)), .int(Int32(m)), .int(Int32(n)), .buffer(c.0), .int(Int32(c.1)),
                            .int(Int32(n)), .float(beta),
                        ]), op: "matmul")
            }
            return
        }
        var a = a, b = b, ldb = n
        // A transposed operand is transposed into scratch first (the A·B kernels are the
        // fast ones); a transposed A is reused by the later GEMMs of the same op.
        func transposed(_ source: (CLBuffer, Int), rows: Int, columns: Int, into scratch: inout CLBuffer?) throws -> (CLBuffer, Int) {
            let out = try grown(&scratch, elements: rows * columns, label: "GEMM transpose scratch")
            try perform(transposeWork(source, ld: rows, into: (out, 0), rows: rows, columns: columns), op: "matmul")
            return (out, 0)
        }
        if transposeB { (b, ldb) = (try transposed(b, rows: k, columns: n, into: &gemmScratchBuffer), n) }
        if transposeA {
            let reused =
                transposedA.map { $0.buffer == ObjectIdentifier(a.0) && $0.offset == a.1 && $0.rows == m && $0.columns == k } ?? false
            // An A far larger than B and C (a transposed convolution's weights against a few
            // pixels: pix2pix's inner layers at batch 1, 16 MB against 16 columns) is not
            // transposed: Cᵀ = Bᵀ·A, with B and Cᵀ the small ones transposed.
            if !reused, !transposeB, beta == 0, k * m > 4 * (k + m) * n {
                let bt = try transposed(b, rows: n, columns: k, into: &gemmScratchBuffer)
                transposedA = nil
                let ct = try grown(&gemmScratchBufferA, elements: n * m, label: "GEMM transpose scratch")
                try ownGEMM(variant, transposeA: false, transposeB: false, m: n, n: m, k: k, a: bt, b: a, c: (ct, 0), beta: 0)
                try perform(transposeWork((ct, 0), ld: m, into: c, rows: m, columns: n), op: "matmul")
                return
            }
            if reused {
                a = (gemmScratchBufferA!, 0)
            } else {
                let source = a
                a = try transposed(source, rows: m, columns: k, into: &gemmScratchBufferA)
                transposedA = (ObjectIdentifier(source.0), source.1, m, k)
            }
        }
        // TM rows × VW·VN columns per work-item.
        let tile = variant.registerTile!
        let width = variant.panelWidth!, panels = (n + width - 1) / width
        let items = (m + tile.rows - 1) / tile.rows * panels
        // B is packed into column panels first (see Kernels/gemm.cl) where its panels' rows lie
        // far apart and A has enough rows to pay for the extra pass over B, which costs about
        // as much as a GEMM with M ≈ 64 rows (measurements: docs/performance.md, "GEMM packing").
        let packed = gemmPacking ?? (k >= 256 && n > width && (m >= 128 || (m >= 32 && n >= 1024)))
        if packed {
            let out = try grown(&gemmScratchBufferPacked, elements: panels * width * k, label: "GEMM packing scratch")
            try perform(
                .kernel(
                    "pack_panels", count: panels * k,
                    [
                        .buffer(b.0), .int(Int32(b.1)), .int(Int32(ldb)), .buffer(out), .int(Int32(k)), .int(Int32(n)), .int(Int32(width)),
                    ]), op: "matmul")
            (b, ldb) = ((out, 0), width)
        }
        let arguments: [KernelArgument] = [
            .int(Int32(m)), .int(Int32(n)), .int(Int32(k)), .buffer(a.0), .int(Int32(a.1)), .int(Int32(k)),
            .buffer(b.0), .int(Int32(b.1)), .int(Int32(ldb)), .buffer(c.0), .int(Int32(c.1)), .int(Int32(n)), .float(beta),
        ]
        try perform(
            .kernel("gemm_\(packed ? "np" : "nn")_\(variant.rawValue)", count: items, arguments, flops: 2 * Double(m * n * k)), op: "matmul"
        )
    }

    /// Our GEMM kernels and CLBlast, timed once per device on three convolution-sized
    /// problems; the fastest serves every GEMM. `GENOCL_GEMM` forces one.
    public static let gemmCandidates = GEMMKernel.allCases

    func chooseGEMMKernel() throws -> GEMMKernel {
        if let forced = ProcessInfo.processInfo.environment["GENOCL_GEMM"].flatMap(GEMMKernel.init(rawValue:)) {
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
        // and three rounds sometimes recorded a 25 % slower kernel (docs/performance.md).
        let recorded = try gemmChoices.choice(
            for: "gemm \(problem)", context: measurementContext, device: timingDevice, candidates: Self.gemmCandidates.map(\.rawValue),
            rounds: 7
        ) { name in
            let candidate = GEMMKernel(rawValue: name)!
            if operands == nil {
                let a = try queue.allocate(byteCount: largest { $0.m * $0.k } * 4, label: "GEMM timing A")
                let b = try queue.allocate(byteCount: largest { $0.k * $0.n } * 4, label: "GEMM timing B")
                let c = try queue.allocate(byteCount: largest { $0.m * $0.n } * 4, label: "GEMM timing C")
                for buffer in [a, b, c] {
                    try perform(fill(buffer, 0.5, count: buffer.byteCount / 4, spread: spread(buffer.byteCount / 4)), op: "fill")
                }
                operands = (a, b, c)
            }
            let (a, b, c) = operands!
            var score = 0.0
            for (m, n, k) in shapes {
                let seconds = try timed {
                    if candidate == .clblast {
                        try clblastGEMM(transposeA: false, transposeB: false, m: m, n: n, k: k, a: (a, 0), b: (b, 0), c: (c, 0), beta: 0)
                    } else {
                        try ownGEMM(
                            candidate, transposeA: false, transposeB: false, m: m, n: n, k: k, a: (a, 0), b: (b, 0), c: (c, 0), beta: 0)
                    }
                }
                score += seconds * Double(shapes[0].m * shapes[0].n * shapes[0].k) / Double(m * n * k)
                if debugLevel >= 1 { log(String(format: "genocl: timing GEMM %d×%d×%d: %@ %.2f ms", m, n, k, name, seconds * 1e3)) }
            }
            return score
        }
        let choice = GEMMKernel(rawValue: recorded)!
        if debugLevel >= 1 { log("genocl: GEMM kernel \(choice)") }
        gemmKernel = choice
        return choice
    }
}

/// `out` [rows, columns] = the transpose of `source` [columns, rows] (leading dimension `ld`), for
/// `batch` matrices one after another: Kernels/gemm.cl's `transpose_matrix`, a block of 16 × 16 a work-item.
func transposeWork(_ source: (CLBuffer, Int), ld: Int, into out: (CLBuffer, Int), rows: Int, columns: Int, batch: Int = 1) -> Work {
    .kernel(
        "transpose_matrix", count: (rows + 15) / 16 * ((columns + 15) / 16) * batch,
        [
            .buffer(source.0), .int(Int32(source.1)), .int(Int32(ld)), .buffer(out.0), .int(Int32(out.1)), .int(Int32(rows)),
            .int(Int32(columns)), .int(Int32(batch)),
        ])
}

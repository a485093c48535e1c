import CPUReference
import NeuralNet
import OpenCLBackend
import OpenCLRuntime
import TensorGraph
import TestSupport
import Testing

/// Matmuls (each GEMM kernel) and convolutions (each algorithm) on the OpenCL device against the CPU reference, forward and
/// backward, on odd shapes, with outputs poisoned (NaN) before each op runs.
@Suite(.enabled(if: openCLTestsEnabled, "no OpenCL device"))
struct OpenCLLinearTests {
    /// Every GEMM kernel (ours and CLBlast), each transpose, on shapes with full tiles,
    /// partial tiles in rows and columns, single elements, a B that our kernels pack into
    /// panels first (130 rows of A and 260 of B: the last panel partial), a long K that
    /// the work-group GEMMs split into slices (the last one shorter), and 59 columns: a last
    /// panel of the 32-column float16 tiles that takes a float16, a float8 and 3 single columns,
    /// and a transposed A far larger than B (300×200 against 3 columns: computed as Cᵀ = Bᵀ·A).
    @Test(arguments: OpenCLBackend.gemmCandidates)
    func matmul(_ gemm: GEMMKernel) throws {
        for (m, k, n) in [(5, 17, 3), (33, 40, 37), (64, 9, 48), (130, 260, 37), (9, 1000, 13), (27, 50, 59), (300, 200, 3)] {
            for tA in [false, true] {
                for tB in [false, true] {
                    let a = input("a", tA ? [k, m] : [m, k], 30), b = input("b", tB ? [n, k] : [k, n], 31)
                    let context = "\(gemm) matmul \(m)×\(k)×\(n) \(tA) \(tB)"
                    // A float sum of 1000 products of ±1 carries errors near 2e-5 (√K·ε·|sum|).
                    let tolerance = k > 500 ? Tolerance(atol: 1e-4, rtol: 1e-4) : .sums
                    try expectOpenCLMatches([a, b], tolerance: tolerance, context, gemm: gemm) {
                        TensorGraph.matmul($0[0], $0[1], transposeA: tA, transposeB: tB)
                    }
                    let batched = input("a", Shape([3] + a.shape.dims), 32)
                    try expectOpenCLMatches([batched, b], tolerance: tolerance, "batched " + context, gemm: gemm) {
                        TensorGraph.matmul($0[0], $0[1], transposeA: tA, transposeB: tB)
                    }
                }
            }
        }
        try expectOpenCLMatches([input("a", [1, 1], 33), input("b", [1, 1], 34)], tolerance: .sums, "\(gemm) 1×1 matmul", gemm: gemm) {
            TensorGraph.matmul($0[0], $0[1])
        }
    }

    /// The GEMM convolution paths (per image, whose weight gradient accumulates with β = 1, per
    /// batch, and the implicit GEMM in the GEMM kernel's tile) through each GEMM kernel.
    @Test(arguments: OpenCLBackend.gemmCandidates)
    func convolutionsThroughEachGEMMKernel(_ gemm: GEMMKernel) throws {
        for i in [1, 4, 5, 6, 9] {
            let c = Self.convCases[i]
            let x = input("x", c.x, 40 + UInt64(i)), w = input("w", [c.o, c.x[1], c.k.h, c.k.w], 60 + UInt64(i))
            for algorithm in [ConvolutionAlgorithm.gemm, .batchedGEMM, .implicitGEMM, .batchImplicitGEMM] {
                try expectOpenCLMatches(
                    [x, w], tolerance: .sums, "conv2d case \(i) \(algorithm) \(gemm)", convolution: algorithm, gemm: gemm
                ) {
                    conv2d($0[0], $0[1], stride: c.stride, padding: c.padding, dilation: c.dilation)
                }
            }
        }
        // DCGAN's 4×4 stride-2 transposed convolution: four phases of 16-pixel output rows, and
        // of 7-pixel ones (the kernel runs along the padded rows and drops the columns past 7).
        for (shape, seed) in [([2, 3, 5, 16], 49), ([2, 3, 7, 7], 48)] as [(Shape, UInt64)] {
            let x = input("x", shape, seed), w = input("w", [3, 13, 4, 4], 69)
            for algorithm in [ConvolutionAlgorithm.implicitGEMM, .batchImplicitGEMM] {
                try expectOpenCLMatches(
                    [x, w], tolerance: .sums, "convTranspose2d 4×4 stride 2 \(algorithm) \(shape) \(gemm)", convolution: algorithm,
                    gemm: gemm
                ) {
                    convTranspose2d($0[0], $0[1], stride: Size2(2), padding: Size2(1))
                }
            }
        }
    }

    /// The batch-inner implicit GEMM with a batch of 37: a full panel of 32 images (16 for the
    /// 16-wide tiles, 24 for 4x3) and a partial one, strided and transposed (phases, odd planes).
    @Test(arguments: OpenCLBackend.gemmCandidates.filter { $0.registerTile != nil })
    func batchInnerConvolutionsOfSeveralPanels(_ gemm: GEMMKernel) throws {
        let x = input("x", [37, 3, 5, 6], 80), w = input("w", [4, 3, 4, 4], 81), wt = input("w", [3, 4, 4, 3], 82)
        try expectOpenCLMatches(
            [x, w], tolerance: .sums, "conv2d 4×4 stride 2 batch-inner \(gemm)", convolution: .batchImplicitGEMM, gemm: gemm
        ) {
            conv2d($0[0], $0[1], stride: Size2(2), padding: Size2(1))
        }
        try expectOpenCLMatches(
            [x, wt], tolerance: .sums, "convTranspose2d 4×3 stride 2 batch-inner \(gemm)", convolution: .batchImplicitGEMM, gemm: gemm
        ) {
            convTranspose2d($0[0], $0[1], stride: Size2(2, 1), padding: Size2(1, 0))
        }
    }

    /// The implicit weight gradient summed in parts (over 4096 terms: 2 images and 1, and 2 and
    /// 1 again), with channels padded to 16 in its copy and a last partial column panel.
    @Test(arguments: OpenCLBackend.gemmCandidates.filter { $0.registerTile != nil })
    func implicitWeightGradientInParts(_ gemm: GEMMKernel) throws {
        let x = input("x", [3, 5, 40, 36], 83), w = input("w", [7, 5, 3, 3], 84)
        try expectOpenCLMatches(
            [x, w], tolerance: .sums, "conv2d 3×3 implicit, dW in parts \(gemm)", convolution: .implicitGEMM, gemm: gemm
        ) {
            conv2d($0[0], $0[1], stride: Size2(1), padding: Size2(1))
        }
        let strided = input("x", [3, 3, 90, 66], 85), ws = input("w", [4, 3, 4, 4], 86)
        try expectOpenCLMatches(
            [strided, ws], tolerance: .sums, "conv2d 4×4 stride 2 implicit, dW in parts \(gemm)", convolution: .implicitGEMM, gemm: gemm
        ) {
            conv2d($0[0], $0[1], stride: Size2(2), padding: Size2(1))
        }
    }

    static let convCases: [(x: Shape, o: Int, k: Size2, stride: Size2, padding: Size2, dilation: Size2, outputPadding: Size2)] = [
        ([1, 1, 5, 5], 1, Size2(3), Size2(1), Size2(0), Size2(1), Size2(0)),
        ([2, 3, 7, 6], 5, Size2(3), Size2(2), Size2(1), Size2(1), Size2(1)),
        ([3, 2, 6, 7], 3, Size2(4), Size2(2), Size2(1), Size2(1), Size2(0)),
        ([1, 5, 7, 7], 2, Size2(3, 2), Size2(1, 2), Size2(2, 0), Size2(2, 1), Size2(0, 1)),
        ([2, 17, 9, 9], 4, Size2(1), Size2(3), Size2(0), Size2(1), Size2(2)),
        // Stride 1 (the implicit GEMM's), partial channel tiles: output rows of 37 (pixels one
        // at a time) and of 8 (float8 rows, panels across rows, a partial last panel).
        ([2, 3, 6, 37], 7, Size2(3), Size2(1), Size2(1), Size2(1), Size2(0)),
        ([1, 2, 6, 8], 9, Size2(2, 3), Size2(1), Size2(0, 1), Size2(1), Size2(0)),
        // 300 output pixels: the per-image GEMM path's weight gradient sums chunks of 3 images
        // (about 1024 terms each), so 5 images are a full chunk and a partial one.
        ([5, 2, 20, 15], 3, Size2(3), Size2(1), Size2(1), Size2(1), Size2(0)),
        // A kernel the size of the input, no padding: a 1×1 output (the dense algorithm's).
        ([3, 5, 4, 3], 7, Size2(4, 3), Size2(2), Size2(0), Size2(1), Size2(0)),
        // Output rows of 16: the float16 tiles' implicit GEMM (80 pixels: two 32-pixel panels
        // and a partial one), 13 output channels (a partial tile of 6 and of 12).
        ([2, 3, 5, 16], 13, Size2(3), Size2(1), Size2(1), Size2(1), Size2(0)),
    ]

    /// Each convolution algorithm (forward, input and weight gradients; the implicit GEMM where
    /// the stride is 1 and the dense one where the output is 1×1, the tuner's choice elsewhere),
    /// and the tuner's choice.
    @Test(
        arguments: 0..<convCases.count, [ConvolutionAlgorithm.direct, .gemm, .batchedGEMM, .implicitGEMM, .batchImplicitGEMM, .dense, nil])
    func convolutions(_ i: Int, _ algorithm: ConvolutionAlgorithm?) throws {
        let c = Self.convCases[i]
        let x = input("x", c.x, 40 + UInt64(i)), b = input("b", [c.o], 50 + UInt64(i))
        let w = input("w", [c.o, c.x[1], c.k.h, c.k.w], 60 + UInt64(i))
        let name = algorithm?.rawValue ?? "tuned"
        try expectOpenCLMatches([x, w, b], tolerance: .sums, "conv2d case \(i) \(name)", convolution: algorithm) {
            conv2d($0[0], $0[1], bias: $0[2], stride: c.stride, padding: c.padding, dilation: c.dilation)
        }
        let wt = input("w", [c.x[1], c.o, c.k.h, c.k.w], 70 + UInt64(i))
        try expectOpenCLMatches([x, wt, b], tolerance: .sums, "convTranspose2d case \(i) \(name)", convolution: algorithm) {
            convTranspose2d(
                $0[0], $0[1], bias: $0[2], stride: c.stride, padding: c.padding, outputPadding: c.outputPadding, dilation: c.dilation)
        }
    }

    /// The im2col and col2im kernels with rows shared by several work-items, as on a GPU
    /// (`RowSpread`, spread as on a 1-unit GPU so rows are longer than their parts, which do
    /// not divide them): forward, both gradients and the transposed convolution, per image
    /// and batched, at stride 1 and 2.
    @Test(arguments: [ConvolutionAlgorithm.gemm, .batchedGEMM])
    func convolutionsSpreadAsOnAGPU(_ algorithm: ConvolutionAlgorithm) throws {
        let x = input("x", [2, 5, 20, 37], 90), w = input("w", [6, 5, 3, 3], 91), strided = input("w", [6, 5, 4, 3], 92)
        let gpu = { (backend: OpenCLBackend) in backend.spreadDevice = (false, 1) }
        try expectOpenCLMatches(
            [x, w], tolerance: .sums, "conv2d 3×3 \(algorithm) spread as on a GPU", convolution: algorithm, configure: gpu
        ) {
            conv2d($0[0], $0[1], stride: Size2(1), padding: Size2(1))
        }
        try expectOpenCLMatches(
            [x, strided], tolerance: .sums, "conv2d 4×3 stride 2 \(algorithm) spread as on a GPU", convolution: algorithm, configure: gpu
        ) {
            conv2d($0[0], $0[1], stride: Size2(2, 1), padding: Size2(1))
        }
        let wt = input("w", [5, 6, 4, 3], 93)
        try expectOpenCLMatches(
            [x, wt], tolerance: .sums, "convTranspose2d 4×3 stride 2 \(algorithm) spread as on a GPU", convolution: algorithm,
            configure: gpu
        ) {
            convTranspose2d($0[0], $0[1], stride: Size2(2, 1), padding: Size2(1))
        }
    }
}

// Convolutions (conv2d, its adjoint convTranspose2d, conv2dBackwardWeight) have
// three algorithms on every device: direct gather kernels, im2col/col2im + one
// GEMM per image, and the same with one column matrix and one GEMM for the whole
// batch (more memory, far fewer and larger GEMMs); convolutions and transposed
// convolutions of dilation 1 also an implicit GEMM that reads a zero-padded (and for
// strided convolutions rearranged) copy of the input in place of the column matrix
// (see ImplicitConvolution), in planes or with the batch innermost (small planes), and
// those with a 1×1 output from a kernel over the whole
// unpadded input one dense GEMM (`dense`). Which is fastest depends on the
// shape and the device, so the first time a shape is seen each is run and timed,
// and the winner is kept for the process and on disk beside the program cache.
import Foundation
import OpenCLRuntime
import TensorGraph

/// How a convolution runs: direct kernels, im2col/col2im + GEMM per image or per batch, or
/// (dilation 1) an implicit GEMM over the padded input.
public enum ConvolutionAlgorithm: String, CaseIterable, Sendable {
    case direct
    case gemm
    case batchedGEMM = "batched-gemm"
    case implicitGEMM = "implicit-gemm"
    /// The implicit GEMM over an input with the batch innermost ([H, W, C, N]): vectors of
    /// images at one pixel, so no position is wasted on small planes (4×4, 8×8).
    case batchImplicitGEMM = "batch-implicit-gemm"
    /// A convolution whose small side is 1×1 and whose kernel covers the large side exactly
    /// (no padding): a dense layer, one GEMM with no column matrix (discriminator heads, a
    /// generator's first layer).
    case dense
}

/// One convolution op in the `conv_t` frame of Kernels/linear.cl: the large side
/// [N, C, H, W], the small side [N, O, P, Q], the kernel and its configuration.
struct Convolution {
    enum Kind: String { case forward = "conv2d", transpose = "convTranspose2d", weight = "conv2dBackwardWeight" }
    let kind: Kind
    let large: Shape, small: Shape
    let kernel: Size2
    let config: ConvConfig

    /// conv2d: x [N, C, H, W], w [O, C, KH, KW] → y [N, O, P, Q].
    init(forward c: ConvConfig, _ xs: [Shape], _ ys: Shape) {
        (kind, large, small, kernel, config) = (.forward, xs[0], ys, Size2(xs[1][2], xs[1][3]), c)
    }
    /// convTranspose2d: x [N, O, P, Q], w [O, C, KH, KW] → y [N, C, H, W].
    init(transpose c: ConvConfig, _ xs: [Shape], _ ys: Shape) {
        (kind, large, small, kernel, config) = (.transpose, ys, xs[0], Size2(xs[1][2], xs[1][3]), c)
    }
    /// conv2dBackwardWeight: x [N, C, H, W], dy [N, O, P, Q] → dW [O, C, KH, KW].
    init(weight c: ConvConfig, kernel k: Size2, _ xs: [Shape], _ ys: Shape) {
        (kind, large, small, kernel, config) = (.weight, xs[0], xs[1], k, c)
    }

    /// Identifies the problem for the tuner.
    var key: String {
        let c = config
        return
            "\(kind.rawValue) \(large.dims) \(small.dims) k\(kernel.h)x\(kernel.w) s\(c.stride.h),\(c.stride.w) p\(c.padding.h),\(c.padding.w) d\(c.dilation.h),\(c.dilation.w)"
    }

    private var words: [Int32] {
        [
            large[0], large[1], large[2], large[3], small[1], small[2], small[3], kernel.h, kernel.w,
            config.stride.h, config.stride.w, config.padding.h, config.padding.w, config.dilation.h, config.dilation.w,
        ].map { Int32($0) }
    }

    /// Multiply-adds × 2: every (n, o, p, q, c, kh, kw) tap once.
    var flops: Double { 2 * Double(small[0] * small[1] * small[2] * small[3] * large[1] * kernel.h * kernel.w) }

    /// The algorithms worth timing, as the tuner records them: an algorithm's name (the implicit
    /// GEMMs with the device's GEMM tile `tile`), and an implicit GEMM's name with another of
    /// `alternatives` after a space ("batch-implicit-gemm 6x4w16"), each where at least 3/4 of
    /// its work is useful. The direct gather kernels are not tiled: they win only small
    /// problems (the 1×1 outputs of the discriminators, WGAN-GP's 3-channel output convolution
    /// at 0.45 GFLOP), and one run of a 4 GFLOP layer takes 10 s on 2 CPU cores, so they are
    /// timed only below 1 GFLOP.
    func candidates(tile: GEMMKernel, alternatives: [GEMMKernel] = []) -> [String] {
        // The implicit GEMMs, with the share of their work that is useful.
        func usefulShares(_ tile: GEMMKernel) -> [(ConvolutionAlgorithm, Double)] {
            switch (self.implicit, kind) {
            case (nil, _): []
            case (let plan?, .weight): [(.implicitGEMM, plan.channelShare)]
            case (let plan?, _): [(.implicitGEMM, plan.usefulShare(tile: tile)), (.batchImplicitGEMM, plan.batchUsefulShare(tile: tile))]
            }
        }
        let base: [ConvolutionAlgorithm] = flops < 1e9 ? [.gemm, .batchedGEMM, .direct] : [.gemm, .batchedGEMM]
        let tiled = ([tile] + alternatives.filter { $0 != tile }).flatMap { t in
            usefulShares(t).filter { $0.1 >= 0.75 }.map { t == tile ? $0.0.rawValue : "\($0.0.rawValue) \(t.rawValue)" }
        }
        return base.map(\.rawValue) + tiled + (isDense ? [ConvolutionAlgorithm.dense.rawValue] : [])
    }

    /// A recorded choice: the algorithm, and the tile of an implicit GEMM (`tile` where it names none).
    static func parse(_ choice: String, tile: GEMMKernel) -> (algorithm: ConvolutionAlgorithm, tile: GEMMKernel)? {
        let parts = choice.split(separator: " ").map(String.init)
        guard let algorithm = ConvolutionAlgorithm(rawValue: parts[0]) else { return nil }
        return (algorithm, parts.count > 1 ? GEMMKernel(rawValue: parts[1]) ?? tile : tile)
    }

    /// Whether `algorithm` can run this convolution at all (a forced one that cannot falls back
    /// to the tuner). `candidates` are those worth timing, a subset.
    func supports(_ algorithm: ConvolutionAlgorithm) -> Bool {
        switch algorithm {
        case .implicitGEMM: implicit != nil
        case .batchImplicitGEMM: implicit != nil && kind != .weight
        case .dense: isDense
        default: true
        }
    }

    /// Whether every output pixel reads the whole input plane: a 1×1 small side, a kernel of the
    /// large side's size, no padding (the stride then never applies; dilation 1).
    var isDense: Bool {
        small[2] == 1 && small[3] == 1 && kernel == Size2(large[2], large[3]) && config.padding == Size2(0) && config.dilation == Size2(1)
    }

    /// The implicit GEMM's launches, when it applies (dilation 1): a convolution (and its weight
    /// gradient) is one (at stride S > 1 over its input rearranged by space_to_depth); a
    /// transposed convolution of stride S ≤ kernel is S×S, one per output phase.
    var implicit: ImplicitConvolution? {
        let c = config
        guard c.dilation == Size2(1) else { return nil }
        switch kind {
        case .forward, .weight:
            return ImplicitConvolution(forward: large, small, kernel: kernel, stride: c.stride, padding: c.padding)
        case .transpose:
            guard c.stride.h <= kernel.h, c.stride.w <= kernel.w else { return nil }
            return ImplicitConvolution(transpose: small, large, kernel: kernel, stride: c.stride, padding: c.padding)
        }
    }

    /// The im2col matrix of one image: [C·KH·KW, P·Q].
    private var columnElements: Int { large[1] * kernel.h * kernel.w * small[2] * small[3] }

    /// Images per GEMM of the `.gemm` weight gradient: about 1024 terms per sum.
    private var weightChunk: Int { max(1, min(large[0], 1024 / max(small[2] * small[3], 1))) }

    func scratchElements(_ algorithm: ConvolutionAlgorithm, tile: GEMMKernel) -> Int {
        switch algorithm {
        case .direct: 0
        // Weight gradients: a chunk's column matrix and dyᵀ, and the sums.
        case .gemm where kind == .weight:
            weightChunk * (columnElements + small[1] * small[2] * small[3]) + small[1] * large[1] * kernel.h * kernel.w
        case .gemm: columnElements
        // The batch's column matrix and the small side with batch and channels swapped.
        case .batchedGEMM: (large[1] * kernel.h * kernel.w + small[1]) * small[0] * small[2] * small[3]
        case .implicitGEMM where kind == .weight:
            implicit.map {
                $0.weightScratchElements(
                    gradient: packedGradientElements(rows: tile.registerTile!.rows), kernel: small[1] * large[1] * kernel.h * kernel.w)
            } ?? 0
        case .implicitGEMM: implicit?.scratchElements(batchPanel: nil, rows: tile.registerTile!.rows) ?? 0
        case .batchImplicitGEMM: implicit?.scratchElements(batchPanel: tile.panelWidth, rows: tile.registerTile!.rows) ?? 0
        case .dense: 0
        }
    }

    /// The device work for `algorithm`. Inputs follow the op: conv2d (x, w), convTranspose2d (x, w),
    /// conv2dBackwardWeight (x, dy). `tile` is the GEMM kernel whose register tile the implicit GEMM uses.
    /// `rows` spreads the im2col and col2im rows over work-items (`RowSpread`).
    func work(
        _ algorithm: ConvolutionAlgorithm, _ x: [CLBuffer], _ y: CLBuffer, scratch: CLBuffer?, tile: GEMMKernel,
        rows: (_ rows: Int, _ length: Int) -> RowSpread
    ) -> [Work] {
        let (n, c, o) = (large[0], large[1], small[1])
        let kk = kernel.h * kernel.w, pq = small[2] * small[3]
        switch (algorithm, kind) {
        case (.direct, .forward):
            return [.kernel("conv2d_forward", count: small.count, [.buffer(x[0]), .buffer(x[1]), .buffer(y), .words(words)], flops: flops)]
        case (.direct, .transpose):
            return [
                .kernel(
                    "conv_transpose2d_forward", count: large.count, [.buffer(x[0]), .buffer(x[1]), .buffer(y), .words(words)], flops: flops)
            ]
        case (.direct, .weight):
            return [
                .kernel(
                    "conv2d_backward_weight", count: o * c * kk, [.buffer(x[0]), .buffer(x[1]), .buffer(y), .words(words)], flops: flops)
            ]
        case (.gemm, .forward), (.gemm, .transpose):
            return chunkedWork(x, y, scratch: scratch!, chunk: 1, rows: rows)
        case (.gemm, .weight):
            // dWᵀ [C·KK, O] = Σ_chunks col [C·KK, G·PQ] · dyᵀ [G·PQ, O] over chunks of G images (their
            // column matrices side by side, their dy[n]ᵀ stacked), then dW = (dWᵀ)ᵀ. One image's
            // sum is short (PQ terms: 64 at 8×8) and rewrote the whole dWᵀ per image; chunks of
            // about 1024 terms are faster (docs/performance.md). Built as dW = Σ dy[n] · col[n]ᵀ,
            // the transposed column matrix cost more than im2col's.
            let chunk = weightChunk, parts = rows(c * kk * chunk, pq).parts
            let transposed = chunk * columnElements, sums = transposed + chunk * pq * o
            return stride(from: 0, to: n, by: chunk).flatMap { first -> [Work] in
                let images = min(chunk, n - first)
                return [
                    .kernel(
                        "im2col_batch", count: c * kk * images * parts,
                        [
                            .buffer(x[0]), .int(Int32(first)), .int(Int32(images)), .buffer(scratch!), .words(words), .int(Int32(parts)),
                        ]),
                    transposeWork((x[1], first * o * pq), ld: pq, into: (scratch!, transposed), rows: pq, columns: o, batch: images),
                    .gemm(
                        transposeA: false, transposeB: false, m: c * kk, n: o, k: images * pq, a: (scratch!, 0), b: (scratch!, transposed),
                        c: (scratch!, sums), beta: first == 0 ? 0 : 1),
                ]
            } + [
                transposeWork((scratch!, sums), ld: o, into: (y, 0), rows: o, columns: c * kk)
            ]
        case (.batchedGEMM, .forward), (.batchedGEMM, .transpose):
            return chunkedWork(x, y, scratch: scratch!, chunk: n, rows: rows)
        case (.batchedGEMM, .weight):
            return batchedWeightWork(x, y, scratch: scratch!, rows: rows)
        case (.implicitGEMM, .weight):
            return implicitWeightWork(x, y, scratch: scratch!, tile: tile)
        case (.implicitGEMM, _):
            return implicitWork(x, y, scratch: scratch!, tile: tile, batchInner: false)
        case (.batchImplicitGEMM, _):
            return implicitWork(x, y, scratch: scratch!, tile: tile, batchInner: true)
        // The large side is [N, C·KK] and the small side [N, O]: y = x · wᵀ, y = x · w, dW = dyᵀ · x.
        case (.dense, .forward):
            return [.gemm(transposeA: false, transposeB: true, m: n, n: o, k: c * kk, a: (x[0], 0), b: (x[1], 0), c: (y, 0))]
        case (.dense, .transpose):
            return [.gemm(transposeA: false, transposeB: false, m: n, n: c * kk, k: o, a: (x[0], 0), b: (x[1], 0), c: (y, 0))]
        case (.dense, .weight):
            return [.gemm(transposeA: true, transposeB: false, m: o, n: c * kk, k: n, a: (x[1], 0), b: (x[0], 0), c: (y, 0))]
        }
    }

    /// Each phase's weights packed in tiles (a transposed convolution's flipped, a strided
    /// convolution's rearranged), the padded input, then one implicit-GEMM launch per phase: TM
    /// output channels × VW·VN output pixels per work-item, or with `batchInner` (the input
    /// [Hp, Wp, C, N]) × VW·VN images at one pixel.
    private func implicitWork(_ x: [CLBuffer], _ y: CLBuffer, scratch: CLBuffer, tile gemm: GEMMKernel, batchInner: Bool) -> [Work] {
        let plan = implicit!
        let (n, c, o) = (plan.input[0], plan.input[1], plan.outputChannels)
        let s = plan.spaceToDepth
        let tile = gemm.registerTile!, width = gemm.panelWidth!, rows = ImplicitConvolution.tileRows(o, tile.rows)
        var work: [Work] = []
        var weightsAt: [Int] = [], at = 0
        for phase in plan.phases {
            defer { at += rows * c * phase.taps.h * phase.taps.w }
            weightsAt.append(at)
            let taps = [Int32(phase.taps.h), Int32(phase.taps.w), Int32(tile.rows)].map(KernelArgument.int)
            switch kind {
            case .transpose:
                work.append(
                    .kernel(
                        "flip_transpose_weights", count: rows * c,
                        [
                            .buffer(x[1]), .buffer(scratch), .int(Int32(at)), .int(Int32(c)), .int(Int32(o)), .int(Int32(kernel.h)),
                            .int(Int32(kernel.w)), .int(Int32(config.stride.h)), .int(Int32(config.stride.w)), .int(Int32(phase.a)),
                            .int(Int32(phase.b)),
                        ] + taps))
            case _ where s != Size2(1):
                work.append(
                    .kernel(
                        "space_to_depth_weights", count: rows * large[1],
                        [
                            .buffer(x[1]), .buffer(scratch), .int(Int32(o)), .int(Int32(large[1])), .int(Int32(kernel.h)),
                            .int(Int32(kernel.w)), .int(Int32(s.h)), .int(Int32(s.w)),
                        ] + taps))
            default:
                work.append(packTiles(.buffer(x[1]), 0, into: (scratch, at), rows: o, columns: c * kernel.h * kernel.w, tile: tile.rows))
            }
        }
        // The input padded (at stride 1, S = 1) or rearranged, padding included.
        let padded = plan.weightElements(rows: tile.rows), source = kind == .forward ? large : small
        work.append(
            .kernel(
                "space_to_depth", count: batchInner ? c * plan.paddedSize.h : n * c,
                [
                    .buffer(x[0]), .buffer(scratch), .int(Int32(padded)), .int(Int32(n)), .int(Int32(source[1])), .int(Int32(source[2])),
                    .int(Int32(source[3])),
                    .int(Int32(s.h)), .int(Int32(s.w)), .int(Int32(plan.padding.h)), .int(Int32(plan.padding.w)),
                    .int(Int32(plan.paddedSize.h)), .int(Int32(plan.paddedSize.w)), .int(Int32(batchInner ? width : 0)),
                ]))
        let output = kind == .forward ? small : large
        // An input pixel is one element, or C·N rounded up to whole panels (batch inner).
        let pixel = batchInner ? c * plan.batchPanels(width) * width : 1
        for (phase, at) in zip(plan.phases, weightsAt) {
            let items =
                batchInner
                ? rows / tile.rows * plan.batchPanels(width)
                    * ImplicitConvolution.tileRows(phase.rows * phase.columns, ImplicitConvolution.pixelBlock)
                : rows / tile.rows * (plan.positions(phase, tile: gemm) / width) * n
            work.append(
                .kernel(
                    "conv2d_\(batchInner ? "batch_" : "")implicit_\(gemm.rawValue)", count: items,
                    [
                        .buffer(scratch), .int(Int32(at)), .buffer(scratch),
                        .int(Int32(padded + (phase.inputShift.h * plan.paddedSize.w + phase.inputShift.w) * pixel)),
                        .buffer(y), .int(Int32(output[2] * output[3])), .int(Int32(phase.firstRow * output[3] + phase.firstColumn)),
                        .int(Int32(phase.rowStep * output[3])), .int(Int32(phase.columnStep)),
                        .int(Int32(n)), .int(Int32(o)), .int(Int32(c)), .int(Int32(plan.paddedSize.h)), .int(Int32(plan.paddedSize.w)),
                        .int(Int32(phase.taps.h)), .int(Int32(phase.taps.w)), .int(Int32(phase.rows)), .int(Int32(phase.columns)),
                    ], flops: kind == .transpose ? flops * Double(phase.taps.h * phase.taps.w) / Double(kernel.h * kernel.w) : flops))
        }
        return work
    }

    /// The output gradient [N, O, PQ] as [O, N·PQ] in tiles of `rows` (the weight gradient's A).
    private func packedGradientElements(rows: Int) -> Int { ImplicitConvolution.tileRows(small[1], rows) * small[0] * small[2] * small[3] }

    /// `pack_tiles` (Kernels/implicit.cl): the matrix [rows, columns] at `source` (row i, column
    /// k at i·rowStride + (k / inner)·outerStride + k % inner) in tiles of `tile` rows, a
    /// work-item per tile and block of 16 columns.
    private func packTiles(
        _ source: KernelArgument, _ offset: Int, into target: (CLBuffer, Int), rows: Int, columns: Int, tile: Int,
        rowStride: Int? = nil, inner: Int? = nil, outerStride: Int = 0
    ) -> Work {
        .kernel(
            "pack_tiles", count: ImplicitConvolution.tileRows(rows, tile) / tile * ((columns + 15) / 16),
            [
                source, .int(Int32(offset)), .buffer(target.0), .int(Int32(target.1)), .int(Int32(rows)), .int(Int32(columns)),
                .int(Int32(tile)), .int(Int32(rowStride ?? columns)), .int(Int32(inner ?? columns)), .int(Int32(outerStride)),
            ])
    }

    /// The weight gradient as an implicit GEMM (dWᵀ's columns are taps × channels) over the
    /// input padded or rearranged in blocks of 16 channels innermost, in parts of the batch
    /// summed into dW after (one part: into dW).
    private func implicitWeightWork(_ x: [CLBuffer], _ y: CLBuffer, scratch: CLBuffer, tile gemm: GEMMKernel) -> [Work] {
        let plan = implicit!, taps = plan.phases[0].taps, s = plan.spaceToDepth
        let (n, c, o, cp, padded) = (large[0], large[1], small[1], plan.channelsLast, plan.paddedSize)
        let columns = taps.h * taps.w * cp, chunk = plan.weightChunk, parts = plan.weightParts
        let tile = gemm.registerTile!, width = gemm.panelWidth!
        // dy as [O, N·PQ] in tiles after the copy, then the parts' sums.
        let packed = plan.channelsLastElements, pq = small[2] * small[3]
        let (sums, at) = parts == 1 ? (y, 0) : (scratch, packed + packedGradientElements(rows: tile.rows))
        return [
            packTiles(
                .buffer(x[1]), 0, into: (scratch, packed), rows: o, columns: n * pq, tile: tile.rows, rowStride: pq, inner: pq,
                outerStride: o * pq),
            .kernel(
                "space_to_depth_channels_last", count: cp / 16 * n * padded.h,
                [
                    .buffer(x[0]), .buffer(scratch), .int(Int32(n)), .int(Int32(c)), .int(Int32(large[2])), .int(Int32(large[3])),
                    .int(Int32(s.h)), .int(Int32(s.w)), .int(Int32(plan.padding.h)), .int(Int32(plan.padding.w)),
                    .int(Int32(padded.h)), .int(Int32(padded.w)), .int(Int32(cp)),
                ]),
            .kernel(
                "conv2d_weight_implicit_\(gemm.rawValue)",
                count: (o + tile.rows - 1) / tile.rows * ((columns + width - 1) / width) * parts,
                [
                    .buffer(scratch), .int(Int32(packed)), .buffer(scratch), .buffer(sums), .int(Int32(at)), .int(Int32(n)),
                    .int(Int32(o)), .int(Int32(c)),
                    .int(Int32(kernel.h)), .int(Int32(kernel.w)), .int(Int32(s.h)), .int(Int32(s.w)), .int(Int32(cp)),
                    .int(Int32(padded.h)), .int(Int32(padded.w)), .int(Int32(taps.w)), .int(Int32(columns)), .int(Int32(small[2])),
                    .int(Int32(small[3])), .int(Int32(chunk)),
                ], flops: flops),
        ]
            + (parts == 1
                ? []
                : [
                    .kernel(
                        "sum_parts", count: o * c * kernel.h * kernel.w,
                        [.buffer(scratch), .int(Int32(at)), .buffer(y), .int(Int32(o * c * kernel.h * kernel.w)), .int(Int32(parts))])
                ])
    }

    /// Convolutions and transposed convolutions as one GEMM per chunk of `chunk` images (`.gemm`:
    /// one, `.batchedGEMM`: the whole batch): the chunk's column matrix [C·KK, G·PQ] (columns
    /// g·PQ + pq), and its small side as [O, G·PQ] in scratch after it; one image needs no such
    /// copy. (Chunks of 128 columns lost to one image per GEMM on dcgan64's 4×4 and 8×8 layers.)
    private func chunkedWork(
        _ x: [CLBuffer], _ y: CLBuffer, scratch: CLBuffer, chunk: Int, rows spread: (_ rows: Int, _ length: Int) -> RowSpread
    ) -> [Work] {
        let (n, c, o) = (large[0], large[1], small[1])
        let ckk = c * kernel.h * kernel.w, pq = small[2] * small[3]
        let imagePlane = large[1] * large[2]
        return stride(from: 0, to: n, by: chunk).flatMap { first -> [Work] in
            let images = min(chunk, n - first)
            let columns = images * pq, smallAt = ckk * columns  // the [O, G·PQ] matrix, after the columns
            // The small side of images first ..< first + images: [O, G·PQ] in scratch, or y / x itself for one image.
            let smallMatrix: (CLBuffer, Int) = images == 1 ? (kind == .forward ? y : x[0], first * o * pq) : (scratch, smallAt)
            switch kind {
            case .forward:
                // Y' [O, G·PQ] = w [O, C·KK] · col [C·KK, G·PQ]; y = Y' with G and O swapped.
                let parts = spread(ckk * images, pq).parts
                return [
                    .kernel(
                        "im2col_batch", count: ckk * images * parts,
                        [.buffer(x[0]), .int(Int32(first)), .int(Int32(images)), .buffer(scratch), .words(words), .int(Int32(parts))]),
                    .gemm(transposeA: false, transposeB: false, m: o, n: columns, k: ckk, a: (x[1], 0), b: (scratch, 0), c: smallMatrix),
                ] + (images == 1 ? [] : [swap(scratch, smallAt, y, first * o * pq, o, images, pq, spread: spread)])
            default:
                // X' [O, G·PQ] from x [G, O, PQ]; col = wᵀ · X'; y = col2im(col).
                let parts = spread(images * imagePlane, large[3]).parts
                return (images == 1 ? [] : [swap(x[0], first * o * pq, scratch, smallAt, images, o, pq, spread: spread)]) + [
                    .gemm(transposeA: true, transposeB: false, m: ckk, n: columns, k: o, a: (x[1], 0), b: smallMatrix, c: (scratch, 0)),
                    .kernel(
                        "col2im_batch", count: parts == 1 ? images * large[1] : images * imagePlane * parts,
                        [.buffer(scratch), .int(Int32(first)), .int(Int32(images)), .buffer(y), .words(words), .int(Int32(parts))]),
                ]
            }
        }
    }

    /// dst [B, A, C] from src [A, B, C], its A·B rows spread over work-items by `spread`.
    private func swap(
        _ src: CLBuffer, _ srcOffset: Int, _ dst: CLBuffer, _ dstOffset: Int, _ a: Int, _ b: Int, _ c: Int,
        spread: (_ rows: Int, _ length: Int) -> RowSpread
    ) -> Work {
        let parts = spread(a * b, c).parts
        return .kernel(
            "swap_leading_axes", count: a * b * parts,
            [
                .buffer(src), .int(Int32(srcOffset)), .buffer(dst), .int(Int32(dstOffset)), .int(Int32(a)), .int(Int32(b)), .int(Int32(c)),
                .int(Int32(parts)),
            ])
    }

    /// The weight gradient with one GEMM for the batch: dW [O, C·KK] = dY' [O, N·PQ] · colᵀ,
    /// with colᵀ [N·PQ, C·KK] built directly and dY' the small side with N and O swapped.
    private func batchedWeightWork(
        _ x: [CLBuffer], _ y: CLBuffer, scratch: CLBuffer, rows spread: (_ rows: Int, _ length: Int) -> RowSpread
    ) -> [Work] {
        let (n, c, o) = (large[0], large[1], small[1])
        let ckk = c * kernel.h * kernel.w, pq = small[2] * small[3], npq = n * pq
        let rows = ckk * npq  // offset of the [O, N·PQ] matrix
        let transposedParts = spread(npq, ckk).parts
        return [
            .kernel(
                "im2col_transposed", count: npq * transposedParts,
                [.buffer(x[0]), .int(0), .int(Int32(n)), .buffer(scratch), .words(words), .int(Int32(transposedParts))]),
            swap(x[1], 0, scratch, rows, n, o, pq, spread: spread),
            .gemm(transposeA: false, transposeB: false, m: o, n: ckk, k: npq, a: (scratch, rows), b: (scratch, 0), c: (y, 0)),
        ]
    }
}

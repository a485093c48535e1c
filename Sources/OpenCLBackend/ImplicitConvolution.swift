// The plan of an implicit-GEMM convolution (Kernels/implicit.cl): the padded or rearranged
// input it reads, its launches (a transposed convolution's phases), and the sizes of its
// copies in scratch.
import TensorGraph

/// The implicit GEMM of a convolution as stride-1 convolutions of one zero-padded input.
///
/// A convolution of stride 1 is one such launch. One of stride S is too, after
/// `space_to_depth` moves each S×S block of (padded) input pixels into channels and
/// `space_to_depth_weights` rearranges the kernel to match (⌈K/S⌉ taps, zeros past K).
/// A transposed convolution of stride S
/// (kernel K ≥ S, padding P) splits by output phase: along an axis, the outputs h with
/// (h + P) mod S = a take the kernel rows a, a + S, … (T = ⌈(K − a)/S⌉ of them) from input
/// rows i − t, where h = S·i + a − P, so each phase is a stride-1 convolution with those
/// kernel rows flipped, writing every S-th output row from its first one.
struct ImplicitConvolution {
    /// One launch: `taps` kernel rows and columns, an output of `rows` × `columns` pixels at
    /// (firstRow + rowStep·p, firstColumn + columnStep·q), reading the padded input from row
    /// and column `inputShift` on. `a`, `b`: the phase (transposed convolutions).
    struct Phase {
        let a: Int, b: Int
        let taps: Size2
        let rows: Int, columns: Int
        let firstRow: Int, firstColumn: Int, rowStep: Int, columnStep: Int
        let inputShift: Size2
    }
    /// The input read ([N, C, H, W]: the small side of a transposed convolution, the
    /// rearranged [N, C·S·S, …] of a strided convolution).
    let input: Shape
    let outputChannels: Int
    /// Zeros before the input's first row and column (for a strided convolution its padding,
    /// applied by space_to_depth), and the padded plane's size.
    let padding: Size2, paddedSize: Size2
    let phases: [Phase]

    /// Each phase's weights as a convolution's [O, C·TH·TW] (a transposed convolution's flipped
    /// phases, a strided convolution's space-to-depth kernel), packed in tiles of `rows` output
    /// channels (Kernels/implicit.cl's `pack_tiles`), one phase after another: first in scratch.
    func weightElements(rows: Int) -> Int {
        Self.tileRows(outputChannels, rows) * input[1] * phases.reduce(0) { $0 + $1.taps.h * $1.taps.w }
    }

    /// The batch-inner kernel's blocks of output pixels (Kernels/implicit.cl's 16: launches
    /// cover whole blocks).
    static let pixelBlock = 16

    /// `count` rows rounded up to whole tiles of `rows` (`pack_tiles` repeats the last row).
    static func tileRows(_ count: Int, _ rows: Int) -> Int { (count + rows - 1) / rows * rows }

    /// The packed weights, the padded input (with the batch innermost, in whole panels of
    /// `batchPanel` images), and room for the last panel's reads past its end (up to three
    /// rows and a panel's width).
    func scratchElements(batchPanel: Int?, rows: Int) -> Int {
        let images = batchPanel.map { batchPanels($0) * $0 } ?? input[0]
        return weightElements(rows: rows) + images * input[1] * paddedSize.h * paddedSize.w + 4 * paddedSize.w + 64
    }

    /// Weight gradients: the input's channels rounded up to 16 in its channels-last copy, so
    /// that a vector of 8 or 16 lies at one tap; the share of them that are channels.
    var channelsLast: Int { (input[1] + 15) / 16 * 16 }
    var channelShare: Double { Double(input[1]) / Double(channelsLast) }
    var channelsLastElements: Int { input[0] * paddedSize.h * paddedSize.w * channelsLast }
    /// Images per part of a weight gradient's sum: parts of at most about 4096 terms (the part
    /// of a 32-column panel then takes 512 KB), of equal size.
    var weightChunk: Int {
        let pixels = max(phases[0].rows * phases[0].columns, 1), parts = max(1, (input[0] * pixels + 4095) / 4096)
        return (input[0] + parts - 1) / parts
    }
    var weightParts: Int { (input[0] + weightChunk - 1) / weightChunk }
    /// The channels-last copy, the output gradient's copy, then (parts > 1) each part's sums
    /// of a `kernel`-element dW.
    func weightScratchElements(gradient: Int, kernel: Int) -> Int {
        channelsLastElements + gradient + (weightParts > 1 ? weightParts * kernel : 0)
    }

    /// The panels of `width` images that hold the batch (batch inner).
    func batchPanels(_ width: Int) -> Int { (input[0] + width - 1) / width }

    /// The positions a launch computes in `tile`'s panels: its output rows as they are where
    /// they hold whole vectors, else the padded rows (Kernels/implicit.cl), rounded up to panels.
    func positions(_ phase: Phase, tile: GEMMKernel) -> Int {
        let row = phase.columns % tile.registerTile!.lanes == 0 ? phase.columns : paddedSize.w, width = tile.panelWidth!
        return (phase.rows * row + width - 1) / width * width
    }

    /// The share of the computed positions that are output pixels. The tuner times the
    /// implicit GEMM where at least 3/4 are (dcgan64's 4×4 phases, 16 positions for each 4
    /// pixels, ran at 643 ms against 86 for the others); tests force it anywhere.
    func usefulShare(tile: GEMMKernel) -> Double {
        Double(phases.reduce(0) { $0 + $1.rows * $1.columns }) / Double(phases.reduce(0) { $0 + positions($1, tile: tile) })
    }

    /// The same with the batch innermost: the share of the images computed that are in the batch.
    func batchUsefulShare(tile: GEMMKernel) -> Double {
        let width = tile.panelWidth!
        return Double(input[0]) / Double(batchPanels(width) * width)
    }

    /// The space-to-depth factor of a strided convolution ((1, 1): none, `space_to_depth` only pads).
    let spaceToDepth: Size2

    init(forward input: Shape, _ output: Shape, kernel: Size2, stride: Size2, padding: Size2) {
        outputChannels = output[1]
        spaceToDepth = stride
        let taps = Size2((kernel.h + stride.h - 1) / stride.h, (kernel.w + stride.w - 1) / stride.w)
        if stride == Size2(1) {
            self.input = input
            self.padding = padding
            paddedSize = Size2(input[2] + 2 * padding.h, input[3] + 2 * padding.w)
        } else {
            // The rearranged input [N, C·SH·SW, P + TH − 1, Q + TW − 1], padding included.
            self.input = Shape([input[0], input[1] * stride.h * stride.w, output[2] + taps.h - 1, output[3] + taps.w - 1])
            self.padding = padding
            paddedSize = Size2(self.input[2], self.input[3])
        }
        phases = [
            Phase(
                a: 0, b: 0, taps: taps, rows: output[2], columns: output[3], firstRow: 0, firstColumn: 0, rowStep: 1, columnStep: 1,
                inputShift: Size2(0))
        ]
    }

    /// One axis of a transposed convolution: per phase a, its taps, the first input-aligned
    /// index i0 and the count of outputs h = S·(i0 + j) + a − P inside [0, size).
    private static func axis(stride s: Int, kernel k: Int, padding p: Int, size: Int) -> [(a: Int, taps: Int, first: Int, count: Int)] {
        func floorDiv(_ x: Int, _ y: Int) -> Int { x >= 0 ? x / y : -((-x + y - 1) / y) }
        return (0..<s).map { a in
            let first = -floorDiv(a - p, s), last = floorDiv(size - 1 + p - a, s)
            return (a, (k - a + s - 1) / s, first, max(0, last - first + 1))
        }
    }

    init(transpose input: Shape, _ output: Shape, kernel: Size2, stride: Size2, padding convPadding: Size2) {
        self.input = input
        outputChannels = output[1]
        let rows = Self.axis(stride: stride.h, kernel: kernel.h, padding: convPadding.h, size: output[2])
        let columns = Self.axis(stride: stride.w, kernel: kernel.w, padding: convPadding.w, size: output[3])
        // Input rows read by a phase: first − (taps − 1) … first + count − 1.
        let top = rows.map { $0.taps - 1 - $0.first }.max()!, left = columns.map { $0.taps - 1 - $0.first }.max()!
        let bottom = rows.map { $0.first + $0.count - input[2] }.max()!, right = columns.map { $0.first + $0.count - input[3] }.max()!
        padding = Size2(max(top, 0), max(left, 0))
        paddedSize = Size2(input[2] + padding.h + max(bottom, 0), input[3] + padding.w + max(right, 0))
        var phases: [Phase] = []
        for r in rows where r.count > 0 {
            for c in columns where c.count > 0 {
                phases.append(
                    Phase(
                        a: r.a, b: c.a, taps: Size2(r.taps, c.taps), rows: r.count, columns: c.count,
                        firstRow: stride.h * r.first + r.a - convPadding.h, firstColumn: stride.w * c.first + c.a - convPadding.w,
                        rowStep: stride.h, columnStep: stride.w,
                        inputShift: Size2(r.first - r.taps + 1 + padding.h, c.first - c.taps + 1 + padding.w)))
            }
        }
        self.phases = phases
        spaceToDepth = Size2(1)
    }
}

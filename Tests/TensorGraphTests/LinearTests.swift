import TensorGraph
import TestSupport
import Testing

@Suite struct LinearTests {
    @Test func matmulForwardMatchesHandValues() throws {
        let a = CheckInput("a", [2, 3], [1, 2, 3, 4, 5, 6])
        let b = CheckInput("b", [3, 2], [7, 8, 9, 10, 11, 12])
        expectClose(try forward([a, b]) { matmul($0[0], $0[1]) }, [58, 64, 139, 154], .exact)
        expectClose(try forward([a, a.renamed("b")]) { matmul($0[0], $0[1], transposeB: true) }, [14, 32, 32, 77], .exact)
        expectClose(
            try forward([a, a.renamed("b")]) { matmul($0[0], $0[1], transposeA: true) }, [17, 22, 27, 22, 29, 36, 27, 36, 45], .exact)
        let batched = CheckInput("a", [2, 1, 3], [1, 2, 3, 4, 5, 6])
        expectClose(try forward([batched, b]) { matmul($0[0], $0[1]) }, [58, 64, 139, 154], .exact)
    }

    @Test func matmulGradientsForEveryTransposeAndBatch() throws {
        for tA in [false, true] {
            for tB in [false, true] {
                let (m, k, n) = (3, 5, 2)
                let a = CheckInput("a", tA ? [k, m] : [m, k], randomValues(m * k, seed: seed(300)))
                let b = CheckInput("b", tB ? [n, k] : [k, n], randomValues(k * n, seed: seed(301)))
                try expectGradients([a, b]) { matmul($0[0], $0[1], transposeA: tA, transposeB: tB) }
                let batchedA = CheckInput("a", Shape([4] + a.shape.dims), randomValues(4 * m * k, seed: seed(302)))
                let batchedB = CheckInput("b", Shape([4] + b.shape.dims), randomValues(4 * k * n, seed: seed(303)))
                try expectGradients([batchedA, b]) { matmul($0[0], $0[1], transposeA: tA, transposeB: tB) }
                try expectGradients([a, batchedB]) { matmul($0[0], $0[1], transposeA: tA, transposeB: tB) }
                try expectGradients([batchedA, batchedB]) { matmul($0[0], $0[1], transposeA: tA, transposeB: tB) }
            }
        }
    }

    @Test func conv2dForwardMatchesHandValues() throws {
        // 1×1×3×3 input, 2×2 kernel of ones: each output sums a 2×2 window.
        let x = CheckInput("x", [1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let w = CheckInput("w", [1, 1, 2, 2], [1, 1, 1, 1])
        expectClose(try forward([x, w]) { conv2d($0[0], $0[1]) }, [12, 16, 24, 28], .exact)
        expectClose(try forward([x, w]) { conv2d($0[0], $0[1], stride: Size2(2), padding: Size2(1)) }, [1, 5, 11, 28], .exact)
        expectClose(try forward([x, w]) { conv2d($0[0], $0[1], dilation: Size2(2)) }, [20], .exact)
        let b = CheckInput("b", [1], [0.5])
        expectClose(try forward([x, w, b]) { conv2d($0[0], $0[1], bias: $0[2]) }, [12.5, 16.5, 24.5, 28.5], .exact)
        // Transposed: a 2×2 input scattered by a 2×2 kernel of ones with stride 2 tiles a 4×4 output.
        let t = CheckInput("x", [1, 1, 2, 2], [1, 2, 3, 4])
        expectClose(
            try forward([t, w]) { convTranspose2d($0[0], $0[1], stride: Size2(2)) },
            [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4], .exact)
        expectClose(try forward([t, w]) { convTranspose2d($0[0], $0[1]) }, [1, 3, 2, 4, 10, 6, 3, 7, 4], .exact)
    }

    @Test func convolutionShapesFollowPyTorch() {
        let g = Graph()
        let x = g.placeholder("x", [2, 3, 64, 64])
        // DCGAN discriminator and generator layers.
        #expect(conv2d(x, g.placeholder("w", [64, 3, 4, 4]), stride: Size2(2), padding: Size2(1)).shape == [2, 64, 32, 32])
        let z = g.placeholder("z", [2, 100, 1, 1])
        #expect(convTranspose2d(z, g.placeholder("w2", [100, 512, 4, 4])).shape == [2, 512, 4, 4])
        let h = g.placeholder("h", [2, 512, 4, 4])
        #expect(convTranspose2d(h, g.placeholder("w3", [512, 256, 4, 4]), stride: Size2(2), padding: Size2(1)).shape == [2, 256, 8, 8])
        #expect(
            convTranspose2d(h, g.placeholder("w4", [512, 8, 3, 3]), stride: Size2(2), padding: Size2(1), outputPadding: Size2(1)).shape == [
                2, 8, 8, 8,
            ])
        #expect(g.error == nil)
    }

    /// Stride, padding, dilation and output-padding variants on odd shapes.
    static let convCases: [(x: Shape, o: Int, k: Size2, cfg: ConvConfig, outputPadding: Size2)] = [
        ([1, 1, 5, 5], 1, Size2(3), ConvConfig(), Size2(0)),
        ([2, 3, 7, 6], 5, Size2(3), ConvConfig(stride: Size2(2), padding: Size2(1)), Size2(1)),
        ([3, 2, 6, 7], 3, Size2(4), ConvConfig(stride: Size2(2), padding: Size2(1)), Size2(0)),
        ([1, 5, 7, 7], 2, Size2(3, 2), ConvConfig(stride: Size2(1, 2), padding: Size2(2, 0), dilation: Size2(2, 1)), Size2(0, 1)),
        ([2, 2, 5, 4], 3, Size2(1), ConvConfig(stride: Size2(3), padding: Size2(0)), Size2(2)),
    ]

    @Test(arguments: 0..<convCases.count)
    func conv2dGradientsMatchFiniteDifferences(_ i: Int) throws {
        let c = Self.convCases[i]
        let w: Shape = [c.o, c.x[1], c.k.h, c.k.w]
        let inputs = [
            CheckInput("x", c.x, randomValues(c.x.count, seed: seed(400 + UInt64(i)))),
            CheckInput("w", w, randomValues(w.count, seed: seed(410 + UInt64(i)))),
            CheckInput("b", [c.o], randomValues(c.o, seed: seed(420 + UInt64(i)))),
        ]
        try expectGradients(inputs, probes: 16) {
            conv2d($0[0], $0[1], bias: $0[2], stride: c.cfg.stride, padding: c.cfg.padding, dilation: c.cfg.dilation)
        }
    }

    @Test(arguments: 0..<convCases.count)
    func convTranspose2dGradientsMatchFiniteDifferences(_ i: Int) throws {
        let c = Self.convCases[i]
        let w: Shape = [c.x[1], c.o, c.k.h, c.k.w]
        let inputs = [
            CheckInput("x", c.x, randomValues(c.x.count, seed: seed(430 + UInt64(i)))),
            CheckInput("w", w, randomValues(w.count, seed: seed(440 + UInt64(i)))),
            CheckInput("b", [c.o], randomValues(c.o, seed: seed(450 + UInt64(i)))),
        ]
        try expectGradients(inputs, probes: 16) {
            convTranspose2d(
                $0[0], $0[1], bias: $0[2], stride: c.cfg.stride, padding: c.cfg.padding, outputPadding: c.outputPadding,
                dilation: c.cfg.dilation)
        }
    }

    /// A 3×3 "same" convolution of a nearest 2× upsampling runs as a transposed convolution of
    /// the input itself: the same values as the convolution of the upsampled copy (fed in, so
    /// nothing is rewritten), the rewrite really made, and gradients of x, w and b right.
    @Test(arguments: OddShapes.images)
    func convolutionOfUpsamplingIsATransposedConvolution(_ shape: Shape) throws {
        let x = CheckInput("x", shape, randomValues(shape.count, seed: seed(460)))
        let w = CheckInput("w", [4, shape[1], 3, 3], randomValues(4 * shape[1] * 9, seed: seed(461)))
        let b = CheckInput("b", [4], randomValues(4, seed: seed(462)))
        let upsampled = try forward([x]) { upsampleNearest($0[0]) }
        let big = CheckInput("u", [shape[0], shape[1], shape[2] * 2, shape[3] * 2], upsampled)
        let want = try forward([big, w, b]) { conv2d($0[0], $0[1], bias: $0[2], padding: Size2(1)) }
        let got = try forward([x, w, b]) {
            let y = conv2d(upsampleNearest($0[0]), $0[1], bias: $0[2], padding: Size2(1))
            #expect(y.inputs.contains { if case .convTranspose2d = $0.op { true } else { false } })
            return y
        }
        expectClose(got, want, .sums, "\(shape)")
        try expectGradients([x, w, b], probes: 16) { conv2d(upsampleNearest($0[0]), $0[1], bias: $0[2], padding: Size2(1)) }
    }

    /// conv2dBackwardWeight appears under second derivatives; check its own gradient rule.
    @Test(arguments: 0..<convCases.count)
    func conv2dBackwardWeightGradientsMatchFiniteDifferences(_ i: Int) throws {
        let c = Self.convCases[i]
        let probe = Graph()
        let y = conv2d(
            probe.placeholder("x", c.x), probe.placeholder("w", [c.o, c.x[1], c.k.h, c.k.w]), stride: c.cfg.stride, padding: c.cfg.padding,
            dilation: c.cfg.dilation)
        let inputs = [
            CheckInput("x", c.x, randomValues(c.x.count, seed: seed(460 + UInt64(i)))),
            CheckInput("dy", y.shape, randomValues(y.shape.count, seed: seed(470 + UInt64(i)))),
        ]
        try expectGradients(inputs, probes: 16) {
            $0[0].graph.apply(.conv2dBackwardWeight(c.cfg, kernel: c.k), [$0[0], $0[1]])
        }
    }
}

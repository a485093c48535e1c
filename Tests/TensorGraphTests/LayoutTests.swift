import TensorGraph
import TestSupport
import Testing

@Suite struct LayoutTests {
    let m: [Float] = [1, 2, 3, 4, 5, 6]  // [2, 3]

    @Test func forwardMatchesHandValues() throws {
        expectClose(try forward([2, 3], m) { $0.reshaped([3, 2]) }, m, .exact)
        expectClose(try forward([2, 3], m) { $0.reshaped([-1]) }, m, .exact)
        expectClose(try forward([2, 3], m) { $0.transposed() }, [1, 4, 2, 5, 3, 6], .exact)
        expectClose(try forward([2, 3], m) { $0.reshaped([1, 2, 3]).permuted([2, 0, 1]) }, [1, 4, 2, 5, 3, 6], .exact)
        expectClose(try forward([3], [1, 2, 3]) { $0.expanded(to: [2, 3]) }, [1, 2, 3, 1, 2, 3], .exact)
        expectClose(try forward([2, 1], [1, 2]) { $0.expanded(to: [2, 3]) }, [1, 1, 1, 2, 2, 2], .exact)
        expectClose(try forward([2, 3], m) { concat([$0, $0 * 10], axis: 1) }, [1, 2, 3, 10, 20, 30, 4, 5, 6, 40, 50, 60], .exact)
        expectClose(try forward([2, 3], m) { concat([$0, $0 * 10], axis: 0) }, m + m.map { $0 * 10 }, .exact)
        expectClose(try forward([2, 3], m) { $0.sliced(starts: [1, 1], sizes: [1, 2]) }, [5, 6], .exact)
        expectClose(try forward([2, 3], m) { $0.sliced(axis: 1, 0..<1) }, [1, 4], .exact)
        expectClose(
            try forward([2, 3], m) { $0.padded(before: [0, 1], after: [1, 0]) },
            [0, 1, 2, 3, 0, 4, 5, 6, 0, 0, 0, 0], .exact)
    }

    /// PyTorch's `pixel_shuffle` by hand: output (c, h·r + i, w·r + j) is input channel c·r² + i·r + j at (h, w).
    @Test func pixelShuffleByHand() throws {
        // [1, 4, 1, 2]: channels 0–3 at two pixels → [1, 1, 2, 4].
        let x: [Float] = [0, 1, 10, 11, 20, 21, 30, 31]
        let shuffled = try forward([1, 4, 1, 2], x) { pixelShuffle($0, factor: 2) }
        expectClose(shuffled, [0, 10, 1, 11, 20, 30, 21, 31], .exact)
        expectClose(try forward([1, 1, 2, 4], shuffled) { pixelUnshuffle($0, factor: 2) }, x, .exact)
        let big = randomValues(2 * 18 * 3 * 5, seed: seed(103))
        expectClose(try forward([2, 18, 3, 5], big) { pixelUnshuffle(pixelShuffle($0, factor: 3), factor: 3) }, big, .exact)
        let p = CheckInput("p", [2, 8, 3, 2], randomValues(96, seed: seed(104)))
        try expectGradients([p]) { pixelShuffle($0[0], factor: 2) }
    }

    @Test func gradientsMatchFiniteDifferences() throws {
        let shape: Shape = [3, 4, 5]
        let x = CheckInput("x", shape, randomValues(shape.count, seed: seed(100)))
        let y = CheckInput("y", [3, 2, 5], randomValues(30, seed: seed(101)))
        try expectGradients([x]) { $0[0].reshaped([5, 12]) }
        try expectGradients([x]) { $0[0].permuted([2, 0, 1]) }
        try expectGradients([CheckInput("x", [4, 1], randomValues(4, seed: seed(102)))]) { $0[0].expanded(to: [3, 4, 7]) }
        try expectGradients([x, y]) { concat([$0[0], $0[1], $0[0]], axis: 1) }
        try expectGradients([x]) { $0[0].sliced(starts: [1, 0, 2], sizes: [2, 3, 3]) }
        try expectGradients([x]) { $0[0].padded(before: [0, 2, 1], after: [1, 0, 3]) }
    }
}

@Suite struct ReduceTests {
    @Test func forwardMatchesHandValues() throws {
        let m: [Float] = [1, 5, 3, 4, 2, 6]  // [2, 3]
        expectClose(try forward([2, 3], m) { $0.sum() }, [21], .exact)
        expectClose(try forward([2, 3], m) { $0.sum(axes: [0]) }, [5, 7, 9], .exact)
        expectClose(try forward([2, 3], m) { $0.sum(axes: [1], keepDims: true) }, [9, 12], .exact)
        expectClose(try forward([2, 3], m) { $0.mean(axes: [-1]) }, [3, 4], .exact)
        expectClose(try forward([2, 3], m) { $0.max(axes: [1]) }, [5, 6], .exact)
        expectClose(try forward([2, 3], m) { $0.max(axes: [0]) }, [4, 5, 6], .exact)
        expectClose(try forward([2, 3], m) { $0.max() }, [6], .exact)
        expectClose(try forward([2, 3], m) { square($0).sum(axes: [1]) }, [35, 56], .exact)
        expectClose(
            try forward([2, 3], m) { ($0 * $0.sliced(starts: [0, 0], sizes: [1, 3]).expanded(to: [2, 3])).sum(axes: [1]) }, [35, 32], .exact
        )
        #expect(Graph().placeholder("x", [2, 3, 4]).sum(axes: [1], keepDims: true).shape == [2, 1, 4])
    }

    /// The sum of a product or square reads its factors in one op (no product written out).
    @Test func sumsOfProductsAreOneOp() {
        let g = Graph()
        let a = g.placeholder("a", [2, 3]), b = g.placeholder("b", [2, 3])
        for (sum, inputs) in [((a * b).sum(axes: [0]), [a.id, b.id]), (square(a).mean(), [a.id, a.id])] {
            // A mean is the sum times 1/count.
            let reduce = sum.graph[sum.id].op.name == "reduceSumOfProducts" ? sum : sum.inputs[0]
            #expect(reduce.graph[reduce.id].op.name == "reduceSumOfProducts")
            #expect(reduce.graph[reduce.id].inputs == inputs)
        }
        #expect((a + b).sum().graph[(a + b).sum().id].op.name == "reduceSum")
    }

    @Test func longSumsAreAccurate() throws {
        // 10⁶ × 0.1 in Float accumulation drifts by ~1e-3 relative; Double stays exact to ~1e-7.
        let values = [Float](repeating: 0.1, count: 1_000_000)
        let total = try forward([1_000_000], values) { $0.sum() }[0]
        #expect(Swift.abs(total - 100_000) < 0.02)
    }

    @Test func gradientsMatchFiniteDifferences() throws {
        for (i, shape) in ([[7], [3, 4, 5], [2, 3, 4, 5]] as [Shape]).enumerated() {
            let x = CheckInput("x", shape, randomValues(shape.count, seed: seed(200 + UInt64(i))))
            try expectGradients([x]) { $0[0].sum() }
            try expectGradients([x]) { $0[0].mean(axes: [0], keepDims: true) }
            try expectGradients([x]) { $0[0].sum(axes: [shape.rank - 1]) }
            try expectGradients([x]) { square($0[0]).mean(axes: [0]) }
            try expectGradients([x]) { (($0[0] + 1) * $0[0]).sum(axes: [shape.rank - 1]) }
            // Second order, as WGAN-GP's penalty differentiates its gradient.
            try expectGradients([x]) { gradients(of: square(tanh($0[0])).sum(), wrt: [$0[0]])[0] * $0[0] }
            // Distinct, well-separated values keep max away from ties.
            var rng = SeededGenerator(seed: seed(210 + UInt64(i)))
            let spread = CheckInput("x", shape, (0..<shape.count).map { Float($0) * 0.1 }.shuffled(using: &rng))
            try expectGradients([spread]) { $0[0].max(axes: [0]) }
            try expectGradients([spread]) { $0[0].max() }
        }
    }
}

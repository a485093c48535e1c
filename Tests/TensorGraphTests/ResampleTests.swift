import TensorGraph
import TestSupport
import Testing

@Suite struct ResampleTests {
    @Test func forwardMatchesHandValues() throws {
        let x: [Float] = [1, 2, 3, 4]  // [1, 1, 2, 2]
        expectClose(
            try forward([1, 1, 2, 2], x) { upsampleNearest($0, factor: 2) }, [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4], .exact)
        // PyTorch: F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False).
        expectClose(
            try forward([1, 1, 2, 2], x) { upsampleBilinear2x($0) },
            [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4])
        expectClose(try forward([1, 1, 2, 2], x) { avgPool2d($0, kernel: Size2(2)) }, [2.5])
        // Padding 1 with count_include_pad: corner windows see one value and three zeros.
        expectClose(
            try forward([1, 1, 2, 2], x) { avgPool2d($0, kernel: Size2(2), stride: Size2(2), padding: Size2(1)) }, [0.25, 0.5, 0.75, 1])
    }

    @Test func gradientsMatchFiniteDifferences() throws {
        for (i, shape) in OddShapes.images.enumerated() {
            let x = CheckInput("x", shape, randomValues(shape.count, seed: seed(500 + UInt64(i))))
            try expectGradients([x]) { upsampleNearest($0[0], factor: 2) }
            try expectGradients([x]) { upsampleNearest($0[0], factor: 3) }
            try expectGradients([x]) { upsampleBilinear2x($0[0]) }
            try expectGradients([x]) { avgPool2d($0[0], kernel: Size2(2)) }
            try expectGradients([x]) { avgPool2d($0[0], kernel: Size2(3), stride: Size2(2), padding: Size2(1)) }
            let even = Shape([shape[0], shape[1], shape[2] * 2, shape[3] * 2])
            let dy = CheckInput("x", even, randomValues(even.count, seed: seed(510 + UInt64(i))))
            try expectGradients([dy]) { $0[0].graph.apply(.upsampleBilinear2xBackward, [$0[0]]) }
            let pool = PoolConfig(kernel: Size2(2), stride: Size2(1), padding: Size2(1))
            let pooled = Graph().placeholder("p", shape)
            let pooledShape = avgPool2d(pooled, kernel: pool.kernel, stride: pool.stride, padding: pool.padding).shape
            let g = CheckInput("x", pooledShape, randomValues(pooledShape.count, seed: seed(520 + UInt64(i))))
            try expectGradients([g]) { $0[0].graph.apply(.avgPool2dBackward(pool, shape: shape), [$0[0]]) }
        }
    }
}

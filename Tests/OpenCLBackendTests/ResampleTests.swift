import CPUReference
import NeuralNet
import OpenCLBackend
import OpenCLRuntime
import TensorGraph
import TestSupport
import Testing

/// Upsampling and pooling on the OpenCL device against the CPU reference, forward and
/// backward, on odd shapes, with outputs poisoned (NaN) before each op runs.
@Suite(.enabled(if: openCLTestsEnabled, "no OpenCL device"))
struct OpenCLResampleTests {
    @Test(arguments: [[1, 1, 5, 5], [3, 3, 4, 7], [2, 5, 7, 3]] as [Shape])
    func resampling(_ shape: Shape) throws {
        let x = input("x", shape, 80)
        try expectOpenCLMatches([x], tolerance: .sums, "upsampleNearest ×2 \(shape)") { upsampleNearest($0[0], factor: 2) }
        try expectOpenCLMatches([x], tolerance: .sums, "upsampleNearest ×3 \(shape)") { upsampleNearest($0[0], factor: 3) }
        try expectOpenCLMatches([x], tolerance: .sums, "upsampleBilinear2x \(shape)") { upsampleBilinear2x($0[0]) }
        try expectOpenCLMatches([x], tolerance: .sums, "avgPool2d 2 \(shape)") { avgPool2d($0[0], kernel: Size2(2)) }
        try expectOpenCLMatches([x], tolerance: .sums, "avgPool2d 3/2/1 \(shape)") {
            avgPool2d($0[0], kernel: Size2(3), stride: Size2(2), padding: Size2(1))
        }
        try expectOpenCLMatches([x], tolerance: .sums, "avgPool2d 2/1/1 \(shape)") {
            avgPool2d($0[0], kernel: Size2(2), stride: Size2(1), padding: Size2(1))
        }
    }
}

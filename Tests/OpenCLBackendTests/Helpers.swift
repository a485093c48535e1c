import OpenCLBackend
import TensorGraph
import TestSupport
import Testing

/// OpenCL forward and backward of `f` match the CPU reference.
func expectOpenCLMatches(
    _ inputs: [CheckInput], tolerance: Tolerance = .transcendental, gradient: Tolerance? = nil, _ context: String,
    convolution: ConvolutionAlgorithm? = nil, gemm: GEMMKernel? = nil, configure: (OpenCLBackend) -> Void = { _ in },
    sourceLocation: SourceLocation = #_sourceLocation,
    _ f: ([Tensor]) -> Tensor
) throws {
    let message = try opMismatch(
        inputs, tolerance: tolerance, gradientTolerance: gradient, context: context, convolution: convolution, gemm: gemm,
        configure: configure, f)
    #expect(message == nil, Comment(rawValue: message ?? ""), sourceLocation: sourceLocation)
}

func seed(_ salt: UInt64) -> UInt64 { testSeed &+ salt &* 7919 }

func input(_ name: String, _ shape: Shape, _ salt: UInt64, in range: ClosedRange<Float> = -1...1) -> CheckInput {
    CheckInput(name, shape, randomValues(shape.count, in: range, seed: seed(salt)))
}

extension CheckInput {
    func renamed(_ name: String) -> CheckInput { CheckInput(name, shape, values, constant: isConstant) }
}

import CPUReference
import TensorGraph
import TestSupport
import Testing

/// Evaluates `f` on placeholders fed with `inputs` on the CPU reference.
func forward(_ inputs: [CheckInput], _ f: ([Tensor]) -> Tensor) throws -> [Float] {
    let graph = Graph()
    let xs = inputs.map { graph.placeholder($0.name, $0.shape) }
    return try evaluate([f(xs)], feeds: Dictionary(uniqueKeysWithValues: inputs.map { ($0.name, $0.values) }))[0]
}

/// One input named "x".
func forward(_ shape: Shape, _ values: [Float], _ f: (Tensor) -> Tensor) throws -> [Float] {
    try forward([CheckInput("x", shape, values)]) { f($0[0]) }
}

func expectClose(
    _ got: [Float], _ want: [Float], _ tolerance: Tolerance = .transcendental, _ context: String = "",
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let message = mismatch(got, want, tolerance, context)
    #expect(message == nil, Comment(rawValue: message ?? ""), sourceLocation: sourceLocation)
}

func expectGradients(
    _ inputs: [CheckInput], probes: Int = 24, step: Float = 1e-2, tolerance: Tolerance = Tolerance(atol: 5e-4, rtol: 2e-3),
    sourceLocation: SourceLocation = #_sourceLocation, _ f: ([Tensor]) -> Tensor
) throws {
    let message = try gradientMismatch(inputs, probes: probes, step: step, tolerance: tolerance, f)
    #expect(message == nil, Comment(rawValue: message ?? ""), sourceLocation: sourceLocation)
}

/// Seeds that differ per call site but are fixed per run.
func seed(_ salt: UInt64) -> UInt64 { testSeed &+ salt &* 7919 }

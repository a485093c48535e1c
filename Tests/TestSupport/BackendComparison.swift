// OpenCL against the CPU reference: run the same graph (forward and the
// gradients of Σ f(x)·R) on both and compare every output.
import CPUReference
import Foundation
import OpenCLBackend
import OpenCLRuntime
import TensorGraph

/// The OpenCL device tests use: `GENOCL_DEVICE`, else 0.
public let testDeviceIndex = Int(ProcessInfo.processInfo.environment["GENOCL_DEVICE"] ?? "") ?? 0

/// Whether OpenCL tests can run here. Under CI they always run (and fail without a device).
public let openCLTestsEnabled: Bool =
    ProcessInfo.processInfo.environment["CI"] == "true" || ((try? listDevices().isEmpty == false) ?? false)

/// Tests keep their measured choices (convolution algorithms, GEMM kernel) in files of their
/// own: they are timed while other tests run.
public let testMeasurements = "tests"

/// A fresh OpenCL backend that poisons every output with NaN before writing it,
/// optionally with one convolution algorithm or GEMM kernel forced.
public func makeTestBackend(convolution: ConvolutionAlgorithm? = nil, gemm: GEMMKernel? = nil, profiling: Bool = false) throws
    -> OpenCLBackend
{
    let backend = try OpenCLBackend(device: testDeviceIndex, profiling: profiling, measurements: testMeasurements)
    backend.poisonOutputs = true
    backend.convolutionAlgorithm = convolution
    if let gemm { backend.gemmKernel = gemm }
    return backend
}

/// Runs `fetches` on the CPU reference and on OpenCL with the same feeds; nil when
/// every value agrees within `tolerance`, else the first disagreement.
public func backendMismatch(
    _ fetches: [Tensor], feeds: [String: [Float]], tolerance: Tolerance, context: String, convolution: ConvolutionAlgorithm? = nil,
    gemm: GEMMKernel? = nil, profiling: Bool = false,
    configure: (OpenCLBackend) -> Void = { _ in }
) throws -> String? {
    let reference = try Session(backend: CPUBackend()).plan(fetches: fetches).run(feeds)
    let device = try makeTestBackend(convolution: convolution, gemm: gemm, profiling: profiling)
    configure(device)
    let got = try Session(backend: device).plan(fetches: fetches).run(feeds)
    guard got.count == fetches.count, reference.count == fetches.count else {
        return
            "\(context): \(got.count) outputs on \(device.deviceDescription) and \(reference.count) on the reference for \(fetches.count) fetches"
    }
    for (i, (g, r)) in zip(got, reference).enumerated() {
        if let message = mismatch(g, r, tolerance, "\(context), output \(i) \(fetches[i].shape) on \(device.deviceDescription)") {
            return message
        }
    }
    return nil
}

/// Forward and backward of `f` on OpenCL vs the CPU reference. `gradientTolerance`
/// defaults to ten times the forward tolerance (backward sums are longer).
public func opMismatch(
    _ inputs: [CheckInput], tolerance: Tolerance, gradientTolerance: Tolerance? = nil, context: String,
    convolution: ConvolutionAlgorithm? = nil, gemm: GEMMKernel? = nil, configure: (OpenCLBackend) -> Void = { _ in },
    _ f: ([Tensor]) -> Tensor
) throws -> String? {
    let graph = Graph()
    let xs = inputs.map { graph.placeholder($0.name, $0.shape) }
    let y = f(xs)
    let feeds = Dictionary(uniqueKeysWithValues: inputs.map { ($0.name, $0.values) })
    if let message = try backendMismatch(
        [y], feeds: feeds, tolerance: tolerance, context: context + " forward", convolution: convolution, gemm: gemm, configure: configure)
    {
        return message
    }
    let differentiable = zip(inputs, xs).filter { !$0.0.isConstant }.map(\.1)
    guard !differentiable.isEmpty else { return nil }
    let weights = graph.constant(randomValues(y.shape.count, seed: testSeed &+ 17), y.shape)
    let grads = gradients(of: (y * weights).sum(), wrt: differentiable)
    let gTolerance = gradientTolerance ?? Tolerance(atol: tolerance.atol * 10, rtol: tolerance.rtol * 10)
    return try backendMismatch(
        grads, feeds: feeds, tolerance: gTolerance, context: context + " backward", convolution: convolution, gemm: gemm,
        configure: configure)
}

/// A comparison found two lists of outputs of different lengths.
public struct OutputCountMismatch: Error, CustomStringConvertible {
    public let description: String
}

/// `zip(a, b)` once their counts agree: a comparison that zips lists of different lengths
/// would pass on the shorter one (or on nothing) without a word.
public func paired<A, B>(_ a: [A], _ b: [B], _ context: String) throws -> Zip2Sequence<[A], [B]> {
    guard a.count == b.count else { throw OutputCountMismatch(description: "\(context): \(a.count) values against \(b.count)") }
    return zip(a, b)
}

import CPUReference
import NeuralNet
import OpenCLBackend
import OpenCLRuntime
import TensorGraph
import TestSupport
import Testing

/// Elementwise ops (activations included) on the OpenCL device against the CPU reference, forward and
/// backward, on odd shapes, with outputs poisoned (NaN) before each op runs.
@Suite(.enabled(if: openCLTestsEnabled, "no OpenCL device"))
struct OpenCLElementwiseTests {
    static let vectors: [Shape] = [[1], [7], [63], [64], [65], [3, 5, 7]]

    @Test(arguments: vectors)
    func elementwise(_ shape: Shape) throws {
        let a = input("a", shape, 1), b = input("b", shape, 2, in: 0.5...2),
            away = CheckInput("a", shape, valuesAwayFromZero(shape.count, seed: seed(3)))
        let unary: [(String, (Tensor) -> Tensor)] = [
            ("neg", { -$0 }), ("exp", exp), ("square", square), ("abs", abs), ("sign", sign), ("relu", relu),
            ("leakyReLU", { leakyReLU($0, slope: 0.2) }), ("tanh", tanh), ("sigmoid", sigmoid), ("softplus", { softplus($0 * 30) }),
            ("clamp", { clamp($0, min: -0.3, max: 0.4) }),
        ]
        for (name, f) in unary { try expectOpenCLMatches([away], "\(name) \(shape)") { f($0[0]) } }
        for (name, f) in [("log", log), ("sqrt", sqrt), ("rsqrt", rsqrt)] as [(String, (Tensor) -> Tensor)] {
            try expectOpenCLMatches([b.renamed("a")], "\(name) \(shape)") { f($0[0]) }
        }
        let binary: [(String, (Tensor, Tensor) -> Tensor)] = [
            ("add", (+)), ("sub", (-)), ("mul", (*)), ("div", (/)), ("maximum", maximum), ("minimum", minimum),
            ("equal", equal), ("notEqual", notEqual), ("less", less), ("lessEqual", lessEqual), ("greater", greater),
            ("greaterEqual", greaterEqual),
        ]
        for (name, f) in binary { try expectOpenCLMatches([a, b], "\(name) \(shape)") { f($0[0], $0[1]) } }
        try expectOpenCLMatches([b.renamed("a"), a.renamed("b")], "pow \(shape)") { pow($0[0], $0[1]) }
        try expectOpenCLMatches([a, b], "select \(shape)") { select(greater($0[0], 0), $0[0], $0[1]) }
        try expectOpenCLMatches([a], "fill \(shape)") { $0[0] + $0[0].graph.fill(0.25, shape) }
    }

    /// Elementwise kernels (unary, binary, select, fill, a pad's zero fill) on tensors of
    /// several runs per work-item, spread as on this device, a 2-core CPU and a 3-unit GPU.
    @Test func elementwiseSpreads() throws {
        let n = 70_001
        let graph = Graph()
        let a = graph.constant(randomValues(n, seed: seed(94)), [n]), b = graph.constant(randomValues(n, in: 0.5...2, seed: seed(95)), [n])
        let fetches = [
            sigmoid(a), leakyReLU(a, slope: 0.2), a * b, a / b, greater(a, b), select(greater(a, 0), a, b),
            graph.fill(0.25, [n]), a.padded(before: [3], after: [5]),
        ]
        for device: (cpu: Bool, computeUnits: Int)? in [nil, (true, 2), (false, 3)] {
            let message = try backendMismatch(
                fetches, feeds: [:], tolerance: .transcendental, context: "elementwise spread as \(String(describing: device))"
            ) {
                $0.spreadDevice = device
            }
            #expect(message == nil, Comment(rawValue: message ?? ""))
        }
    }

    /// The optimizer kernels' work-items cover every element exactly once.
    @Test func elementSpreadCoversEachElementOnce() {
        for count in [1, 63, 64, 513, 70_001, 300_007] {
            for (cpu, units) in [(true, 1), (true, 2), (true, 16), (false, 3), (false, 132)] {
                let spread = ElementSpread(elements: count, cpu: cpu, computeUnits: units)
                var seen = [Int](repeating: 0, count: count)
                for w in 0..<spread.workItems { for i in spread.elements(of: w, count: count) { seen[i] += 1 } }
                #expect(seen.allSatisfy { $0 == 1 }, "count \(count), cpu \(cpu), units \(units): \(spread)")
            }
        }
    }

    @Test func badLabelIsAClearError() throws {
        let graph = Graph()
        let logits = graph.placeholder("x", [2, 3]), labels = graph.placeholder("l", [2])
        let plan = try Session(backend: makeTestBackend()).plan(fetches: [softmaxCrossEntropy(logits, labels: labels)])
        #expect { try plan.run(["x": [1, 2, 3, 4, 5, 6], "l": [0, 7]]) } throws: { "\($0)".contains("row 1 is not a class index") }
        // The flag is cleared: a good batch runs again.
        #expect(try plan.run(["x": [1, 2, 3, 4, 5, 6], "l": [0, 2]])[0][0].isFinite)
    }

    /// The op codes Swift passes and fused kernels name are those Kernels/element_functions.cl
    /// defines: every `#define UNARY_*` / `BINARY_*` is a Swift code with the same value, and back.
    @Test func opCodesAgreeWithTheKernels() throws {
        let source = try kernelSource()
        func defines(_ prefix: String) -> [String: Int32] {
            var found: [String: Int32] = [:]
            for line in source.split(separator: "\n") where line.hasPrefix("#define \(prefix)_") {
                let words = line.split(separator: " ")
                if words.count == 3, let value = Int32(words[2]) { found[String(words[1])] = value }
            }
            return found
        }
        let unary = Dictionary(uniqueKeysWithValues: UnaryKernelCode.allCases.map { ($0.macro, $0.rawValue) })
        let binary = Dictionary(uniqueKeysWithValues: BinaryKernelCode.allCases.map { ($0.macro, $0.rawValue) })
        #expect(defines("UNARY") == unary)
        #expect(defines("BINARY") == binary)
        #expect(unary.count == 14 && binary.count == 13)
    }
}

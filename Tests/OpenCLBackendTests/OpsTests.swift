import CPUReference
import NeuralNet
import OpenCLBackend
import OpenCLRuntime
import TensorGraph
import TestSupport
import Testing

/// Every op on the OpenCL device against the CPU reference, forward and backward,
/// on odd shapes, with outputs poisoned (NaN) before each op runs.
@Suite(.enabled(if: openCLTestsEnabled, "no OpenCL device"))
struct OpenCLOpTests {
    static let vectors: [Shape] = [[1], [7], [63], [64], [65], [3, 5, 7]]

    @Test(arguments: vectors)
    func elementwise(_ shape: Shape) throws {
        let a = input("a", shape, 1), b = input("b", shape, 2, in: 0.5...2), away = CheckInput("a", shape, valuesAwayFromZero(shape.count, seed: seed(3)))
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
            ("equal", equal), ("notEqual", notEqual), ("less", less), ("lessEqual", lessEqual), ("greater", greater), ("greaterEqual", greaterEqual),
        ]
        for (name, f) in binary { try expectOpenCLMatches([a, b], "\(name) \(shape)") { f($0[0], $0[1]) } }
        try expectOpenCLMatches([b.renamed("a"), a.renamed("b")], "pow \(shape)") { pow($0[0], $0[1]) }
        try expectOpenCLMatches([a, b], "select \(shape)") { select(greater($0[0], 0), $0[0], $0[1]) }
        try expectOpenCLMatches([a], "fill \(shape)") { $0[0] + $0[0].graph.fill(0.25, shape) }
    }

    @Test func broadcastAndLayout() throws {
        let x = input("x", [3, 4, 5], 10), row = input("r", [5], 11), column = input("c", [3, 1, 1], 12)
        try expectOpenCLMatches([x, row, column], tolerance: .transcendental, "broadcast") { $0[0] * $0[1] + $0[2] }
        try expectOpenCLMatches([x], "reshape") { $0[0].reshaped([5, 12]) * 2 }
        try expectOpenCLMatches([x], "permute") { $0[0].permuted([2, 0, 1]) }
        try expectOpenCLMatches([x, input("y", [3, 2, 5], 13)], "concat") { concat([$0[0], $0[1], $0[0]], axis: 1) }
        try expectOpenCLMatches([x], "slice") { $0[0].sliced(starts: [1, 0, 2], sizes: [2, 3, 3]) }
        try expectOpenCLMatches([x], "pad") { $0[0].padded(before: [0, 2, 1], after: [1, 0, 3]) }
        try expectOpenCLMatches([x], "stopGradient") { stopGradient($0[0]) * $0[0] }
        let labels = CheckInput("l", [4], [0, 4, 2, 2], constant: true)
        try expectOpenCLMatches([input("z", [4, 5], 14), labels], "softmaxCrossEntropy") { softmaxCrossEntropy($0[0], labels: $0[1]) }
    }

    @Test(arguments: [[65], [3, 4, 5], [2, 3, 17, 5]] as [Shape])
    func reductions(_ shape: Shape) throws {
        let x = input("x", shape, 20)
        var rng = SeededGenerator(seed: seed(21))
        let distinct = CheckInput("x", shape, (0..<shape.count).map { Float($0) * 0.01 }.shuffled(using: &rng))
        try expectOpenCLMatches([x], tolerance: .sums, "sum all \(shape)") { $0[0].sum() }
        try expectOpenCLMatches([x], tolerance: .sums, "mean axis 0 \(shape)") { $0[0].mean(axes: [0], keepDims: true) }
        try expectOpenCLMatches([x], tolerance: .sums, "sum last \(shape)") { $0[0].sum(axes: [-1]) }
        try expectOpenCLMatches([distinct], tolerance: .sums, "max axis 0 \(shape)") { $0[0].max(axes: [0]) }
        try expectOpenCLMatches([distinct], tolerance: .sums, "max all \(shape)") { $0[0].max() }
    }

    /// Long sums into few outputs run in parts (partial sums, then their sum): BatchNorm's
    /// per-channel statistics, a whole-tensor sum and a strided axis, with parts that end
    /// inside rows and terms that cancel, split as on this device, as on a 2-core CPU and as on a 3-unit GPU.
    @Test func longSumsInParts() throws {
        let graph = Graph()
        let x = graph.constant(randomValues(64 * 3 * 33 * 31, seed: seed(22)), [64, 3, 33, 31])
        let y = graph.constant(randomValues(5001 * 3, seed: seed(23)), [5001, 3])
        // Terms of ±1000 that cancel to a sum of the small parts (BatchNorm's gradient sums
        // cancel so): the compensated sums must keep their low bits.
        let small = randomValues(3 * 40_000, seed: seed(24))
        let cancelling = graph.constant(small.indices.map { small[$0] + ($0 % 2 == 0 ? 1000 : -1000) }, [3, 40_000])
        let fetches = [x.sum(axes: [0, 2, 3]), x.sum(), x.sum(axes: [0, 3]), y.sum(axes: [0]), cancelling.sum(axes: [1])]
        for device: (cpu: Bool, computeUnits: Int)? in [nil, (true, 2), (false, 3)] {
            let message = try backendMismatch(fetches, feeds: [:], tolerance: .sums, context: "sums spread as \(String(describing: device))") {
                $0.spreadDevice = device
            }
            #expect(message == nil, Comment(rawValue: message ?? ""))
        }
    }

    /// Every GEMM kernel (ours and CLBlast), each transpose, on shapes with full tiles,
    /// partial tiles in rows and columns, single elements, a B that our kernels pack into
    /// panels first (130 rows of A and 260 of B: the last panel partial), and a long K that
    /// the work-group GEMMs split into slices (the last one shorter).
    @Test(arguments: OpenCLBackend.gemmCandidates)
    func matmul(_ gemm: String) throws {
        for (m, k, n) in [(5, 17, 3), (33, 40, 37), (64, 9, 48), (130, 260, 37), (9, 1000, 13)] {
            for tA in [false, true] {
                for tB in [false, true] {
                    let a = input("a", tA ? [k, m] : [m, k], 30), b = input("b", tB ? [n, k] : [k, n], 31)
                    let context = "\(gemm) matmul \(m)×\(k)×\(n) \(tA) \(tB)"
                    // A float sum of 1000 products of ±1 carries errors near 2e-5 (√K·ε·|sum|).
                    let tolerance = k > 500 ? Tolerance(atol: 1e-4, rtol: 1e-4) : .sums
                    try expectOpenCLMatches([a, b], tolerance: tolerance, context, gemm: gemm) { TensorGraph.matmul($0[0], $0[1], transposeA: tA, transposeB: tB) }
                    let batched = input("a", Shape([3] + a.shape.dims), 32)
                    try expectOpenCLMatches([batched, b], tolerance: tolerance, "batched " + context, gemm: gemm) {
                        TensorGraph.matmul($0[0], $0[1], transposeA: tA, transposeB: tB)
                    }
                }
            }
        }
        try expectOpenCLMatches([input("a", [1, 1], 33), input("b", [1, 1], 34)], tolerance: .sums, "\(gemm) 1×1 matmul", gemm: gemm) { TensorGraph.matmul($0[0], $0[1]) }
    }

    /// The GEMM convolution paths (per image, whose weight gradient accumulates with β = 1, per
    /// batch, and the implicit GEMM in the GEMM kernel's tile) through each GEMM kernel.
    @Test(arguments: OpenCLBackend.gemmCandidates)
    func convolutionsThroughEachGEMMKernel(_ gemm: String) throws {
        for i in [1, 4, 5, 6] {
            let c = Self.convCases[i]
            let x = input("x", c.x, 40 + UInt64(i)), w = input("w", [c.o, c.x[1], c.k.h, c.k.w], 60 + UInt64(i))
            for algorithm in [ConvolutionAlgorithm.gemm, .batchedGEMM, .implicitGEMM] {
                try expectOpenCLMatches([x, w], tolerance: .sums, "conv2d case \(i) \(algorithm) \(gemm)", convolution: algorithm, gemm: gemm) {
                    conv2d($0[0], $0[1], stride: c.stride, padding: c.padding, dilation: c.dilation)
                }
            }
        }
    }

    static let convCases: [(x: Shape, o: Int, k: Size2, stride: Size2, padding: Size2, dilation: Size2, outputPadding: Size2)] = [
        ([1, 1, 5, 5], 1, Size2(3), Size2(1), Size2(0), Size2(1), Size2(0)),
        ([2, 3, 7, 6], 5, Size2(3), Size2(2), Size2(1), Size2(1), Size2(1)),
        ([3, 2, 6, 7], 3, Size2(4), Size2(2), Size2(1), Size2(1), Size2(0)),
        ([1, 5, 7, 7], 2, Size2(3, 2), Size2(1, 2), Size2(2, 0), Size2(2, 1), Size2(0, 1)),
        ([2, 17, 9, 9], 4, Size2(1), Size2(3), Size2(0), Size2(1), Size2(2)),
        // Stride 1 (the implicit GEMM's), partial channel tiles: output rows of 37 (pixels one
        // at a time) and of 8 (float8 rows, panels across rows, a partial last panel).
        ([2, 3, 6, 37], 7, Size2(3), Size2(1), Size2(1), Size2(1), Size2(0)),
        ([1, 2, 6, 8], 9, Size2(2, 3), Size2(1), Size2(0, 1), Size2(1), Size2(0)),
        // 300 output pixels: the per-image GEMM path's weight gradient sums chunks of 3 images
        // (about 1024 terms each), so 5 images are a full chunk and a partial one.
        ([5, 2, 20, 15], 3, Size2(3), Size2(1), Size2(1), Size2(1), Size2(0)),
        // A kernel the size of the input, no padding: a 1×1 output (the dense algorithm's).
        ([3, 5, 4, 3], 7, Size2(4, 3), Size2(2), Size2(0), Size2(1), Size2(0)),
    ]

    /// Each convolution algorithm (forward, input and weight gradients; the implicit GEMM where
    /// the stride is 1 and the dense one where the output is 1×1, the tuner's choice elsewhere),
    /// and the tuner's choice.
    @Test(arguments: 0..<convCases.count, [ConvolutionAlgorithm.direct, .gemm, .batchedGEMM, .implicitGEMM, .dense, nil])
    func convolutions(_ i: Int, _ algorithm: ConvolutionAlgorithm?) throws {
        let c = Self.convCases[i]
        let x = input("x", c.x, 40 + UInt64(i)), b = input("b", [c.o], 50 + UInt64(i))
        let w = input("w", [c.o, c.x[1], c.k.h, c.k.w], 60 + UInt64(i))
        let name = algorithm?.rawValue ?? "tuned"
        try expectOpenCLMatches([x, w, b], tolerance: .sums, "conv2d case \(i) \(name)", convolution: algorithm) {
            conv2d($0[0], $0[1], bias: $0[2], stride: c.stride, padding: c.padding, dilation: c.dilation)
        }
        let wt = input("w", [c.x[1], c.o, c.k.h, c.k.w], 70 + UInt64(i))
        try expectOpenCLMatches([x, wt, b], tolerance: .sums, "convTranspose2d case \(i) \(name)", convolution: algorithm) {
            convTranspose2d($0[0], $0[1], bias: $0[2], stride: c.stride, padding: c.padding, outputPadding: c.outputPadding, dilation: c.dilation)
        }
    }

    /// The im2col and col2im kernels with rows shared by several work-items, as on a GPU
    /// (`RowSpread`, spread as on a 1-unit GPU so rows are longer than their parts, which do
    /// not divide them): forward, both gradients and the transposed convolution, per image
    /// and batched, at stride 1 and 2.
    @Test(arguments: [ConvolutionAlgorithm.gemm, .batchedGEMM])
    func convolutionsSpreadAsOnAGPU(_ algorithm: ConvolutionAlgorithm) throws {
        let x = input("x", [2, 5, 20, 37], 90), w = input("w", [6, 5, 3, 3], 91), strided = input("w", [6, 5, 4, 3], 92)
        let gpu = { (backend: OpenCLBackend) in backend.spreadDevice = (false, 1) }
        try expectOpenCLMatches([x, w], tolerance: .sums, "conv2d 3×3 \(algorithm) spread as on a GPU", convolution: algorithm, configure: gpu) {
            conv2d($0[0], $0[1], stride: Size2(1), padding: Size2(1))
        }
        try expectOpenCLMatches([x, strided], tolerance: .sums, "conv2d 4×3 stride 2 \(algorithm) spread as on a GPU", convolution: algorithm, configure: gpu) {
            conv2d($0[0], $0[1], stride: Size2(2, 1), padding: Size2(1))
        }
        let wt = input("w", [5, 6, 4, 3], 93)
        try expectOpenCLMatches([x, wt], tolerance: .sums, "convTranspose2d 4×3 stride 2 \(algorithm) spread as on a GPU", convolution: algorithm, configure: gpu) {
            convTranspose2d($0[0], $0[1], stride: Size2(2, 1), padding: Size2(1))
        }
    }

    @Test(arguments: [[1, 1, 5, 5], [3, 3, 4, 7], [2, 5, 7, 3]] as [Shape])
    func resampling(_ shape: Shape) throws {
        let x = input("x", shape, 80)
        try expectOpenCLMatches([x], tolerance: .sums, "upsampleNearest ×2 \(shape)") { upsampleNearest($0[0], factor: 2) }
        try expectOpenCLMatches([x], tolerance: .sums, "upsampleNearest ×3 \(shape)") { upsampleNearest($0[0], factor: 3) }
        try expectOpenCLMatches([x], tolerance: .sums, "upsampleBilinear2x \(shape)") { upsampleBilinear2x($0[0]) }
        try expectOpenCLMatches([x], tolerance: .sums, "avgPool2d 2 \(shape)") { avgPool2d($0[0], kernel: Size2(2)) }
        try expectOpenCLMatches([x], tolerance: .sums, "avgPool2d 3/2/1 \(shape)") { avgPool2d($0[0], kernel: Size2(3), stride: Size2(2), padding: Size2(1)) }
        try expectOpenCLMatches([x], tolerance: .sums, "avgPool2d 2/1/1 \(shape)") { avgPool2d($0[0], kernel: Size2(2), stride: Size2(1), padding: Size2(1)) }
    }

    static let optimizerRules: [OptimizerRule] = [
        .sgd(learningRate: 0.1, momentum: 0.9, dampening: 0.1, nesterov: false), .sgd(learningRate: 0.1, momentum: 0.9, dampening: 0, nesterov: true),
        .sgd(learningRate: 0.1, momentum: 0, dampening: 0, nesterov: false), .adam(learningRate: 2e-4, beta1: 0.5, beta2: 0.999, epsilon: 1e-8),
        .nadam(learningRate: 2e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, momentumDecay: 4e-3), .rmsprop(learningRate: 5e-5, alpha: 0.99, epsilon: 1e-8),
    ]

    /// Each rule on a short and a long tensor (several runs of elements per work-item), spread
    /// over work-items as on this device, as on a 2-core CPU and as on a 3-unit GPU (64 lanes).
    @Test(arguments: optimizerRules, [65, 70_001])
    func fusedOptimizerUpdates(_ rule: OptimizerRule, _ n: Int) throws {
        let graph = Graph()
        let p = graph.constant(randomValues(n, seed: seed(90)), [n]), g = graph.constant(randomValues(n, seed: seed(91)), [n])
        let m = graph.constant(randomValues(n, seed: seed(92)), [n]), v = graph.constant(randomValues(n, in: 0...0.1, seed: seed(93)), [n])
        let inputs: [Tensor]
        switch rule {
        case .sgd: inputs = [p, g, m, graph.constant([3], [1])]
        case .adam: inputs = [p, g, m, v, graph.constant([3], [1])]
        case .nadam: inputs = [p, g, m, v, graph.constant([3], [1]), graph.constant([0.6], [1])]
        case .rmsprop: inputs = [p, g, v]
        }
        let outputs = (0..<(inputs.count >= 5 ? 3 : 2)).map { graph.apply(.optimizerUpdate(rule, output: $0), inputs) }
        for device: (cpu: Bool, computeUnits: Int)? in [nil, (true, 2), (false, 3)] {
            let message = try backendMismatch(outputs, feeds: [:], tolerance: Tolerance(atol: 1e-6, rtol: 1e-5), context: "\(rule) spread as \(String(describing: device))") {
                $0.spreadDevice = device
            }
            #expect(message == nil, Comment(rawValue: message ?? ""))
        }
    }

    /// Whole optimizer steps run in place (one launch per parameter, writing p and its state)
    /// match the CPU reference over three steps, for each optimizer, with and without weight
    /// decay; a fetch of a new value reads it from the parameter. An op made after the step
    /// that reads the old parameter keeps that step out of place (and reads the old value).
    @Test(arguments: 0..<4, [false, true])
    func optimizerStepsInPlace(_ kind: Int, _ lateReader: Bool) throws {
        var results: [[[Float]]] = []
        for onDevice in [false, true] {
            let graph = Graph()
            let start = randomValues(65, seed: seed(95))
            let parameters = [Parameter("p", shape: [65], value: start), Parameter("q", shape: [3, 7], value: randomValues(21, seed: seed(96)))]
            let weights = parameters.map { graph.variable($0) }
            let loss = zip(weights, [0.5, 2] as [Float]).map { (square($0) * $1 + $0).sum() }.reduce(graph.fill(0, []), +)
            let optimizer: any Optimizer = switch kind {
            case 0: SGD(parameters, learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
            case 1: Adam(parameters, learningRate: 0.05, weightDecay: 0.01)
            case 2: NAdam(parameters, learningRate: 0.05)
            default: RMSprop(parameters, learningRate: 0.01)
            }
            let updates = optimizer.updates(minimizing: loss)
            let newP = updates.first { $0.parameter === parameters[0] }!.value
            let session = Session(backend: onDevice ? try makeTestBackend() : CPUBackend())
            let step = try session.plan(fetches: [loss, newP] + (lateReader ? [graph.variable(parameters[0]) + 1] : []), updates: updates)
            let device = session.backend.deviceDescription
            #expect(step.inPlaceUpdates.count == (lateReader ? 1 : 2), "\(optimizer) on \(device)")
            var fetched = try step.run()
            try session.download(parameters)
            #expect(fetched[1] == parameters[0].value, "\(optimizer) on \(device): the fetched new parameter is the one kept")
            if lateReader { #expect(fetched[2] == start.map { $0 + 1 }, "\(optimizer) on \(device): the late reader read the old parameter") }
            for _ in 0..<2 { fetched += try step.run() }
            try session.download(parameters + optimizer.state)
            results.append(fetched + (parameters + optimizer.state).map(\.value))
        }
        for (i, (got, want)) in zip(results[1], results[0]).enumerated() {
            let message = mismatch(got, want, Tolerance(atol: 1e-5, rtol: 1e-5), "optimizer \(kind) value \(i)")
            #expect(message == nil, Comment(rawValue: message ?? ""))
        }
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
            let message = try backendMismatch(fetches, feeds: [:], tolerance: .transcendental, context: "elementwise spread as \(String(describing: device))") {
                $0.spreadDevice = device
            }
            #expect(message == nil, Comment(rawValue: message ?? ""))
        }
    }

    /// Layout ops (strided copies) with rows shared by several work-items, as on a GPU:
    /// parts that divide a row and parts that do not, rows longer than the parts, single
    /// merged rows of 70k elements; spread as on this device, a 2-core CPU, a 3-unit GPU
    /// and a 132-unit GPU.
    @Test func layoutSpreads() throws {
        let graph = Graph()
        let x = graph.constant(randomValues(1000 * 70, seed: seed(96)), [1000, 70])
        let long = graph.constant(randomValues(70_001, seed: seed(97)), [70_001]), short = graph.constant(randomValues(5, seed: seed(98)), [5])
        let row = graph.constant(randomValues(70, seed: seed(99)), [1, 70])
        let fetches = [
            x.permuted([1, 0]), row.expanded(to: [1000, 70]), concat([long, short, long], axis: 0), concat([x, x], axis: 1),
            x.sliced(starts: [3, 5], sizes: [990, 59]), long.padded(before: [7], after: [2]), x.reshaped([10, 100, 70]).permuted([2, 0, 1]),
        ]
        for device: (cpu: Bool, computeUnits: Int)? in [nil, (true, 2), (false, 3), (false, 132)] {
            let message = try backendMismatch(fetches, feeds: [:], tolerance: .exact, context: "layout spread as \(String(describing: device))") {
                $0.spreadDevice = device
            }
            #expect(message == nil, Comment(rawValue: message ?? ""))
        }
    }

    /// Work-items per row: one on a CPU; at least 32 on a GPU, more while rows are few, never
    /// more than a row's elements.
    @Test func rowSpreads() {
        #expect(RowSpread(rows: 3, length: 1_000_000, cpu: true, computeUnits: 2).parts == 1)
        #expect(RowSpread(rows: 1, length: 8_000_000, cpu: false, computeUnits: 132).parts == 132 * 2048)
        #expect(RowSpread(rows: 100_000, length: 64, cpu: false, computeUnits: 132).parts == 32)
        #expect(RowSpread(rows: 100_000, length: 5, cpu: false, computeUnits: 132).parts == 5)
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

    @Test func randomStreamsMatchTheReference() throws {
        // Same Philox stream; the transforms use float built-ins on both sides.
        let graph = Graph()
        let fetches = [
            graph.randomUniform([1000], low: -2, high: 3, seed: 11), graph.randomNormal([1001], mean: 1, std: 2, seed: 12),
            graph.truncatedNormal([999], seed: 13), dropout(graph.ones([77]), rate: 0.3, seed: 14),
        ]
        let message = try backendMismatch(fetches, feeds: [:], tolerance: Tolerance(atol: 1e-5, rtol: 1e-4), context: "random")
        #expect(message == nil, Comment(rawValue: message ?? ""))
    }

    @Test func badLabelIsAClearError() throws {
        let graph = Graph()
        let logits = graph.placeholder("x", [2, 3]), labels = graph.placeholder("l", [2])
        let plan = try Session(backend: makeTestBackend()).plan(fetches: [softmaxCrossEntropy(logits, labels: labels)])
        #expect { try plan.run(["x": [1, 2, 3, 4, 5, 6], "l": [0, 7]]) } throws: { "\($0)".contains("row 1 is not a class index") }
        // The flag is cleared: a good batch runs again.
        #expect(try plan.run(["x": [1, 2, 3, 4, 5, 6], "l": [0, 2]])[0][0].isFinite)
    }
}

extension CheckInput {
    func renamed(_ name: String) -> CheckInput { CheckInput(name, shape, values, constant: isConstant) }
}

import CPUReference
import OpenCLBackend
import TensorGraph
import TestSupport
import Testing

/// Fused elementwise ops (TensorGraph/Fusion.swift, OpenCLBackend/FusedKernels.swift).
struct FusedIndexingTests {
    @Test func expandsReadTheirSourceThroughOneRun() {
        let target = Shape([4, 6, 10, 11])
        let expand = { (source: [Int]) in FusedIndexing.expand(from: Shape(source), to: target) }
        #expect(expand([1, 6, 1, 1]) == FusedIndexing(inner: 110, period: 6))  // BatchNorm statistics
        #expect(expand([6, 1, 1]) == FusedIndexing(inner: 110, period: 6))  // fewer axes: leading ones added
        #expect(expand([4, 1, 1, 1]) == FusedIndexing(inner: 660, period: 4))  // LayerNorm statistics
        #expect(expand([1, 6, 10, 11]) == FusedIndexing(inner: 1, period: 660))  // LayerNorm's affine
        #expect(expand([11]) == FusedIndexing(inner: 1, period: 11))
        #expect(expand([1, 1, 1, 1]) == FusedIndexing(inner: 2640, period: 1))  // a scalar
        #expect(expand([4, 1, 10, 1]) == nil)  // two runs: stays a copy
        #expect(expand([1, 6, 1, 11]) == nil)
        #expect(FusedIndexing.expand(from: Shape([1, 3]), to: Shape([1, 3])) == FusedIndexing(inner: 1, period: 3))
    }
}

@Suite(.enabled(if: openCLTestsEnabled, "no OpenCL device"))
struct FusionTests {
    static let shape = Shape([4, 6, 10, 11])  // 2640 elements: runs of 110 and 11 cut across the CPU's 512-element chunks

    /// Every unary and binary op, select, and inputs read whole, per channel, per image,
    /// per (C, H, W), per row, as scalars, and through reshape and stopGradient; one value
    /// (`shared`) is read twice and one (`fetched`) also leaves the plan.
    func graph() -> (graph: Graph, fetches: [Tensor], feeds: [String: [Float]]) {
        let g = Graph()
        let s = Self.shape
        var feeds: [String: [Float]] = [:]
        func placeholder(_ name: String, _ dims: [Int], _ salt: UInt64, in range: ClosedRange<Float> = -1...1) -> Tensor {
            feeds[name] = randomValues(Shape(dims).count, in: range, seed: seed(salt))
            return g.placeholder(name, Shape(dims))
        }
        let x = placeholder("x", s.dims, 1), z = placeholder("z", s.dims, 2), positive = placeholder("p", s.dims, 3, in: 0.5...2)
        let channel = placeholder("channel", [1, 6, 1, 1], 4), image = placeholder("image", [4, 1, 1, 1], 5, in: 0.5...2)
        let chw = placeholder("chw", [6, 10, 11], 6), row = placeholder("row", [11], 7), flat = placeholder("flat", [s.count], 8)
        let centered = x - channel
        let shared = square(centered) * image
        let fetched = sigmoid(shared) + tanh(z)
        var y = rsqrt(shared + 1e-5) * centered * chw + row
        y = y + exp(-abs(z)) + log(positive) + sqrt(positive) + softplus(z) + sign(z) + relu(x) + leakyReLU(z, slope: 0.2)
        y = y + clamp(z, min: -0.3, max: 0.4) + pow(positive, z) / positive + maximum(x, z) - minimum(x, 0.1)
        y = select(greater(x, z), y, fetched) + equal(x, x) + notEqual(x, z) + less(x, 0) + lessEqual(z, x) + greaterEqual(x, 0.25)
        y = y + stopGradient(fetched) * flat.reshaped(s)
        return (g, [y, fetched, (2 * x).reshaped([s.count])], feeds)
    }

    func run(_ configure: (OpenCLBackend) -> Void) throws -> (values: [[Float]], plan: Plan) {
        let (_, fetches, feeds) = graph()
        let backend = try makeTestBackend()
        configure(backend)
        let plan = try Session(backend: backend).plan(fetches: fetches)
        return (try plan.run(feeds), plan)
    }

    @Test func fusedChainsMatchTheReference() throws {
        let (_, fetches, feeds) = graph()
        let reference = try Session(backend: CPUBackend()).plan(fetches: fetches).run(feeds)
        for device in [nil, (cpu: false, computeUnits: 132)] as [(cpu: Bool, computeUnits: Int)?] {
            let (got, plan) = try run { $0.spreadDevice = device }
            // Five fused ops (the values read twice or fetched end one) and the fetched reshape.
            #expect(plan.fused.count == 5, "\(plan.fused.count) fused ops")
            #expect(plan.fused.values.map(\.op.opCount).max()! > 40)
            #expect(plan.fused.values.contains { $0.op.indexing.contains { $0.inner == 110 && $0.period == 6 } })
            #expect(plan.schedule.count == 6, "\(plan.schedule.count) scheduled ops")
            for (i, (g, r)) in try paired(got, reference, "fused chains").enumerated() {
                let message = mismatch(g, r, .transcendental, "output \(i) on \(device.map { "a device like \($0)" } ?? "this device")")
                #expect(message == nil, Comment(rawValue: message ?? ""))
            }
        }
    }

    @Test func fusedOpsComputeWhatTheOpsDidOneByOne() throws {
        let unfused = try run { $0.fusesElementwise = false }
        #expect(unfused.plan.fused.isEmpty)
        for device in [nil, (cpu: false, computeUnits: 132), (cpu: true, computeUnits: 1)] as [(cpu: Bool, computeUnits: Int)?] {
            let fused = try run { $0.spreadDevice = device }
            #expect(!fused.plan.fused.isEmpty)
            // Bit for bit: the same functions, no contraction of two ops into one fma.
            for (i, (a, b)) in try paired(fused.values, unfused.values, "fused and unfused").enumerated() {
                let differ = try paired(a, b, "output \(i)").filter { $0.bitPattern != $1.bitPattern }.count
                #expect(
                    differ == 0,
                    "output \(i): \(differ) of \(a.count) values differ on \(device.map { "a device like \($0)" } ?? "this device")")
            }
        }
    }

    /// A broadcast that several fused ops read is read in place by each (no copy is made), a
    /// broadcast that an unfused op also reads stays a copy, and fills read as literals get no
    /// buffer; the values match the reference.
    @Test func sharedBroadcastsAndLiteralFillsTakeNoMemory() throws {
        let g = Graph()
        let s = Shape([4, 6, 5, 7])
        let x = g.placeholder("x", s), channel = g.placeholder("channel", [1, 6, 1, 1]), row = g.placeholder("row", [7])
        let wide = channel.expanded(to: s)  // read by two fused ops only
        let rows = row.expanded(to: s)  // read by a fused op and by a reduction
        let a = exp(x * wide), b = (x + 2) / (wide + 3)
        let fetches = [a + 1, b * 0.5, (x * rows).sum(axes: [1, 2]), rows.sum()]
        let feeds = [
            "x": randomValues(s.count, seed: seed(21)), "channel": randomValues(6, seed: seed(22)), "row": randomValues(7, seed: seed(23)),
        ]
        let reference = try Session(backend: CPUBackend()).plan(fetches: fetches).run(feeds)
        let plan = try Session(backend: try makeTestBackend()).plan(fetches: fetches)
        #expect(!plan.schedule.contains(wide.id), "the shared broadcast was copied")
        #expect(plan.schedule.contains(rows.id), "a broadcast a reduction reads must be copied")
        #expect(plan.invariantCount == 0, "\(plan.invariantCount) fills got buffers")
        for (i, (got, want)) in try paired(try plan.run(feeds), reference, "shared broadcasts").enumerated() {
            let message = mismatch(got, want, .transcendental, "output \(i)")
            #expect(message == nil, Comment(rawValue: message ?? ""))
        }
    }

    /// Elementwise ops write over an input of their size that nothing reads after them (Plan's
    /// `inPlaceInput`): a fused op over the value it alone still reads, a reshape over its input
    /// (no copy), a unary op over a value a reduction read before; never over a value read
    /// later, a feed or a fetched value. Bit for bit what the plan computes with a buffer per value.
    @Test func elementwiseOpsWriteOverInputsNothingReadsLater() throws {
        let g = Graph()
        let s = Shape([5, 6, 7, 3])
        let x = g.placeholder("x", s), channel = g.placeholder("channel", [1, 6, 1, 1])
        let a = x * 3 + channel  // fused; x is a feed: not written over
        let total = a.mean()  // a is read twice: materialized
        let b = a * total.expanded(to: s) - channel  // over a
        let kept = exp(b)  // b is still read below: not over b
        let c = (b * kept).reshaped([5, 6 * 7 * 3])  // a fused op over b; its reshape over it
        let d = tanh(c.sum(axes: [1], keepDims: true).expanded(to: Shape([5, 126])) - c)  // over c
        let fetches = [d, kept.sum(axes: [0, 2, 3]), total]
        let feeds = ["x": randomValues(s.count, seed: seed(31)), "channel": randomValues(6, seed: seed(32))]
        let reference = try Session(backend: CPUBackend()).plan(fetches: fetches).run(feeds)
        let separate = try Session(backend: try makeTestBackend()).plan(fetches: fetches)  // poisoned: a buffer per value
        let backend = try makeTestBackend()
        backend.poisonOutputs = false
        let plan = try Session(backend: backend).plan(fetches: fetches)
        #expect(separate.inPlaceCount == 0)
        #expect(plan.inPlaceCount >= 3, "\(plan.inPlaceCount) ops in place")
        #expect(plan.intermediateElements < separate.intermediateElements)
        let (got, unshared) = (try plan.run(feeds), try separate.run(feeds))
        #expect(try plan.run(feeds) == got, "a second run differs")
        for (i, (value, want)) in try paired(got, reference, "in place").enumerated() {
            let message = mismatch(value, want, .transcendental, "output \(i)")
            #expect(message == nil, Comment(rawValue: message ?? ""))
            #expect(
                try paired(value, unshared[i], "output \(i)").allSatisfy { $0.bitPattern == $1.bitPattern },
                "output \(i) differs from the plan without in-place ops")
        }
    }

    @Test func trainingStepsAreFusedWhereValuesAreReadOnce() throws {
        // A BatchNorm layer's forward and backward: statistics broadcast in place.
        let g = Graph()
        let x = g.placeholder("x", Shape([8, 5, 6, 7]))
        let scale = Parameter("scale", shape: [5], fill: 1.5), offset = Parameter("offset", shape: [5], fill: 0.25)
        let mean = Parameter("mean", shape: [5], fill: 0), variance = Parameter("variance", shape: [5], fill: 1)
        let result = batchNorm(
            x, scale: g.variable(scale), offset: g.variable(offset), runningMean: g.variable(mean), runningVariance: g.variable(variance),
            training: true)
        let loss = leakyReLU(result.output).sum()
        let grads = gradients(of: loss, wrt: [x, g.variable(scale)])
        let feeds = ["x": randomValues(8 * 5 * 6 * 7, seed: seed(11))]
        let reference = try Session(backend: CPUBackend()).plan(fetches: grads + [result.runningVariance]).run(feeds)
        let unfused = try makeTestBackend()
        unfused.fusesElementwise = false
        let unfusedPlan = try Session(backend: unfused).plan(fetches: grads + [result.runningVariance])
        let plan = try Session(backend: try makeTestBackend()).plan(fetches: grads + [result.runningVariance])
        #expect(plan.schedule.count < unfusedPlan.schedule.count * 2 / 3, "\(plan.schedule.count) vs \(unfusedPlan.schedule.count) ops")
        #expect(plan.intermediateElements < unfusedPlan.intermediateElements)
        for (i, (got, want)) in try paired(try plan.run(feeds), reference, "training step").enumerated() {
            let message = mismatch(got, want, Tolerance(atol: 1e-4, rtol: 1e-4), "BatchNorm output \(i)")
            #expect(message == nil, Comment(rawValue: message ?? ""))
        }
    }
}

import CPUReference
import NeuralNet
import TensorGraph
import TestSupport
import Testing

@Suite struct PlanTests {
    /// A conv net forward and backward: enough nodes for liveness reuse to matter.
    static func build(_ graph: Graph) -> [Tensor] {
        let x = graph.placeholder("x", [2, 3, 8, 8])
        let w1 = graph.placeholder("w1", [4, 3, 3, 3]), w2 = graph.placeholder("w2", [4, 2, 4, 4])
        let h = relu(conv2d(x, w1, padding: Size2(1)))
        let y = tanh(convTranspose2d(avgPool2d(h, kernel: Size2(2)), w2, stride: Size2(2), padding: Size2(1)))
        let loss = square(y).mean() + upsampleBilinear2x(y).max()
        return [loss] + gradients(of: loss, wrt: [x, w1, w2])
    }

    static func feeds(_ salt: UInt64) -> [String: [Float]] {
        [
            "x": randomValues(384, seed: seed(salt)), "w1": randomValues(108, seed: seed(salt + 1)),
            "w2": randomValues(128, seed: seed(salt + 2)),
        ]
    }

    @Test func replayWithNewFeedsEqualsAFreshGraph() throws {
        let plan = try Session(backend: CPUBackend()).plan(fetches: Self.build(Graph()))
        _ = try plan.run(Self.feeds(1000))
        let replayed = try plan.run(Self.feeds(2000))
        let fresh = try evaluate(Self.build(Graph()), feeds: Self.feeds(2000))
        #expect(replayed == fresh)
    }

    @Test func bufferReuseDoesNotChangeResults() throws {
        let session = Session(backend: CPUBackend())
        let reused = try session.plan(fetches: Self.build(Graph()), reuseBuffers: true)
        let separate = try session.plan(fetches: Self.build(Graph()), reuseBuffers: false)
        #expect(try reused.run(Self.feeds(3000)) == separate.run(Self.feeds(3000)))
        // Reuse really happened: far fewer intermediate elements were allocated.
        #expect(reused.intermediateElements * 2 < separate.intermediateElements)
    }

    /// Plans of one session draw on one pool: a second plan allocates nothing for the values it
    /// computes each run, and runs of the two in any order give what separate sessions give.
    @Test func plansOfOneSessionShareTheirIntermediateBuffers() throws {
        let session = Session(backend: CPUBackend())
        let first = try session.plan(fetches: Self.build(Graph()))
        let second = try session.plan(fetches: Self.build(Graph()))
        #expect(first.intermediateElements > 0 && second.intermediateElements == 0)
        #expect(second.invariantElements == first.invariantElements)
        let alone = try Session(backend: CPUBackend()).plan(fetches: Self.build(Graph()))
        for seed: UInt64 in [1, 2, 3] {
            let a = try first.run(Self.feeds(seed)), b = try second.run(Self.feeds(seed + 10))
            #expect(a == (try alone.run(Self.feeds(seed))))
            #expect(b == (try alone.run(Self.feeds(seed + 10))))
        }
    }

    @Test func parametersPersistAndUpdateInPlace() throws {
        // Gradient descent on ½‖p − target‖²: p ← p − 0.5(p − target), shared by two plans.
        let p = Parameter("p", shape: [3], value: [4, -4, 0])
        let graph = Graph()
        let target = graph.constant([1, 2, 3], [3])
        let loss = square(graph.variable(p) - target).sum() * 0.5
        let grad = gradients(of: loss, wrt: [graph.variable(p)])[0]
        let session = Session(backend: CPUBackend())
        let step = try session.plan(fetches: [loss], updates: [Assignment(p, graph.variable(p) - grad * 0.5)])
        let read = try session.plan(fetches: [graph.variable(p)])
        let losses = try (0..<3).map { _ in try step.run()[0][0] }
        #expect(losses == [27, 27.0 / 4, 27.0 / 16])
        #expect(try read.run()[0] == [1.375, 1.25, 2.625])
        #expect(p.value == [4, -4, 0])  // host copy changes only on download
        try session.download([p])
        #expect(p.value == [1.375, 1.25, 2.625])
    }

    @Test func adamMatchesPyTorch() throws {
        // torch.optim.Adam([p], lr=0.1) on loss = Σ p², p0 = [1, −2], two steps; the
        // expected values are PyTorch's update formula evaluated in double precision.
        let p = Parameter("p", shape: [2], value: [1, -2])
        let graph = Graph()
        let loss = square(graph.variable(p)).sum()
        let adam = Adam([p], learningRate: 0.1)
        let session = Session(backend: CPUBackend())
        let step = try session.plan(fetches: [loss], updates: adam.updates(minimizing: loss))
        try step.run()
        try step.run()
        try session.download([p, adam.stepCount])
        expectClose(p.value, [0.80041223, -1.80016649], Tolerance(atol: 1e-6, rtol: 1e-6))
        #expect(adam.stepCount.value == [2])
    }

    @Test func randomOpsAdvanceWithTheStep() throws {
        let graph = Graph()
        let plan = try Session(backend: CPUBackend()).plan(fetches: [graph.randomUniform([4], seed: 1)])
        let first = try plan.run()[0], second = try plan.run()[0]
        #expect(first != second && plan.step == 2)
        plan.step = 0
        #expect(try plan.run()[0] == first)
    }

    /// Fills and what is computed from them and constants alone run once, when the plan is
    /// built; ops that read a placeholder, a variable or a random draw run every time.
    @Test func invariantValuesAreComputedOnce() throws {
        let graph = Graph()
        let x = graph.placeholder("x", [2, 3])
        let scale = graph.fill(0.5, [2, 3]) * graph.constant([1, 2, 3, 4, 5, 6], [2, 3])  // invariant: 2 nodes
        let again = graph.fill(0.5, [2, 3])  // an equal fill: shares the first one's buffer
        let noise = graph.randomUniform([2, 3], seed: 7) * graph.fill(2, [2, 3])  // the product is not invariant
        let plan = try Session(backend: CPUBackend()).plan(fetches: [x * scale + again, noise])
        #expect(plan.invariantCount == 3)  // fill 0.5, the product, fill 2
        #expect(!plan.schedule.contains(scale.id) && plan.schedule.contains(noise.id))
        let first = try plan.run(["x": [1, 1, 1, 1, 1, 1]]), second = try plan.run(["x": [2, 2, 2, 2, 2, 2]])
        #expect(first[0] == [1, 1.5, 2, 2.5, 3, 3.5])
        #expect(second[0] == [1.5, 2.5, 3.5, 4.5, 5.5, 6.5])
        #expect(first[1] != second[1])
    }
}

@Suite struct GraphErrorTests {
    @Test func shapeMismatchNamesTheOpAndBothShapes() throws {
        let graph = Graph()
        let a = graph.placeholder("a", [2, 3]), b = graph.placeholder("b", [4])
        let c = a + b
        #expect(graph.error == GraphError("add", "shapes [2, 3] and [4] cannot be broadcast"))
        #expect { try Session(backend: CPUBackend()).plan(fetches: [c]) } throws: {
            "\($0)" == "the graph is invalid: add: shapes [2, 3] and [4] cannot be broadcast"
        }
        let m = Graph()
        _ = matmul(m.placeholder("a", [2, 3]), m.placeholder("b", [4, 5]))
        #expect(m.error?.description == "matmul: inner dimensions differ: [2, 3] and [4, 5]")
        let conv = Graph()
        _ = conv2d(conv.placeholder("x", [1, 3, 8, 8]), conv.placeholder("w", [4, 2, 3, 3]))
        #expect(conv.error?.description == "conv2d: input [1, 3, 8, 8] has 3 channels, weight [4, 2, 3, 3] expects 2")
        let r = Graph()
        _ = r.placeholder("x", [2, 3]).reshaped([4, 2])
        #expect(r.error?.description == "reshape: cannot reshape [2, 3] (6 elements) to [4, 2]")
    }

    @Test func badFeedsAreClearErrors() throws {
        let graph = Graph()
        let x = graph.placeholder("x", [2, 3])
        let plan = try Session(backend: CPUBackend()).plan(fetches: [x * 2])
        #expect { try plan.run() } throws: { "\($0)" == "missing feed for placeholder 'x' [2, 3]" }
        #expect { try plan.run(["x": [1, 2]]) } throws: {
            "\($0)" == "feed 'x' has 2 values, but the placeholder is [2, 3] (6 values)"
        }
        #expect { try plan.run(["x": [Float](repeating: 0, count: 6), "y": [1]]) } throws: {
            "\($0)".hasPrefix("feed 'y' matches no placeholder")
        }
        #expect(try plan.run(["x": [1, 2, 3, 4, 5, 6]]) == [[2, 4, 6, 8, 10, 12]])
    }

    @Test func gradientOfANonScalarIsAnError() {
        let graph = Graph()
        let x = graph.placeholder("x", [3])
        _ = gradients(of: x * 2, wrt: [x])
        #expect(graph.error?.description == "gradients: expects a scalar, got [3]")
    }

    @Test func unrelatedInputsGetZeroGradients() throws {
        let graph = Graph()
        let x = graph.placeholder("x", [2]), y = graph.placeholder("y", [3])
        let grads = gradients(of: square(x).sum(), wrt: [x, y])
        #expect(try evaluate(grads, feeds: ["x": [1, 2], "y": [0, 0, 0]]) == [[2, 4], [0, 0, 0]])
    }

    @Test func multiplyAddFLOPsCountEveryConvolutionAndMatmul() throws {
        let graph = Graph()
        let x = graph.placeholder("x", [2, 3, 8, 8]), w = graph.placeholder("w", [4, 3, 3, 3]), m = graph.placeholder("m", [5, 7])
        let y = conv2d(x, w, stride: Size2(2), padding: Size2(1))  // [2, 4, 4, 4]
        let forward = try Session(backend: CPUBackend()).plan(fetches: [y])
        #expect(forward.multiplyAddFLOPs == 2 * Double(2 * 4 * 4 * 4) * Double(3 * 3 * 3))
        // Backward: the input gradient (a transposed convolution) and the weight gradient cost as much as the forward.
        let grads = gradients(of: y.sum(), wrt: [x, w])
        let backward = try Session(backend: CPUBackend()).plan(fetches: grads)
        #expect(backward.multiplyAddFLOPs == 2 * forward.multiplyAddFLOPs)
        let product = try Session(backend: CPUBackend()).plan(fetches: [matmul(m, m, transposeB: true), matmul(m, m, transposeA: true)])
        #expect(product.multiplyAddFLOPs == 2 * 5 * 5 * 7 + 2 * 7 * 7 * 5)
    }
}

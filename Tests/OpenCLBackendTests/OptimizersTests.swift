import CPUReference
import NeuralNet
import OpenCLBackend
import OpenCLRuntime
import TensorGraph
import TestSupport
import Testing

/// Optimizer updates on the OpenCL device against the CPU reference, forward and
/// backward, on odd shapes, with outputs poisoned (NaN) before each op runs.
@Suite(.enabled(if: openCLTestsEnabled, "no OpenCL device"))
struct OpenCLOptimizersTests {
    static let optimizerRules: [OptimizerRule] = [
        .sgd(learningRate: 0.1, momentum: 0.9, dampening: 0.1, nesterov: false),
        .sgd(learningRate: 0.1, momentum: 0.9, dampening: 0, nesterov: true),
        .sgd(learningRate: 0.1, momentum: 0, dampening: 0, nesterov: false),
        .adam(learningRate: 2e-4, beta1: 0.5, beta2: 0.999, epsilon: 1e-8),
        .nadam(learningRate: 2e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, momentumDecay: 4e-3),
        .rmsprop(learningRate: 5e-5, alpha: 0.99, epsilon: 1e-8),
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
            let message = try backendMismatch(
                outputs, feeds: [:], tolerance: Tolerance(atol: 1e-6, rtol: 1e-5),
                context: "\(rule) spread as \(String(describing: device))"
            ) {
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
            let parameters = [
                Parameter("p", shape: [65], value: start), Parameter("q", shape: [3, 7], value: randomValues(21, seed: seed(96))),
            ]
            let weights = parameters.map { graph.variable($0) }
            let loss = zip(weights, [0.5, 2] as [Float]).map { (square($0) * $1 + $0).sum() }.reduce(graph.fill(0, []), +)
            let optimizer: any Optimizer =
                switch kind {
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
            if lateReader {
                #expect(fetched[2] == start.map { $0 + 1 }, "\(optimizer) on \(device): the late reader read the old parameter")
            }
            for _ in 0..<2 { fetched += try step.run() }
            try session.download(parameters + optimizer.state)
            results.append(fetched + (parameters + optimizer.state).map(\.value))
        }
        for (i, (got, want)) in try paired(results[1], results[0], "optimizer \(kind)").enumerated() {
            let message = mismatch(got, want, Tolerance(atol: 1e-5, rtol: 1e-5), "optimizer \(kind) value \(i)")
            #expect(message == nil, Comment(rawValue: message ?? ""))
        }
    }
}

// An image classifier that genocl trains itself: the feature network of `genocl evaluate
// --features classifier:RUN` on any labeled data, offline (the dogs study judged its
// samples with a classifier's confidence and class histogram). DCGAN's discriminator
// stack (strided 4×4 convolutions, BatchNorm, LeakyReLU 0.2), a dense layer of
// `--feature-size` units with LeakyReLU (the feature vectors FID and precision/recall
// compare), dropout 0.3 while training, and a dense layer to the class logits; softmax
// cross-entropy, Adam.
// A seeded 20% of the data is held out: half validates, half tests, both measured at
// the end of every epoch.
import Datasets
import NeuralNet
import TensorGraph

public struct ClassifierConfig: Codable, Equatable, Sendable {
    public var imageSize = 28
    public var channels = 1
    public var width = 64
    public var features = 256
    public var classes = 10

    var layout: DCGANConfig { DCGANConfig(imageSize: imageSize, channels: channels, discriminatorWidth: width) }
}

/// The held-out accuracies at the last epoch's end, saved with the weights (`accuracy.validation`,
/// `accuracy.test`), so a resumed run and `genocl evaluate` know them.
final class HeldOutAccuracy: Layer {
    let validation = Parameter("validation", shape: [1], fill: 0)
    let test = Parameter("test", shape: [1], fill: 0)
    var namedParameters: [(name: String, parameter: Parameter)] { [] }
    var namedBuffers: [(name: String, parameter: Parameter)] { [("validation", validation), ("test", test)] }
    func callAsFunction(_ x: Tensor, _ context: ForwardContext) -> Tensor { x }
}

public final class Classifier {
    public let config: ClassifierConfig
    let body: Sequential
    let head: Linear
    let dropout = Dropout(0.3)
    let accuracy = HeldOutAccuracy()

    public init(_ config: ClassifierConfig, seed: UInt64) {
        self.config = config
        var rng = SplitMix64(seed: seed)
        let layout = config.layout
        let convolutions = dcganDiscriminatorBody(layout, inputs: config.channels, rng: &rng)
        let flat = layout.discriminatorFeatures * layout.firstSize * layout.firstSize
        body = Sequential(
            convolutions + [Reshape([flat]), Linear(flat, config.features, rng: &rng), Activation.leakyReLU(0.2)])
        head = Linear(config.features, config.classes, rng: &rng)
        initializeBatchNormScales(body.layers, rng: &rng)
    }

    /// Images `[N, C, S, S]` in [−1, 1] → feature vectors `[N, features]`.
    public func features(_ images: Tensor, _ context: ForwardContext) -> Tensor { body(images, context) }
    /// Feature vectors → class logits `[N, classes]`.
    public func logits(features: Tensor, _ context: ForwardContext) -> Tensor { head(dropout(features, context), context) }

    public var module: Module { Module([("features", body), ("head", head), ("accuracy", accuracy)]) }
    public var parameters: [Parameter] { body.parameters + head.parameters }
    /// The held-out accuracies of the last finished epoch.
    public var heldOutAccuracy: (validation: Float, test: Float) { (accuracy.validation.value[0], accuracy.test.value[0]) }
}

extension Classifier: GenerativeModel {
    public static let name = "classifier"
    public static let summary = "image classifier for `genocl evaluate --features classifier:RUN`: 80/10/10 split, Adam"
    public static let trainsOn = ExampleKind.labeledImages
    public static let heldOutShare: Double? = 0.2
    public static let samplingNetworks = ["netC"]

    public static func applyStudyDefaults(to o: inout TrainOptions) {
        (o.learningRateG, o.beta1, o.epochs, o.flip) = (1e-3, 0.9, 5, false)
    }

    public convenience init(_ options: TrainOptions, classes: Int) {
        self.init(
            ClassifierConfig(
                imageSize: options.imageSize, channels: options.channels, width: options.discriminatorWidth,
                features: options.featureSize ?? 256, classes: classes),
            seed: options.seed)
    }

    public var networks: [(file: String, module: Module)] { [("netC", module)] }
    public var sampling: Sampling { .none }

    public func trainer(_ options: TrainOptions, classes: Int, heldOut: Examples?, session: Session) throws -> any ModelTrainer {
        try ClassifierTrainer(self, options, heldOut: heldOut, session: session)
    }
}

final class ClassifierTrainer: ModelTrainer {
    let optimizers: [any Optimizer]
    let metricNames = ["loss", "accuracy", "val_accuracy", "test_accuracy"]
    let batchesPerStep = 1
    private let model: Classifier
    private let options: TrainOptions
    private let session: Session
    private let replica: Replica
    private let plan: Plan
    /// Held-out images in batches of `evaluationBatch`: each row's correctness.
    private let checker: Plan
    private let evaluationBatch: Int
    private let validation: Examples?, test: Examples?

    init(_ model: Classifier, _ options: TrainOptions, heldOut: Examples?, session: Session) throws {
        (self.model, self.options, self.session, replica) = (model, options, session, session.replica)
        let (n, c, s) = (replica.share(of: options.batchSize).count, options.channels, options.imageSize)
        let adam = makeOptimizer(
            options.optimizer, model.parameters, learningRate: options.learningRateG, options: options, name: "optimizer")
        optimizers = [adam]
        let graph = Graph(replica: replica)
        let (images, labels) = (graph.placeholder("real", [n, c, s, s]), graph.placeholder("labels", [n]))
        let train = ForwardContext(training: true, seed: options.seed &+ 11)
        let logits = model.logits(features: model.features(images, train), train)
        let loss = softmaxCrossEntropy(logits, labels: labels)
        plan = try session.plan(
            fetches: replicaMean([loss, classAccuracy(logits, labels: labels)]), updates: adam.updates(minimizing: loss) + train.updates)

        // The held-out examples: the first half validates, the second tests.
        let half = (heldOut?.count ?? 0) / 2
        validation = heldOut.flatMap { half > 0 ? $0.subset(Array(0..<half)) : nil }
        test = heldOut.flatMap { $0.count - half > 0 ? $0.subset(Array(half..<$0.count)) : nil }
        evaluationBatch = min(256, max(heldOut?.count ?? 1, 1))
        let checkGraph = Graph()
        let eval = ForwardContext(training: false)
        let (x, y) = (checkGraph.placeholder("images", [evaluationBatch, c, s, s]), checkGraph.placeholder("labels", [evaluationBatch]))
        let scores = model.logits(features: model.features(x, eval), eval)
        let best = equal(scores, scores.max(axes: [1], keepDims: true).expanded(to: scores.shape))
        checker = try session.plan(fetches: [(best * checkGraph.apply(.oneHot(depth: model.config.classes), [y])).sum(axes: [1])])
    }

    func seek(to step: Int) { plan.step = UInt64(step) }

    var flopsPerStep: Double { plan.multiplyAddFLOPs }

    func train(_ batches: [Batch]) throws -> [Float] {
        let batch = replica.count > 1 ? batches[0].examples(replica.share(of: options.batchSize)) : batches[0]
        let values = try plan.run(["real": batch.images, "labels": batch.labels]).map { $0[0] }
        let held = model.heldOutAccuracy
        return values + [held.validation, held.test]
    }

    /// The share of `examples` whose largest logit is at their label (0 for none).
    func accuracy(_ examples: Examples?) throws -> Float {
        guard let examples, examples.count > 0 else { return 0 }
        let (c, s, b) = (options.channels, options.imageSize, evaluationBatch)
        var correct: Float = 0
        for start in stride(from: 0, to: examples.count, by: b) {
            // The last batch is filled up with the first example; only the real rows count.
            let indices = (start..<start + b).map { $0 < examples.count ? $0 : 0 }
            let batch = examples.batch(indices, channels: c, size: s)
            let rows = try checker.run(["images": batch.images, "labels": batch.labels])[0]
            correct += rows.prefix(min(b, examples.count - start)).reduce(0, +)
        }
        return correct / Float(examples.count)
    }

    func finishEpoch(_ metrics: [Float], keep: Bool) throws -> [Float] {
        let accuracy = (validation: try accuracy(validation), test: try accuracy(test))
        if keep {
            model.accuracy.validation.value = [accuracy.validation]
            model.accuracy.test.value = [accuracy.test]
            try session.upload([model.accuracy.validation, model.accuracy.test])
        }
        return Array(metrics.prefix(2)) + [accuracy.validation, accuracy.test]
    }

    func outputs() throws -> [OutputImage] { [] }
}

extension ModelKind {
    public static let classifier = ModelKind(Classifier.self)
}

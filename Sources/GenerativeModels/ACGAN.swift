// Conditional GAN with an auxiliary classifier (ACGAN, Odena et al.), as the MNIST
// study's Keras model: the generator's input is the noise multiplied elementwise
// by a learned embedding of the class label; the discriminator is a stack of
// strided convolutions with LeakyReLU and dropout 0.3 (no batch statistics, which
// would mix the classes of a batch) and two heads on its features: real/fake
// (sigmoid) and the class (softmax logits).
import Datasets
import NeuralNet
import TensorGraph

public final class ACGAN {
    public let config: DCGANConfig
    public let classes: Int
    public let embedding: Embedding
    public let generator: Sequential
    public let body: Sequential
    public let source: Linear
    public let classifier: Linear

    public init(_ config: DCGANConfig, classes: Int, seed: UInt64) {
        precondition(DCGANConfig.imageSizes.contains(config.imageSize), "unsupported ACGAN image size \(config.imageSize)")
        self.config = config
        self.classes = classes
        var rng = SplitMix64(seed: seed)
        embedding = Embedding(classes, config.latentSize, rng: &rng)
        generator = Sequential([Reshape([config.latentSize, 1, 1])] + dcganGenerator(config, inputs: config.latentSize, rng: &rng))
        body = Sequential(dcganDiscriminatorBody(config, inputs: config.channels, batchNorm: false, rng: &rng) + [Reshape([-1])])
        let features = config.discriminatorFeatures * config.firstSize * config.firstSize
        source = Linear(features, 1, rng: &rng)
        classifier = Linear(features, classes, rng: &rng)
        initializeBatchNormScales(generator.layers, rng: &rng)
    }

    /// The generator network (`embedding.*`, `main.*`) and the discriminator (`main.*`, `source.*`, `classifier.*`).
    public var generatorModule: Module { Module([("embedding", embedding), ("main", generator)]) }
    public var discriminatorModule: Module { Module([("main", body), ("source", source), ("classifier", classifier)]) }

    /// `z [N, nz]` and labels `[N]` → images `[N, C, S, S]`.
    public func generate(_ z: Tensor, labels: Tensor, _ context: ForwardContext) -> Tensor {
        generator(z * embedding(labels, context), context)
    }

    /// Images → probability of "real" `[N]` and class logits `[N, classes]`.
    public func discriminate(_ x: Tensor, _ context: ForwardContext) -> (real: Tensor, classLogits: Tensor) {
        let features = body(x, context)
        return (sigmoid(source(features, context)).reshaped([-1]), classifier(features, context))
    }
}

/// The fraction of rows of `logits [N, K]` whose largest entry is at the class `labels [N]`.
public func classAccuracy(_ logits: Tensor, labels: Tensor) -> Tensor {
    let g = logits.graph
    let best = equal(logits, logits.max(axes: [1], keepDims: true).expanded(to: logits.shape))
    return (best * g.apply(.oneHot(depth: logits.shape[1]), [labels])).sum() * (1 / Float(logits.shape[0]))
}

extension ACGAN: AdversarialModel {
    public static let name = "acgan"
    public static let summary = "ACGAN (MNIST study): class-conditioned, RMSprop 5e-5, dropout 0.3"
    public static let trainsOn = ExampleKind.labeledImages
    public static let discriminatorMetrics = ["class_accuracy"]

    public static func applyStudyDefaults(to o: inout TrainOptions) {
        (o.optimizer, o.learningRateG, o.learningRateD, o.discriminatorDropout) = (.rmsprop, 5e-5, 5e-5, 0.3)
    }

    public convenience init(_ options: TrainOptions, classes: Int) { self.init(options.dcganConfig, classes: classes, seed: options.seed) }

    public var networks: [(file: String, module: Module)] { [("netG", generatorModule), ("netD", discriminatorModule)] }
    public var generatorParameters: [Parameter] { generatorModule.parameters }
    public var discriminatorParameters: [Parameter] { discriminatorModule.parameters }
    public func latentShape(_ count: Int) -> Shape? { [count, config.latentSize] }
    public func generate(_ inputs: GeneratorInputs, _ context: ForwardContext) -> Tensor {
        generate(inputs.noise!, labels: inputs.labels!, context)
    }
    public func discriminate(_ images: Tensor, condition: Tensor?, _ context: ForwardContext) -> Discrimination {
        let out = discriminate(images, context)
        return Discrimination(score: out.real, classLogits: out.classLogits)
    }

    /// Real/fake BCE plus the class cross-entropy of real and generated images.
    public func discriminatorLoss(_ step: DiscriminatorStep) -> DiscriminatorLoss {
        let (real, fake) = (step.dReal, step.dFake)
        let loss =
            bceAgainstTargets(real.score, step.options.realLabel) + bceAgainstTargets(fake.score, 0)
            + softmaxCrossEntropy(real.classLogits!, labels: step.labels!)
            + softmaxCrossEntropy(fake.classLogits!, labels: step.fakeLabels!)
        return DiscriminatorLoss(loss, extras: [classAccuracy(real.classLogits!, labels: step.labels!)])
    }

    public func generatorLoss(_ step: GeneratorStep) -> (loss: Tensor, extras: [Tensor]) {
        (bceAgainstTargets(step.dFake.score, 1) + softmaxCrossEntropy(step.dFake.classLogits!, labels: step.fakeLabels!), [])
    }

    /// One row per class (at most 16), ten per row.
    public func trainingSamples(_ graph: Graph, options: TrainOptions, classes: Int, heldOut: Examples?, rng: inout SplitMix64)
        -> TrainingSamples
    {
        let rows = min(classes, 16)
        let z = fixedLatents(graph, latentShape(rows * 10)!, rng: &rng)
        let rowLabels = graph.constant((0..<rows * 10).map { Float($0 / 10) }, [rows * 10])
        return TrainingSamples(GeneratorInputs(noise: z, labels: rowLabels), columns: 10, rowClasses: Array(0..<rows))
    }
}

extension ModelKind {
    public static let acgan = ModelKind(ACGAN.self)
}

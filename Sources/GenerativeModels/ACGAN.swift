// Conditional GAN with an auxiliary classifier (ACGAN, Odena et al.), as the MNIST
// study's Keras model: the generator's input is the noise multiplied elementwise
// by a learned embedding of the class label; the discriminator is a stack of
// strided convolutions with LeakyReLU and dropout 0.3 (no batch statistics, which
// would mix the classes of a batch) and two heads on its features: real/fake
// (sigmoid) and the class (softmax logits).
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

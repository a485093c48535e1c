// WGAN with weight clipping (bicycles study, Arjovsky et al.): DCGAN's pair with the
// critic's sigmoid removed, the loss E[D(G(z))] − E[D(x)], and the critic's weights
// clipped to ±clip after each of its updates (the trainer clips where `clip` > 0), and
// the paper's critic schedule (`CriticSchedule`: 100 critic steps at first and every 500th).
import Datasets
import NeuralNet
import TensorGraph

public final class WGAN {
    /// The generator and the critic (`DCGAN(critic: true)`), with PyTorch's module names.
    public let networkPair: DCGAN

    public init(_ config: DCGANConfig, seed: UInt64) { networkPair = DCGAN(config, seed: seed, critic: true) }
}

extension WGAN: AdversarialModel {
    public static let name = "wgan"
    public static let summary = "WGAN (bicycles study): clip ±0.01, RMSprop 5e-5, 5 critic steps (100 at first)"
    public static let trainsOn = ExampleKind.images

    public static func applyStudyDefaults(to o: inout TrainOptions) {
        (o.optimizer, o.learningRateG, o.learningRateD, o.criticSteps, o.clip, o.criticWarmup) = (.rmsprop, 5e-5, 5e-5, 5, 0.01, true)
    }

    public convenience init(_ options: TrainOptions, classes: Int) { self.init(options.dcganConfig, seed: options.seed) }

    public var networks: [(file: String, module: Module)] { networkPair.networks }
    public var generatorParameters: [Parameter] { networkPair.generatorParameters }
    public var discriminatorParameters: [Parameter] { networkPair.discriminatorParameters }
    public func latentShape(_ count: Int) -> Shape? { networkPair.latentShape(count) }
    public func generate(_ inputs: GeneratorInputs, _ context: ForwardContext) -> Tensor { networkPair.generate(inputs, context) }
    public func discriminate(_ images: Tensor, condition: Tensor?, _ context: ForwardContext) -> Discrimination {
        networkPair.discriminate(images, condition: condition, context)
    }

    public func discriminatorLoss(_ step: DiscriminatorStep) -> DiscriminatorLoss {
        DiscriminatorLoss(step.dFake.score.mean() - step.dReal.score.mean())
    }

    public func generatorLoss(_ step: GeneratorStep) -> (loss: Tensor, extras: [Tensor]) { (-step.dFake.score.mean(), []) }
}

extension ModelKind {
    public static let wgan = ModelKind(WGAN.self)
}

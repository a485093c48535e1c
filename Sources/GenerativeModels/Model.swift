// The plug-in model layer. A model is one file: a type that says its name, its
// source study's defaults and the flags it rejects, what data it trains on, its
// networks and their checkpoint names, and how it samples; its family protocol
// (AdversarialModel, AutoencoderModel) adds the losses, and the family's trainer
// runs the steps. `ModelKind.registered` lists the models; Training and the CLI
// run any of them through these protocols alone.
import Datasets
import Foundation
import NeuralNet
import TensorGraph

/// A model of `genocl train --model`.
public protocol GenerativeModel: AnyObject {
    /// The `--model` value, also the `model` of config.json and checkpoints.
    static var name: String { get }
    /// What it is and where its defaults come from (for `--help` and the README).
    static var summary: String { get }
    /// What it trains on.
    static var trainsOn: ExampleKind { get }
    /// Whether it shows held-out examples (reconstructions, translations) as it trains.
    static var showsHeldOut: Bool { get }
    /// The share of the data held out of training (a classifier's validation and test sets);
    /// nil: at most 32 images, where `showsHeldOut`.
    static var heldOutShare: Double? { get }
    /// Whether it trains on random crops of images loaded larger (`--load-size`).
    static var cropsRandomly: Bool { get }
    /// The source study's settings, applied over the data's (28×28 gray for MNIST-layout
    /// data, 64×64 RGB for image folders).
    static func applyStudyDefaults(to options: inout TrainOptions)
    /// What is wrong with `options` for this model (a message naming the flag), or nil.
    static func problem(with options: TrainOptions) -> String?
    /// The checkpoint files `genocl sample` loads (the first is the one a bare .safetensors file holds).
    static var samplingNetworks: [String] { get }
    /// The options of a generator saved without a run folder (a PyTorch `netG`), from its
    /// tensors' names and shapes, when the model can tell them; nil otherwise.
    static func options(forGenerator shapes: [String: [Int]]) -> TrainOptions?

    /// The model of `options` for data with `classes` classes, its weights drawn from `options.seed`.
    init(_ options: TrainOptions, classes: Int) throws
    /// The networks, each saved as `<file>.safetensors` in a checkpoint (generator first).
    var networks: [(file: String, module: Module)] { get }
    /// How it makes images from latents or inputs (`genocl sample`).
    var sampling: Sampling { get }
    /// Networks the model uses but does not train or save (a perceptual loss's VGG-16), with the
    /// weights file each is loaded from before training.
    var fixedNetworks: [(path: String, module: Module)] { get }
    /// The compiled training step of `options` in `session`.
    func trainer(_ options: TrainOptions, classes: Int, heldOut: Examples?, session: Session) throws -> any ModelTrainer
}

extension GenerativeModel {
    public static var showsHeldOut: Bool { false }
    public static var heldOutShare: Double? { nil }
    public static var cropsRandomly: Bool { trainsOn == .pairs }
    public static func applyStudyDefaults(to options: inout TrainOptions) {}
    /// The DCGAN layout's sizes: 28, and 4·2ᵏ from 16 to 256.
    public static func problem(with options: TrainOptions) -> String? { dcganLayoutProblem(name, options) }
    public static func options(forGenerator shapes: [String: [Int]]) -> TrainOptions? { nil }
    public var fixedNetworks: [(path: String, module: Module)] { [] }
}

/// How a trained model makes images.
public enum Sampling {
    /// From latents `z [N, nz]` (and class labels `[N]` when conditional); `encode` (VAEs)
    /// maps images (and labels) to their latent means.
    case latent(
        decode: (_ z: Tensor, _ labels: Tensor?, ForwardContext) -> Tensor,
        encode: ((_ images: Tensor, _ labels: Tensor?, ForwardContext) -> Tensor)?)
    /// From input images (image-to-image translation, in the mode the model translates in).
    case translation((_ inputs: Tensor) -> Tensor)
    /// It makes no images (a classifier).
    case none
}

/// A model's compiled training step, replayed every step.
public protocol ModelTrainer: AnyObject {
    var optimizers: [any Optimizer] { get }
    /// Names of the values `train` returns (metrics.csv columns; the first two are plotted).
    var metricNames: [String] { get }
    /// Batches one step consumes (critic steps per generator step).
    var batchesPerStep: Int { get }
    /// FLOPs of one step's matmuls and convolutions (see `Plan.multiplyAddFLOPs`).
    var flopsPerStep: Double { get }
    /// Positions the plans' random streams at `step` (for resuming).
    func seek(to step: Int)
    /// One training step on `batches`; returns the metrics.
    func train(_ batches: [Batch]) throws -> [Float]
    /// The images to write now.
    func outputs() throws -> [OutputImage]
    /// Networks the trainer keeps beside the model's, saved in checkpoints as their own files
    /// (the generator's moving average, `netG_ema`), with the network each copies at the start.
    var companions: [Companion] { get }
    /// The batch size and resolution of each step where they vary (a progressive GAN's growth):
    /// the loader's spans and the run's length; nil: `batchSize` images at `imageSize` a batch.
    var schedule: (any BatchSchedule)? { get }
    /// At the last step of an epoch (and of the run), the step's metrics with what the trainer
    /// measures once an epoch (a classifier's held-out accuracies). `keep` is false at a run's
    /// last step inside an epoch: the measurement is logged but not saved with the model, so a
    /// run resumed from there goes on as one that never stopped.
    func finishEpoch(_ metrics: [Float], keep: Bool) throws -> [Float]
}

/// A network a trainer keeps beside the model's (with the same state-dict names): saved as
/// `file` in checkpoints, started as a copy of `source`.
public struct Companion {
    public let file: String
    public let state: [(name: String, parameter: Parameter)]
    public let source: [Parameter]

    /// Starts the companion as a copy of its source's host values.
    public func copySource() { for ((_, parameter), source) in zip(state, source) { parameter.value = source.value } }
}

extension ModelTrainer {
    public var companions: [Companion] { [] }
    public var schedule: (any BatchSchedule)? { nil }
    public func finishEpoch(_ metrics: [Float], keep: Bool) throws -> [Float] { metrics }
}

/// A model's name, as `--model` and config.json spell it; `type` is the model.
public struct ModelKind: RawRepresentable, Hashable, Codable, CaseIterable, Sendable, CustomStringConvertible {
    public let rawValue: String

    /// The models, in the order `--help` lists them: one line per model.
    public static var registered: [any GenerativeModel.Type] {
        [
            DCGAN.self,
            WGAN.self,
            WGANGP.self,
            ConvolutionalVAE.self,
            DenseVAE.self,
            ConditionalVAE.self,
            ACGAN.self,
            Pix2Pix.self,
            ProGAN.self,
            SRResNet.self,
            Classifier.self,
        ]
    }

    public init?(rawValue: String) {
        guard Self.registered.contains(where: { $0.name == rawValue }) else { return nil }
        self.rawValue = rawValue
    }

    /// The kind of a registered model type.
    public init(_ type: any GenerativeModel.Type) { rawValue = type.name }

    public static var allCases: [ModelKind] { registered.map(ModelKind.init) }

    public var type: any GenerativeModel.Type { Self.registered.first { $0.name == rawValue }! }
    public var summary: String { type.summary }

    /// The model of `options` (see `GenerativeModel.init`), once its shapes-only twin says it fits
    /// in this machine's memory.
    public func make(_ options: TrainOptions, classes: Int) throws -> any GenerativeModel {
        let twin = try Parameter.measuring { try type.init(options, classes: classes) }
        if let problem = Self.memoryProblem(parameters: twin.networks.flatMap { $0.module.stateDict() }.map(\.parameter), options) {
            throw GraphError(rawValue, problem)
        }
        return try type.init(options, classes: classes)
    }

    /// Why weights of this many values do not fit in memory, or nil. The host holds each weight,
    /// up to two optimizer slots (Adam's moments) and a checkpoint's copy; half the machine's
    /// memory is theirs, as the loader's images get (the device's own allocations are checked
    /// against its memory when the plans are compiled).
    static func memoryProblem(parameters: [Parameter], _ options: TrainOptions) -> String? {
        let count = parameters.reduce(0) { total, p in total.addingReportingOverflow(p.shape.count).overflow ? .max : total + p.shape.count
        }
        let bytes = count.multipliedReportingOverflow(by: 4 * 4)
        let available = Int(clamping: ProcessInfo.processInfo.physicalMemory) / 2
        guard bytes.overflow || bytes.partialValue > available else { return nil }
        let gib = { (b: Int) in String(format: "%.1f GiB", Double(b) / 1_073_741_824) }
        let widths =
            options.growth.map { "--fmap-base \($0.featureBase), --fmap-max \($0.featureMax)" }
            ?? "--ngf \(options.generatorWidth), --ndf \(options.discriminatorWidth)"
        return
            "\(count >= 1_000_000_000 ? String(format: "%.1f billion", Double(count) / 1e9) : String(format: "%.1f million", Double(count) / 1e6)) weights (\(widths), --image-size \(options.imageSize)) take \(bytes.overflow ? "more than any machine's memory" : gib(bytes.partialValue)) with their optimizer state, more than the \(gib(available)) this machine can give them; use smaller widths (\(options.growth == nil ? "--ngf, --ndf" : "--fmap-max")) or --image-size"
    }
    public var description: String { rawValue }
    public var isAdversarial: Bool { type is any AdversarialModel.Type }
    public var isVAE: Bool { type is any AutoencoderModel.Type }
    /// Whether it trains on class labels.
    public var isConditional: Bool { type.trainsOn == .labeledImages }
}

/// Why the DCGAN layout cannot take `options`' image size (28, or 4·2ᵏ from 16 to 256), or nil.
func dcganLayoutProblem(_ model: String, _ options: TrainOptions) -> String? {
    DCGANConfig.imageSizes.contains(options.imageSize)
        ? nil : "--image-size \(options.imageSize): \(model) supports \(DCGANConfig.imageSizes.map(String.init).joined(separator: ", "))"
}

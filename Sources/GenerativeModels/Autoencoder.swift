// The autoencoder family (vae, vae-dense, cvae): one plan per step — encode,
// reparameterize, decode, and minimize reconstruction + β·KL, both summed per image
// and averaged over the batch (the ELBO's terms as the source studies and PyTorch's
// VAE example write them). Outputs: samples decoded from the prior (one row per class
// for conditional models) and reconstructions of held-out images beside the originals.
import Datasets
import NeuralNet
import TensorGraph

/// A variational autoencoder: images (and labels, when conditional) to a latent Gaussian and back.
public protocol AutoencoderModel: GenerativeModel {
    /// The encoder's and the decoder's parameters, trained by one optimizer.
    var parameters: [Parameter] { get }
    var latentSize: Int { get }
    /// Images `[N, C, S, S]` (and labels `[N]`) → mean and log-variance `[N, nz]`.
    func encode(_ x: Tensor, labels: Tensor?, _ context: ForwardContext) -> (mean: Tensor, logVariance: Tensor)
    /// `z [N, nz]` (and labels `[N]`) → images `[N, C, S, S]` in [−1, 1].
    func decode(_ z: Tensor, labels: Tensor?, _ context: ForwardContext) -> Tensor
}

extension AutoencoderModel {
    public static var showsHeldOut: Bool { true }
    public static var samplingNetworks: [String] { ["decoder", "encoder"] }

    public var sampling: Sampling {
        .latent(
            decode: { [self] z, labels, context in decode(z, labels: labels, context) },
            encode: { [self] x, labels, context in encode(x, labels: labels, context).mean })
    }

    public func trainer(_ options: TrainOptions, classes: Int, heldOut: Examples?, session: Session) throws -> any ModelTrainer {
        try AutoencoderTrainer(self, options, classes: classes, heldOut: heldOut, session: session)
    }
}

/// The reconstruction term, summed over an image's pixels and averaged over the batch;
/// images are in [−1, 1], BCE compares them mapped to [0, 1].
public func reconstructionLoss(_ kind: ReconstructionLoss, _ reconstruction: Tensor, _ target: Tensor) -> Tensor {
    let pixels = Float(target.shape.count / target.shape[0])
    switch kind {
    case .mse: return meanSquaredError(reconstruction, target) * pixels
    case .bce: return binaryCrossEntropy((reconstruction + 1) * 0.5, (target + 1) * 0.5) * pixels
    }
}

final class AutoencoderTrainer<Model: AutoencoderModel>: ModelTrainer {
    let optimizers: [any Optimizer]
    let metricNames = ["loss", "reconstruction", "kl"]
    let batchesPerStep = 1
    private let options: TrainOptions
    private let plan: Plan, sampler: Plan
    private let reconstructor: Plan?
    private let heldOut: Examples?
    private let conditional = Model.trainsOn == .labeledImages
    /// This trainer's share of each global batch (all of it on one device).
    private let replica: Replica
    /// The class of each row of the sample grid (conditional models: one row per class).
    private let sampleRowClasses: [Int]?

    init(_ model: Model, _ options: TrainOptions, classes: Int, heldOut: Examples?, session: Session) throws {
        self.options = options
        replica = session.replica
        let (n, c, s, nz) = (replica.share(of: options.batchSize).count, options.channels, options.imageSize, model.latentSize)
        let optimizer = makeOptimizer(
            options.optimizer, model.parameters, learningRate: options.learningRateG, options: options, name: "optimizer")
        optimizers = [optimizer]

        let graph = Graph(replica: replica)
        let real = graph.placeholder("real", [n, c, s, s])
        let labels = conditional ? graph.placeholder("labels", [n]) : nil
        let train = ForwardContext(training: true, seed: options.seed &+ 11)
        let (mean, logVariance) = model.encode(real, labels: labels, train)
        let z = reparameterize(mean: mean, logVariance: logVariance, seed: options.seed &+ 1)
        let reconstruction = reconstructionLoss(options.reconstruction, model.decode(z, labels: labels, train), real)
        let kl = klDivergenceToStandardNormal(mean: mean, logVariance: logVariance)
        let loss = reconstruction + kl * options.klWeight
        plan = try session.plan(
            fetches: replicaMean([loss, reconstruction, kl]), updates: optimizer.updates(minimizing: loss) + train.updates)

        // Samples from the prior (fixed noise); when conditional one row per class (at most 16), eight per row.
        // A graph of one device's: only the first replica draws them.
        let sampleGraph = Graph()
        let eval = ForwardContext(training: false)
        let rows = conditional ? min(classes, 16) : 8
        sampleRowClasses = conditional ? Array(0..<rows) : nil
        var rng = SplitMix64(seed: options.seed &+ 99)
        let noise = fixedLatents(sampleGraph, [rows * 8, nz], rng: &rng)
        let rowLabels = conditional ? sampleGraph.constant((0..<rows * 8).map { Float($0 / 8) }, [rows * 8]) : nil
        sampler = try session.plan(fetches: [model.decode(noise, labels: rowLabels, eval)])
        // Reconstructions of the held-out images from their means.
        self.heldOut = heldOut
        if let heldOut {
            let images = sampleGraph.constant(heldOut.images, [heldOut.count, c, s, s])
            let heldLabels = conditional ? sampleGraph.constant(heldOut.labels.map(Float.init), [heldOut.count]) : nil
            reconstructor = try session.plan(fetches: [
                model.decode(model.encode(images, labels: heldLabels, eval).mean, labels: heldLabels, eval)
            ])
        } else {
            reconstructor = nil
        }
    }

    func seek(to step: Int) { plan.step = UInt64(step) }

    var flopsPerStep: Double { plan.multiplyAddFLOPs }

    func train(_ batches: [Batch]) throws -> [Float] {
        let batch = replica.count > 1 ? batches[0].examples(replica.share(of: options.batchSize)) : batches[0]
        var feeds = ["real": batch.images]
        if conditional { feeds["labels"] = batch.labels }
        return try plan.run(feeds).map { $0[0] }
    }

    func outputs() throws -> [OutputImage] {
        let (c, s) = (options.channels, options.imageSize)
        var images = [OutputImage(folder: "samples", images: try sampler.run()[0], channels: c, size: s, columns: 8)]
        images[0].rowClasses = sampleRowClasses
        if let reconstructor, let heldOut {
            // original, reconstruction pairs, four pairs per row.
            let pairs = interleaved([heldOut.images, try reconstructor.run()[0]], per: c * s * s, count: heldOut.count)
            var grid = OutputImage(folder: "reconstructions", images: pairs, channels: c, size: s, columns: 8)
            grid.columnCaptions = ["original", "reconstruction"]
            images.append(grid)
        }
        return images
    }
}

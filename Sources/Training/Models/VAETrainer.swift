// The VAEs: vae (convolutional), vae-dense and cvae (conditioned on the label).
// One plan per step: encode, reparameterize, decode, and minimize
// reconstruction + β·KL, both summed per image and averaged over the batch (the
// ELBO's terms as the source studies and PyTorch's VAE example write them).
// Outputs: samples decoded from the prior (one row per class for cvae) and
// reconstructions of held-out images beside the originals.
import Datasets
import GenerativeModels
import NeuralNet
import TensorGraph

/// The reconstruction term, summed over an image's pixels and averaged over the batch;
/// images are in [−1, 1], BCE compares them mapped to [0, 1].
public func reconstructionLoss(_ kind: ReconstructionLoss, _ reconstruction: Tensor, _ target: Tensor) -> Tensor {
    let pixels = Float(target.shape.count / target.shape[0])
    switch kind {
    case .mse: return meanSquaredError(reconstruction, target) * pixels
    case .bce: return binaryCrossEntropy((reconstruction + 1) * 0.5, (target + 1) * 0.5) * pixels
    }
}

final class VAETrainer: ModelTrainer {
    let networks: [(file: String, module: Module)]
    let optimizers: [any Optimizer]
    let metricNames = ["loss", "reconstruction", "kl"]
    let batchesPerStep = 1
    private let options: TrainOptions
    private let plan: Plan, sampler: Plan
    private let reconstructor: Plan?
    private let heldOut: Examples?

    init(_ options: TrainOptions, classes: Int, heldOut: Examples?, session: Session) throws {
        self.options = options
        let model = VAE(options.vaeConfig(classes: classes), seed: options.seed)
        let conditional = model.config.classes > 0
        let (n, c, s, nz) = (options.batchSize, options.channels, options.imageSize, options.latentSize)
        networks = [("encoder", Module([("main", model.encoder)])), ("decoder", Module([("main", model.decoder)]))]
        let optimizer = makeOptimizer(options.optimizer, model.encoder.parameters + model.decoder.parameters, learningRate: options.learningRateG, options: options, name: "optimizer")
        optimizers = [optimizer]

        let graph = Graph()
        let real = graph.placeholder("real", [n, c, s, s])
        let labels = conditional ? graph.placeholder("labels", [n]) : nil
        let train = ForwardContext(training: true, seed: options.seed &+ 11)
        let (mean, logVariance) = model.encode(real, labels: labels, train)
        let z = reparameterize(mean: mean, logVariance: logVariance, seed: options.seed &+ 1)
        let reconstruction = reconstructionLoss(options.reconstruction, model.decode(z, labels: labels, train), real)
        let kl = klDivergenceToStandardNormal(mean: mean, logVariance: logVariance)
        let loss = reconstruction + kl * options.klWeight
        plan = try session.plan(fetches: [loss, reconstruction, kl], updates: optimizer.updates(minimizing: loss) + train.updates)

        // Samples from the prior (fixed noise); for cvae one row per class (at most 16), eight per row.
        let eval = ForwardContext(training: false)
        let rows = conditional ? min(classes, 16) : 8
        var rng = SplitMix64(seed: options.seed &+ 99)
        let noise = graph.constant((0..<rows * 8 * nz).map { _ in rng.normal() }, [rows * 8, nz])
        let rowLabels = conditional ? graph.constant((0..<rows * 8).map { Float($0 / 8) }, [rows * 8]) : nil
        sampler = try session.plan(fetches: [model.decode(noise, labels: rowLabels, eval)])
        // Reconstructions of the held-out images from their means.
        self.heldOut = heldOut
        if let heldOut {
            let images = graph.constant(heldOut.images, [heldOut.count, c, s, s])
            let heldLabels = conditional ? graph.constant(heldOut.labels.map(Float.init), [heldOut.count]) : nil
            reconstructor = try session.plan(fetches: [model.decode(model.encode(images, labels: heldLabels, eval).mean, labels: heldLabels, eval)])
        } else {
            reconstructor = nil
        }
    }

    func seek(to step: Int) { plan.step = UInt64(step) }

    var flopsPerStep: Double { plan.multiplyAddFLOPs }

    func train(_ batches: [Batch]) throws -> [Float] {
        let batch = batches[0]
        var feeds = ["real": batch.images]
        if options.model == .cvae { feeds["labels"] = batch.labels }
        return try plan.run(feeds).map { $0[0] }
    }

    func outputs() throws -> [OutputImage] {
        let (c, s) = (options.channels, options.imageSize)
        let samples = try sampler.run()[0]
        var images = [OutputImage(folder: "samples", grid: imageGrid(samples, count: samples.count / (c * s * s), channels: c, height: s, width: s, columns: 8), channels: c)]
        if let reconstructor, let heldOut {
            // original, reconstruction pairs, four pairs per row.
            let reconstructed = try reconstructor.run()[0]
            let pairs = interleaved([heldOut.images, reconstructed], per: c * s * s, count: heldOut.count)
            images.append(OutputImage(folder: "reconstructions", grid: imageGrid(pairs, count: 2 * heldOut.count, channels: c, height: s, width: s, columns: 8), channels: c))
        }
        return images
    }
}

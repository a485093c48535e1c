// The engine demo that `genocl train` runs until DCGAN training lands (issue 4):
// a small fully-connected GAN on MNIST-layout images, built as one graph with
// two compiled plans (discriminator step, generator step) whose Adam updates
// run inside the plans. It exercises every layer of the engine for real:
// dataset → feeds → plan replay → autodiff → parameter updates → samples.
import CPUReference
import Datasets
import Foundation
import NeuralNet
import TensorGraph

public struct EngineDemoOptions: Sendable {
    public var dataDirectory = defaultFashionMNISTDirectory
    public var steps = 1000
    public var batchSize = 64
    public var seed: UInt64 = 1
    public var outputDirectory = "runs/engine-demo"
    public var logEvery = 25
    public init() {}
}

/// One logged step of the demo.
public struct EngineDemoRecord: Sendable {
    public let step: Int
    public let lossD: Float
    public let lossG: Float
    public let dReal: Float
    public let dFake: Float
}

public func runEngineDemo(_ options: EngineDemoOptions, backend: any Backend, log: (String) -> Void) throws -> [EngineDemoRecord] {
    let data = try loadMNISTLayout(directory: options.dataDirectory)
    let pixels = data.height * data.width
    let (batch, nz, hidden) = (options.batchSize, 64, 256)
    log("data: \(data.count) images of \(data.height)×\(data.width) from \(options.dataDirectory)")

    var rng = SplitMix64(seed: options.seed)
    let generator = Sequential([Linear(nz, hidden, rng: &rng), Activation.relu(), Linear(hidden, pixels, rng: &rng), Activation.tanh()])
    let discriminator = Sequential([Linear(pixels, hidden, rng: &rng), Activation.leakyReLU(0.2), Linear(hidden, 1, rng: &rng)])
    let graph = Graph()
    let context = ForwardContext(training: true)
    let real = graph.placeholder("real", [batch, pixels])
    let fake = generator(graph.randomNormal([batch, nz], seed: options.seed &+ 1), context)
    let realLogits = discriminator(real, context), fakeLogits = discriminator(stopGradient(fake), context)
    let ones = graph.ones([batch, 1]), zeros = graph.zeros([batch, 1])
    let lossD = binaryCrossEntropyWithLogits(realLogits, ones) + binaryCrossEntropyWithLogits(fakeLogits, zeros)
    let lossG = binaryCrossEntropyWithLogits(discriminator(fake, context), ones)
    let adamD = Adam(discriminator.parameters, learningRate: 2e-4, beta1: 0.5, name: "optD")
    let adamG = Adam(generator.parameters, learningRate: 2e-4, beta1: 0.5, name: "optG")

    let session = Session(backend: backend)
    let stepD = try session.plan(
        fetches: [lossD, sigmoid(realLogits).mean(), sigmoid(fakeLogits).mean()], updates: adamD.updates(minimizing: lossD))
    let stepG = try session.plan(fetches: [lossG], updates: adamG.updates(minimizing: lossG))
    let fixedNoise = graph.constant((0..<64 * nz).map { _ in rng.normal() }, [64, nz])
    let sample = try session.plan(fetches: [generator(fixedNoise, ForwardContext(training: false))])

    var order = Array(0..<data.count)
    order.shuffle(using: &rng)
    var cursor = 0
    var records: [EngineDemoRecord] = []
    let start = Date()
    for step in 1...options.steps {
        if cursor + batch > order.count {
            order.shuffle(using: &rng)
            cursor = 0
        }
        var feed = [Float]()
        feed.reserveCapacity(batch * pixels)
        for i in order[cursor..<(cursor + batch)] { feed += data.images[(i * pixels)..<((i + 1) * pixels)] }
        cursor += batch
        let d = try stepD.run(["real": feed])
        let g = try stepG.run()
        let record = EngineDemoRecord(step: step, lossD: d[0][0], lossG: g[0][0], dReal: d[1][0], dFake: d[2][0])
        guard record.lossD.isFinite, record.lossG.isFinite else {
            throw PlanError("step \(step): loss is not finite (Loss_D \(record.lossD), Loss_G \(record.lossG)); stopping")
        }
        records.append(record)
        if step % options.logEvery == 0 || step == options.steps {
            let rate = Double(step * batch) / Date().timeIntervalSince(start)
            log(String(format: "step %5d/%d  Loss_D %.4f  Loss_G %.4f  D(x) %.3f  D(G(z)) %.3f  %.0f img/s",
                       step, options.steps, record.lossD, record.lossG, record.dReal, record.dFake, rate))
        }
    }
    try FileManager.default.createDirectory(atPath: options.outputDirectory, withIntermediateDirectories: true)
    let images = try sample.run()[0]
    let grid = imageGrid(images, count: 64, channels: 1, height: data.height, width: data.width, columns: 8)
    let path = options.outputDirectory + "/samples.png"
    try writePNG(path, width: grid.width, height: grid.height, channels: 1, pixels: grid.pixels)
    log("wrote \(path): 64 generator samples from fixed noise")
    return records
}

import CPUReference
import Datasets
import CZlib
import Foundation
import GenerativeModels
import NeuralNet
import TensorGraph
import TestSupport
import Testing
import Training

/// A tiny MNIST-layout dataset: 96 images of 16×16 with a bright square at one of four places.
func writeTinyDataset() throws -> String {
    let dir = NSTemporaryDirectory() + "genocl-tiny-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let (count, size) = (96, 16)
    var pixels = [UInt8](repeating: 0, count: count * size * size)
    for i in 0..<count {
        let (top, left) = ((i % 2) * 8, (i / 2 % 2) * 8)
        for y in top..<(top + 6) { for x in left..<(left + 6) { pixels[(i * size + y + 1) * size + x + 1] = 255 } }
    }
    func idx(_ shape: [Int], _ values: [UInt8]) -> [UInt8] {
        [0, 0, 8, UInt8(shape.count)] + shape.flatMap { d in [24, 16, 8, 0].map { UInt8(d >> $0 & 255) } } + values
    }
    for (name, bytes) in [
        ("train-images-idx3-ubyte.gz", idx([count, size, size], pixels)),
        ("train-labels-idx1-ubyte.gz", idx([count], (0..<count).map { UInt8($0 % 4) })),
    ] {
        let file = gzopen(dir + "/" + name, "wb")
        _ = bytes.withUnsafeBytes { gzwrite(file, $0.baseAddress, UInt32($0.count)) }
        gzclose(file)
    }
    return dir
}

func tinyOptions(_ data: String, model: ModelKind = .dcgan) -> TrainOptions {
    var o = TrainOptions(model: model, data: data)
    (o.imageSize, o.channels, o.latentSize, o.generatorWidth, o.discriminatorWidth) = (16, 1, 8, 8, 8)
    (o.batchSize, o.steps, o.sampleEvery, o.checkpointEvery, o.logEvery) = (8, 12, 6, 6, 6)
    return o
}

/// Settings for a run in `folder` that logs plain lines (tests are not terminals).
func plainSettings(_ folder: String) -> RunSettings {
    var settings = RunSettings(folder: folder)
    settings.interactive = false
    return settings
}

/// Trains the tiny DCGAN of `data` for `steps` steps in `folder`, quietly.
@discardableResult
func trainTiny(_ data: String, folder: String, steps: Int) throws -> [StepMetrics] {
    var options = tinyOptions(data)
    options.steps = steps
    return try train(options, settings: plainSettings(folder), backend: testBackend(), log: { _ in })
}

func testBackend() throws -> any Backend {
    openCLTestsEnabled ? try makeTestBackend() : CPUBackend()
}

@Suite struct DCGANTrainingTests {
    let quiet: (String) -> Void = { _ in }

    @Test func aTinyDCGANTrainsAndWritesItsRunFolder() throws {
        let data = try writeTinyDataset()
        let folder = data + "/run"
        let settings = plainSettings(folder)
        let history = try train(tinyOptions(data), settings: settings, backend: testBackend(), log: quiet)
        #expect(history.count == 12)
        #expect(history.allSatisfy { $0.values.allSatisfy(\.isFinite) })
        // The losses move: the discriminator learns the squares quickly.
        #expect(Set(history.map { $0["loss_d"] }).count > 6 && Set(history.map { $0["loss_g"] }).count > 6)
        #expect(history.last!["loss_d"] < history.first!["loss_d"])
        for file in [
            "config.json", "metrics.csv", "loss.png", "samples/step_000006.png", "samples/step_000012.png", "checkpoints/latest",
            "checkpoints/step_000012/netG.safetensors",
        ] {
            #expect(FileManager.default.fileExists(atPath: folder + "/" + file), "\(file)")
        }
        let csv = try String(contentsOfFile: folder + "/metrics.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 13 && csv[0] == "step,epoch,loss_d,loss_g,d_x,d_g_z,images_per_second,seconds")
        #expect(try String(contentsOfFile: folder + "/checkpoints/latest", encoding: .utf8) == "step_000012\n")
        // TensorBoard: the file-version event, scalars at steps 6 and 12, and two sample images.
        let events = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix("events.out.tfevents.") }
        #expect(events.count == 1)
        #expect(try readRecords(folder + "/" + events[0]).count == 5)
    }

    @Test func resumingContinuesExactly() throws {
        let data = try writeTinyDataset()
        let straight = plainSettings(data + "/straight")
        let full = try train(tinyOptions(data), settings: straight, backend: testBackend(), log: quiet)

        var halfOptions = tinyOptions(data)
        halfOptions.steps = 6
        let first = plainSettings(data + "/resumed")
        _ = try train(halfOptions, settings: first, backend: testBackend(), log: quiet)
        var second = first
        second.resume = true
        var more = tinyOptions(data)
        more.steps = 12
        let rest = try train(more, settings: second, backend: testBackend(), log: quiet)
        #expect(rest.map(\.step) == Array(7...12))
        #expect(rest.map { $0["loss_d"] } == full.suffix(6).map { $0["loss_d"] })
        #expect(rest.map { $0["loss_g"] } == full.suffix(6).map { $0["loss_g"] })
    }

    @Test func aHalfWrittenCheckpointIsIgnored() throws {
        let data = try writeTinyDataset()
        try trainTiny(data, folder: data + "/run", steps: 6)
        var options = tinyOptions(data)
        var settings = plainSettings(data + "/run")
        // A writer killed while writing step 9 left a partial folder; latest still names step 6.
        let partial = data + "/run/checkpoints/step_000009"
        try FileManager.default.createDirectory(atPath: partial, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: partial + "/netG.safetensors", contents: Data([1, 2, 3]))
        let (_, folder) = try Checkpoint.load(data + "/run/checkpoints")
        #expect(folder.hasSuffix("step_000006"))
        settings.resume = true
        options.steps = 7
        #expect(try train(options, settings: settings, backend: testBackend(), log: quiet).map(\.step) == [7])
    }

    @Test func aNonFiniteLossStopsWithoutSaving() throws {
        let data = try writeTinyDataset()
        var options = tinyOptions(data)
        options.instanceNoise = .greatestFiniteMagnitude  // the discriminator sees ±inf: the loss is NaN at once
        let settings = plainSettings(data + "/run")
        #expect { try train(options, settings: settings, backend: testBackend(), log: { _ in }) } throws: {
            "\($0)".contains("step 1: the loss is not finite") && "\($0)".contains("stopped without saving")
        }
        #expect(!FileManager.default.fileExists(atPath: data + "/run/checkpoints/latest"))
    }

    @Test func initFromLoadsGeneratorAndDiscriminatorWeights() throws {
        let data = try writeTinyDataset()
        try trainTiny(data, folder: data + "/first", steps: 6)
        var options = tinyOptions(data)
        var settings = plainSettings(data + "/first")
        options.initFrom = data + "/first/checkpoints/step_000006"
        options.steps = 1
        var lines: [String] = []
        settings.folder = data + "/second"
        try train(options, settings: settings, backend: testBackend()) { lines.append($0) }
        #expect(lines.contains { $0.contains("initialized from") && $0.contains("netD.safetensors") })
        options.initFrom = data + "/missing"
        settings.folder = data + "/third"
        #expect { try train(options, settings: settings, backend: testBackend(), log: { _ in }) } throws: {
            "\($0)".contains("no such readable file")
        }
    }

    @Test func checkpointsUsePyTorchDCGANNamesAndShapes() {
        let model = DCGAN(DCGANConfig(imageSize: 64, channels: 3), seed: 1)
        let g = model.generator.stateDict(prefix: "main"), d = model.discriminator.stateDict(prefix: "main")
        func bn(_ i: Int, _ c: Int) -> [(String, [Int])] {
            ["weight", "bias", "running_mean", "running_var"].map { ("main.\(i).\($0)", [c]) } + [("main.\(i).num_batches_tracked", [])]
        }
        let expectedG: [(String, [Int])] =
            [("main.0.weight", [100, 512, 4, 4])] + bn(1, 512) + [("main.3.weight", [512, 256, 4, 4])] + bn(4, 256)
            + [("main.6.weight", [256, 128, 4, 4])] + bn(7, 128) + [("main.9.weight", [128, 64, 4, 4])] + bn(10, 64) + [
                ("main.12.weight", [64, 3, 4, 4])
            ]
        let expectedD: [(String, [Int])] =
            [("main.0.weight", [64, 3, 4, 4]), ("main.2.weight", [128, 64, 4, 4])] + bn(3, 128)
            + [("main.5.weight", [256, 128, 4, 4])] + bn(6, 256) + [("main.8.weight", [512, 256, 4, 4])] + bn(9, 512) + [
                ("main.11.weight", [1, 512, 4, 4])
            ]
        #expect(g.map(\.name) == expectedG.map(\.0))
        #expect(g.map(\.parameter.shape.dims) == expectedG.map(\.1))
        #expect(d.map(\.name) == expectedD.map(\.0))
        #expect(d.map(\.parameter.shape.dims) == expectedD.map(\.1))
        // num_batches_tracked is stored as int64, the rest as float32.
        let stored = storedTensors(g)
        #expect(stored["main.1.num_batches_tracked"] == .int64([0], shape: []))
        if case .float32(let values, let shape) = stored["main.0.weight"] {
            #expect(shape == [100, 512, 4, 4] && values.count == 819_200)
        } else {
            Issue.record("main.0.weight is not float32")
        }
    }

    @Test func dcgan28And32ProduceTheirImageSizes() throws {
        for (size, first) in [(28, 7), (32, 4), (16, 4)] {
            let model = DCGAN(DCGANConfig(imageSize: size, channels: 1, latentSize: 4, generatorWidth: 2, discriminatorWidth: 2), seed: 1)
            let graph = Graph()
            let images = model.generate(graph.placeholder("z", [2, 4, 1, 1]), ForwardContext(training: false))
            #expect(images.shape == [2, 1, size, size])
            #expect(model.discriminate(images, ForwardContext(training: false)).shape == [2])
            #expect((model.generator.layers[0] as? ConvTranspose2D)?.weight.shape[2] == first)
            #expect(graph.error == nil)
        }
    }
}

@Suite struct ImageFolderTrainingTests {
    @Test func trainsOnAFolderOfPNGsSkippingABrokenOne() throws {
        let dir = NSTemporaryDirectory() + "genocl-folder-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir + "/bikes", withIntermediateDirectories: true)
        for i in 0..<20 {
            // 20×20 RGB images with a coloured bar at a varying row.
            var pixels = [UInt8](repeating: 30, count: 20 * 20 * 3)
            for x in 0..<20 { for c in 0..<3 { pixels[((i % 16) * 20 + x) * 3 + c] = c == i % 3 ? 250 : 80 } }
            try writePNG(dir + "/bikes/\(i).png", width: 20, height: 20, channels: 3, pixels: pixels)
        }
        FileManager.default.createFile(atPath: dir + "/bikes/broken.png", contents: Data([0x89, 0x50, 0x4E, 0x47, 0, 0]))
        var options = tinyOptions(dir)
        options.channels = 3
        (options.batchSize, options.steps, options.flip) = (4, 6, true)
        let settings = plainSettings(dir + "/run")
        var lines: [String] = []
        let history = try train(options, settings: settings, backend: testBackend()) { lines.append($0) }
        #expect(history.count == 6 && history.allSatisfy { $0.values.allSatisfy(\.isFinite) })
        #expect(lines.contains { $0.contains("skipped 1 file(s)") && $0.contains("broken.png") })
        let config = try String(contentsOfFile: dir + "/run/config.json", encoding: .utf8)
        #expect(config.contains("\"skippedFiles\" : 1"))
    }
}

import Backends
import CPUReference
import Datasets
import GenerativeModels
import OpenCLBackend
import TensorGraph
import Foundation
import TestSupport
import Testing
import Training

@Suite struct SamplingTests {
    @Test func npyRoundTripsAndRejectsBadFiles() throws {
        let bytes = encodeNpy([1, -2, 3.5, 0, 5, 6], shape: [2, 3])
        #expect((bytes.count - 6 * 4) % 64 == 0)  // header padded to 64 bytes
        let decoded = try decodeNpy(bytes, path: "z.npy")
        #expect(decoded.values == [1, -2, 3.5, 0, 5, 6] && decoded.shape == [2, 3])
        #expect(try decodeNpy(encodeNpy([7], shape: [1]), path: "v.npy").shape == [1])
        #expect { try decodeNpy(Array("hello world".utf8), path: "x.npy") } throws: { "\($0)" == "x.npy: not a NumPy .npy file" }
        #expect { try decodeNpy(Array(bytes.dropLast(4)), path: "t.npy") } throws: { "\($0)".contains("truncated") }
        var int64 = bytes
        if let at = (0..<(bytes.count - 3)).first(where: { Array(bytes[$0..<($0 + 3)]) == Array("<f4".utf8) }) {
            int64.replaceSubrange(at..<(at + 3), with: Array("<i8".utf8))
        }
        #expect { try decodeNpy(int64, path: "i.npy") } throws: { "\($0)".contains("not supported") }
    }

    @Test func samplesFromATrainedRun() throws {
        let data = try writeTinyDataset()
        try trainTiny(data, folder: data + "/run", steps: 6)

        var grid = SampleOptions(checkpoint: data + "/run")
        (grid.count, grid.output, grid.saveNpy) = (10, data + "/out", true)
        let files = try Training.sample(grid, backend: testBackend())
        #expect(files.map { ($0 as NSString).lastPathComponent } == ["samples.npy", "grid_000.png"])
        let npy = try decodeNpy([UInt8](FileManager.default.contents(atPath: data + "/out/samples.npy")!), path: "samples.npy")
        #expect(npy.shape == [10, 1, 16, 16] && npy.values.allSatisfy { $0 >= -1 && $0 <= 1 })

        // Given latents, interpolated in strips of 4: 3 latents → 2 strips.
        try Data(encodeNpy((0..<24).map { Float($0) / 24 - 0.5 }, shape: [3, 8])).write(to: URL(fileURLWithPath: data + "/z.npy"))
        var strips = SampleOptions(checkpoint: data + "/run/checkpoints")
        (strips.latents, strips.interpolate, strips.output, strips.saveNpy) = (data + "/z.npy", 4, data + "/strips", true)
        try Training.sample(strips, backend: testBackend())
        let stripValues = try decodeNpy([UInt8](FileManager.default.contents(atPath: data + "/strips/samples.npy")!), path: "s.npy")
        #expect(stripValues.shape == [8, 1, 16, 16])
        #expect(FileManager.default.fileExists(atPath: data + "/strips/interpolation_000.png"))
        // The strip's ends are the given latents' images: compare with sampling them directly.
        var direct = SampleOptions(checkpoint: data + "/run")
        (direct.latents, direct.output, direct.saveNpy) = (data + "/z.npy", data + "/direct", true)
        try Training.sample(direct, backend: testBackend())
        let directValues = try decodeNpy([UInt8](FileManager.default.contents(atPath: data + "/direct/samples.npy")!), path: "d.npy").values
        // Equal up to float rounding: batches of 8 and of 3 may get different convolution algorithms.
        let per = 256, close = Tolerance(atol: 1e-6, rtol: 1e-4)
        let first = mismatch(Array(stripValues.values[0..<per]), Array(directValues[0..<per]), close, "strip start")
        let last = mismatch(Array(stripValues.values[(3 * per)..<(4 * per)]), Array(directValues[per..<(2 * per)]), close, "strip end")
        #expect(first == nil, Comment(rawValue: first ?? ""))
        #expect(last == nil, Comment(rawValue: last ?? ""))

        // A bare netG.safetensors (as PyTorch would save it), truncated noise, one file per image.
        try FileManager.default.createDirectory(atPath: data + "/bare", withIntermediateDirectories: true)
        let latest = try String(contentsOfFile: data + "/run/checkpoints/latest", encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
        try FileManager.default.copyItem(
            atPath: data + "/run/checkpoints/\(latest)/netG.safetensors", toPath: data + "/bare/netG.safetensors")
        var bare = SampleOptions(checkpoint: data + "/bare/netG.safetensors")
        (bare.count, bare.truncation, bare.single, bare.output) = (3, 0.5, true, data + "/single")
        #expect(try Training.sample(bare, backend: testBackend()).count == 3)
        #expect { try Training.sample(SampleOptions(checkpoint: data + "/nothing"), backend: testBackend()) } throws: {
            "\($0)".contains("no checkpoint here")
        }
    }
}

@Suite struct ModelSamplingTests {
    func png(_ path: String) throws -> (width: Int, height: Int) {
        let image = try decodeImage(path, channels: 3)
        return (image.width, image.height)
    }

    @Test func conditionalModelsSampleOneRowPerClassAndVAEsFromClusters() throws {
        let data = try writeTinyDataset()
        for model in [ModelKind.acgan, .cvae] {
            var options = tinyModelOptions(model, data: data)
            options.steps = 2
            try train(options, settings: plainSettings(data + "/\(model)"), backend: testBackend(), log: { _ in })
            var grid = SampleOptions(checkpoint: data + "/\(model)")
            (grid.count, grid.output, grid.saveNpy) = (16, data + "/\(model)-out", true)
            #expect(try Training.sample(grid, backend: testBackend()).count == 2)
            #expect(try png(data + "/\(model)-out/grid_000.png") == (8 * 18 + 2, 2 * 18 + 2))  // 16 images, 8 a row: classes 0 and 1
            grid.classLabel = 7
            #expect { try Training.sample(grid, backend: testBackend()) } throws: {
                "\($0)".contains("--class 7: the model has classes 0…3")
            }
        }
        // cvae: latents from k-means clusters of class 2's encoded images, refined once; and a perturbed image.
        var clusters = SampleOptions(checkpoint: data + "/cvae")
        (clusters.count, clusters.clusters, clusters.refine, clusters.classLabel, clusters.output, clusters.saveNpy) = (
            6, 3, 1, 2, data + "/clusters", true
        )
        try Training.sample(clusters, backend: testBackend())
        let values = try decodeNpy([UInt8](FileManager.default.contents(atPath: data + "/clusters/samples.npy")!), path: "c.npy")
        #expect(values.shape == [6, 1, 16, 16] && values.values.allSatisfy { $0.isFinite && Swift.abs($0) <= 1 })
        try writePNG(data + "/one.png", width: 16, height: 16, channels: 1, pixels: (0..<256).map { UInt8($0) })
        var perturb = SampleOptions(checkpoint: data + "/cvae")
        (perturb.count, perturb.perturb, perturb.noise, perturb.output, perturb.saveNpy) = (
            5, data + "/one.png", 0.3, data + "/perturbed", true
        )
        try Training.sample(perturb, backend: testBackend())
        // The original first, then five decodings of its perturbed latent.
        let perturbed = try decodeNpy([UInt8](FileManager.default.contents(atPath: data + "/perturbed/samples.npy")!), path: "p.npy")
        #expect(perturbed.shape == [6, 1, 16, 16] && perturbed.values[0] == -1)
        var wrong = SampleOptions(checkpoint: data + "/acgan")
        wrong.clusters = 2
        #expect { try Training.sample(wrong, backend: testBackend()) } throws: { "\($0)".contains("need a VAE") }
    }

    @Test func pix2pixTranslatesGivenImages() throws {
        let data = try writePairedDataset()
        var options = tinyModelOptions(.pix2pix, data: data)
        options.steps = 1
        try train(options, settings: plainSettings(data + "/run"), backend: testBackend(), log: { _ in })
        // The triptych: input | generated | target for each of the two held-out pairs, under its
        // title (step, epoch, and the column captions where they do not fit 32-pixel cells).
        let size = try png(data + "/run/samples/step_000001.png")
        #expect(size.0 >= 3 * 34 + 2 && size.1 == 2 * 34 + 2 + 8 + 16 * 3, "\(size)")
        var translate = SampleOptions(checkpoint: data + "/run")
        (translate.input, translate.output, translate.saveNpy) = (data + "/val", data + "/out", true)
        #expect(try Training.sample(translate, backend: testBackend()).count == 2)
        let values = try decodeNpy([UInt8](FileManager.default.contents(atPath: data + "/out/samples.npy")!), path: "t.npy")
        #expect(values.shape == [4, 3, 32, 32])  // input, translation for each of the two images
        #expect { try Training.sample(SampleOptions(checkpoint: data + "/run"), backend: testBackend()) } throws: {
            "\($0)".contains("give --input")
        }
    }
}

@Suite struct BenchTests {
    @Test func benchTimesRealIterationsAndCountsTheirWork() throws {
        var workload = BenchWorkload.all.first { $0.name == "dcgan28" }!
        (
            workload.name, workload.options.imageSize, workload.options.batchSize, workload.options.generatorWidth,
            workload.options.discriminatorWidth
        ) = ("tiny", 16, 4, 4, 4)
        let backend: any Backend =
            openCLTestsEnabled ? try OpenCLBackend(device: testDeviceIndex, profiling: true, measurements: testMeasurements) : CPUBackend()
        let rates = DeviceRates(device: backend.deviceDescription)
        let result = try runBench(workload, iterations: 5, backend: backend, rates: rates)
        #expect(
            result.iterations == 5 && result.millisecondsMin <= result.millisecondsMedian
                && result.millisecondsMedian <= result.millisecondsMax)
        #expect(
            result.imagesPerIteration == 4
                && Swift.abs(result.imagesPerSecond - 4000 / result.millisecondsMedian) < 1e-6 * result.imagesPerSecond)
        #expect(result.flopsPerIteration > 0 && result.gflops > 0 && result.firstIterationSeconds > 0)
        if openCLTestsEnabled {
            #expect(!result.topKernels.isEmpty && (result.peakDeviceBytes ?? 0) > 0)
        }
        let text = formatBench(result)
        #expect(text.contains("ms/iteration (median of 5") && text.contains("GFLOP per iteration"))
    }

    /// `genocl bench --gemm`: the three rates of one shape, and packing back on its rule after.
    @Test func gemmShapesAreTimedAsRunPackedAndNot() throws {
        guard openCLTestsEnabled else {
            #expect(try benchGEMM(m: 4, n: 4, k: 4, backend: CPUBackend()).contains("OpenCL devices only"))
            return
        }
        let backend = try OpenCLBackend(device: testDeviceIndex, measurements: testMeasurements)
        let line = try benchGEMM(m: 130, n: 40, k: 300, backend: backend, rounds: 1)
        #expect(
            line.hasPrefix("130×40×300, GEMM kernel ") && line.contains("as run ") && line.contains("row-major ")
                && line.contains("packed "), "\(line)")
        #expect(backend.gemmPacking == nil)
    }

    @Test func wganGPIterationsAreFiveCriticStepsAndOneGeneratorStep() {
        let workload = BenchWorkload.all.first { $0.name == "wgan-gp64" }!
        #expect(workload.options.criticSteps == 5 && workload.options.batchSize == 32 && workload.imagesPerIteration == 160)
        #expect(BenchWorkload.all.map(\.name) == ["dcgan64", "dcgan28", "wgan-gp64", "vae64", "pix2pix256"])
        #expect(BenchWorkload.all.first { $0.name == "pix2pix256" }!.options.batchSize == 1)
    }
}

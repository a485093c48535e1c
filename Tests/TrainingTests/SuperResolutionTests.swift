import CPUReference
import Datasets
import Foundation
import GenerativeModels
import NeuralNet
import TensorGraph
import TestSupport
import Testing
import Training

/// Super-resolution (issue 24): the bicubic baseline and the quality metrics in the graph against
/// their host references, SRResNet beating bicubic on generated data, and upscaling afterwards.
@Suite struct SuperResolutionTests {
    @Test func bicubicInTheGraphIsTheHostResize() throws {
        let (n, c, h, w) = (2, 3, 6, 5)
        let values = randomValues(n * c * h * w, seed: 3)
        let graph = Graph()
        let x = graph.constant(values, [n, c, h, w])
        let per = c * h * w
        var want: [Float] = []
        for i in 0..<n {
            let image = Image(channels: c, height: h, width: w, pixels: Array(values[(i * per)..<((i + 1) * per)]))
            want += image.bicubicResized(height: 4 * h, width: 4 * w).pixels
        }
        for backend in [CPUBackend() as any Backend, try testBackend()] {
            let got = try evaluate([bicubicUpscaled(x, scale: 4)], backend: backend)[0]
            if let problem = mismatch(got, want, Tolerance(atol: 1e-5, rtol: 1e-5), "bicubic ×4") { Issue.record("\(problem)") }
        }
        // Keys' kernel reproduces a linear ramp away from the edges, and keeps a constant.
        let ramp = Image(channels: 1, height: 1, width: 8, pixels: (0..<8).map { Float($0) / 8 }).bicubicResized(height: 1, width: 16)
        for x in 4..<12 {
            let position: Float = (Float(x) + 0.5) / 2 - 0.5
            #expect(Swift.abs(ramp.pixels[x] - position / 8) < 1e-6, "ramp at \(x)")
        }
        let flat = Image(channels: 1, height: 3, width: 3, pixels: [Float](repeating: 0.3, count: 9)).bicubicResized(height: 6, width: 6)
        #expect(flat.pixels.allSatisfy { Swift.abs($0 - 0.3) < 1e-6 })
    }

    @Test func qualityInTheGraphIsTheHostsPSNRAndSSIM() throws {
        let (n, c, s) = (3, 2, 16)
        let reference = randomValues(n * c * s * s, seed: 5).map { $0 * 0.8 }
        let noisy = zip(reference, randomValues(n * c * s * s, seed: 6)).map { $0 + 0.2 * $1 }
        let graph = Graph()
        let (x, y) = (graph.constant(noisy, [n, c, s, s]), graph.constant(reference, [n, c, s, s]))
        let got = try evaluate(
            [peakSignalToNoise(x, y), structuralSimilarity(x, y), structuralSimilarity(y, y)], backend: try testBackend())
        let per = c * s * s
        let image = { (values: [Float], i: Int) in Array(values[(i * per)..<((i + 1) * per)]) }
        let hostPSNR = (0..<n).map { psnr(image(noisy, $0), image(reference, $0)) }
        let hostSSIM = (0..<n).map { ssim(image(noisy, $0), image(reference, $0), channels: c, size: s) }
        if let problem = mismatch(got[0], hostPSNR, Tolerance(atol: 1e-3, rtol: 1e-4), "PSNR") { Issue.record("\(problem)") }
        if let problem = mismatch(got[1], hostSSIM, Tolerance(atol: 1e-4, rtol: 1e-3), "SSIM") { Issue.record("\(problem)") }
        #expect(got[2].allSatisfy { Swift.abs($0 - 1) < 1e-5 }, "an image is itself")
        // By hand: 0 against 0.2 everywhere is an MSE of 0.04 in a range of 2, 20 dB.
        #expect(Swift.abs(psnr([Float](repeating: 0, count: 8), [Float](repeating: 0.2, count: 8)) - 20) < 1e-4)
        #expect(hostSSIM.allSatisfy { $0 > 0 && $0 < 1 })
    }

    func options(_ data: String, steps: Int) -> TrainOptions {
        var o = tinyOptions(data, model: .srresnet)
        (o.loadSize, o.generatorWidth, o.learningRateG, o.steps, o.sampleEvery, o.checkpointEvery) = (16, 16, 1e-3, steps, steps, steps)
        (o.superResolution!.scale, o.superResolution!.blocks) = (2, 2)
        return o
    }

    /// Sharp squares: a trained SRResNet restores their edges better than bicubic upscaling.
    @Test func srresnetBeatsBicubicAndUpscalesAfterwards() throws {
        let data = try writeTinyDataset()
        let history = try train(options(data, steps: 250), settings: plainSettings(data + "/sr"), backend: testBackend(), log: { _ in })
        let last = history.suffix(25)
        let mean = { (name: String) in last.map { $0[name] }.reduce(0, +) / Float(last.count) }
        #expect(mean("psnr") > mean("psnr_bicubic") + 1, "PSNR \(mean("psnr")) dB, bicubic \(mean("psnr_bicubic")) dB")
        #expect(mean("ssim") > mean("ssim_bicubic"), "SSIM \(mean("ssim")), bicubic \(mean("ssim_bicubic"))")
        #expect(FileManager.default.fileExists(atPath: data + "/sr/samples/step_000250.png"))

        // genocl upscale: each image at its own size, ×2.
        try FileManager.default.createDirectory(atPath: data + "/in", withIntermediateDirectories: true)
        try writePNG(data + "/in/a.png", width: 12, height: 10, channels: 1, pixels: (0..<120).map { UInt8($0 * 2) })
        let files = try upscale(checkpoint: data + "/sr", input: data + "/in", output: data + "/up", backend: testBackend())
        #expect(files.map { ($0 as NSString).lastPathComponent } == ["a.png"])
        let up = try decodeImage(data + "/up/a.png", channels: 1)
        #expect((up.width, up.height) == (24, 20))

        // genocl sample --upscale: a 16×16 DCGAN's samples come out 32×32.
        try trainTiny(data, folder: data + "/gan", steps: 2)
        var sampling = SampleOptions(checkpoint: data + "/gan")
        (sampling.count, sampling.output, sampling.saveNpy, sampling.upscale) = (4, data + "/big", true, data + "/sr")
        try Training.sample(sampling, backend: testBackend())
        let npy = try decodeNpy([UInt8](FileManager.default.contents(atPath: data + "/big/samples.npy")!), path: "samples.npy")
        #expect(npy.shape == [4, 1, 32, 32])
        // A run that is not a super-resolution model is named.
        #expect { try upscale(checkpoint: data + "/gan", input: data + "/in", output: data + "/x", backend: testBackend()) } throws: {
            "\($0)".contains("upscaling needs a super-resolution run")
        }
    }
}

/// The perceptual loss's VGG-16 (issue 24): torchvision's layer indices, max pooling by hand,
/// the device against the CPU reference, and a run that trains with it. (tools/check-vgg16
/// compares it with torchvision itself, which CI does not install.)
@Suite struct PerceptualLossTests {
    @Test func vggLayersPoolingAndDevice() throws {
        #expect(VGG16Features.layers["relu1_1"] == 1 && VGG16Features.layers["relu2_2"] == 8 && VGG16Features.layers["relu5_3"] == 29)
        #expect(
            VGG16Features().module.stateDict().map(\.name).prefix(4) == [
                "features.0.weight", "features.0.bias", "features.2.weight", "features.2.bias",
            ])
        let graph = Graph()
        let x = graph.constant([1, 5, 2, 0, 3, 4, 8, -1, 0, 0, 7, 7, -2, -3, 6, 1], [1, 1, 4, 4])
        #expect(try evaluate([maxPool2x2(x)])[0] == [5, 8, 0, 7])
        let vgg = VGG16Features(through: "relu2_2")
        for (_, p) in vgg.module.stateDict() { p.value = randomValues(p.shape.count, seed: UInt64(p.shape.count)).map { $0 * 0.2 } }
        #expect(vgg.module.stateDict().count == 8)
        let images = graph.constant(randomValues(2 * 3 * 8 * 8, seed: 9), [2, 3, 8, 8])
        let features = vgg(images, layer: "relu2_2", ForwardContext(training: false))
        #expect(features.shape == [2, 128, 4, 4])
        let reference = try evaluate([features])[0], device = try evaluate([features], backend: try testBackend())[0]
        if let problem = mismatch(device, reference, Tolerance(atol: 1e-4, rtol: 1e-4), "VGG-16 relu2_2") { Issue.record("\(problem)") }
    }

    @Test func srresnetTrainsWithThePerceptualLoss() throws {
        let data = try writeTinyDataset()
        // Random VGG-16 weights through relu2_2 in a file, as tools/convert-vgg16 writes them (features.*).
        let vgg = VGG16Features(through: "relu2_2")
        for (_, p) in vgg.module.stateDict() { p.value = randomValues(p.shape.count, seed: UInt64(p.shape.count)).map { $0 * 0.2 } }
        try writeSafetensors(
            SafetensorsFile(tensors: storedTensors(vgg.module.stateDict()), metadata: [:]), to: data + "/vgg16.safetensors")
        var o = tinyOptions(data, model: .srresnet)
        (o.loadSize, o.generatorWidth, o.steps, o.sampleEvery, o.checkpointEvery) = (16, 8, 4, 4, 4)
        (o.superResolution!.scale, o.superResolution!.blocks, o.superResolution!.perceptual) = (
            2, 1, "vgg16:" + data + "/vgg16.safetensors"
        )
        let history = try train(o, settings: plainSettings(data + "/run"), backend: testBackend(), log: { _ in })
        #expect(history[0].names == ["loss", "perceptual", "psnr", "ssim", "psnr_bicubic", "ssim_bicubic"])
        #expect(Set(history.map { $0["perceptual"] }).count == 4 && history.allSatisfy { $0["perceptual"] > 0 })
        // The VGG weights are not the run's: the checkpoint holds the SR network alone.
        #expect(!FileManager.default.fileExists(atPath: data + "/run/checkpoints/step_000004/vgg16.safetensors"))
        o.superResolution!.perceptual = "vgg16:" + data + "/missing.safetensors"
        #expect { try train(o, settings: plainSettings(data + "/run2"), backend: testBackend(), log: { _ in }) } throws: {
            "\($0)".contains("tools/convert-vgg16")
        }
    }
}

/// SRGAN (`--adversarial W`, issue 24): the discriminator trains beside the network, is saved
/// as netD, and a resumed run continues exactly.
@Suite struct SRGANTests {
    @Test func srganTrainsItsDiscriminatorAndResumesExactly() throws {
        let data = try writeTinyDataset()
        var o = tinyOptions(data, model: .srresnet)
        (o.loadSize, o.generatorWidth, o.discriminatorWidth, o.steps, o.sampleEvery, o.checkpointEvery) = (16, 8, 4, 4, 4, 2)
        (o.superResolution!.scale, o.superResolution!.blocks, o.superResolution!.adversarialWeight) = (2, 1, 1e-3)
        let straight = try train(o, settings: plainSettings(data + "/straight"), backend: testBackend(), log: { _ in })
        #expect(straight[0].names == ["loss", "adversarial", "loss_d", "d_x", "d_g_z", "psnr", "ssim", "psnr_bicubic", "ssim_bicubic"])
        #expect(Set(straight.map { $0["loss_d"] }).count == 4 && straight.allSatisfy { $0.values.allSatisfy(\.isFinite) })
        #expect(FileManager.default.fileExists(atPath: data + "/straight/checkpoints/step_000004/netD.safetensors"))
        var half = o
        half.steps = 2
        var settings = plainSettings(data + "/resumed")
        try train(half, settings: settings, backend: testBackend(), log: { _ in })
        settings.resume = true
        let rest = try train(o, settings: settings, backend: testBackend(), log: { _ in })
        #expect(rest.map(\.values) == straight.suffix(2).map(\.values))
        o.imageSize = 24
        #expect(o.problem()?.contains("multiple of 16") == true)
    }
}

import Datasets
import Evaluation
import Foundation
import GenerativeModels
import NeuralNet
import TensorGraph
import TestSupport
import Testing
import Training

/// A folder of `count` copies of one 16×16 gray image (a collapsed generator's output).
private func writeIdenticalImages(_ count: Int) throws -> String {
    let dir = NSTemporaryDirectory() + "genocl-same-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    var pixels = [UInt8](repeating: 0, count: 16 * 16)
    // A square in the middle, where none of the tiny data's squares are.
    for y in 5..<11 { for x in 5..<11 { pixels[y * 16 + x] = 255 } }
    for i in 0..<count { try writePNG("\(dir)/\(i).png", width: 16, height: 16, channels: 1, pixels: pixels) }
    return dir
}

@Suite(.serialized) struct EvaluationTests {
    /// A classifier of the tiny data's four classes (the square's quadrant), trained at 28×28.
    private func trainClassifier(_ data: String, steps: Int = 40) throws -> (run: String, history: [StepMetrics]) {
        var options = tinyOptions(data, model: .classifier)
        (options.imageSize, options.steps, options.featureSize, options.learningRateG) = (28, steps, 32, 3e-3)
        let run = data + "/classifier"
        return (run, try train(options, settings: plainSettings(run), backend: testBackend(), log: { _ in }))
    }

    @Test func classifierLearnsSeparableClassesWithAHeldOutSplit() throws {
        let data = try writeTinyDataset()
        let (_, history) = try trainClassifier(data)
        // 96 images: 19 held out (10 validate, 9 test), 77 train in 10 batches of 8 an epoch.
        let last = try #require(history.last)
        #expect(last["val_accuracy"] >= 0.9 && last["test_accuracy"] >= 0.9, "\(last.values)")
        // Measured at the end of each epoch (steps 10, 20, 30, 40): unchanged within one.
        #expect(history[9]["val_accuracy"] > 0 && history[0]["val_accuracy"] == 0)
        #expect(history[10]["val_accuracy"] == history[9]["val_accuracy"])
        // A classifier makes no images.
        #expect(throws: (any Error).self) { try sample(SampleOptions(checkpoint: data + "/classifier"), backend: testBackend()) }
    }

    @Test func evaluatesImagesAndSamplesAndCachesTheReference() throws {
        let data = try writeTinyDataset()
        let (classifier, _) = try trainClassifier(data)
        var options = EvaluateOptions(features: "classifier:" + classifier)
        (options.images, options.reference, options.count, options.cacheDirectory) = (data, data, 96, data + "/cache")
        (options.kidSubsets, options.kidSubsetSize, options.output) = (10, 20, data + "/same")
        var lines: [String] = []
        let (same, files) = try evaluate(options, backend: testBackend(), log: { lines.append($0) })
        // The data against itself: FID 0, every sample inside the real manifold and the other way round.
        #expect(same.fid < 1e-6 && same.precision == 1 && same.recall == 1, "\(same)")
        #expect(same.featureNetwork.sha256.count == 64 && same.featureNetwork.testAccuracy ?? 0 >= 0.9)
        let histogram = try #require(same.histogram)
        #expect(histogram.counts == [24, 24, 24, 24] && histogram.referenceCounts == histogram.counts)
        #expect(abs(same.inceptionScore! - 4) < 0.5 && histogram.meanConfidence > 0.5)
        for file in files { #expect(FileManager.default.fileExists(atPath: file), "\(file)") }
        #expect(files.contains(data + "/same/histogram.png") && files.contains(data + "/same/evaluation.json"))
        #expect(lines.contains { $0.hasPrefix("encoding 96 reference images") })

        // A collapsed generator: every sample the same image. Recall ≈ 0; the cache serves the reference.
        lines = []
        (options.images, options.output) = (try writeIdenticalImages(40), data + "/collapsed")
        let (collapsed, _) = try evaluate(options, backend: testBackend(), log: { lines.append($0) })
        #expect(lines.contains { $0.hasPrefix("reference statistics from the cache") }, "\(lines)")
        #expect(collapsed.recall < 0.1 && collapsed.fid > 10 * max(same.fid, 1e-3), "\(collapsed)")
        #expect(collapsed.histogram!.counts.filter { $0 > 0 }.count == 1 && collapsed.inceptionScore! < 1.01)

        // Samples of a generator at 16×16, resized to the classifier's 28×28.
        var gan = tinyOptions(data)
        gan.steps = 2
        try train(gan, settings: plainSettings(data + "/gan"), backend: testBackend(), log: { _ in })
        var fromRun = EvaluateOptions(features: "classifier:" + classifier)
        (fromRun.checkpoint, fromRun.count, fromRun.kidSubsets, fromRun.kidSubsetSize) = (data + "/gan", 64, 5, 20)
        fromRun.cacheDirectory = data + "/cache"
        let (drawn, written) = try evaluate(fromRun, backend: testBackend(), log: { _ in })
        #expect(drawn.sampleCount == 64 && drawn.reference == data && drawn.fid > same.fid)
        #expect(written.first == data + "/gan/evaluation.json")
    }

    @Test func evaluatesDuringTrainingWithoutDisturbingTheRun() throws {
        let data = try writeTinyDataset()
        let (classifier, _) = try trainClassifier(data, steps: 10)
        var options = tinyOptions(data)
        (options.steps, options.checkpointEvery) = (4, 2)
        options.evaluation = TrainingEvaluation(every: 2, count: 40, features: "classifier:" + classifier)
        let withEvaluation = try train(options, settings: plainSettings(data + "/evaluated"), backend: testBackend(), log: { _ in })
        var plain = options
        plain.evaluation = nil
        let without = try train(plain, settings: plainSettings(data + "/plain"), backend: testBackend(), log: { _ in })
        #expect(withEvaluation.map(\.values) == without.map(\.values))
        // The columns are filled at steps 2 and 4 only; a run resumed at step 2 writes the same.
        func rows(_ run: String) throws -> [[Substring]] {
            try String(contentsOfFile: data + "/" + run + "/metrics.csv", encoding: .utf8).split(separator: "\n").map {
                Array($0.split(separator: ",", omittingEmptySubsequences: false).dropLast(2))
            }
        }
        let straight = try rows("evaluated")
        #expect(straight[0].suffix(4) == ["fid", "kid", "precision", "recall"])
        #expect(straight[1].suffix(4).allSatisfy(\.isEmpty) && straight[2].suffix(4).allSatisfy { Double($0) != nil })
        #expect(Double(straight[4][straight[0].firstIndex(of: "fid")!])! > 0)
        var half = options
        half.steps = 2
        var settings = plainSettings(data + "/resumed")
        try train(half, settings: settings, backend: testBackend(), log: { _ in })
        settings.resume = true
        try train(options, settings: settings, backend: testBackend(), log: { _ in })
        #expect(try rows("resumed") == straight)
    }

    @Test func evaluatesATranslationModelOnItsHeldOutPairs() throws {
        let data = try writeTinyDataset()
        let (classifier, _) = try trainClassifier(data, steps: 10)
        let pairs = try writePairedDataset(train: 12, val: 40)
        var options = tinyModelOptions(.pix2pix, data: pairs)
        options.steps = 2
        try train(options, settings: plainSettings(pairs + "/run"), backend: testBackend(), log: { _ in })
        var evaluation = EvaluateOptions(features: "classifier:" + classifier)
        (evaluation.checkpoint, evaluation.kidSubsets, evaluation.kidSubsetSize) = (pairs + "/run", 5, 20)
        let (report, _) = try evaluate(evaluation, backend: testBackend(), log: { _ in })
        #expect(report.sampleCount == 40 && report.referenceCount == 40 && report.samples.hasPrefix("translations of 40 held-out inputs"))
        #expect(report.fid.isFinite && report.fid > 0 && report.reference == "the held-out targets")
    }

    @Test func badInputGetsClearErrors() throws {
        let data = try writeTinyDataset()
        let (classifier, _) = try trainClassifier(data, steps: 2)
        func message(_ options: EvaluateOptions) -> String {
            do {
                _ = try evaluate(options, backend: try testBackend(), log: { _ in })
                return ""
            } catch { return "\(error)" }
        }
        var options = EvaluateOptions(features: "classifier:" + classifier)
        (options.images, options.count) = (data, 10)
        #expect(message(options).contains("--count 10: FID with") && message(options).contains("needs at least 32 samples"))
        options.count = 40
        #expect(message(options).contains("--images needs --reference"))
        let empty = NSTemporaryDirectory() + "genocl-empty-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        options.reference = empty
        #expect(message(options).contains(empty))
        options.features = "classifier:" + data
        #expect(message(options).contains("is not a classifier run"))
        options.features = "resnet50"
        #expect(message(options).contains("give inception (or inception:FILE) or classifier:RUN"))
    }

    @Test func sha256OfKnownMessages() {
        #expect(sha256Hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(sha256Hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            sha256Hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    /// Max and average pooling of Inception against loops over the windows.
    @Test func inceptionPoolingAgainstLoops() throws {
        let (h, w) = (7, 6)
        let values = randomValues(2 * h * w, seed: 5).map { abs($0) }
        let x = Graph().constant(values, [1, 2, h, w])
        func window(_ c: Int, _ y: Int, _ xx: Int, stride: Int, padding: Int) -> [Float] {
            var taps: [Float] = []
            for dy in 0..<3 {
                for dx in 0..<3 {
                    let (sy, sx) = (y * stride + dy - padding, xx * stride + dx - padding)
                    if sy >= 0 && sy < h && sx >= 0 && sx < w { taps.append(values[(c * h + sy) * w + sx]) }
                }
            }
            return taps
        }
        for (stride, padding) in [(2, 0), (1, 1), (1, 0)] {
            let (oh, ow) = ((h + 2 * padding - 3) / stride + 1, (w + 2 * padding - 3) / stride + 1)
            let want = (0..<2).flatMap { c in
                (0..<oh).flatMap { y in (0..<ow).map { xx in window(c, y, xx, stride: stride, padding: padding).max()! } }
            }
            #expect(try evaluate([maxPool3x3(x, stride: stride, padding: padding)])[0] == want, "stride \(stride) padding \(padding)")
        }
        let averaged = try evaluate([averagePool3x3ExcludingPadding(x)])[0]
        let want = (0..<2).flatMap { c in
            (0..<h).flatMap { y in
                (0..<w).map { xx in
                    window(c, y, xx, stride: 1, padding: 1).reduce(0, +) / Float(window(c, y, xx, stride: 1, padding: 1).count)
                }
            }
        }
        if let problem = mismatch(averaged, want, Tolerance(atol: 1e-6, rtol: 1e-6), "average pool") { Issue.record("\(problem)") }
    }

    /// The FID Inception-v3: torchvision's 472 tensor names, the device against the CPU reference
    /// at its smallest input (75×75), and a damaged weights file named with its digest.
    /// (tools/check-inception compares it with pytorch-fid itself, which CI does not install.)
    @Test func inceptionNamesDeviceAndBadWeights() throws {
        let network = FIDInceptionV3()
        let state = network.module.stateDict()
        #expect(state.count == 472 && state.first?.name == "Conv2d_1a_3x3.conv.weight" && state.last?.name == "fc.bias")
        #expect(state.contains { $0.name == "Mixed_7c.branch3x3dbl_3b.bn.running_var" && $0.parameter.shape == [384] })
        #expect(state.contains { $0.name == "Mixed_6e.branch7x7dbl_5.conv.weight" && $0.parameter.shape == [192, 192, 1, 7] })
        // Seeded weights of a few values each, repeated (drawing 23 million in a debug build is slow).
        for (name, p) in state {
            let pattern = randomValues(min(p.shape.count, 997), seed: UInt64(p.shape.count))
            let scaled = pattern.map { name.hasSuffix("running_var") ? 1 + abs($0) * 0.2 : $0 * (name.contains("conv") ? 0.15 : 0.1) }
            p.value = (0..<p.shape.count).map { scaled[$0 % scaled.count] }
        }
        let graph = Graph()
        let (features, logits) = network(
            graph.constant(randomValues(3 * 75 * 75, seed: 3), [1, 3, 75, 75]), ForwardContext(training: false))
        #expect(features.shape == [1, 2048] && logits.shape == [1, 1008])
        let reference = try evaluate([features, logits]), device = try evaluate([features, logits], backend: try testBackend())
        for (i, name) in ["pool", "logits"].enumerated() {
            if let problem = mismatch(device[i], reference[i], Tolerance(atol: 1e-4, rtol: 1e-4), "Inception \(name)") {
                Issue.record("\(problem)")
            }
        }
        // A file of the wrong tensors: the error names the first missing ones and the file's digest.
        let dir = NSTemporaryDirectory() + "genocl-inception-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let wrong = Parameter("fc.bias", shape: [10], fill: 0)
        try writeSafetensors(SafetensorsFile(tensors: storedTensors([("fc.bias", wrong)]), metadata: [:]), to: dir + "/wrong.safetensors")
        let digest = sha256Hex([UInt8](FileManager.default.contents(atPath: dir + "/wrong.safetensors")!))
        var options = EvaluateOptions(features: "inception:" + dir + "/wrong.safetensors")
        (options.images, options.reference, options.count) = (dir, dir, 2)
        #expect { _ = try evaluate(options, backend: try testBackend(), log: { _ in }) } throws: {
            "\($0)".contains("Conv2d_1a_3x3.bn.bias") && "\($0)".contains(digest)
        }
        options.features = "inception"
        #expect { _ = try evaluate(options, backend: try testBackend(), log: { _ in }) } throws: {
            "\($0)".contains("GENOCL_INCEPTION") && "\($0)".contains("tools/convert-inception")
        }
    }
}

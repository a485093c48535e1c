import ArgumentParser
import Backends
import Foundation
import Training

extension Genocl {
    public struct Evaluate: ParsableCommand {
        public init() {}

        public static let configuration = CommandConfiguration(
            abstract: "Measure a generator's samples: FID, KID, precision/recall, Inception Score, class histogram.",
            discussion: """
                Draws --count samples from --checkpoint (or reads --images), encodes them and the reference images \
                (default: the run's training data) with --features, and writes evaluation.json and histogram.png \
                into the run folder (or --out). The default network is the FID Inception-v3 (tools/convert-inception makes its \
                weights file); offline on any labeled data, train a classifier instead: genocl train --model classifier --data DIR.
                """)

        @OptionGroup var deviceOptions: DeviceOptions
        @Option(help: "A generator's run folder (or checkpoint) to draw samples from.") var checkpoint: String?
        @Option(help: "Or images to judge: a folder, CSV or IDX folder.") var images: String?
        @Option(help: "Split of an IDX --images folder: train or t10k.") var imagesSplit = "train"
        @Option(help: "The real images to compare with (default: the run's --data).") var reference: String?
        @Option(help: "Split of an IDX --reference folder: train or t10k.") var referenceSplit = "train"
        @Option(help: "Samples to draw.") var count = 10000
        @Option(help: "Size to load --images and the reference at (default: the run's, else the network's input).")
        var imageSize: Int?
        @Option(
            help:
                "Feature network: inception (the FID Inception-v3; weights from $GENOCL_INCEPTION), inception:FILE, or classifier:RUN (a run of genocl train --model classifier)."
        ) var features = "inception"
        @Flag(help: "Sample the generator itself, not its moving average (netG_ema).") var noEma = false
        @Option(help: "Seed of the latents and of KID's subsets.") var seed: UInt64 = 1
        @Option(help: "KID: subsets drawn.") var kidSubsets = 100
        @Option(help: "KID: vectors per subset.") var kidSubsetSize = 1000
        @Option(help: "Precision/recall: the k of the k-nearest-neighbour balls.") var neighbours = 3
        @Option(help: "Folder for evaluation.json (default: the run folder).") var out: String?

        public func validate() throws {
            for (flag, split) in [("--images-split", imagesSplit), ("--reference-split", referenceSplit)]
            where !["train", "t10k"].contains(split) {
                throw ValidationError("\(flag) \(split): train or t10k")
            }
            if let imageSize, !(1...4096).contains(imageSize) { throw ValidationError("--image-size \(imageSize): 1 to 4096") }
            guard kidSubsets >= 1, kidSubsetSize >= 2, neighbours >= 1 else {
                throw ValidationError("--kid-subsets ≥ 1, --kid-subset-size ≥ 2 and --neighbours ≥ 1")
            }
        }

        public func run() throws {
            var options = EvaluateOptions(features: features)
            (options.checkpoint, options.images, options.imagesSplit, options.reference) = (checkpoint, images, imagesSplit, reference)
            (options.referenceSplit, options.count, options.movingAverage, options.seed) = (referenceSplit, count, !noEma, seed)
            (options.kidSubsets, options.kidSubsetSize, options.neighbours, options.output) = (kidSubsets, kidSubsetSize, neighbours, out)
            options.imageSize = imageSize
            let (report, files) = try Training.evaluate(
                options, backend: try makeBackend(try deviceOptions.single("evaluate")), log: { print($0) })
            print(evaluationSummary(report))
            print("wrote \(files.joined(separator: ", "))")
        }
    }
}

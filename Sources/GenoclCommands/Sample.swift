import ArgumentParser
import Foundation
import Backends
import Training

extension Genocl {
    public struct Sample: ParsableCommand {
        public init() {}

        public static let configuration = CommandConfiguration(
            abstract: "Generate images from a trained model (a genocl run folder or checkpoint, or a PyTorch DCGAN netG .safetensors).",
            discussion: """
                GANs and VAEs sample from their latent space (conditional models: one row per class, or --class).
                VAEs can also sample from k-means clusters of their encoded training images (--clusters, --refine),
                or perturb one image's latent (--perturb IMAGE --noise σ). pix2pix translates --input images.
                """)

        @OptionGroup var deviceOptions: DeviceOptions
        @Option(help: "A run folder, its checkpoints/ folder, a checkpoint folder, or netG.safetensors.") var checkpoint: String
        @Option(help: "How many images (ignored with --latents).") var count = 64
        @Option(help: "Output folder.") var out = "samples"
        @Option(help: "Draw latents from a normal truncated to ±T.") var truncation: Float?
        @Option(help: "Latent vectors [N, nz] from a NumPy .npy file.") var latents: String?
        @Flag(help: "Also write the raw float outputs [N, C, H, W] to samples.npy.") var saveNpy = false
        @Option(help: "Interpolation strips of K images between consecutive latents.") var interpolate = 0
        @Flag(help: "One PNG per image instead of grids.") var single = false
        @Option(help: "Seed of the latent vectors.") var seed: UInt64 = 1
        @Option(name: .customLong("class"), help: "Conditional models: the class of every image.") var classLabel: Int?
        @Option(help: "VAEs: sample from K k-means clusters of the encoded training images.") var clusters = 0
        @Option(help: "VAEs: feed each sample back through encoder and decoder N times.") var refine = 0
        @Option(help: "VAEs: perturb the latent of this image.") var perturb: String?
        @Option(help: "VAEs: standard deviation of the --perturb noise.") var noise: Float = 0.5
        @Option(help: "pix2pix: an image or folder of images to translate.") var input: String?
        @Option(help: "Pass the samples through this super-resolution run (genocl train --model srresnet), e.g. 64×64 to 256×256.")
        var upscale: String?
        @Flag(help: "Sample the generator itself, not its moving average (netG_ema), where the run kept one.") var noEma = false

        public func validate() throws {
            guard count > 0 else { throw ValidationError("--count must be positive") }
            if let truncation, truncation <= 0 { throw ValidationError("--truncation must be positive") }
            guard interpolate == 0 || interpolate >= 2 else { throw ValidationError("--interpolate needs at least 2 steps") }
            let limit = SampleOptions.maximumImages
            guard count <= limit, interpolate <= limit else {
                throw ValidationError("--count and --interpolate make at most \(limit) images per call, got \(max(count, interpolate))")
            }
            guard clusters >= 0, refine >= 0, noise >= 0 else { throw ValidationError("--clusters, --refine and --noise must be ≥ 0") }
        }

        public func run() throws {
            var options = SampleOptions(checkpoint: checkpoint)
            options.movingAverage = !noEma
            options.upscale = upscale
            (options.count, options.output, options.truncation, options.latents) = (count, out, truncation, latents)
            (options.saveNpy, options.interpolate, options.single, options.seed) = (saveNpy, interpolate, single, seed)
            (options.classLabel, options.clusters, options.refine, options.perturb, options.noise, options.input) = (
                classLabel, clusters, refine, perturb, noise, input
            )
            let files = try Training.sample(options, backend: try makeBackend(try deviceOptions.single("sample")))
            print(
                "wrote \(files.count) file(s) to \(out): \(files.prefix(3).map { ($0 as NSString).lastPathComponent }.joined(separator: ", "))\(files.count > 3 ? ", …" : "")"
            )
        }
    }
}

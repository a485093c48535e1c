import ArgumentParser
import Foundation
import Training

extension Genocl {
    public struct Sample: ParsableCommand {
        public init() {}

        public static let configuration = CommandConfiguration(
            abstract: "Generate images from a trained generator (a genocl run folder, checkpoint, or a PyTorch netG .safetensors).")

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

        public func validate() throws {
            guard count > 0 else { throw ValidationError("--count must be positive") }
            if let truncation, truncation <= 0 { throw ValidationError("--truncation must be positive") }
            guard interpolate == 0 || interpolate >= 2 else { throw ValidationError("--interpolate needs at least 2 steps") }
        }

        public func run() throws {
            var options = SampleOptions(checkpoint: checkpoint)
            (options.count, options.output, options.truncation, options.latents) = (count, out, truncation, latents)
            (options.saveNpy, options.interpolate, options.single, options.seed) = (saveNpy, interpolate, single, seed)
            let files = try sampleDCGAN(options, backend: try makeBackend(deviceOptions.device))
            print("wrote \(files.count) file(s) to \(out): \(files.prefix(3).map { ($0 as NSString).lastPathComponent }.joined(separator: ", "))\(files.count > 3 ? ", …" : "")")
        }
    }
}

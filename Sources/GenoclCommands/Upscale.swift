import ArgumentParser
import Backends
import Foundation
import Training

extension Genocl {
    public struct Upscale: ParsableCommand {
        public init() {}

        public static let configuration = CommandConfiguration(
            abstract: "Upscale images with a trained super-resolution run (genocl train --model srresnet).",
            discussion: "Each image is upscaled at its own size by the run's factor and written as a PNG of the same name.")

        @OptionGroup var deviceOptions: DeviceOptions
        @Option(help: "The super-resolution run folder, its checkpoints/ folder, or a checkpoint folder.") var checkpoint: String
        @Option(help: "An image, or a folder of images (PNG or JPEG).") var input: String
        @Option(help: "Output folder.") var out = "upscaled"

        public func run() throws {
            let files = try Training.upscale(
                checkpoint: checkpoint, input: input, output: out, backend: try makeBackend(try deviceOptions.single("upscale")))
            print(
                "wrote \(files.count) file(s) to \(out): \(files.prefix(3).map { ($0 as NSString).lastPathComponent }.joined(separator: ", "))\(files.count > 3 ? ", …" : "")"
            )
        }
    }
}

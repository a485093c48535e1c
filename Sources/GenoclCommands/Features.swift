import ArgumentParser
import Backends
import Foundation
import Training

extension Genocl {
    public struct Features: ParsableCommand {
        public init() {}

        public static let configuration = CommandConfiguration(
            abstract: "Compute a feature network's activations for images in a .npy file (VGG-16, the perceptual loss's network).",
            discussion:
                "Images are [N, 1 or 3, H, W] in [−1, 1]; weights from tools/convert-vgg16. tools/check-vgg16 compares them with torchvision's."
        )

        @OptionGroup var deviceOptions: DeviceOptions
        @Option(help: "The network and its weights: vgg16:FILE.") var network: String
        @Option(help: "The layer whose activations to write (relu1_1 … relu5_3).") var layer = "relu2_2"
        @Option(help: "Images [N, C, H, W] in [−1, 1] as a NumPy .npy file.") var input: String
        @Option(help: "Output .npy file.") var out = "features.npy"

        public func run() throws {
            guard network.hasPrefix("vgg16:"), network.count > 6 else {
                throw ValidationError("--network \(network): give vgg16:FILE (tools/convert-vgg16 makes FILE)")
            }
            let shape = try vggFeatures(
                weights: String(network.dropFirst(6)), layer: layer, input: input, output: out,
                backend: try makeBackend(try deviceOptions.single("features")))
            print("wrote \(out): \(shape.map(String.init).joined(separator: "×"))")
        }
    }
}

import ArgumentParser
import Backends
import Foundation
import Training

extension Genocl {
    public struct Features: ParsableCommand {
        public init() {}

        public static let configuration = CommandConfiguration(
            abstract: "Compute a feature network's activations for images in a .npy file (VGG-16; evaluation's networks).",
            discussion:
                "Images are [N, 1 or 3, H, W] in [−1, 1]. vgg16:FILE (tools/convert-vgg16; tools/check-vgg16 compares with torchvision) writes a layer's activations; inception:FILE (tools/convert-inception; tools/check-inception compares with pytorch-fid) and classifier:RUN write the pool features (--layer pool) or class probabilities (--layer probabilities) as evaluation computes them."
        )

        @OptionGroup var deviceOptions: DeviceOptions
        @Option(help: "The network and its weights: vgg16:FILE, inception:FILE or classifier:RUN.") var network: String
        @Option(help: "What to write: VGG-16's relu1_1 … relu5_3; evaluation networks' pool or probabilities.") var layer = "relu2_2"
        @Option(help: "Images [N, C, H, W] in [−1, 1] as a NumPy .npy file.") var input: String
        @Option(help: "Output .npy file.") var out = "features.npy"

        public func run() throws {
            let backend = try makeBackend(try deviceOptions.single("features"))
            if network.hasPrefix("inception") || network.hasPrefix("classifier:") {
                let shape = try evaluationFeatures(network: network, layer: layer, input: input, output: out, backend: backend)
                print("wrote \(out): \(shape.map(String.init).joined(separator: "×"))")
                return
            }
            guard network.hasPrefix("vgg16:"), network.count > 6 else {
                throw ValidationError(
                    "--network \(network): give vgg16:FILE (tools/convert-vgg16 makes FILE), inception:FILE or classifier:RUN")
            }
            let shape = try vggFeatures(
                weights: String(network.dropFirst(6)), layer: layer, input: input, output: out,
                backend: backend)
            print("wrote \(out): \(shape.map(String.init).joined(separator: "×"))")
        }
    }
}

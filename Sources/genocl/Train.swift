import ArgumentParser
import CPUReference
import Foundation
import Training

extension Genocl {
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a model (for now: the engine demo, a dense GAN on Fashion-MNIST).",
            discussion: """
                Until the OpenCL backend lands, every computation runs on the CPU reference \
                backend, and --device accepts only 0 or cpu-reference.
                """)

        @Option(help: "Device: 0 (the default device) or cpu-reference.")
        var device = "0"
        @Option(help: "A directory of MNIST-layout IDX files.")
        var data = "/usr/share/datasets/fashion-mnist"
        @Option(help: "Training steps (one discriminator and one generator update each).")
        var steps = 300
        @Option(help: "Images per batch.")
        var batchSize = 64
        @Option(help: "Seed of weights, noise and shuffling.")
        var seed: UInt64 = 1
        @Option(help: "Output directory (sample grid).")
        var out = "runs/engine-demo"

        func validate() throws {
            guard device == "0" || device == "cpu-reference" else {
                throw ValidationError("--device \(device): only 0 and cpu-reference exist until the OpenCL backend lands")
            }
            guard steps > 0 else { throw ValidationError("--steps must be positive") }
            guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        }

        func run() throws {
            var options = EngineDemoOptions()
            (options.dataDirectory, options.steps, options.batchSize, options.seed, options.outputDirectory) = (data, steps, batchSize, seed, out)
            // Unbuffered, so that progress shows up at once in logs and pipes too.
            let log = { (line: String) in FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
            log("genocl engine demo on cpu-reference (the OpenCL backend is not built yet)")
            _ = try runEngineDemo(options, backend: CPUBackend(), log: log)
        }
    }
}

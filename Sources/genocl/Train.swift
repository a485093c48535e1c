import ArgumentParser
import OpenCLBackend
import Foundation
import Training

extension Genocl {
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a model (for now: the engine demo, a dense GAN on Fashion-MNIST).")

        @OptionGroup var deviceOptions: DeviceOptions
        @Option(help: "A directory of MNIST-layout IDX files.")
        var data = "/usr/share/datasets/fashion-mnist"
        @Option(help: "Training steps (one discriminator and one generator update each).")
        var steps = 1000
        @Option(help: "Images per batch.")
        var batchSize = 64
        @Option(help: "Seed of weights, noise and shuffling.")
        var seed: UInt64 = 1
        @Option(help: "Output directory (sample grid).")
        var out = "runs/engine-demo"

        func validate() throws {
            guard steps > 0 else { throw ValidationError("--steps must be positive") }
            guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        }

        func run() throws {
            var options = EngineDemoOptions()
            (options.dataDirectory, options.steps, options.batchSize, options.seed, options.outputDirectory) = (data, steps, batchSize, seed, out)
            // Unbuffered, so that progress shows up at once in logs and pipes too.
            let log = { (line: String) in FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
            let backend = try makeBackend(deviceOptions.device)
            log("genocl engine demo on \(backend.deviceDescription)")
            _ = try runEngineDemo(options, backend: backend, log: log)
            if let openCL = backend as? OpenCLBackend, openCL.queue.profiling { log(try openCL.profileReport()) }
        }
    }
}

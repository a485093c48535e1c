import ArgumentParser
import Foundation
import Backends
import Training

extension Genocl {
    public struct Bench: ParsableCommand {
        public init() {}

        public static let configuration = CommandConfiguration(
            abstract: "Time real training iterations of the models on synthetic data on one device, or split across several.",
            discussion: """
                Workloads: \(BenchWorkload.all.map(\.name).joined(separator: ", ")) (default: dcgan64). \
                An iteration is one training step: for wgan-gp64, 5 critic steps and 1 generator step. \
                Warm-up iterations are excluded; the first one (kernel builds, convolution timing) is reported apart. \
                Kernel times come from OpenCL profiling events, which are on during the run. \
                With several devices (--device 0,1), each workload runs on the first alone, then with its batch split across all of them.
                """)

        @OptionGroup var deviceOptions: DeviceOptions
        @Argument(help: "Workloads to run, or all.") var workloads: [String] = ["dcgan64"]
        @Option(help: "Timed iterations per workload (at least 5).") var iterations = 5
        @Option(help: "Warm-up iterations (the first included), not timed.") var warmup = 2
        @Flag(help: "Print JSON (device rates and one object per workload) instead of text.") var json = false
        @Flag(help: "Skip measuring the device's GEMM and peak rates (the fractions are then unknown).") var skipRates = false
        @Option(
            name: .customLong("gemm"),
            help: ArgumentHelp(
                "Time these GEMM shapes instead of workloads: the rate as training runs it, with B packed into panels and not.",
                valueName: "MxNxK"))
        var gemmShapes: [String] = []
        @Option(help: ArgumentHelp("Time the data loader alone on this image folder instead of workloads.", valueName: "folder"))
        var loader: String?
        @Option(help: "--loader: the size images are decoded to, and (--resolution) the size batches are filtered down to.")
        var imageSize = 256
        @Option(help: "--loader: the batches' size.") var resolution: Int?
        @Option(help: "--loader: images per batch.") var batchSize = 16
        @Flag(
            help:
                "Time a real run instead of workloads: genocl train's defaults (DCGAN on Fashion-MNIST) through the whole training loop, between two benches of dcgan28, the same network."
        )
        var real = false
        @Option(help: "--real: steps of the run (default: one epoch, 937 steps).") var steps: Int?

        var parsedGEMMShapes: [(m: Int, n: Int, k: Int)] {
            gemmShapes.compactMap { text in
                let sizes = text.split(separator: "x", omittingEmptySubsequences: false).map { Int($0) ?? 0 }
                return sizes.count == 3 && sizes.allSatisfy { $0 > 0 } ? (sizes[0], sizes[1], sizes[2]) : nil
            }
        }

        var selected: [BenchWorkload] {
            workloads == ["all"] ? BenchWorkload.all : workloads.compactMap { name in BenchWorkload.all.first { $0.name == name } }
        }

        public func validate() throws {
            let known = Set(BenchWorkload.all.map(\.name))
            if let unknown = workloads.first(where: { $0 != "all" && !known.contains($0) }) {
                throw ValidationError("\(unknown): workloads are \(BenchWorkload.all.map(\.name).joined(separator: ", ")), or all")
            }
            if parsedGEMMShapes.count != gemmShapes.count {
                throw ValidationError(
                    "--gemm takes MxNxK with three positive sizes (an [M, K] · [K, N] product), e.g. 512x961x4096; got \(gemmShapes.joined(separator: " "))"
                )
            }
            if !gemmShapes.isEmpty && json { throw ValidationError("--gemm prints text only; leave out --json") }
            if loader != nil {
                guard imageSize > 0, batchSize > 0, imageSize <= 1 << 14, batchSize <= 1 << 20 else {
                    throw ValidationError("--image-size and --batch-size must be positive")
                }
                if let resolution, resolution <= 0 || imageSize % resolution != 0 {
                    throw ValidationError(
                        "--resolution \(resolution) must divide --image-size \(imageSize) (batches are box-filtered down)")
                }
            }
            if real && (loader != nil || !gemmShapes.isEmpty || workloads != ["dcgan64"]) {
                throw ValidationError(
                    "--real times genocl train's default run (and dcgan28's bench); leave out workloads, --gemm and --loader")
            }
            if let steps, steps < 1 || !real { throw ValidationError("--steps is for --real, and at least 1") }
            guard iterations >= 5 else { throw ValidationError("--iterations must be at least 5, got \(iterations)") }
            guard warmup >= 1 else { throw ValidationError("--warmup must be at least 1 (the first iteration builds kernels)") }
        }

        struct Report: Codable {
            var genoclVersion: String
            var date: String
            var rates: DeviceRates
            var results: [BenchResult]
        }

        public func run() throws {
            if real {
                // No profiling events: the run and its benches as `genocl train` runs.
                let backends = try makeBackends(deviceOptions.devices, profiling: false)
                // Benches of at least 30 iterations: their mean is what the run is compared with.
                let result = try runRealBench(steps: steps, benchIterations: max(iterations, 30), backends: backends)
                if json {
                    try printJSON(result)
                } else {
                    print(devicesDescription(backends))
                    print(result.description)
                }
                return
            }
            if let loader {
                let result = try benchLoader(loader, size: imageSize, channels: 3, batchSize: batchSize, resolution: resolution)
                print(
                    "loader on \(loader) at \(imageSize)×\(imageSize)\(resolution.map { ", batches at \($0)×\($0)" } ?? ""): \(result.description)"
                )
                return
            }
            let backends = try makeBackends(deviceOptions.devices, profiling: true)
            let backend = backends[0]
            if !gemmShapes.isEmpty {
                print(backend.deviceDescription)
                for shape in parsedGEMMShapes { print("  " + (try benchGEMM(m: shape.m, n: shape.n, k: shape.k, backend: backend))) }
                return
            }
            let rates = skipRates ? DeviceRates(device: backend.deviceDescription) : try measureDeviceRates(backend)
            if !json {
                print("\(rates.device)")
                print(
                    "  GEMM \(rates.gemmSize.map { "\($0)³" } ?? ""): \(rates.gemmGFLOPs.map { String(format: "%.1f GFLOP/s", $0) } ?? "not measured"); measured fp32 multiply-add peak: \(rates.peakGFLOPs.map { String(format: "%.1f GFLOP/s", $0) } ?? "not measured"); nominal: \(rates.nominalPeakGFLOPs.map { String(format: "%.0f GFLOP/s", $0) } ?? "unknown")"
                )
            }
            var results: [BenchResult] = []
            for workload in selected {
                let result = try runBench(workload, iterations: iterations, warmup: warmup, backend: backend, rates: rates)
                results.append(result)
                if !json { print(formatBench(result)) }
                guard backends.count > 1 else { continue }
                guard workload.options.batchSize % backends.count == 0 else {
                    if !json {
                        print(
                            "  \(workload.name): its batch of \(workload.options.batchSize) does not split across \(backends.count) devices; not run split"
                        )
                    }
                    continue
                }
                // The same global batch across every device named, beside the first alone.
                let split = try runBench(workload, iterations: iterations, warmup: warmup, backends: backends, rates: rates)
                results.append(split)
                if !json {
                    print(formatBench(split))
                    print(
                        String(
                            format: "  scaling: %.1f images/s on %d devices, %.1f on one: %.2f× (efficiency %.0f %%)",
                            split.imagesPerSecond, backends.count, result.imagesPerSecond, split.imagesPerSecond / result.imagesPerSecond,
                            100 * split.imagesPerSecond / result.imagesPerSecond / Double(backends.count)))
                }
            }
            if json {
                let date = ISO8601DateFormatter().string(from: Date())
                try printJSON(Report(genoclVersion: genoclVersion, date: date, rates: rates, results: results))
            }
        }

        /// `value` as indented JSON with sorted keys on standard output.
        private func printJSON(_ value: some Encodable) throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(value), as: UTF8.self))
        }
    }
}

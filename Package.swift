// swift-tools-version:6.0
import PackageDescription

/// C libraries come from Debian's `-dev` packages (see README "Quick start").
func systemLibrary(_ name: String, pkgConfig: String, apt: String) -> Target {
    .systemLibrary(name: name, pkgConfig: pkgConfig, providers: [.apt([apt])])
}

let package = Package(
    name: "genocl",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "genocl", targets: ["genocl"]),
        .library(name: "TensorGraph", targets: ["TensorGraph"]),
        .library(name: "CPUReference", targets: ["CPUReference"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
    ],
    targets: [
        systemLibrary("COpenCL", pkgConfig: "OpenCL", apt: "ocl-icd-opencl-dev"),
        systemLibrary("CCLBlast", pkgConfig: "clblast", apt: "libclblast-dev"),
        systemLibrary("CPNG", pkgConfig: "libpng16", apt: "libpng-dev"),
        systemLibrary("CTurboJPEG", pkgConfig: "libturbojpeg", apt: "libturbojpeg0-dev"),
        systemLibrary("CZlib", pkgConfig: "zlib", apt: "zlib1g-dev"),
        systemLibrary("CMPI", pkgConfig: "ompi-c", apt: "libopenmpi-dev"),
        systemLibrary("CCairo", pkgConfig: "cairo", apt: "libcairo2-dev"),
        systemLibrary("CLAPACK", pkgConfig: "openblas", apt: "libopenblas-dev liblapacke-dev"),

        .target(name: "TensorGraph"),
        .target(
            name: "CPUReference", dependencies: ["TensorGraph"],
            // The oracle runs in every test: optimize it in debug builds too (the DCGAN step test: 115 s → 27 s).
            swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .target(name: "Datasets", dependencies: ["TensorGraph", "CZlib", "CPNG", "CTurboJPEG"]),
        .target(name: "NeuralNet", dependencies: ["TensorGraph"]),
        .target(name: "GenerativeModels", dependencies: ["TensorGraph", "NeuralNet", "Datasets"]),
        .target(name: "OpenCLRuntime", dependencies: ["COpenCL", "CZlib"]),
        .executableTarget(name: "EmbedKernelsTool"),
        .plugin(name: "EmbedKernels", capability: .buildTool(), dependencies: ["EmbedKernelsTool"]),
        .target(
            name: "OpenCLBackend", dependencies: ["TensorGraph", "OpenCLRuntime", "CCLBlast", "COpenCL"],
            plugins: ["EmbedKernels"]),
        // Charts and captions drawn by Cairo (PNG) and as SVG markup.
        .target(name: "Plots", dependencies: ["CCairo"]),
        // FID, KID, precision/recall and class statistics of feature vectors (OpenBLAS, LAPACKE).
        .target(
            name: "Evaluation", dependencies: ["CLAPACK", "TensorGraph"],
            // SHA-256 of a 91 MB Inception file and the statistics' loops: optimized in debug builds too.
            swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .target(name: "Training", dependencies: ["TensorGraph", "NeuralNet", "GenerativeModels", "Datasets", "Plots", "Evaluation"]),
        // Ranks of an `mpirun` launch and their all-reduce (Open MPI).
        .target(name: "Distributed", dependencies: ["TensorGraph", "CMPI"]),
        // Choosing and opening a backend, and what only OpenCL devices measure: the CLI's side.
        .target(name: "Backends", dependencies: ["Training", "TensorGraph", "CPUReference", "OpenCLBackend", "OpenCLRuntime"]),
        .target(
            name: "GenoclCommands",
            dependencies: [
                "Training", "GenerativeModels", "Backends", "Datasets", "TensorGraph", "Distributed",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(name: "genocl", dependencies: ["GenoclCommands"]),

        // Test helpers, linked by the test targets only (not part of the genocl product).
        .target(
            name: "TestSupport", dependencies: ["TensorGraph", "CPUReference", "OpenCLBackend", "OpenCLRuntime"], path: "Tests/TestSupport"),
        .testTarget(
            name: "OpenCLBackendTests",
            dependencies: ["TensorGraph", "CPUReference", "OpenCLBackend", "OpenCLRuntime", "NeuralNet", "TestSupport"]),
        .testTarget(name: "TensorGraphTests", dependencies: ["TensorGraph", "CPUReference", "NeuralNet", "TestSupport"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "CZlib", "CPNG", "CTurboJPEG", "TestSupport"]),
        .testTarget(
            name: "GenoclCommandsTests",
            dependencies: [
                "GenoclCommands", "Training", "GenerativeModels", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .testTarget(
            name: "TrainingTests",
            dependencies: [
                "Training", "Backends", "Datasets", "GenerativeModels", "NeuralNet", "TensorGraph", "CPUReference", "OpenCLBackend",
                "CZlib", "TestSupport", "Evaluation",
            ]),
        .testTarget(name: "NeuralNetTests", dependencies: ["NeuralNet", "TensorGraph", "CPUReference", "TestSupport"]),
        .testTarget(name: "PlotsTests", dependencies: ["Plots", "Datasets"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "TensorGraph"]),
    ]
)

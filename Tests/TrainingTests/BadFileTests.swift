import Foundation
import GenerativeModels
import Testing
import TensorGraph
import Training

/// Latent, weight and generator files whose sizes or names would trap (issue 19): clear errors.
@Suite struct BadFileTests {
    /// A .npy file of float32 with `shape` written as given in the header, and `values`.
    func npy(_ shapeText: String, values: Int = 0) -> [UInt8] {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
        let length = UInt16(header.utf8.count)
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 255), UInt8(length >> 8)] + Array(header.utf8)
            + [UInt8](repeating: 0, count: 4 * values)
    }

    @Test func npyShapesThatDoNotFitAreClearErrors() throws {
        for shape in ["(-1, 100)", "(4611686018427387904, 4)", "(3, x)"] {
            #expect(throws: (any Error).self, "\(shape)") { try decodeNpy(npy(shape), path: "z.npy") }
            do { _ = try decodeNpy(npy(shape), path: "z.npy") } catch {
                #expect("\(error)".contains("is not a list of sizes ≥ 0 whose product fits"), "\(shape): \(error)")
            }
        }
        #expect(try decodeNpy(npy("(0, 100)"), path: "z.npy").shape == [0, 100])
        // No latent vector at all is refused when sampling (not a device error).
        let data = try writeTinyDataset()
        try trainTiny(data, folder: data + "/run", steps: 1)
        try Data(npy("(0, 8)")).write(to: URL(fileURLWithPath: data + "/z.npy"))
        var options = SampleOptions(checkpoint: data + "/run")
        (options.latents, options.output) = (data + "/z.npy", data + "/out")
        #expect { try Training.sample(options, backend: testBackend()) } throws: { "\($0)".contains("do not fit a latent size of 8") }
        // Work beyond the limit is refused before it starts.
        try Data(encodeNpy([Float](repeating: 0, count: 24), shape: [3, 8])).write(to: URL(fileURLWithPath: data + "/z.npy"))
        options.interpolate = 10_000
        #expect { try Training.sample(options, backend: testBackend()) } throws: { "\($0)".contains("writes at most 16384 per call") }
    }

    @Test func safetensorsShapesBeyondTheFileAreClearErrors() throws {
        let json = #"{"w":{"dtype":"F32","shape":[4611686018427387904,4,1,1],"data_offsets":[0,16]}}"#
        let header = Array(json.utf8)
        let bytes = (0..<8).map { UInt8(header.count >> (8 * $0) & 255) } + header + [UInt8](repeating: 0, count: 16)
        let path = NSTemporaryDirectory() + "genocl-bad-\(UUID().uuidString).safetensors"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect { try readSafetensors(path) } throws: { "\($0)".contains("holds more values than the file has bytes") }
    }

    /// A generator saved without a run folder: DataParallel's `module.` prefix is stripped;
    /// names or layer counts that are not a DCGAN's are a clear error.
    @Test func bareGeneratorsAreRecognizedOrRefused() throws {
        let data = try writeTinyDataset()
        try trainTiny(data, folder: data + "/run", steps: 1)
        let (checkpoint, folder) = try Checkpoint.load(data + "/run")
        let generator = try checkpoint.file("netG", in: folder)
        func bare(_ name: String, _ tensors: [String: StoredTensor]) throws -> SampleOptions {
            try FileManager.default.createDirectory(atPath: data + "/" + name, withIntermediateDirectories: true)
            try writeSafetensors(SafetensorsFile(tensors: tensors), to: data + "/\(name)/netG.safetensors")
            var options = SampleOptions(checkpoint: data + "/\(name)/netG.safetensors")
            (options.count, options.output) = (4, data + "/\(name)/out")
            return options
        }
        let prefixed = Dictionary(uniqueKeysWithValues: generator.tensors.map { ("module." + $0.key, $0.value) })
        #expect(try Training.sample(bare("parallel", prefixed), backend: testBackend()).count == 1)
        let weight = generator.tensors["main.0.weight"]!
        let cases: [(String, [String: StoredTensor])] = [
            (
                "squashed",
                Dictionary(uniqueKeysWithValues: generator.tensors.map { ($0.key.replacingOccurrences(of: ".", with: ""), $0.value) })
            ),
            ("single", ["main.0.weight": weight]),
            ("deep", Dictionary(uniqueKeysWithValues: (0..<30).map { ("main.\(3 * $0).weight", weight) })),
            (
                "channels",
                generator.tensors.merging(["main.9.weight": .float32([Float](repeating: 0, count: 8 * 2 * 16), shape: [8, 2, 4, 4])]) { $1 }
            ),
        ]
        for (name, tensors) in cases {
            #expect(throws: (any Error).self, "\(name)") { try Training.sample(bare(name, tensors), backend: testBackend()) }
            do { _ = try Training.sample(bare(name, tensors), backend: testBackend()) } catch {
                #expect("\(error)".contains("netG.safetensors"), "\(name): \(error)")
            }
        }
    }

    /// Widths within the flags' limits whose weights would not fit in memory are refused
    /// before any weight is drawn (cause 8): measured on the model's shapes-only twin.
    @Test(arguments: ModelKind.allCases)
    func modelsTooBigForMemoryAreRefused(_ model: ModelKind) throws {
        var options = tinyModelOptions(model, data: "unused")
        (options.generatorWidth, options.discriminatorWidth) = (60_000, 60_000)
        if options.growth != nil { (options.growth!.featureBase, options.growth!.featureMax) = (60_000, 60_000) }
        #expect(options.problem() == nil)
        #expect { try model.make(options, classes: 10) } throws: { "\($0)".contains("with their optimizer state, more than the") }
        // The twin has the model's shapes and no values; building it draws no weights.
        options = tinyModelOptions(model, data: "unused")
        let twin = try Parameter.measuring { try model.make(options, classes: 10) }
        let real = try model.make(options, classes: 10)
        let shapes = { (m: any GenerativeModel) in m.networks.flatMap { $0.module.stateDict() }.map { "\($0.name) \($0.parameter.shape)" } }
        #expect(shapes(twin) == shapes(real) && !shapes(real).isEmpty)
        #expect(twin.networks.allSatisfy { $0.module.stateDict().allSatisfy(\.parameter.value.isEmpty) })
        let values = { (m: any GenerativeModel) in m.networks.flatMap { $0.module.stateDict() }.map(\.parameter.value) }
        #expect(values(real) == values(try model.make(options, classes: 10)))
    }
}

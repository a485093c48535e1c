import ArgumentParser
import Backends
import Training

/// The `genocl` command line: one file per subcommand. The executable target only calls `Genocl.main()`.
public struct Genocl: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "genocl",
        abstract: "Train generative image models on any OpenCL device.",
        version: genoclVersion,
        subcommands: [Train.self, Sample.self, Bench.self, Devices.self])
}

/// `--device`, shared by every command that computes.
struct DeviceOptions: ParsableArguments {
    @Option(help: "An OpenCL device index (see `genocl devices`), or cpu-reference. Default: $GENOCL_DEVICE, else 0.")
    var device: String = defaultDeviceSpec

    func validate() throws {
        guard device == "cpu-reference" || (Int(device) ?? -1) >= 0 else {
            throw ValidationError("--device \(device): expected an OpenCL device index (see `genocl devices`) or cpu-reference")
        }
    }
}

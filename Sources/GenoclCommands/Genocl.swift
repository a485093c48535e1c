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
        subcommands: [Train.self, Sample.self, Upscale.self, Evaluate.self, Bench.self, Report.self, Features.self, Devices.self])
}

/// `--device`, shared by every command that computes.
struct DeviceOptions: ParsableArguments {
    @Option(
        help:
            "An OpenCL device index (see `genocl devices`), or cpu-reference; train and bench take several joined by commas (0,1,2,3) and split each batch across them. Default: $GENOCL_DEVICE, else 0."
    )
    var device: String = defaultDeviceSpec

    /// The devices named, in order.
    var devices: [String] { device.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }

    func validate() throws {
        if let problem = deviceListProblem(devices) { throw ValidationError(problem) }
    }

    /// The one device of a command that runs on one.
    func single(_ command: String) throws -> String {
        guard devices.count == 1 else {
            throw ValidationError("--device \(device): genocl \(command) runs on one device; name one index")
        }
        return device
    }
}

import ArgumentParser
import Training

@main
struct Genocl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "genocl",
        abstract: "Train generative image models on any OpenCL device.",
        version: "0.1.0",
        subcommands: [Train.self, Sample.self, Devices.self])
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

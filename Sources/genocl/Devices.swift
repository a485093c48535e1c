import ArgumentParser
import Training

extension Genocl {
    struct Devices: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List OpenCL platforms and devices; --device N selects one by its index.")

        func run() throws {
            print(try describeDevices())
        }
    }
}

import ArgumentParser
import Backends
import Training

extension Genocl {
    public struct Devices: ParsableCommand {
        public init() {}

        public static let configuration = CommandConfiguration(
            abstract: "List OpenCL platforms and devices; --device N selects one by its index.")

        public func run() throws {
            print(try describeDevices())
        }
    }
}

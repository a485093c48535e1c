import Foundation
import OpenCLBackend
import OpenCLRuntime
import TensorGraph
import TestSupport
import Testing

@Suite(.enabled(if: openCLTestsEnabled, "no OpenCL device"))
struct OpenCLRuntimeTests {
    func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "genocl-cache-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func devicesAreListedWithTheirFacts() throws {
        let devices = try listDevices()
        #expect(!devices.isEmpty)
        for (i, device) in devices.enumerated() {
            #expect(device.index == i && !device.name.isEmpty && device.computeUnits > 0 && device.maxWorkGroupSize > 0)
            #expect(device.openCLCVersion.hasPrefix("OpenCL C"))
        }
    }

    @Test func programBinariesAreCachedAndCorruptEntriesRebuilt() throws {
        let dir = try temporaryDirectory()
        // A source no other test uses, so this process has not built it yet.
        let source = try kernelSource() + "\n// cache test \(UUID().uuidString)\n"
        let device = try OpenCLDevice.open(testDeviceIndex)
        let first = try CommandQueue(device: device, source: source, cache: ProgramCache(directory: dir))
        #expect(first.programOrigin == .compiled)
        let entries = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".clbin") }
        #expect(entries.count == 1)
        #expect(try CommandQueue(device: device, source: source, cache: ProgramCache(directory: dir)).programOrigin == .diskCache)
        #expect(try CommandQueue(device: device, source: source + " ", cache: ProgramCache(directory: dir)).programOrigin == .compiled)

        // Corrupt the binary: the entry is not trusted, the program is rebuilt and rewritten.
        let path = dir + "/" + entries[0]
        var bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        for i in stride(from: bytes.count / 2, to: bytes.count, by: 97) { bytes[i] ^= 0xFF }
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        let rebuilt = try CommandQueue(device: device, source: source, cache: ProgramCache(directory: dir))
        #expect(rebuilt.programOrigin == .compiled)
        #expect(try CommandQueue(device: device, source: source, cache: ProgramCache(directory: dir)).programOrigin == .diskCache)
        // Truncated to nothing: rebuilt too.
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        #expect(try CommandQueue(device: device, source: source, cache: ProgramCache(directory: dir)).programOrigin == .compiled)
        // The rebuilt program computes.
        let backend = try OpenCLBackend(device: testDeviceIndex, kernelSource: source, cache: ProgramCache(directory: dir))
        let g = Graph()
        #expect(try Session(backend: backend).plan(fetches: [g.constant([1, 2], [2]) * 3]).run() == [[3, 6]])
    }

    @Test func kernelBuildFailureShowsTheLog() throws {
        let device = try OpenCLDevice.open(testDeviceIndex)
        #expect {
            try CommandQueue(
                device: device, source: "__kernel void broken(__global float *x) { x[0] = no_such_symbol; }",
                cache: ProgramCache(directory: try temporaryDirectory()))
        } throws: { error in
            let text = "\(error)"
            return text.contains("clBuildProgram failed with CL_BUILD_PROGRAM_FAILURE") && text.contains("no_such_symbol")
        }
    }

    @Test func allocationsBeyondTheDeviceLimitNameTheTensor() throws {
        let backend = try makeTestBackend()
        let limit = backend.queue.device.info.maxAllocation
        #expect {
            try backend.allocate(elements: limit / 4 + 1, label: "feed 'images' [4096, 3, 256, 256]")
        } throws: { error in
            let text = "\(error)"
            return text.contains("feed 'images' [4096, 3, 256, 256]") && text.contains("largest allocation")
                && text.contains("smaller batch")
        }
        let g = Graph()
        let huge = g.placeholder("images", [limit / 4 / 1024 + 1, 1024])
        #expect { try Session(backend: backend).plan(fetches: [huge * 2]) } throws: { "\($0)".contains("feed 'images'") }
        // Many allowed allocations that together exceed global memory: refused at the one that overflows.
        let memory = backend.queue.device.info.globalMemory
        let chunk = min(limit, memory / 3) / 4
        let before = backend.queue.allocatedBytes
        var held: [any DeviceBuffer] = []
        #expect {
            for i in 0..<8 { held.append(try backend.allocate(elements: chunk, label: "activation \(i)")) }
        } throws: { "\($0)".contains("already in use") && "\($0)".contains("global memory") }
        held.removeAll()
        #expect(backend.queue.allocatedBytes == before)
    }

    @Test func missingDeviceIsAClearError() {
        #expect { try OpenCLDevice.open(999) } throws: { "\($0)".contains("there is no device 999") }
    }
}

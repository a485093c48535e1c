// OpenCL platforms and devices: enumeration and the facts `genocl devices` shows.
import COpenCL
import Foundation

/// One OpenCL device, with its global index across all platforms (what `--device N` selects).
public struct DeviceInfo: Sendable {
    public let index: Int
    public let platformName: String
    public let platformVersion: String
    public let name: String
    public let type: String
    public let vendor: String
    public let driverVersion: String
    public let openCLCVersion: String
    public let computeUnits: Int
    public let clockMHz: Int
    public let globalMemory: Int
    public let localMemory: Int
    public let maxAllocation: Int
    public let maxWorkGroupSize: Int
    public let fp16: Bool
    /// Single-precision fused multiply-add in hardware (`CL_FP_FMA` and not `CL_FP_SOFT_FLOAT`):
    /// kernels then use `fma` where they would otherwise leave `mad` to the compiler.
    public let fusedMultiplyAdd: Bool
    let id: DeviceID
}

/// A `cl_device_id`; device ids live as long as the platform and need no release.
struct DeviceID: @unchecked Sendable {
    let raw: cl_device_id
}

private func infoString(_ query: (Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> cl_int) -> String {
    var size = 0
    guard query(0, nil, &size) == CL_SUCCESS, size > 0 else { return "" }
    var bytes = [UInt8](repeating: 0, count: size)
    guard query(size, &bytes, nil) == CL_SUCCESS else { return "" }
    return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self).trimmingCharacters(in: " ")
}

private extension String {
    func trimmingCharacters(in set: Character) -> String {
        String(drop { $0 == set }.reversed().drop { $0 == set }.reversed())
    }
}

func deviceString(_ device: cl_device_id, _ param: Int32) -> String {
    infoString { clGetDeviceInfo(device, cl_device_info(param), $0, $1, $2) }
}

func deviceValue<T: BitwiseCopyable>(_ device: cl_device_id, _ param: Int32, _ zero: T) -> T {
    var value = zero
    _ = clGetDeviceInfo(device, cl_device_info(param), MemoryLayout<T>.size, &value, nil)
    return value
}

private nonisolated(unsafe) var cachedDevices: [DeviceInfo]?
private let enumerationLock = NSLock()

/// Every device of every platform, in platform order, enumerated once per process
/// (serialized: concurrent first enumerations through the ICD loader were seen to
/// return no device on PoCL). No platform at all is an error that says how to get one.
public func listDevices() throws -> [DeviceInfo] {
    enumerationLock.lock()
    defer { enumerationLock.unlock() }
    if let cachedDevices { return cachedDevices }
    let devices = try enumerateDevices()
    if !devices.isEmpty { cachedDevices = devices }
    return devices
}

private func enumerateDevices() throws -> [DeviceInfo] {
    var platformCount: cl_uint = 0
    let status = clGetPlatformIDs(0, nil, &platformCount)
    if status == CL_PLATFORM_NOT_FOUND_KHR_VALUE || platformCount == 0 {
        throw OpenCLError(
            "clGetPlatformIDs", status,
            "no OpenCL platform found. The ICD loader (libOpenCL.so.1) found no driver in /etc/OpenCL/vendors: "
                + "install your GPU's OpenCL driver, or PoCL for the CPU (Debian: apt-get install pocl-opencl-icd), "
                + "or run with --device cpu-reference")
    }
    try check(status, "clGetPlatformIDs")
    var platforms = [cl_platform_id?](repeating: nil, count: Int(platformCount))
    try check(clGetPlatformIDs(platformCount, &platforms, nil), "clGetPlatformIDs")
    var result: [DeviceInfo] = []
    for case let platform? in platforms {
        let platformName = infoString { clGetPlatformInfo(platform, cl_platform_info(CL_PLATFORM_NAME), $0, $1, $2) }
        let platformVersion = infoString { clGetPlatformInfo(platform, cl_platform_info(CL_PLATFORM_VERSION), $0, $1, $2) }
        var count: cl_uint = 0
        guard clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), 0, nil, &count) == CL_SUCCESS, count > 0 else { continue }
        var devices = [cl_device_id?](repeating: nil, count: Int(count))
        try check(clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), count, &devices, nil), "clGetDeviceIDs")
        for case let device? in devices {
            let type = deviceValue(device, CL_DEVICE_TYPE, cl_device_type(0))
            let typeName =
                type & cl_device_type(CL_DEVICE_TYPE_GPU) != 0
                ? "GPU"
                : type & cl_device_type(CL_DEVICE_TYPE_CPU) != 0
                    ? "CPU"
                    : type & cl_device_type(CL_DEVICE_TYPE_ACCELERATOR) != 0 ? "accelerator" : "other"
            let extensions = deviceString(device, CL_DEVICE_EXTENSIONS)
            let floatConfig = deviceValue(device, CL_DEVICE_SINGLE_FP_CONFIG, cl_device_fp_config(0))
            result.append(
                DeviceInfo(
                    index: result.count, platformName: platformName, platformVersion: platformVersion,
                    name: deviceString(device, CL_DEVICE_NAME), type: typeName, vendor: deviceString(device, CL_DEVICE_VENDOR),
                    driverVersion: deviceString(device, CL_DRIVER_VERSION),
                    openCLCVersion: deviceString(device, CL_DEVICE_OPENCL_C_VERSION),
                    computeUnits: Int(deviceValue(device, CL_DEVICE_MAX_COMPUTE_UNITS, cl_uint(0))),
                    clockMHz: Int(deviceValue(device, CL_DEVICE_MAX_CLOCK_FREQUENCY, cl_uint(0))),
                    globalMemory: Int(deviceValue(device, CL_DEVICE_GLOBAL_MEM_SIZE, cl_ulong(0))),
                    localMemory: Int(deviceValue(device, CL_DEVICE_LOCAL_MEM_SIZE, cl_ulong(0))),
                    maxAllocation: Int(deviceValue(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, cl_ulong(0))),
                    maxWorkGroupSize: deviceValue(device, CL_DEVICE_MAX_WORK_GROUP_SIZE, 0),
                    fp16: extensions.split(separator: " ").contains("cl_khr_fp16"),
                    fusedMultiplyAdd: floatConfig & cl_device_fp_config(CL_FP_FMA) != 0
                        && floatConfig & cl_device_fp_config(CL_FP_SOFT_FLOAT) == 0,
                    id: DeviceID(raw: device)))
        }
    }
    return result
}

/// `CL_PLATFORM_NOT_FOUND_KHR` (from cl_ext.h, which the shim does not include).
let CL_PLATFORM_NOT_FOUND_KHR_VALUE: cl_int = -1001

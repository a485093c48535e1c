// NumPy `.npy` files (format 1.0) of float32 (float64 is read too): the magic
// "\x93NUMPY", a version, a little-endian header length, a Python dict literal
// `{'descr': '<f4', 'fortran_order': False, 'shape': (…), }` padded to 64 bytes.
import Datasets
import Foundation

public func encodeNpy(_ values: [Float], shape: [Int]) -> [UInt8] {
    let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
    let unpadded = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    let length = UInt16(header.utf8.count)
    return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)] + Array(header.utf8)
        + values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
}

public func decodeNpy(_ bytes: [UInt8], path: String) throws -> (values: [Float], shape: [Int]) {
    func fail(_ why: String) -> SafetensorsError { SafetensorsError(message: "\(path): \(why)") }
    guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else { throw fail("not a NumPy .npy file") }
    let (major, headerStart) = (bytes[6], bytes[6] == 1 ? 10 : 12)
    guard major >= 1 && major <= 3, bytes.count >= headerStart else { throw fail(".npy version \(major) is not supported") }
    let headerLength = major == 1 ? Int(bytes[8]) | Int(bytes[9]) << 8 : bytes[8..<12].reversed().reduce(0) { $0 << 8 | Int($1) }
    guard bytes.count >= headerStart + headerLength else { throw fail("truncated header") }
    let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
    func field(_ name: String) -> String? {
        guard let range = header.range(of: "'\(name)':") else { return nil }
        return String(header[range.upperBound...]).trimmingCharacters(in: .whitespaces)
    }
    guard let descr = field("descr"), let order = field("fortran_order"), let shapeField = field("shape") else {
        throw fail("malformed header \(header)")
    }
    guard order.hasPrefix("False") else { throw fail("Fortran-ordered arrays are not supported") }
    let width = descr.hasPrefix("'<f4'") ? 4 : descr.hasPrefix("'<f8'") ? 8 : 0
    guard width > 0 else { throw fail("dtype \(descr.prefix(6)) is not supported (float32 or float64, little-endian)") }
    let inside = shapeField.drop { $0 != "(" }.dropFirst().prefix { $0 != ")" }
    let shape = inside.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    let sizes = inside.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    guard sizes.count == shape.count, let count = checkedProduct(shape) else {
        throw fail("shape (\(inside)) is not a list of sizes ≥ 0 whose product fits in memory")
    }
    let data = bytes[(headerStart + headerLength)...]
    guard data.count >= count * width else {
        throw fail("truncated: \(count) values of shape \(shape) need \(count * width) bytes, the file has \(data.count)")
    }
    let values: [Float] = (0..<count).map { i in
        let word = data[(data.startIndex + i * width)..<(data.startIndex + (i + 1) * width)].reversed().reduce(UInt64(0)) {
            $0 << 8 | UInt64($1)
        }
        return width == 4 ? Float(bitPattern: UInt32(word)) : Float(Double(bitPattern: word))
    }
    return (values, shape)
}

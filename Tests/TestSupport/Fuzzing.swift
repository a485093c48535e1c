// Mutations of valid files for the fuzz tests: bit flips, truncation, header fields set to
// 0, −1, 2^31 and 2^62, bytes inserted or dropped, a wrong magic, and for text formats
// numbers and keywords replaced. Seeded: a failure names its seed and case.
import Foundation
import TensorGraph

/// How many cases each fuzz test runs: `GENOCL_FUZZ_CASES` (the long run, tools/fuzz), else `short`.
public func fuzzCases(short: Int) -> Int {
    ProcessInfo.processInfo.environment["GENOCL_FUZZ_CASES"].flatMap { Int($0) } ?? short
}

public struct Mutator {
    private var rng: SplitMix64
    public init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    /// The values a hostile header field takes.
    static let fields: [UInt64] = [0, 0xFFFF_FFFF, 0x8000_0000, 1 << 62, 0xFFFF_FFFF_FFFF_FFFF, 1]

    /// One mutation of `bytes`; `header` bytes at the front are where the fields are.
    public mutating func mutate(_ bytes: [UInt8], header: Int = 64) -> (bytes: [UInt8], what: String) {
        var out = bytes
        guard !out.isEmpty else { return ([0], "one zero byte") }
        let at = Int.random(in: 0..<min(max(header, 1), out.count), using: &rng)
        switch Int.random(in: 0..<7, using: &rng) {
        case 0:
            let flips = Int.random(in: 1...8, using: &rng)
            for _ in 0..<flips { out[Int.random(in: 0..<out.count, using: &rng)] ^= 1 << UInt8.random(in: 0..<8, using: &rng) }
            return (out, "\(flips) bit flips")
        case 1:
            let length = Int.random(in: 0..<out.count, using: &rng)
            return (Array(out.prefix(length)), "truncated to \(length) bytes")
        case 2, 3:
            let value = Self.fields.randomElement(using: &rng)!, width = Bool.random(using: &rng) ? 4 : 8
            let bigEndian = Bool.random(using: &rng)
            for k in 0..<width where at + k < out.count {
                out[at + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(bigEndian ? width - 1 - k : k)))
            }
            return (out, "\(width)-byte field at \(at) set to \(value) (\(bigEndian ? "big" : "little") endian)")
        case 4:
            let count = Int.random(in: 1...16, using: &rng)
            out.insert(contentsOf: (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: at)
            return (out, "\(count) bytes inserted at \(at)")
        case 5:
            let count = min(Int.random(in: 1...16, using: &rng), out.count - at)
            out.removeSubrange(at..<(at + count))
            return (out, "\(count) bytes dropped at \(at)")
        default:
            for k in 0..<min(4, out.count) { out[k] = UInt8.random(in: 0...255, using: &rng) }
            return (out, "wrong magic")
        }
    }

    /// One mutation of a text file (JSON, a .npy header): a number replaced by a hostile one,
    /// a keyword swapped, characters dropped, or a byte mutation.
    public mutating func mutateText(_ text: String) -> (text: String, what: String) {
        let numbers = ["0", "-1", "2147483648", "4611686018427387904", "1e400", "-0.0", "NaN", "\"x\"", "null", "[]"]
        let scalars = Array(text.unicodeScalars)
        switch Int.random(in: 0..<4, using: &rng) {
        case 0, 1:
            let starts = scalars.indices.filter { i in
                CharacterSet.decimalDigits.contains(scalars[i]) && (i == 0 || !CharacterSet.decimalDigits.contains(scalars[i - 1]))
            }
            guard let start = starts.randomElement(using: &rng) else { break }
            var end = start
            while end < scalars.count && (CharacterSet.decimalDigits.contains(scalars[end]) || scalars[end] == ".") { end += 1 }
            let value = numbers.randomElement(using: &rng)!
            var out = String.UnicodeScalarView(scalars[..<start])
            out.append(contentsOf: value.unicodeScalars)
            out.append(contentsOf: scalars[end...])
            return (String(out), "number at \(start) set to \(value)")
        case 2:
            let swaps = [("true", "false"), ("false", "1"), ("<f4", "<f8"), ("dcgan", "gan9000"), ("adam", "sgd"), ("\"", "'")]
            let (a, b) = swaps.randomElement(using: &rng)!
            if text.contains(a) { return (text.replacingOccurrences(of: a, with: b), "\(a) → \(b)") }
        default:
            break
        }
        let mutated = mutate(Array(text.utf8), header: text.utf8.count)
        return (String(decoding: mutated.bytes, as: UTF8.self), mutated.what)
    }
}

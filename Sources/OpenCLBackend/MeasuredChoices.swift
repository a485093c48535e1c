// Choices made by timing: the convolution algorithm per shape and the GEMM kernel per
// device, timed the first time they are needed and remembered in tab-separated files of
// the cache directory.
import Foundation

/// Choices made by timing the candidates once per (device, problem) and remembered in a
/// tab-separated file of the cache directory: the convolution algorithm per shape
/// (`convolution-algorithms.tsv`), the GEMM kernel per device (`gemm-kernels.tsv`).
public final class MeasuredChoices: @unchecked Sendable {
    private var choices: [String: String] = [:]
    private let path: String
    private let lock = NSLock()

    private nonisolated(unsafe) static var instances: [String: MeasuredChoices] = [:]
    private nonisolated(unsafe) static var deviceLocks: [String: NSRecursiveLock] = [:]
    private static let instancesLock = NSLock()

    /// One store per file, shared by the backends of the process.
    static func shared(_ path: String) -> MeasuredChoices {
        instancesLock.lock()
        defer { instancesLock.unlock() }
        if let store = instances[path] { return store }
        let store = MeasuredChoices(path: path)
        instances[path] = store
        return store
    }

    /// Held while a device's candidates are timed, so that two backends of the process never
    /// time on one device at once (each would measure the other's work). Recursive: timing a
    /// convolution may first choose the GEMM kernel.
    static func timingLock(device: String) -> NSRecursiveLock {
        instancesLock.lock()
        defer { instancesLock.unlock() }
        if let lock = deviceLocks[device] { return lock }
        let lock = NSRecursiveLock()
        deviceLocks[device] = lock
        return lock
    }

    /// A store of its own for the file at `path` (backends share one per file: `shared`).
    public init(path: String) {
        self.path = path
        // Lines: context, problem, choice (tab-separated); malformed lines are ignored.
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: "\t").map(String.init)
            // The first line of a problem wins: later ones come from processes that timed it
            // at the same time, and the first is what the earliest of them used.
            guard fields.count == 3 else { continue }
            let key = fields[0] + "\t" + fields[1]
            if choices[key] == nil { choices[key] = fields[2] }
        }
    }

    /// The recorded choice for `problem` in `context` (if it is still a candidate), else the
    /// fastest of `candidates` as timed by `measure` (seconds). Each is run once untimed (the
    /// first run may include compilation); then the candidates are timed in turn, round after
    /// round (up to `rounds`, while a candidate has used less than about 0.2 s), and each one's
    /// fastest run counts. Rounds rather than one candidate's runs back to back: a burst of
    /// other load on a shared machine then slows a round of every candidate, not every run of
    /// one (timed back to back, a burst made a GEMM kernel half as fast as the best look best,
    /// and that choice was kept).
    public func choice(
        for problem: String, context: String, device: String, candidates: [String], rounds: Int = 3, measure: (String) throws -> Double
    ) throws -> String {
        let key = "\(context)\t\(problem)"
        if let known = recorded(key), candidates.contains(known) { return known }
        let timing = Self.timingLock(device: device)
        timing.lock()
        defer { timing.unlock() }
        // Another backend may have timed it while this one waited.
        if let known = recorded(key), candidates.contains(known) { return known }
        for candidate in candidates { _ = try measure(candidate) }
        var fastest = [Double](repeating: .infinity, count: candidates.count)
        var spent = [Double](repeating: 0, count: candidates.count)
        for _ in 0..<rounds {
            for (i, candidate) in candidates.enumerated() where spent[i] < 0.2 {
                let seconds = try measure(candidate)
                (fastest[i], spent[i]) = (min(fastest[i], seconds), spent[i] + seconds)
            }
        }
        let best = candidates[fastest.indices.min { fastest[$0] < fastest[$1] }!]
        // Another process may have timed the same problem meanwhile; within the process the
        // first choice recorded serves all, so that every backend computes a problem the
        // same way (a resumed run repeats the straight one bit for bit).
        lock.lock()
        if let first = choices[key], candidates.contains(first) {
            lock.unlock()
            return first
        }
        choices[key] = best
        lock.unlock()
        append(key + "\t" + best + "\n")
        return best
    }

    private func recorded(_ key: String) -> String? {
        lock.lock()
        defer { lock.unlock() }
        return choices[key]
    }

    /// Best effort: a choice that cannot be saved is measured again next time.
    private func append(_ line: String) {
        let directory = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // O_APPEND writes of one short line are atomic, so concurrent processes do not interleave.
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { return }
        _ = line.withCString { write(fd, $0, strlen($0)) }
        close(fd)
    }
}

import Foundation
import OpenCLBackend
import Testing

/// The timing behind the convolution-algorithm and GEMM-kernel choices, with made-up clocks.
struct MeasuredChoicesTests {
    func temporaryFile() -> String { NSTemporaryDirectory() + "genocl-choices-" + UUID().uuidString + "/choices.tsv" }

    /// "fast" takes 1 ms and "slow" 1.6 ms, except during a burst of other load that makes
    /// `burst` consecutive runs (counted over every run the store asks for) 3× slower.
    func choose(burstAt start: Int, burst: Int, store: MeasuredChoices) throws -> (choice: String, runs: Int) {
        var runs = 0
        let choice = try store.choice(for: "problem", context: "context", device: "device", candidates: ["slow", "fast"]) { candidate in
            defer { runs += 1 }
            let seconds = candidate == "fast" ? 0.001 : 0.0016
            return (start..<(start + burst)).contains(runs) ? seconds * 3 : seconds
        }
        return (choice, runs)
    }

    @Test func aBurstOfLoadDoesNotDecideTheChoice() throws {
        // Runs: each candidate once untimed, then rounds of both. Timed back to back, a burst
        // over the fast candidate's three timed runs made it look the slower one.
        for start in 0..<8 {
            let (choice, runs) = try choose(burstAt: start, burst: 3, store: MeasuredChoices(path: temporaryFile()))
            #expect(choice == "fast", "burst over runs \(start) ..< \(start + 3)")
            #expect(runs == 8)
        }
    }

    @Test func choicesAreRememberedInTheFile() throws {
        let path = temporaryFile()
        #expect(try choose(burstAt: 0, burst: 0, store: MeasuredChoices(path: path)) == ("fast", 8))
        // A new process reads the file and times nothing.
        #expect(try choose(burstAt: 0, burst: 0, store: MeasuredChoices(path: path)) == ("fast", 0))
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines == ["context\tproblem\tfast"])
        // A recorded choice that is no longer a candidate is timed again; malformed lines are skipped.
        try "context\tproblem\tgone\nnot a record\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try choose(burstAt: 0, burst: 0, store: MeasuredChoices(path: path)) == ("fast", 8))
    }

    @Test func backendsTakeTurnsTimingOnOneDevice() async throws {
        let store = MeasuredChoices(path: temporaryFile())
        let running = Counter(), overlaps = Counter()
        let choices = try await withThrowingTaskGroup(of: String.self) { group in
            for problem in 0..<4 {
                group.addTask {
                    try store.choice(for: "problem \(problem % 2)", context: "context", device: "device", candidates: ["a", "b"]) {
                        candidate in
                        if running.add(1) > 1 { _ = overlaps.add(1) }
                        defer { _ = running.add(-1) }
                        Thread.sleep(forTimeInterval: 0.002)
                        return candidate == "a" ? 0.001 : 0.002
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(choices == ["a", "a", "a", "a"])
        #expect(overlaps.value == 0)
    }
}

final class Counter: @unchecked Sendable {
    private var count = 0
    private let lock = NSLock()
    /// Adds `delta` and returns the new count.
    func add(_ delta: Int) -> Int {
        lock.lock()
        defer { lock.unlock() }
        count += delta
        return count
    }
    var value: Int { add(0) }
}

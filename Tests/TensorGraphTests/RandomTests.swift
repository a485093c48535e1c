import CPUReference
import TensorGraph
import TestSupport
import Testing

@Suite struct RandomTests {
    @Test func philoxMatchesTheRandom123KnownAnswers() {
        let zero = philox4x32(counter: (0, 0, 0, 0), key: (0, 0))
        #expect([zero.0, zero.1, zero.2, zero.3] == [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8])
        let ones = philox4x32(counter: (.max, .max, .max, .max), key: (.max, .max))
        #expect([ones.0, ones.1, ones.2, ones.3] == [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd])
        let pi = philox4x32(counter: (0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344), key: (0xa409_3822, 0x299f_31d0))
        #expect([pi.0, pi.1, pi.2, pi.3] == [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1])
    }

    private func samples(_ make: (Graph) -> Tensor, steps: [UInt64] = [0]) throws -> [[Float]] {
        let plan = try Session(backend: CPUBackend()).plan(fetches: [make(Graph())])
        return try steps.map { step in
            plan.step = step
            return try plan.run()[0]
        }
    }

    private func moments(_ v: [Float]) -> (mean: Double, std: Double) {
        let mean = v.reduce(0.0) { $0 + Double($1) } / Double(v.count)
        let variance = v.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(v.count)
        return (mean, variance.squareRoot())
    }

    @Test func streamsAreReproduciblePerSeedAndStep() throws {
        let runs = try samples({ $0.randomNormal([1000], seed: 7) }, steps: [0, 1, 0])
        #expect(runs[0] == runs[2])
        #expect(runs[0] != runs[1])
        let other = try samples { $0.randomNormal([1000], seed: 8) }
        #expect(other[0] != runs[0])
    }

    @Test func distributionsHaveTheirMoments() throws {
        let n = 200_000
        let uniform = try samples { $0.randomUniform([n], low: -1, high: 3, seed: 1) }[0]
        #expect(uniform.allSatisfy { $0 > -1 && $0 < 3 })
        let u = moments(uniform)
        #expect(Swift.abs(u.mean - 1) < 0.02 && Swift.abs(u.std - 4 / 12.0.squareRoot()) < 0.02)

        let normal = moments(try samples { $0.randomNormal([n], mean: 2, std: 0.5, seed: 2) }[0])
        #expect(Swift.abs(normal.mean - 2) < 0.01 && Swift.abs(normal.std - 0.5) < 0.01)

        let truncated = try samples { $0.truncatedNormal([n], seed: 3) }[0]
        #expect(truncated.allSatisfy { $0 >= -2 && $0 <= 2 })
        let t = moments(truncated)
        // Standard normal truncated to ±2: variance 1 − 2·2φ(2)/(Φ(2) − Φ(−2)) = 0.77371.
        #expect(Swift.abs(t.mean) < 0.01 && Swift.abs(t.std - 0.77371.squareRoot()) < 0.01)

        let shifted = try samples { $0.truncatedNormal([n], mean: 1, std: 2, low: 0, high: 5, seed: 4) }[0]
        #expect(shifted.allSatisfy { $0 >= 0 && $0 <= 5 })
    }

    @Test func dropoutZeroesAndRescales() throws {
        let out = try forward([10_000], [Float](repeating: 1, count: 10_000)) { dropout($0, rate: 0.3, seed: 5) }
        let zeros = out.filter { $0 == 0 }.count
        #expect(Swift.abs(Double(zeros) / 10_000 - 0.3) < 0.02)
        #expect(out.allSatisfy { $0 == 0 || Swift.abs($0 - 1 / 0.7) < 1e-6 })
        expectClose(try forward([3], [1, 2, 3]) { dropout($0, rate: 0.3, seed: 5, training: false) }, [1, 2, 3], .exact)
        try expectGradients([CheckInput("x", [5, 7], randomValues(35, seed: seed(600)))]) { dropout($0[0], rate: 0.5, seed: 9) }
    }
}

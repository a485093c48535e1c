import Foundation
import TensorGraph
import XCTest

@testable import Evaluation

final class StatisticsTests: XCTestCase {
    private func randomFeatures(_ n: Int, _ d: Int, seed: UInt64, shift: Double = 0, scale: Double = 1) -> FeatureSet {
        var rng = SplitMix64(seed: seed)
        return FeatureSet((0..<(n * d)).map { _ in Double(rng.normal()) * scale + shift }, dimension: d)
    }

    func testFrechetDistanceOfDiagonalGaussiansIsTheClosedForm() throws {
        let a = GaussianStatistics(count: 10, mean: [1, 2, 3], covariance: [4, 0, 0, 0, 9, 0, 0, 0, 0.25])
        let b = GaussianStatistics(count: 10, mean: [0, 2, 5], covariance: [1, 0, 0, 0, 16, 0, 0, 0, 1])
        // ‖μa − μb‖² + Σ (aᵢ + bᵢ − 2√(aᵢbᵢ)) = 5 + (4 + 1 − 4) + (9 + 16 − 24) + (0.25 + 1 − 1).
        XCTAssertEqual(try frechetDistance(a, b), 5 + 1 + 1 + 0.25, accuracy: 1e-12)
        XCTAssertEqual(try frechetDistance(b, a), 7.25, accuracy: 1e-12)
    }

    func testFrechetDistanceOfNonCommutingCovariancesIsTheClosedForm() throws {
        // For 2×2 matrices tr √M = √(tr M + 2 √det M), with M = Σa^½ Σb Σa^½ (tr M = tr ΣaΣb, det M = det Σa det Σb).
        let sa: [Double] = [2, 0.7, 0.7, 1], sb: [Double] = [1, -0.4, -0.4, 3]
        let a = GaussianStatistics(count: 10, mean: [0, 0], covariance: sa)
        let b = GaussianStatistics(count: 10, mean: [1, -1], covariance: sb)
        let traceProduct = sa[0] * sb[0] + sa[1] * sb[2] + sa[2] * sb[1] + sa[3] * sb[3]
        let determinant = (sa[0] * sa[3] - sa[1] * sa[2]) * (sb[0] * sb[3] - sb[1] * sb[2])
        let expected = 2 + (sa[0] + sa[3]) + (sb[0] + sb[3]) - 2 * (traceProduct + 2 * determinant.squareRoot()).squareRoot()
        XCTAssertEqual(try frechetDistance(a, b), expected, accuracy: 1e-12)
    }

    func testFrechetDistanceOfSamplesMatchesTheirGaussians() throws {
        let x = randomFeatures(4000, 4, seed: 1), y = randomFeatures(4000, 4, seed: 2, shift: 0.5, scale: 2)
        // N(0, I) against N(0.5, 4I) in 4-d: 4·0.25 + 4·(1 + 4 − 2·2) = 5; sampling error of 4000 vectors is a few percent.
        XCTAssertEqual(try frechetDistance(GaussianStatistics(x), GaussianStatistics(y)), 5, accuracy: 0.4)
    }

    func testFrechetDistanceOfASetWithItselfIsZero() throws {
        let x = try GaussianStatistics(randomFeatures(300, 64, seed: 3))
        let fid = try frechetDistance(x, x)
        XCTAssertGreaterThanOrEqual(fid, 0)
        XCTAssertLessThan(fid, 1e-6)
    }

    func testFrechetDistanceOfSingularAndIllConditionedCovariances() throws {
        // 10 vectors in 64 dimensions: rank 9 covariances; and eigenvalues from 1e-12 to 1e6.
        let few = try GaussianStatistics(randomFeatures(10, 64, seed: 4)), other = try GaussianStatistics(randomFeatures(10, 64, seed: 5))
        let singular = try frechetDistance(few, other)
        XCTAssertTrue(singular.isFinite && singular > 0)
        XCTAssertLessThan(try frechetDistance(few, few), 1e-6)
        let d = 6
        var skewed = [Double](repeating: 0, count: d * d)
        for i in 0..<d { skewed[i * d + i] = pow(10, Double(6 - 18 * i / (d - 1))) }
        let a = GaussianStatistics(count: 2, mean: [Double](repeating: 0, count: d), covariance: skewed)
        XCTAssertEqual(try frechetDistance(a, a), 0, accuracy: 1e-6)
        XCTAssertGreaterThanOrEqual(try frechetDistance(a, a), 0)
    }

    func testCovarianceIsNumPysCov() throws {
        let x = FeatureSet([1, 2, 3, 5, 5, 7, 2, 1] as [Double], dimension: 2)
        let s = try GaussianStatistics(x)
        XCTAssertEqual(s.mean, [2.75, 3.75])
        // np.cov([[1,3,5,2],[2,5,7,1]]): [[2.9167, 4.25], [4.25, 7.5833]].
        for (got, want) in zip(s.covariance, [35.0 / 12, 51.0 / 12, 51.0 / 12, 91.0 / 12]) { XCTAssertEqual(got, want, accuracy: 1e-12) }
        XCTAssertThrowsError(try GaussianStatistics(FeatureSet([1, 2] as [Double], dimension: 2)))
    }

    func testKernelInceptionDistanceEqualsTheDirectComputation() throws {
        let x = randomFeatures(40, 5, seed: 6), y = randomFeatures(40, 5, seed: 7, shift: 0.3)
        func k(_ a: FeatureSet, _ i: Int, _ b: FeatureSet, _ j: Int) -> Double {
            let dot = (0..<5).reduce(0.0) { $0 + a.values[i * 5 + $1] * b.values[j * 5 + $1] }
            return pow(dot / 5 + 1, 3)
        }
        var xx = 0.0, yy = 0.0, xy = 0.0
        for i in 0..<40 {
            for j in 0..<40 {
                if i != j { (xx, yy) = (xx + k(x, i, x, j), yy + k(y, i, y, j)) }
                xy += k(x, i, y, j)
            }
        }
        let direct = (xx + yy) / (40 * 39) - 2 * xy / (40 * 40)
        // One subset of every vector: the order drawn does not change the sums.
        let kid = try kernelInceptionDistance(y, x, subsets: 1, subsetSize: 40)
        XCTAssertEqual(kid.mean, direct, accuracy: 1e-12)
        XCTAssertEqual(kid.standardDeviation, 0)
        // Subsets of a set and itself: unbiased, so near 0 and of both signs across subsets.
        let same = try kernelInceptionDistance(x, x, subsets: 20, subsetSize: 10)
        XCTAssertLessThan(abs(same.mean), 3 * same.standardDeviation + 1e-12)
        XCTAssertGreaterThan(try kernelInceptionDistance(x, y, subsets: 20, subsetSize: 20).mean, 0)
    }

    func testPrecisionAndRecallOfConstructedSets() throws {
        // A 10×10 grid of real points; fakes: the grid itself, one grid point repeated, a far-away grid.
        let grid = (0..<100).flatMap { [Double]([Double($0 % 10), Double($0 / 10)]) }
        let real = FeatureSet(grid, dimension: 2)
        let same = try precisionRecall(real, real)
        XCTAssertEqual(same.precision, 1)
        XCTAssertEqual(same.recall, 1)
        let collapsed = try precisionRecall(real, FeatureSet([Double](repeating: 4, count: 200), dimension: 2))
        XCTAssertEqual(collapsed.precision, 1)
        XCTAssertEqual(collapsed.recall, 0.01)
        let far = try precisionRecall(real, FeatureSet(grid.map { $0 + 100 }, dimension: 2))
        XCTAssertEqual(far.precision, 0)
        XCTAssertEqual(far.recall, 0)
        // Half the fakes on the grid, half far away; the real points are all covered by the near half.
        let half = try precisionRecall(real, FeatureSet(grid + grid.map { $0 + 100 }, dimension: 2))
        XCTAssertEqual(half.precision, 0.5)
        XCTAssertEqual(half.recall, 1)
        XCTAssertThrowsError(try precisionRecall(real, FeatureSet([1, 2, 3, 4] as [Double], dimension: 2)))
    }

    func testInceptionScoreOfUniformAndOneHotPredictions() throws {
        let uniform = FeatureSet([Double](repeating: 0.25, count: 40 * 4), dimension: 4)
        XCTAssertEqual(try inceptionScore(uniform).mean, 1, accuracy: 1e-12)
        // Confident and spread evenly over 4 classes within each split: the score is the class count.
        let oneHot = FeatureSet((0..<40).flatMap { i in (0..<4).map { $0 == i % 4 ? 1.0 : 0.0 } }, dimension: 4)
        let score = try inceptionScore(oneHot)
        XCTAssertEqual(score.mean, 4, accuracy: 1e-12)
        XCTAssertEqual(score.standardDeviation, 0, accuracy: 1e-12)
        // Confident but all one class: 1 again.
        let collapsed = FeatureSet((0..<40).flatMap { _ in [1.0, 0, 0, 0] }, dimension: 4)
        XCTAssertEqual(try inceptionScore(collapsed).mean, 1, accuracy: 1e-12)
        XCTAssertThrowsError(try inceptionScore(FeatureSet([1, 0] as [Double], dimension: 2)))
    }

    func testClassHistogram() {
        let p = FeatureSet([0.9, 0.1, 0, 0.2, 0.7, 0.1, 0.6, 0.3, 0.1, 0, 0, 1] as [Double], dimension: 3)
        let histogram = ClassHistogram(p)
        XCTAssertEqual(histogram.counts, [2, 1, 1])
        XCTAssertEqual(histogram.meanConfidence, (0.9 + 0.7 + 0.6 + 1) / 4, accuracy: 1e-12)
        XCTAssertEqual(histogram.entropy, -(0.5 * log(0.5) + 2 * 0.25 * log(0.25)), accuracy: 1e-12)
        XCTAssertEqual(histogram.maximumEntropy, log(3), accuracy: 1e-12)
        let top = histogram.top(1)
        XCTAssertEqual(top.classes.map(\.index), [0])
        XCTAssertEqual(top.other, 2)
    }
}

// The numbers that judge a generator, from feature vectors of its samples and of real
// images: FID (Heusel et al.), KID (Bińkowski et al.), improved precision and recall
// (Kynkäänniemi et al.), and from class probabilities the Inception Score (Salimans et
// al.), the top-class confidence and the class histogram. All in double precision on the
// host: OpenBLAS for the products, LAPACK's symmetric eigensolver for the matrix roots.
import CLAPACK
import Foundation
import TensorGraph

/// An error in evaluation's inputs, said so that a user can act on it.
public struct EvaluationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// `count` feature vectors of `dimension` values, one after another.
public struct FeatureSet: Sendable {
    public let values: [Double]
    public let count: Int
    public let dimension: Int

    public init(_ values: [Float], dimension: Int) {
        precondition(dimension > 0 && values.count % dimension == 0, "features of \(values.count) values are not rows of \(dimension)")
        (self.values, self.dimension, count) = (values.map(Double.init), dimension, values.count / dimension)
    }

    public init(_ values: [Double], dimension: Int) {
        precondition(dimension > 0 && values.count % dimension == 0, "features of \(values.count) values are not rows of \(dimension)")
        (self.values, self.dimension, count) = (values, dimension, values.count / dimension)
    }

    /// The rows at `indices`.
    public func rows(_ indices: [Int]) -> FeatureSet {
        var picked = [Double]()
        picked.reserveCapacity(indices.count * dimension)
        for i in indices { picked += values[i * dimension..<(i + 1) * dimension] }
        return FeatureSet(picked, dimension: dimension)
    }
}

/// The mean and covariance of a feature set: what FID compares (pytorch-fid's `mu`, `sigma`).
public struct GaussianStatistics: Codable, Equatable, Sendable {
    public var count: Int
    public var dimension: Int
    public var mean: [Double]
    /// Row-major `dimension × dimension`, normalized by count − 1 (NumPy's `np.cov`).
    public var covariance: [Double]

    public init(count: Int, mean: [Double], covariance: [Double]) {
        (self.count, dimension, self.mean, self.covariance) = (count, mean.count, mean, covariance)
    }

    public init(_ features: FeatureSet) throws {
        let (n, d) = (features.count, features.dimension)
        guard n >= 2 else { throw EvaluationError("a covariance needs at least 2 feature vectors; got \(n)") }
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { mean[j] += features.values[i * d + j] } }
        for j in 0..<d { mean[j] /= Double(n) }
        var centered = features.values
        for i in 0..<n { for j in 0..<d { centered[i * d + j] -= mean[j] } }
        var covariance = [Double](repeating: 0, count: d * d)
        cblas_dsyrk(
            CblasRowMajor, CblasUpper, CblasTrans, Int32(d), Int32(n), 1 / Double(n - 1), centered, Int32(d), 0, &covariance, Int32(d))
        for i in 0..<d { for j in 0..<i { covariance[i * d + j] = covariance[j * d + i] } }
        self.init(count: n, mean: mean, covariance: covariance)
    }
}

/// The eigenvalues (ascending) and row-major eigenvectors (as columns) of symmetric `matrix`.
func symmetricEigen(_ matrix: [Double], _ n: Int) throws -> (values: [Double], vectors: [Double]) {
    var a = matrix, w = [Double](repeating: 0, count: n)
    let info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "U")), Int32(n), &a, Int32(n), &w)
    guard info == 0 else { throw EvaluationError("the symmetric eigensolver (LAPACK dsyevd) failed with code \(info)") }
    return (w, a)
}

/// `a · b` for row-major square matrices of size `n`.
func multiply(_ a: [Double], _ b: [Double], _ n: Int) -> [Double] {
    var c = [Double](repeating: 0, count: n * n)
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1, a, Int32(n), b, Int32(n), 0, &c, Int32(n))
    return c
}

/// The Fréchet distance of two Gaussians: ‖μa − μb‖² + tr Σa + tr Σb − 2 tr (Σa Σb)^½. The root
/// is taken as tr (Σa^½ Σb Σa^½)^½, the same number for covariances (positive semi-definite),
/// from two symmetric eigendecompositions: no complex parts, no NaN on singular or
/// ill-conditioned matrices (eigenvalues that rounding makes negative count as 0), and
/// never below 0.
public func frechetDistance(_ a: GaussianStatistics, _ b: GaussianStatistics) throws -> Double {
    guard a.dimension == b.dimension else {
        throw EvaluationError("feature statistics of \(a.dimension) and \(b.dimension) dimensions cannot be compared")
    }
    let d = a.dimension
    let meanTerm = zip(a.mean, b.mean).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
    let traces = (0..<d).reduce(0) { $0 + a.covariance[$1 * d + $1] + b.covariance[$1 * d + $1] }
    // Σa^½ = V diag(√λ) Vᵀ.
    let (values, vectors) = try symmetricEigen(a.covariance, d)
    var scaled = vectors
    for i in 0..<d { for j in 0..<d { scaled[i * d + j] *= max(values[j], 0).squareRoot() } }
    var root = [Double](repeating: 0, count: d * d)
    cblas_dgemm(
        CblasRowMajor, CblasNoTrans, CblasTrans, Int32(d), Int32(d), Int32(d), 1, scaled, Int32(d), vectors, Int32(d), 0, &root, Int32(d))
    var middle = multiply(multiply(root, b.covariance, d), root, d)
    // Symmetric up to rounding: average it with its transpose before the eigensolver reads one triangle.
    for i in 0..<d { for j in 0..<i { middle[i * d + j] = (middle[i * d + j] + middle[j * d + i]) / 2 } }
    let product = try symmetricEigen(middle, d).values.reduce(0) { $0 + max($1, 0).squareRoot() }
    return max(0, meanTerm + traces - 2 * product)
}

/// KID: the unbiased squared MMD with the kernel k(x, y) = (x·y / d + 1)³, averaged over
/// `subsets` random subsets of `subsetSize` vectors of each set (drawn without replacement,
/// as torch-fidelity and Bińkowski et al.'s code): the mean and the standard deviation.
public func kernelInceptionDistance(
    _ real: FeatureSet, _ fake: FeatureSet, subsets: Int = 100, subsetSize: Int = 1000, seed: UInt64 = 0x4B1D
) throws -> (mean: Double, standardDeviation: Double) {
    guard real.dimension == fake.dimension else { throw EvaluationError("KID of \(real.dimension)- and \(fake.dimension)-d features") }
    let m = min(subsetSize, real.count, fake.count)
    guard m >= 2 else { throw EvaluationError("KID needs at least 2 vectors in each set; got \(real.count) and \(fake.count)") }
    var generator = SplitMix64(seed: seed)
    var estimates: [Double] = []
    for _ in 0..<max(1, subsets) {
        let x = fake.rows(Array((0..<fake.count).shuffled(using: &generator).prefix(m)))
        let y = real.rows(Array((0..<real.count).shuffled(using: &generator).prefix(m)))
        estimates.append(unbiasedPolynomialMMD(x, y))
    }
    let mean = estimates.reduce(0, +) / Double(estimates.count)
    let variance = estimates.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(estimates.count)
    return (mean, variance.squareRoot())
}

/// The unbiased estimate of MMD² between `x` and `y` (the same count) with the cubic polynomial kernel.
func unbiasedPolynomialMMD(_ x: FeatureSet, _ y: FeatureSet) -> Double {
    let (m, d) = (x.count, x.dimension)
    func kernelSum(_ a: FeatureSet, _ b: FeatureSet, skipDiagonal: Bool) -> Double {
        var gram = [Double](repeating: 0, count: m * m)
        cblas_dgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(m), Int32(d), 1 / Double(d), a.values, Int32(d), b.values, Int32(d), 0,
            &gram, Int32(m))
        var sum = 0.0
        for i in 0..<m {
            for j in 0..<m where !(skipDiagonal && i == j) {
                let k = gram[i * m + j] + 1
                sum += k * k * k
            }
        }
        return sum
    }
    let pairs = Double(m * (m - 1))
    return (kernelSum(x, x, skipDiagonal: true) + kernelSum(y, y, skipDiagonal: true)) / pairs
        - 2 * kernelSum(x, y, skipDiagonal: false) / Double(m * m)
}

/// Improved precision and recall (Kynkäänniemi et al. 2019): each set's manifold is the union
/// of balls around its vectors reaching their `k`-th nearest neighbour in the set. Precision is
/// the share of fake vectors inside the real manifold, recall the share of real vectors inside
/// the fake one; a collapsed generator (every sample alike) has recall ≈ 0.
public func precisionRecall(_ real: FeatureSet, _ fake: FeatureSet, k: Int = 3) throws -> (precision: Double, recall: Double) {
    guard real.dimension == fake.dimension else {
        throw EvaluationError("precision/recall of \(real.dimension)- and \(fake.dimension)-d features")
    }
    guard real.count > k, fake.count > k else {
        throw EvaluationError(
            "precision and recall with k = \(k) need more than \(k) vectors in each set; got \(real.count) and \(fake.count)")
    }
    let realRadii = neighbourRadii(real, k: k), fakeRadii = neighbourRadii(fake, k: k)
    return (coverage(of: fake, by: real, radii: realRadii), coverage(of: real, by: fake, radii: fakeRadii))
}

/// Squared distances between the rows `rows` of `a` and every row of `b`, one row of `b`'s after another per row of `a`.
private func squaredDistances(_ a: FeatureSet, rows: Range<Int>, _ b: FeatureSet) -> [Double] {
    let d = a.dimension, n = b.count
    var products = [Double](repeating: 0, count: rows.count * n)
    a.values.withUnsafeBufferPointer { values in
        cblas_dgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows.count), Int32(n), Int32(d), 1, values.baseAddress! + rows.lowerBound * d,
            Int32(d), b.values, Int32(d), 0, &products, Int32(n))
    }
    let norms = { (set: FeatureSet, i: Int) in (0..<d).reduce(0.0) { $0 + set.values[i * d + $1] * set.values[i * d + $1] } }
    let bNorms = (0..<n).map { norms(b, $0) }
    for (r, i) in rows.enumerated() {
        let aNorm = norms(a, i)
        for j in 0..<n { products[r * n + j] = max(0, aNorm + bNorms[j] - 2 * products[r * n + j]) }
    }
    return products
}

private let distanceBlock = 512

/// Each vector's squared distance to its `k`-th nearest other vector of the set.
private func neighbourRadii(_ set: FeatureSet, k: Int) -> [Double] {
    var radii = [Double](repeating: 0, count: set.count)
    for start in stride(from: 0, to: set.count, by: distanceBlock) {
        let rows = start..<min(start + distanceBlock, set.count)
        let distances = squaredDistances(set, rows: rows, set)
        for (r, i) in rows.enumerated() {
            // The k + 1 smallest, the vector itself (distance 0) among them.
            var smallest = [Double](repeating: .infinity, count: k + 1)
            for j in 0..<set.count {
                let value = j == i ? 0 : distances[r * set.count + j]
                if value < smallest[k] {
                    var p = k
                    while p > 0 && smallest[p - 1] > value {
                        smallest[p] = smallest[p - 1]
                        p -= 1
                    }
                    smallest[p] = value
                }
            }
            radii[i] = smallest[k]
        }
    }
    return radii
}

/// The share of `points` within the ball of at least one vector of `centers`.
private func coverage(of points: FeatureSet, by centers: FeatureSet, radii: [Double]) -> Double {
    var inside = 0
    for start in stride(from: 0, to: points.count, by: distanceBlock) {
        let rows = start..<min(start + distanceBlock, points.count)
        let distances = squaredDistances(points, rows: rows, centers)
        for r in 0..<rows.count where (0..<centers.count).contains(where: { distances[r * centers.count + $0] <= radii[$0] }) {
            inside += 1
        }
    }
    return Double(inside) / Double(points.count)
}

/// The Inception Score of class probabilities (`count` rows of `classes`): exp of the mean KL
/// divergence between each row and the mean row, over `splits` equal parts (Salimans et al.,
/// pytorch's and torch-fidelity's 10): the mean and the standard deviation over the parts.
public func inceptionScore(_ probabilities: FeatureSet, splits: Int = 10) throws -> (mean: Double, standardDeviation: Double) {
    let (n, c) = (probabilities.count, probabilities.dimension)
    guard n >= splits, splits >= 1 else {
        throw EvaluationError("the Inception Score over \(splits) splits needs at least \(splits) samples; got \(n)")
    }
    var scores: [Double] = []
    for part in 0..<splits {
        let rows = (part * n / splits)..<((part + 1) * n / splits)
        var marginal = [Double](repeating: 0, count: c)
        for i in rows { for j in 0..<c { marginal[j] += probabilities.values[i * c + j] / Double(rows.count) } }
        var divergence = 0.0
        for i in rows {
            for j in 0..<c {
                let p = probabilities.values[i * c + j]
                if p > 0 { divergence += p * (log(p) - log(marginal[j])) }
            }
        }
        scores.append(exp(divergence / Double(rows.count)))
    }
    let mean = scores.reduce(0, +) / Double(splits)
    return (mean, (scores.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(splits)).squareRoot())
}

/// What a classifier saw in the samples: how many it put in each class, how sure it was, how
/// spread the classes are (the dog study's breed histogram and confidence table).
public struct ClassHistogram: Codable, Equatable, Sendable {
    public var counts: [Int]
    /// The mean over samples of the largest class probability.
    public var meanConfidence: Double
    /// The entropy of the histogram in nats, and its largest possible value, ln(classes).
    public var entropy: Double
    public var maximumEntropy: Double

    public init(_ probabilities: FeatureSet) {
        let (n, c) = (probabilities.count, probabilities.dimension)
        var counts = [Int](repeating: 0, count: c), confidence = 0.0
        for i in 0..<n {
            let row = probabilities.values[i * c..<(i + 1) * c]
            let best = row.indices.max { row[$0] < row[$1] }!
            counts[best - i * c] += 1
            confidence += row[best]
        }
        self.counts = counts
        meanConfidence = n == 0 ? 0 : confidence / Double(n)
        entropy = counts.reduce(0.0) { total, count in
            count == 0 ? total : total - Double(count) / Double(n) * log(Double(count) / Double(n))
        }
        maximumEntropy = log(Double(c))
    }

    /// The `k` most frequent classes (ties by index) and the count of all others.
    public func top(_ k: Int) -> (classes: [(index: Int, count: Int)], other: Int) {
        let ranked = counts.indices.sorted { counts[$0] != counts[$1] ? counts[$0] > counts[$1] : $0 < $1 }.map { ($0, counts[$0]) }
        return (Array(ranked.prefix(k)), ranked.dropFirst(k).reduce(0) { $0 + $1.1 })
    }
}

// The loader: examples in memory, the batches of any step (a seeded order per epoch,
// seeded flips), and the next step's batches prepared on a background queue while
// the device runs the current one. A step's batches depend on (seed, step) only, so
// a resumed run sees the same batches as one that never stopped.
import Foundation
import TensorGraph

/// What a model trains on: images, images with class labels, or (input, target) pairs.
public enum ExampleKind: Sendable {
    case images, labeledImages, pairs
}

/// One batch: images `[N, C, S, S]`, their class labels `[N]` (as floats), and for
/// paired data the targets `[N, C, S, S]` (then `images` are the generator's inputs).
public struct Batch: Sendable {
    public var images: [Float]
    public var labels: [Float]
    public var targets: [Float]

    /// The examples `range` of this batch (a data-parallel replica's share).
    public func examples(_ range: Range<Int>) -> Batch {
        let count = labels.count
        func part(_ values: [Float]) -> [Float] {
            guard count > 0, !values.isEmpty else { return values }
            let per = values.count / count
            return Array(values[range.lowerBound * per..<range.upperBound * per])
        }
        return Batch(images: part(images), labels: part(labels), targets: part(targets))
    }
}

/// Examples in memory as bytes, `perImage` each: a pixel `b` is the value `b/127.5 − 1`, as
/// decoded images are. A quarter of the memory floats would take, so that data sets of a
/// study's size (16,485 cars at 256×256: 3.2 GiB, not 13) fit; batches are floats.
public struct Examples: Sendable {
    public var bytes: [UInt8]
    public var labels: [Int]
    public var targetBytes: [UInt8]?
    public var count: Int

    public init(bytes: [UInt8], labels: [Int], targetBytes: [UInt8]?, count: Int) {
        (self.bytes, self.labels, self.targetBytes, self.count) = (bytes, labels, targetBytes, count)
    }

    /// Examples from values in [−1, 1], rounded to the nearest byte (exact for decoded pixels).
    public init(images: [Float], labels: [Int], targets: [Float]?, count: Int) {
        self.init(bytes: quantized(images), labels: labels, targetBytes: targets.map(quantized), count: count)
    }

    /// The images as values in [−1, 1].
    public var images: [Float] { dequantized(bytes[...]) }
    public var targets: [Float]? { targetBytes.map { dequantized($0[...]) } }

    public var perImage: Int { count == 0 ? 0 : bytes.count / count }

    /// The examples at `indices` as floats `[N, channels, size, size]`, flipped left–right where
    /// `flips` says so. Stored larger (`loadSize`, pix2pix's jitter), each is the `size`×`size`
    /// crop at its `offsets` (top, left) — the same for an input and its target.
    public func batch(
        _ indices: some Collection<Int>, flips: [Bool] = [], offsets: [(top: Int, left: Int)] = [], channels: Int, size: Int,
        loadSize: Int? = nil
    ) -> Batch {
        let load = loadSize ?? size
        let (stored, out) = (channels * load * load, channels * size * size)
        func gather(_ source: [UInt8]) -> [Float] {
            var values = [Float](repeating: 0, count: indices.count * out)
            for (k, i) in indices.enumerated() {
                let flipped = k < flips.count && flips[k]
                let (top, left) = k < offsets.count ? offsets[k] : ((load - size) / 2, (load - size) / 2)
                for c in 0..<channels {
                    for y in 0..<size {
                        let from = i * stored + (c * load + top + y) * load + left, to = k * out + (c * size + y) * size
                        for x in 0..<size { values[to + x] = pixelValue(source[from + (flipped ? size - 1 - x : x)]) }
                    }
                }
            }
            return values
        }
        return Batch(images: gather(bytes), labels: indices.map { Float(labels[$0]) }, targets: targetBytes.map(gather) ?? [])
    }

    /// The examples center-cropped from `loadSize` to `size` (held-out pairs shown without jitter).
    public func centerCropped(channels: Int, size: Int, loadSize: Int) -> Examples {
        guard loadSize != size else { return self }
        let batch = self.batch(0..<count, channels: channels, size: size, loadSize: loadSize)
        return Examples(images: batch.images, labels: labels, targets: targetBytes == nil ? nil : batch.targets, count: count)
    }

    /// The examples (stored at `size`) at `target` = size / k: each pixel the mean of its k×k
    /// block, rounded to the nearest byte.
    public func boxFiltered(channels: Int, size: Int, to target: Int) -> Examples {
        let k = size / target, plane = channels * target * target
        precondition(k >= 1 && target * k == size, "box filter from \(size) to \(target)")
        func reduce(_ source: [UInt8]) -> [UInt8] {
            var out = [UInt8](repeating: 0, count: count * plane)
            let scale = 1 / Float(k * k)
            out.withUnsafeMutableBufferPointer { outBuffer in
                source.withUnsafeBufferPointer { sourceBuffer in
                    let (out, source) = (
                        UncheckedPointer(outBuffer.baseAddress), UncheckedPointer(UnsafeMutablePointer(mutating: sourceBuffer.baseAddress))
                    )
                    DispatchQueue.concurrentPerform(iterations: count) { i in
                        for c in 0..<channels {
                            for y in 0..<target {
                                for x in 0..<target {
                                    var sum = 0
                                    for dy in 0..<k {
                                        let row = ((i * channels + c) * size + y * k + dy) * size + x * k
                                        for dx in 0..<k { sum += Int(source.pointer![row + dx]) }
                                    }
                                    out.pointer![((i * channels + c) * target + y) * target + x] = UInt8((Float(sum) * scale).rounded())
                                }
                            }
                        }
                    }
                }
            }
            return out
        }
        return Examples(bytes: reduce(bytes), labels: labels, targetBytes: targetBytes.map(reduce), count: count)
    }

    /// The examples at `indices`.
    public func subset(_ indices: [Int]) -> Examples {
        let n = perImage
        func pick(_ source: [UInt8]) -> [UInt8] { indices.flatMap { source[($0 * n)..<(($0 + 1) * n)] } }
        return Examples(bytes: pick(bytes), labels: indices.map { labels[$0] }, targetBytes: targetBytes.map(pick), count: indices.count)
    }
}

/// A pixel's value in [−1, 1] from its byte: the one scale of every decoder and of `Examples`.
@inline(__always) public func pixelValue(_ byte: UInt8) -> Float { Float(byte) / 127.5 - 1 }

/// The nearest byte of a value in [−1, 1] (clamped): `pixelValue`'s inverse on its values.
@inline(__always) public func pixelByte(_ value: Float) -> UInt8 { UInt8(Swift.max(0, Swift.min(255, ((value + 1) * 127.5).rounded()))) }

/// Values in [−1, 1] as their nearest bytes.
public func quantized(_ values: [Float]) -> [UInt8] { values.map(pixelByte) }

/// Bytes as their values in [−1, 1].
public func dequantized(_ bytes: ArraySlice<UInt8>) -> [Float] { bytes.map(pixelValue) }

/// The examples of a data folder: training examples, held-out ones (to show), classes and skipped files.
public struct LoadedData: Sendable {
    public var train: Examples
    public var heldOut: Examples?
    public var classes: Int
    public var skipped: [String]
    /// The classes' names (see `TrainingSet.classNames`).
    public var classNames: [String] = []
}

/// Loads `path` for `model` (named in errors), which trains on `kind`. With `holdOut`, a few
/// examples are kept apart to show: pairs from `val/` (or `test/`), else a seeded choice of up
/// to 32 images; with `heldOutShare`, a seeded choice of that share of the images.
public func loadExamples(
    _ path: String, for model: String, kind: ExampleKind, size: Int, channels: Int, reversedPairs: Bool = false, holdOut: Bool,
    heldOutShare: Double? = nil, loadSize: Int? = nil, log: (String) -> Void
) throws -> LoadedData {
    if kind == .pairs {
        guard DataLayout(path) == .imageFolder else {
            throw DatasetError(
                "\(path): \(model) trains on paired images; give --data a folder with train/ and val/ (or test/) of A|B images side by side, or A/ and B/ folders with matching names"
            )
        }
        // Training pairs at `loadSize` for the loader's random crops; held-out ones at `size`.
        let load = loadSize ?? size
        let sets = try PairedSet.splits(path, size: load, channels: channels, reversed: reversedPairs)
        func examples(_ set: PairedSet) -> Examples {
            Examples(images: set.inputs, labels: [Int](repeating: 0, count: set.count), targets: set.targets, count: set.count)
        }
        var train = examples(sets.train), heldOut = sets.heldOut.map(examples)
        if heldOut == nil && holdOut {
            // No val/ or test/ folder: hold out a few pairs of the training folder
            // (with fewer than ten, show training pairs instead).
            if train.count >= 10 {
                let held = min(4, train.count / 5)
                (heldOut, train) = (train.subset(Array(0..<held)), train.subset(Array(held..<train.count)))
            } else {
                heldOut = train.subset(Array(0..<min(4, train.count)))
                log("warning: \(path) has no val/ or test/ folder and under ten pairs; the triptychs show training pairs")
            }
        }
        warnSkipped(sets.train.skipped, log)
        return LoadedData(
            train: train, heldOut: heldOut?.centerCropped(channels: channels, size: size, loadSize: load), classes: 1,
            skipped: sets.train.skipped)
    }
    // Images to crop at random (super-resolution) are kept at their load size.
    let set = try TrainingSet(path, size: loadSize ?? size, channels: channels)
    warnSkipped(set.skipped, log)
    let all = Examples(bytes: set.bytes, labels: set.labels, targetBytes: nil, count: set.count)
    guard holdOut || heldOutShare != nil else {
        return LoadedData(train: all, heldOut: nil, classes: set.classes, skipped: set.skipped, classNames: set.classNames)
    }
    // Images the model never trains on: a seeded choice of up to 32 (or of the share asked for).
    var rng = SplitMix64(seed: 0x4E1D_0017)
    let heldCount = heldOutShare.map { Int((Double(set.count) * $0).rounded()) } ?? min(32, set.count / 10)
    let held = Set(Array(0..<set.count).shuffled(using: &rng).prefix(heldCount))
    return LoadedData(
        train: all.subset((0..<set.count).filter { !held.contains($0) }), heldOut: held.isEmpty ? nil : all.subset(held.sorted()),
        classes: set.classes, skipped: set.skipped, classNames: set.classNames)
}

private func warnSkipped(_ skipped: [String], _ log: (String) -> Void) {
    if !skipped.isEmpty { log("warning: skipped \(skipped.count) file(s) or row(s) that could not be decoded, e.g. \(skipped[0])") }
}

/// Where one step's images come from when steps differ in batch size and resolution (a
/// progressive GAN's growth): `count` images from position `start` of the run's stream of
/// images (epoch after epoch, each a seeded permutation), at `size`×`size`.
public struct ImageSpan: Equatable, Sendable {
    public var start: Int, count: Int, size: Int
    public init(start: Int, count: Int, size: Int) { (self.start, self.count, self.size) = (start, count, size) }
}

/// The spans of a run's steps, where they vary.
public protocol BatchSchedule: Sendable {
    /// The steps of a run of `epochs` passes over `examples` images (or the schedule's own length).
    func totalSteps(epochs: Int, examples: Int) -> Int
    func span(at step: Int) -> ImageSpan
    /// The phase of the run at `step` where it changes in phases ("16×16 fading in, batch 128"), for the log.
    func phaseName(at step: Int) -> String?
}

extension BatchSchedule {
    public func phaseName(at step: Int) -> String? { nil }
}

/// The batches of every step of a run over `examples`. Used from one thread; the only other
/// is the prefetch queue, which runs `batches(at:)` while the caller waits on the device.
public final class DataLoader: @unchecked Sendable {
    public let examples: Examples
    public let batchSize: Int
    /// Batches one step consumes (a GAN's critic steps per generator step).
    public let batchesPerStep: Int
    public let batchesPerEpoch: Int
    private let seed: UInt64
    private let flip: Bool
    /// Examples are stored at `loadSize` and cropped at random to `size` (pix2pix's jitter).
    private let channels: Int, size: Int, loadSize: Int
    private let prefetched = Prefetcher()
    /// The example order of epoch `orderEpoch`.
    private var order: [Int] = []
    private var orderEpoch = -1
    /// Steps whose batch sizes and resolutions vary take their spans from this (nil: fixed batches).
    public let schedule: (any BatchSchedule)?
    /// The examples box-filtered down to a smaller size, kept for the size now in use only.
    private var reduced: (size: Int, examples: Examples)?

    public init(
        _ examples: Examples, batchSize: Int, batchesPerStep: Int, seed: UInt64, flip: Bool, channels: Int, size: Int, loadSize: Int? = nil,
        schedule: (any BatchSchedule)? = nil
    ) {
        (self.examples, self.batchSize, self.batchesPerStep, self.seed, self.flip) = (examples, batchSize, batchesPerStep, seed, flip)
        (self.channels, self.size, self.loadSize, self.schedule) = (channels, size, loadSize ?? size, schedule)
        batchesPerEpoch = examples.count / batchSize
    }

    /// Steps of one epoch (whole steps only; with a schedule, of its first step's batch size).
    public var stepsPerEpoch: Int { schedule.map { examples.count / max($0.span(at: 0).count, 1) } ?? batchesPerEpoch / batchesPerStep }

    /// The epoch (from 1) that `step` is in.
    public func epoch(ofStep step: Int) -> Int {
        guard let schedule else { return step / max(stepsPerEpoch, 1) + 1 }
        return schedule.span(at: step).start / max(examples.count, 1) + 1
    }

    /// Real images shown in steps `0..<step`.
    public func imagesShown(before step: Int) -> Int {
        guard let schedule else { return step * batchesPerStep * batchSize }
        guard step > 0 else { return 0 }
        let last = schedule.span(at: step - 1)
        return last.start + last.count
    }

    /// The permutation of epoch `epoch`: the same for fixed batches and for spans.
    private func ordering(_ epoch: Int) -> [Int] {
        if epoch != orderEpoch {
            var rng = SplitMix64(seed: seed &+ 0x5EED &* UInt64(epoch + 1))
            order = Array(0..<examples.count)
            order.shuffle(using: &rng)
            orderEpoch = epoch
        }
        return order
    }

    /// The images of `span`: positions `start..<start + count` of the stream of epochs (a span
    /// may cross from one epoch into the next), each flipped by a coin of (seed, position),
    /// box-filtered from the stored size to the span's (an average over each block, as NVIDIA's
    /// dataset tool builds its levels of detail by repeated 2×2 averages).
    public func batch(_ span: ImageSpan) -> Batch {
        let n = examples.count
        var indices: [Int] = [], flips: [Bool] = []
        for position in span.start..<(span.start + span.count) {
            indices.append(ordering(position / n)[position % n])
            var coin = SplitMix64(seed: seed ^ UInt64(position) &* 0x9E37_79B9 ^ 0xF11B)
            flips.append(flip && Bool.random(using: &coin))
        }
        let source = span.size == size ? examples : reducedExamples(span.size)
        return source.batch(indices, flips: flips, channels: channels, size: span.size)
    }

    private func reducedExamples(_ target: Int) -> Examples {
        if let reduced, reduced.size == target { return reduced.examples }
        let made = examples.boxFiltered(channels: channels, size: size, to: target)
        reduced = (target, made)
        return made
    }

    /// The batches of `step`. Epoch `e` visits the examples in a permutation drawn from
    /// (seed, e), so any batch is known without history; flips and crops are drawn from (seed, batch, slot).
    public func batches(at step: Int) -> [Batch] {
        if let schedule { return [batch(schedule.span(at: step))] }
        return (0..<batchesPerStep).map { k in
            let global = step * batchesPerStep + k
            let epoch = global / batchesPerEpoch, index = global % batchesPerEpoch
            let order = ordering(epoch)
            let flips = (0..<batchSize).map { slot in
                var coin = SplitMix64(seed: seed ^ UInt64(global) &* 0x9E37_79B9 ^ UInt64(slot))
                return flip && Bool.random(using: &coin)
            }
            let offsets = (0..<batchSize).map { slot -> (top: Int, left: Int) in
                var rng = SplitMix64(seed: seed ^ UInt64(global) &* 0xC40F_F5E7 ^ UInt64(slot) &+ 0x7177)
                let room = loadSize - size
                return (Int.random(in: 0...room, using: &rng), Int.random(in: 0...room, using: &rng))
            }
            return examples.batch(
                order[(index * batchSize)..<((index + 1) * batchSize)], flips: flips, offsets: offsets, channels: channels, size: size,
                loadSize: loadSize)
        }
    }

    /// The batches of `step`, prepared ahead if they were; starts preparing those of `next`.
    public func take(_ step: Int, prefetching next: Int?) -> [Batch] {
        let current = prefetched.take(step) ?? batches(at: step)
        if let next { prefetched.fill(next) { [self] in batches(at: next) } }
        return current
    }
}

/// The batches of one step, prepared ahead on a background queue.
final class Prefetcher: @unchecked Sendable {
    private let queue = DispatchQueue(label: "genocl.prefetch")
    private var pending: (step: Int, batches: [Batch])?

    /// Starts preparing the batches of `step`.
    func fill(_ step: Int, _ make: @escaping @Sendable () -> [Batch]) {
        queue.async { self.pending = (step, make()) }
    }

    /// The prepared batches of `step`, waiting for them if still being made; nil if another step was prepared.
    func take(_ step: Int) -> [Batch]? {
        queue.sync {
            defer { pending = nil }
            return pending?.step == step ? pending?.batches : nil
        }
    }
}

/// Image `i` of each source in turn (`per` floats an image): rows of side-by-side
/// comparisons (original | reconstruction, input | generated | target).
public func interleaved(_ sources: [[Float]], per: Int, count: Int) -> [Float] {
    var out: [Float] = []
    out.reserveCapacity(sources.count * count * per)
    for i in 0..<count {
        for source in sources { out += source[(i * per)..<((i + 1) * per)] }
    }
    return out
}

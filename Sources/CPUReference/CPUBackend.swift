import TensorGraph

/// Host memory for the CPU reference backend.
final class CPUBuffer: DeviceBuffer, @unchecked Sendable {
    let capacity: Int
    let pointer: UnsafeMutablePointer<Float>

    init(capacity: Int) {
        self.capacity = capacity
        pointer = .allocate(capacity: capacity)
        pointer.initialize(repeating: .nan, count: capacity)  // unwritten values show up as NaN
    }

    deinit { pointer.deallocate() }
}

/// The oracle: plain loops, double accumulation for long sums, no threads or SIMD.
/// Every other backend is tested against it.
public final class CPUBackend: Backend {
    public init() {}

    public var deviceDescription: String { "cpu-reference" }

    public func allocate(elements: Int, label: String) throws -> any DeviceBuffer {
        CPUBuffer(capacity: elements)
    }

    public func write(_ values: [Float], to buffer: any DeviceBuffer) throws {
        let buffer = buffer as! CPUBuffer
        precondition(values.count <= buffer.capacity, "write of \(values.count) values into \(buffer.capacity)")
        values.withUnsafeBufferPointer { buffer.pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    public func read(_ buffer: any DeviceBuffer, count: Int) throws -> [Float] {
        Array(UnsafeBufferPointer(start: (buffer as! CPUBuffer).pointer, count: count))
    }

    public func copy(_ source: any DeviceBuffer, to destination: any DeviceBuffer, count: Int) throws {
        (destination as! CPUBuffer).pointer.update(from: (source as! CPUBuffer).pointer, count: count)
    }

    public func execute(_ op: Op, inputs: [Operand], output: Operand, step: UInt64) throws {
        let x = inputs.map { UnsafePointer(($0.buffer as! CPUBuffer).pointer) }
        let xs = inputs.map(\.shape)
        let y = (output.buffer as! CPUBuffer).pointer
        let ys = output.shape
        switch op {
        case .placeholder, .variable, .constant, .allReduce:
            preconditionFailure("\(op.name) is run by the plan, not executed")
        case .fill(let value, _):
            y.update(repeating: value, count: ys.count)
        case .random(let distribution, let seed, _, let offset):
            randomFill(y, count: ys.count, distribution, seed: seed, step: step, offset: offset)
        case .unary(let unary):
            unaryForward(unary, x[0], y, count: ys.count)
        case .binary(let binary):
            binaryForward(binary, x[0], x[1], y, count: ys.count)
        case .select:
            for i in 0..<ys.count { y[i] = x[0][i] != 0 ? x[1][i] : x[2][i] }
        case .reshape:
            y.update(from: x[0], count: ys.count)
        case .stopGradient:
            y.update(from: x[0], count: ys.count)
        case .permute(let permutation):
            permuteForward(x[0], xs[0], y, permutation)
        case .expand(let shape):
            expandForward(x[0], xs[0], y, shape)
        case .concat(let axis):
            concatForward(x, xs, y, ys, axis: axis)
        case .slice(let starts, _):
            sliceForward(x[0], xs[0], y, ys, starts: starts)
        case .pad(let before, _):
            padForward(x[0], xs[0], y, ys, before: before)
        case .reduce(let reduce, let axes, _):
            reduceForward(reduce, x[0], xs[0], y, axes: axes, z: x.count > 1 ? x[1] : nil)
        case .matmul(let transposeA, let transposeB):
            matmulForward(x[0], xs[0], x[1], xs[1], y, ys, transposeA: transposeA, transposeB: transposeB)
        case .conv2d(let config):
            conv2dForward(x[0], xs[0], x[1], xs[1], y, ys, config)
        case .convTranspose2d(let config, _):
            convTranspose2dForward(x[0], xs[0], x[1], xs[1], y, ys, config)
        case .conv2dBackwardWeight(let config, _):
            conv2dBackwardWeight(x[0], xs[0], x[1], xs[1], y, ys, config)
        case .upsampleNearest(let factor):
            upsampleNearestForward(x[0], y, ys, factor: factor)
        case .upsampleBilinear2x:
            upsampleBilinear2xForward(x[0], xs[0], y, ys)
        case .upsampleBilinear2xBackward:
            upsampleBilinear2xBackward(x[0], xs[0], y, ys)
        case .avgPool2d(let config):
            avgPool2dForward(x[0], xs[0], y, ys, config)
        case .avgPool2dBackward(let config, _):
            avgPool2dBackward(x[0], xs[0], y, ys, config)
        case .optimizerUpdate(let rule, let index):
            optimizerUpdate(rule, output: index, x, y, count: ys.count)
        case .oneHot(let depth):
            if let error = oneHotForward(x[0], y, rows: xs[0].count, depth: depth) { throw error }
        }
    }
}

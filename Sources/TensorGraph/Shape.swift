/// The dimensions of a float32 tensor, outermost first (NCHW for images).
public struct Shape: Hashable, Sendable, CustomStringConvertible, ExpressibleByArrayLiteral {
    public var dims: [Int]

    public init(_ dims: [Int]) { self.dims = dims }
    public init(arrayLiteral dims: Int...) { self.dims = dims }

    public var rank: Int { dims.count }
    /// Number of elements (1 for a scalar of rank 0).
    public var count: Int { dims.reduce(1, *) }
    public subscript(axis: Int) -> Int { dims[axis] }

    /// Row-major strides in elements.
    public var strides: [Int] {
        var result = [Int](repeating: 1, count: dims.count)
        var stride = 1
        for axis in dims.indices.reversed() {
            result[axis] = stride
            stride *= dims[axis]
        }
        return result
    }

    public var description: String { "[" + dims.map(String.init).joined(separator: ", ") + "]" }

    /// NumPy broadcasting of two shapes, or nil when they are incompatible.
    public static func broadcast(_ a: Shape, _ b: Shape) -> Shape? {
        let rank = max(a.rank, b.rank)
        var dims = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.rank ? 1 : a.dims[i - (rank - a.rank)]
            let db = i < rank - b.rank ? 1 : b.dims[i - (rank - b.rank)]
            if da == db || db == 1 {
                dims[i] = da
            } else if da == 1 {
                dims[i] = db
            } else {
                return nil
            }
        }
        return Shape(dims)
    }

    /// The shape after reducing `axes` (kept as size 1 with `keepDims`).
    public func reduced(over axes: [Int], keepDims: Bool) -> Shape {
        var dims: [Int] = []
        for (axis, size) in self.dims.enumerated() {
            if axes.contains(axis) {
                if keepDims { dims.append(1) }
            } else {
                dims.append(size)
            }
        }
        return Shape(dims)
    }
}

/// A height/width pair for convolution and pooling settings.
public struct Size2: Hashable, Sendable, CustomStringConvertible {
    public var h: Int
    public var w: Int
    public init(_ h: Int, _ w: Int) { self.h = h; self.w = w }
    public init(_ both: Int) { self.h = both; self.w = both }
    public var description: String { "(\(h), \(w))" }
}

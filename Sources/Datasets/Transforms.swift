// Image transforms on `[C, H, W]` floats: resize (area when shrinking, bilinear
// when growing), center crop, horizontal flip, grayscale ↔ RGB. Values stay in
// whatever range they came in ([−1, 1] after loading).

/// One image, `[channels, height, width]` row-major.
public struct Image: Equatable, Sendable {
    public var channels: Int, height: Int, width: Int
    public var pixels: [Float]

    public init(channels: Int, height: Int, width: Int, pixels: [Float]) {
        precondition(pixels.count == channels * height * width, "image of \(channels)×\(height)×\(width) with \(pixels.count) values")
        (self.channels, self.height, self.width, self.pixels) = (channels, height, width, pixels)
    }

    public subscript(c: Int, y: Int, x: Int) -> Float { pixels[(c * height + y) * width + x] }

    /// Resized to `height`×`width`: area averaging when shrinking an axis, bilinear
    /// (align_corners = false) when growing it.
    public func resized(height newHeight: Int, width newWidth: Int) -> Image {
        if newHeight == height && newWidth == width { return self }
        return resampled(rows: weights(from: height, to: newHeight), columns: weights(from: width, to: newWidth))
    }

    /// Each output pixel the weighted sum of the taps of its row and column.
    private func resampled(rows: [[(Int, Float)]], columns: [[(Int, Float)]]) -> Image {
        let (newHeight, newWidth) = (rows.count, columns.count)
        var out = [Float](repeating: 0, count: channels * newHeight * newWidth)
        for c in 0..<channels {
            for (y, rowTaps) in rows.enumerated() {
                for (x, columnTaps) in columns.enumerated() {
                    var sum: Float = 0
                    for (sy, wy) in rowTaps {
                        for (sx, wx) in columnTaps { sum += wy * wx * self[c, sy, sx] }
                    }
                    out[(c * newHeight + y) * newWidth + x] = sum
                }
            }
        }
        return Image(channels: channels, height: newHeight, width: newWidth, pixels: out)
    }

    /// Resized bilinearly on both axes, shrinking too (no antialiasing): PyTorch's
    /// `F.interpolate(mode="bilinear", align_corners=False)`, pytorch-fid's resize to 299.
    public func bilinearResized(height newHeight: Int, width newWidth: Int) -> Image {
        if newHeight == height && newWidth == width { return self }
        return resampled(rows: bilinearWeights(from: height, to: newHeight), columns: bilinearWeights(from: width, to: newWidth))
    }

    /// Resized by bicubic interpolation (Keys' kernel with a = −0.5, as PIL's and MATLAB's;
    /// sample centres aligned as `align_corners = false`; edges repeated): the baseline a
    /// super-resolution model is measured against.
    public func bicubicResized(height newHeight: Int, width newWidth: Int) -> Image {
        resampled(rows: cubicWeights(from: height, to: newHeight), columns: cubicWeights(from: width, to: newWidth))
    }

    /// The central `height`×`width` region.
    public func centerCropped(height newHeight: Int, width newWidth: Int) -> Image {
        cropped(top: max((height - newHeight) / 2, 0), left: max((width - newWidth) / 2, 0), height: newHeight, width: newWidth)
    }

    /// The `height`×`width` region at (`top`, `left`), clipped to the image.
    public func cropped(top: Int, left: Int, height newHeight: Int, width newWidth: Int) -> Image {
        let h = min(newHeight, height - top), w = min(newWidth, width - left)
        var out: [Float] = []
        out.reserveCapacity(channels * h * w)
        for c in 0..<channels {
            for y in top..<(top + h) {
                let start: Int = (c * height + y) * width + left
                out += pixels[start..<(start + w)]
            }
        }
        return Image(channels: channels, height: h, width: w, pixels: out)
    }

    /// Mirrored left–right.
    public func flippedHorizontally() -> Image {
        var out = pixels
        for row in 0..<(channels * height) {
            for x in 0..<width { out[row * width + x] = pixels[row * width + (width - 1 - x)] }
        }
        return Image(channels: channels, height: height, width: width, pixels: out)
    }

    /// With `count` channels: gray is repeated to RGB; RGB becomes luma (ITU-R 601) for gray.
    public func withChannels(_ count: Int) -> Image {
        if count == channels { return self }
        let plane = height * width
        if channels == 1 {
            return Image(channels: count, height: height, width: width, pixels: Array([[Float]](repeating: pixels, count: count).joined()))
        }
        precondition(channels >= 3 && count == 1, "channel conversion \(channels) → \(count) is not supported")
        let luma = (0..<plane).map { 0.299 * pixels[$0] + 0.587 * pixels[plane + $0] + 0.114 * pixels[2 * plane + $0] }
        return Image(channels: 1, height: height, width: width, pixels: luma)
    }
}

/// For each output index, its source indices and weights along one axis.
private func weights(from size: Int, to newSize: Int) -> [[(Int, Float)]] {
    let scale = Float(size) / Float(newSize)
    if newSize < size {
        // Area: the output covers [i·scale, (i + 1)·scale) of the input.
        return (0..<newSize).map { i in
            let start = Float(i) * scale, end = Float(i + 1) * scale
            var taps: [(Int, Float)] = []
            var s = Int(start)
            while Float(s) < end && s < size {
                let overlap = min(end, Float(s + 1)) - max(start, Float(s))
                if overlap > 0 { taps.append((s, overlap / scale)) }
                s += 1
            }
            return taps
        }
    }
    return bilinearWeights(from: size, to: newSize)
}

/// Bilinear taps with `align_corners = false` at any scale (no antialiasing when shrinking).
private func bilinearWeights(from size: Int, to newSize: Int) -> [[(Int, Float)]] {
    let scale = Float(size) / Float(newSize)
    return (0..<newSize).map { i in
        let source = max((Float(i) + 0.5) * scale - 0.5, 0)
        let i0 = min(Int(source), size - 1), i1 = min(i0 + 1, size - 1)
        let l = source - Float(i0)
        if i0 == i1 { return [(i0, Float(1))] }
        return [(i0, 1 - l), (i1, l)]
    }
}

/// The bicubic resize of one axis from `size` to `newSize` as a `[newSize, size]` matrix (row-major):
/// `Image.bicubicResized` as a linear map, for graphs that resize by matrix products.
public func bicubicMatrix(from size: Int, to newSize: Int) -> [Float] {
    var matrix = [Float](repeating: 0, count: newSize * size)
    for (i, taps) in cubicWeights(from: size, to: newSize).enumerated() { for (s, w) in taps { matrix[i * size + s] += w } }
    return matrix
}

/// Keys' cubic convolution kernel with a = −0.5.
private func cubic(_ t: Float) -> Float {
    let (x, a): (Float, Float) = (Swift.abs(t), -0.5)
    if x <= 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
    if x < 2 { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
    return 0
}

/// Bicubic taps along one axis (when shrinking, the kernel is stretched by the scale, as PIL's).
private func cubicWeights(from size: Int, to newSize: Int) -> [[(Int, Float)]] {
    let scale = Float(size) / Float(newSize), support = Swift.max(scale, 1)
    return (0..<newSize).map { i in
        let centre = (Float(i) + 0.5) * scale - 0.5
        let first = Int((centre - 2 * support).rounded(.up)), last = Int((centre + 2 * support).rounded(.down))
        var taps: [Int: Float] = [:]
        for s in first...last {
            let weight = cubic((Float(s) - centre) / support)
            if weight != 0 { taps[Swift.min(Swift.max(s, 0), size - 1), default: 0] += weight }
        }
        let total = taps.values.reduce(0, +)
        return taps.sorted { $0.key < $1.key }.map { ($0.key, $0.value / total) }
    }
}

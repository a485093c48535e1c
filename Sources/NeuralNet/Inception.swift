// The FID variant of Inception-v3: the network pytorch-fid and TensorFlow's FID code use
// (torchvision's Inception3 with 1008 classes and no auxiliary head, whose Mixed_5b–5d,
// 6b–6e and 7b blocks average-pool without counting the padding and whose 7c block
// max-pools), with torchvision's state_dict names. Inference only: BatchNorm (ε 0.001)
// uses its running statistics. Weights come from a file (tools/convert-inception turns
// pytorch-fid's published .pth into safetensors; no package ships them).
import TensorGraph

/// BasicConv2d: a convolution without bias, BatchNorm (ε 0.001) and ReLU (`conv.weight`, `bn.*`).
final class BasicConv: Layer {
    let weight: Parameter
    let norm: BatchNorm
    let stride: Size2, padding: Size2

    init(_ inputs: Int, _ outputs: Int, kernel: Size2, stride: Int = 1, padding: Size2 = Size2(0)) {
        weight = Parameter("weight", shape: [outputs, inputs, kernel.h, kernel.w], fill: 0)
        norm = BatchNorm(outputs, epsilon: 1e-3)
        (self.stride, self.padding) = (Size2(stride), padding)
    }

    convenience init(_ inputs: Int, _ outputs: Int, kernel: Int, stride: Int = 1, padding: Int = 0) {
        self.init(inputs, outputs, kernel: Size2(kernel), stride: stride, padding: Size2(padding))
    }

    var namedParameters: [(name: String, parameter: Parameter)] {
        [("conv.weight", weight), ("bn.weight", norm.weight), ("bn.bias", norm.bias)]
    }
    /// The running statistics only: pytorch-fid's weights file has no `num_batches_tracked`.
    var namedBuffers: [(name: String, parameter: Parameter)] {
        [("bn.running_mean", norm.runningMean), ("bn.running_var", norm.runningVariance)]
    }

    func callAsFunction(_ x: Tensor, _ context: ForwardContext) -> Tensor {
        relu(norm(conv2d(x, context.current(weight, in: x.graph), stride: stride, padding: padding), context))
    }
}

/// Named children as one layer (an Inception block's branches), each child's state prefixed by its name.
class NamedLayers: Layer {
    let children: [(name: String, layer: any Layer)]
    init(_ children: [(String, any Layer)]) { self.children = children.map { (name: $0.0, layer: $0.1) } }
    subscript(_ name: String) -> any Layer { children.first { $0.name == name }!.layer }
    var namedParameters: [(name: String, parameter: Parameter)] {
        children.flatMap { child in child.layer.namedParameters.map { (child.name + "." + $0.name, $0.parameter) } }
    }
    var namedBuffers: [(name: String, parameter: Parameter)] {
        children.flatMap { child in child.layer.namedBuffers.map { (child.name + "." + $0.name, $0.parameter) } }
    }
    /// Module by module, as `state_dict()` orders them.
    var namedState: [(name: String, parameter: Parameter)] {
        children.flatMap { child in child.layer.namedState.map { (child.name + "." + $0.name, $0.parameter) } }
    }
    func callAsFunction(_ x: Tensor, _ context: ForwardContext) -> Tensor { x }

    /// The children named `names`, applied in turn to `x`.
    func chain(_ names: [String], _ x: Tensor, _ context: ForwardContext) -> Tensor { names.reduce(x) { self[$1]($0, context) } }
}

/// 3×3 max pooling with `stride` 1 or 2 and `padding`. Padding is zeros, which equals
/// PyTorch's −∞ padding for the non-negative (ReLU) inputs it is used on here.
public func maxPool3x3(_ x: Tensor, stride: Int, padding: Int = 0) -> Tensor {
    precondition(stride == 1 || stride == 2, "maxPool3x3 strides by 1 or 2")
    var padded = padding > 0 ? x.padded(before: [0, 0, padding, padding], after: [0, 0, padding, padding]) : x
    let (n, c, h, w) = (padded.shape[0], padded.shape[1], padded.shape[2], padded.shape[3])
    let (oh, ow) = ((h - 3) / stride + 1, (w - 3) / stride + 1)
    var windows: [Tensor] = []
    if stride == 1 {
        for dy in 0..<3 { for dx in 0..<3 { windows.append(padded.sliced(starts: [0, 0, dy, dx], sizes: [n, c, oh, ow])) } }
    } else {
        // The four phases of each 2×2 block: the tap (dy, dx) of output (i, j) is phase
        // (dy mod 2, dx mod 2) at (i + dy/2, j + dx/2).
        padded = padded.padded(before: [0, 0, 0, 0], after: [0, 0, h % 2, w % 2])
        let phases = pixelUnshuffle(padded, factor: 2).reshaped([n, c, 4, (h + 1) / 2, (w + 1) / 2])
        for dy in 0..<3 {
            for dx in 0..<3 {
                windows.append(
                    phases.sliced(starts: [0, 0, (dy % 2) * 2 + dx % 2, dy / 2, dx / 2], sizes: [n, c, 1, oh, ow]).reshaped([n, c, oh, ow]))
            }
        }
    }
    return windows.dropFirst().reduce(windows[0]) { maximum($0, $1) }
}

/// 3×3 average pooling, stride 1, padding 1, averaging only the pixels inside the image
/// (`count_include_pad=False`, TensorFlow's way).
public func averagePool3x3ExcludingPadding(_ x: Tensor) -> Tensor {
    let (h, w) = (x.shape[2], x.shape[3])
    // The number of pixels inside each window: 9 inside, 6 on an edge, 4 at a corner.
    let counts = (0..<(h * w)).map { i -> Float in
        let (y, x) = (i / w, i % w)
        return Float((min(y + 1, h - 1) - max(y - 1, 0) + 1) * (min(x + 1, w - 1) - max(x - 1, 0) + 1))
    }
    let scale = x.graph.constant(counts.map { 9 / $0 }, [1, 1, h, w])
    return avgPool2d(x, kernel: Size2(3), stride: Size2(1), padding: Size2(1)) * scale
}

public final class FIDInceptionV3 {
    /// The feature vector's size (the last average pool) and the classes of the logits.
    public static let features = 2048, classes = 1008
    /// The input size pytorch-fid resizes images to.
    public static let inputSize = 299

    let blocks: NamedLayers
    let fc: Linear

    public init() {
        var rng = SplitMix64(seed: 0)
        func a(_ inputs: Int, _ pool: Int) -> NamedLayers {
            NamedLayers([
                ("branch1x1", BasicConv(inputs, 64, kernel: 1)), ("branch5x5_1", BasicConv(inputs, 48, kernel: 1)),
                ("branch5x5_2", BasicConv(48, 64, kernel: 5, padding: 2)), ("branch3x3dbl_1", BasicConv(inputs, 64, kernel: 1)),
                ("branch3x3dbl_2", BasicConv(64, 96, kernel: 3, padding: 1)), ("branch3x3dbl_3", BasicConv(96, 96, kernel: 3, padding: 1)),
                ("branch_pool", BasicConv(inputs, pool, kernel: 1)),
            ])
        }
        func c(_ c7: Int) -> NamedLayers {
            let (row, column) = ((Size2(1, 7), Size2(0, 3)), (Size2(7, 1), Size2(3, 0)))
            return NamedLayers([
                ("branch1x1", BasicConv(768, 192, kernel: 1)), ("branch7x7_1", BasicConv(768, c7, kernel: 1)),
                ("branch7x7_2", BasicConv(c7, c7, kernel: row.0, padding: row.1)),
                ("branch7x7_3", BasicConv(c7, 192, kernel: column.0, padding: column.1)),
                ("branch7x7dbl_1", BasicConv(768, c7, kernel: 1)),
                ("branch7x7dbl_2", BasicConv(c7, c7, kernel: column.0, padding: column.1)),
                ("branch7x7dbl_3", BasicConv(c7, c7, kernel: row.0, padding: row.1)),
                ("branch7x7dbl_4", BasicConv(c7, c7, kernel: column.0, padding: column.1)),
                ("branch7x7dbl_5", BasicConv(c7, 192, kernel: row.0, padding: row.1)), ("branch_pool", BasicConv(768, 192, kernel: 1)),
            ])
        }
        func e(_ inputs: Int) -> NamedLayers {
            let (row, column) = ((Size2(1, 3), Size2(0, 1)), (Size2(3, 1), Size2(1, 0)))
            return NamedLayers([
                ("branch1x1", BasicConv(inputs, 320, kernel: 1)), ("branch3x3_1", BasicConv(inputs, 384, kernel: 1)),
                ("branch3x3_2a", BasicConv(384, 384, kernel: row.0, padding: row.1)),
                ("branch3x3_2b", BasicConv(384, 384, kernel: column.0, padding: column.1)),
                ("branch3x3dbl_1", BasicConv(inputs, 448, kernel: 1)), ("branch3x3dbl_2", BasicConv(448, 384, kernel: 3, padding: 1)),
                ("branch3x3dbl_3a", BasicConv(384, 384, kernel: row.0, padding: row.1)),
                ("branch3x3dbl_3b", BasicConv(384, 384, kernel: column.0, padding: column.1)),
                ("branch_pool", BasicConv(inputs, 192, kernel: 1)),
            ])
        }
        blocks = NamedLayers([
            ("Conv2d_1a_3x3", BasicConv(3, 32, kernel: 3, stride: 2)), ("Conv2d_2a_3x3", BasicConv(32, 32, kernel: 3)),
            ("Conv2d_2b_3x3", BasicConv(32, 64, kernel: 3, padding: 1)), ("Conv2d_3b_1x1", BasicConv(64, 80, kernel: 1)),
            ("Conv2d_4a_3x3", BasicConv(80, 192, kernel: 3)),
            ("Mixed_5b", a(192, 32)), ("Mixed_5c", a(256, 64)), ("Mixed_5d", a(288, 64)),
            (
                "Mixed_6a",
                NamedLayers([
                    ("branch3x3", BasicConv(288, 384, kernel: 3, stride: 2)), ("branch3x3dbl_1", BasicConv(288, 64, kernel: 1)),
                    ("branch3x3dbl_2", BasicConv(64, 96, kernel: 3, padding: 1)),
                    ("branch3x3dbl_3", BasicConv(96, 96, kernel: 3, stride: 2)),
                ])
            ),
            ("Mixed_6b", c(128)), ("Mixed_6c", c(160)), ("Mixed_6d", c(160)), ("Mixed_6e", c(192)),
            (
                "Mixed_7a",
                NamedLayers([
                    ("branch3x3_1", BasicConv(768, 192, kernel: 1)), ("branch3x3_2", BasicConv(192, 320, kernel: 3, stride: 2)),
                    ("branch7x7x3_1", BasicConv(768, 192, kernel: 1)),
                    ("branch7x7x3_2", BasicConv(192, 192, kernel: Size2(1, 7), padding: Size2(0, 3))),
                    ("branch7x7x3_3", BasicConv(192, 192, kernel: Size2(7, 1), padding: Size2(3, 0))),
                    ("branch7x7x3_4", BasicConv(192, 192, kernel: 3, stride: 2)),
                ])
            ),
            ("Mixed_7b", e(1280)), ("Mixed_7c", e(2048)),
        ])
        fc = Linear(Self.features, Self.classes, initializer: .constant(0), rng: &rng)
    }

    /// torchvision's names: `Conv2d_1a_3x3.conv.weight`, …, `Mixed_7c.branch_pool.bn.running_var`, `fc.weight`, `fc.bias`.
    public var module: Module { Module([("", blocks), ("fc", fc)]) }

    /// Images `[N, 3, H, W]` in [−1, 1] (pytorch-fid's input after its resize and scaling) →
    /// the 2048 pool features and the 1008 logits.
    public func callAsFunction(_ images: Tensor, _ context: ForwardContext) -> (features: Tensor, logits: Tensor) {
        var x = blocks.chain(["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3"], images, context)
        x = blocks.chain(["Conv2d_3b_1x1", "Conv2d_4a_3x3"], maxPool3x3(x, stride: 2), context)
        x = maxPool3x3(x, stride: 2)
        for name in ["Mixed_5b", "Mixed_5c", "Mixed_5d"] {
            let block = blocks[name] as! NamedLayers
            x = concat(
                [
                    block.chain(["branch1x1"], x, context), block.chain(["branch5x5_1", "branch5x5_2"], x, context),
                    block.chain(["branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"], x, context),
                    block.chain(["branch_pool"], averagePool3x3ExcludingPadding(x), context),
                ], axis: 1)
        }
        let b = blocks["Mixed_6a"] as! NamedLayers
        x = concat(
            [
                b.chain(["branch3x3"], x, context), b.chain(["branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"], x, context),
                maxPool3x3(x, stride: 2),
            ], axis: 1)
        for name in ["Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"] {
            let block = blocks[name] as! NamedLayers
            x = concat(
                [
                    block.chain(["branch1x1"], x, context), block.chain(["branch7x7_1", "branch7x7_2", "branch7x7_3"], x, context),
                    block.chain(["branch7x7dbl_1", "branch7x7dbl_2", "branch7x7dbl_3", "branch7x7dbl_4", "branch7x7dbl_5"], x, context),
                    block.chain(["branch_pool"], averagePool3x3ExcludingPadding(x), context),
                ], axis: 1)
        }
        let d = blocks["Mixed_7a"] as! NamedLayers
        x = concat(
            [
                d.chain(["branch3x3_1", "branch3x3_2"], x, context),
                d.chain(["branch7x7x3_1", "branch7x7x3_2", "branch7x7x3_3", "branch7x7x3_4"], x, context), maxPool3x3(x, stride: 2),
            ], axis: 1)
        for name in ["Mixed_7b", "Mixed_7c"] {
            let block = blocks[name] as! NamedLayers
            let wide = block.chain(["branch3x3_1"], x, context)
            let deep = block.chain(["branch3x3dbl_1", "branch3x3dbl_2"], x, context)
            // 7b average-pools without the padding; 7c max-pools (pytorch-fid's FIDInceptionE_2).
            let pooled = name == "Mixed_7b" ? averagePool3x3ExcludingPadding(x) : maxPool3x3(x, stride: 1, padding: 1)
            x = concat(
                [
                    block.chain(["branch1x1"], x, context),
                    block.chain(["branch3x3_2a"], wide, context), block.chain(["branch3x3_2b"], wide, context),
                    block.chain(["branch3x3dbl_3a"], deep, context), block.chain(["branch3x3dbl_3b"], deep, context),
                    block.chain(["branch_pool"], pooled, context),
                ], axis: 1)
        }
        let features = x.mean(axes: [2, 3])
        return (features, fc(features, context))
    }
}

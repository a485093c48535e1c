// VGG-16's convolutional features (Simonyan & Zisserman; torchvision's `vgg16().features`,
// with its `features.N.weight` names), the network of Johnson et al.'s perceptual loss.
// Weights come from a file (no package ships them: tools/convert-vgg16 turns torchvision's
// .pth into safetensors). Inputs are images in [−1, 1], normalized here as torchvision's
// ImageNet models expect; gray images are repeated to three channels.
import TensorGraph

public final class VGG16Features {
    /// torchvision's layer list: 64, 64, M, 128, 128, M, 256 ×3, M, 512 ×3, M, 512 ×3, M.
    static let widths: [Int?] = [64, 64, nil, 128, 128, nil, 256, 256, 256, nil, 512, 512, 512, nil, 512, 512, 512, nil]
    /// Each ReLU's name (`relu2_2`: block 2, convolution 2) and its index in `features`.
    public static let layers: [String: Int] = {
        var names: [String: Int] = [:]
        var (index, block, conv) = (0, 1, 0)
        for width in widths {
            if width == nil {
                (index, block, conv) = (index + 1, block + 1, 0)
            } else {
                conv += 1
                names["relu\(block)_\(conv)"] = index + 1
                index += 2
            }
        }
        return names
    }()

    public let features: Sequential

    /// The layers through `last` (the deepest one used: a perceptual loss at relu2_2 needs four
    /// convolutions of the thirteen), their weights zero until loaded from a file.
    public init(through last: String = "relu5_3") {
        var rng = SplitMix64(seed: 0)
        var layers: [any Layer] = [], inputs = 3
        for width in Self.widths where layers.count <= Self.layers[last]! {
            if let width {
                layers += [Conv2D(inputs, width, kernel: 3, padding: 1, initializer: .constant(0), rng: &rng), Activation.relu()]
                inputs = width
            } else {
                layers.append(Activation { maxPool2x2($0) })
            }
        }
        features = Sequential(Array(layers.prefix(Self.layers[last]! + 1)))
    }

    /// `features.*`, as torchvision's state_dict names them.
    public var module: Module { Module([("features", features)]) }

    /// The activations of `layer` (`relu2_2`, …) for images `[N, 1 or 3, H, W]` in [−1, 1].
    public func callAsFunction(_ images: Tensor, layer: String, _ context: ForwardContext) -> Tensor {
        let last = Self.layers[layer]!
        precondition(last < features.layers.count, "VGG-16 built through layer \(features.layers.count - 1), asked for \(layer)")
        let rgb = images.shape[1] == 1 ? concat([images, images, images], axis: 1) : images
        let g = images.graph
        let mean = g.constant([0.485, 0.456, 0.406], [1, 3, 1, 1]), std = g.constant([0.229, 0.224, 0.225], [1, 3, 1, 1])
        var x = ((rgb + 1) * 0.5 - mean) / std
        for layer in features.layers.prefix(last + 1) { x = layer(x, context) }
        return x
    }
}

/// 2×2 max pooling with stride 2 (`nn.MaxPool2d(2)`): the largest of each block.
public func maxPool2x2(_ x: Tensor) -> Tensor {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2] / 2, x.shape[3] / 2)
    let cropped = x.shape[2] % 2 == 0 && x.shape[3] % 2 == 0 ? x : x.sliced(starts: [0, 0, 0, 0], sizes: [n, c, 2 * h, 2 * w])
    return pixelUnshuffle(cropped, factor: 2).reshaped([n, c, 4, h, w]).max(axes: [2])
}

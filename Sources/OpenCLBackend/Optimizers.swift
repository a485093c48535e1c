// Fused optimizer updates → Kernels/optimizers.cl.
import OpenCLRuntime
import TensorGraph

/// Output `output` of `rule` into `y`; output −1: all of them over the inputs they replace.
func optimizerWork(_ rule: OptimizerRule, output: Int, _ x: [CLBuffer], _ y: CLBuffer, count elements: Int, spread: ElementSpread) -> Work {
    let buffers = x.map { KernelArgument.buffer($0) } + [.buffer(y), .int(Int32(output))]
    let tail = spread.arguments(elements)
    let count = spread.workItems
    switch rule {
    case .sgd(let lr, let momentum, let dampening, let nesterov):
        return .kernel(
            "sgd_update", count: count, buffers + [.float(lr), .float(momentum), .float(dampening), .int(nesterov ? 1 : 0)] + tail)
    case .adam(let lr, let beta1, let beta2, let epsilon):
        return .kernel("adam_update", count: count, buffers + [.float(lr), .float(beta1), .float(beta2), .float(epsilon)] + tail)
    case .nadam(let lr, let beta1, let beta2, let epsilon, let decay):
        return .kernel(
            "nadam_update", count: count, buffers + [.float(lr), .float(beta1), .float(beta2), .float(epsilon), .float(decay)] + tail)
    case .rmsprop(let lr, let alpha, let epsilon):
        return .kernel("rmsprop_update", count: count, buffers + [.float(lr), .float(alpha), .float(epsilon)] + tail)
    }
}

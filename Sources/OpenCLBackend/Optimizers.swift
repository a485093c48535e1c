// Fused optimizer updates → Kernels/optim.cl.
import OpenCLRuntime
import TensorGraph

func optimizerWork(_ rule: OptimizerRule, output: Int, _ x: [CLBuffer], _ y: CLBuffer, count elements: Int) -> Work {
    // The kernels walk the elements with a grid stride; this many work-items fill any device.
    let count = min(elements, 1 << 16)
    let buffers = x.map { KernelArgument.buffer($0) } + [.buffer(y), .int(Int32(output))]
    switch rule {
    case .sgd(let lr, let momentum, let dampening, let nesterov):
        return .kernel("sgd_update", count: count, buffers + [.float(lr), .float(momentum), .float(dampening), .int(nesterov ? 1 : 0), .int(Int32(elements))])
    case .adam(let lr, let beta1, let beta2, let epsilon):
        return .kernel("adam_update", count: count, buffers + [.float(lr), .float(beta1), .float(beta2), .float(epsilon), .int(Int32(elements))])
    case .nadam(let lr, let beta1, let beta2, let epsilon, let decay):
        return .kernel("nadam_update", count: count, buffers + [.float(lr), .float(beta1), .float(beta2), .float(epsilon), .float(decay), .int(Int32(elements))])
    case .rmsprop(let lr, let alpha, let epsilon):
        return .kernel("rmsprop_update", count: count, buffers + [.float(lr), .float(alpha), .float(epsilon), .int(Int32(elements))])
    }
}

// Fused optimizer updates (PyTorch's rules), one output per call, computed in
// Double per element from the same inputs as the OpenCL kernels.
import Foundation
import TensorGraph

func optimizerUpdate(_ rule: OptimizerRule, output: Int, _ x: [UnsafePointer<Float>], _ y: UnsafeMutablePointer<Float>, count: Int) {
    switch rule {
    case .sgd(let lr, let momentum, let dampening, let nesterov):
        let t = Double(x[3][0])
        for i in 0..<count {
            let (p, g, b) = (Double(x[0][i]), Double(x[1][i]), Double(x[2][i]))
            let b2 = t == 1 ? g : Double(momentum) * b + (1 - Double(dampening)) * g
            let direction = momentum == 0 ? g : nesterov ? g + Double(momentum) * b2 : b2
            y[i] = Float(output == 0 ? b2 : p - Double(lr) * direction)
        }
    case .adam(let lr, let beta1, let beta2, let epsilon):
        let t = Double(x[4][0])
        let (b1, b2) = (Double(beta1), Double(beta2))
        for i in 0..<count {
            let (p, g) = (Double(x[0][i]), Double(x[1][i]))
            let m = b1 * Double(x[2][i]) + (1 - b1) * g
            let v = b2 * Double(x[3][i]) + (1 - b2) * g * g
            let step = Double(lr) * (m / (1 - pow(b1, t))) / ((v / (1 - pow(b2, t))).squareRoot() + Double(epsilon))
            y[i] = Float(output == 0 ? m : output == 1 ? v : p - step)
        }
    case .nadam(let lr, let beta1, let beta2, let epsilon, let decay):
        let (t, product) = (Double(x[4][0]), Double(x[5][0]))
        let (b1, b2) = (Double(beta1), Double(beta2))
        let mu = b1 * (1 - 0.5 * pow(0.96, t * Double(decay))), muNext = b1 * (1 - 0.5 * pow(0.96, (t + 1) * Double(decay)))
        for i in 0..<count {
            let (p, g) = (Double(x[0][i]), Double(x[1][i]))
            let m = b1 * Double(x[2][i]) + (1 - b1) * g
            let v = b2 * Double(x[3][i]) + (1 - b2) * g * g
            let denominator = (v / (1 - pow(b2, t))).squareRoot() + Double(epsilon)
            let step = Double(lr) * ((1 - mu) / (1 - product) * g + muNext / (1 - product * muNext) * m) / denominator
            y[i] = Float(output == 0 ? m : output == 1 ? v : p - step)
        }
    case .rmsprop(let lr, let alpha, let epsilon):
        for i in 0..<count {
            let (p, g) = (Double(x[0][i]), Double(x[1][i]))
            let v = Double(alpha) * Double(x[2][i]) + (1 - Double(alpha)) * g * g
            y[i] = Float(output == 0 ? v : p - Double(lr) * g / (v.squareRoot() + Double(epsilon)))
        }
    }
}

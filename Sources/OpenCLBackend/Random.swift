// Random family → Kernels/random.cl (Philox 4×32-10, as the CPU reference).
import OpenCLRuntime
import TensorGraph

func randomWork(_ y: CLBuffer, count: Int, _ distribution: RandomDistribution, seed: UInt64, step: UInt64, offset: Int) -> Work {
    let (code, p): (Int32, [Float])
    switch distribution {
    case .uniform(let low, let high): (code, p) = (0, [low, high, 0, 0])
    case .normal(let mean, let std): (code, p) = (1, [mean, std, 0, 0])
    case .truncatedNormal(let mean, let std, let low, let high): (code, p) = (2, [mean, std, low, high])
    }
    return .kernel(
        "random_forward", count: count,
        [
            .buffer(y), .int(Int32(count)), .int(code), .float(p[0]), .float(p[1]), .float(p[2]), .float(p[3]),
            .uint(UInt32(truncatingIfNeeded: seed)), .uint(UInt32(truncatingIfNeeded: seed >> 32)),
            .uint(UInt32(truncatingIfNeeded: step)), .uint(UInt32(truncatingIfNeeded: step >> 32)),
            .uint(UInt32(truncatingIfNeeded: offset)), .uint(UInt32(truncatingIfNeeded: offset >> 32)),
        ])
}

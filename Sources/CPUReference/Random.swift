// Random family: Philox 4×32-10 (Salmon et al., SC'11) keyed by the op's seed,
// counting (element index, plan step). The transforms below are the
// specification every backend reproduces:
//   uniform(0,1) u = (r >> 8 + 0.5)·2⁻²⁴, in the open interval (0, 1)
//   normal       Box–Muller: sqrt(−2 ln u₀)·cos(2π u₁)
//   truncated    inverse CDF: √2·erfinv(2u − 1) with u uniform in (Φ(α), Φ(β))
import Foundation
import TensorGraph

/// Four 32-bit random words for `counter` under `key`.
public func philox4x32(counter: (UInt32, UInt32, UInt32, UInt32), key: (UInt32, UInt32)) -> (UInt32, UInt32, UInt32, UInt32) {
    var (c0, c1, c2, c3) = counter
    var (k0, k1) = key
    for _ in 0..<10 {
        let p0 = UInt64(0xD251_1F53) * UInt64(c0)
        let p1 = UInt64(0xCD9E_8D57) * UInt64(c2)
        (c0, c1, c2, c3) = (
            UInt32(p1 >> 32) ^ c1 ^ k0, UInt32(truncatingIfNeeded: p1), UInt32(p0 >> 32) ^ c3 ^ k1, UInt32(truncatingIfNeeded: p0)
        )
        k0 &+= 0x9E37_79B9
        k1 &+= 0xBB67_AE85
    }
    return (c0, c1, c2, c3)
}

func uniform01(_ r: UInt32) -> Float { (Float(r >> 8) + 0.5) * 0x1p-24 }

/// Giles' single-precision approximation of the inverse error function.
func erfinv(_ x: Float) -> Float {
    var w = -Foundation.log((1 - x) * (1 + x))
    var p: Float
    if w < 5 {
        w -= 2.5
        p = 2.81022636e-08
        for c: Float in [
            3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941,
        ] {
            p = c + p * w
        }
    } else {
        w = w.squareRoot() - 3
        p = -0.000200214257
        for c: Float in [
            0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682,
        ] {
            p = c + p * w
        }
    }
    return p * x
}

func randomFill(_ y: UnsafeMutablePointer<Float>, count: Int, _ distribution: RandomDistribution, seed: UInt64, step: UInt64, offset: Int) {
    let key = (UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
    let stepWords = (UInt32(truncatingIfNeeded: step), UInt32(truncatingIfNeeded: step >> 32))
    for i in 0..<count {
        let n = i + offset
        let r = philox4x32(
            counter: (UInt32(truncatingIfNeeded: n), UInt32(truncatingIfNeeded: n >> 32), stepWords.0, stepWords.1), key: key)
        switch distribution {
        case .uniform(let low, let high):
            y[i] = low + (high - low) * uniform01(r.0)
        case .normal(let mean, let std):
            let radius = (-2 * Foundation.log(uniform01(r.0))).squareRoot()
            y[i] = mean + std * radius * Foundation.cos(2 * Float.pi * uniform01(r.1))
        case .truncatedNormal(let mean, let std, let low, let high):
            let cdf = { (z: Float) in 0.5 * (1 + Foundation.erf(z / Float(2).squareRoot())) }
            let (a, b) = (cdf((low - mean) / std), cdf((high - mean) / std))
            let u = a + (b - a) * uniform01(r.0)
            let z = Float(2).squareRoot() * erfinv(2 * u - 1)
            y[i] = Swift.min(Swift.max(mean + std * z, low), high)
        }
    }
}

// Fused elementwise ops (TensorGraph/Fusion.swift) as generated kernels: one per expression
// and way of reading each input, compiled with Kernels/element_functions.cl, whose unary_op
// and binary_op they call (so a fused op computes exactly what its ops did one by one: FP
// contraction is off, so no multiply and add of two ops become one fma). A plan's new
// kernels are compiled together, as one program that the disk cache keeps.
import Foundation
import OpenCLRuntime
import TensorGraph

/// The source and name of the kernel for a fused op.
struct FusedKernel {
    /// How the kernel reads an input (a compile-time variant; the sizes are arguments).
    enum Read: String {
        /// Element i.
        case identity = "i"
        /// One value per run of `inner` > 1 elements: (i / inner) % period.
        case constant = "c"
        /// A tensor repeated every `period` elements: i % period.
        case wrapped = "w"
    }

    let name: String
    let source: String
    let reads: [Read]

    init(_ op: FusedElementwise) {
        let reads: [Read] = op.indexing.map { $0.isIdentity(count: op.count) ? .identity : $0.inner > 1 ? .constant : .wrapped }
        self.reads = reads
        let value = Self.code(op.expression)
        let inputs = reads.indices
        var parameters = inputs.map { "__global const float *x\($0)" } + ["__global float *y"]
        parameters += inputs.filter { reads[$0] != .identity }.map { "const int inner\($0), const int period\($0)" }
        parameters += ["const int count", "const int chunk", "const int lanes"]
        // A CPU work-item walks a contiguous run of elements (lanes 1), split where a broadcast
        // input moves on, so that the inner loop reads every input at i plus a constant and
        // vectorizes; a GPU work-item strides by its group's width and divides per element.
        var cpuSetup = "", cpuValues = "", gpuValues = ""
        for k in inputs {
            switch reads[k] {
            case .identity:
                cpuValues += "                const float v\(k) = x\(k)[i];\n"
                gpuValues += "            const float v\(k) = x\(k)[i];\n"
            case .constant:
                cpuSetup +=
                    "            const int q\(k) = s_ / inner\(k);\n            const float c\(k) = x\(k)[q\(k) % period\(k)];\n            e_ = min(e_, (q\(k) + 1) * inner\(k));\n"
                cpuValues += "                const float v\(k) = c\(k);\n"
                gpuValues += "            const float v\(k) = x\(k)[(i / inner\(k)) % period\(k)];\n"
            case .wrapped:
                cpuSetup += "            const int o\(k) = s_ % period\(k);\n            e_ = min(e_, s_ - o\(k) + period\(k));\n"
                cpuValues += "                const float v\(k) = x\(k)[i - s_ + o\(k)];\n"
                gpuValues += "            const float v\(k) = x\(k)[i % period\(k)];\n"
            }
        }
        let body = """
            (\(parameters.joined(separator: ", "))) {
                const int w_ = get_global_id(0), first_ = (w_ / lanes) * lanes * chunk + w_ % lanes;
                if (lanes == 1) {
                    const int end_ = min(first_ + chunk, count);
                    for (int s_ = first_; s_ < end_;) {
                        int e_ = end_;
            \(cpuSetup)            for (int i = s_; i < e_; i++) {
            \(cpuValues)                y[i] = \(value);
                        }
                        s_ = e_;
                    }
                } else {
                    for (int j_ = 0, i = first_; j_ < chunk && i < count; j_++, i += lanes) {
            \(gpuValues)            y[i] = \(value);
                    }
                }
            }

            """
        name = "fused_" + String(fnv1a(Array(body.utf8)), radix: 16)
        source = "__kernel void \(name)" + body
    }

    /// The expression in OpenCL C: input k is `vk`.
    static func code(_ expression: ElementwiseExpression) -> String {
        switch expression {
        case .input(let k): "v\(k)"
        case .scalar(let value): literal(value)
        case .unary(let op, let x):
            "unary_op(\(op.kernelCode.0.macro), \(code(x)), \(literal(op.kernelCode.1)), \(literal(op.kernelCode.2)))"
        case .binary(let op, let a, let b): "binary_op(\(op.kernelCode.macro), \(code(a)), \(code(b)))"
        case .select(let c, let a, let b): "(\(code(c)) != 0.0f ? \(code(a)) : \(code(b)))"
        }
    }

    /// `value` exactly, as an OpenCL C float literal.
    static func literal(_ value: Float) -> String {
        if value.isNaN { return "NAN" }
        if value.isInfinite { return value < 0 ? "(-INFINITY)" : "INFINITY" }
        return "(" + String(format: "%a", Double(value)) + "f)"
    }

    /// The kernel's arguments for one launch.
    func arguments(_ op: FusedElementwise, _ x: [CLBuffer], _ y: CLBuffer, spread: ElementSpread) -> [KernelArgument] {
        var arguments = x.map { KernelArgument.buffer($0) } + [.buffer(y)]
        for (k, read) in reads.enumerated() where read != .identity {
            arguments += [.int(Int32(op.indexing[k].inner)), .int(Int32(op.indexing[k].period))]
        }
        return arguments + spread.arguments(op.count)
    }

    /// One program holding `kernels`, with the elementwise functions they call.
    static func program(_ kernels: [FusedKernel]) throws -> String {
        guard let functions = try kernelFiles().first(where: { $0.name == "element_functions.cl" }) else {
            throw PlanError("Kernels/element_functions.cl is missing: fused elementwise ops cannot be built")
        }
        return "#pragma OPENCL FP_CONTRACT OFF\n#line 1 \"element_functions.cl\"\n" + functions.source + "\n#line 1 \"fused\"\n"
            + kernels.map(\.source).joined(separator: "\n")
    }
}

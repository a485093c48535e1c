// Whole plans checked op by op: each op runs on OpenCL and, on the very input values the
// device produced, on the CPU reference. A whole training step compared only at its end
// can disagree legitimately: a value that sits within rounding of a kink (ReLU's or
// LeakyReLU's 0, where x equals its BatchNorm mean) takes the other slope on one side,
// and the gradients downstream differ by percents while every op is right. Checked op by
// op, no rounding carries from one op into the next, so any disagreement is an op's own.
import CPUReference
import OpenCLBackend
import TensorGraph

/// A backend that runs every op on `device` and checks its output against the CPU
/// reference on the same inputs, keeping the first disagreement.
public final class OpCheckedBackend: Backend {
    let device: OpenCLBackend
    let cpu = CPUBackend()
    let tolerance: Tolerance
    public private(set) var opsChecked = 0, fusedChecked = 0
    public private(set) var firstMismatch: String?
    /// For the checker's own tests: the first op whose description starts with this gets one
    /// output element changed on the device after it runs, as a wrong kernel would leave it.
    public var tamper: String?

    public init(_ device: OpenCLBackend, tolerance: Tolerance) {
        self.device = device
        self.tolerance = tolerance
    }

    public var deviceDescription: String { device.deviceDescription }
    public var fusesElementwise: Bool { device.fusesElementwise }
    public var writesElementwiseInPlace: Bool { device.writesElementwiseInPlace }
    public func allocate(elements: Int, label: String) throws -> any DeviceBuffer { try device.allocate(elements: elements, label: label) }
    public func write(_ values: [Float], to buffer: any DeviceBuffer) throws { try device.write(values, to: buffer) }
    public func read(_ buffer: any DeviceBuffer, count: Int) throws -> [Float] { try device.read(buffer, count: count) }
    public func copy(_ source: any DeviceBuffer, to destination: any DeviceBuffer, count: Int) throws {
        try device.copy(source, to: destination, count: count)
    }
    public func prepareFused(_ ops: [FusedElementwise]) throws { try device.prepareFused(ops) }

    public func execute(_ op: Op, inputs: [Operand], output: Operand, step: UInt64) throws {
        let values = try inputs.map { try device.read($0.buffer, count: $0.shape.count) }
        try device.execute(op, inputs: inputs, output: output, step: step)
        let cpuInputs = try zip(values, inputs).map { try hostOperand($0, $1.shape) }
        let want = try hostOperand([], output.shape)
        try cpu.execute(op, inputs: cpuInputs, output: want, step: step)
        try check(output, try cpu.read(want.buffer, count: output.shape.count), "\(op.name) \(inputs.map(\.shape)) → \(output.shape)")
    }

    public func executeFused(_ op: FusedElementwise, inputs: [Operand], output: Operand) throws {
        let values = try inputs.map { try device.read($0.buffer, count: $0.shape.count) }
        try device.executeFused(op, inputs: inputs, output: output)
        fusedChecked += 1
        try check(output, fusedElementwiseValues(op, values), "fused (\(op.opCount) ops) \(inputs.map(\.shape)) → \(output.shape)")
    }

    public func updateInPlace(_ rule: OptimizerRule, inputs: [Operand]) throws {
        let values = try inputs.map { try device.read($0.buffer, count: $0.shape.count) }
        try device.updateInPlace(rule, inputs: inputs)
        let cpuInputs = try zip(values, inputs).map { try hostOperand($0, $1.shape) }
        try cpu.updateInPlace(rule, inputs: cpuInputs)
        for output in 0..<rule.outputCount {
            let replaced = rule.replacedInput(output)
            let want = try cpu.read(cpuInputs[replaced].buffer, count: inputs[replaced].shape.count)
            try check(inputs[replaced], want, "optimizer step \(rule), output \(output)")
        }
    }

    private func hostOperand(_ values: [Float], _ shape: Shape) throws -> Operand {
        let buffer = try cpu.allocate(elements: max(shape.count, 1), label: "checked op")
        if !values.isEmpty { try cpu.write(values, to: buffer) }
        return Operand(buffer, shape)
    }

    /// Errors are measured against the output's largest magnitude (`atol` is relative to it),
    /// so that a sum's cancellation is judged by the size of what it summed.
    private func check(_ output: Operand, _ want: [Float], _ what: String) throws {
        opsChecked += 1
        if let tamper, what.hasPrefix(tamper), output.shape.count > 0 {
            self.tamper = nil
            var values = try device.read(output.buffer, count: output.shape.count)
            values[values.count / 2] += 1e-3 * Swift.max(Swift.abs(values[values.count / 2]), 1)
            try device.write(values, to: output.buffer)
        }
        guard firstMismatch == nil else { return }
        let got = try device.read(output.buffer, count: output.shape.count)
        let scale = want.reduce(Float(0)) { Swift.max($0, Swift.abs($1)) }
        let scaled = Tolerance(atol: tolerance.atol * scale, rtol: tolerance.rtol)
        firstMismatch = mismatch(got, want, scaled, "op \(opsChecked), \(what) (largest |value| \(scale))")
    }
}

/// Runs `fetches` on OpenCL with every op checked against the CPU reference on the device's
/// own inputs (tolerance: `atol` relative to each output's largest magnitude); nil when
/// every op agrees, else the first op that does not.
public func opByOpMismatch(
    _ fetches: [Tensor], feeds: [String: [Float]], tolerance: Tolerance, context: String, convolution: ConvolutionAlgorithm? = nil,
    configure: (OpCheckedBackend) -> Void = { _ in }
) throws -> String? {
    let checked = OpCheckedBackend(try makeTestBackend(convolution: convolution), tolerance: tolerance)
    configure(checked)
    _ = try Session(backend: checked).plan(fetches: fetches).run(feeds)
    guard checked.opsChecked > 0 else { return "\(context): no op ran on \(checked.deviceDescription)" }
    return checked.firstMismatch.map { "\(context) on \(checked.deviceDescription): \($0)" }
}

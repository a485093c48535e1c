/// Memory owned by a backend. Plans hold these opaquely and pass them back.
public protocol DeviceBuffer: AnyObject {
    /// Capacity in float32 elements.
    var capacity: Int { get }
}

/// A buffer viewed with a shape: an op's input or output.
public struct Operand {
    public let buffer: any DeviceBuffer
    public let shape: Shape
    public init(_ buffer: any DeviceBuffer, _ shape: Shape) {
        self.buffer = buffer
        self.shape = shape
    }
}

/// What a device must do to run plans: hold memory, move values, execute the
/// non-source primitive ops. The CPU reference and OpenCL implement it.
public protocol Backend: AnyObject {
    /// The device, for logs and error messages.
    var deviceDescription: String { get }
    /// The device's memory in bytes, where it has its own (nil: the host's, unbounded here).
    var memoryBytes: Int? { get }
    /// The most bytes held at once in this backend's buffers since `resetPeakMemory` (nil: not counted).
    var peakMemoryBytes: Int? { get }
    func resetPeakMemory() throws
    /// A buffer of at least `elements` float32 values; `label` names the tensor in errors.
    func allocate(elements: Int, label: String) throws -> any DeviceBuffer
    func write(_ values: [Float], to buffer: any DeviceBuffer) throws
    /// The first `count` values of `buffer`, after all queued work has finished.
    func read(_ buffer: any DeviceBuffer, count: Int) throws -> [Float]
    func copy(_ source: any DeviceBuffer, to destination: any DeviceBuffer, count: Int) throws
    /// Runs `op` (never a source op: placeholder, variable or constant). Random ops
    /// draw from the stream of `step`. May return before the work is done.
    func execute(_ op: Op, inputs: [Operand], output: Operand, step: UInt64) throws
    /// Whether plans hand this backend fused elementwise ops (Fusion.swift) instead of the
    /// ops one by one. The CPU reference does not: it is the oracle for the fused kernels.
    var fusesElementwise: Bool { get }
    /// Whether an elementwise op's output may be the buffer of an input of its size that
    /// nothing reads afterwards (Plan's `inPlaceInput`); a reshape's copy onto its own input
    /// must then be no copy. The CPU reference keeps every value in a buffer of its own.
    var writesElementwiseInPlace: Bool { get }
    /// Called once per plan with its fused ops, before any runs (to compile their kernels together).
    func prepareFused(_ ops: [FusedElementwise]) throws
    /// Runs a fused elementwise op; `inputs` in the order of its expression's inputs.
    func executeFused(_ op: FusedElementwise, inputs: [Operand], output: Operand) throws
    /// Runs every output of one optimizer step at once, each written over the input it
    /// replaces (`rule.replacedInput`): the state and the parameter are updated in place.
    func updateInPlace(_ rule: OptimizerRule, inputs: [Operand]) throws
}

extension Backend {
    public var memoryBytes: Int? { nil }
    public var peakMemoryBytes: Int? { nil }
    public func resetPeakMemory() throws {}
    public var fusesElementwise: Bool { false }
    public var writesElementwiseInPlace: Bool { false }
    public func prepareFused(_ ops: [FusedElementwise]) throws {}
    public func executeFused(_ op: FusedElementwise, inputs: [Operand], output: Operand) throws {
        throw PlanError("\(deviceDescription) does not run fused elementwise ops")
    }

    /// Each output into a buffer of its own, then over the inputs (the CPU reference's way:
    /// `optimizerUpdate` ops one by one, as a plan runs them when it cannot update in place).
    public func updateInPlace(_ rule: OptimizerRule, inputs: [Operand]) throws {
        let shape = inputs[0].shape
        let outputs = try (0..<rule.outputCount).map { output -> any DeviceBuffer in
            let buffer = try allocate(elements: max(shape.count, 1), label: "\(rule) output \(output)")
            try execute(.optimizerUpdate(rule, output: output), inputs: inputs, output: Operand(buffer, shape), step: 0)
            return buffer
        }
        for (output, buffer) in outputs.enumerated() {
            try copy(buffer, to: inputs[rule.replacedInput(output)].buffer, count: shape.count)
        }
    }
}

/// A backend that times its kernels on the device (`genocl bench`, `GENOCL_PROFILE`).
public protocol ProfilingBackend: Backend {
    /// Whether kernel times are being recorded.
    var isProfiling: Bool { get }
    /// Forgets the profile so far and restarts the peak-memory count.
    func resetProfile() throws
    /// Per-kernel totals since the last reset (empty when profiling is off).
    func kernelTotals() throws -> [KernelTotal]
    /// A table of the profile so far, for people.
    func profileReport() throws -> String
}

/// One kernel's share of the profiled device time.
public struct KernelTotal: Codable, Sendable {
    public var name: String
    public var count: Int
    public var seconds: Double
    public var flops: Double
    public init(name: String, count: Int, seconds: Double, flops: Double) {
        (self.name, self.count, self.seconds, self.flops) = (name, count, seconds, flops)
    }
}

/// An error found while compiling or running a plan, said so that a user can act on it.
public struct PlanError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A parameter update applied after each run of a plan: `parameter ← value`.
public struct Assignment {
    public let parameter: Parameter
    public let value: Tensor
    public init(_ parameter: Parameter, _ value: Tensor) {
        self.parameter = parameter
        self.value = value
    }
}

/// A backend plus the device copies of parameters, shared by every plan made from
/// it: a generator step and a discriminator step see the same weights.
public final class Session {
    public let backend: any Backend
    private var parameters: [ObjectIdentifier: (parameter: Parameter, buffer: any DeviceBuffer)] = [:]
    /// The buffers that plans allocated for the values they compute each run. A run leaves
    /// nothing in them that outlives it (fetches are read back, updates copied into their
    /// parameters before `run` returns) and runs of one session do not overlap, so every
    /// plan draws on all of them: the discriminator and generator steps of a GAN share
    /// their activations' memory. They are freed with the session.
    var intermediateBuffers: [any DeviceBuffer] = []

    /// Which share of a data-parallel step this session's plans compute (`.single` on one
    /// device): a trainer builds its graphs with it.
    public let replica: Replica
    /// Sums the plans' `allReduce` nodes across the replicas of a data-parallel step, beside
    /// the plans, through the `communicator` the session was made with (nil on one device).
    let reducer: Reducer?

    public init(backend: any Backend, replica: Replica = .single, communicator: (any Communicator)? = nil) {
        self.backend = backend
        self.replica = replica
        reducer = communicator.map(Reducer.init)
    }

    /// The device values of `parameters`, leaving their host values as they are (nil for
    /// one that no plan of this session has used).
    public func deviceValues(_ parameters: [Parameter]) throws -> [[Float]?] {
        try parameters.map { parameter in
            try self.parameters[ObjectIdentifier(parameter)].map { try backend.read($0.buffer, count: parameter.shape.count) }
        }
    }

    /// The device buffer of `parameter`, uploading its host value on first use.
    func buffer(for parameter: Parameter) throws -> any DeviceBuffer {
        if let entry = parameters[ObjectIdentifier(parameter)] { return entry.buffer }
        let buffer = try backend.allocate(elements: max(parameter.shape.count, 1), label: parameter.name)
        try backend.write(parameter.value, to: buffer)
        parameters[ObjectIdentifier(parameter)] = (parameter, buffer)
        return buffer
    }

    /// Copies the device values of `parameters` into their host `value`s.
    public func download(_ parameters: [Parameter]) throws {
        for parameter in parameters {
            guard let entry = self.parameters[ObjectIdentifier(parameter)] else { continue }
            parameter.value = try backend.read(entry.buffer, count: parameter.shape.count)
        }
    }

    /// Sends host `value`s (after loading a checkpoint, say) to the device.
    public func upload(_ parameters: [Parameter]) throws {
        for parameter in parameters {
            try backend.write(parameter.value, to: try buffer(for: parameter))
        }
    }

    /// Lets go of the intermediate buffers: plans compiled later allocate their own, and each
    /// earlier plan keeps only the buffers it holds (freed with it). A progressive GAN's growth
    /// step drops the earlier phase's plans and calls this, so memory is the current phase's.
    public func releaseIntermediateBuffers() { intermediateBuffers.removeAll() }

    /// Plans compiled in this session (a trainer compiles its plans once, not per step).
    public private(set) var plansCompiled = 0

    /// Compiles the part of the graph that `fetches` and `updates` need.
    public func plan(fetches: [Tensor], updates: [Assignment] = [], reuseBuffers: Bool = true) throws -> Plan {
        plansCompiled += 1
        return try Plan(session: self, fetches: fetches, updates: updates, reuseBuffers: reuseBuffers)
    }
}

/// A compiled step: the nodes that the fetches and updates need, in topological
/// order, with buffers assigned by liveness. Replayed with new feeds by `run`,
/// without rebuilding anything. Values that no run can change (fills, constants and
/// what is computed from them alone) are computed once, when the plan is built; trees of
/// elementwise ops run as fused ops on backends that fuse (Fusion.swift); optimizer steps
/// run in place where they can (`bindInPlaceUpdates`).
public final class Plan {
    public let session: Session
    private let graph: Graph
    /// Node ids executed each run, in order.
    public private(set) var schedule: [Int] = []
    private var buffers: [Int: any DeviceBuffer] = [:]
    private var feeds: [String: (shape: Shape, buffer: any DeviceBuffer)] = [:]
    private let fetchIDs: [Int]
    private let updates: [(parameter: Parameter, value: Int)]
    /// The random stream index; advances by one per run (set it to resume).
    public var step: UInt64 = 0
    /// Elements in buffers that the plan added to the session's pool for the values it computes
    /// each run (it reuses the pool's free buffers first).
    public private(set) var intermediateElements = 0
    /// Elements in buffers of values computed once (`computeInvariants`), outside the pool.
    public private(set) var invariantElements = 0
    /// Nodes computed once when the plan was built (see `computeInvariants`).
    public private(set) var invariantCount = 0
    /// Scheduled nodes that run as fused elementwise ops, with the node ids of their inputs
    /// (see Fusion.swift); the nodes they absorbed are not scheduled.
    public private(set) var fused: [Int: (op: FusedElementwise, inputs: [Int])] = [:]
    /// Scheduled nodes that run a whole optimizer step in place (`bindInPlaceUpdates`), by rule.
    public private(set) var inPlaceUpdates: [Int: OptimizerRule] = [:]
    /// Scheduled elementwise nodes that write over an input's buffer (`inPlaceInput`).
    public private(set) var inPlaceCount = 0

    init(session: Session, fetches: [Tensor], updates: [Assignment], reuseBuffers: Bool) throws {
        guard let graph = (fetches.first ?? updates.first?.value)?.graph else {
            throw PlanError("a plan needs at least one fetch or update")
        }
        if let error = graph.error { throw PlanError("the graph is invalid: \(error)") }
        for tensor in fetches + updates.map(\.value) where tensor.graph !== graph {
            throw PlanError("all fetches and updates must come from one graph")
        }
        for update in updates where update.value.shape != update.parameter.shape {
            throw PlanError("update of \(update.parameter.name) \(update.parameter.shape) has shape \(update.value.shape)")
        }
        self.session = session
        self.graph = graph
        self.fetchIDs = fetches.map(\.id)
        self.updates = updates.map { ($0.parameter, $0.value.id) }

        let targets = Set(fetchIDs + self.updates.map(\.value))
        var needed = [Bool](repeating: false, count: graph.nodes.count)
        for id in targets { needed[id] = true }
        for id in stride(from: graph.nodes.count - 1, through: 0, by: -1) where needed[id] {
            for input in graph[id].inputs { needed[input] = true }
        }
        let order = needed.indices.filter { needed[$0] }
        try bindSources(order)
        try computeInvariants(order)
        schedule = order.filter { buffers[$0] == nil && !deferredFills.contains($0) }
        if session.backend.fusesElementwise {
            let absorbed: Set<Int>
            (fused, absorbed) = ElementwiseFusion.fuse(graph, schedule: schedule, targets: targets) { [buffers, deferredFills] in
                buffers[$0] != nil || deferredFills.contains($0)
            }
            schedule.removeAll(where: absorbed.contains)
            try session.backend.prepareFused(schedule.compactMap { fused[$0]?.op })
        }
        // Fills that an op still reads as a buffer (not a fused op's literal), or that leave the plan.
        for id in schedule.flatMap(inputs(of:)) + targets where deferredFills.contains(id) { try materializeFill(id) }
        (deferredFills, fillBuffers) = ([], [:])
        try bindInPlaceUpdates()

        // Liveness: a value's buffer is free again after the last op that reads it.
        var lastUse: [Int: Int] = [:]
        for (step, id) in schedule.enumerated() {
            for input in inputs(of: id) { lastUse[input] = step }
        }
        for id in targets { lastUse[id] = Int.max }
        if reuseBuffers {
            try assignBuffers(lastUse: lastUse)
        } else {
            for id in schedule where buffers[id] == nil {
                let count = max(graph[id].shape.count, 1)
                buffers[id] = try session.backend.allocate(elements: count, label: "\(graph[id].op.name) \(graph[id].shape)")
                intermediateElements += count
            }
        }
    }

    /// Gives every scheduled node without a buffer (all but in-place optimizer steps) one of
    /// the session's pool. First the values: a node, or a chain of elementwise ops each written
    /// over its input (`inPlaceInput`), live from the step that writes it to the last that reads
    /// it. Then, largest value first, each takes the smallest slot that no value living at the
    /// same time holds, or a new slot of its size (greedy by size: an online best fit, buffers
    /// taken in schedule order, left dcgan64's pool 54 % over its peak live set; this, 7 %).
    /// The slots then take the session's buffers (no other plan's values live while this one
    /// runs), so that a plan like one before it allocates nothing.
    private func assignBuffers(lastUse: [Int: Int]) throws {
        let backend = session.backend
        struct Value { var members: [Int]; let first: Int; var last: Int; let count: Int }
        var values: [Value] = [], valueOf: [Int: Int] = [:]
        for (step, id) in schedule.enumerated() where buffers[id] == nil {
            if backend.writesElementwiseInPlace,
                let input = inPlaceInput(of: id, step: step, lastUse: lastUse, owned: valueOf.keys.contains)
            {
                let value = valueOf[input]!
                values[value].members.append(id)
                values[value].last = lastUse[id] ?? step
                valueOf[id] = value
                inPlaceCount += 1
            } else {
                valueOf[id] = values.count
                values.append(Value(members: [id], first: step, last: lastUse[id] ?? step, count: max(graph[id].shape.count, 1)))
            }
        }
        // Slots, largest first: each value takes the smallest slot that no value living at the same time holds.
        var slots: [(count: Int, holders: [Value])] = []
        for value in values.sorted(by: { ($0.count, -$0.first) > ($1.count, -$1.first) }) {
            let free = slots.indices.filter { slot in slots[slot].holders.allSatisfy { $0.last < value.first || value.last < $0.first } }
            if let best = free.min(by: { slots[$0].count < slots[$1].count }) {
                slots[best].holders.append(value)
            } else {
                slots.append((value.count, [value]))
            }
        }
        // Then each slot, largest first, takes the smallest of the session's buffers that holds it, or a new one.
        var unused = session.intermediateBuffers
        for slot in slots {
            let buffer: any DeviceBuffer
            if let best = unused.indices.filter({ unused[$0].capacity >= slot.count }).min(by: { unused[$0].capacity < unused[$1].capacity }
            ) {
                buffer = unused.remove(at: best)
            } else {
                let id = slot.holders[0].members[0]
                buffer = try backend.allocate(elements: slot.count, label: "\(graph[id].op.name) \(graph[id].shape)")
                intermediateElements += slot.count
                session.intermediateBuffers.append(buffer)
            }
            for value in slot.holders {
                for id in value.members { buffers[id] = buffer }
            }
        }
    }

    /// The input whose buffer elementwise node `id` (a fused tree, unary, binary, select, or
    /// the copy of a reshape or stopGradient) writes its output over: one of the output's size,
    /// read element for element (not broadcast), whose buffer is the pool's and which nothing
    /// reads after this op. Each element is read before it is written, by the same work-item,
    /// so the result is the same; the output needs no buffer of its own (and a reshape no copy).
    private func inPlaceInput(of id: Int, step: Int, lastUse: [Int: Int], owned: (Int) -> Bool) -> Int? {
        let count = graph[id].shape.count
        let inputs = inputs(of: id)
        func readsElementwise(_ position: Int) -> Bool {
            if let op = fused[id]?.op { return op.indexing[position].isIdentity(count: count) }
            switch graph[id].op {
            case .unary, .binary, .select, .reshape, .stopGradient: return true
            default: return false
            }
        }
        return inputs.first { input in
            lastUse[input] == step && owned(input) && graph[input].shape.count == count
                && inputs.indices.allSatisfy { inputs[$0] != input || readsElementwise($0) }
        }
    }

    /// Optimizer steps whose every output is assigned back to the parameter or state it
    /// replaces (as `Optimizer.updates` builds them) run as one launch that writes them in
    /// place, where the step's last output was scheduled: their outputs get no buffers of their
    /// own and need no copy after the run (Adam: one pass over p, g, m, v writing p, m, v,
    /// instead of three passes writing new tensors and three copies). Ops that read the new
    /// values (a generator step through the discriminator's updated weights) read the
    /// parameters' buffers. A step stays as it is if anything scheduled after it reads what
    /// it replaces (the old values), or if another update's value does.
    private struct OptimizerStep {
        let rule: OptimizerRule
        /// The step's outputs in order, and the parameters they replace.
        let members: [Int], parameters: [Parameter]
    }

    private func bindInPlaceUpdates() throws {
        let assignments = Dictionary(grouping: updates, by: \.value)
        let assignedParameters = Dictionary(grouping: updates, by: { ObjectIdentifier($0.parameter) })
        let position = Dictionary(uniqueKeysWithValues: schedule.enumerated().map { ($1, $0) })
        // The steps' outputs by their inputs (one step per parameter).
        var steps: [[Int]: [Int: Int]] = [:]
        for id in schedule {
            if case .optimizerUpdate(_, let output) = graph[id].op { steps[graph[id].inputs, default: [:]][output] = id }
        }
        var candidates: [OptimizerStep] = []
        for (inputs, members) in steps {
            guard case .optimizerUpdate(let rule, _) = graph[members.values.first!].op, members.count == rule.outputCount,
                members.values.allSatisfy({ if case .optimizerUpdate(rule, _) = graph[$0].op { true } else { false } })
            else { continue }
            let parameters = (0..<rule.outputCount).compactMap { output -> Parameter? in
                guard let id = members[output], let assigned = assignments[id], assigned.count == 1,
                    case .variable(let parameter) = graph[inputs[rule.replacedInput(output)]].op, parameter === assigned[0].parameter,
                    assignedParameters[ObjectIdentifier(parameter)]?.count == 1
                else { return nil }
                return parameter
            }
            guard parameters.count == rule.outputCount else { continue }
            candidates.append(OptimizerStep(rule: rule, members: (0..<rule.outputCount).map { members[$0]! }, parameters: parameters))
        }
        // Where each parameter's old value is last read: by scheduled ops (a candidate step at
        // its last member, where it would run) and, after the run, by other updates' copies.
        let runsAt = { (step: OptimizerStep) in step.members.max { position[$0]! < position[$1]! }! }
        let stepAt = Dictionary(uniqueKeysWithValues: candidates.flatMap { step in step.members.map { ($0, position[runsAt(step)]!) } })
        var lastRead: [ObjectIdentifier: Int] = [:]
        for (index, id) in schedule.enumerated() {
            for input in Set(inputs(of: id)) {
                guard case .variable(let parameter) = graph[input].op else { continue }
                let key = ObjectIdentifier(parameter)
                lastRead[key] = max(lastRead[key, default: -1], stepAt[id] ?? index)
            }
        }
        for update in updates {
            if case .variable(let parameter) = graph[update.value].op { lastRead[ObjectIdentifier(parameter)] = Int.max }
        }
        var accepted: [OptimizerStep] = []
        for step in candidates {
            let at = position[runsAt(step)]!
            let members = Set(step.members)
            // Its own reads happen at `at`; nothing else may read an old value from then on,
            // and what reads its outputs must come after the whole step.
            let oldReadLater = step.parameters.contains { lastRead[ObjectIdentifier($0), default: -1] > at }
            let newReadEarly = schedule[..<at].contains { id in !members.contains(id) && inputs(of: id).contains(where: members.contains) }
            if !oldReadLater && !newReadEarly { accepted.append(step) }
        }
        let members = Set(accepted.flatMap(\.members))
        let runs = Dictionary(uniqueKeysWithValues: accepted.map { (runsAt($0), $0.rule) })
        schedule.removeAll { members.contains($0) && runs[$0] == nil }
        for step in accepted {
            for (id, parameter) in zip(step.members, step.parameters) { buffers[id] = try session.buffer(for: parameter) }
        }
        inPlaceUpdates = runs
    }

    /// The nodes whose values a scheduled node reads: a fused op's inputs, else the node's.
    private func inputs(of id: Int) -> [Int] { fused[id]?.inputs ?? graph[id].inputs }

    /// Placeholders get feed buffers, variables their session buffers, constants are uploaded once.
    private func bindSources(_ order: [Int]) throws {
        let backend = session.backend
        for id in order {
            switch graph[id].op {
            case .placeholder(let name, let shape):
                if let existing = feeds[name] {
                    guard existing.shape == shape else {
                        throw PlanError("placeholder '\(name)' is declared as \(existing.shape) and \(shape)")
                    }
                    buffers[id] = existing.buffer
                } else {
                    let buffer = try backend.allocate(elements: max(shape.count, 1), label: "feed '\(name)' \(shape)")
                    feeds[name] = (shape, buffer)
                    buffers[id] = buffer
                }
            case .variable(let parameter):
                buffers[id] = try session.buffer(for: parameter)
            case .constant(let constant):
                let buffer = try backend.allocate(elements: max(constant.shape.count, 1), label: "constant \(constant.shape)")
                try backend.write(constant.values, to: buffer)
                buffers[id] = buffer
            default:
                continue
            }
        }
    }

    /// Runs once, now, every node whose value is the same in every run: fills, and ops whose
    /// inputs are all constants, fills or such ops (not placeholders, variables or random
    /// draws). Their buffers stay bound, outside the liveness pool; equal fills share one.
    /// (The graphs' scalar operands and masks are fills: dcgan64 launched about 200 per step.)
    /// Fills wait until fusion has run: most become literals in fused ops and need no buffer.
    private func computeInvariants(_ order: [Int]) throws {
        var invariant = Set<Int>()
        for id in order {
            let node = graph[id]
            switch node.op {
            case .constant:
                invariant.insert(id)
                continue
            case .placeholder, .variable, .random, .allReduce:
                continue
            case .fill:
                invariant.insert(id)
                deferredFills.insert(id)
                continue
            default:
                guard node.inputs.allSatisfy(invariant.contains) else { continue }
            }
            invariant.insert(id)
            for input in node.inputs where deferredFills.contains(input) { try materializeFill(input) }
            try computeOnce(id)
        }
    }

    /// Fills that `computeInvariants` found, not yet given buffers (see `materializeFill`).
    private var deferredFills = Set<Int>()
    /// Materialized fills by value and shape while the plan is built: equal fills share one buffer.
    private var fillBuffers: [String: any DeviceBuffer] = [:]

    private func materializeFill(_ id: Int) throws {
        guard buffers[id] == nil, case .fill(let value, let shape) = graph[id].op else { return }
        let key = "\(value.bitPattern) \(shape)"
        if let shared = fillBuffers[key] {
            buffers[id] = shared
        } else {
            try computeOnce(id)
            fillBuffers[key] = buffers[id]
        }
    }

    /// Runs node `id` now into a buffer of its own, outside the liveness pool.
    private func computeOnce(_ id: Int) throws {
        let node = graph[id], backend = session.backend
        let count = max(node.shape.count, 1)
        let buffer = try backend.allocate(elements: count, label: "\(node.op.name) \(node.shape) (computed once)")
        invariantElements += count
        try backend.execute(
            node.op, inputs: node.inputs.map { Operand(buffers[$0]!, graph[$0].shape) }, output: Operand(buffer, node.shape), step: 0)
        buffers[id] = buffer
        invariantCount += 1
    }

    /// Floating-point operations of one run counted as 2 per multiply-add of every
    /// matmul, convolution, transposed convolution and weight-gradient convolution
    /// (elementwise work, reductions and optimizer updates are not counted).
    public var multiplyAddFLOPs: Double {
        schedule.reduce(0) { total, id in
            let node = graph[id]
            let inputs = node.inputs.map { graph[$0].shape }
            switch node.op {
            case .matmul(let transposeA, _):
                let a = inputs[0]
                return total + 2 * Double(node.shape.count) * Double(transposeA ? a[a.rank - 2] : a[a.rank - 1])
            case .conv2d:  // output elements × C·KH·KW
                let w = inputs[1]
                return total + 2 * Double(node.shape.count) * Double(w[1] * w[2] * w[3])
            case .convTranspose2d:  // input elements × O·KH·KW
                let w = inputs[1]
                return total + 2 * Double(inputs[0].count) * Double(w[1] * w[2] * w[3])
            case .conv2dBackwardWeight:  // dy elements × C·KH·KW
                return total + 2 * Double(inputs[1].count) * Double(node.shape[1] * node.shape[2] * node.shape[3])
            default:
                return total
            }
        }
    }

    /// Starts summing `input` over the replicas beside the plan (on one device: itself).
    private func startAllReduce(_ input: Operand) throws -> Reducer.Sum {
        let values = try session.backend.read(input.buffer, count: input.shape.count)
        guard graph.replica.count > 1 else {
            let sum = Reducer.Sum(values)
            sum.done.signal()
            return sum
        }
        guard let reducer = session.reducer else {
            throw PlanError("a plan of replica \(graph.replica.index) of \(graph.replica.count) runs in a session without a communicator")
        }
        return reducer.start(values)
    }

    /// The shape of placeholder `name`, nil where the plan has none of that name.
    public func feedShape(_ name: String) -> Shape? { feeds[name]?.shape }

    /// Runs one step: writes `feeds` (by placeholder name), executes the schedule,
    /// applies the updates, and returns the fetched values in order.
    @discardableResult
    public func run(_ feeds: [String: [Float]] = [:]) throws -> [[Float]] {
        let backend = session.backend
        // Feeds for placeholders this plan does not need are fine; unknown names are typos.
        for name in feeds.keys where !graph.placeholderNames.contains(name) {
            throw PlanError(
                "feed '\(name)' matches no placeholder (the graph has: \(graph.placeholderNames.sorted().joined(separator: ", ")))")
        }
        for (name, feed) in self.feeds {
            guard let values = feeds[name] else {
                throw PlanError("missing feed for placeholder '\(name)' \(feed.shape)")
            }
            guard values.count == feed.shape.count else {
                throw PlanError(
                    "feed '\(name)' has \(values.count) values, but the placeholder is \(feed.shape) (\(feed.shape.count) values)")
            }
            try backend.write(values, to: feed.buffer)
        }
        // Sums in flight (all-reduce nodes), written to their buffers where first read.
        var sums: [Int: Reducer.Sum] = [:]
        func finish(_ id: Int) throws {
            guard let sum = sums.removeValue(forKey: id) else { return }
            try backend.write(try sum.wait(), to: buffers[id]!)
        }
        for id in schedule {
            let node = graph[id]
            let ids = inputs(of: id)
            if !sums.isEmpty { for input in ids { try finish(input) } }
            let inputs = ids.map { Operand(buffers[$0]!, graph[$0].shape) }
            if case .allReduce = node.op {
                sums[id] = try startAllReduce(inputs[0])
            } else if let rule = inPlaceUpdates[id] {
                try backend.updateInPlace(rule, inputs: inputs)
            } else if let fused = fused[id] {
                try backend.executeFused(fused.op, inputs: inputs, output: Operand(buffers[id]!, node.shape))
            } else {
                try backend.execute(node.op, inputs: inputs, output: Operand(buffers[id]!, node.shape), step: step)
            }
        }
        for id in Array(sums.keys).sorted() { try finish(id) }
        for update in updates {
            let target = try session.buffer(for: update.parameter)
            if target !== buffers[update.value]! {
                try backend.copy(buffers[update.value]!, to: target, count: update.parameter.shape.count)
            }
        }
        step += 1
        return try fetchIDs.map { try backend.read(buffers[$0]!, count: graph[$0].shape.count) }
    }
}

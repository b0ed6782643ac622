/// A VRNN or VHRNN as a ``DifferentiableParticleStepModel``: the model step of
/// ``ModelArchitecture/stepForward(parameters:slab:slots:inputs:recur:rows:)`` and its
/// backward, over a tape of per-step slabs (``StepSlots``), plus the per-sequence work of a
/// pass (phi_x over every (step, sequence) row at once, FIVO's initial state).
///
/// State blocks (what a resampling copies): h, then c (LSTM), hh (VHRNN), ch (VHRNN LSTM).
final class VariationalParticleModel<S: KernelScalar>: DifferentiableParticleStepModel, StreamingParticleStepModel {
    typealias Scalar = S
    let model: SequenceModel<S>
    private(set) var tape: VariationalTape<S>?
    /// A deliberate backward defect for the gradient check's own tests (nil otherwise).
    var mutation: GradientMutation?
    /// beta, the weight of log p(z) − log q(z) in each log weight: 1 is the bound; below 1 the KL
    /// warm-up's training surrogate (``ParticleFilter/klWeight``).
    var klWeight = 1.0
    /// The ``klWeight`` of the current pass (taken at its start, so its backward uses the same).
    private var passKLWeight = 1.0
    let stateBlockWidths: [Int]
    var noiseWidth: Int { model.configuration.latentDim }
    /// The step slots of each row block of the pass, keyed by the block's first row (built in
    /// ``beginPass(batch:particles:keepTape:rowBlocks:)``; read concurrently by the blocks).
    private var blockSlots: [Int: StepSlots] = [:]
    private var blockSlotsFor: (ranges: [Range<Int>], slabSize: Int) = ([], 0)
    /// Streaming (``beginStream(streams:particles:rowBlocks:)``): the per-sequence buffers hold
    /// one step, the frames of the step about to run.
    private(set) var streaming = false
    /// A stream's step slots for each stream's first row (blocks of whole streams split there
    /// when some streams' frames are missing).
    private var streamSlots: [Int: StepSlots] = [:]
    /// `(streams)` whether the next step's frame of each stream is observed (false: missing).
    private var observed: UnsafeMutablePointer<Bool>?
    private var allObserved = true
    /// What a stream subtracts from a frame before the encoder reads it (an imputed frame
    /// too); nil: nothing. Set before ``beginStream(streams:particles:rowBlocks:)``.
    var streamInputOffset: [Double]?

    init(model: SequenceModel<S>) {
        self.model = model
        let c = model.configuration, lstm = c.cell == .lstm, vh = c.model == .vhrnn
        stateBlockWidths = [c.hiddenDim] + (lstm ? [c.hiddenDim] : []) + (vh ? [c.hyperDim] : [])
            + (vh && lstm ? [c.hyperDim] : [])
    }

    private var architecture: ModelArchitecture { model.architecture }

    func beginPass(batch: SequenceBatch<S>, particles K: Int, keepTape: Bool, rowBlocks: ParticleRowBlocks) {
        let a = architecture, c = a.configuration
        precondition(batch.dataDim == c.dataDim, "batch has \(batch.dataDim) dimensions, the model \(c.dataDim)")
        let B = batch.count, T = batch.maxLength, N = B * K
        if tape?.fits(steps: T, sequences: B, particles: K, withTape: keepTape) != true {
            tape = VariationalTape(architecture: a, steps: T, sequences: B, particles: K, withTape: keepTape)
        }
        streaming = false
        passKLWeight = klWeight
        let w = tape!
        w.sequences = B
        w.steps = T
        prepareBlockSlots(rowBlocks)
        // Data in, time-major (T, B, D); the encoder runs once over all (step, sequence) rows.
        batch.inputs.withUnsafeBufferPointer { w.inputs.update(from: $0.baseAddress!, count: $0.count) }
        batch.targets.withUnsafeBufferPointer { w.targets.update(from: $0.baseAddress!, count: $0.count) }
        encodeSequenceRows(T * B)
        if let initial = w.initialState {
            // FIVO's h'_0 (and hyper state), the same for every row, into what step 0 reads.
            initial.forward(architecture: a, parameters: UnsafePointer(model.parameters.values), n: N,
                            into: stateInputs(0, gathered: false))
        }
    }

    func beginStream(streams B: Int, particles K: Int, rowBlocks: ParticleRowBlocks) {
        let a = architecture
        passKLWeight = 1  // a stream computes the bound's own predictive weights
        if tape?.fits(steps: 1, sequences: B, particles: K, withTape: false) != true || !tape!.streaming
            || tape!.stepCapacity != 1 || tape!.sequenceCapacity != B {
            tape = VariationalTape(architecture: a, steps: 1, sequences: B, particles: K, withTape: false, streaming: true)
            observed?.deallocate()
            observed = .allocate(capacity: B)
            streamSlots = Dictionary(uniqueKeysWithValues: (0..<B).map { ($0 * K, tape!.slots.fromRow($0 * K)) })
        }
        let w = tape!, D = a.configuration.dataDim
        w.sequences = B
        w.steps = 1
        streaming = true
        prepareBlockSlots(rowBlocks)
        observed!.update(repeating: true, count: B)
        allObserved = true
        for r in 0..<(B * K) {
            for d in 0..<D { w.negativeInputOffset[r * D + d] = S(-(streamInputOffset?[d] ?? 0)) }
        }
        if let initial = w.initialState {
            initial.forward(architecture: a, parameters: UnsafePointer(model.parameters.values), n: B * K,
                            into: stateInputs(0, gathered: false))
        }
    }

    func setFrames(inputs: UnsafePointer<S>, targets: UnsafePointer<S>, observed: UnsafePointer<Bool>) {
        precondition(streaming, "setFrames needs beginStream first")
        let w = tape!, count = w.sequences * architecture.configuration.dataDim
        w.inputs.update(from: inputs, count: count)
        w.targets.update(from: targets, count: count)
        self.observed!.update(from: observed, count: w.sequences)
        allObserved = (0..<w.sequences).allSatisfy { observed[$0] }
        encodeSequenceRows(w.sequences)
    }

    deinit { observed?.deallocate() }

    /// Where step t's per-sequence rows are in the sequence buffers: t in a pass, 0 in a stream
    /// (which holds only the step about to run).
    @inline(__always) private func sequenceStep(_ t: Int) -> Int { streaming ? 0 : t }

    private func prepareBlockSlots(_ rowBlocks: ParticleRowBlocks) {
        let w = tape!
        if blockSlotsFor.ranges != rowBlocks.ranges || blockSlotsFor.slabSize != w.slabSize {
            blockSlots = Dictionary(uniqueKeysWithValues: rowBlocks.ranges.map { ($0.lowerBound, w.slots.fromRow($0.lowerBound)) })
            blockSlotsFor = (rowBlocks.ranges, w.slabSize)
        }
    }

    /// phi_x and the per-sequence projections over the first `rows` (step, sequence) rows of
    /// the inputs and targets.
    private func encodeSequenceRows(_ rows: Int) {
        let a = architecture, w = tape!
        let p = UnsafePointer(model.parameters.values)
        a.phiX.forward(parameters: p, slab: w.sequenceTape, slots: w.sequenceSlots, input0: UnsafePointer(w.inputs),
                       input1: nil, modulation: [], rows: rows)
        if let raw = w.rawSequenceSlots {
            // FIVO's proposal encodes the raw target frames with the same phi_x.
            a.phiX.forward(parameters: p, slab: w.sequenceTape, slots: raw, input0: UnsafePointer(w.targets),
                           input1: nil, modulation: [], rows: rows)
        }
        // The particle-independent parts of the proposal's first layer and of g's input
        // projection: phi_x(x) times its weight columns, for every (step, sequence) row at once.
        if let slot = w.proposalProjection {
            let layer = a.proposal.network.layers[0], h = layer.inputDims[0]
            S.linearForward(w.sequenceTape.at(slot), UnsafePointer(w.sequenceTape.at(proposalInputSlots(w).outputs[0])),
                            p + layer.weight + h, nil, n: rows, inDim: layer.inputDims[1], outDim: layer.outDim,
                            wStride: layer.inDim, accumulate: false)
        }
        let cell = a.recurrence.cell
        S.linearForward(w.sequenceTape.at(w.recurrenceProjection), UnsafePointer(w.sequenceTape.at(w.sequenceSlots.outputs[0])),
                        p + cell.inputWeight, nil, n: rows, inDim: cell.inputDims[0], outDim: cell.gateWidth,
                        wStride: cell.inDim, accumulate: false)
    }

    func noise(step t: Int) -> UnsafeMutablePointer<S> { tape!.slab(t).at(tape!.slots.proposal.noise) }

    func stepForward(_ t: Int, gathered: Bool, isLast: Bool, rows: Range<Int>) {
        guard let s = blockSlots[rows.lowerBound] else { preconditionFailure("rows \(rows) are not a row block of this pass") }
        guard streaming && !allObserved else { return observedStep(t, gathered: gathered, isLast: isLast, slots: s, rows: rows) }
        // A stream step with missing frames: runs of streams with the same kind of frame. A
        // block is either inside one stream or whole streams, so each run after the block's
        // first starts at a stream's first row.
        let K = tape!.particles, observed = self.observed!
        var row = rows.lowerBound
        while row < rows.upperBound {
            let kind = observed[row / K]
            var end = min(rows.upperBound, (row / K + 1) * K)
            while end < rows.upperBound && observed[end / K] == kind { end = min(rows.upperBound, (end / K + 1) * K) }
            let slots = row == rows.lowerBound ? s : streamSlots[row]!
            if kind {
                observedStep(t, gathered: gathered, isLast: isLast, slots: slots, rows: row..<end)
            } else {
                let w = tape!
                architecture.imputedStepForward(parameters: UnsafePointer(model.parameters.values), slab: w.slab(t),
                                                slots: slots, state: stateInputs(t, gathered: gathered, slots: slots),
                                                negativeOffset: UnsafePointer(w.negativeInputOffset + row * architecture.configuration.dataDim),
                                                rows: end - row)
            }
            row = end
        }
    }

    /// Step t on `rows` (the rows `slots` start at), every frame observed.
    private func observedStep(_ t: Int, gathered: Bool, isLast: Bool, slots s: StepSlots, rows: Range<Int>) {
        let w = tape!, c = architecture.configuration, r0 = rows.lowerBound, n = rows.count
        let B = w.sequences, E = c.encodedDim, ts = sequenceStep(t)
        let slab = w.slab(t)
        // Nothing per sequence is copied to the particles (the likelihood reads x_t, g its
        // projection and the continuation the sequence's own frame, all through the rows'
        // sequence index), except phi_x(x_t) for a proposal that reads it as such (no fc layer,
        // so no per-sequence projection).
        let expand = UnsafePointer(w.expandIndex + r0)
        if w.proposalProjection == nil {
            let source = (w.rawSequenceSlots ?? w.sequenceSlots).outputs[0]
            S.gatherRowsForward(slab.at(s.encodedRawData ?? s.encodedData), UnsafePointer(w.sequenceTape.at(source) + ts * B * E),
                                expand, n: n, inRows: B, width: E)
        }
        architecture.stepForward(parameters: UnsafePointer(model.parameters.values), slab: slab, slots: s,
                                 inputs: stepInputs(t, gathered: gathered, slots: s, fromRow: r0), recur: !isLast, rows: n)
        // log alpha = log p(z) + log p(x | z) - log q(z); in a warm-up log p(x | z) + beta (log p(z) - log q(z))
        if passKLWeight == 1 {
            S.logAlphaForward(slab.at(s.logAlpha), UnsafePointer(slab.at(s.logPrior)),
                              UnsafePointer(slab.at(s.logLikelihood)), UnsafePointer(slab.at(s.logProposal)), n: n)
        } else {
            S.logAlphaWeightedForward(slab.at(s.logAlpha), UnsafePointer(slab.at(s.logPrior)),
                                      UnsafePointer(slab.at(s.logLikelihood)), UnsafePointer(slab.at(s.logProposal)),
                                      beta: S(passKLWeight), n: n)
        }
    }

    func logAlpha(step t: Int) -> UnsafePointer<S> { UnsafePointer(tape!.slab(t).at(tape!.slots.logAlpha)) }

    func stateBlock(_ index: Int, step t: Int) -> (written: UnsafePointer<S>, gathered: UnsafeMutablePointer<S>) {
        let w = tape!
        let written = architecture.recurrence.outputState(slab: w.slab(t - 1), slots: w.slots.recurrence, zeros: w.zeroState)
        let gathered = w.slots.gatheredState(slab: w.slab(t), zeros: w.zeroState)
        let (from, to) = blockPointers(index, written, gathered)
        return (UnsafePointer(from), to)
    }

    func stepBackward(_ t: Int, gathered: Bool, isLast: Bool, dLogAlpha: UnsafePointer<S>,
                      dOutput: UnsafeMutablePointer<S>, dState: UnsafeMutablePointer<S>,
                      gradients g: UnsafeMutablePointer<S>) {
        guard let w = tape, w.withTape, let gradSlab = w.gradSlab, let sequenceGrad = w.sequenceGrad else {
            preconditionFailure("backward needs a pass run with keepTape: true")
        }
        let a = architecture, s = w.slots, c = a.configuration
        let B = w.sequences, N = w.rows, E = c.encodedDim
        let slab = w.slab(t)
        gradSlab.zero(count: w.slabSize)
        // forward: log alpha = log p(z) + log p(x | z) - log q(z) (KL part weighted by beta in a warm-up)
        if passKLWeight == 1 {
            S.logAlphaBackward(gradSlab.at(s.logPrior), gradSlab.at(s.logLikelihood), gradSlab.at(s.logProposal),
                               dLogAlpha, n: N)
        } else {
            S.logAlphaWeightedBackward(gradSlab.at(s.logPrior), gradSlab.at(s.logLikelihood), gradSlab.at(s.logProposal),
                                       dLogAlpha, beta: S(passKLWeight), n: N)
        }
        a.stepBackward(parameters: UnsafePointer(model.parameters.values), gradients: g, slab: slab, gradSlab: gradSlab,
                       slots: s, inputs: stepInputs(t, gathered: gathered), recur: !isLast,
                       dOutput: stateGradients(dOutput), dState: stateGradients(dState), rows: N, mutation: mutation)
        // Per-particle phi_x(x_t) is read only by a proposal whose first layer has two heads (no fc
        // layer); g and a one-head proposal read the per-sequence projections instead.
        if w.proposalProjection == nil {
            // forward: the proposal's ex = phi_x(x_t) repeated per particle: its gradient sums over particles
            let slot = s.encodedRawData ?? s.encodedData, source = proposalInputSlots(w).outputs[0]
            S.gatherRowsBackward(sequenceGrad.at(source) + t * B * E, UnsafePointer(gradSlab.at(slot)),
                                 UnsafePointer(w.expandIndex), n: N, inRows: B, width: E)
        }
    }

    func endBackward(dInitialState: UnsafeMutablePointer<S>, gradients g: UnsafeMutablePointer<S>) {
        let w = tape!, a = architecture, c = a.configuration
        let p = UnsafePointer(model.parameters.values)
        let B = w.sequences, T = w.steps
        if let initial = w.initialState {
            // forward: step 0's state = FIVO's initial state broadcast to every row
            initial.backward(architecture: a, parameters: p, gradients: g, n: w.rows,
                             dState: stateGradients(dInitialState))
        }
        let sequenceGrad = w.sequenceGrad!
        // forward: the per-sequence projections = phi_x(x) times their weight columns
        if let slot = w.proposalProjection {
            let layer = a.proposal.network.layers[0], h = layer.inputDims[0]
            let input = proposalInputSlots(w).outputs[0]
            S.linearBackward(sequenceGrad.at(input), g + layer.weight + h, nil, UnsafePointer(sequenceGrad.at(slot)),
                             UnsafePointer(w.sequenceTape.at(input)), p + layer.weight + h, n: T * B,
                             inDim: layer.inputDims[1], outDim: layer.outDim, wStride: layer.inDim)
        }
        let cell = a.recurrence.cell
        S.linearBackward(sequenceGrad.at(w.sequenceSlots.outputs[0]), g + cell.inputWeight, nil,
                         UnsafePointer(sequenceGrad.at(w.recurrenceProjection)),
                         UnsafePointer(w.sequenceTape.at(w.sequenceSlots.outputs[0])), p + cell.inputWeight, n: T * B,
                         inDim: cell.inputDims[0], outDim: cell.gateWidth, wStride: cell.inDim)
        // forward: phi_x over every (step, sequence) row at once
        a.phiX.backward(parameters: p, gradients: g, slab: w.sequenceTape, gradSlab: sequenceGrad,
                        slots: w.sequenceSlots, input0: UnsafePointer(w.inputs), input1: nil, dInput0: nil,
                        dInput1: nil, modulation: [], rows: T * B)
        if let raw = w.rawSequenceSlots {
            a.phiX.backward(parameters: p, gradients: g, slab: w.sequenceTape, gradSlab: sequenceGrad, slots: raw,
                            input0: UnsafePointer(w.targets), input1: nil, dInput0: nil, dInput1: nil, modulation: [],
                            rows: T * B)
        }
        sequenceGrad.zero(count: w.sequenceSize)  // left zeroed: the next backward accumulates into it
        if mutation == .droppedBias,
           let bias = model.parameters.layout.tensor(named: "emission.layer\(c.fcWidths.count).bias") {
            (g + bias.offset).zero(count: bias.count)
        }
    }

    // MARK: - The state around a step

    /// The state step t reads: at t = 0 zeros (``StepSemantics/standard``) or the broadcast
    /// initial state (`.fivo`), after a resampling the gathered copies, else the previous
    /// step's outputs.
    /// `slots`: the step slots of a row block (the state pointers then start at its first row;
    /// absent parts read the zero buffer from its start, which is wide enough for any block).
    func stateInputs(_ t: Int, gathered: Bool, slots: StepSlots? = nil) -> RecurrentStatePointers<S> {
        let w = tape!, s = slots ?? w.slots
        if t == 0 {
            guard w.initialState != nil else { return RecurrentStatePointers(zeros: w.zeroState) }
            return s.gatheredState(slab: w.slab(0), zeros: w.zeroState)
        }
        if gathered { return s.gatheredState(slab: w.slab(t), zeros: w.zeroState) }
        return architecture.recurrence.outputState(slab: w.slab(t - 1), slots: s.recurrence, zeros: w.zeroState)
    }

    /// The per-particle inputs of step t (state, encoded frame, proposal input, target) and the
    /// per-sequence projections of step t; for the row block whose step slots are `slots` and
    /// whose first row is `row` (default: all rows).
    func stepInputs(_ t: Int, gathered: Bool, slots: StepSlots? = nil, fromRow row: Int = 0)
        -> ModelArchitecture.StepInputs<S> {
        let w = tape!, s = slots ?? w.slots, slab = w.slab(t), B = w.sequences, c = architecture.configuration
        let ts = sequenceStep(t)
        let ex = slab.at(s.encodedData)
        func projection(_ slot: Slot) -> SequenceProjection<S> {
            SequenceProjection(values: UnsafePointer(w.sequenceTape.at(slot) + ts * B * slot.width),
                               gradients: w.sequenceGrad.map { $0.at(slot) + ts * B * slot.width },
                               index: UnsafePointer(w.expandIndex + row), sequences: B)
        }
        return ModelArchitecture.StepInputs(state: stateInputs(t, gathered: gathered, slots: s), encodedData: ex,
                                            proposalData: s.encodedRawData.map { slab.at($0) } ?? ex,
                                            target: SequenceFrame(values: UnsafePointer(w.targets + ts * B * c.dataDim),
                                                                  index: UnsafePointer(w.expandIndex + row)),
                                            proposalProjection: w.proposalProjection.map(projection),
                                            recurrenceProjection: projection(w.recurrenceProjection))
    }

    /// phi_x's slots of what the proposal reads: the raw targets under FIVO semantics, else the inputs.
    private func proposalInputSlots(_ w: VariationalTape<S>) -> DenseStack.Slots { w.rawSequenceSlots ?? w.sequenceSlots }

    /// A state-gradient buffer of the SMC core (blocks of ``stateBlockWidths``) as the parts
    /// of the recurrent state; parts the model lacks go to a sink that nothing reads.
    private func stateGradients(_ base: UnsafeMutablePointer<S>) -> RecurrentStatePointers<S> {
        let w = tape!, c = architecture.configuration, N = w.rows
        var parts = RecurrentStatePointers(zeros: w.gradientSink)
        var offset = 0
        parts.h = base
        offset += N * c.hiddenDim
        if c.cell == .lstm {
            parts.c = base + offset
            offset += N * c.hiddenDim
        }
        if c.model == .vhrnn {
            parts.hyperH = base + offset
            offset += N * c.hyperDim
            if c.cell == .lstm { parts.hyperC = base + offset }
        }
        return parts
    }

    /// Block `index` of two states, in ``stateBlockWidths`` order.
    private func blockPointers(_ index: Int, _ a: RecurrentStatePointers<S>, _ b: RecurrentStatePointers<S>)
        -> (UnsafeMutablePointer<S>, UnsafeMutablePointer<S>) {
        switch (index, architecture.configuration.cell == .lstm) {
        case (0, _): return (a.h, b.h)
        case (1, true): return (a.c, b.c)
        case (1, false), (2, true): return (a.hyperH, b.hyperH)
        default: return (a.hyperC, b.hyperC)
        }
    }
}

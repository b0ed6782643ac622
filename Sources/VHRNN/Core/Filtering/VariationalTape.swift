/// Every buffer a VRNN/VHRNN needs for filter passes of a capacity (steps, sequences,
/// particles), in one ``Arena``: nothing is allocated inside the time loop. A pass may use
/// fewer steps and sequences than the capacity (e.g. an epoch's last, smaller batch): every
/// slot is laid out for the capacity's rows and a pass uses the first B·K of them.
///
/// With a tape (training) each step has its own slab, kept for the backward pass; without
/// (evaluation) two slabs alternate, so memory does not grow with the sequence length.
final class VariationalTape<S: KernelScalar> {
    let stepCapacity: Int, sequenceCapacity: Int, particles: Int, withTape: Bool
    /// Sequences and steps of the current pass (≤ the capacity).
    var sequences: Int
    var steps: Int
    var rows: Int { sequences * particles }

    let slots: StepSlots
    let slabSize: Int
    /// phi_x over all (step, sequence) rows at once: `(steps · sequences)` rows — of the
    /// (centred) inputs, and under ``StepSemantics/fivo`` also of the raw targets.
    let sequenceSlots: DenseStack.Slots
    let rawSequenceSlots: DenseStack.Slots?
    /// phi_x's parts of the proposal's first layer and of g's input projection, once per
    /// (step, sequence) row (``SequenceProjection``); the proposal's only when its first layer
    /// has one head (at least one fc layer).
    let proposalProjection: Slot?
    let recurrenceProjection: Slot
    let sequenceSize: Int
    /// FIVO's initial state and its gradient (``StepSemantics/fivo`` only).
    let initialState: InitialStateBuffers<S>?

    let arena: Arena
    private let slabs: UnsafeMutablePointer<S>
    /// One step's gradients (same layout as a slab; taped passes only).
    let gradSlab: UnsafeMutablePointer<S>?
    /// Zeros wide enough for any state part (h_0 = c_0 = 0, absent parts).
    let zeroState: UnsafeMutablePointer<S>
    /// Where the gradients of absent state parts would go; nothing writes or reads it.
    let gradientSink: UnsafeMutablePointer<S>
    let sequenceTape: UnsafeMutablePointer<S>
    let sequenceGrad: UnsafeMutablePointer<S>?
    /// `(steps, sequences, D)` the batch's inputs and targets, time-major.
    let inputs: UnsafeMutablePointer<S>
    let targets: UnsafeMutablePointer<S>
    /// `(rows)` the sequence of each row: per-sequence rows are copied to particles by a gather.
    let expandIndex: UnsafeMutablePointer<Int32>

    /// Where everything lives, computed from the configuration and capacity alone.
    struct Layout {
        var arena = ArenaLayout()
        let slots: StepSlots
        let slabSize: Int
        let sequenceSlots: DenseStack.Slots
        let rawSequenceSlots: DenseStack.Slots?
        let proposalProjection: Slot?
        let recurrenceProjection: Slot
        let sequenceSize: Int
        let slabs: ArenaSlot<S>
        let gradSlab: ArenaSlot<S>?
        let zeroState, gradientSink, sequenceTape: ArenaSlot<S>
        let sequenceGrad: ArenaSlot<S>?
        let inputs, targets: ArenaSlot<S>
        let expandIndex: ArenaSlot<Int32>

        init(architecture a: ModelArchitecture, steps T: Int, sequences B: Int, particles K: Int, withTape: Bool,
             streaming: Bool = false) {
            let c = a.configuration, N = B * K
            var slab = SlabLayout(rows: N)
            slots = StepSlots(a, layout: &slab, imputing: streaming)
            slabSize = slab.size
            var sequence = SlabLayout(rows: T * B)
            sequenceSlots = a.phiX.makeSlots(&sequence)
            rawSequenceSlots = c.semantics == .fivo ? a.phiX.makeSlots(&sequence) : nil
            let first = a.proposal.network.layers[0]
            proposalProjection = first.heads.count == 1 ? sequence.add(width: first.outDim) : nil
            recurrenceProjection = sequence.add(width: a.recurrence.cell.gateWidth)
            sequenceSize = sequence.size
            let stateWidth = N * max(c.hiddenDim, c.hyperDim)
            slabs = arena.reserve(S.self, count: slabSize * (withTape ? T : 2))
            gradSlab = arena.reserve(S.self, count: slabSize, if: withTape)
            zeroState = arena.reserve(S.self, count: stateWidth)
            gradientSink = arena.reserve(S.self, count: stateWidth)
            sequenceTape = arena.reserve(S.self, count: sequenceSize)
            sequenceGrad = arena.reserve(S.self, count: sequenceSize, if: withTape)
            inputs = arena.reserve(S.self, count: T * B * c.dataDim)
            targets = arena.reserve(S.self, count: T * B * c.dataDim)
            expandIndex = arena.reserve(Int32.self, count: N)
            negativeInputOffset = arena.reserve(S.self, count: streaming ? N * c.dataDim : 0)
        }
        let negativeInputOffset: ArenaSlot<S>
    }

    /// `(rows, D)` minus the stream's input offset, per row (streams only): what turns an
    /// imputed frame into what the encoder reads.
    let negativeInputOffset: UnsafeMutablePointer<S>
    /// Laid out for a stream (``StepSlots/imputation`` present).
    let streaming: Bool

    /// - Parameter streaming: the two slabs of a stream (with ``StepSlots/imputation``).
    init(architecture a: ModelArchitecture, steps: Int, sequences: Int, particles: Int, withTape: Bool,
         streaming: Bool = false) {
        stepCapacity = steps
        self.steps = steps
        self.sequences = sequences
        sequenceCapacity = sequences
        self.particles = particles
        self.withTape = withTape
        let layout = Layout(architecture: a, steps: steps, sequences: sequences, particles: particles,
                            withTape: withTape, streaming: streaming)
        self.streaming = streaming
        slots = layout.slots
        slabSize = layout.slabSize
        sequenceSlots = layout.sequenceSlots
        rawSequenceSlots = layout.rawSequenceSlots
        proposalProjection = layout.proposalProjection
        recurrenceProjection = layout.recurrenceProjection
        sequenceSize = layout.sequenceSize
        let arena = Arena(layout.arena)
        self.arena = arena
        slabs = arena.pointer(layout.slabs)
        gradSlab = layout.gradSlab.map { arena.pointer($0) }
        zeroState = arena.pointer(layout.zeroState)
        gradientSink = arena.pointer(layout.gradientSink)
        sequenceTape = arena.pointer(layout.sequenceTape)
        sequenceGrad = layout.sequenceGrad.map { arena.pointer($0) }
        inputs = arena.pointer(layout.inputs)
        targets = arena.pointer(layout.targets)
        expandIndex = arena.pointer(layout.expandIndex)
        negativeInputOffset = arena.pointer(layout.negativeInputOffset)
        for row in 0..<(sequences * particles) { expandIndex[row] = Int32(row / particles) }
        initialState = a.configuration.semantics == .fivo
            ? InitialStateBuffers(architecture: a, rows: sequences * particles) : nil
    }

    func fits(steps: Int, sequences: Int, particles: Int, withTape: Bool) -> Bool {
        sequences <= sequenceCapacity && self.particles == particles && stepCapacity >= steps
            && (self.withTape || !withTape)
    }

    /// The slab of step t.
    @inline(__always) func slab(_ t: Int) -> UnsafeMutablePointer<S> {
        slabs + (withTape ? t : t & 1) * slabSize
    }

    /// Bytes held.
    var byteCount: Int { arena.byteCount + (initialState?.byteCount ?? 0) }
}

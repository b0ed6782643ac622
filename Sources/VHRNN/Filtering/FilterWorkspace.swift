/// Where every activation of one filter step lives: slots of a per-step slab (rows =
/// sequences × particles). The gradient slab uses the same layout.
struct StepSlots {
    /// phi_x(x_t) and the target frame, repeated for each particle of a sequence.
    var encodedData: Slot
    var target: Slot
    /// phi_x(raw x_t) per particle, what the proposal reads under ``StepSemantics/fivo``
    /// (nil under `.standard`, where the proposal reads `encodedData`).
    var encodedRawData: Slot?
    /// Gathered previous states (used only at steps that follow a resampling, and at step 0
    /// under ``StepSemantics/fivo``, where they hold the broadcast initial state).
    var gatheredH: Slot
    var gatheredC: Slot
    var gatheredHyperH: Slot
    var gatheredHyperC: Slot
    var prior: DenseStack.Slots
    var priorSigma: Slot
    var proposal: DenseStack.Slots
    var proposalMean: Slot
    var proposalSigma: Slot
    var noise: Slot
    var z: Slot
    var phiZ: DenseStack.Slots
    var omega: DenseStack.Slots?
    var emission: DenseStack.Slots
    var emissionSigma: Slot
    var logPrior: Slot
    var logProposal: Slot
    var logLikelihood: Slot
    var logAlpha: Slot
    /// The accumulated log weights after this step's increment (before any reset).
    var weights: Slot
    var theta: RecurrentCell.Slots?
    var thetaHead: DenseStack.Slots?
    var rnn: RecurrentCell.Slots

    init(_ a: ModelArchitecture, rows: Int, layout: inout SlabLayout) {
        let c = a.configuration
        let lstm = c.cell == .lstm, vh = c.model == .vhrnn
        encodedData = layout.add(width: c.encodedDim)
        target = layout.add(width: c.dataDim)
        encodedRawData = c.semantics == .fivo ? layout.add(width: c.encodedDim) : nil
        gatheredH = layout.add(width: c.hiddenDim)
        gatheredC = lstm ? layout.add(width: c.hiddenDim) : .none
        gatheredHyperH = vh ? layout.add(width: c.hyperDim) : .none
        gatheredHyperC = vh && lstm ? layout.add(width: c.hyperDim) : .none
        prior = a.prior.makeSlots(&layout)
        priorSigma = layout.add(width: c.latentDim)
        proposal = a.proposal.makeSlots(&layout)
        proposalMean = layout.add(width: c.latentDim)
        proposalSigma = layout.add(width: c.latentDim)
        noise = layout.add(width: c.latentDim)
        z = layout.add(width: c.latentDim)
        phiZ = a.phiZ.makeSlots(&layout)
        omega = a.omega?.makeSlots(&layout)
        emission = a.emission.makeSlots(&layout)
        emissionSigma = c.emission == .gaussian ? layout.add(width: c.dataDim) : .none
        logPrior = layout.add(width: 1)
        logProposal = layout.add(width: 1)
        logLikelihood = layout.add(width: 1)
        logAlpha = layout.add(width: 1)
        weights = layout.add(width: 1)
        theta = a.theta?.makeSlots(&layout)
        thetaHead = a.thetaHead?.makeSlots(&layout)
        rnn = a.rnn.makeSlots(&layout)
    }
}

/// Gradients with respect to the recurrent state (h, c, hyper h, hyper c) of all rows.
struct StateSlots {
    var h, c, hyperH, hyperC: Slot
    init(_ c: ModelConfiguration, layout: inout SlabLayout) {
        h = layout.add(width: c.hiddenDim)
        self.c = layout.add(width: c.hiddenDim)
        hyperH = layout.add(width: c.hyperDim)
        hyperC = layout.add(width: c.hyperDim)
    }
}

/// Every buffer one filter pass needs, allocated once for a capacity (steps, sequences,
/// particles) and reused: nothing is allocated inside the time loop. A pass may use fewer
/// steps and sequences than the capacity (e.g. an epoch's last, smaller batch): every slot is
/// laid out for the capacity's rows and a pass uses the first B·K of them.
///
/// With a tape (training) each step has its own slab, kept for the backward pass; without
/// (evaluation) two slabs alternate, so memory does not grow with the sequence length.
final class FilterWorkspace<S: KernelScalar> {
    let steps: Int, sequenceCapacity: Int, particles: Int, withTape: Bool
    /// Sequences in the current pass (≤ `sequenceCapacity`).
    var sequences: Int
    var rows: Int { sequences * particles }

    let slots: StepSlots
    let slabSize: Int
    let tape: UnsafeMutablePointer<S>
    let gradSlab: UnsafeMutablePointer<S>?

    let stateSlots: StateSlots
    let stateSize: Int
    /// Two state-gradient buffers swapped between steps (outputs of step t / inputs of step t).
    var stateGradOut: UnsafeMutablePointer<S>
    var stateGradIn: UnsafeMutablePointer<S>
    let zeroState: UnsafeMutablePointer<S>

    /// phi_x over all (step, sequence) rows at once: `(steps · sequences)` rows — of the
    /// (centred) inputs, and under ``StepSemantics/fivo`` also of the raw targets.
    let sequenceSlots: DenseStack.Slots
    let rawSequenceSlots: DenseStack.Slots?
    let sequenceSize: Int
    let sequenceTape: UnsafeMutablePointer<S>
    let sequenceGrad: UnsafeMutablePointer<S>?
    let inputs: UnsafeMutablePointer<S>
    let targets: UnsafeMutablePointer<S>
    let mask: UnsafeMutablePointer<S>

    let weights: UnsafeMutablePointer<S>
    let weightGrad: UnsafeMutablePointer<S>
    let expandIndex: UnsafeMutablePointer<Int32>
    let ancestors: UnsafeMutablePointer<Int32>
    let resampled: UnsafeMutablePointer<UInt8>
    let gathered: UnsafeMutablePointer<Bool>
    let noiseStates: UnsafeMutablePointer<UInt64>
    let uniforms: UnsafeMutablePointer<Double>
    let scratch: UnsafeMutablePointer<S>
    /// FIVO's initial state and its gradient (``StepSemantics/fivo`` only).
    let initialState: InitialStateBuffers<S>?
    var logZ: [Double]
    var lengths: [Int]

    init(architecture a: ModelArchitecture, steps: Int, sequences: Int, particles: Int, withTape: Bool) {
        self.steps = steps
        self.sequences = sequences
        sequenceCapacity = sequences
        self.particles = particles
        self.withTape = withTape
        let n = sequences * particles
        let c = a.configuration
        var layout = SlabLayout(rows: n)
        slots = StepSlots(a, rows: n, layout: &layout)
        slabSize = layout.size
        let slabCount = withTape ? steps : 2
        tape = Self.zeroed(slabSize * slabCount)
        gradSlab = withTape ? Self.zeroed(slabSize) : nil

        var stateLayout = SlabLayout(rows: n)
        stateSlots = StateSlots(c, layout: &stateLayout)
        stateSize = stateLayout.size
        stateGradOut = Self.zeroed(stateSize)
        stateGradIn = Self.zeroed(stateSize)
        zeroState = Self.zeroed(n * max(c.hiddenDim, c.hyperDim))

        var sequenceLayout = SlabLayout(rows: steps * sequences)
        (sequenceSlots, rawSequenceSlots) = Self.makeSequenceSlots(a, layout: &sequenceLayout)
        sequenceSize = sequenceLayout.size
        sequenceTape = Self.zeroed(sequenceSize)
        sequenceGrad = withTape ? Self.zeroed(sequenceSize) : nil
        inputs = Self.zeroed(steps * sequences * c.dataDim)
        targets = Self.zeroed(steps * sequences * c.dataDim)
        mask = Self.zeroed(steps * sequences)

        weights = Self.zeroed(n)
        weightGrad = Self.zeroed(n)
        expandIndex = .allocate(capacity: n)
        for row in 0..<n { expandIndex[row] = Int32(row / particles) }
        ancestors = .allocate(capacity: steps * n)
        ancestors.initialize(repeating: 0, count: steps * n)
        resampled = .allocate(capacity: steps * sequences)
        resampled.initialize(repeating: 0, count: steps * sequences)
        gathered = .allocate(capacity: steps)
        gathered.initialize(repeating: false, count: steps)
        noiseStates = .allocate(capacity: sequences)
        noiseStates.initialize(repeating: 0, count: sequences)
        uniforms = .allocate(capacity: n)
        uniforms.initialize(repeating: 0, count: n)
        scratch = Self.zeroed(2 * sequences)
        initialState = c.semantics == .fivo ? InitialStateBuffers(architecture: a, rows: n) : nil
        logZ = Array(repeating: 0, count: sequences)
        lengths = Array(repeating: 0, count: sequences)
    }

    deinit {
        for p in [tape, stateGradOut, stateGradIn, zeroState, sequenceTape, inputs, targets, mask, weights,
                  weightGrad, scratch] { p.deallocate() }
        gradSlab?.deallocate()
        sequenceGrad?.deallocate()
        expandIndex.deallocate()
        ancestors.deallocate()
        resampled.deallocate()
        gathered.deallocate()
        noiseStates.deallocate()
        uniforms.deallocate()
    }

    /// The encoder slots of the whole-sequence pass: inputs, and raw targets under FIVO semantics.
    static func makeSequenceSlots(_ a: ModelArchitecture, layout: inout SlabLayout) -> (DenseStack.Slots, DenseStack.Slots?) {
        let inputs = a.phiX.makeSlots(&layout)
        return (inputs, a.configuration.semantics == .fivo ? a.phiX.makeSlots(&layout) : nil)
    }

    static func zeroed(_ count: Int) -> UnsafeMutablePointer<S> {
        let p = UnsafeMutablePointer<S>.allocate(capacity: max(count, 1))
        p.initialize(repeating: 0, count: max(count, 1))
        return p
    }

    func fits(steps: Int, sequences: Int, particles: Int, withTape: Bool) -> Bool {
        sequences <= sequenceCapacity && self.particles == particles && self.steps >= steps
            && (self.withTape || !withTape)
    }

    /// The slab of step t.
    @inline(__always) func slab(_ t: Int) -> UnsafeMutablePointer<S> {
        tape + (withTape ? t : t & 1) * slabSize
    }

    /// Bytes a workspace of this capacity would hold, computed without allocating it (so a
    /// request too large for the machine can be refused with an error instead of a crash).
    static func estimatedBytes(architecture a: ModelArchitecture, steps: Int, sequences: Int, particles: Int,
                               withTape: Bool) -> Double {
        let n = sequences * particles
        var layout = SlabLayout(rows: n)
        _ = StepSlots(a, rows: n, layout: &layout)
        var sequenceLayout = SlabLayout(rows: steps * sequences)
        _ = makeSequenceSlots(a, layout: &sequenceLayout)
        let c = a.configuration
        let slabs = Double(layout.size) * Double(withTape ? steps + 1 : 2)
        let perRow = Double(4 * (c.hiddenDim + c.hyperDim))  // state gradients, twice, and zeros
        let scalars = slabs + 3 * perRow * Double(n) + Double(sequenceLayout.size) * (withTape ? 2 : 1)
            + 2 * Double(steps * sequences * c.dataDim)
            + Double(c.semantics == .fivo ? InitialStateBuffers<S>.scalarCount(architecture: a) : 0)
        return scalars * Double(MemoryLayout<S>.stride) + Double(steps) * Double(n) * 4
    }

    /// Approximate bytes held.
    var byteCount: Int {
        let scalars = slabSize * (withTape ? steps + 1 : 2) + 3 * stateSize + sequenceSize * (withTape ? 2 : 1)
            + (initialState.map { 2 * $0.size } ?? 0)
        return scalars * MemoryLayout<S>.stride + steps * rows * 4
    }
}

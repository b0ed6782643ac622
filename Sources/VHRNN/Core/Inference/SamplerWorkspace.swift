/// Where every activation of one generation step lives: slots of a per-step slab whose rows
/// are the samples generated in parallel.
///
/// It mirrors the filter's ``StepSlots`` for the parts a generative step shares with a filter
/// step (prior, z, phi_z, omega, emission, theta, rnn) and adds what generation needs instead
/// of the proposal: emission noise, the generated frame, phi_x of the frame, and the initial
/// state a continuation starts from.
struct SamplerSlots {
    /// Initial state (h, c, hyper h, hyper c) gathered from a filter's particles: read only by
    /// the extra recurrence step that starts a continuation.
    var initialH: Slot
    var initialC: Slot?
    var initialHyperH: Slot?
    var initialHyperC: Slot?
    var prior: Prior.Slots
    /// eps and z_t ~ prior.
    var noise: Slot
    var z: Slot
    var phiZ: DenseStack.Slots
    var emission: Emission.Slots
    /// N(0, 1) draws for a Gaussian emission (Bernoulli draws uniforms, kept in `Double`
    /// outside the slab because the C uniform generator writes `double`).
    var emissionNoise: Slot?
    /// The generated frame x_t (what the caller gets back).
    var frame: Slot
    /// x_t - inputOffset: what phi_x reads (binary data is mean-centred in training).
    var encoderInput: Slot
    var phiX: DenseStack.Slots
    var recurrence: Recurrence.Slots

    init(_ a: ModelArchitecture, layout: inout SlabLayout) {
        let c = a.configuration
        let lstm = c.cell == .lstm, vh = c.model == .vhrnn
        initialH = layout.add(width: c.hiddenDim)
        initialC = lstm ? layout.add(width: c.hiddenDim) : nil
        initialHyperH = vh ? layout.add(width: c.hyperDim) : nil
        initialHyperC = vh && lstm ? layout.add(width: c.hyperDim) : nil
        prior = a.prior.makeSlots(&layout)
        noise = layout.add(width: c.latentDim)
        z = layout.add(width: c.latentDim)
        phiZ = a.phiZ.makeSlots(&layout)
        emission = a.emission.makeSlots(&layout)
        emissionNoise = c.emission == .gaussian ? layout.add(width: c.dataDim) : nil
        frame = layout.add(width: c.dataDim)
        encoderInput = layout.add(width: c.dataDim)
        phiX = a.phiX.makeSlots(&layout)
        recurrence = a.recurrence.makeSlots(&layout)
    }

    /// The continuation's starting state as pointers into `slab` (absent parts: `zeros`).
    func initialState<S>(slab: UnsafeMutablePointer<S>, zeros: UnsafeMutablePointer<S>) -> RecurrentStatePointers<S> {
        RecurrentStatePointers(h: slab.at(initialH), c: initialC.map { slab.at($0) } ?? zeros,
                               hyperH: initialHyperH.map { slab.at($0) } ?? zeros,
                               hyperC: initialHyperC.map { slab.at($0) } ?? zeros)
    }
}

/// Every buffer a sampler needs for a given number of parallel samples, allocated once and
/// reused across calls: nothing is allocated inside the time loop.
///
/// Two slabs alternate (step t writes slab t & 1 and reads its state from the other), so
/// memory does not grow with the number of steps. A continuation computes its starting state
/// into slab 1, which is exactly where step 0 looks for "the previous step".
final class SamplerWorkspace<S: KernelScalar> {
    let rows: Int
    let slots: SamplerSlots
    let slabSize: Int
    private let arena: Arena
    private let slabs: UnsafeMutablePointer<S>
    /// Zeros wide enough for any state (h_0 = c_0 = 0 and the hyper state).
    let zeroState: UnsafeMutablePointer<S>
    /// -inputOffset repeated for every row, so centring is one elementwise add.
    let negativeOffset: UnsafeMutablePointer<S>
    /// One SplitMix64 state per row: a sample's draws do not depend on how many samples run
    /// beside it.
    let noiseStates: UnsafeMutablePointer<UInt64>
    /// Bernoulli emission uniforms `(rows, D)`.
    let uniforms: UnsafeMutablePointer<Double>
    /// Row indices into a filter's particles for a continuation.
    let particleIndex: UnsafeMutablePointer<Int32>
    /// FIVO's initial state (``StepSemantics/fivo`` only), broadcast to slab 1 before a draw
    /// from the prior.
    let initialState: InitialStateBuffers<S>?

    /// Where everything lives, computed from the configuration and the row count alone.
    struct Layout {
        var arena = ArenaLayout()
        let slots: SamplerSlots
        let slabSize: Int
        let slabs, zeroState, negativeOffset: ArenaSlot<S>
        let noiseStates: ArenaSlot<UInt64>
        let uniforms: ArenaSlot<Double>
        let particleIndex: ArenaSlot<Int32>

        init(architecture a: ModelArchitecture, rows: Int) {
            let c = a.configuration
            var slab = SlabLayout(rows: rows)
            slots = SamplerSlots(a, layout: &slab)
            slabSize = slab.size
            slabs = arena.reserve(S.self, count: 2 * slabSize)
            zeroState = arena.reserve(S.self, count: rows * max(c.hiddenDim, c.hyperDim))
            negativeOffset = arena.reserve(S.self, count: rows * c.dataDim)
            noiseStates = arena.reserve(UInt64.self, count: rows)
            uniforms = arena.reserve(Double.self, count: rows * c.dataDim)
            particleIndex = arena.reserve(Int32.self, count: rows)
        }
    }

    init(architecture a: ModelArchitecture, rows: Int) {
        self.rows = rows
        let layout = Layout(architecture: a, rows: rows)
        slots = layout.slots
        slabSize = layout.slabSize
        let arena = Arena(layout.arena)
        self.arena = arena
        slabs = arena.pointer(layout.slabs)
        zeroState = arena.pointer(layout.zeroState)
        negativeOffset = arena.pointer(layout.negativeOffset)
        noiseStates = arena.pointer(layout.noiseStates)
        uniforms = arena.pointer(layout.uniforms)
        particleIndex = arena.pointer(layout.particleIndex)
        initialState = a.configuration.semantics == .fivo ? InitialStateBuffers(architecture: a, rows: rows) : nil
    }

    /// The slab of step t (t = -1: the continuation's starting step, slab 1).
    @inline(__always) func slab(_ t: Int) -> UnsafeMutablePointer<S> { slabs + (t & 1) * slabSize }
}

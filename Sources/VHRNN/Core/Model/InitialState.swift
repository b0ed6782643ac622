/// FIVO's initial state (``StepSemantics/fivo``), forward beside backward.
///
/// FIVO runs the recurrence before the heads of every step, starting from a zero frame and a
/// zero latent encoding, so the state the first step's heads read is
///
///     hyper = theta_head(theta(u = 0; hh = ch = 0))     VHRNN only
///     h'_0, c'_0 = g([phi_x(0), 0], h = c = 0; hyper)
///
/// ("zero latent encoding" is the encoder's *output* set to 0, not phi_z(0)). Nothing here
/// depends on the data, so it is one row: the filter and the sampler broadcast it to all their
/// rows, and the backward receives the gradient summed over those rows.
struct InitialStateSlots {
    /// Zeros `(1, width)` wide enough for every zero input: the frame, the latent encoding,
    /// the hyper input and the previous states. In the gradient slab the same slot is a sink
    /// for the gradients of those constants, which are discarded.
    var zeros: Slot
    var phiX: DenseStack.Slots
    /// The recurrence's output state (`cell.h`, `cell.c`, `theta.h`, `theta.c`) is the initial state.
    var recurrence: Recurrence.Slots

    init(_ a: ModelArchitecture, layout: inout SlabLayout) {
        let c = a.configuration
        precondition(layout.rows == 1, "the initial state is one row")
        zeros = layout.add(width: max(c.dataDim, c.encodedDim, c.hyperInputDim, c.hiddenDim, c.hyperDim))
        phiX = a.phiX.makeSlots(&layout)
        recurrence = a.recurrence.makeSlots(&layout)
    }
}

extension ModelArchitecture {
    /// Computes the initial state into `slab` (laid out by ``InitialStateSlots``, one row).
    func initialStateForward<S: KernelScalar>(parameters p: UnsafePointer<S>, slab: UnsafeMutablePointer<S>,
                                              slots s: InitialStateSlots) {
        slab.at(s.zeros).zero(count: s.zeros.width)
        let zeros = UnsafePointer(slab.at(s.zeros))
        phiX.forward(parameters: p, slab: slab, slots: s.phiX, input0: zeros, input1: nil, modulation: [], rows: 1)
        recurrence.forward(parameters: p, slab: slab, slots: s.recurrence,
                           encodedData: UnsafePointer(slab.at(s.phiX.outputs[0])), encodedLatent: zeros,
                           hyperInput: hyperInputParts(z: zeros, h: zeros),
                           state: RecurrentStatePointers(zeros: slab.at(s.zeros)), rows: 1)
    }

    /// Backward of ``initialStateForward(parameters:slab:slots:)``. On entry `gradSlab` holds
    /// zeros except d h'_0 at `rnn.h` (and d c'_0 at `rnn.c`, d hh'_0 and d ch'_0 at `theta.h`,
    /// `theta.c`), summed over the rows the state was broadcast to. Accumulates into the
    /// parameter gradients `g`.
    func initialStateBackward<S: KernelScalar>(parameters p: UnsafePointer<S>, gradients g: UnsafeMutablePointer<S>,
                                               slab: UnsafeMutablePointer<S>, gradSlab: UnsafeMutablePointer<S>,
                                               slots s: InitialStateSlots) {
        let zeros = UnsafePointer(slab.at(s.zeros)), sink = gradSlab.at(s.zeros)
        let ex = UnsafePointer(slab.at(s.phiX.outputs[0])), dEx = gradSlab.at(s.phiX.outputs[0])
        // forward: h'_0, c'_0 (and hh'_0, ch'_0) = recurrence([ex, 0], 0; theta(0)). The output
        // state's gradient is where the forward wrote the state; theta.h's already holds the
        // part from the state's later use, and theta_head adds its own. The constants' gradients
        // go to the sink.
        let r = s.recurrence
        let dOutput = recurrence.outputState(slab: gradSlab, slots: r, zeros: sink)
        recurrence.backward(parameters: p, gradients: g, slab: slab, gradSlab: gradSlab, slots: r, encodedData: ex,
                            encodedLatent: zeros, hyperInput: hyperInputParts(z: zeros, h: zeros),
                            state: RecurrentStatePointers(zeros: slab.at(s.zeros)), dOutput: dOutput,
                            dState: RecurrentStatePointers(zeros: sink), dEncodedData: dEx, dEncodedLatent: nil,
                            dHyperInput: (nil, nil), rows: 1)
        // forward: ex = phi_x(0)
        phiX.backward(parameters: p, gradients: g, slab: slab, gradSlab: gradSlab, slots: s.phiX, input0: zeros,
                      input1: nil, dInput0: nil, dInput1: nil, modulation: [], rows: 1)
    }
}

/// One row of initial state and its gradient, allocated once per model: what the filter and
/// the sampler keep for ``StepSemantics/fivo``.
final class InitialStateBuffers<S: KernelScalar> {
    let slots: InitialStateSlots
    let size: Int
    let rows: Int
    private let arena: Arena
    let slab: UnsafeMutablePointer<S>
    let gradSlab: UnsafeMutablePointer<S>
    /// Row index 0 repeated `rows` times: broadcasting is a gather, its backward a scatter-add.
    let broadcastIndex: UnsafeMutablePointer<Int32>

    /// Where everything lives, for the memory estimates and the allocation alike.
    struct Layout {
        var arena = ArenaLayout()
        let slots: InitialStateSlots
        let size: Int
        let slab, gradSlab: ArenaSlot<S>
        let broadcastIndex: ArenaSlot<Int32>

        init(architecture a: ModelArchitecture, rows: Int) {
            var layout = SlabLayout(rows: 1)
            slots = InitialStateSlots(a, layout: &layout)
            size = layout.size
            slab = arena.reserve(S.self, count: size)
            gradSlab = arena.reserve(S.self, count: size)
            broadcastIndex = arena.reserve(Int32.self, count: rows)
        }
    }

    init(architecture a: ModelArchitecture, rows: Int) {
        let layout = Layout(architecture: a, rows: rows)
        slots = layout.slots
        size = layout.size
        self.rows = rows
        arena = Arena(layout.arena)
        slab = arena.pointer(layout.slab)
        gradSlab = arena.pointer(layout.gradSlab)
        broadcastIndex = arena.pointer(layout.broadcastIndex)  // zero-filled: row 0 everywhere
    }

    /// Bytes held.
    var byteCount: Int { arena.byteCount }

    /// Computes the initial state and copies it to the first `n` rows of `state`'s parts. Only
    /// the parts the model has are written (c only for an LSTM, the hyper state only for a
    /// VHRNN); the others are not touched.
    func forward(architecture a: ModelArchitecture, parameters p: UnsafePointer<S>, n: Int,
                 into state: RecurrentStatePointers<S>) {
        precondition(n <= rows, "initial state broadcast to \(n) rows, sized for \(rows)")
        a.initialStateForward(parameters: p, slab: slab, slots: slots)
        let index = UnsafePointer(broadcastIndex), cfg = a.configuration, r = slots.recurrence
        func broadcast(_ dst: UnsafeMutablePointer<S>, _ src: Slot?, _ width: Int) {
            guard let src else { return }
            S.gatherRowsForward(dst, UnsafePointer(slab.at(src)), index, n: n, inRows: 1, width: width)
        }
        broadcast(state.h, r.cell.h, cfg.hiddenDim)
        broadcast(state.c, r.cell.c, cfg.hiddenDim)
        broadcast(state.hyperH, r.theta?.h, cfg.hyperDim)
        broadcast(state.hyperC, r.theta?.c, cfg.hyperDim)
    }

    /// Sums the gradients of the `n` broadcast rows and backpropagates them to the parameters.
    /// As in ``forward(architecture:parameters:n:into:)``, only the parts the model has are read.
    func backward(architecture a: ModelArchitecture, parameters p: UnsafePointer<S>, gradients g: UnsafeMutablePointer<S>,
                  n: Int, dState: RecurrentStatePointers<S>) {
        gradSlab.zero(count: size)
        let index = UnsafePointer(broadcastIndex), cfg = a.configuration, r = slots.recurrence
        func reduce(_ src: UnsafeMutablePointer<S>, _ dst: Slot?, _ width: Int) {
            guard let dst else { return }
            S.gatherRowsBackward(gradSlab.at(dst), UnsafePointer(src), index, n: n, inRows: 1, width: width)
        }
        reduce(dState.h, r.cell.h, cfg.hiddenDim)
        reduce(dState.c, r.cell.c, cfg.hiddenDim)
        reduce(dState.hyperH, r.theta?.h, cfg.hyperDim)
        reduce(dState.hyperC, r.theta?.c, cfg.hyperDim)
        a.initialStateBackward(parameters: p, gradients: g, slab: slab, gradSlab: gradSlab, slots: slots)
    }
}

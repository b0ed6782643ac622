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
    var theta: RecurrentCell.Slots?
    var thetaHead: DenseStack.Slots?
    /// `rnn.h` and `rnn.c` (and `theta.h`, `theta.c`) are the initial state.
    var rnn: RecurrentCell.Slots

    init(_ a: ModelArchitecture, layout: inout SlabLayout) {
        let c = a.configuration
        precondition(layout.rows == 1, "the initial state is one row")
        zeros = layout.add(width: max(c.dataDim, c.encodedDim, c.hyperInputDim, c.hiddenDim, c.hyperDim))
        phiX = a.phiX.makeSlots(&layout)
        theta = a.theta?.makeSlots(&layout)
        thetaHead = a.thetaHead?.makeSlots(&layout)
        rnn = a.rnn.makeSlots(&layout)
    }
}

extension ModelArchitecture {
    /// Computes the initial state into `slab` (laid out by ``InitialStateSlots``, one row).
    func initialStateForward<S: KernelScalar>(parameters p: UnsafePointer<S>, slab: UnsafeMutablePointer<S>,
                                              slots s: InitialStateSlots) {
        slab.at(s.zeros).zero(count: s.zeros.width)
        let zeros = UnsafePointer(slab.at(s.zeros))
        phiX.forward(parameters: p, slab: slab, slots: s.phiX, input0: zeros, input1: nil, modulation: [], rows: 1)
        recurrenceForward(parameters: p, slab: slab, thetaSlots: s.theta, headSlots: s.thetaHead, rnnSlots: s.rnn,
                          encodedData: UnsafePointer(slab.at(s.phiX.outputs[0])), encodedLatent: zeros,
                          hyperInput: hyperInputParts(z: zeros, h: zeros), hPrev: zeros, cPrev: zeros,
                          hyperHPrev: zeros, hyperCPrev: zeros, rows: 1)
    }

    /// Backward of ``initialStateForward(parameters:slab:slots:)``. On entry `gradSlab` holds
    /// zeros except d h'_0 at `rnn.h` (and d c'_0 at `rnn.c`, d hh'_0 and d ch'_0 at `theta.h`,
    /// `theta.c`), summed over the rows the state was broadcast to. Accumulates into the
    /// parameter gradients `g`.
    func initialStateBackward<S: KernelScalar>(parameters p: UnsafePointer<S>, gradients g: UnsafeMutablePointer<S>,
                                               slab: UnsafeMutablePointer<S>, gradSlab: UnsafeMutablePointer<S>,
                                               slots s: InitialStateSlots) {
        let lstm = configuration.cell == .lstm
        let zeros = UnsafePointer(slab.at(s.zeros)), sink = gradSlab.at(s.zeros)
        let ex = UnsafePointer(slab.at(s.phiX.outputs[0])), dEx = gradSlab.at(s.phiX.outputs[0])
        var hyper: UnsafePointer<S>? = nil, dHyper: UnsafeMutablePointer<S>? = nil
        if let headSlots = s.thetaHead {
            hyper = UnsafePointer(slab.at(headSlots.outputs[0]))
            dHyper = gradSlab.at(headSlots.outputs[0])
        }
        // forward: h'_0, c'_0 = g([ex, 0], 0, 0; hyper)
        rnn.backward(parameters: p, gradients: g, slab: slab, gradSlab: gradSlab, slots: s.rnn,
                     dh: UnsafePointer(gradSlab.at(s.rnn.h)), dc: lstm ? UnsafePointer(gradSlab.at(s.rnn.c)) : nil,
                     input0: ex, input1: zeros, dInput0: dEx, dInput1: nil, hPrev: zeros, cPrev: zeros,
                     dhPrev: sink, dcPrev: lstm ? sink : nil, hyper: hyper, dHyper: dHyper, rows: 1)
        if let theta, let thetaSlots = s.theta, let thetaHead, let headSlots = s.thetaHead {
            // forward: hyper = theta_head(hh'_0); hh'_0, ch'_0 = theta(0; 0, 0). theta.h's gradient
            // already holds the part from the state's later use; the head adds its own.
            thetaHead.backward(parameters: p, gradients: g, slab: slab, gradSlab: gradSlab, slots: headSlots,
                               input0: UnsafePointer(slab.at(thetaSlots.h)), input1: nil,
                               dInput0: gradSlab.at(thetaSlots.h), dInput1: nil, modulation: [], rows: 1)
            let u = hyperInputParts(z: zeros, h: zeros)
            theta.backward(parameters: p, gradients: g, slab: slab, gradSlab: gradSlab, slots: thetaSlots,
                           dh: UnsafePointer(gradSlab.at(thetaSlots.h)),
                           dc: lstm ? UnsafePointer(gradSlab.at(thetaSlots.c)) : nil, input0: u.0, input1: u.1,
                           dInput0: nil, dInput1: nil, hPrev: zeros, cPrev: zeros, dhPrev: sink,
                           dcPrev: lstm ? sink : nil, hyper: nil, dHyper: nil, rows: 1)
        }
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
    let slab: UnsafeMutablePointer<S>
    let gradSlab: UnsafeMutablePointer<S>
    /// Row index 0 repeated `rows` times: broadcasting is a gather, its backward a scatter-add.
    let broadcastIndex: UnsafeMutablePointer<Int32>
    let rows: Int

    init(architecture a: ModelArchitecture, rows: Int) {
        var layout = SlabLayout(rows: 1)
        slots = InitialStateSlots(a, layout: &layout)
        size = layout.size
        slab = .allocate(capacity: size)
        slab.initialize(repeating: 0, count: size)
        gradSlab = .allocate(capacity: size)
        gradSlab.initialize(repeating: 0, count: size)
        self.rows = rows
        broadcastIndex = .allocate(capacity: max(rows, 1))
        broadcastIndex.initialize(repeating: 0, count: max(rows, 1))
    }

    deinit {
        slab.deallocate()
        gradSlab.deallocate()
        broadcastIndex.deallocate()
    }

    /// Scalars a buffer set for `a` holds (for the memory estimates).
    static func scalarCount(architecture a: ModelArchitecture) -> Int {
        var layout = SlabLayout(rows: 1)
        _ = InitialStateSlots(a, layout: &layout)
        return 2 * layout.size
    }

    /// Computes the initial state and copies it to the first `n` rows of `h`, `c`, `hyperH`,
    /// `hyperC`. Only the states the model has are written (c only for an LSTM, the hyper state
    /// only for a VHRNN); the other pointers are not touched.
    func forward(architecture a: ModelArchitecture, parameters p: UnsafePointer<S>, n: Int,
                 h: UnsafeMutablePointer<S>, c: UnsafeMutablePointer<S>, hyperH: UnsafeMutablePointer<S>,
                 hyperC: UnsafeMutablePointer<S>) {
        precondition(n <= rows, "initial state broadcast to \(n) rows, sized for \(rows)")
        a.initialStateForward(parameters: p, slab: slab, slots: slots)
        let index = UnsafePointer(broadcastIndex), cfg = a.configuration
        func broadcast(_ dst: UnsafeMutablePointer<S>, _ src: Slot, _ width: Int) {
            S.gatherRowsForward(dst, UnsafePointer(slab.at(src)), index, n: n, inRows: 1, width: width)
        }
        let lstm = cfg.cell == .lstm  // a GRU has no c slot
        broadcast(h, slots.rnn.h, cfg.hiddenDim)
        if lstm { broadcast(c, slots.rnn.c, cfg.hiddenDim) }
        if let theta = slots.theta {
            broadcast(hyperH, theta.h, cfg.hyperDim)
            if lstm { broadcast(hyperC, theta.c, cfg.hyperDim) }
        }
    }

    /// Sums the gradients of the `n` broadcast rows and backpropagates them to the parameters.
    /// As in ``forward``, only the states the model has are read.
    func backward(architecture a: ModelArchitecture, parameters p: UnsafePointer<S>, gradients g: UnsafeMutablePointer<S>,
                  n: Int, dh: UnsafePointer<S>, dc: UnsafePointer<S>, dHyperH: UnsafePointer<S>,
                  dHyperC: UnsafePointer<S>) {
        gradSlab.zero(count: size)
        let index = UnsafePointer(broadcastIndex), cfg = a.configuration
        func reduce(_ src: UnsafePointer<S>, _ dst: Slot, _ width: Int) {
            S.gatherRowsBackward(gradSlab.at(dst), src, index, n: n, inRows: 1, width: width)
        }
        let lstm = cfg.cell == .lstm
        reduce(dh, slots.rnn.h, cfg.hiddenDim)
        if lstm { reduce(dc, slots.rnn.c, cfg.hiddenDim) }
        if let theta = slots.theta {
            reduce(dHyperH, theta.h, cfg.hyperDim)
            if lstm { reduce(dHyperC, theta.c, cfg.hyperDim) }
        }
        a.initialStateBackward(parameters: p, gradients: g, slab: slab, gradSlab: gradSlab, slots: slots)
    }
}

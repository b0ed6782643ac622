/// The recurrence h_t = g([phi_x(x_t), phi_z(z_t)], h_{t-1}) with, in a VHRNN, theta's
/// per-step weights for g, forward beside backward.
///
///     hh_t, ch_t = theta(u_t, hh_{t-1}, ch_{t-1})     VHRNN: LSTM/GRU over u_t with hidden Hh
///     hyper      = theta_head(hh_t)                    Hh -> 3·G·H = [d_x | d_h | b_dyn]
///     h_t, c_t   = g([ex, ez], h_{t-1}, c_{t-1}; hyper)   Hadamard-scaled gates in a VHRNN
///
/// All rows at once; every pointer is `(rows, ·)`.
struct Recurrence: Sendable {
    /// g: the primary cell, hyper-scaled in a VHRNN.
    let cell: RecurrentCell
    /// theta and its head (VHRNN only).
    let theta: RecurrentCell?
    let thetaHead: DenseStack?

    struct Slots {
        var theta: RecurrentCell.Slots?
        var thetaHead: DenseStack.Slots?
        var cell: RecurrentCell.Slots
        /// theta_head's output `(rows, 3·G·H)`, what scales g (VHRNN only).
        var hyper: Slot? { thetaHead?.outputs[0] }

        /// These slots for the block of rows from `row` on.
        func fromRow(_ row: Int) -> Slots {
            Slots(theta: theta?.fromRow(row), thetaHead: thetaHead?.fromRow(row), cell: cell.fromRow(row))
        }
    }

    func makeSlots(_ layout: inout SlabLayout) -> Slots {
        let theta = self.theta?.makeSlots(&layout)
        let head = thetaHead?.makeSlots(&layout)
        return Slots(theta: theta, thetaHead: head, cell: cell.makeSlots(&layout))
    }

    /// This step's state (h_t, c_t and theta's hh_t, ch_t) from the previous one.
    /// - Parameters:
    ///   - hyperInput: u_t's parts, read in place.
    ///   - state: the state step t reads; absent parts (c for a GRU, the hyper state of a VRNN)
    ///     point at zeros.
    func forward<S: KernelScalar>(parameters p: UnsafePointer<S>, slab: UnsafeMutablePointer<S>, slots: Slots,
                                  encodedData ex: UnsafePointer<S>, encodedLatent ez: UnsafePointer<S>,
                                  hyperInput u: (UnsafePointer<S>, UnsafePointer<S>?),
                                  state: RecurrentStatePointers<S>, rows: Int,
                                  projectedData: SequenceProjection<S>? = nil) {
        var hyper: UnsafePointer<S>? = nil
        if let theta, let thetaSlots = slots.theta, let thetaHead, let headSlots = slots.thetaHead {
            theta.forward(parameters: p, slab: slab, slots: thetaSlots, input0: u.0, input1: u.1,
                          hPrev: UnsafePointer(state.hyperH), cPrev: UnsafePointer(state.hyperC), hyper: nil, rows: rows)
            thetaHead.forward(parameters: p, slab: slab, slots: headSlots, input0: UnsafePointer(slab.at(thetaSlots.h)),
                              input1: nil, modulation: [], rows: rows)
            hyper = UnsafePointer(slab.at(headSlots.outputs[0]))
        }
        cell.forward(parameters: p, slab: slab, slots: slots.cell, input0: ex, input1: ez, hPrev: UnsafePointer(state.h),
                     cPrev: UnsafePointer(state.c), hyper: hyper, rows: rows, projectedInput0: projectedData)
    }

    /// Backward of ``forward``.
    /// - Parameters:
    ///   - dOutput: d h_t, d c_t, d hh_t, d ch_t (read; d hh_t also receives theta_head's part,
    ///     so it must be writable).
    ///   - dState: accumulates d h_{t-1}, d c_{t-1}, d hh_{t-1}, d ch_{t-1}.
    ///   - dEncodedData, dEncodedLatent, dHyperInput: accumulate the input gradients.
    func backward<S: KernelScalar>(parameters p: UnsafePointer<S>, gradients g: UnsafeMutablePointer<S>,
                                   slab: UnsafeMutablePointer<S>, gradSlab: UnsafeMutablePointer<S>, slots: Slots,
                                   encodedData ex: UnsafePointer<S>, encodedLatent ez: UnsafePointer<S>,
                                   hyperInput u: (UnsafePointer<S>, UnsafePointer<S>?), state: RecurrentStatePointers<S>,
                                   dOutput: RecurrentStatePointers<S>, dState: RecurrentStatePointers<S>,
                                   dEncodedData: UnsafeMutablePointer<S>?, dEncodedLatent: UnsafeMutablePointer<S>?,
                                   dHyperInput du: (UnsafeMutablePointer<S>?, UnsafeMutablePointer<S>?), rows: Int,
                                   projectedData: SequenceProjection<S>? = nil) {
        let lstm = cell.kind == .lstm
        var hyper: UnsafePointer<S>? = nil, dHyper: UnsafeMutablePointer<S>? = nil
        if let headSlots = slots.thetaHead {
            hyper = UnsafePointer(slab.at(headSlots.outputs[0]))
            dHyper = gradSlab.at(headSlots.outputs[0])
        }
        // forward: h_t, c_t = g([ex, ez], h_{t-1}, c_{t-1}; hyper)
        cell.backward(parameters: p, gradients: g, slab: slab, gradSlab: gradSlab, slots: slots.cell,
                      dh: UnsafePointer(dOutput.h), dc: lstm ? UnsafePointer(dOutput.c) : nil, input0: ex, input1: ez,
                      dInput0: dEncodedData, dInput1: dEncodedLatent, hPrev: UnsafePointer(state.h),
                      cPrev: UnsafePointer(state.c), dhPrev: dState.h, dcPrev: lstm ? dState.c : nil, hyper: hyper,
                      dHyper: dHyper, rows: rows, projectedInput0: projectedData)
        if let theta, let thetaSlots = slots.theta, let thetaHead, let headSlots = slots.thetaHead {
            // forward: hyper = theta_head(hh_t); hh_t, ch_t = theta(u_t, hh_{t-1}, ch_{t-1})
            thetaHead.backward(parameters: p, gradients: g, slab: slab, gradSlab: gradSlab, slots: headSlots,
                               input0: UnsafePointer(slab.at(thetaSlots.h)), input1: nil, dInput0: dOutput.hyperH,
                               dInput1: nil, modulation: [], rows: rows)
            theta.backward(parameters: p, gradients: g, slab: slab, gradSlab: gradSlab, slots: thetaSlots,
                           dh: UnsafePointer(dOutput.hyperH), dc: lstm ? UnsafePointer(dOutput.hyperC) : nil,
                           input0: u.0, input1: u.1, dInput0: du.0, dInput1: du.1, hPrev: UnsafePointer(state.hyperH),
                           cPrev: UnsafePointer(state.hyperC), dhPrev: dState.hyperH,
                           dcPrev: lstm ? dState.hyperC : nil, hyper: nil, dHyper: nil, rows: rows)
        }
    }

    /// The state this step wrote, as pointers into `slab` (absent parts: `zeros`).
    func outputState<S>(slab: UnsafeMutablePointer<S>, slots: Slots, zeros: UnsafeMutablePointer<S>)
        -> RecurrentStatePointers<S> {
        RecurrentStatePointers(h: slab.at(slots.cell.h), c: slots.cell.c.map { slab.at($0) } ?? zeros,
                               hyperH: slots.theta.map { slab.at($0.h) } ?? zeros,
                               hyperC: slots.theta.flatMap { $0.c }.map { slab.at($0) } ?? zeros)
    }
}

/// The recurrent state one step reads or writes, or its gradient: h and c of g, and theta's
/// hh and ch. Parts a model does not have (c of a GRU, the hyper state of a VRNN) point at a
/// zero buffer, never at an invalid address.
struct RecurrentStatePointers<S> {
    var h, c, hyperH, hyperC: UnsafeMutablePointer<S>

    /// The same zero buffer for every part (h_0 = c_0 = 0 under standard semantics).
    init(zeros: UnsafeMutablePointer<S>) { (h, c, hyperH, hyperC) = (zeros, zeros, zeros, zeros) }

    init(h: UnsafeMutablePointer<S>, c: UnsafeMutablePointer<S>, hyperH: UnsafeMutablePointer<S>,
         hyperC: UnsafeMutablePointer<S>) {
        (self.h, self.c, self.hyperH, self.hyperC) = (h, c, hyperH, hyperC)
    }
}

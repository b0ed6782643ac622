/// A recurrent cell's parameters and its forward/backward over one step for all rows: the
/// primary recurrence g (plain for VRNN, Hadamard-scaled for VHRNN) and theta's own cell.
///
/// Input projection W `(G·H, in)` reads up to two input parts in place (column blocks), the
/// recurrent projection U `(G·H, H)`, bias b `(G·H)`; G = 4 (LSTM i, j, f, o) or 3 (GRU r, u, n).
/// Following TF's LSTMCell, W and U are initialised as one Glorot-uniform kernel
/// (fan-in in + H, fan-out G·H).
struct RecurrentCell: Sendable {
    var kind: CellKind
    var inputDims: [Int]
    var hidden: Int
    var hyperScaled: Bool
    var inputWeight: Int
    var recurrentWeight: Int
    var bias: Int

    init(name: String, kind: CellKind, inputDims: [Int], hidden: Int, hyperScaled: Bool,
         layout: inout ParameterLayout) {
        self.kind = kind
        self.inputDims = inputDims
        self.hidden = hidden
        self.hyperScaled = hyperScaled
        let gates = kind.gateCount * hidden
        let inDim = inputDims.reduce(0, +)
        let glorot = ParameterInitializer.glorot(fanIn: inDim + hidden, fanOut: gates)
        inputWeight = layout.add("\(name).input_weight", shape: [gates, inDim], initializer: glorot)
        recurrentWeight = layout.add("\(name).recurrent_weight", shape: [gates, hidden], initializer: glorot)
        bias = layout.add("\(name).bias", shape: [gates], initializer: .zeros)
    }

    var gateWidth: Int { kind.gateCount * hidden }
    var inDim: Int { inputDims.reduce(0, +) }
    var parameterCount: Int { gateWidth * (inDim + hidden + 1) }
    /// Width of the hyper vector that scales this cell: [d_x | d_h | b_dyn], each G·H.
    var hyperWidth: Int { 3 * gateWidth }
    var forwardFlopsPerRow: Int { 2 * gateWidth * (inDim + hidden) }

    struct Slots {
        /// W y (plain LSTM: W y + U h, one buffer).
        var wy: Slot
        /// U h, kept apart from W y by hyper cells and the GRU (nil for a plain LSTM).
        var uh: Slot?
        var gates: Slot
        /// LSTM cell state c_t (nil for a GRU).
        var c: Slot?
        var h: Slot

        /// These slots for the block of rows from `row` on.
        func fromRow(_ row: Int) -> Slots {
            Slots(wy: wy.fromRow(row), uh: uh?.fromRow(row), gates: gates.fromRow(row), c: c?.fromRow(row),
                  h: h.fromRow(row))
        }
    }

    /// Plain LSTM sums both projections into one buffer; the others keep U h apart.
    private var separateRecurrent: Bool { hyperScaled || kind == .gru }

    func makeSlots(_ layout: inout SlabLayout) -> Slots {
        let g = gateWidth
        return Slots(wy: layout.add(width: g), uh: separateRecurrent ? layout.add(width: g) : nil,
                     gates: layout.add(width: g), c: kind == .lstm ? layout.add(width: hidden) : nil,
                     h: layout.add(width: hidden))
    }

    /// One step: `h` (and `c`) from the inputs and the previous state.
    /// - Parameters:
    ///   - hPrev, cPrev: previous state `(rows, H)` (cPrev ignored for GRU).
    ///   - hyper: `(rows, 3·G·H)` scales and biases when `hyperScaled`.
    func forward<S: KernelScalar>(
        parameters p: UnsafePointer<S>, slab: UnsafeMutablePointer<S>, slots: Slots,
        input0: UnsafePointer<S>, input1: UnsafePointer<S>?, hPrev: UnsafePointer<S>,
        cPrev: UnsafePointer<S>?, hyper: UnsafePointer<S>?, rows: Int,
        projectedInput0: SequenceProjection<S>? = nil
    ) {
        let g = gateWidth, inDim = self.inDim, d0 = inputDims[0]
        let wy = slab.at(slots.wy)
        if let projected = projectedInput0 {
            // input0's part W[:, :d0] x0, once per sequence, copied to its particles
            S.gatherRowsForward(wy, projected.values, projected.index, n: rows, inRows: projected.sequences, width: g)
        } else {
            S.linearForward(wy, input0, p + inputWeight, nil, n: rows, inDim: d0, outDim: g, wStride: inDim,
                            accumulate: false)
        }
        if let input1 {
            S.linearForward(wy, input1, p + inputWeight + d0, nil, n: rows, inDim: inputDims[1], outDim: g,
                            wStride: inDim, accumulate: true)
        }
        let uh = slots.uh.map { slab.at($0) } ?? wy
        S.linearForward(uh, hPrev, p + recurrentWeight, nil, n: rows, inDim: hidden, outDim: g, wStride: hidden,
                        accumulate: slots.uh == nil)
        let b = p + bias
        switch (kind, hyperScaled) {
        case (.lstm, false):
            S.lstmCellForward(slab.at(slots.h), slab.at(slots.c!), slab.at(slots.gates), UnsafePointer(wy), nil, b,
                              cPrev, n: rows, hidden: hidden)
        case (.lstm, true):
            S.hyperLstmCellForward(slab.at(slots.h), slab.at(slots.c!), slab.at(slots.gates), UnsafePointer(wy),
                                   UnsafePointer(uh), hyper, b, cPrev, n: rows, hidden: hidden)
        case (.gru, false):
            S.gruCellForward(slab.at(slots.h), slab.at(slots.gates), UnsafePointer(wy), UnsafePointer(uh), b,
                             hPrev, n: rows, hidden: hidden)
        case (.gru, true):
            S.hyperGruCellForward(slab.at(slots.h), slab.at(slots.gates), UnsafePointer(wy), UnsafePointer(uh),
                                  hyper, b, hPrev, n: rows, hidden: hidden)
        }
    }

    /// Backward of one step given d h (`dh`, required) and d c (`dc`, LSTM) of this step's
    /// outputs. Accumulates into the parameter gradients, the input parts' gradients, the
    /// previous state's gradients and (hyper cells) `dHyper`.
    func backward<S: KernelScalar>(
        parameters p: UnsafePointer<S>, gradients grad: UnsafeMutablePointer<S>,
        slab: UnsafeMutablePointer<S>, gradSlab: UnsafeMutablePointer<S>, slots: Slots,
        dh: UnsafePointer<S>, dc: UnsafePointer<S>?,
        input0: UnsafePointer<S>, input1: UnsafePointer<S>?,
        dInput0: UnsafeMutablePointer<S>?, dInput1: UnsafeMutablePointer<S>?,
        hPrev: UnsafePointer<S>, cPrev: UnsafePointer<S>?,
        dhPrev: UnsafeMutablePointer<S>, dcPrev: UnsafeMutablePointer<S>?,
        hyper: UnsafePointer<S>?, dHyper: UnsafeMutablePointer<S>?, rows: Int,
        projectedInput0: SequenceProjection<S>? = nil
    ) {
        let g = gateWidth, inDim = self.inDim, d0 = inputDims[0]
        let wy = UnsafePointer(slab.at(slots.wy)), dwy = gradSlab.at(slots.wy)
        let uh = slots.uh.map { UnsafePointer(slab.at($0)) } ?? wy
        let duh = slots.uh.map { gradSlab.at($0) } ?? dwy
        let gates = UnsafePointer(slab.at(slots.gates))
        let db = grad + bias
        switch (kind, hyperScaled) {
        case (.lstm, false):
            S.lstmCellBackward(dwy, nil, db, dcPrev, dh, dc, gates, UnsafePointer(slab.at(slots.c!)), cPrev,
                               n: rows, hidden: hidden)
        case (.lstm, true):
            S.hyperLstmCellBackward(dwy, duh, dHyper, db, dcPrev, dh, dc, gates, UnsafePointer(slab.at(slots.c!)),
                                    cPrev, wy, uh, hyper, n: rows, hidden: hidden)
        case (.gru, false):
            S.gruCellBackward(dwy, duh, db, dhPrev, dh, gates, uh, hPrev, n: rows, hidden: hidden)
        case (.gru, true):
            S.hyperGruCellBackward(dwy, duh, dHyper, db, dhPrev, dh, gates, wy, uh, hyper, hPrev, n: rows,
                                   hidden: hidden)
        }
        // forward: wy = [x0, x1] Wᵀ and uh = h_prev Uᵀ (the same buffer for a plain LSTM)
        if let projected = projectedInput0 {
            // forward: input0's part was the sequence's projection: its gradient sums over particles
            S.gatherRowsBackward(projected.gradients!, UnsafePointer(dwy), projected.index, n: rows,
                                 inRows: projected.sequences, width: g)
        } else {
            S.linearBackward(dInput0, grad + inputWeight, nil, UnsafePointer(dwy), input0, p + inputWeight, n: rows,
                             inDim: d0, outDim: g, wStride: inDim)
        }
        if let input1 {
            S.linearBackward(dInput1, grad + inputWeight + d0, nil, UnsafePointer(dwy), input1,
                             p + inputWeight + d0, n: rows, inDim: inputDims[1], outDim: g, wStride: inDim)
        }
        S.linearBackward(dhPrev, grad + recurrentWeight, nil, UnsafePointer(duh), hPrev, p + recurrentWeight,
                         n: rows, inDim: hidden, outDim: g, wStride: hidden)
    }
}

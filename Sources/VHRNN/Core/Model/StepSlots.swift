/// Where every activation of one filter step lives: slots of a per-step slab (rows =
/// sequences × particles), built from the components' own slot descriptions. The gradient
/// slab uses the same layout, so a slot's gradient is at the same offset there.
///
/// The order of the slots is the order of the slab (and, for reproducibility of float results
/// that could depend on alignment, fixed).
struct StepSlots {
    /// phi_x(x_t), one row per particle (the target x_t is not copied per particle: the
    /// likelihood reads it through the rows' sequence index, ``SequenceFrame``).
    var encodedData: Slot
    /// phi_x(raw x_t) per particle, what the proposal reads under ``StepSemantics/fivo``
    /// (nil under `.standard`, where the proposal reads `encodedData`).
    var encodedRawData: Slot?
    /// The ancestors' states gathered after a resampling (and at step 0 under
    /// ``StepSemantics/fivo``, the broadcast initial state): h, and c / hh / ch where the
    /// model has them.
    var gatheredH: Slot
    var gatheredC: Slot?
    var gatheredHyperH: Slot?
    var gatheredHyperC: Slot?
    var prior: Prior.Slots
    var proposal: Proposal.Slots
    var phiZ: DenseStack.Slots
    var emission: Emission.Slots
    /// log p(z_t | h_{t-1}), log q(z_t | ·), log p(x_t | ·) and their sum log alpha_t, `(rows)`.
    var logPrior: Slot
    var logProposal: Slot
    var logLikelihood: Slot
    var logAlpha: Slot
    var recurrence: Recurrence.Slots
    /// What a step with a missing frame needs (streams only, ``OnlineFilter``).
    var imputation: Imputation?

    /// A missing frame's stand-in: the emission's mean frame, what the encoder reads of it
    /// (minus the input offset) and phi_x of that, per particle.
    struct Imputation {
        var frame: Slot
        var encoderInput: Slot
        var phiX: DenseStack.Slots

        func fromRow(_ row: Int) -> Imputation {
            Imputation(frame: frame.fromRow(row), encoderInput: encoderInput.fromRow(row), phiX: phiX.fromRow(row))
        }
    }

    /// - Parameter imputing: lay out ``imputation`` too (the slabs of a stream).
    init(_ a: ModelArchitecture, layout: inout SlabLayout, imputing: Bool = false) {
        let c = a.configuration
        let lstm = c.cell == .lstm, vh = c.model == .vhrnn
        encodedData = layout.add(width: c.encodedDim)
        encodedRawData = c.semantics == .fivo ? layout.add(width: c.encodedDim) : nil
        gatheredH = layout.add(width: c.hiddenDim)
        gatheredC = lstm ? layout.add(width: c.hiddenDim) : nil
        gatheredHyperH = vh ? layout.add(width: c.hyperDim) : nil
        gatheredHyperC = vh && lstm ? layout.add(width: c.hyperDim) : nil
        prior = a.prior.makeSlots(&layout)
        proposal = a.proposal.makeSlots(&layout)
        phiZ = a.phiZ.makeSlots(&layout)
        emission = a.emission.makeSlots(&layout)
        logPrior = layout.add(width: 1)
        logProposal = layout.add(width: 1)
        logLikelihood = layout.add(width: 1)
        logAlpha = layout.add(width: 1)
        recurrence = a.recurrence.makeSlots(&layout)
        imputation = imputing
            ? Imputation(frame: layout.add(width: c.dataDim), encoderInput: layout.add(width: c.dataDim),
                         phiX: a.phiX.makeSlots(&layout))
            : nil
    }

    /// These slots for the block of rows from `row` on: what a team region's block passes to
    /// the components, with `rows` its row count (every slot is `(rows, width)`, so a block of
    /// rows is the same slot moved by `row · width`).
    func fromRow(_ row: Int) -> StepSlots {
        var s = self
        s.encodedData = encodedData.fromRow(row)
        s.encodedRawData = encodedRawData?.fromRow(row)
        s.gatheredH = gatheredH.fromRow(row)
        s.gatheredC = gatheredC?.fromRow(row)
        s.gatheredHyperH = gatheredHyperH?.fromRow(row)
        s.gatheredHyperC = gatheredHyperC?.fromRow(row)
        s.prior = prior.fromRow(row)
        s.proposal = proposal.fromRow(row)
        s.phiZ = phiZ.fromRow(row)
        s.emission = emission.fromRow(row)
        s.logPrior = logPrior.fromRow(row)
        s.logProposal = logProposal.fromRow(row)
        s.logLikelihood = logLikelihood.fromRow(row)
        s.logAlpha = logAlpha.fromRow(row)
        s.recurrence = recurrence.fromRow(row)
        s.imputation = imputation?.fromRow(row)
        return s
    }

    /// The gathered state as pointers into `slab` (absent parts: `zeros`).
    func gatheredState<S>(slab: UnsafeMutablePointer<S>, zeros: UnsafeMutablePointer<S>) -> RecurrentStatePointers<S> {
        RecurrentStatePointers(h: slab.at(gatheredH), c: gatheredC.map { slab.at($0) } ?? zeros,
                               hyperH: gatheredHyperH.map { slab.at($0) } ?? zeros,
                               hyperC: gatheredHyperC.map { slab.at($0) } ?? zeros)
    }
}

/// Read-only views into a particle filter's buffers after ``ParticleFilter/run(batch:settings:seed:keepTape:replay:)``,
/// for the inference tools (prefix continuation, diagnostics) and the tests. The pointers are
/// valid until the filter's next `run` (which may reuse or replace its buffers).
extension ParticleFilter {
    /// What a continuation needs from the last step T-1 of a pass over one or more sequences.
    ///
    /// The filter skips the recurrence at its last step (nothing reads h_{T-1} when scoring),
    /// so the state *after* the prefix is not in the buffers; it must be computed from what
    /// the last slab does hold: z_{T-1}, phi_x(x_{T-1}), phi_z(z_{T-1}) and the state step
    /// T-1 read (`state`, which already accounts for a resampling before T-1).
    struct FinalStep {
        /// The slab of step T-1 (its slots are ``slots``).
        var slab: UnsafeMutablePointer<S>
        var slots: StepSlots
        /// h_{T-2}, c_{T-2}, hyper h, hyper c as step T-1 read them (zeros when T = 1).
        var state: RecurrentStatePointers<S>
        /// Accumulated log weights since the last resampling, `(sequences · particles)`: the
        /// filter never resamples at a sequence's last step, so these weight the particles'
        /// whole trajectories given the prefix.
        var logWeights: UnsafeMutablePointer<S>
        var rows: Int
        /// phi_x(x_{T-1}) of every sequence, `(sequences, E)` (the particles share it).
        var encodedFrames: UnsafePointer<S>
    }

    /// The last step of the last pass. Valid for taped and untaped passes: without a tape
    /// the two alternating slabs still hold steps T-2 and T-1.
    func finalStep() -> FinalStep {
        guard let w = stepModel.tape, smc.lastSteps > 0 else { preconditionFailure("run the filter first") }
        let t = smc.lastSteps - 1
        return FinalStep(slab: w.slab(t), slots: w.slots, state: stateInputs(t), logWeights: smc.currentWeights,
                         rows: w.rows,
                         encodedFrames: UnsafePointer(w.sequenceTape.at(w.sequenceSlots.outputs[0]) + t * w.sequences
                             * model.configuration.encodedDim))
    }

    /// The state step t of the last pass read.
    func stateInputs(_ t: Int) -> RecurrentStatePointers<S> {
        stepModel.stateInputs(t, gathered: smc.gathered(step: t))
    }

    /// The slab of step t of the last pass (which must have kept its tape), with its slots.
    func tapeSlab(_ t: Int) -> (slab: UnsafeMutablePointer<S>, slots: StepSlots) {
        guard let w = stepModel.tape, w.withTape, t >= 0, t < smc.lastSteps else {
            preconditionFailure("tapeSlab(\(t)) needs a taped pass of more than \(t) steps")
        }
        return (w.slab(t), w.slots)
    }

    /// The frame x_t of sequence b in the last pass, `(D)` (the particles read it through
    /// their sequence index; it is not copied per particle).
    func targetFrame(_ t: Int, sequence b: Int) -> UnsafePointer<S> {
        guard let w = stepModel.tape, t >= 0, t < smc.lastSteps, b >= 0, b < w.sequences else {
            preconditionFailure("targetFrame(\(t), sequence: \(b)) is outside the last pass")
        }
        return UnsafePointer(w.targets + (t * w.sequences + b) * stepModel.model.configuration.dataDim)
    }

    /// The accumulated log weights after step t of the last taped pass (before any reset).
    func weights(afterStep t: Int) -> UnsafeMutablePointer<S> { smc.weights(afterStep: t) }

    /// Whether sequence b resampled after step t in the last pass (so step t+1 started from
    /// zero log weights and gathered ancestors).
    func resampled(afterStep t: Int, sequence b: Int) -> Bool { smc.resampled(afterStep: t, sequence: b) }

    /// Rows (sequences × particles) of the last pass.
    var inspectedRows: Int { stepModel.tape?.rows ?? 0 }
}

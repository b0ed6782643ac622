/// Read-only views into a particle filter's buffers after ``ParticleFilter/run(batch:settings:seed:keepTape:replay:)``,
/// for the inference tools (prefix continuation, diagnostics).
///
/// These live in an extension in this folder rather than in ParticleFilter.swift so the
/// filter's own code is untouched: everything they read (`workspace`, `lastSteps`,
/// `stateInputs(_:)`) is already internal. The pointers are valid until the filter's next
/// `run` (which may reuse or replace the workspace).
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
        var state: StateInputs
        /// Accumulated log weights since the last resampling, `(sequences · particles)`: the
        /// filter never resamples at a sequence's last step, so these weight the particles'
        /// whole trajectories given the prefix.
        var logWeights: UnsafeMutablePointer<S>
        var rows: Int
    }

    /// The last step of the last pass. Valid for taped and untaped passes: without a tape
    /// the two alternating slabs still hold steps T-2 and T-1.
    func finalStep() -> FinalStep {
        guard let w = workspace, lastSteps > 0 else { preconditionFailure("run the filter first") }
        let t = lastSteps - 1
        return FinalStep(slab: w.slab(t), slots: w.slots, state: stateInputs(t), logWeights: w.weights,
                         rows: w.rows)
    }

    /// The slab of step t of the last pass (which must have kept its tape), with its slots.
    func tapeSlab(_ t: Int) -> (slab: UnsafeMutablePointer<S>, slots: StepSlots) {
        guard let w = workspace, w.withTape, t >= 0, t < lastSteps else {
            preconditionFailure("tapeSlab(\(t)) needs a taped pass of more than \(t) steps")
        }
        return (w.slab(t), w.slots)
    }

    /// Whether sequence b resampled after step t in the last pass (so step t+1 started from
    /// zero log weights and gathered ancestors).
    func resampled(afterStep t: Int, sequence b: Int) -> Bool {
        guard let w = workspace, t >= 0, t < lastSteps, b >= 0, b < w.sequences else { return false }
        return w.resampled[t * w.sequences + b] != 0
    }

    /// Rows (sequences × particles) of the last pass's workspace.
    var inspectedRows: Int { workspace?.rows ?? 0 }
}

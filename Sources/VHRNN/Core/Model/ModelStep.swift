/// One step of the model for every particle row at once, forward beside backward, composed of
/// the components (``Prior``, ``Proposal``, phi_z, ``Emission``, ``Recurrence``). The filter
/// around it does only the SMC work (noise, log weights, resampling, gathers); the sampler and
/// the initial state reuse the same component forwards (see docs: VHRNN.docc/ModelStep.md).
///
/// Forward of step t (every pointer `(rows, ·)`; slots of ``StepSlots``):
///
///     mu_p, sigma_p = prior(h_{t-1})
///     mu_q, sigma_q = proposal([h_{t-1}, phi_x(x_t)]; mu_p)
///     z_t           = mu_q + sigma_q · eps                  eps: the `noise` slot, filled by the filter
///     ez            = phi_z(z_t)
///     head          = emission([ez, h_{t-1}]; omega(u_t))
///     log p(z_t), log q(z_t), log p(x_t | ·)                into logPrior, logProposal, logLikelihood
///     h_t, ...      = recurrence([phi_x(x_t), ez], h_{t-1}; theta(u_t))   skipped at the last step
extension ModelArchitecture {
    /// The hyper networks' input parts u_t, read in place: [z_t, h_{t-1}], z_t or h_{t-1}.
    /// Generic over the pointer type so the backward pass can ask for the matching gradients.
    func hyperInputParts<P>(z: P, h: P) -> (P, P?) {
        switch configuration.hyperInput {
        case .both: return (z, h)
        case .latent: return (z, nil)
        case .hidden: return (h, nil)
        }
    }

    /// What one filter step reads besides its slab: the state and the per-particle frames.
    struct StepInputs<S> {
        var state: RecurrentStatePointers<S>
        /// phi_x(x_t) per particle (g's input, and the proposal's under standard semantics).
        var encodedData: UnsafeMutablePointer<S>
        /// What the proposal reads: `encodedData`, or phi_x(raw x_t) under FIVO semantics.
        var proposalData: UnsafeMutablePointer<S>
        /// x_t, per sequence, read through the rows' sequence index.
        var target: SequenceFrame<S>
        /// The proposal's and g's phi_x parts computed once per sequence (nil: per particle).
        var proposalProjection: SequenceProjection<S>? = nil
        var recurrenceProjection: SequenceProjection<S>? = nil
    }

    /// Step t's forward, everything but the noise (already in the `noise` slot) and the log
    /// weights. `recur`: also compute the next state (not needed after the last step).
    func stepForward<S: KernelScalar>(parameters p: UnsafePointer<S>, slab: UnsafeMutablePointer<S>, slots s: StepSlots,
                                      inputs: StepInputs<S>, recur: Bool, rows: Int) {
        let hIn = UnsafePointer(inputs.state.h)
        prior.forward(parameters: p, slab: slab, slots: s.prior, hPrev: hIn, rows: rows)
        proposal.forward(parameters: p, slab: slab, slots: s.proposal, hPrev: hIn,
                         encodedData: UnsafePointer(inputs.proposalData), priorMean: UnsafePointer(slab.at(s.prior.mean)),
                         logDensity: slab.at(s.logProposal), rows: rows, projectedData: inputs.proposalProjection)
        let (z, ez, u) = decodeForward(parameters: p, slab: slab, slots: s, hPrev: hIn, rows: rows)
        prior.logDensityForward(slab: slab, slots: s.prior, z: z, logDensity: slab.at(s.logPrior), rows: rows)
        emission.logLikelihoodForward(slab: slab, slots: s.emission, target: inputs.target,
                                      logLikelihood: slab.at(s.logLikelihood), rows: rows)
        guard recur else { return }
        recurrence.forward(parameters: p, slab: slab, slots: s.recurrence, encodedData: UnsafePointer(inputs.encodedData),
                           encodedLatent: ez, hyperInput: u, state: inputs.state, rows: rows,
                           projectedData: inputs.recurrenceProjection)
    }

    /// From the draw z_t (in the proposal's `z` slot): ez = phi_z(z_t), the hyper input u_t
    /// and the emission (omega, then the decoder) — shared by the observed and the imputed step.
    private func decodeForward<S: KernelScalar>(parameters p: UnsafePointer<S>, slab: UnsafeMutablePointer<S>,
                                                slots s: StepSlots, hPrev hIn: UnsafePointer<S>, rows: Int)
        -> (z: UnsafePointer<S>, ez: UnsafePointer<S>, u: (UnsafePointer<S>, UnsafePointer<S>?)) {
        let z = UnsafePointer(slab.at(s.proposal.z))
        phiZ.forward(parameters: p, slab: slab, slots: s.phiZ, input0: z, input1: nil, modulation: [], rows: rows)
        let ez = UnsafePointer(slab.at(s.phiZ.outputs[0]))
        let u = hyperInputParts(z: z, h: hIn)
        emission.forward(parameters: p, slab: slab, slots: s.emission, encodedLatent: ez, hPrev: hIn, hyperInput: u,
                         rows: rows)
        return (z, ez, u)
    }

    /// Step t's forward for rows whose frame is missing (a stream's gap): z_t from the prior
    /// (the `noise` slot's eps), the emission's mean frame in place of x_t (sigmoid of the
    /// logits, or mu_x), the recurrence on phi_x of that frame minus the input offset; log
    /// alpha_t = 0 (the filter masks the weights of these rows at this step). Reads the
    /// imputation slots (``StepSlots/imputation``); `negativeOffset` is `(rows, D)`.
    func imputedStepForward<S: KernelScalar>(parameters p: UnsafePointer<S>, slab: UnsafeMutablePointer<S>,
                                             slots s: StepSlots, state: RecurrentStatePointers<S>,
                                             negativeOffset: UnsafePointer<S>, rows: Int) {
        guard let imputation = s.imputation else { preconditionFailure("a missing frame needs a stream's slabs") }
        let c = configuration, hIn = UnsafePointer(state.h)
        prior.forward(parameters: p, slab: slab, slots: s.prior, hPrev: hIn, rows: rows)
        prior.sigmaForward(slab: slab, slots: s.prior, rows: rows)
        S.gaussianSampleForward(slab.at(s.proposal.z), UnsafePointer(slab.at(s.prior.mean)),
                                UnsafePointer(slab.at(s.prior.sigma)), UnsafePointer(slab.at(s.proposal.noise)),
                                count: rows * c.latentDim)
        let (_, ez, u) = decodeForward(parameters: p, slab: slab, slots: s, hPrev: hIn, rows: rows)
        emission.sigmaForward(slab: slab, slots: s.emission, rows: rows)  // sigma_x, read by the filter's report
        let frame = slab.at(imputation.frame), head = UnsafePointer(slab.at(s.emission.head))
        switch c.emission {
        case .bernoulli: S.sigmoidForward(frame, head, count: rows * c.dataDim)
        case .gaussian: frame.update(from: head, count: rows * c.dataDim)
        }
        S.addForward(slab.at(imputation.encoderInput), UnsafePointer(frame), negativeOffset, count: rows * c.dataDim)
        phiX.forward(parameters: p, slab: slab, slots: imputation.phiX, input0: UnsafePointer(slab.at(imputation.encoderInput)),
                     input1: nil, modulation: [], rows: rows)
        recurrence.forward(parameters: p, slab: slab, slots: s.recurrence,
                           encodedData: UnsafePointer(slab.at(imputation.phiX.outputs[0])), encodedLatent: ez,
                           hyperInput: u, state: state, rows: rows)
        slab.at(s.logAlpha).zero(count: rows)
    }

    /// Backward of ``stepForward(parameters:slab:slots:inputs:recur:rows:)``. On entry
    /// `gradSlab` holds d logPrior, d logLikelihood and d logProposal (and zeros elsewhere),
    /// `dOutput` the gradients of this step's output state (when `recur`). Accumulates the
    /// parameter gradients into `g`, the previous state's gradients into `dState`, and
    /// d phi_x(x_t) (and d phi_x(raw x_t)) into the `encodedData` (`encodedRawData`) slots of
    /// `gradSlab`.
    func stepBackward<S: KernelScalar>(parameters p: UnsafePointer<S>, gradients g: UnsafeMutablePointer<S>,
                                       slab: UnsafeMutablePointer<S>, gradSlab: UnsafeMutablePointer<S>,
                                       slots s: StepSlots, inputs: StepInputs<S>, recur: Bool,
                                       dOutput: RecurrentStatePointers<S>, dState: RecurrentStatePointers<S>,
                                       rows: Int, mutation: GradientMutation?) {
        let hIn = UnsafePointer(inputs.state.h)
        let ex = UnsafePointer(inputs.encodedData), dEx = gradSlab.at(s.encodedData)
        let z = UnsafePointer(slab.at(s.proposal.z)), dz = gradSlab.at(s.proposal.z)
        let ez = UnsafePointer(slab.at(s.phiZ.outputs[0])), dEz = gradSlab.at(s.phiZ.outputs[0])
        let u = hyperInputParts(z: z, h: hIn)
        let du = hyperInputParts(z: dz, h: dState.h)

        if recur {
            recurrence.backward(parameters: p, gradients: g, slab: slab, gradSlab: gradSlab, slots: s.recurrence,
                                encodedData: ex, encodedLatent: ez, hyperInput: u, state: inputs.state,
                                dOutput: dOutput, dState: dState, dEncodedData: dEx, dEncodedLatent: dEz,
                                dHyperInput: (du.0, du.1), rows: rows, projectedData: inputs.recurrenceProjection)
        }
        // forward: log p(x | ·), log q(z), log p(z)
        emission.logLikelihoodBackward(slab: slab, gradSlab: gradSlab, slots: s.emission,
                                       target: inputs.target,
                                       dLogLikelihood: UnsafePointer(gradSlab.at(s.logLikelihood)), rows: rows)
        proposal.logDensityBackward(slab: slab, gradSlab: gradSlab, slots: s.proposal,
                                    dLogDensity: UnsafePointer(gradSlab.at(s.logProposal)), rows: rows)
        prior.logDensityBackward(slab: slab, gradSlab: gradSlab, slots: s.prior, z: z, dz: dz,
                                 dLogDensity: UnsafePointer(gradSlab.at(s.logPrior)), rows: rows)
        // forward: head = emission([ez, h_{t-1}]; omega(u_t))
        emission.backward(parameters: p, gradients: g, slab: slab, gradSlab: gradSlab, slots: s.emission,
                          encodedLatent: ez, hPrev: hIn, hyperInput: u, dEncodedLatent: dEz, dhPrev: dState.h,
                          dHyperInput: du, rows: rows)
        // forward: ez = phi_z(z)
        phiZ.backward(parameters: p, gradients: g, slab: slab, gradSlab: gradSlab, slots: s.phiZ, input0: z,
                      input1: nil, dInput0: dz, dInput1: nil, modulation: [], rows: rows)
        // forward: z = mu_q + sigma_q · eps; mu_q, sigma_q = proposal([h, phi_x(x)]; mu_p)
        let dProposalData = s.encodedRawData.map { gradSlab.at($0) } ?? dEx
        proposal.backward(parameters: p, gradients: g, slab: slab, gradSlab: gradSlab, slots: s.proposal, hPrev: hIn,
                          encodedData: UnsafePointer(inputs.proposalData), dhPrev: dState.h,
                          dEncodedData: dProposalData, dPriorMean: gradSlab.at(s.prior.mean), rows: rows,
                          dropResidualMean: mutation == .droppedResidualMean, projectedData: inputs.proposalProjection)
        // forward: mu_p, sigma_p = prior(h_{t-1})
        prior.backward(parameters: p, gradients: g, slab: slab, gradSlab: gradSlab, slots: s.prior, hPrev: hIn,
                       dhPrev: dState.h, rows: rows)
    }
}

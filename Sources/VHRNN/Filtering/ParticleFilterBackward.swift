/// Manual backpropagation through time of the last taped filter pass.
///
/// Walks the steps in reverse, replaying the forward computation's dependencies backwards
/// (each block below quotes the forward it differentiates). Ancestor indices are constants:
/// every gather of the forward becomes a scatter-add of the children's state gradients into
/// their parents. Log-weight gradients come from the events that consumed them: at a
/// resampling or a sequence's last step, d lse(w)/dw = softmax(w); weights reset after a
/// resampling, so earlier steps only feed the earlier event.
extension ParticleFilter {
    /// Accumulates d(Σ_b g_b · bound_b)/dθ into `model.parameters` gradients, for the pass just
    /// run with `keepTape: true`. The training loss −mean_b(log Ẑ_b / T_b) has
    /// g_b = −1 / (B · T_b).
    public func backward(boundGradients: [Double]) {
        backward(boundGradients: boundGradients, into: model.parameters.gradients)
    }

    /// ``backward(boundGradients:)`` into another gradient arena of the model's layout (data-
    /// parallel training gives each worker its own and sums them).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    func backward(boundGradients: [Double], into g: UnsafeMutablePointer<S>) {
        guard let settings = lastSettings, let w = workspace, w.withTape, let gradSlab = w.gradSlab,
              let sequenceGrad = w.sequenceGrad else {
            preconditionFailure("backward needs a pass run with keepTape: true")
        }
        let a = model.architecture, c = a.configuration, s = w.slots, ss = w.stateSlots
        let p = UnsafePointer(model.parameters.values)
        let B = w.sequences, K = w.particles, N = w.rows, T = lastSteps
        precondition(boundGradients.count == B, "one bound gradient per sequence")
        let (Z, D, E) = (c.latentDim, c.dataDim, c.encodedDim)
        let sigmaMin = S(c.sigmaMin)

        w.stateGradOut.zero(count: w.stateSize)
        w.weightGrad.zero(count: N)
        sequenceGrad.zero(count: w.sequenceSize)
        let dBound = w.scratch, lse = w.scratch + B

        for t in stride(from: T - 1, through: 0, by: -1) {
            let slab = w.slab(t)
            let mask = UnsafePointer(w.mask + t * B)

            // Events after step t set the weight gradient of the segment that ends here.
            for b in 0..<B where mask[b] != 0 && (t == w.lengths[b] - 1 || w.resampled[t * B + b] != 0) {
                let dw = w.weightGrad + b * K, wb = UnsafePointer(slab.at(s.weights) + b * K)
                dw.zero(count: K)
                if settings.bound == .elbo {
                    // forward: bound = mean_k w
                    dw.update(repeating: S(boundGradients[b] / Double(K)), count: K)
                } else {
                    // forward: log Ẑ += lse(w) - log K
                    dBound[0] = S(boundGradients[b])
                    S.logsumexpForward(lse, wb, b: 1, k: K)
                    S.logsumexpBackward(dw, UnsafePointer(dBound), wb, UnsafePointer(lse), b: 1, k: K)
                }
            }

            gradSlab.zero(count: w.slabSize)
            w.stateGradIn.zero(count: w.stateSize)
            let dOut = w.stateGradOut, dIn = w.stateGradIn
            let state = stateInputs(t)
            let hIn = UnsafePointer(state.h)
            let ex = UnsafePointer(slab.at(s.encodedData)), dEx = gradSlab.at(s.encodedData)
            let z = UnsafePointer(slab.at(s.z)), dz = gradSlab.at(s.z)
            let ez = UnsafePointer(slab.at(s.phiZ.outputs[0])), dEz = gradSlab.at(s.phiZ.outputs[0])
            let (u0, u1) = a.hyperInputParts(z: z, h: hIn)
            let (du0, du1) = a.hyperInputParts(z: dz, h: dIn.at(ss.h))

            if t < T - 1 {
                // forward: h_t, c_t = g([ex, ez], h_{t-1}, c_{t-1}; hyper)
                var hyper: UnsafePointer<S>? = nil, dHyper: UnsafeMutablePointer<S>? = nil
                if let headSlots = s.thetaHead {
                    hyper = UnsafePointer(slab.at(headSlots.outputs[0]))
                    dHyper = gradSlab.at(headSlots.outputs[0])
                }
                a.rnn.backward(parameters: p, gradients: g, slab: slab, gradSlab: gradSlab, slots: s.rnn,
                               dh: UnsafePointer(dOut.at(ss.h)), dc: c.cell == .lstm ? UnsafePointer(dOut.at(ss.c)) : nil,
                               input0: ex, input1: ez, dInput0: dEx, dInput1: dEz, hPrev: hIn,
                               cPrev: UnsafePointer(state.c), dhPrev: dIn.at(ss.h),
                               dcPrev: c.cell == .lstm ? dIn.at(ss.c) : nil, hyper: hyper, dHyper: dHyper, rows: N)
                if let theta = a.theta, let thetaSlots = s.theta, let head = a.thetaHead, let headSlots = s.thetaHead {
                    // forward: hyper = theta_head(hh_t); hh_t, ch_t = theta(u_t, hh_{t-1}, ch_{t-1})
                    head.backward(parameters: p, gradients: g, slab: slab, gradSlab: gradSlab, slots: headSlots,
                                  input0: UnsafePointer(slab.at(thetaSlots.h)), input1: nil,
                                  dInput0: dOut.at(ss.hyperH), dInput1: nil, modulation: [], rows: N)
                    theta.backward(parameters: p, gradients: g, slab: slab, gradSlab: gradSlab, slots: thetaSlots,
                                   dh: UnsafePointer(dOut.at(ss.hyperH)),
                                   dc: c.cell == .lstm ? UnsafePointer(dOut.at(ss.hyperC)) : nil,
                                   input0: u0, input1: u1,
                                   dInput0: du0, dInput1: du1, hPrev: UnsafePointer(state.hyperH),
                                   cPrev: UnsafePointer(state.hyperC), dhPrev: dIn.at(ss.hyperH),
                                   dcPrev: c.cell == .lstm ? dIn.at(ss.hyperC) : nil, hyper: nil, dHyper: nil, rows: N)
                }
            }

            // forward: w += mask · (log p(z) + log p(x|z) - log q(z))
            S.logWeightsBackward(gradSlab.at(s.logPrior), gradSlab.at(s.logLikelihood), gradSlab.at(s.logProposal),
                                 UnsafePointer(w.weightGrad), mask, b: B, k: K)
            let target = UnsafePointer(slab.at(s.target))
            switch c.emission {
            case .bernoulli:
                S.bernoulliLogpmfBackward(gradSlab.at(s.emission.outputs[0]), UnsafePointer(gradSlab.at(s.logLikelihood)),
                                          target, UnsafePointer(slab.at(s.emission.outputs[0])), n: N, d: D)
            case .gaussian:
                S.gaussianLogpdfBackward(nil, gradSlab.at(s.emission.outputs[0]), gradSlab.at(s.emissionSigma),
                                         UnsafePointer(gradSlab.at(s.logLikelihood)), target,
                                         UnsafePointer(slab.at(s.emission.outputs[0])),
                                         UnsafePointer(slab.at(s.emissionSigma)), n: N, d: D)
                S.gaussianSigmaBackward(gradSlab.at(s.emission.outputs[1]), UnsafePointer(gradSlab.at(s.emissionSigma)),
                                        UnsafePointer(slab.at(s.emission.outputs[1])), count: N * D, sigmaMin: sigmaMin)
            }
            S.gaussianLogpdfBackward(dz, gradSlab.at(s.proposalMean), gradSlab.at(s.proposalSigma),
                                     UnsafePointer(gradSlab.at(s.logProposal)), z, UnsafePointer(slab.at(s.proposalMean)),
                                     UnsafePointer(slab.at(s.proposalSigma)), n: N, d: Z)
            S.gaussianLogpdfBackward(dz, gradSlab.at(s.prior.outputs[0]), gradSlab.at(s.priorSigma),
                                     UnsafePointer(gradSlab.at(s.logPrior)), z, UnsafePointer(slab.at(s.prior.outputs[0])),
                                     UnsafePointer(slab.at(s.priorSigma)), n: N, d: Z)

            // forward: emission([ez, h_{t-1}]) modulated by omega(u_t)
            a.emission.backward(parameters: p, gradients: g, slab: slab, gradSlab: gradSlab, slots: s.emission,
                                input0: ez, input1: hIn, dInput0: dEz, dInput1: dIn.at(ss.h),
                                modulation: s.omega?.outputs ?? [], rows: N)
            if let omega = a.omega, let omegaSlots = s.omega {
                omega.backward(parameters: p, gradients: g, slab: slab, gradSlab: gradSlab, slots: omegaSlots,
                               input0: u0, input1: u1, dInput0: du0,
                               dInput1: du1, modulation: [], rows: N)
            }
            // forward: ez = phi_z(z); z = mu_q + sigma_q . eps
            a.phiZ.backward(parameters: p, gradients: g, slab: slab, gradSlab: gradSlab, slots: s.phiZ, input0: z,
                            input1: nil, dInput0: dz, dInput1: nil, modulation: [], rows: N)
            S.gaussianSampleBackward(gradSlab.at(s.proposalMean), gradSlab.at(s.proposalSigma), UnsafePointer(dz),
                                     UnsafePointer(slab.at(s.noise)), count: N * Z)
            // forward: sigma_q = softplus(raw_q + 0.5); mu_q = mu_p + dmu
            S.gaussianSigmaBackward(gradSlab.at(s.proposal.outputs[1]), UnsafePointer(gradSlab.at(s.proposalSigma)),
                                    UnsafePointer(slab.at(s.proposal.outputs[1])), count: N * Z, sigmaMin: sigmaMin)
            if mutation != .droppedResidualMean {
                S.accumulate(gradSlab.at(s.prior.outputs[0]), UnsafePointer(gradSlab.at(s.proposalMean)), count: N * Z)
            }
            S.accumulate(gradSlab.at(s.proposal.outputs[0]), UnsafePointer(gradSlab.at(s.proposalMean)), count: N * Z)
            let proposalData = s.encodedRawData.map { UnsafePointer(slab.at($0)) } ?? ex
            let dProposalData = s.encodedRawData.map { gradSlab.at($0) } ?? dEx
            a.proposal.backward(parameters: p, gradients: g, slab: slab, gradSlab: gradSlab, slots: s.proposal,
                                input0: hIn, input1: proposalData, dInput0: dIn.at(ss.h), dInput1: dProposalData,
                                modulation: [], rows: N)
            // forward: sigma_p = softplus(raw_p + 0.5); prior(h_{t-1})
            S.gaussianSigmaBackward(gradSlab.at(s.prior.outputs[1]), UnsafePointer(gradSlab.at(s.priorSigma)),
                                    UnsafePointer(slab.at(s.prior.outputs[1])), count: N * Z, sigmaMin: sigmaMin)
            a.prior.backward(parameters: p, gradients: g, slab: slab, gradSlab: gradSlab, slots: s.prior, input0: hIn,
                             input1: nil, dInput0: dIn.at(ss.h), dInput1: nil, modulation: [], rows: N)
            // forward: ex = phi_x(x_t) repeated per particle, so its gradient sums over particles
            S.gatherRowsBackward(sequenceGrad.at(w.sequenceSlots.outputs[0]) + t * B * E, UnsafePointer(dEx),
                                 UnsafePointer(w.expandIndex), n: N, inRows: B, width: E)
            if let raw = w.rawSequenceSlots, let rawSlot = s.encodedRawData {
                S.gatherRowsBackward(sequenceGrad.at(raw.outputs[0]) + t * B * E, UnsafePointer(gradSlab.at(rawSlot)),
                                     UnsafePointer(w.expandIndex), n: N, inRows: B, width: E)
            }

            // State gradients of step t-1's outputs: through the gather if step t followed a
            // resampling (scatter-add into the parents), else directly.
            if t > 0 {
                if w.gathered[t] && mutation != .droppedAncestorScatter {
                    dOut.zero(count: w.stateSize)
                    let anc = UnsafePointer(w.ancestors + t * N)
                    func scatter(_ slot: Slot) {
                        S.gatherRowsBackward(dOut.at(slot), UnsafePointer(dIn.at(slot)), anc, n: N, inRows: N,
                                             width: slot.width)
                    }
                    scatter(ss.h)
                    if c.cell == .lstm { scatter(ss.c) }
                    if a.theta != nil {
                        scatter(ss.hyperH)
                        if c.cell == .lstm { scatter(ss.hyperC) }
                    }
                } else {
                    swap(&w.stateGradOut, &w.stateGradIn)
                }
            } else if let initial = w.initialState {
                // forward: step 0's state = FIVO's initial state broadcast to every row
                initial.backward(architecture: a, parameters: p, gradients: g, n: N, dh: UnsafePointer(dIn.at(ss.h)),
                                 dc: UnsafePointer(dIn.at(ss.c)), dHyperH: UnsafePointer(dIn.at(ss.hyperH)),
                                 dHyperC: UnsafePointer(dIn.at(ss.hyperC)))
            }
        }
        // forward: phi_x over every (step, sequence) row at once
        a.phiX.backward(parameters: p, gradients: g, slab: w.sequenceTape, gradSlab: sequenceGrad,
                        slots: w.sequenceSlots, input0: UnsafePointer(w.inputs), input1: nil, dInput0: nil,
                        dInput1: nil, modulation: [], rows: T * B)
        if let raw = w.rawSequenceSlots {
            a.phiX.backward(parameters: p, gradients: g, slab: w.sequenceTape, gradSlab: sequenceGrad, slots: raw,
                            input0: UnsafePointer(w.targets), input1: nil, dInput0: nil, dInput1: nil, modulation: [],
                            rows: T * B)
        }
        if mutation == .droppedBias,
           let bias = model.parameters.layout.tensor(named: "emission.layer\(c.fcWidths.count).bias") {
            (g + bias.offset).zero(count: bias.count)
        }
    }
}

internal import CVHRNN

/// Runs a model's particle filter over a batch and computes ELBO, IWAE or FIVO (DESIGN §4);
/// with a tape it can then backpropagate the bound through time (see
/// ParticleFilterBackward.swift).
///
/// Rows are laid out sequence-major: row `b·K + k` is particle k of sequence b. Each step
/// runs the whole batch's B·K rows through every layer at once (GEMMs over all rows), with the
/// C kernels parallel inside; this is the parallel grain we chose — see docs/PERFORMANCE.md.
///
/// Randomness: each sequence has its own SplitMix64 noise stream, seeded from the pass's
/// `seed` and the sequence's noise key; per step it draws K·Z normals and then K uniforms,
/// whether or not they are used. So a pass is a deterministic function of (parameters, data,
/// seed), and the same seed gives the same noise to ELBO, IWAE and FIVO, and to a sequence
/// whatever batch it is in.
public final class ParticleFilter<S: KernelScalar> {
    public let model: SequenceModel<S>
    var workspace: FilterWorkspace<S>?
    /// The settings and bound gradients' context of the last taped pass.
    var lastSettings: FilterSettings?
    var lastSteps = 0
    /// A deliberate backward defect for the gradient check's own tests (nil otherwise).
    var mutation: GradientMutation?

    public init(model: SequenceModel<S>) { self.model = model }

    /// Bytes held by the filter's buffers.
    public var workspaceBytes: Int { workspace?.byteCount ?? 0 }

    /// Computes the bound for every sequence of `batch`.
    /// - Parameters:
    ///   - keepTape: keep every step's activations for ``backward(boundGradients:)``.
    ///   - replay: resampling decisions and ancestors to reuse instead of drawing them.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func run(batch: SequenceBatch<S>, settings: FilterSettings, seed: UInt64, keepTape: Bool = false,
                    replay: AncestorPlan? = nil) -> FilterResult {
        let a = model.architecture
        let c = a.configuration
        precondition(batch.dataDim == c.dataDim, "batch has \(batch.dataDim) dimensions, the model \(c.dataDim)")
        let B = batch.count, K = settings.particleCount, T = batch.maxLength, N = B * K
        if let replay {
            precondition(replay.sequences == B && replay.particles == K && replay.steps >= T,
                         "the ancestor plan was recorded for another batch shape")
        }
        if workspace?.fits(steps: T, sequences: B, particles: K, withTape: keepTape) != true {
            workspace = FilterWorkspace(architecture: a, steps: T, sequences: B, particles: K, withTape: keepTape)
        }
        let w = workspace!
        w.sequences = B
        if w.logZ.count != B {
            w.logZ = Array(repeating: 0, count: B)
            w.lengths = Array(repeating: 0, count: B)
        }
        lastSettings = keepTape ? settings : nil
        lastSteps = T

        // Data in, time-major (T, B, D); the encoder runs once over all (step, sequence) rows.
        batch.inputs.withUnsafeBufferPointer { w.inputs.update(from: $0.baseAddress!, count: $0.count) }
        batch.targets.withUnsafeBufferPointer { w.targets.update(from: $0.baseAddress!, count: $0.count) }
        batch.mask.withUnsafeBufferPointer { w.mask.update(from: $0.baseAddress!, count: $0.count) }
        let p = UnsafePointer(model.parameters.values)
        a.phiX.forward(parameters: p, slab: w.sequenceTape, slots: w.sequenceSlots, input0: UnsafePointer(w.inputs),
                       input1: nil, modulation: [], rows: T * B)
        if let raw = w.rawSequenceSlots {
            // FIVO's proposal encodes the raw target frames with the same phi_x.
            a.phiX.forward(parameters: p, slab: w.sequenceTape, slots: raw, input0: UnsafePointer(w.targets),
                           input1: nil, modulation: [], rows: T * B)
        }
        if let initial = w.initialState {
            // FIVO's h'_0 (and hyper state), the same for every row, into what step 0 reads.
            let state = stateInputs(0)
            initial.forward(architecture: a, parameters: p, n: N, h: state.h, c: state.c, hyperH: state.hyperH,
                            hyperC: state.hyperC)
        }

        for b in 0..<B {
            var mixer = SplitMix64(seed: seed &+ batch.noiseKeys[b] &* 0xD1B5_4A32_D192_ED03)
            w.noiseStates[b] = mixer.next()
            w.logZ[b] = 0
            w.lengths[b] = batch.lengths[b]
        }
        w.weights.zero(count: N)
        w.resampled.update(repeating: 0, count: T * B)
        w.gathered.update(repeating: false, count: T)
        var events = 0

        for t in 0..<T {
            forwardStep(t, steps: T, settings: settings)
            // Bookkeeping after step t (DESIGN §4); a resampling gathers the ancestors' state.
            let outcome = ParticleBookkeeping.afterStep(
                t: t, lengths: batch.lengths, settings: settings, weights: w.weights, mask: UnsafePointer(w.mask + t * B),
                uniforms: UnsafePointer(w.uniforms), replay: replay, logZ: &w.logZ, resampled: w.resampled + t * B,
                nextAncestors: w.ancestors + min(t + 1, T - 1) * N, scratch: w.scratch)
            events += outcome.events
            guard outcome.anyResampled, t + 1 < T else { continue }
            w.gathered[t + 1] = true
            gatherState(into: t + 1)
        }
        return FilterResult(bounds: w.logZ, lengths: batch.lengths, resamplingEvents: events)
    }

    /// ``run(batch:settings:seed:keepTape:replay:)`` with the pass seed drawn from an injected
    /// generator.
    public func run(batch: SequenceBatch<S>, settings: FilterSettings, using generator: inout some RandomNumberGenerator,
                    keepTape: Bool = false, replay: AncestorPlan? = nil) -> FilterResult {
        run(batch: batch, settings: settings, seed: generator.next(), keepTape: keepTape, replay: replay)
    }

    /// The decisions and ancestors of the last pass (to replay it).
    public var recordedPlan: AncestorPlan {
        let w = workspace!
        let T = lastSteps, N = w.rows
        return AncestorPlan(steps: T, sequences: w.sequences, particles: w.particles,
                            resampled: Array(UnsafeBufferPointer(start: w.resampled, count: T * w.sequences)),
                            ancestors: Array(UnsafeBufferPointer(start: w.ancestors, count: T * N)))
    }

    // MARK: - One step

    /// The state pointers step t reads: at t = 0 zeros (``StepSemantics/standard``) or the
    /// broadcast initial state (`.fivo`), after a resampling the gathered copies, else the
    /// previous step's outputs.
    struct StateInputs {
        var h, c, hyperH, hyperC: UnsafeMutablePointer<S>
    }

    func stateInputs(_ t: Int) -> StateInputs {
        let w = workspace!, s = w.slots
        if t == 0 {
            guard w.initialState != nil else {
                return StateInputs(h: w.zeroState, c: w.zeroState, hyperH: w.zeroState, hyperC: w.zeroState)
            }
            let c = model.configuration, lstm = c.cell == .lstm, vh = c.model == .vhrnn
            let slab0 = w.slab(0)
            return StateInputs(h: slab0.at(s.gatheredH), c: lstm ? slab0.at(s.gatheredC) : w.zeroState,
                               hyperH: vh ? slab0.at(s.gatheredHyperH) : w.zeroState,
                               hyperC: vh && lstm ? slab0.at(s.gatheredHyperC) : w.zeroState)
        }
        let slab = w.slab(t)
        if w.gathered[t] {
            return StateInputs(h: slab.at(s.gatheredH), c: slab.at(s.gatheredC), hyperH: slab.at(s.gatheredHyperH),
                               hyperC: slab.at(s.gatheredHyperC))
        }
        let prev = w.slab(t - 1)
        return StateInputs(h: prev.at(s.rnn.h), c: prev.at(s.rnn.c), hyperH: s.theta.map { prev.at($0.h) } ?? w.zeroState,
                           hyperC: s.theta.map { prev.at($0.c) } ?? w.zeroState)
    }

    /// Copies the ancestors' state (h, c, hyper h, hyper c) of step t-1 into step t's slab.
    private func gatherState(into t: Int) {
        let w = workspace!, s = w.slots, c = model.configuration
        let prev = w.slab(t - 1), slab = w.slab(t), N = w.rows
        let anc = UnsafePointer(w.ancestors + t * N)
        S.gatherRowsForward(slab.at(s.gatheredH), UnsafePointer(prev.at(s.rnn.h)), anc, n: N, inRows: N, width: c.hiddenDim)
        if c.cell == .lstm {
            S.gatherRowsForward(slab.at(s.gatheredC), UnsafePointer(prev.at(s.rnn.c)), anc, n: N, inRows: N,
                                width: c.hiddenDim)
        }
        if let theta = s.theta {
            S.gatherRowsForward(slab.at(s.gatheredHyperH), UnsafePointer(prev.at(theta.h)), anc, n: N, inRows: N,
                                width: c.hyperDim)
            if c.cell == .lstm {
                S.gatherRowsForward(slab.at(s.gatheredHyperC), UnsafePointer(prev.at(theta.c)), anc, n: N, inRows: N,
                                    width: c.hyperDim)
            }
        }
    }

    private func forwardStep(_ t: Int, steps T: Int, settings: FilterSettings) {
        let w = workspace!, s = w.slots, a = model.architecture, c = a.configuration
        let p = UnsafePointer(model.parameters.values)
        let B = w.sequences, K = w.particles, N = w.rows
        let (Z, D, E) = (c.latentDim, c.dataDim, c.encodedDim)
        let sigmaMin = S(c.sigmaMin)
        let slab = w.slab(t)
        let state = stateInputs(t)
        let hIn = UnsafePointer(state.h)

        // x_t and phi_x(x_t), one copy per particle (and phi_x(raw x_t) for FIVO's proposal).
        let expand = UnsafePointer(w.expandIndex)
        S.gatherRowsForward(slab.at(s.encodedData), UnsafePointer(w.sequenceTape.at(w.sequenceSlots.outputs[0]) + t * B * E),
                            expand, n: N, inRows: B, width: E)
        S.gatherRowsForward(slab.at(s.target), UnsafePointer(w.targets + t * B * D), expand, n: N, inRows: B, width: D)
        let ex = UnsafePointer(slab.at(s.encodedData))
        var proposalData = ex
        if let raw = w.rawSequenceSlots, let rawSlot = s.encodedRawData {
            S.gatherRowsForward(slab.at(rawSlot), UnsafePointer(w.sequenceTape.at(raw.outputs[0]) + t * B * E), expand,
                                n: N, inRows: B, width: E)
            proposalData = UnsafePointer(slab.at(rawSlot))
        }

        // prior p(z_t | h_{t-1}) and proposal q(z_t | x_t, h_{t-1}), mean = prior mean + residual
        a.prior.forward(parameters: p, slab: slab, slots: s.prior, input0: hIn, input1: nil, modulation: [], rows: N)
        S.gaussianSigmaForward(slab.at(s.priorSigma), UnsafePointer(slab.at(s.prior.outputs[1])), count: N * Z,
                               sigmaMin: sigmaMin)
        a.proposal.forward(parameters: p, slab: slab, slots: s.proposal, input0: hIn, input1: proposalData,
                           modulation: [], rows: N)
        S.addForward(slab.at(s.proposalMean), UnsafePointer(slab.at(s.prior.outputs[0])),
                     UnsafePointer(slab.at(s.proposal.outputs[0])), count: N * Z)
        S.gaussianSigmaForward(slab.at(s.proposalSigma), UnsafePointer(slab.at(s.proposal.outputs[1])), count: N * Z,
                               sigmaMin: sigmaMin)

        // noise: per sequence K·Z normals, then K uniforms for resampling
        for b in 0..<B {
            S.fillStandardNormal(slab.at(s.noise) + b * K * Z, count: K * Z, w.noiseStates + b)
            vh_fill_uniform(w.uniforms + b * K, K, w.noiseStates + b)
        }
        S.gaussianSampleForward(slab.at(s.z), UnsafePointer(slab.at(s.proposalMean)),
                                UnsafePointer(slab.at(s.proposalSigma)), UnsafePointer(slab.at(s.noise)), count: N * Z)
        let z = UnsafePointer(slab.at(s.z))
        a.phiZ.forward(parameters: p, slab: slab, slots: s.phiZ, input0: z, input1: nil, modulation: [], rows: N)
        let ez = UnsafePointer(slab.at(s.phiZ.outputs[0]))

        // emission p(x_t | z_t, h_{t-1}), modulated by omega(u_t) in a VHRNN
        let u = a.hyperInputParts(z: z, h: hIn)
        a.emissionForward(parameters: p, slab: slab, omegaSlots: s.omega, emissionSlots: s.emission, encodedLatent: ez,
                          hPrev: hIn, hyperInput: u, rows: N)

        // log alpha = log p(z) + log p(x | z) - log q(z)
        S.gaussianLogpdfForward(slab.at(s.logPrior), z, UnsafePointer(slab.at(s.prior.outputs[0])),
                                UnsafePointer(slab.at(s.priorSigma)), n: N, d: Z)
        S.gaussianLogpdfForward(slab.at(s.logProposal), z, UnsafePointer(slab.at(s.proposalMean)),
                                UnsafePointer(slab.at(s.proposalSigma)), n: N, d: Z)
        let target = UnsafePointer(slab.at(s.target))
        switch c.emission {
        case .bernoulli:
            S.bernoulliLogpmfForward(slab.at(s.logLikelihood), target, UnsafePointer(slab.at(s.emission.outputs[0])),
                                     n: N, d: D)
        case .gaussian:
            S.gaussianSigmaForward(slab.at(s.emissionSigma), UnsafePointer(slab.at(s.emission.outputs[1])),
                                   count: N * D, sigmaMin: sigmaMin)
            S.gaussianLogpdfForward(slab.at(s.logLikelihood), target, UnsafePointer(slab.at(s.emission.outputs[0])),
                                    UnsafePointer(slab.at(s.emissionSigma)), n: N, d: D)
        }
        S.logWeightsForward(w.weights, slab.at(s.logAlpha), UnsafePointer(slab.at(s.logPrior)),
                            UnsafePointer(slab.at(s.logLikelihood)), UnsafePointer(slab.at(s.logProposal)),
                            UnsafePointer(w.mask + t * B), b: B, k: K)
        slab.at(s.weights).update(from: w.weights, count: N)

        // recurrence (not needed after the last step)
        guard t < T - 1 else { return }
        a.recurrenceForward(parameters: p, slab: slab, thetaSlots: s.theta, headSlots: s.thetaHead, rnnSlots: s.rnn,
                            encodedData: ex, encodedLatent: ez, hyperInput: u, hPrev: hIn,
                            cPrev: UnsafePointer(state.c), hyperHPrev: UnsafePointer(state.hyperH),
                            hyperCPrev: UnsafePointer(state.hyperC), rows: N)
    }
}

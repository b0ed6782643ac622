#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where an ELBO's heavy tail comes from. The ELBO estimate is the mean over all particles of
/// their summed log weights Σ_t log α_t, log α_t = log p(z_t | h) + log p(x_t | z_t, h) −
/// log q(z_t | x_t, h); IWAE and FIVO average the weights themselves (a log-sum-exp), so one
/// particle with log weight −1e12 costs them nothing and the ELBO everything.
///
/// One taped ELBO pass (no resampling) per sequence, with the same noise as ``Evaluator``
/// (noise is keyed by the sequence's index in the split), so ``elbo`` equals the evaluator's
/// ELBO for the same seed and K. Per particle it keeps the three terms' sums; for the
/// particles with the lowest log weights it finds the step whose log α is lowest and reports
/// that step's terms, the smallest emission / prior / proposal sigma there (against the floor
/// ``ModelConfiguration/sigmaMin``) and the largest standardised error of the frame under the
/// emission, |x − μ| / σ, and of z under the prior.
public struct LogWeightAnatomy: Sendable, Equatable {
    /// One particle's trajectory, and the step that cost it most.
    public struct Particle: Sendable, Equatable {
        /// The sequence's index in the split.
        public var sequence: Int
        /// The particle's index k in [0, K) within its sequence.
        public var particle: Int
        /// Σ_t log α_t.
        public var logWeight: Double
        /// Σ_t log p(z_t | h_{t-1}) (logWeight = logPrior + logLikelihood − logProposal).
        public var logPrior: Double
        /// Σ_t log p(x_t | z_t, h_{t-1}).
        public var logLikelihood: Double
        /// Σ_t log q(z_t | x_t, h_{t-1}).
        public var logProposal: Double
        /// The step (0-based) with the lowest log α_t.
        public var worstStep: Int
        /// log p(z_t | h_{t-1}) at ``worstStep``.
        public var worstLogPrior: Double
        /// log p(x_t | z_t, h_{t-1}) at ``worstStep``.
        public var worstLogLikelihood: Double
        /// log q(z_t | x_t, h_{t-1}) at ``worstStep``.
        public var worstLogProposal: Double
        /// At the worst step: the smallest emission sigma over the D dimensions (NaN for a
        /// Bernoulli emission, which has none).
        public var emissionSigma: Double
        /// At the worst step: the smallest prior sigma over the Z dimensions.
        public var priorSigma: Double
        /// At the worst step: the smallest proposal sigma over the Z dimensions.
        public var proposalSigma: Double
        /// At the worst step: max_d |x_d − μ_d| / σ_d of the frame under the emission
        /// (Gaussian emission; 0 for Bernoulli).
        public var emissionError: Double
        /// At the worst step: max_j |z_j − μ_j| / σ_j of the particle's z under the prior.
        public var priorError: Double

        /// The term that sank the worst step: the one furthest below zero of log p(x|·),
        /// log p(z|·) and −log q(z|·).
        public var dominantTerm: String {
            let terms = [("emission", worstLogLikelihood), ("prior", worstLogPrior), ("proposal", -worstLogProposal)]
            return terms.min { $0.1 < $1.1 }!.0
        }
    }

    /// Sequences in the split.
    public var sequences: Int
    /// K, the particles per sequence.
    public var particles: Int
    /// Σ T: the split's total number of steps, the divisor of every per-step value.
    public var steps: Int
    /// The ELBO per step: Σ over sequences of the mean particle log weight, / steps.
    public var elbo: Double
    /// Its Monte Carlo standard error per step: sqrt(Σ_s var_k(W_s) / K) / Σ T, with var_k the
    /// sample variance of sequence s's K particle log weights W_s (as
    /// ``SplitEvaluation/elboStandardError``).
    public var elboStandardError: Double
    /// The ELBO per step without the lowest 0.1% of all particle log weights (at least one):
    /// how much of the estimate a handful of particles carry.
    public var elboWithoutTail: Double
    /// How many particles were left out for ``elboWithoutTail``.
    public var tailCount: Int
    /// The floor every sigma is clamped to.
    public var sigmaMin: Double
    /// The particles with the lowest log weights, lowest first.
    public var worst: [Particle]
    /// Particle-steps whose emission sigma is at the floor (within a relative 1e-6 of
    /// ``sigmaMin``) in any dimension, out of ``particleSteps``; 0 for a Bernoulli emission.
    public var emissionSigmaAtFloor: Int
    /// Particle-steps whose prior sigma is at the floor in any dimension, out of
    /// ``particleSteps``.
    public var priorSigmaAtFloor: Int
    /// Particle-steps whose proposal sigma is at the floor in any dimension, out of
    /// ``particleSteps``.
    public var proposalSigmaAtFloor: Int
    /// K · Σ T: every particle at every step of every sequence.
    public var particleSteps: Int

    /// Runs the ELBO's filter over every sequence of `split` and dissects its log weights.
    /// - Parameters:
    ///   - model: the model to examine.
    ///   - split: the sequences (at least one).
    ///   - particles: K (at least 1).
    ///   - seed: the noise seed; with the same seed and K, ``elbo`` is ``Evaluator``'s ELBO.
    ///   - keep: how many of the lowest particles to describe.
    /// - Returns: the anatomy, with ``worst`` holding at most `keep` particles.
    /// - Throws: ``BatchError`` when a sequence is empty or has non-finite values.
    /// - Complexity: one taped pass per sequence, plus one per sequence among the `keep`
    ///   lowest particles.
    @_specialize(where S == Float)
    public static func compute<S: KernelScalar>(model: SequenceModel<S>, split: SequenceSplit, particles: Int,
                                                seed: UInt64 = 0, keep: Int = 10) throws -> LogWeightAnatomy {
        precondition(particles >= 1 && split.count > 0)
        let c = model.configuration, K = particles, D = c.dataDim, Z = c.latentDim
        let floor = c.sigmaMin * (1 + 1e-6)
        let filter = ParticleFilter(model: model)
        let settings = FilterSettings(bound: .elbo, particleCount: K)
        var out = LogWeightAnatomy(sequences: split.count, particles: K, steps: split.totalSteps, elbo: 0,
                                   elboStandardError: 0, elboWithoutTail: 0, tailCount: 0, sigmaMin: c.sigmaMin,
                                   worst: [], emissionSigmaAtFloor: 0, priorSigmaAtFloor: 0, proposalSigmaAtFloor: 0,
                                   particleSteps: 0)
        var terms = [(prior: Double, likelihood: Double, proposal: Double)](repeating: (0, 0, 0), count: K)
        var spread = ELBOSpread()
        // Per sequence and particle: the worst step and its log alpha, to describe later.
        var worstSteps: [[(step: Int, logAlpha: Double)]] = []
        var sums: [[(prior: Double, likelihood: Double, proposal: Double)]] = []

        for j in 0..<split.count {
            let batch = try SequenceBatch<S>(split: split, indices: [j])
            _ = filter.run(batch: batch, settings: settings, seed: seed, keepTape: true)
            for k in 0..<K { terms[k] = (0, 0, 0) }
            var worstStep = [(step: Int, logAlpha: Double)](repeating: (0, .infinity), count: K)
            for t in 0..<batch.maxLength {
                let (slab, s) = filter.tapeSlab(t)
                let logPrior = slab.at(s.logPrior), logLikelihood = slab.at(s.logLikelihood)
                let logProposal = slab.at(s.logProposal), logAlpha = slab.at(s.logAlpha)
                let priorSigma = slab.at(s.prior.sigma), proposalSigma = slab.at(s.proposal.sigma)
                for k in 0..<K {
                    terms[k].prior += Double(logPrior[k])
                    terms[k].likelihood += Double(logLikelihood[k])
                    terms[k].proposal += Double(logProposal[k])
                    if Double(logAlpha[k]) < worstStep[k].logAlpha { worstStep[k] = (t, Double(logAlpha[k])) }
                    if (0..<Z).contains(where: { Double(priorSigma[k * Z + $0]) <= floor }) { out.priorSigmaAtFloor += 1 }
                    if (0..<Z).contains(where: { Double(proposalSigma[k * Z + $0]) <= floor }) { out.proposalSigmaAtFloor += 1 }
                    if c.emission == .gaussian {
                        let sigma = slab.at(s.emission.sigma!)
                        if (0..<D).contains(where: { Double(sigma[k * D + $0]) <= floor }) { out.emissionSigmaAtFloor += 1 }
                    }
                }
            }
            out.particleSteps += K * batch.maxLength
            let weights = terms.map { $0.prior + $0.likelihood - $0.proposal }
            weights.withUnsafeBufferPointer { spread.add($0) }
            worstSteps.append(worstStep)
            sums.append(terms)
        }
        out.elbo = spread.elbo(steps: split.totalSteps)
        out.elboStandardError = spread.standardError(steps: split.totalSteps)
        out.elboWithoutTail = spread.withoutTail(steps: split.totalSteps)
        out.tailCount = spread.tailCount

        // Describe the worst particles: rerun their sequence and read their worst step.
        // Lowest first; consecutive entries from one sequence share one taped pass.
        var taped: Int?
        for entry in spread.lowest(keep) {
            let j = entry.sequence, k = entry.particle
            if taped != j {
                _ = filter.run(batch: try SequenceBatch<S>(split: split, indices: [j]), settings: settings, seed: seed, keepTape: true)
                taped = j
            }
            let t = worstSteps[j][k].step
            let (slab, s) = filter.tapeSlab(t)
            func standardised(_ value: S, _ mean: S, _ sigma: S) -> Double {
                let error: Double = abs(Double(value) - Double(mean))
                return error / Double(sigma)
            }
            func minimum(_ p: UnsafeMutablePointer<S>, _ width: Int) -> Double {
                (0..<width).map { Double(p[k * width + $0]) }.min()!
            }
            var emissionError = 0.0, priorError = 0.0
            if c.emission == .gaussian {
                let x = filter.targetFrame(t, sequence: 0), mu = slab.at(s.emission.head), sigma = slab.at(s.emission.sigma!)
                for d in 0..<D { emissionError = max(emissionError, standardised(x[d], mu[k * D + d], sigma[k * D + d])) }
            }
            let z = slab.at(s.proposal.z), priorMean = slab.at(s.prior.mean), priorSigma = slab.at(s.prior.sigma)
            for i in 0..<Z { priorError = max(priorError, standardised(z[k * Z + i], priorMean[k * Z + i], priorSigma[k * Z + i])) }
            out.worst.append(Particle(
                sequence: j, particle: k, logWeight: entry.weight,
                logPrior: sums[j][k].prior, logLikelihood: sums[j][k].likelihood, logProposal: sums[j][k].proposal,
                worstStep: t, worstLogPrior: Double(slab.at(s.logPrior)[k]),
                worstLogLikelihood: Double(slab.at(s.logLikelihood)[k]), worstLogProposal: Double(slab.at(s.logProposal)[k]),
                emissionSigma: c.emission == .gaussian ? minimum(slab.at(s.emission.sigma!), D) : .nan,
                priorSigma: minimum(slab.at(s.prior.sigma), Z), proposalSigma: minimum(slab.at(s.proposal.sigma), Z),
                emissionError: emissionError, priorError: priorError))
        }
        return out
    }
}

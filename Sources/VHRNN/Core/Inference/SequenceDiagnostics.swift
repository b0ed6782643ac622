#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

/// Per-step diagnostics of a model on one sequence, the quantities of the paper's Figs. 2–4:
/// how far the posterior moves from the prior, how uncertain the emission is, and how well
/// its mean predicts the frame.
///
/// Computed from one taped particle-filter pass over the sequence. Per step t (1-based in
/// ``csv()``, as <doc:ModelArchitecture#Notation> numbers steps) and per particle k:
///
/// - `kl`: KL(q(z_t | x_t, h_{t-1}) ‖ p(z_t | h_{t-1})), summed over the Z latent dimensions,
///   from the proposal's and prior's means and scales (C kernel `gaussian_kl_forward`).
/// - `logVariance`: the emission's predicted log-variance, averaged over the D dimensions.
///   Gaussian: mean_d 2·log sigma_x. Bernoulli: log(mean_d p(1 − p)) with p = sigmoid(logit),
///   the log of the average Bernoulli variance — the log *outside* the mean, because
///   p(1 − p) → 0 for confident keys and a per-key log would be dominated by −∞-like terms
///   from the many silent keys of a piano roll.
/// - `l2Distance`: ‖E[x_t | z_t, h_{t-1}] − x_t‖₂ with the emission mean mu_x (Gaussian) or
///   sigmoid(logits) (Bernoulli) against the raw target frame.
///
/// With K = 1 (the default) this is a plain posterior pass: one z_t ~ q per step. With K > 1
/// every quantity is averaged over particles with the normalised weights *after* step t's
/// increment (softmax of the accumulated log weights since the last resampling), i.e. an
/// estimate of its expectation under the filtering distribution p(z_{1:t} | x_{1:t}).
///
/// - `logAlpha`: the step's log-evidence increment log Σ_k w̄_{t-1}^k α_t^k, where w̄_{t-1}
///   are the normalised weights the particles carried into step t (uniform after a
///   resampling). For K = 1 this is exactly log α_t = log p(z_t|h) + log p(x_t|z_t,h) −
///   log q(z_t|x_t,h); for any K its sum over the steps is the filter's log Ẑ (IWAE/FIVO),
///   so the column shows where in the sequence the bound is won or lost.
public struct SequenceDiagnostics: Sendable, Equatable {
    /// Per step: the KL divergence of the proposal from the prior, summed over the Z
    /// dimensions and weighted over particles (NaN where no particle has weight).
    public var kl: [Double]
    /// Per step: the emission's predicted log-variance averaged over the D dimensions (see the
    /// type's discussion for Bernoulli), weighted over particles.
    public var logVariance: [Double]
    /// Per step: ‖E[x_t | z_t, h_{t-1}] − x_t‖₂ against the raw frame, weighted over
    /// particles.
    public var l2Distance: [Double]
    /// Per step: the log-evidence increment log Σ_k w̄_{t-1}^k α_t^k; the steps sum to
    /// ``bound`` for IWAE and FIVO.
    public var logAlpha: [Double]
    /// The filter's bound for the whole sequence (log Ẑ; the ELBO for `.elbo`).
    public var bound: Double

    /// T: the number of steps (the length of every per-step array).
    public var steps: Int { kl.count }

    /// Runs the filter over one sequence and reads the diagnostics from its tape.
    /// - Parameters:
    ///   - model: the model to diagnose.
    ///   - frames: flat `(T, D)` raw frames (T >= 1): the emission's targets.
    ///   - inputOffset: subtracted from the frames for phi_x (binary data: `trainFrameMean`).
    ///   - particles: K (default 1: a plain posterior pass); ignored when `settings` is given.
    ///   - seed: the filter's pass seed (the sequence's noise key is 0).
    ///   - settings: overrides the filter settings (default FIVO with K particles).
    /// - Returns: the per-step diagnostics and the bound.
    /// - Throws: ``BatchError`` when the frames have non-finite values.
    /// - Complexity: one taped filter pass over the sequence.
    public static func compute<S: KernelScalar>(
        model: SequenceModel<S>, frames: [Double], inputOffset: [Double]? = nil, particles: Int = 1,
        seed: UInt64 = 0, settings: FilterSettings? = nil
    ) throws -> SequenceDiagnostics {
        let c = model.configuration, D = c.dataDim, Z = c.latentDim
        precondition(!frames.isEmpty && frames.count % D == 0,
                     "frames must be a non-empty flat (T, \(D)) sequence, got \(frames.count) values")
        let inputs = inputOffset.map { offset in
            precondition(offset.count == D, "inputOffset has \(offset.count) values, expected \(D)")
            return frames.enumerated().map { $0.element - offset[$0.offset % D] }
        } ?? frames
        let batch = try SequenceBatch<S>(split: SequenceSplit(dataDim: D, inputs: [inputs], targets: [frames]),
                                         indices: [0], noiseKeys: [0])
        let settings = settings ?? FilterSettings(bound: .fivo, particleCount: particles)
        let K = settings.particleCount, T = batch.maxLength
        let filter = ParticleFilter(model: model)
        let result = filter.run(batch: batch, settings: settings, seed: seed, keepTape: true)

        var out = SequenceDiagnostics(kl: [], logVariance: [], l2Distance: [], logAlpha: [], bound: result.bounds[0])
        out.kl.reserveCapacity(T)
        out.logVariance.reserveCapacity(T)
        out.l2Distance.reserveCapacity(T)
        out.logAlpha.reserveCapacity(T)
        let klBuffer = UnsafeMutablePointer<S>.allocate(capacity: K)
        defer { klBuffer.deallocate() }
        var normalised = [Double](repeating: 0, count: K)
        var previous = [Double](repeating: 0, count: K)

        for t in 0..<T {
            let (slab, s) = filter.tapeSlab(t)
            S.gaussianKlForward(klBuffer, UnsafePointer(slab.at(s.proposal.mean)), UnsafePointer(slab.at(s.proposal.sigma)),
                                UnsafePointer(slab.at(s.prior.mean)), UnsafePointer(slab.at(s.prior.sigma)),
                                n: K, d: Z)
            let weights = filter.weights(afterStep: t), logAlpha = slab.at(s.logAlpha)
            softmax(weights, K, into: &normalised)

            // Weights the particles carried into step t: zero after a resampling (or at the
            // start), else step t-1's accumulated weights — read rather than recovered as
            // w_t - log alpha_t, which would be NaN for a particle whose alpha is 0.
            let fresh = t == 0 || filter.resampled(afterStep: t - 1, sequence: 0)
            let before = fresh ? nil : filter.weights(afterStep: t - 1)
            for k in 0..<K { previous[k] = before.map { Double($0[k]) } ?? 0 }
            let lseBefore = logSumExp(previous)
            for k in 0..<K { previous[k] += Double(logAlpha[k]) }
            out.logAlpha.append(logSumExp(previous) - lseBefore)

            guard !normalised[0].isNaN else {
                out.kl.append(.nan)
                out.logVariance.append(.nan)
                out.l2Distance.append(.nan)
                continue
            }
            var kl = 0.0, logVar = 0.0, l2 = 0.0
            let target = filter.targetFrame(t, sequence: 0), head0 = slab.at(s.emission.head)
            for k in 0..<K where normalised[k] > 0 {
                var variance = 0.0, squared = 0.0
                for d in 0..<D {
                    let i = k * D + d
                    let mean: Double
                    switch c.emission {
                    case .bernoulli:
                        let p = stableSigmoid(Double(head0[i]))
                        mean = p
                        variance += p * (1 - p)
                    case .gaussian:
                        mean = Double(head0[i])
                        variance += 2 * log(Double(slab.at(s.emission.sigma!)[i]))
                    }
                    let diff = mean - Double(target[d])
                    squared += diff * diff
                }
                let particleLogVar = c.emission == .bernoulli ? log(variance / Double(D)) : variance / Double(D)
                kl += normalised[k] * Double(klBuffer[k])
                logVar += normalised[k] * particleLogVar
                l2 += normalised[k] * squared.squareRoot()
            }
            out.kl.append(kl)
            out.logVariance.append(logVar)
            out.l2Distance.append(l2)
        }
        return out
    }

    /// Comma-separated values with header `step,kl,log_variance,l2_distance,log_alpha`, one
    /// line per step, steps numbered from 1.
    public func csv() -> String {
        var text = "step,kl,log_variance,l2_distance,log_alpha\n"
        for t in 0..<steps {
            text += "\(t + 1),\(kl[t]),\(logVariance[t]),\(l2Distance[t]),\(logAlpha[t])\n"
        }
        return text
    }

    // MARK: - Helpers

    private static func logSumExp(_ x: [Double]) -> Double {
        let m = x.max() ?? -.infinity
        guard m.isFinite else { return m }
        var total = 0.0
        for v in x { total += exp(v - m) }
        return m + log(total)
    }

    /// softmax of K log weights; all −∞ (or NaN) gives NaN everywhere: no particle explains
    /// the data, and an average over them is undefined.
    private static func softmax<S: KernelScalar>(_ w: UnsafeMutablePointer<S>, _ k: Int, into out: inout [Double]) {
        var m = -Double.infinity
        for i in 0..<k where Double(w[i]) > m { m = Double(w[i]) }
        guard m.isFinite else {
            for i in 0..<k { out[i] = .nan }
            return
        }
        var total = 0.0
        for i in 0..<k {
            let v = Double(w[i])
            out[i] = v.isNaN ? 0 : exp(v - m)
            total += out[i]
        }
        for i in 0..<k { out[i] /= total }
    }
}

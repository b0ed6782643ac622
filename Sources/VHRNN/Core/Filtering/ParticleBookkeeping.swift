/// The SMC bookkeeping (<doc:BoundsAndResampling>) in one place, for B sequences × K particles
/// after the log weights of step t have been incremented:
///
/// - a sequence whose last step is t closes its last segment: its bound gets the
///   ``BoundKind/segmentValue(logWeights:particles:scratch:)`` of w (lse(w) − log K for IWAE
///   and FIVO, mean_k w for the ELBO);
/// - otherwise, inside the sequence, the criterion decides (or a replayed plan dictates)
///   whether to resample; if so the segment closes the same way, the scheme draws ancestors
///   from the step's uniforms, and w is reset to 0. Never at or after a sequence's last step.
///
/// Ancestors are written for the next step as global rows (`b·K + k`), the identity for
/// sequences that did not resample.
enum ParticleBookkeeping {
    struct StepOutcome {
        var anyResampled = false
        var events = 0
    }

    /// - Parameters:
    ///   - weights: `(B·K)` accumulated log weights, reset where resampled.
    ///   - mask: `(B)` step mask (0 past a sequence's end).
    ///   - uniforms: `(B·K)` uniforms for this step.
    ///   - logZ: `(B)` running bounds.
    ///   - resampled: `(B)` flags for this step (written).
    ///   - nextAncestors: `(B·K)` ancestors for step t+1 (written when anything resampled).
    static func afterStep<S: KernelScalar>(
        t: Int, lengths: [Int], settings: FilterSettings, weights: UnsafeMutablePointer<S>,
        mask: UnsafePointer<S>, uniforms: UnsafePointer<Double>, replay: AncestorPlan?,
        logZ: inout [Double], resampled: UnsafeMutablePointer<UInt8>, nextAncestors: UnsafeMutablePointer<Int32>,
        scratch: UnsafeMutablePointer<S>
    ) -> StepOutcome {
        let B = lengths.count, K = settings.particleCount
        let criterion = settings.effectiveCriterion
        var outcome = StepOutcome()
        for b in 0..<B {
            resampled[b] = 0
            guard mask[b] != 0 else { continue }
            let wb = weights + b * K
            if t == lengths[b] - 1 {
                logZ[b] += settings.bound.segmentValue(logWeights: wb, particles: K, scratch: scratch)
                continue
            }
            let resample: Bool
            if let replay {
                resample = replay.resampled[t * B + b] != 0
            } else {
                let logESS = ResamplingCriterion.logEffectiveSampleSize(logWeights: UnsafeBufferPointer(start: wb, count: K))
                resample = criterion.shouldResample(logESS: logESS, particleCount: K)
            }
            guard resample else { continue }
            logZ[b] += settings.bound.segmentValue(logWeights: wb, particles: K, scratch: scratch)
            resampled[b] = 1
            outcome.anyResampled = true
            outcome.events += 1
        }
        guard outcome.anyResampled else { return outcome }
        for b in 0..<B {
            let rows = UnsafeMutableBufferPointer(start: nextAncestors + b * K, count: K)
            if resampled[b] == 0 {
                for k in 0..<K { rows[k] = Int32(b * K + k) }
                continue
            }
            if let replay {
                for k in 0..<K { rows[k] = replay.ancestors[(t + 1) * B * K + b * K + k] }
            } else {
                settings.scheme.ancestors(logWeights: UnsafeBufferPointer(start: UnsafePointer(weights + b * K), count: K),
                                          uniforms: UnsafeBufferPointer(start: uniforms + b * K, count: K), into: rows)
                for k in 0..<K { rows[k] += Int32(b * K) }
            }
            (weights + b * K).zero(count: K)
        }
        return outcome
    }
}

/// Which bound a particle filter computes (<doc:BoundsAndResampling>), and the one place that
/// says how each closes a segment of log weights — forward for the bookkeeping, backward for
/// the gradients — so a new bound is a new case here plus its two closing rules.
///
/// A segment is the run of steps between two resamplings (or from the start to a sequence's
/// last step); its accumulated log weights w_1..K close it.
public enum BoundKind: String, Codable, Sendable, CaseIterable {
    /// The mean over particles of each particle's summed log weights (K = 1: the classic ELBO).
    case elbo
    /// log Ẑ of a filter that never resamples.
    case iwae
    /// log Ẑ of a filter that resamples by its criterion and scheme.
    case fivo

    /// Whether the filter resamples for this bound (by its ``FilterSettings/criterion``);
    /// the others close one segment per sequence, at its last step.
    public var resamples: Bool {
        switch self {
        case .elbo, .iwae: return false
        case .fivo: return true
        }
    }

    /// What closing a segment adds to the sequence's bound: mean_k w (ELBO) or
    /// lse(w) − log K (IWAE, FIVO).
    /// - Parameter scratch: one scalar of scratch for the log-sum-exp.
    /// - Complexity: O(K).
    func segmentValue<S: KernelScalar>(logWeights w: UnsafePointer<S>, particles K: Int,
                                       scratch: UnsafeMutablePointer<S>) -> Double {
        switch self {
        case .elbo:
            var total = 0.0
            for k in 0..<K { total += Double(w[k]) }
            return total / Double(K)
        case .iwae, .fivo:
            S.logsumexpForward(scratch, w, b: 1, k: K)
            return Double(scratch[0]) - _logDouble(Double(K))
        }
    }

    /// Backward of ``segmentValue(logWeights:particles:scratch:)``: sets `dw` `(K)` to
    /// `boundGradient` · d value / d w — 1/K each (ELBO) or softmax(w) (IWAE, FIVO).
    /// - Parameter scratch: two scalars of scratch.
    func segmentBackward<S: KernelScalar>(dw: UnsafeMutablePointer<S>, logWeights w: UnsafePointer<S>, particles K: Int,
                                          boundGradient: Double, scratch: UnsafeMutablePointer<S>) {
        dw.zero(count: K)
        switch self {
        case .elbo:
            // forward: value = mean_k w
            dw.update(repeating: S(boundGradient / Double(K)), count: K)
        case .iwae, .fivo:
            // forward: value = lse(w) - log K
            let dValue = scratch, lse = scratch + 1
            dValue[0] = S(boundGradient)
            S.logsumexpForward(lse, w, b: 1, k: K)
            S.logsumexpBackward(dw, UnsafePointer(dValue), w, UnsafePointer(lse), b: 1, k: K)
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

/// How to draw K ancestor indices from K particles' log weights ("how to resample"; *when* to
/// resample is ``ResamplingCriterion``).
///
/// Every scheme has the same shape, `(log weights, uniforms) -> ancestors`: the randomness is
/// drawn by the caller (``uniformCount(particleCount:)`` U(0,1) values per sequence), so given
/// its uniforms a resampling step is deterministic and tests can fix it.
///
/// All three schemes are unbiased: particle i's expected number of offspring is K·w_i, where
/// w = softmax(log weights). They differ in variance:
/// - ``multinomial``: K iid draws from w (FIVO's scheme). Offspring counts are multinomial,
///   Var = K·w_i·(1 - w_i).
/// - ``stratified``: one uniform in each of the K strata [j/K, (j+1)/K). Var ≤ multinomial's.
/// - ``systematic``: one uniform shared by all strata, points (j + u)/K. Each count is
///   ⌊K·w_i⌋ or ⌈K·w_i⌉; usually the lowest variance, and the cheapest in random numbers.
///
/// The ancestors come out in ascending order for every scheme (each is an inverse CDF of
/// ascending points). Particles are exchangeable, so the order does not change any bound.
public enum ResamplingScheme: String, CaseIterable, Codable, Sendable {
    /// K independent draws from the normalised weights (FIVO's scheme); K uniforms.
    case multinomial
    /// One uniform u shared by all K strata, points (j + u)/K: each offspring count is
    /// ⌊K·w_i⌋ or ⌈K·w_i⌉; one uniform.
    case systematic
    /// One uniform in each stratum [j/K, (j+1)/K); K uniforms.
    case stratified

    /// How many U(0,1) draws one resampling of `particleCount` particles consumes: K for
    /// multinomial and stratified, 1 for systematic.
    public func uniformCount(particleCount: Int) -> Int {
        switch self {
        case .multinomial, .stratified: return particleCount
        case .systematic: return particleCount > 0 ? 1 : 0
        }
    }

    /// Draws K ancestor indices in [0, K) for one sequence's K particles. The filter's
    /// time-loop entry point: it allocates nothing.
    ///
    /// The normalised weights are never stored: a first pass finds the largest log weight, a
    /// second sums exp(w_i - max), and a third walks the running CDF (scaled to [0, K]) once,
    /// in step with K ascending points, so the whole draw is linear in K.
    ///
    /// Edge cases:
    /// - Particles with weight zero (`-inf`, `NaN`, or `exp` underflow against the largest)
    ///   are never chosen; round-off at the top of the CDF falls back to the last particle
    ///   with positive weight, never past it.
    /// - If no particle has positive weight (all `-inf`/`NaN`), the ancestors are the identity
    ///   0, 1, …, K-1: nothing is known to prefer one particle, and the caller's
    ///   log Z_hat is `-inf` already.
    ///
    /// - Parameters:
    ///   - logWeights: K unnormalised log weights (`Float` or `Double`; computed in `Double`).
    ///   - uniforms: at least ``uniformCount(particleCount:)`` values in [0, 1), e.g. from
    ///     `nextUnitDouble()`. Values outside [0, 1) still give valid indices.
    ///   - ancestors: K slots, receives the ancestor of each new particle.
    /// - Complexity: O(K) time (multinomial adds one `log1p` and one `expm1` per particle),
    ///   O(1) extra space.
    func ancestors<W: BinaryFloatingPoint>(
        logWeights: UnsafeBufferPointer<W>,
        uniforms: UnsafeBufferPointer<Double>,
        into ancestors: UnsafeMutableBufferPointer<Int32>
    ) {
        let particleCount = logWeights.count
        precondition(ancestors.count == particleCount, "need one ancestor slot per particle")
        precondition(particleCount <= Int(Int32.max), "particle count exceeds Int32 indices")
        precondition(uniforms.count >= uniformCount(particleCount: particleCount),
                     "\(self) resampling of \(particleCount) particles needs "
                         + "\(uniformCount(particleCount: particleCount)) uniforms, got \(uniforms.count)")
        if particleCount == 0 { return }

        // Pass 1 and 2: the largest log weight, the total relative weight, and the first and
        // last particles that can be chosen (weight > 0 after the shift).
        let maxLogWeight = LogWeights.maximum(logWeights)
        var total = 0.0
        var firstPositive = -1
        var lastPositive = -1
        for i in 0..<particleCount {
            let p = LogWeights.relativeWeight(logWeights[i], maximum: maxLogWeight)
            total += p
            if p > 0 {
                if firstPositive < 0 { firstPositive = i }
                lastPositive = i
            }
        }
        guard firstPositive >= 0 else {
            for i in 0..<particleCount { ancestors[i] = Int32(i) }
            return
        }

        // Pass 3: merge the running CDF with K ascending points. Both live in "particle units"
        // [0, K): the CDF is scaled by K / total, and the j-th point is `base + offset` with
        // base = j for the stratified schemes. Comparing `cdf - base` with `offset` (rather than
        // `cdf` with `(j + u)/K`) keeps equal weights exact: then the scaled CDF is the integers
        // 1, 2, …, K, and particle j is chosen for j + u with any u in [0, 1).
        let k = Double(particleCount)
        let scale = k / total
        var i = firstPositive
        var cumulative = LogWeights.relativeWeight(logWeights[i], maximum: maxLogWeight)
        var cdf = cumulative * scale
        // Multinomial: log of the running product R_j = prod_{l <= j} (1 - u_l)^(1/(K - l)).
        // 1 - R_j is the (j+1)-th smallest of K iid U(0,1) (the largest of K uniforms is
        // V^(1/K); given it, the rest are iid below it — Devroye 1986, §V.3), so the sorted
        // sample is generated in one O(K) pass, without sorting or a stored CDF.
        var logR = 0.0
        for j in 0..<particleCount {
            let base: Double
            let offset: Double
            switch self {
            case .systematic:
                base = Double(j)
                offset = uniforms[0]
            case .stratified:
                base = Double(j)
                offset = uniforms[j]
            case .multinomial:
                logR += log1p(-uniforms[j]) / Double(particleCount - j)
                base = 0
                offset = -expm1(logR) * k
            }
            // Choose the first particle whose CDF exceeds the point. A zero-weight particle
            // does not raise the CDF, so the loop steps over it; stopping at `lastPositive`
            // absorbs round-off at the top (scaled total slightly below K). A NaN point stops
            // at once, on the previous choice, which has positive weight.
            while i < lastPositive && cdf - base <= offset {
                i += 1
                cumulative += LogWeights.relativeWeight(logWeights[i], maximum: maxLogWeight)
                cdf = cumulative * scale
            }
            ancestors[j] = Int32(i)
        }
    }

    /// Draws K ancestor indices into `ancestors` (which must already hold K elements); no
    /// allocation when `ancestors` is uniquely referenced. See
    /// ``ancestors(logWeights:uniforms:)`` for the semantics.
    ///
    /// - Complexity: O(K).
    public func ancestors<W: BinaryFloatingPoint>(
        logWeights: [W], uniforms: [Double], into ancestors: inout [Int32]
    ) {
        logWeights.withUnsafeBufferPointer { w in
            uniforms.withUnsafeBufferPointer { u in
                ancestors.withUnsafeMutableBufferPointer { a in
                    self.ancestors(logWeights: w, uniforms: u, into: a)
                }
            }
        }
    }

    /// The K ancestor indices, in [0, K) and ascending, for K particles' log weights.
    ///
    /// Zero-weight particles (`-inf` or `NaN`) are never chosen; if every weight is zero the
    /// result is the identity 0, 1, …, K-1.
    ///
    /// - Parameters:
    ///   - logWeights: K unnormalised log weights.
    ///   - uniforms: at least ``uniformCount(particleCount:)`` values in [0, 1).
    /// - Returns: the ancestor of each of the K new particles.
    /// - Complexity: O(K).
    public func ancestors<W: BinaryFloatingPoint>(logWeights: [W], uniforms: [Double]) -> [Int32] {
        var result = [Int32](repeating: 0, count: logWeights.count)
        ancestors(logWeights: logWeights, uniforms: uniforms, into: &result)
        return result
    }

    /// The K ancestor indices, drawing the uniforms from `generator` with `nextUnitDouble()`.
    ///
    /// - Complexity: O(K).
    public func ancestors<W: BinaryFloatingPoint, G: RandomNumberGenerator>(
        logWeights: [W], using generator: inout G
    ) -> [Int32] {
        let uniforms = (0..<uniformCount(particleCount: logWeights.count)).map { _ in
            generator.nextUnitDouble()
        }
        return ancestors(logWeights: logWeights, uniforms: uniforms)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

/// Log-space arithmetic on one sequence's K particle log weights, shared by the resampling
/// criterion (log ESS) and the resampling schemes (running CDF).
///
/// Conventions, the same everywhere so that "which particles can be chosen" and "how many
/// particles count towards the ESS" agree:
/// - `-inf` is a zero weight; `NaN` is treated as a zero weight too (never chosen).
/// - If the largest log weight is `+inf`, every `+inf` particle gets relative weight 1 and
///   every other particle 0 (the limit of the finite case); `inf - inf` would otherwise be NaN.
/// - When no particle has positive weight the callers return a documented fallback instead of
///   dividing by zero.
enum LogWeights {
    /// The largest log weight, ignoring NaN; `-inf` when there is none (or K = 0).
    ///
    /// - Complexity: O(K).
    @inline(__always)
    static func maximum<W: BinaryFloatingPoint>(_ logWeights: UnsafeBufferPointer<W>) -> Double {
        var m = -Double.infinity
        for w in logWeights {
            let x = Double(w)
            if x > m { m = x }  // false for NaN, so NaN is skipped
        }
        return m
    }

    /// exp(logWeight - maximum), in [0, 1], with the NaN and `+inf` conventions above.
    @inline(__always)
    static func relativeWeight<W: BinaryFloatingPoint>(_ logWeight: W, maximum: Double) -> Double {
        let x = Double(logWeight)
        if maximum == .infinity { return x == .infinity ? 1 : 0 }
        let p = exp(x - maximum)
        return p.isNaN ? 0 : p
    }

    /// `draws` independent categorical draws of particle indices in [0, K) with probabilities
    /// softmax(logWeights), each by the inverse CDF of one uniform from `generator`.
    ///
    /// The one categorical draw for a caller that needs each draw on its own uniform (a
    /// continuation's particle i does not depend on how many are drawn beside it). Resampling
    /// needs K draws at once and takes ``ResamplingScheme``'s single merge of sorted points
    /// with the CDF instead (O(K) for all K, not O(K) each); both read the weights through
    /// ``relativeWeight(_:maximum:)``, so they agree on which particles can be chosen.
    ///
    /// Particles of zero weight (`-inf`, NaN) are never drawn; if no particle has positive
    /// weight every draw is uniform over [0, K) (nothing prefers any particle).
    /// - Complexity: O(K) to tabulate the weights, then O(K) per draw.
    static func independentDraws<W: BinaryFloatingPoint>(logWeights: UnsafeBufferPointer<W>, draws: Int,
                                                          generator: inout SplitMix64,
                                                          into index: UnsafeMutablePointer<Int32>) {
        let K = logWeights.count
        let largest = maximum(logWeights)
        var probabilities = [Double](repeating: 1, count: K)
        var total = Double(K)
        if largest > -.infinity {
            total = 0
            for k in 0..<K {
                probabilities[k] = relativeWeight(logWeights[k], maximum: largest)
                total += probabilities[k]
            }
        }
        let lastPositive = probabilities.lastIndex { $0 > 0 } ?? K - 1
        for i in 0..<draws {
            let u = generator.nextUnitDouble() * total
            var running = 0.0
            var chosen = lastPositive  // round-off at the top of the CDF falls back here
            for k in 0..<K {
                running += probabilities[k]
                if u < running && probabilities[k] > 0 {
                    chosen = k
                    break
                }
            }
            index[i] = Int32(chosen)
        }
    }
}

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
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

/// The logistic function in a form that never overflows: exp is only taken of a
/// non-positive number, so large |l| gives 0 or 1 instead of NaN from inf/inf.
@inline(__always) func stableSigmoid(_ l: Double) -> Double {
    if l >= 0 { return 1 / (1 + exp(-l)) }
    let e = exp(l)
    return e / (1 + e)
}

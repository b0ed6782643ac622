/// A small, fast, seedable generator (Steele, Lea & Flood 2014) whose stream is the same on
/// every platform, so runs, datasets and tests are bit-reproducible from a seed.
///
/// The whole state is one `UInt64`, so it can be saved in a checkpoint and restored.
public struct SplitMix64: RandomNumberGenerator, Sendable, Hashable, Codable {
    /// The generator's entire state.
    public var state: UInt64

    /// A generator whose stream starts at `seed`: the state is the seed itself, so two
    /// generators built from the same seed produce the same outputs on every platform.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits: the state advances by the golden-ratio increment
    /// `0x9E3779B97F4A7C15` and is then mixed (two xor-shift-multiply rounds and a final
    /// xor-shift). The C kernels' `vh_splitmix64_next` computes the same stream.
    ///
    /// - Complexity: O(1).
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension RandomNumberGenerator {
    /// A uniform double in [0, 1) with 53 random bits (platform-independent, unlike
    /// `Double.random(in:using:)` whose algorithm is not specified).
    @inlinable
    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A standard normal draw by the Box–Muller transform. Deterministic given the stream;
    /// uses two uniforms per draw (the second Box–Muller value is discarded so a generator's
    /// position depends only on how many normals were drawn).
    @inlinable
    public mutating func nextStandardNormal() -> Double {
        let u1 = 1.0 - nextUnitDouble()  // (0, 1]: log is finite
        let u2 = nextUnitDouble()
        return (-2.0 * _logDouble(u1)).squareRoot() * _cosDouble(2.0 * Double.pi * u2)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

@usableFromInline func _logDouble(_ x: Double) -> Double { log(x) }
@usableFromInline func _cosDouble(_ x: Double) -> Double { cos(x) }

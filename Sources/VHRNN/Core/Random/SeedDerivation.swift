/// Every seed the package derives from another, in one place.
///
/// The one construction: a child seed is the first SplitMix64 output of the parent seed
/// combined with a counter times an odd multiplier (the multiplier spreads consecutive
/// counters over all 64 bits before SplitMix64's finaliser mixes them). The uses keep their
/// historical multipliers and combining operation: every recorded result, checkpoint and
/// golden output depends on them, and any odd multiplier is as good as another.
enum SeedDerivation {
    /// How the parent and the scaled counter are combined.
    enum Combination { case add, xor }

    /// SplitMix64(seed: parent ∘ (counter · multiplier)).next().
    @inline(__always)
    static func derive(_ parent: UInt64, counter: UInt64, multiplier: UInt64, combination: Combination) -> UInt64 {
        let scaled = counter &* multiplier
        var generator = SplitMix64(seed: combination == .add ? parent &+ scaled : parent ^ scaled)
        return generator.next()
    }

    /// The noise stream of one sequence of a filter pass (key: the sequence's noise key), and of
    /// one row of the sampler (key: the row): a sequence gets the same noise in every batch.
    @inline(__always)
    static func sequenceStream(seed: UInt64, key: UInt64) -> UInt64 {
        derive(seed, counter: key, multiplier: 0xD1B5_4A32_D192_ED03, combination: .add)
    }

    /// The independent streams of one sampler call (filtering a prefix, generating, drawing
    /// the particles to continue from).
    static func samplerStream(seed: UInt64, stream: UInt64) -> UInt64 {
        derive(seed, counter: stream, multiplier: 0xA24B_AED4_963E_E407, combination: .xor)
    }

    /// Training's per-step pass seeds, its validation seed and its epoch shuffles.
    static func training(seed: UInt64, counter: UInt64) -> UInt64 {
        derive(seed, counter: counter, multiplier: 0x9E37_79B9_7F4A_7C15, combination: .xor)
    }
}

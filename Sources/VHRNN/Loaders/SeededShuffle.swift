/// A Fisher–Yates shuffle driven only by `nextUnitDouble()`, so a split assignment made from a
/// seed is the same on every platform and Swift version (`Array.shuffled(using:)` does not
/// promise a fixed algorithm).
enum SeededShuffle {
    static func shuffled<T>(_ items: [T], seed: UInt64) -> [T] {
        var rng = SplitMix64(seed: seed)
        return shuffled(items, using: &rng)
    }

    static func shuffled<T>(_ items: [T], using rng: inout SplitMix64) -> [T] {
        var a = items
        var i = a.count - 1
        while i > 0 {
            let j = min(Int(rng.nextUnitDouble() * Double(i + 1)), i)
            a.swapAt(i, j)
            i -= 1
        }
        return a
    }
}

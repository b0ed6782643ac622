/// Random access into a sequence's noise stream, so a step's normals can be drawn block by
/// block on several threads and still be the stream's values.
///
/// SplitMix64 is counter-based: output i after state s is mix(s + i·gamma). The normal kernels
/// (``KernelScalar/fillStandardNormal(_:count:_:)``) turn outputs (2j+1, 2j+2) into normals
/// 2j (cosine) and 2j+1 (sine) and advance the state by 2·ceil(count/2)·gamma. So normal e of a
/// step whose stream state was s is found from state s + 2·floor(e/2)·gamma.
enum NoiseStream {
    /// SplitMix64's increment (``SplitMix64/next()``).
    static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// Writes normals `first ..< first + count` of the stream at state `state` into `out`,
    /// exactly as one fill of all of them from `state` would.
    @inline(__always)
    static func normals<S: KernelScalar>(into out: UnsafeMutablePointer<S>, count: Int, state: UInt64, from first: Int) {
        guard count > 0 else { return }
        var out = out, e = first, n = count
        if e % 2 == 1 {
            // An odd start is the sine of pair (e-1)/2: draw the pair, keep its second value.
            var pair: (S, S) = (0, 0)
            var s = state &+ UInt64(e - 1) &* gamma
            withUnsafeMutablePointer(to: &pair) {
                $0.withMemoryRebound(to: S.self, capacity: 2) { p in
                    S.fillStandardNormal(p, count: 2, &s)
                    out[0] = p[1]
                }
            }
            (out, e, n) = (out + 1, e + 1, n - 1)
        }
        var s = state &+ UInt64(e) &* gamma
        S.fillStandardNormal(out, count: n, &s)
    }

    /// The state after `count` normals drawn from `state` in one fill.
    @inline(__always)
    static func advanced(_ state: UInt64, pastNormals count: Int) -> UInt64 {
        state &+ UInt64(2 * ((count + 1) / 2)) &* gamma
    }
}

// Buffers.swift — aligned buffers filled with deterministic pseudo-random values.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import VHRNN

/// Owns every buffer of one benchmark case; allocated once, outside the timed loops, and
/// freed when the case is dropped. Buffers are 64-byte aligned (a cache line / AVX-512 vector).
final class BufferPool {
    private var allocations: [UnsafeMutableRawPointer] = []
    private var outputs: [(UnsafeMutablePointer<Float>, Int)] = []
    private var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    deinit { for p in allocations { free(p) } }

    private func raw(_ bytes: Int) -> UnsafeMutableRawPointer {
        var p: UnsafeMutableRawPointer?
        let rc = posix_memalign(&p, 64, Swift.max(bytes, 64))
        precondition(rc == 0 && p != nil, "posix_memalign failed")
        allocations.append(p!)
        return p!
    }

    /// `count` floats uniform in [lo, hi).
    func uniform(_ count: Int, _ lo: Float, _ hi: Float) -> UnsafeMutablePointer<Float> {
        let p = raw(count * MemoryLayout<Float>.stride).bindMemory(to: Float.self, capacity: count)
        for i in 0..<count { p[i] = lo + (hi - lo) * Float(rng.nextUnitDouble()) }
        return p
    }

    /// `count` floats, each 0 or 1 (Bernoulli observations).
    func bits(_ count: Int) -> UnsafeMutablePointer<Float> {
        let p = raw(count * MemoryLayout<Float>.stride).bindMemory(to: Float.self, capacity: count)
        for i in 0..<count { p[i] = rng.next() & 1 == 0 ? 0 : 1 }
        return p
    }

    /// A zeroed buffer the kernel writes (or accumulates) into; it is summed into the case's
    /// checksum after timing so the work cannot be considered dead.
    func output(_ count: Int) -> UnsafeMutablePointer<Float> {
        let p = raw(count * MemoryLayout<Float>.stride).bindMemory(to: Float.self, capacity: count)
        p.initialize(repeating: 0, count: count)
        outputs.append((p, count))
        return p
    }

    /// Ancestor indices for `n` rows grouped in blocks of `k` particles: row i gets a parent
    /// chosen uniformly inside its own block (what resampling produces).
    func ancestors(n: Int, k: Int) -> UnsafeMutablePointer<Int32> {
        let p = raw(n * MemoryLayout<Int32>.stride).bindMemory(to: Int32.self, capacity: n)
        for i in 0..<n {
            let block = i / k
            p[i] = Int32(block * k + Int(rng.next() % UInt64(k)))
        }
        return p
    }

    /// Sum of every output buffer (the blackhole).
    func checksum() -> Double {
        var s = 0.0
        for (p, count) in outputs {
            for i in 0..<count { s += Double(p[i]) }
        }
        return s
    }
}

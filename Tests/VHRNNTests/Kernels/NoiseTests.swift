import CVHRNN
import Foundation
import Testing
@testable import VHRNN

/// Standard-normal noise (vh_fill_standard_normal_*): the stream positions documented in
/// vh_kernels_precision.h, determinism, agreement of the fast float path with the libm double
/// path, and the distribution of the float draws (moments, quantiles, tails, lag-1
/// correlation) for even, odd and small counts.
@Suite("Standard-normal noise")
struct NoiseTests {
    static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15

    static func fillFloat(_ count: Int, state: inout UInt64) -> [Float] {
        var out = [Float](repeating: .nan, count: count)
        out.withUnsafeMutableBufferPointer { Float.fillStandardNormal($0.baseAddress, count: count, &state) }
        return out
    }

    static func fillDouble(_ count: Int, state: inout UInt64) -> [Double] {
        var out = [Double](repeating: .nan, count: count)
        out.withUnsafeMutableBufferPointer { Double.fillStandardNormal($0.baseAddress, count: count, &state) }
        return out
    }

    /// `total` draws made by calls of `chunk` normals each (the last call may be shorter).
    static func draws(total: Int, chunk: Int, seed: UInt64) -> [Float] {
        var state = seed
        var all: [Float] = []
        all.reserveCapacity(total)
        while all.count < total { all += fillFloat(min(chunk, total - all.count), state: &state) }
        return all
    }

    static let counts = [0, 1, 2, 3, 7, 8, 63, 64, 65, 127, 128, 129, 1000, 1001, 32768]

    // ---- stream positions -------------------------------------------------------------------

    @Test(arguments: counts)
    func streamAdvancesByTwiceTheNumberOfPairs(count: Int) {
        for seed: UInt64 in [0, 42, 0xFFFF_FFFF_FFFF_FFFF, 0x0123_4567_89AB_CDEF] {
            let pairs = (count + 1) / 2
            var expected = seed
            for _ in 0..<(2 * pairs) { _ = vh_splitmix64_next(&expected) }
            #expect(expected == seed &+ UInt64(2 * pairs) &* Self.gamma)
            var f = seed, d = seed
            _ = Self.fillFloat(count, state: &f)
            _ = Self.fillDouble(count, state: &d)
            #expect(f == expected, "float, count \(count)")
            #expect(d == expected, "double, count \(count)")
        }
    }

    @Test func zeroCountWritesNothing() {
        var state: UInt64 = 99
        var out: [Float] = [7]
        out.withUnsafeMutableBufferPointer { Float.fillStandardNormal($0.baseAddress, count: 0, &state) }
        #expect(out == [7] && state == 99)
    }

    @Test(arguments: counts)
    func sameStateGivesSameValues(count: Int) {
        var a: UInt64 = 2024, b: UInt64 = 2024
        let x = Self.fillFloat(count, state: &a), y = Self.fillFloat(count, state: &b)
        #expect(x.elementsEqual(y) { $0.bitPattern == $1.bitPattern })
        var c: UInt64 = 2025
        if count >= 2 { #expect(Self.fillFloat(count, state: &c) != x) }
    }

    /// Pair j uses outputs 2j+1, 2j+2 whatever the split into calls: an even first call
    /// continues the stream exactly, an odd one drops one sine and the next call starts at the
    /// following pair.
    @Test func splittingACallFollowsThePairLayout() {
        var s: UInt64 = 77
        let whole = Self.fillFloat(2000, state: &s)
        for first in [0, 2, 64, 126, 128, 130, 1000] {
            var t: UInt64 = 77
            let a = Self.fillFloat(first, state: &t), b = Self.fillFloat(2000 - first, state: &t)
            #expect(a + b == whole, "split at \(first)")
        }
        for first in [1, 7, 63, 65, 129, 999] {
            var t: UInt64 = 77
            let a = Self.fillFloat(first, state: &t), b = Self.fillFloat(20, state: &t)
            #expect(a == Array(whole[0..<first]), "odd first call \(first)")
            #expect(b == Array(whole[(first + 1)..<(first + 21)]), "after odd first call \(first)")
        }
    }

    /// The float path draws the same normals as the double (libm) path from the same state, up
    /// to float rounding: a few ulp of max(|x|, 1) (measured: 3.3).
    @Test(arguments: [1, 2, 65, 1_000_001])
    func floatMatchesDoubleFromTheSameState(count: Int) {
        var f: UInt64 = 0xDEAD_BEEF, d: UInt64 = 0xDEAD_BEEF
        let x = Self.fillFloat(count, state: &f), y = Self.fillDouble(count, state: &d)
        var worst = 0.0
        for i in 0..<count {
            let ulp = Double(Float(max(abs(y[i]), 1)).ulp)
            worst = max(worst, abs(Double(x[i]) - y[i]) / ulp)
        }
        #expect(worst <= 6, "count \(count): \(worst) ulp")
    }

    // ---- distribution -----------------------------------------------------------------------

    /// Standard normal CDF.
    static func phi(_ x: Double) -> Double { 0.5 * erfc(-x / 2.squareRoot()) }

    /// (total draws, normals per call): one even and one odd call, and many calls smaller than
    /// a vector block, even and odd.
    @Test(arguments: [(1_000_000, 1_000_000), (999_999, 999_999), (1_000_000, 5), (1_000_000, 64),
                      (1_000_000, 33)])
    func drawsAreStandardNormal(total: Int, chunk: Int) {
        let x = Self.draws(total: total, chunk: chunk, seed: 0x5EED &+ UInt64(chunk))
        let n = Double(x.count)
        #expect(x.allSatisfy { $0.isFinite })
        var sum = 0.0, sum2 = 0.0, sum4 = 0.0, lag = 0.0
        for i in 0..<x.count {
            let v = Double(x[i])
            sum += v; sum2 += v * v; sum4 += v * v * v * v
            if i > 0 { lag += v * Double(x[i - 1]) }
        }
        let mean = sum / n, variance = sum2 / n - mean * mean
        let label = "total \(total), chunk \(chunk)"
        // 5 standard errors: sd(mean) = 1/sqrt(n), sd(variance) = sqrt(2/n), sd(E x^4) = sqrt(96/n)
        #expect(abs(mean) < 5 / n.squareRoot(), "\(label): mean \(mean)")
        #expect(abs(variance - 1) < 5 * (2 / n).squareRoot(), "\(label): variance \(variance)")
        #expect(abs(sum4 / n - 3) < 5 * (96 / n).squareRoot(), "\(label): 4th moment \(sum4 / n)")
        // lag-1 correlation (alternately within a Box-Muller pair and across pairs): sd 1/sqrt(n)
        let corr = (lag / (n - 1) - mean * mean) / variance
        #expect(abs(corr) < 5 / n.squareRoot(), "\(label): lag-1 correlation \(corr)")

        // frequencies below a few quantiles and beyond the tails, each within 5 binomial sds
        func frequency(_ p: Double, _ observed: Int, _ what: String) {
            let f = Double(observed) / n
            #expect(abs(f - p) < 5 * (p * (1 - p) / n).squareRoot(), "\(label): P(\(what)) \(f) vs \(p)")
        }
        for q in [-2.0, -1, -0.5, 0, 0.5, 1, 2] {
            frequency(Self.phi(q), x.reduce(0) { $0 + (Double($1) < q ? 1 : 0) }, "x < \(q)")
        }
        frequency(2 * Self.phi(-3), x.reduce(0) { $0 + (abs($1) > 3 ? 1 : 0) }, "|x| > 3")
        frequency(2 * Self.phi(-4), x.reduce(0) { $0 + (abs($1) > 4 ? 1 : 0) }, "|x| > 4")
        // even and odd positions (cosines and sines) are each standard normal
        for parity in 0..<2 {
            var s = 0.0, s2 = 0.0, m = 0.0
            for i in stride(from: parity, to: x.count, by: 2) { let v = Double(x[i]); s += v; s2 += v * v; m += 1 }
            #expect(abs(s / m) < 5 / m.squareRoot(), "\(label) parity \(parity): mean \(s / m)")
            #expect(abs(s2 / m - 1) < 5 * (2 / m).squareRoot(), "\(label) parity \(parity): E x^2 \(s2 / m)")
        }
    }
}

import Foundation
import Testing
@testable import VHRNN

// Resampling schemes and the resampling criterion. Cases with hand-computable answers
// (degenerate, equal and -inf weights; ESS of equal and one-hot weights) plus statistical
// checks with a fixed seed, so every run sees the same numbers.

/// The largest value `nextUnitDouble()` returns: the top of the CDF, where round-off bites.
private let largestUniform = 1.0 - 0x1.0p-53

/// softmax of log weights in Double, with -inf as zero weight (the reference for the tests).
private func normalisedWeights(_ logWeights: [Double]) -> [Double] {
    let m = logWeights.max()!
    let p = logWeights.map { exp($0 - m) }
    let total = p.reduce(0, +)
    return p.map { $0 / total }
}

private func offspringCounts(_ ancestors: [Int32], particleCount: Int) -> [Int] {
    var counts = [Int](repeating: 0, count: particleCount)
    for a in ancestors { counts[Int(a)] += 1 }
    return counts
}

/// Random log weights spread over ~ e^±15, with about a fifth of them -inf (but at least one
/// finite, so there is mass to resample).
private func randomLogWeights(count: Int, using generator: inout SplitMix64) -> [Double] {
    var w = (0..<count).map { _ in
        generator.nextUnitDouble() < 0.2 ? -.infinity : 5 * generator.nextStandardNormal()
    }
    if w.allSatisfy({ $0 == -.infinity }) { w[Int(generator.next() % UInt64(count))] = 0 }
    return w
}

private let particleCounts = [1, 2, 3, 7, 64]

@Suite("Resampling schemes")
struct ResamplingSchemeTests {
    @Test func uniformCounts() {
        #expect(ResamplingScheme.multinomial.uniformCount(particleCount: 7) == 7)
        #expect(ResamplingScheme.stratified.uniformCount(particleCount: 7) == 7)
        #expect(ResamplingScheme.systematic.uniformCount(particleCount: 7) == 1)
        #expect(ResamplingScheme.allCases.count == 3)
    }

    @Test("indices in range, ascending, never a zero weight", arguments: ResamplingScheme.allCases, particleCounts)
    func indicesInRange(scheme: ResamplingScheme, particleCount: Int) {
        var rng = SplitMix64(seed: 0xA11CE ^ UInt64(particleCount))
        for _ in 0..<300 {
            let logWeights = randomLogWeights(count: particleCount, using: &rng)
            let ancestors = scheme.ancestors(logWeights: logWeights, using: &rng)
            #expect(ancestors.count == particleCount)
            #expect(ancestors.allSatisfy { $0 >= 0 && Int($0) < particleCount })
            #expect(zip(ancestors, ancestors.dropFirst()).allSatisfy { $0 <= $1 })
            #expect(ancestors.allSatisfy { logWeights[Int($0)] > -.infinity })
        }
    }

    @Test("systematic: every count is floor(K w) or ceil(K w)", arguments: particleCounts)
    func systematicCountsAreFloorOrCeil(particleCount: Int) {
        var rng = SplitMix64(seed: 0x5157 &+ UInt64(particleCount))
        for _ in 0..<500 {
            let logWeights = randomLogWeights(count: particleCount, using: &rng)
            let w = normalisedWeights(logWeights)
            let counts = offspringCounts(
                ResamplingScheme.systematic.ancestors(logWeights: logWeights, using: &rng),
                particleCount: particleCount)
            for i in 0..<particleCount {
                // 1e-9 of slack: K w_i may sit a rounding error away from an integer.
                let expected = Double(particleCount) * w[i]
                #expect(Double(counts[i]) >= (expected - 1e-9).rounded(.down), "particle \(i) of \(w)")
                #expect(Double(counts[i]) <= (expected + 1e-9).rounded(.up), "particle \(i) of \(w)")
            }
        }
    }

    @Test("stratified: every count is within 2 of K w; all schemes: counts sum to K", arguments: particleCounts)
    func countTotals(particleCount: Int) {
        var rng = SplitMix64(seed: 0x57A7 &+ UInt64(particleCount))
        for _ in 0..<500 {
            let logWeights = randomLogWeights(count: particleCount, using: &rng)
            let w = normalisedWeights(logWeights)
            for scheme in ResamplingScheme.allCases {
                let counts = offspringCounts(scheme.ancestors(logWeights: logWeights, using: &rng),
                                             particleCount: particleCount)
                #expect(counts.reduce(0, +) == particleCount)
                if scheme == .stratified {
                    // Strata wholly inside particle i's CDF interval give it one child each;
                    // only the (at most two) strata straddling its ends are in doubt.
                    for i in 0..<particleCount {
                        #expect(abs(Double(counts[i]) - Double(particleCount) * w[i]) < 2)
                    }
                }
            }
        }
    }

    /// Mean offspring counts over 20 000 draws match K w_i within 5 standard errors. The
    /// variance per draw is, per scheme: multinomial K w (1 - w) (binomial); stratified at most
    /// that (Σ_j p_j (1 - p_j) with Σ_j p_j = K w, and Σ p_j² ≥ K w² by Cauchy–Schwarz);
    /// systematic f (1 - f) with f = frac(K w), since the count is ⌊K w⌋ + Bernoulli(f).
    @Test("unbiased: mean offspring count is K w", arguments: ResamplingScheme.allCases)
    func unbiased(scheme: ResamplingScheme) {
        let w = [0.07, 0.33, 0.12, 0.0, 0.48]
        let logWeights = w.map { log($0) }  // log 0 = -inf: must never be chosen
        let particleCount = w.count
        let draws = 20_000
        var rng = SplitMix64(seed: 20_000)
        var sum = [Double](repeating: 0, count: particleCount)
        var sumOfSquares = [Double](repeating: 0, count: particleCount)
        for _ in 0..<draws {
            let counts = offspringCounts(scheme.ancestors(logWeights: logWeights, using: &rng),
                                         particleCount: particleCount)
            for i in 0..<particleCount {
                sum[i] += Double(counts[i])
                sumOfSquares[i] += Double(counts[i] * counts[i])
            }
        }
        for i in 0..<particleCount {
            let expected = Double(particleCount) * w[i]
            let variance: Double
            switch scheme {
            case .multinomial, .stratified:
                variance = Double(particleCount) * w[i] * (1 - w[i])
            case .systematic:
                let f = expected - expected.rounded(.down)
                variance = f * (1 - f)
            }
            let mean = sum[i] / Double(draws)
            let tolerance = 5 * (variance / Double(draws)).squareRoot() + 1e-12
            #expect(abs(mean - expected) <= tolerance,
                    "\(scheme) particle \(i): mean \(mean), expected \(expected) ± \(tolerance)")
            if scheme == .multinomial && w[i] > 0 {
                // Multinomial counts are Binomial(K, w_i): checks that the sorted-uniform
                // construction gives iid draws, not a lower-variance stratified sample.
                let sampleVariance = sumOfSquares[i] / Double(draws) - mean * mean
                #expect(abs(sampleVariance / variance - 1) < 0.1,
                        "particle \(i): variance \(sampleVariance), binomial \(variance)")
            }
        }
    }

    @Test("one particle holds all the mass: every ancestor is that particle", arguments: ResamplingScheme.allCases)
    func degenerateWeights(scheme: ResamplingScheme) {
        let particleCount = 7
        var rng = SplitMix64(seed: 7)
        for hot in 0..<particleCount {
            // Exactly one-hot (-inf elsewhere) and one-hot by underflow (exp(-800) == 0).
            for cold in [-Double.infinity, -800] {
                var logWeights = [Double](repeating: cold, count: particleCount)
                logWeights[hot] = 3.5
                for uniforms in [[Double](repeating: 0, count: particleCount),
                                 [Double](repeating: largestUniform, count: particleCount),
                                 (0..<particleCount).map { _ in rng.nextUnitDouble() }] {
                    let ancestors = scheme.ancestors(logWeights: logWeights, uniforms: uniforms)
                    #expect(ancestors == [Int32](repeating: Int32(hot), count: particleCount))
                }
            }
        }
    }

    @Test("equal weights: systematic and stratified give the identity", arguments: particleCounts)
    func equalWeightsIdentity(particleCount: Int) {
        var rng = SplitMix64(seed: 11)
        let identity = (0..<particleCount).map { Int32($0) }
        for level in [0.0, -3.7, 1e3, -1e3] {
            let logWeights = [Double](repeating: level, count: particleCount)
            for u in [0.0, 0.5, 0.999_999, largestUniform, rng.nextUnitDouble()] {
                #expect(ResamplingScheme.systematic.ancestors(logWeights: logWeights, uniforms: [u]) == identity)
                #expect(ResamplingScheme.stratified.ancestors(
                    logWeights: logWeights, uniforms: [Double](repeating: u, count: particleCount)) == identity)
            }
            let uniforms = (0..<particleCount).map { _ in rng.nextUnitDouble() }
            #expect(ResamplingScheme.stratified.ancestors(logWeights: logWeights, uniforms: uniforms) == identity)
        }
    }

    @Test("-inf and NaN weights are never chosen, even at the ends of the CDF", arguments: ResamplingScheme.allCases)
    func zeroWeightsNeverChosen(scheme: ResamplingScheme) {
        let inf = Double.infinity
        let cases: [[Double]] = [
            [-inf, 0, -inf, 0, -inf],
            [.nan, -1, .nan, 2, .nan],
            [0, 0, -inf],  // last particle empty: top-of-CDF round-off must not land on it
            [-inf, -inf, 0.25],
        ]
        for logWeights in cases {
            let k = logWeights.count
            for uniforms in [[Double](repeating: 0, count: k), [Double](repeating: largestUniform, count: k),
                             [Double](repeating: 1, count: k), [0.3, 0.9, 0.01, 0.6, 0.2].prefix(k).map { $0 }] {
                let ancestors = scheme.ancestors(logWeights: logWeights, uniforms: uniforms)
                #expect(ancestors.allSatisfy { logWeights[Int($0)].isFinite }, "\(logWeights) \(uniforms) -> \(ancestors)")
            }
        }
    }

    @Test("no particle has weight: identity ancestors", arguments: ResamplingScheme.allCases)
    func allZeroWeights(scheme: ResamplingScheme) {
        for logWeights in [[Double](repeating: -.infinity, count: 4), [.nan, -.infinity, .nan, .nan]] {
            let ancestors = scheme.ancestors(logWeights: logWeights, uniforms: [0.5, 0.5, 0.5, 0.5])
            #expect(ancestors == [0, 1, 2, 3])
        }
    }

    @Test("+inf weights share the mass equally", arguments: ResamplingScheme.allCases)
    func infiniteWeights(scheme: ResamplingScheme) {
        let logWeights = [0, Double.infinity, 5, Double.infinity]
        let ancestors = scheme.ancestors(logWeights: logWeights, uniforms: [0.1, 0.4, 0.6, 0.9])
        #expect(ancestors.allSatisfy { $0 == 1 || $0 == 3 })
    }

    @Test("K = 1 always keeps particle 0", arguments: ResamplingScheme.allCases)
    func singleParticle(scheme: ResamplingScheme) {
        for logWeight in [0.0, -5, -.infinity, .nan] {
            for u in [0.0, 0.5, largestUniform] {
                #expect(scheme.ancestors(logWeights: [logWeight], uniforms: [u]) == [0])
            }
        }
    }

    @Test("hand-computed inverse CDF", arguments: [
        // w = (0.25, 0.5, 0.25, 0): the CDF in particle units is 1, 3, 4, 4, so a point x
        // picks particle 0 for x < 1, 1 for x < 3, else 2 (never the empty particle 3).
        (ResamplingScheme.systematic, [0.5], [Int32(0), 1, 1, 2]),    // 0.5 1.5 2.5 3.5
        (.systematic, [0.0], [0, 1, 1, 2]),                             // 0 1 2 3: ties go up
        (.systematic, [largestUniform], [0, 1, 1, 2]),                  // 1- 2- 3- 4-
        (.stratified, [0.99, 0.0, 0.5, 0.999], [0, 1, 1, 2]),           // 0.99 1 2.5 3.999
        (.multinomial, [0.0, 0.0, 0.0, 0.0], [0, 0, 0, 0]),             // all points at 0
        // Only the last factor moves: R = (1 - 0.5)^(1/1), the last point is 4 (1 - R) = 2.
        (.multinomial, [0.0, 0.0, 0.0, 0.5], [0, 0, 0, 1]),
        (.multinomial, [Double](repeating: largestUniform, count: 4), [2, 2, 2, 2]),
    ])
    func handComputed(scheme: ResamplingScheme, uniforms: [Double], expected: [Int32]) {
        let logWeights = [log(0.25), log(0.5), log(0.25), -.infinity]
        #expect(scheme.ancestors(logWeights: logWeights, uniforms: uniforms) == expected)
    }

    @Test("Float log weights give the same ancestors as Double", arguments: ResamplingScheme.allCases)
    func floatMatchesDouble(scheme: ResamplingScheme) {
        var rng = SplitMix64(seed: 32)
        for _ in 0..<100 {
            let logWeights = randomLogWeights(count: 16, using: &rng).map { Float($0) }
            let uniforms = (0..<16).map { _ in rng.nextUnitDouble() }
            #expect(scheme.ancestors(logWeights: logWeights, uniforms: uniforms)
                    == scheme.ancestors(logWeights: logWeights.map { Double($0) }, uniforms: uniforms))
        }
    }

    @Test("Codable as its raw name")
    func codable() throws {
        let data = try JSONEncoder().encode(ResamplingScheme.systematic)
        #expect(String(decoding: data, as: UTF8.self) == "\"systematic\"")
        #expect(try JSONDecoder().decode(ResamplingScheme.self, from: data) == .systematic)
    }
}

@Suite("Resampling criterion")
struct ResamplingCriterionTests {
    static let essCases: [([Double], Double)] = [
        ([0.0, 0, 0, 0], 4.0),                          // equal: ESS = K
        ([-3.7, -3.7, -3.7], 3.0),
        ([2.0, -.infinity, -.infinity, -.infinity], 1.0),  // one-hot: ESS = 1
        ([0.0, 0, -.infinity, -.infinity], 2.0),
        ([log(1.0), log(1.0), log(2.0)], 16.0 / 6.0),   // (1+1+2)² / (1+1+4)
        ([0.0, .nan, 0], 2.0),                          // NaN counts as zero weight
        ([.infinity, 0, .infinity], 2.0),
    ]

    @Test("log ESS of hand-computable weights", arguments: essCases)
    func logESS(logWeights: [Double], ess: Double) {
        #expect(abs(ResamplingCriterion.logEffectiveSampleSize(logWeights: logWeights) - log(ess)) < 1e-12)
        #expect(abs(ResamplingCriterion.logEffectiveSampleSize(logWeights: logWeights.map { Float($0) })
                    - log(ess)) < 1e-6)
    }

    @Test func logESSWithoutMass() {
        #expect(ResamplingCriterion.logEffectiveSampleSize(logWeights: [-Double.infinity, .nan]) == -.infinity)
        #expect(ResamplingCriterion.logEffectiveSampleSize(logWeights: [Double]()) == -.infinity)
    }

    @Test("shouldResample at hand-computed ESS values", arguments: [
        (ResamplingCriterion.never, 1.0, false),
        (.never, 0.0, false),
        (.always, 4.0, true),
        (.always, 1.0, true),
        (.default, 1.0, true),
        (.default, 2.0, true),       // ESS = K/2 resamples (≤)
        (.default, 16.0 / 6.0, false),
        (.default, 4.0, false),
        (.essBelow(fraction: 1), 4.0, true),   // equal weights with fraction 1
        (.essBelow(fraction: 0.3), 1.0, true),
        (.essBelow(fraction: 0.3), 2.0, false),
        (.essBelow(fraction: 0), 1.0, false),
        (.default, 0.0, true),       // no mass at all: log ESS = -inf
    ])
    func shouldResample(criterion: ResamplingCriterion, ess: Double, expected: Bool) {
        // K = 4 throughout; go through the weights where the ESS is an exact hand value.
        let logESS = ess == 4 ? ResamplingCriterion.logEffectiveSampleSize(logWeights: [0.0, 0, 0, 0]) : log(ess)
        #expect(criterion.shouldResample(logESS: logESS, particleCount: 4) == expected)
    }

    @Test("default is ESS ≤ K/2")
    func defaultCriterion() {
        #expect(ResamplingCriterion.default == .essBelow(fraction: 0.5))
    }

    @Test("parsing", arguments: [
        ("never", ResamplingCriterion.never),
        ("always", .always),
        ("ess", .essBelow(fraction: 0.5)),
        ("ess:0.3", .essBelow(fraction: 0.3)),
        ("ess:1", .essBelow(fraction: 1)),
        ("ess:0", .essBelow(fraction: 0)),
        ("  ESS:0.25 ", .essBelow(fraction: 0.25)),
        ("Always", .always),
    ])
    func parse(text: String, expected: ResamplingCriterion) throws {
        #expect(try ResamplingCriterion(parsing: text) == expected)
        #expect(ResamplingCriterion(argument: text) == expected)
        // description reads back
        #expect(try ResamplingCriterion(parsing: expected.description) == expected)
    }

    @Test("parse errors say what is wrong", arguments: [
        "", "sometimes", "ess:", "ess:abc", "ess:1.5", "ess:-0.1", "ess:nan", "ess 0.3", "ess:0.3:0.1",
    ])
    func parseErrors(text: String) {
        #expect(ResamplingCriterion(argument: text) == nil)
        #expect(throws: ResamplingCriterion.ParseError.self) { try ResamplingCriterion(parsing: text) }
        do {
            _ = try ResamplingCriterion(parsing: text)
        } catch {
            #expect("\(error)".contains("'\(text)'"))
            #expect("\(error)".contains("ess:<fraction>"))
        }
    }

    @Test("Codable as its command-line spelling")
    func codable() throws {
        for criterion in [ResamplingCriterion.never, .always, .essBelow(fraction: 0.3)] {
            let data = try JSONEncoder().encode([criterion])
            #expect(try JSONDecoder().decode([ResamplingCriterion].self, from: data) == [criterion])
        }
        #expect(String(decoding: try JSONEncoder().encode([ResamplingCriterion.default]), as: UTF8.self)
                == "[\"ess:0.5\"]")
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([ResamplingCriterion].self, from: Data("[\"ess:2\"]".utf8))
        }
    }
}

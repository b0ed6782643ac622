import Foundation
import Testing
@testable import VHRNN

/// A scalar linear-Gaussian state-space model as a ``ParticleStepModel``: the SMC core's test
/// model, whose exact log-likelihood a Kalman filter gives.
///
///     z_1 ~ N(0, s0²),  z_t = a z_{t-1} + s_q ε_t,  x_t = c z_t + s_r ν_t
///
/// The proposal is not the prior, so every log weight has all three terms:
/// q(z_t | z_{t-1}, x_t) = N(mu_p + kappa (x_t − c mu_p), (lambda s_p)²), mu_p and s_p the prior's.
final class LinearGaussianModel: ParticleStepModel {
    typealias Scalar = Double
    let a = 0.9, c = 1.0, s0 = 1.0, sq = 0.6, sr = 0.8
    let kappa = 0.4, lambda = 1.3
    let noiseWidth = 1
    let stateBlockWidths = [1]

    private var capacity = (steps: 0, rows: 0)
    private var states: UnsafeMutablePointer<Double>?
    private var gatheredStates: UnsafeMutablePointer<Double>?
    private var noises: UnsafeMutablePointer<Double>?
    private var logAlpha: UnsafeMutablePointer<Double>?
    private var observations: [Double] = []
    private var sequences = 0, particles = 0

    deinit { for p in [states, gatheredStates, noises, logAlpha] { p?.deallocate() } }

    func beginPass(batch: SequenceBatch<Double>, particles K: Int, keepTape: Bool, rowBlocks: ParticleRowBlocks) {
        let T = batch.maxLength, N = batch.count * K
        if capacity.steps < T || capacity.rows < N {
            for p in [states, gatheredStates, noises, logAlpha] { p?.deallocate() }
            states = .allocate(capacity: T * N)
            gatheredStates = .allocate(capacity: T * N)
            noises = .allocate(capacity: T * N)
            logAlpha = .allocate(capacity: N)
            capacity = (T, N)
        }
        observations = batch.targets  // (T, B), time-major
        sequences = batch.count
        particles = K
    }

    func noise(step t: Int) -> UnsafeMutablePointer<Double> { noises! + t * capacity.rows }

    static func logNormal(_ x: Double, _ mean: Double, _ sd: Double) -> Double {
        let u = (x - mean) / sd
        return -0.5 * u * u - log(sd) - 0.5 * log(2 * Double.pi)
    }

    func logAlpha(step t: Int) -> UnsafePointer<Double> { UnsafePointer(logAlpha!) }

    func stepForward(_ t: Int, gathered: Bool, isLast: Bool, rows: Range<Int>) {
        let previous = t == 0 ? nil : (gathered ? gatheredStates! + t * capacity.rows : states! + (t - 1) * capacity.rows)
        let z = states! + t * capacity.rows, eps = noise(step: t)
        for row in rows {
            let x = observations[t * sequences + row / particles]
            let priorMean = previous.map { a * $0[row] } ?? 0, priorSD = t == 0 ? s0 : sq
            let proposalMean = priorMean + kappa * (x - c * priorMean), proposalSD = lambda * priorSD
            z[row] = proposalMean + proposalSD * eps[row]
            logAlpha![row] = Self.logNormal(z[row], priorMean, priorSD) + Self.logNormal(x, c * z[row], sr)
                - Self.logNormal(z[row], proposalMean, proposalSD)
        }
    }

    func stateBlock(_ index: Int, step t: Int) -> (written: UnsafePointer<Double>, gathered: UnsafeMutablePointer<Double>) {
        (UnsafePointer(states! + (t - 1) * capacity.rows), gatheredStates! + t * capacity.rows)
    }

    /// log p(x_1..T) by the Kalman filter.
    func exactLogLikelihood(_ x: [Double]) -> Double {
        var mean = 0.0, variance = s0 * s0, total = 0.0
        for (t, xt) in x.enumerated() {
            if t > 0 {
                mean = a * mean
                variance = a * a * variance + sq * sq
            }
            let predictive = c * c * variance + sr * sr
            total += Self.logNormal(xt, c * mean, predictive.squareRoot())
            let gain = variance * c / predictive
            mean += gain * (xt - c * mean)
            variance *= 1 - gain * c
        }
        return total
    }

    /// A sequence drawn from the model itself.
    func simulate(steps: Int, seed: UInt64) -> [Double] {
        var rng = SplitMix64(seed: seed)
        func normal() -> Double {
            (-2 * log(1 - rng.nextUnitDouble())).squareRoot() * cos(2 * .pi * rng.nextUnitDouble())
        }
        var z = s0 * normal()
        return (0..<steps).map { t in
            if t > 0 { z = a * z + sq * normal() }
            return c * z + sr * normal()
        }
    }
}

/// The SMC core against an exact likelihood: with the linear-Gaussian model plugged in, Ẑ is an
/// unbiased estimate of p(x) for every criterion and scheme (the property adaptive-resampling
/// implementations most often break: a missing log K, weights not reset, the ESS computed on
/// the wrong weights), and log Ẑ approaches log p(x) as K grows.
@Suite("SMC core against the Kalman likelihood")
struct SMCUnbiasednessTests {
    static let model = LinearGaussianModel()
    static let observations = model.simulate(steps: 12, seed: 5)

    /// `runs` independent estimates at once: one batch of `runs` copies of the sequence, each
    /// with its own noise key and so its own noise stream.
    static func logEstimates(settings: FilterSettings, runs: Int, seed: UInt64) throws -> [Double] {
        let split = SequenceSplit(dataDim: 1, sequences: Array(repeating: observations, count: runs))
        let batch = try SequenceBatch<Double>(split: split, indices: Array(0..<runs), noiseKeys: (0..<runs).map(UInt64.init))
        let smc = SequentialMonteCarlo(model: LinearGaussianModel())
        return smc.run(batch: batch, settings: settings, seed: seed, keepTape: false, replay: nil).bounds
    }

    static var settings: [FilterSettings] {
        [FilterSettings(bound: .iwae, particleCount: 8)]
            + [ResamplingCriterion.always, .default, .essBelow(fraction: 0.9)].flatMap { criterion in
                ResamplingScheme.allCases.map { FilterSettings(bound: .fivo, particleCount: 8, criterion: criterion, scheme: $0) }
            }
    }

    @Test("mean of Ẑ equals the Kalman likelihood within its Monte Carlo error", arguments: settings)
    func estimatorIsUnbiased(_ settings: FilterSettings) throws {
        let exact = Self.model.exactLogLikelihood(Self.observations)
        let runs = 20_000
        let ratios = try Self.logEstimates(settings: settings, runs: runs, seed: 11).map { exp($0 - exact) }
        let mean = ratios.reduce(0, +) / Double(runs)
        let variance = ratios.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(runs - 1)
        let standardError = (variance / Double(runs)).squareRoot()
        print("SMC unbiasedness \(settings.bound) \(settings.criterion) \(settings.scheme): E[Ẑ]/p(x) = \(mean) ± \(standardError)")
        // 4 standard errors: a correct filter fails about once in 16,000 runs of this test; a
        // 10% bias (e.g. one step's lse without − log K at K = 8 is a factor 8) fails always.
        #expect(abs(mean - 1) <= 4 * standardError,
                "\(settings.criterion)/\(settings.scheme): E[Ẑ]/p(x) = \(mean) ± \(standardError)")
        #expect(standardError < 0.05, "too noisy to detect a bias: ± \(standardError)")
    }

    @Test("log Ẑ approaches log p(x) as K grows")
    func logEstimateConverges() throws {
        let exact = Self.model.exactLogLikelihood(Self.observations)
        var gaps: [Double] = []
        for K in [1, 4, 16, 64, 256] {
            // Fewer runs at large K, where log Ẑ varies less: about the same work per K.
            let estimates = try Self.logEstimates(settings: FilterSettings(bound: .fivo, particleCount: K),
                                                  runs: max(40, 1600 / K), seed: 3)
            gaps.append(exact - estimates.reduce(0, +) / Double(estimates.count))
        }
        // E log Ẑ ≤ log p(x) (Jensen) and the gap shrinks roughly like 1/K.
        for (i, gap) in gaps.enumerated() { #expect(gap > -0.02, "K index \(i): E log Ẑ above log p(x) by \(-gap)") }
        for i in 1..<gaps.count { #expect(gaps[i] < gaps[i - 1], "gap did not shrink: \(gaps)") }
        #expect(gaps.last! < 0.01, "gap at K = 256: \(gaps.last!)")
    }
}

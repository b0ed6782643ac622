import Foundation
import Testing
@testable import VHRNN

/// A small random model and data set for bound properties.
private func smallModel(_ kind: ModelKind = .vrnn, emission: EmissionKind = .gaussian, dataDim: Int = 2,
                        seed: UInt64 = 3) throws -> SequenceModel<Double> {
    var rng = SplitMix64(seed: seed)
    let config = ModelConfiguration(model: kind, dataDim: dataDim, emission: emission, latentDim: 3, hiddenDim: 4,
                                    hyperDim: 3, fcLayers: 1, omegaHidden: 5)
    return try SequenceModel(configuration: config, generator: &rng)
}

private func randomSplit(lengths: [Int], dataDim: Int = 2, scale: Double = 1, seed: UInt64 = 9) -> SequenceSplit {
    var rng = SplitMix64(seed: seed)
    return SequenceSplit(dataDim: dataDim, sequences: lengths.map { len in
        (0..<(len * dataDim)).map { _ in scale * rng.nextStandardNormal() }
    })
}

@Suite("Bounds")
struct BoundTests {
    @Test func fivoWithOneParticleEqualsELBO() throws {
        let model = try smallModel(.vhrnn)
        let batch = try SequenceBatch<Double>(split: randomSplit(lengths: [6, 4, 5]), indices: [0, 1, 2])
        let filter = ParticleFilter(model: model)
        let fivo = filter.run(batch: batch, settings: FilterSettings(bound: .fivo, particleCount: 1), seed: 42)
        let elbo = filter.run(batch: batch, settings: FilterSettings(bound: .elbo, particleCount: 1), seed: 42)
        #expect(fivo.resamplingEvents == 0)
        for (a, b) in zip(fivo.bounds, elbo.bounds) { #expect(abs(a - b) <= 1e-12 * max(1, abs(a))) }
    }

    @Test func fivoThatNeverResamplesEqualsIWAE() throws {
        let model = try smallModel(.vhrnn, emission: .bernoulli, dataDim: 3)
        var rng = SplitMix64(seed: 1)
        let split = SequenceSplit(dataDim: 3, sequences: [7, 3].map { len in
            (0..<(len * 3)).map { _ in rng.nextUnitDouble() < 0.4 ? 1.0 : 0.0 }
        })
        let batch = try SequenceBatch<Double>(split: split, indices: [0, 1])
        let filter = ParticleFilter(model: model)
        let never = filter.run(batch: batch, settings: FilterSettings(bound: .fivo, particleCount: 8, criterion: .never),
                               seed: 5)
        let iwae = filter.run(batch: batch, settings: FilterSettings(bound: .iwae, particleCount: 8), seed: 5)
        let always = filter.run(batch: batch, settings: FilterSettings(bound: .fivo, particleCount: 8, criterion: .always),
                                seed: 5)
        #expect(never.bounds == iwae.bounds)
        #expect(always.resamplingEvents == 6 + 2)  // every step but each sequence's last
        #expect(always.bounds != iwae.bounds)
    }

    /// E[IWAE_K] and E[FIVO_K] rise with K (Burda et al.; Maddison et al.), estimated over
    /// many seeds; ELBO (K = 1) is the lowest.
    @Test func boundsRiseWithParticleCount() throws {
        let model = try smallModel(.vrnn)
        let batch = try SequenceBatch<Double>(split: randomSplit(lengths: [12]), indices: [0])
        let filter = ParticleFilter(model: model)
        for bound in [BoundKind.iwae, .fivo] {
            var means: [Double] = []
            for k in [1, 4, 16, 64] {
                var total = 0.0
                let draws = 40
                for seed in 0..<draws {
                    total += filter.run(batch: batch, settings: FilterSettings(bound: bound, particleCount: k),
                                        seed: UInt64(seed) &* 7919).bounds[0]
                }
                means.append(total / Double(draws))
            }
            #expect(zip(means, means.dropFirst()).allSatisfy { $0 < $1 }, "\(bound) means by K: \(means)")
        }
    }

    @Test(arguments: [BoundKind.elbo, .iwae, .fivo])
    func finiteOnLengthOneAndHugeValues(_ bound: BoundKind) throws {
        for scale in [1.0, 1e6] {
            let split = randomSplit(lengths: [1, 5, 1], scale: scale)
            let double = try smallModel(.vhrnn)
            let r64 = ParticleFilter(model: double).run(batch: try SequenceBatch<Double>(split: split, indices: [0, 1, 2]),
                                                        settings: FilterSettings(bound: bound, particleCount: 4), seed: 2)
            #expect(r64.bounds.allSatisfy { $0.isFinite }, "double \(bound) scale \(scale): \(r64.bounds)")
            var rng = SplitMix64(seed: 3)
            let float = try SequenceModel<Float>(configuration: double.configuration, generator: &rng)
            let r32 = ParticleFilter(model: float).run(batch: try SequenceBatch<Float>(split: split, indices: [0, 1, 2]),
                                                       settings: FilterSettings(bound: bound, particleCount: 4), seed: 2)
            #expect(r32.bounds.allSatisfy { $0.isFinite }, "float \(bound) scale \(scale): \(r32.bounds)")
        }
    }

    /// A padded batch computes each sequence's bound exactly as that sequence alone (its
    /// noise stream is keyed by its index, not its place in the batch).
    @Test(arguments: [BoundKind.elbo, .iwae, .fivo])
    func paddingInvariance(_ bound: BoundKind) throws {
        let model = try smallModel(.vhrnn)
        let split = randomSplit(lengths: [9, 3, 6])
        let filter = ParticleFilter(model: model)
        let settings = FilterSettings(bound: bound, particleCount: 5, scheme: .systematic)
        let together = filter.run(batch: try SequenceBatch(split: split, indices: [0, 1, 2]), settings: settings, seed: 11)
        for i in 0..<3 {
            let alone = filter.run(batch: try SequenceBatch(split: split, indices: [i]), settings: settings, seed: 11)
            #expect(abs(alone.bounds[0] - together.bounds[i]) <= 1e-12 * max(1, abs(alone.bounds[0])),
                    "sequence \(i): alone \(alone.bounds[0]) in batch \(together.bounds[i])")
        }
    }

    /// Replaying a recorded plan with the same seed reproduces the pass bit for bit.
    @Test func replayReproducesThePass() throws {
        let model = try smallModel(.vhrnn)
        let batch = try SequenceBatch<Double>(split: randomSplit(lengths: [8, 5]), indices: [0, 1])
        let filter = ParticleFilter(model: model)
        let settings = FilterSettings(bound: .fivo, particleCount: 6, criterion: .essBelow(fraction: 0.9))
        let first = filter.run(batch: batch, settings: settings, seed: 8, keepTape: true)
        let plan = filter.recordedPlan
        #expect(first.resamplingEvents > 0)
        let again = filter.run(batch: batch, settings: settings, seed: 8, replay: plan)
        #expect(again.bounds == first.bounds)
        #expect(filter.recordedPlan == plan)
    }
}

/// The bookkeeping driven by hand-made log-weight increments, where log Ẑ and the ancestors
/// are known in closed form (after FIVO's smc_test.py).
@Suite("SMC bookkeeping")
struct BookkeepingTests {
    struct Trace {
        var logZ: [Double]
        var resampled: [[UInt8]]
        var ancestors: [[Int32]]
    }

    /// Runs the bookkeeping over increments `(T, B·K)`.
    func simulate(_ increments: [[Double]], lengths: [Int], settings: FilterSettings, seed: UInt64 = 1) -> Trace {
        let B = lengths.count, K = settings.particleCount, N = B * K
        var weights = [Double](repeating: 0, count: N)
        var logZ = [Double](repeating: 0, count: B)
        var trace = Trace(logZ: [], resampled: [], ancestors: [])
        var rng = SplitMix64(seed: seed)
        var scratch = [Double](repeating: 0, count: 2)
        for (t, inc) in increments.enumerated() {
            let mask = lengths.map { t < $0 ? 1.0 : 0.0 }
            for row in 0..<N where mask[row / K] != 0 { weights[row] += inc[row] }
            let uniforms = (0..<N).map { _ in rng.nextUnitDouble() }
            var flags = [UInt8](repeating: 0, count: B)
            var next = [Int32](repeating: -1, count: N)
            weights.withUnsafeMutableBufferPointer { w in
                mask.withUnsafeBufferPointer { m in
                    uniforms.withUnsafeBufferPointer { u in
                        _ = ParticleBookkeeping.afterStep(t: t, lengths: lengths, settings: settings, weights: w.baseAddress!,
                                                          mask: m.baseAddress!, uniforms: u.baseAddress!, replay: nil,
                                                          logZ: &logZ, resampled: &flags, nextAncestors: &next,
                                                          scratch: &scratch)
                    }
                }
            }
            trace.resampled.append(flags)
            trace.ancestors.append(next)
        }
        trace.logZ = logZ
        return trace
    }

    @Test(arguments: [ResamplingCriterion.never, .always, .essBelow(fraction: 0.5)])
    func constantIncrementsGiveTheirSum(_ criterion: ResamplingCriterion) {
        let c = [0.3, -1.2, 2.5, -0.7]
        let increments = c.map { Array(repeating: $0, count: 2 * 4) }
        for scheme in ResamplingScheme.allCases {
            let trace = simulate(increments, lengths: [4, 4],
                                 settings: FilterSettings(bound: .fivo, particleCount: 4, criterion: criterion, scheme: scheme))
            for z in trace.logZ { #expect(abs(z - c.reduce(0, +)) < 1e-12) }
        }
    }

    @Test func degenerateWeightsPickTheOnlyLivingParticle() {
        // Each step only particle 1 of sequence 0 and particle 3 of sequence 1 survive.
        let K = 4
        var inc = [Double](repeating: -.infinity, count: 2 * K)
        inc[1] = 0.5
        inc[K + 3] = -0.25
        let trace = simulate([inc, inc, inc], lengths: [3, 3],
                             settings: FilterSettings(bound: .fivo, particleCount: K, scheme: .stratified))
        #expect(trace.resampled[0] == [1, 1] && trace.resampled[1] == [1, 1] && trace.resampled[2] == [0, 0])
        #expect(trace.ancestors[0] == [1, 1, 1, 1, 7, 7, 7, 7])
        // log Ẑ = Σ over 3 events of (a - log K)
        #expect(abs(trace.logZ[0] - 3 * (0.5 - log(4.0))) < 1e-12)
        #expect(abs(trace.logZ[1] - 3 * (-0.25 - log(4.0))) < 1e-12)
    }

    @Test func stepsPastTheEndAreIgnored() {
        // Sequence 1 ends after one step; its later increments are NaN and must not matter.
        let K = 3
        let steps: [[Double]] = [
            [0.1, 0.2, 0.3, 1.0, 2.0, 3.0],
            [0.4, 0.5, 0.6, .nan, .nan, .nan],
            [0.7, 0.8, 0.9, .infinity, -.infinity, .nan],
        ]
        let trace = simulate(steps, lengths: [3, 1], settings: FilterSettings(bound: .iwae, particleCount: K))
        let w0 = (0..<K).map { k in steps.map { $0[k] }.reduce(0, +) }
        let lse0 = log(w0.map(exp).reduce(0, +)), lse1 = log([1.0, 2.0, 3.0].map(exp).reduce(0, +))
        #expect(abs(trace.logZ[0] - (lse0 - log(3.0))) < 1e-12)
        #expect(abs(trace.logZ[1] - (lse1 - log(3.0))) < 1e-12)
        #expect(trace.resampled.allSatisfy { $0 == [0, 0] })
    }

    @Test func neverResamplesAtALastStep() {
        let K = 2
        let inc = [0.0, -50.0]  // ESS ≈ 1 ≤ K/2 at every step
        let trace = simulate([inc, inc], lengths: [2], settings: FilterSettings(bound: .fivo, particleCount: K))
        #expect(trace.resampled == [[1], [0]])
    }

    @Test func elboIsTheMeanOfParticleLogWeights() {
        let inc = [[1.0, 3.0], [0.5, -0.5]]
        let trace = simulate(inc, lengths: [2], settings: FilterSettings(bound: .elbo, particleCount: 2))
        #expect(abs(trace.logZ[0] - 2.0) < 1e-12)
    }
}

@Suite("Parameter counts")
struct ParameterCountTests {
    struct Row: Sendable, CustomStringConvertible {
        var dataDim: Int, emission: EmissionKind, n: Int, fcLayers: Int, trainable: Int, paper: Int
        var description: String { "D=\(dataDim) \(emission) n=\(n) fc=\(fcLayers)" }
    }

    /// See docs: VHRNN.docc/ModelArchitecture.md (Parameter counts): 24n² + (2D+15)n + D (Bernoulli) / 24n² + (3D+15)n + 2D (Gaussian) trainable
    /// with one fc layer; the paper's counts add FIVO's reverse LSTM (+8n² + 4n) and, on the
    /// synthetic data, a second fc layer (+5(n² + n)).
    @Test(arguments: [
        Row(dataDim: 2, emission: .gaussian, n: 8, fcLayers: 2, trainable: 2612 - 8 * 64 - 32, paper: 2612),
        Row(dataDim: 2, emission: .gaussian, n: 6, fcLayers: 2, trainable: 1516 - 8 * 36 - 24, paper: 1516),
        Row(dataDim: 88, emission: .bernoulli, n: 24, fcLayers: 1, trainable: 24 * 576 + 191 * 24 + 88, paper: 23_200),
        Row(dataDim: 88, emission: .bernoulli, n: 28, fcLayers: 1, trainable: 24 * 784 + 191 * 28 + 88, paper: 30_636),
        Row(dataDim: 88, emission: .bernoulli, n: 32, fcLayers: 1, trainable: 24 * 1024 + 191 * 32 + 88, paper: 39_096),
    ])
    func vrnnMatchesDesignTable(_ row: Row) throws {
        var rng = SplitMix64(seed: 0)
        let model = try SequenceModel<Float>(
            configuration: ModelConfiguration(model: .vrnn, dataDim: row.dataDim, emission: row.emission,
                                              latentDim: row.n, fcLayers: row.fcLayers),
            generator: &rng)
        #expect(model.parameterCount == row.trainable)
        #expect(model.paperParameterCount == row.paper)
    }

    /// An untrained VHRNN computes the VRNN cell: theta's head starts at scales 1 and zero
    /// generated biases, omega's at scale 1 and shift 0.
    @Test func untrainedVHRNNEqualsVRNN() throws {
        var rng = SplitMix64(seed: 4)
        let vh = try SequenceModel<Double>(configuration: ModelConfiguration(model: .vhrnn, dataDim: 2, emission: .gaussian,
                                                                             latentDim: 3), generator: &rng)
        var rng2 = SplitMix64(seed: 4)
        let v = try SequenceModel<Double>(configuration: ModelConfiguration(model: .vrnn, dataDim: 2, emission: .gaussian,
                                                                            latentDim: 3), generator: &rng2)
        // Same draws for the shared components (they come first in the layout), so copy them over.
        for t in v.parameters.layout.tensors {
            let target = vh.parameters.layout.tensor(named: t.name)!
            for i in 0..<t.count { vh.parameters.values[target.offset + i] = v.parameters.values[t.offset + i] }
        }
        let batch = try SequenceBatch<Double>(split: randomSplit(lengths: [7, 4]), indices: [0, 1])
        let settings = FilterSettings(bound: .fivo, particleCount: 4)
        let a = ParticleFilter(model: vh).run(batch: batch, settings: settings, seed: 3)
        let b = ParticleFilter(model: v).run(batch: batch, settings: settings, seed: 3)
        for (x, y) in zip(a.bounds, b.bounds) { #expect(abs(x - y) < 1e-10) }
    }
}

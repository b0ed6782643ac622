import Foundation
import Testing
@testable import VHRNN

/// The KL warm-up: a training surrogate whose per-step log weight is
/// log p(x | z) + beta (log p(z) − log q(z)), beta rising linearly to 1 over the first N steps.
@Suite("KL warm-up")
struct KLWarmupTests {
    private static func tinyModel(_ kind: ModelKind, emission: EmissionKind = .gaussian,
                                  seed: UInt64 = 3) throws -> SequenceModel<Double> {
        var rng = SplitMix64(seed: seed)
        let model = try SequenceModel<Double>(
            configuration: ModelConfiguration(model: kind, dataDim: 3, emission: emission, latentDim: 2, hiddenDim: 4,
                                              hyperDim: 3, encodedDim: 3, fcLayers: 1, fcWidth: 4, omegaHidden: 4),
            generator: &rng)
        // Off the initial values, so the prior and the proposal differ (their KL is not ~0).
        for i in 0..<model.parameters.count { model.parameters.values[i] += 0.3 * (2 * rng.nextUnitDouble() - 1) }
        return model
    }

    private static func split(sequences: Int, length: Int, seed: UInt64 = 5) -> SequenceSplit {
        var rng = SplitMix64(seed: seed)
        return SequenceSplit(dataDim: 3, sequences: (0..<sequences).map { _ in
            (0..<(length * 3)).map { _ in rng.nextStandardNormal() }
        })
    }

    private static func tinyDataset() -> SequenceDataset {
        SequenceDataset(name: "tiny", kind: .real, train: split(sequences: 4, length: 6),
                        valid: split(sequences: 2, length: 6, seed: 6), test: split(sequences: 2, length: 6, seed: 7))
    }

    @Test("beta rises linearly over the warm-up, then stays 1")
    func schedule() {
        var options = TrainingOptions()
        #expect(options.klWeight(step: 1) == 1)
        options.klWarmupSteps = 4
        #expect((1...6).map { options.klWeight(step: $0) } == [0.25, 0.5, 0.75, 1, 1, 1])
        options.klWarmupSteps = 1
        #expect(options.klWeight(step: 1) == 1)
    }

    /// Every particle's log weight on the tape is log p(x|z) + beta (log p(z) − log q(z)): the
    /// KL part is weighted, the likelihood is not.
    @Test("the surrogate weights the KL part of each log weight", arguments: [0.0, 0.3])
    func surrogateWeightsTheKLPart(_ beta: Double) throws {
        let model = try Self.tinyModel(.vhrnn)
        let batch = try SequenceBatch<Double>(split: Self.split(sequences: 2, length: 5), indices: [0, 1])
        let filter = ParticleFilter(model: model)
        filter.klWeight = beta
        _ = filter.run(batch: batch, settings: FilterSettings(bound: .fivo, particleCount: 3, criterion: .always),
                       seed: 9, keepTape: true)
        var largestKL = 0.0
        for t in 0..<5 {
            let (slab, s) = filter.tapeSlab(t)
            for row in 0..<6 {
                let prior = slab.at(s.logPrior)[row], likelihood = slab.at(s.logLikelihood)[row]
                let proposal = slab.at(s.logProposal)[row]
                #expect(abs(slab.at(s.logAlpha)[row] - (likelihood + beta * (prior - proposal))) <= 1e-12)
                largestKL = max(largestKL, abs(prior - proposal))
            }
        }
        #expect(largestKL > 0.1, "the prior and proposal densities must differ for this test to tell anything")
    }

    /// The ELBO's surrogate is linear in beta (no resampling, the same draws): the value at 0.3 is
    /// 0.7 times the value at 0 plus 0.3 times the bound.
    @Test func elboSurrogateIsLinearInBeta() throws {
        let model = try Self.tinyModel(.vrnn)
        let batch = try SequenceBatch<Double>(split: Self.split(sequences: 3, length: 6), indices: [0, 1, 2])
        let filter = ParticleFilter(model: model)
        func elbo(_ beta: Double) -> [Double] {
            filter.klWeight = beta
            return filter.run(batch: batch, settings: FilterSettings(bound: .elbo, particleCount: 4), seed: 2).bounds
        }
        let atZero = elbo(0), atOne = elbo(1), between = elbo(0.3)
        for b in 0..<3 {
            #expect(abs(between[b] - (0.7 * atZero[b] + 0.3 * atOne[b])) <= 1e-9 * max(1, abs(atOne[b])))
            #expect(atZero[b] > atOne[b], "without the KL penalty the objective is larger")
        }
        filter.klWeight = 1
        #expect(filter.run(batch: batch, settings: FilterSettings(bound: .elbo, particleCount: 4), seed: 2).bounds
                == atOne)
    }

    /// The surrogate's gradient against finite differences of the surrogate (noise and ancestors
    /// fixed), for each bound; beta = 0 and 0.3 both leave the prior and proposal terms a weight
    /// a dropped or unweighted term would get wrong by O(1).
    @Test("surrogate gradient matches finite differences", arguments: [
        (ModelKind.vhrnn, CellKind.lstm, EmissionKind.gaussian, BoundKind.fivo, 0.3),
        (ModelKind.vhrnn, CellKind.gru, EmissionKind.bernoulli, BoundKind.iwae, 0.0),
        (ModelKind.vrnn, CellKind.lstm, EmissionKind.gaussian, BoundKind.elbo, 0.6),
    ])
    func surrogateGradient(_ model: ModelKind, _ cell: CellKind, _ emission: EmissionKind, _ bound: BoundKind,
                           _ beta: Double) throws {
        let c = ModelCheckCase(model: model, cell: cell, hyperInput: .both, emission: emission, bound: bound)
        let report = try ModelGradientCheck.run(configuration: c.configuration, settings: c.settings, klWeight: beta)
        #expect(report.passed, "\(c) beta \(beta): \(report.failures) disagree; \(report.maxRelativeError) at \(report.worstParameter)")
        #expect(report.parametersChecked > 0)
    }

    /// The trainer's step s uses beta = s / N: its loss is the surrogate's at that beta, and a
    /// one-step warm-up is no warm-up at all.
    @Test func trainerStepUsesTheScheduledWeight() throws {
        let data = Self.tinyDataset()
        var options = TrainingOptions()
        options.steps = 3
        options.workers = 1
        options.bound = .elbo
        options.particles = 2
        func firstLoss(warmup: Int?) throws -> Double {
            var o = options
            o.klWarmupSteps = warmup
            let trainer = try Trainer(model: try Self.tinyModel(.vhrnn), dataset: data, options: o, dataSource: "test")
            return try trainer.trainStep(indices: [0, 1, 2, 3])
        }
        // The surrogate loss at beta = 1/10, computed by a filter of its own with the trainer's noise.
        let reference = try Self.tinyModel(.vhrnn)
        let filter = ParticleFilter(model: reference)
        filter.klWeight = 0.1
        let batch = try SequenceBatch<Double>(split: data.train, indices: [0, 1, 2, 3])
        let result = filter.run(batch: batch, settings: FilterSettings(bound: .elbo, particleCount: 2),
                                seed: Trainer<Double>.mix(options.seed, 0))
        let expected = -result.boundsPerStep.reduce(0, +) / 4
        #expect(abs(try firstLoss(warmup: 10) - expected) <= 1e-12 * abs(expected))
        #expect(try firstLoss(warmup: 1) == firstLoss(warmup: nil))
        #expect(try firstLoss(warmup: 10) < firstLoss(warmup: nil))
    }

    @Test func warmupIsRecordedAndValidated() throws {
        let data = Self.tinyDataset()
        var options = TrainingOptions()
        options.klWarmupSteps = 0
        #expect(throws: TrainingError.self) {
            try Trainer(model: try Self.tinyModel(.vrnn), dataset: data, options: options, dataSource: "test")
        }
        options.klWarmupSteps = 50
        #expect(options.asStrings["kl_warmup_steps"] == "50")
        let spec = try JSONDecoder().decode(ExperimentSpec.TrainingProtocol.self,
                                            from: Data(#"{"steps": 10, "klWarmupSteps": 5}"#.utf8))
        #expect(spec.options(seed: 1).klWarmupSteps == 5)
        #expect(spec.options(seed: 1).klWeight(step: 2) == 0.4)
    }
}

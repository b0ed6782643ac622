import Foundation
import Testing
@testable import VHRNN

/// The ELBO's spread (standard error, tail) and the anatomy of its lowest particles.
@Suite struct LogWeightAnatomyTests {
    static func model(_ kind: ModelKind, seed: UInt64 = 4) throws -> SequenceModel<Double> {
        var g = SplitMix64(seed: seed)
        return try SequenceModel<Double>(configuration: ModelConfiguration(model: kind, dataDim: 2, emission: .gaussian, latentDim: 3),
                                         generator: &g)
    }

    static let split: SequenceSplit = {
        let data = SyntheticData.make(setting: .standard, seed: 2).test
        return SequenceSplit(dataDim: 2, inputs: Array(data.inputs.prefix(5)), targets: Array(data.targets.prefix(5)))
    }()

    @Test func spreadOfKnownWeights() {
        var s = ELBOSpread()
        let a: [Double] = [-1, -2, -3, -4], b: [Double] = [-10, -10, -10, -1e12]
        a.withUnsafeBufferPointer { s.add($0) }
        b.withUnsafeBufferPointer { s.add($0) }
        // Means -2.5 and (-30 - 1e12) / 4; sample variances 5/3 and that of b; over 10 steps.
        let meanB = b.reduce(0, +) / 4, varB = b.reduce(0) { $0 + ($1 - meanB) * ($1 - meanB) } / 3
        #expect(abs(s.elbo(steps: 10) - (-2.5 + meanB) / 10) < 1e-3)
        #expect(abs(s.standardError(steps: 10) - ((5.0 / 3 + varB) / 4).squareRoot() / 10) < 1e-3 * varB.squareRoot())
        #expect(s.tailCount == 1)
        #expect(s.withoutTail(steps: 10) == (-2.5 - 10) / 10)  // the −1e12 particle is left out
        #expect(ELBOSpread.dominatedByTail(elbo: s.elbo(steps: 10), withoutTail: s.withoutTail(steps: 10)))
        #expect(!ELBOSpread.dominatedByTail(elbo: -21.5, withoutTail: -20.2))
        let lowest = s.lowest(2)
        #expect(lowest[0].sequence == 1 && lowest[0].particle == 3 && lowest[0].weight == -1e12)
        #expect(lowest[1].sequence == 1 && lowest[1].weight == -10)
    }

    @Test(arguments: [ModelKind.vrnn, .vhrnn])
    func anatomyAgreesWithTheEvaluator(kind: ModelKind) throws {
        let m = try Self.model(kind)
        let evaluation = try Evaluator.evaluate(model: m, split: Self.split, particles: 6, bounds: [.elbo], seed: 9, maxRows: 12)
        let a = try LogWeightAnatomy.compute(model: m, split: Self.split, particles: 6, seed: 9, keep: 4)
        // Same noise (keyed by sequence index), so the same ELBO, standard error and tail,
        // though the evaluator batches two sequences at a time and the anatomy one.
        #expect(abs(a.elbo - evaluation.elbo!) < 1e-9 * abs(a.elbo))
        #expect(abs(a.elboStandardError - evaluation.elboStandardError!) < 1e-9 * a.elboStandardError)
        #expect(abs(a.elboWithoutTail - evaluation.elboWithoutTail!) < 1e-9 * abs(a.elboWithoutTail))
        #expect(a.elboStandardError > 0)
        #expect(a.worst.count == 4)
        #expect(zip(a.worst, a.worst.dropFirst()).allSatisfy { $0.logWeight <= $1.logWeight })
        for p in a.worst {
            // The three sums make the log weight; the worst step's terms are finite and the
            // sigmas at least the floor.
            #expect(abs(p.logPrior + p.logLikelihood - p.logProposal - p.logWeight) < 1e-9 * abs(p.logWeight))
            #expect(p.worstLogLikelihood.isFinite && p.worstLogPrior.isFinite && p.worstLogProposal.isFinite)
            #expect(p.emissionSigma >= m.configuration.sigmaMin && p.priorSigma >= m.configuration.sigmaMin)
            #expect(["emission", "prior", "proposal"].contains(p.dominantTerm))
            #expect(p.worstStep >= 0 && p.worstStep < Self.split.maxLength)
        }
        #expect(a.particleSteps == 6 * Self.split.totalSteps)
    }

    @Test func aSigmaAtTheFloorIsFoundAndBlamed() throws {
        // Push the emission's raw scale output far negative: every emission sigma sits at the
        // floor, the frames are thousands of sigmas from the mean, and the anatomy must say so.
        let m = try Self.model(.vrnn)
        let bias = m.parameters.layout.tensors.last { $0.name.hasPrefix("emission.") && $0.name.hasSuffix(".bias") }!
        let D = 2
        for i in (bias.count - D)..<bias.count { m.parameters.values[bias.offset + i] = -40 }
        let a = try LogWeightAnatomy.compute(model: m, split: Self.split, particles: 4, keep: 3)
        #expect(a.emissionSigmaAtFloor == a.particleSteps)
        for p in a.worst {
            #expect(p.dominantTerm == "emission")
            #expect(p.emissionSigma == m.configuration.sigmaMin)
            #expect(p.emissionError > 1000)
        }
    }
}

import Foundation
import Testing
@testable import VHRNN

/// The two step semantics (``StepSemantics``): what differs, what does not, and how old
/// configurations decode. Their gradients are in ModelGradientTests.
@Suite("Step semantics")
struct StepSemanticsTests {
    static func model(_ kind: ModelKind, cell: CellKind = .lstm, hyperInput: HyperInput = .both,
                      semantics: StepSemantics, seed: UInt64 = 4) throws -> SequenceModel<Double> {
        var rng = SplitMix64(seed: seed)
        let config = ModelConfiguration(model: kind, cell: cell, dataDim: 3, emission: .bernoulli, latentDim: 2,
                                        hiddenDim: 4, hyperDim: 3, fcLayers: 1, omegaHidden: 5,
                                        hyperInput: hyperInput, semantics: semantics)
        let model = try SequenceModel<Double>(configuration: config, generator: &rng)
        // Off the initial values, so the hyper heads are not exact identities.
        for i in 0..<model.parameters.count { model.parameters.values[i] += 0.3 * (2 * rng.nextUnitDouble() - 1) }
        return model
    }

    static func binarySequences(_ lengths: [Int], seed: UInt64 = 7) -> [[Double]] {
        var rng = SplitMix64(seed: seed)
        return lengths.map { len in (0..<(len * 3)).map { _ in rng.nextUnitDouble() < 0.4 ? 1.0 : 0.0 } }
    }

    /// FIVO's h'_0 is g([phi_x(0), 0], 0): the state a standard-semantics step 0 produces when its
    /// input frame is 0 and phi_z's output is forced to 0 (and theta reads only h_{-1} = 0).
    @Test("FIVO's initial state is one recurrence step from zero", arguments: [
        (ModelKind.vrnn, CellKind.lstm), (.vrnn, .gru), (.vhrnn, .lstm), (.vhrnn, .gru),
    ])
    func initialStateIsOneStepFromZero(_ kind: ModelKind, _ cell: CellKind) throws {
        let fivo = try Self.model(kind, cell: cell, hyperInput: .hidden, semantics: .fivo)
        var config = fivo.configuration
        config.semantics = .standard
        var rng = SplitMix64(seed: 1)
        let standard = try SequenceModel<Double>(configuration: config, generator: &rng)
        standard.parameters.values.update(from: fivo.parameters.values, count: fivo.parameters.count)
        // phi_z's output layer to zero: the "zero latent encoding" FIVO starts from.
        let last = standard.architecture.phiZ.layers.last!
        (standard.parameters.values + last.weight).update(repeating: 0, count: last.inDim * last.outDim)
        (standard.parameters.values + last.bias).update(repeating: 0, count: last.outDim)

        let targets = Self.binarySequences([3])
        var inputs = targets.map { $0.map { $0 - 0.25 } }
        for d in 0..<3 { inputs[0][d] = 0 }  // a zero (centred) first frame
        let batch = try SequenceBatch<Double>(split: SequenceSplit(dataDim: 3, inputs: inputs, targets: targets),
                                              indices: [0])
        let settings = FilterSettings(bound: .iwae, particleCount: 2)
        let fivoFilter = ParticleFilter(model: fivo), standardFilter = ParticleFilter(model: standard)
        _ = fivoFilter.run(batch: batch, settings: settings, seed: 3, keepTape: true)
        _ = standardFilter.run(batch: batch, settings: settings, seed: 3, keepTape: true)
        let initial = fivoFilter.stateInputs(0)
        let (slab, slots) = standardFilter.tapeSlab(0)
        let H = config.hiddenDim, Hh = config.hyperDim
        var largest = 0.0
        for r in 0..<2 {
            for j in 0..<H {
                largest = max(largest, abs(initial.h[r * H + j] - slab.at(slots.recurrence.cell.h)[r * H + j]))
                if cell == .lstm { largest = max(largest, abs(initial.c[r * H + j] - slab.at(slots.recurrence.cell.c!)[r * H + j])) }
            }
            if let theta = slots.recurrence.theta {
                for j in 0..<Hh {
                    largest = max(largest, abs(initial.hyperH[r * Hh + j] - slab.at(theta.h)[r * Hh + j]))
                }
            }
        }
        #expect(largest <= 1e-14, "initial state differs by \(largest)")
        #expect((0..<H).contains { initial.h[$0] != 0 }, "the initial state must not be zero")
    }

    /// Over one step nothing reads the inputs under FIVO semantics (the proposal reads the raw
    /// target, the initial state phi_x(0)); under standard semantics the proposal reads them.
    @Test func fivoProposalReadsTheRawFrame() throws {
        for kind in ModelKind.allCases {
            let targets = Self.binarySequences([1, 1])
            let centred = SequenceSplit(dataDim: 3, inputs: targets.map { $0.map { $0 - 0.3 } }, targets: targets)
            let raw = SequenceSplit(dataDim: 3, inputs: targets, targets: targets)
            func bounds(_ semantics: StepSemantics, _ split: SequenceSplit) throws -> [Double] {
                let filter = ParticleFilter(model: try Self.model(kind, semantics: semantics))
                let batch = try SequenceBatch<Double>(split: split, indices: [0, 1])
                return filter.run(batch: batch, settings: FilterSettings(bound: .iwae, particleCount: 4), seed: 9).bounds
            }
            #expect(try bounds(.fivo, centred) == bounds(.fivo, raw), "\(kind)")
            #expect(try bounds(.standard, centred) != bounds(.standard, raw), "\(kind)")
            #expect(try bounds(.fivo, raw) != bounds(.standard, raw), "\(kind): the initial states must differ")
        }
    }

    /// The bound identities hold under FIVO semantics too.
    @Test func fivoSemanticsKeepsTheBoundIdentities() throws {
        let model = try Self.model(.vhrnn, semantics: .fivo)
        let targets = Self.binarySequences([6, 4])
        let split = SequenceSplit(dataDim: 3, inputs: targets.map { $0.map { $0 - 0.3 } }, targets: targets)
        let batch = try SequenceBatch<Double>(split: split, indices: [0, 1])
        let filter = ParticleFilter(model: model)
        let fivo1 = filter.run(batch: batch, settings: FilterSettings(bound: .fivo, particleCount: 1), seed: 2).bounds
        let elbo = filter.run(batch: batch, settings: FilterSettings(bound: .elbo, particleCount: 1), seed: 2).bounds
        for (a, b) in zip(fivo1, elbo) { #expect(abs(a - b) <= 1e-12 * max(1, abs(a))) }
        let never = filter.run(batch: batch, settings: FilterSettings(bound: .fivo, particleCount: 5, criterion: .never),
                               seed: 2).bounds
        let iwae = filter.run(batch: batch, settings: FilterSettings(bound: .iwae, particleCount: 5), seed: 2).bounds
        #expect(never == iwae)
    }

    /// Generation from the prior starts from the same initial state the filter uses.
    @Test func samplerStartsFromTheInitialState() throws {
        let fivo = try Self.model(.vhrnn, semantics: .fivo)
        var config = fivo.configuration
        config.semantics = .standard
        var rng = SplitMix64(seed: 1)
        let standard = try SequenceModel<Double>(configuration: config, generator: &rng)
        standard.parameters.values.update(from: fivo.parameters.values, count: fivo.parameters.count)
        let a = SequenceSampler(model: fivo).sample(count: 3, steps: 5, seed: 11, output: .mean)
        let b = SequenceSampler(model: standard).sample(count: 3, steps: 5, seed: 11, output: .mean)
        #expect(a.count == 3 && a.allSatisfy { $0.count == 15 && $0.allSatisfy(\.isFinite) })
        #expect(a != b)
    }

    @Test func configurationsWithoutTheFieldDecodeAsStandard() throws {
        let config = ModelConfiguration(model: .vrnn, dataDim: 2, emission: .gaussian, latentDim: 3, semantics: .fivo)
        #expect(config.semantics == .fivo)
        let encoded = try JSONEncoder().encode(config)
        #expect(try JSONDecoder().decode(ModelConfiguration.self, from: encoded) == config)
        var object = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
        #expect(object["semantics"] as? String == "fivo")
        object.removeValue(forKey: "semantics")
        let old = try JSONDecoder().decode(ModelConfiguration.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(old.semantics == .standard)
        var expected = config
        expected.semantics = .standard
        #expect(old == expected)
    }
}

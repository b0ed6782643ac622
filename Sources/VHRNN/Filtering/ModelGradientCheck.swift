/// A float64 finite-difference check of a whole model's bound: the analytic gradient from
/// ``ParticleFilter/backward(boundGradients:)`` against central differences of the bound, with
/// the noise (same seed) and the resampling decisions and ancestors (replayed plan) fixed, so
/// the bound is a deterministic function of the parameters (DESIGN §4).
///
/// Error per parameter: |analytic − numeric| / max(|analytic|, |numeric|, 1e-2), h = 1e-5.
/// A ReLU whose input crosses zero inside [θ − h, θ + h] makes the bound non-differentiable
/// there; such parameters are detected (the pattern of active units changes between the two
/// evaluations) and reported as skipped rather than compared.
public enum ModelGradientCheck {
    public struct Report: Codable, Sendable {
        public var maxRelativeError: Double
        public var parametersChecked: Int
        public var parametersSkipped: Int
        public var resamplingEvents: Int
        public var worstParameter: String

        enum CodingKeys: String, CodingKey {
            case maxRelativeError = "max_rel_error", parametersChecked = "parameters_checked"
            case parametersSkipped = "parameters_skipped", resamplingEvents = "resampling_events"
            case worstParameter = "worst_parameter"
        }
    }

    public static let step = 1e-5
    public static let absoluteFloor = 1e-2

    /// Checks `configuration`'s bound on a small random batch.
    /// - Parameters:
    ///   - configuration: keep it tiny (every parameter costs two filter passes).
    ///   - settings: FIVO with `.always` makes resampling happen at every step.
    ///   - lengths: the batch's sequence lengths (unequal ones exercise the masks).
    public static func run(configuration: ModelConfiguration, settings: FilterSettings, lengths: [Int] = [4, 3],
                           seed: UInt64 = 1) throws -> Report {
        var rng = SplitMix64(seed: seed)
        let model = try SequenceModel<Double>(configuration: configuration, generator: &rng)
        // Move every parameter off its initial value (hyper heads start at exact zeros/ones,
        // where some gradients vanish), so each term of the backward is exercised.
        let store = model.parameters
        for i in 0..<store.count { store.values[i] += 0.3 * (2 * rng.nextUnitDouble() - 1) }

        let d = configuration.dataDim
        let sequences: [[Double]] = lengths.map { len in
            (0..<(len * d)).map { _ in
                configuration.emission == .bernoulli ? (rng.nextUnitDouble() < 0.3 ? 1 : 0) : rng.nextStandardNormal()
            }
        }
        // Inputs offset from the targets, as centred piano rolls are: the check then tells
        // which of the two each component reads (FIVO's proposal reads the targets).
        let split = SequenceSplit(dataDim: d, inputs: sequences.map { $0.map { $0 - 0.3 } }, targets: sequences)
        let batch = try SequenceBatch<Double>(split: split, indices: Array(0..<lengths.count))
        let weights = lengths.map { _ in rng.nextStandardNormal() }
        let filterSeed = rng.next()

        let filter = ParticleFilter(model: model)
        let result = filter.run(batch: batch, settings: settings, seed: filterSeed, keepTape: true)
        let plan = filter.recordedPlan
        store.zeroGradients()
        filter.backward(boundGradients: weights)
        let analytic = store.gradientValues

        func evaluate() -> (Double, UInt64) {
            let r = filter.run(batch: batch, settings: settings, seed: filterSeed, keepTape: true, replay: plan)
            return (zip(r.bounds, weights).reduce(0) { $0 + $1.0 * $1.1 }, filter.activationPattern())
        }
        let basePattern = evaluate().1
        var report = Report(maxRelativeError: 0, parametersChecked: 0, parametersSkipped: 0,
                            resamplingEvents: result.resamplingEvents, worstParameter: "")
        for tensor in store.layout.tensors {
            for j in 0..<tensor.count {
                let i = tensor.offset + j
                let original = store.values[i]
                store.values[i] = original + step
                let (plus, patternPlus) = evaluate()
                store.values[i] = original - step
                let (minus, patternMinus) = evaluate()
                store.values[i] = original
                if patternPlus != basePattern || patternMinus != basePattern {
                    report.parametersSkipped += 1
                    continue
                }
                let numeric = (plus - minus) / (2 * step)
                let error = abs(analytic[i] - numeric) / max(abs(analytic[i]), abs(numeric), absoluteFloor)
                report.parametersChecked += 1
                if !(error <= report.maxRelativeError) {
                    report.maxRelativeError = error.isNaN ? .infinity : error
                    report.worstParameter = "\(tensor.name)[\(j)]: analytic \(analytic[i]), numeric \(numeric)"
                }
            }
        }
        return report
    }
}

extension ParticleFilter {
    /// A digest of which ReLU units were active in the last taped pass (every hidden layer of
    /// every MLP at every step). Equal digests mean the pass took the same linear pieces.
    func activationPattern() -> UInt64 {
        guard let w = workspace else { return 0 }
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ base: UnsafeMutablePointer<S>, _ slot: Slot, rows: Int) {
            let p = base.at(slot)
            for i in 0..<(rows * slot.width) {
                hash = (hash ^ (p[i] > 0 ? 1 : 0)) &* 0x0000_0100_0000_01B3
            }
        }
        let s = w.slots
        for slot in w.sequenceSlots.hidden + (w.rawSequenceSlots?.hidden ?? []) {
            mix(w.sequenceTape, slot, rows: lastSteps * w.sequences)
        }
        if let initial = w.initialState {
            var stacks = [initial.slots.phiX]
            if let head = initial.slots.thetaHead { stacks.append(head) }
            for stack in stacks { for slot in stack.hidden { mix(initial.slab, slot, rows: 1) } }
        }
        for t in 0..<(w.withTape ? lastSteps : 0) {
            let slab = w.slab(t)
            for stack in [s.prior, s.proposal, s.phiZ, s.emission] + (s.omega.map { [$0] } ?? []) {
                for slot in stack.hidden { mix(slab, slot, rows: w.rows) }
            }
        }
        return hash
    }
}

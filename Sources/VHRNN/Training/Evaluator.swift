/// One value per ``BoundKind`` as optional stored fields (what the results files store), read
/// and written by bound: code that handles bounds iterates `BoundKind.allCases` and uses the
/// subscript, so a new bound is a new field here and nothing else.
public protocol PerBoundValues {
    var elbo: Double? { get set }
    var iwae: Double? { get set }
    var fivo: Double? { get set }
}

extension PerBoundValues {
    /// The value of `bound` (nil: not computed).
    public subscript(bound: BoundKind) -> Double? {
        get {
            switch bound {
            case .elbo: return elbo
            case .iwae: return iwae
            case .fivo: return fivo
            }
        }
        set {
            switch bound {
            case .elbo: elbo = newValue
            case .iwae: iwae = newValue
            case .fivo: fivo = newValue
            }
        }
    }
}

/// Bounds per time step over a whole split: the paper's metric, Σ log Ẑ / Σ T
/// (<doc:BoundsAndResampling>).
public struct SplitEvaluation: Codable, Sendable, Equatable, PerBoundValues {
    public var elbo: Double?
    public var iwae: Double?
    public var fivo: Double?
    /// The ELBO's Monte Carlo standard error per step (nil without the ELBO; see ``ELBOSpread``).
    public var elboStandardError: Double?
    /// The ELBO per step without the lowest 0.1% (at least one) of the split's particle log weights.
    public var elboWithoutTail: Double?
    /// How many particles ``elboWithoutTail`` leaves out.
    public var elboTailCount: Int?

    /// True when the lowest 0.1% of particles carry more than half of the ELBO: the estimate
    /// says more about a handful of particles than about the model; read IWAE and FIVO instead.
    public var elboDominatedByTail: Bool {
        guard let elbo, let elboWithoutTail else { return false }
        return ELBOSpread.dominatedByTail(elbo: elbo, withoutTail: elboWithoutTail)
    }
    /// Total time steps in the split.
    public var steps: Int
    public var sequences: Int
    public var particles: Int
}

/// Evaluates bounds on a split without keeping a tape (memory does not grow with T), in
/// batches of sequences sized so that sequences × particles stays under `maxRows`.
public enum Evaluator {
    /// - Parameters:
    ///   - bounds: which bounds to compute (each is its own pass; the same seed gives them the
    ///     same noise).
    ///   - maxRows: cap on sequences × particles per pass (K = 1024 runs one sequence at a time).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func evaluate<S: KernelScalar>(
        model: SequenceModel<S>, split: SequenceSplit, particles: Int, bounds: [BoundKind] = BoundKind.allCases,
        criterion: ResamplingCriterion = .default, scheme: ResamplingScheme = .multinomial, seed: UInt64 = 0,
        maxRows: Int = 4096, progress: ((Int, Int) -> Void)? = nil
    ) throws -> SplitEvaluation {
        precondition(particles >= 1)
        var result = SplitEvaluation(steps: split.totalSteps, sequences: split.count, particles: particles)
        let perBatch = max(1, min(split.count, maxRows / particles))
        // Longest first: batches of similar lengths waste less on padding.
        let order = (0..<split.count).sorted { split.length(of: $0) > split.length(of: $1) }
        let bytes = ParticleFilter<S>.estimatedBytes(architecture: model.architecture, steps: split.maxLength,
                                                      sequences: perBatch, particles: particles, withTape: false)
        guard bytes <= 16e9 else {
            throw TrainingError(message: String(format: "evaluating %d particles needs %.1f GB of filter buffers; lower --particles", particles, bytes / 1e9))
        }
        let filter = ParticleFilter(model: model)
        for (i, bound) in bounds.enumerated() {
            let settings = FilterSettings(bound: bound, particleCount: particles, criterion: criterion, scheme: scheme)
            var total = 0.0
            var spread = ELBOSpread()
            var particleWeights = [Double](repeating: 0, count: particles)
            var start = 0
            while start < order.count {
                let indices = Array(order[start..<min(start + perBatch, order.count)])
                let batch = try SequenceBatch<S>(split: split, indices: indices)
                total += filter.run(batch: batch, settings: settings, seed: seed).bounds.reduce(0, +)
                if bound == .elbo {
                    // The ELBO never resamples: the final accumulated log weights are each
                    // particle's Σ_t log α_t, rows sequence-major.
                    let w = filter.finalStep().logWeights
                    for j in 0..<indices.count {
                        for k in 0..<particles { particleWeights[k] = Double(w[j * particles + k]) }
                        particleWeights.withUnsafeBufferPointer { spread.add($0) }
                    }
                }
                start += indices.count
                progress?(i * order.count + start, bounds.count * order.count)
            }
            result[bound] = total / Double(result.steps)
            if bound == .elbo {
                result.elboStandardError = spread.standardError(steps: result.steps)
                result.elboWithoutTail = spread.withoutTail(steps: result.steps)
                result.elboTailCount = spread.tailCount
            }
        }
        return result
    }
}

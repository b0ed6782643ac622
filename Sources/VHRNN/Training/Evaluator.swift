/// Bounds per time step over a whole split: the paper's metric, Σ log Ẑ / Σ T (DESIGN §4).
public struct SplitEvaluation: Codable, Sendable, Equatable {
    public var elbo: Double?
    public var iwae: Double?
    public var fivo: Double?
    /// Total time steps in the split.
    public var steps: Int
    public var sequences: Int
    public var particles: Int

    public subscript(bound: BoundKind) -> Double? {
        switch bound {
        case .elbo: return elbo
        case .iwae: return iwae
        case .fivo: return fivo
        }
    }
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
        let bytes = FilterWorkspace<S>.estimatedBytes(architecture: model.architecture, steps: split.maxLength,
                                                      sequences: perBatch, particles: particles, withTape: false)
        guard bytes <= 16e9 else {
            throw TrainingError(message: String(format: "evaluating %d particles needs %.1f GB of filter buffers; lower --particles", particles, bytes / 1e9))
        }
        let filter = ParticleFilter(model: model)
        for (i, bound) in bounds.enumerated() {
            let settings = FilterSettings(bound: bound, particleCount: particles, criterion: criterion, scheme: scheme)
            var total = 0.0
            var start = 0
            while start < order.count {
                let indices = Array(order[start..<min(start + perBatch, order.count)])
                let batch = try SequenceBatch<S>(split: split, indices: indices)
                total += filter.run(batch: batch, settings: settings, seed: seed).bounds.reduce(0, +)
                start += indices.count
                progress?(i * order.count + start, bounds.count * order.count)
            }
            let perStep = total / Double(result.steps)
            switch bound {
            case .elbo: result.elbo = perStep
            case .iwae: result.iwae = perStep
            case .fivo: result.fivo = perStep
            }
        }
        return result
    }
}

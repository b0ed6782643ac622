/// One value per ``BoundKind`` as optional stored fields (what the results files store), read
/// and written by bound: code that handles bounds iterates `BoundKind.allCases` and uses the
/// subscript, so a new bound is a new field here and nothing else.
public protocol PerBoundValues {
    /// The ``BoundKind/elbo`` value, or nil when it was not computed.
    var elbo: Double? { get set }
    /// The ``BoundKind/iwae`` value, or nil when it was not computed.
    var iwae: Double? { get set }
    /// The ``BoundKind/fivo`` value, or nil when it was not computed.
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

/// Bounds per time step over a whole split: the paper's metric, Σ log Ẑ / Σ T (see
/// <doc:BoundsAndResampling>).
///
/// Each bound is the sum over the split's sequences of the per-sequence bound, divided by the
/// split's total number of steps (not the mean of per-sequence rates), so long sequences
/// weigh in proportion to their length. A bound that was not asked for is nil.
public struct SplitEvaluation: Codable, Sendable, Equatable, PerBoundValues {
    /// The ELBO per step (the mean over particles of each particle's summed log weights), or nil.
    public var elbo: Double?
    /// The IWAE bound per step (log Ẑ of a filter that never resamples), or nil.
    public var iwae: Double?
    /// The FIVO bound per step (log Ẑ of a resampling filter), or nil.
    public var fivo: Double?
    /// The ELBO's Monte Carlo standard error per step: sqrt(Σ_s var_k(W_s) / K) / Σ T, with
    /// var_k the sample variance of sequence s's K particle log weights W_s (nil without the
    /// ELBO).
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
    /// Sequences in the split.
    public var sequences: Int
    /// K, the particles each sequence was filtered with.
    public var particles: Int
}

/// Evaluates bounds on a split without keeping a tape (memory does not grow with T), in
/// batches of sequences sized so that sequences × particles stays under `maxRows`.
///
/// Sequences are batched longest first, so a batch wastes little on padding. Each sequence's
/// noise depends only on the seed and its index in the split, so it sees the same noise
/// whichever batch it lands in.
public enum Evaluator {
    /// Computes the requested bounds per time step on `split`.
    ///
    /// - Parameters:
    ///   - model: the model to score (its parameters are only read).
    ///   - split: the sequences to score, e.g. `dataset.test`.
    ///   - particles: K per sequence (the paper evaluates with 128 for music, 1024 for the
    ///     stock and sensor data).
    ///   - bounds: which bounds to compute (each is its own pass; the same seed gives them the
    ///     same noise).
    ///   - criterion: when FIVO resamples (ignored by ELBO and IWAE).
    ///   - scheme: how FIVO draws ancestors.
    ///   - seed: the noise seed of every pass.
    ///   - maxRows: cap on sequences × particles per pass (K = 1024 runs one sequence at a time
    ///     at the default).
    ///   - progress: called after every batch with (sequences done, sequences in all), both
    ///     counted over all the requested bounds.
    /// - Returns: the bounds per step, with the ELBO's standard error and tail figures when the
    ///   ELBO was computed.
    /// - Throws: ``TrainingError`` when the filter buffers of one batch would exceed 16 GB;
    ///   ``BatchError`` when a sequence is empty or holds a non-finite value.
    /// - Complexity: time O(Σ T · K) model steps per bound. Memory: two step slabs of at
    ///   most max(`maxRows`, K) rows (no tape), plus the batch's frames and their encodings.
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

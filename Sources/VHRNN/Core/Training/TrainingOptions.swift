/// How a model is trained (paper appendix C; see <doc:TrainingAndEvaluation>): Adam on
/// −mean_b(bound_b / T_b), batches of sequences, K particles, validation by FIVO per step.
public struct TrainingOptions: Codable, Sendable, Equatable {
    /// The bound whose negative per-step mean is the loss (default FIVO, as in the paper; ELBO
    /// and IWAE train the same way, IWAE without resampling and the ELBO with its mean over the
    /// particles).
    public var bound: BoundKind = .fivo
    /// K, the particles per training sequence (the paper trains with 4).
    public var particles = 4
    /// Sequences per training step (the paper uses 4). The last batch of an epoch is smaller
    /// when the training split is not a multiple of it.
    public var batchSize = 4
    /// Adam step size. Our choice: 1e-3 (FIVO's runs used 2e-4 to 3e-5 over far longer
    /// budgets; at the step counts this tool targets the larger rate trains much faster, and
    /// the best model is kept by validation so late noise does not hurt).
    public var learningRate = 1e-3
    /// Global gradient-norm clipping (nil: none).
    public var clipNorm: Double? = nil
    /// Training steps (batches); takes precedence over `epochs`.
    public var steps: Int? = nil
    /// Passes over the training split when `steps` is nil (nil too: 10 epochs); see
    /// ``totalSteps(trainCount:)``.
    public var epochs: Int? = nil
    /// Validate (and write the last checkpoint) every this many steps.
    public var validateEvery = 200
    /// Particles for validation FIVO.
    public var validationParticles = 4
    /// Stop after this many validations without improvement (nil: never).
    public var patience: Int? = nil
    /// When a FIVO filter resamples, in training and validation (default: ESS ≤ K/2). Ignored
    /// by the ELBO and IWAE, which never resample.
    public var criterion: ResamplingCriterion = .default
    /// How a FIVO filter draws ancestors, in training and validation (default multinomial,
    /// FIVO's scheme).
    public var scheme: ResamplingScheme = .multinomial
    /// The run's seed: the batch order of every epoch, the filter noise of every step and the
    /// validation noise are derived from it (the initial weights are drawn by the generator
    /// given to ``SequenceModel/init(configuration:outputBias:generator:)``).
    public var seed: UInt64 = 0
    /// Data-parallel workers per training step (each takes a share of the batch's sequences);
    /// nil: one per kernel thread. Results are deterministic for a fixed worker count.
    public var workers: Int? = nil
    /// KL warm-up (nil: none, the paper's protocol). Over the first this many steps the weight
    /// beta of log p(z) − log q(z) in every particle's log weight rises linearly, beta = s / N at
    /// step s = 1 … N, then stays 1 (``klWeight(step:)``); the loss of those steps is the
    /// surrogate's, validation and every evaluation the bound's. Our addition (Bowman et al.
    /// 2016; Sønderby et al. 2016), a remedy for the posterior collapse some runs fall into
    /// (docs/CHOICES.md).
    public var klWarmupSteps: Int? = nil
    /// A step whose loss or gradient is not finite is not applied; after this many such steps
    /// in a row training stops with an error naming the step and the first non-finite tensor.
    public var maxNonFiniteSteps = 10

    /// The defaults: FIVO, K = 4, batches of 4, Adam at 1e-3, validation FIVO with K = 4 every
    /// 200 steps, no clipping, no early stopping, 10 epochs, seed 0.
    public init() {}

    /// The step budget for a training split of `trainCount` sequences: ``steps`` when set,
    /// otherwise ``epochs`` (default 10) times ⌈`trainCount` / ``batchSize``⌉.
    ///
    /// - Parameter trainCount: sequences in the training split.
    /// - Returns: the number of training steps (batches) a run takes if nothing stops it early.
    public func totalSteps(trainCount: Int) -> Int {
        if let steps { return steps }
        let perEpoch = (trainCount + batchSize - 1) / batchSize
        return perEpoch * (epochs ?? 10)
    }

    /// beta for training step `step` (1-based: the first step is 1): `min(1, step / N)` with N =
    /// ``klWarmupSteps``, and 1 without a warm-up.
    ///
    /// - Parameter step: the step about to run, counting from 1.
    /// - Returns: the weight of the KL part of the log weights in that step's loss.
    public func klWeight(step: Int) -> Double {
        guard let n = klWarmupSteps, n > 0 else { return 1 }
        return min(1, Double(max(step, 0)) / Double(n))
    }

    /// Options as strings, for the checkpoint's training state.
    var asStrings: [String: String] {
        var o = ["bound": bound.rawValue, "particles": "\(particles)", "batch_size": "\(batchSize)",
                 "learning_rate": "\(learningRate)", "validate_every": "\(validateEvery)",
                 "validation_particles": "\(validationParticles)", "criterion": criterion.description,
                 "scheme": scheme.rawValue, "seed": "\(seed)"]
        if let clipNorm { o["clip_norm"] = "\(clipNorm)" }
        if let steps { o["steps"] = "\(steps)" }
        if let epochs { o["epochs"] = "\(epochs)" }
        if let patience { o["patience"] = "\(patience)" }
        if let klWarmupSteps { o["kl_warmup_steps"] = "\(klWarmupSteps)" }
        o["max_nonfinite_steps"] = "\(maxNonFiniteSteps)"
        return o
    }

    /// The keys of ``asStrings`` that are written only when set: absent from a checkpoint they
    /// mean unset. The others are always written, so an absent one is from an older version.
    static let optionalKeys: Set<String> = ["clip_norm", "steps", "epochs", "patience", "kl_warmup_steps"]

    /// Where these options differ from those a checkpoint's training state was trained with, by
    /// the checkpoint's key (`learning_rate`, `clip_norm`, …), sorted; the state's counters
    /// (best step, stale validations, skipped steps) are not options and never differ.
    ///
    /// - Parameter state: a `last/` checkpoint's training state.
    /// - Returns: (key, value in the checkpoint, value now), `unset` for an option not given.
    public func differences(from state: TrainingState) -> [(key: String, checkpoint: String, now: String)] {
        let now = asStrings
        let keys = Set(now.keys).union(state.options.keys.filter(Self.optionalKeys.contains))
        return keys.sorted().compactMap { key in
            let then = state.options[key]
            if then == nil && !Self.optionalKeys.contains(key) { return nil }
            return then == now[key] ? nil : (key, then ?? "unset", now[key] ?? "unset")
        }
    }
}

/// How a model is trained (paper appendix C / DESIGN §6): Adam on −mean_b(bound_b / T_b),
/// batches of sequences, K particles, validation by FIVO per step.
public struct TrainingOptions: Codable, Sendable, Equatable {
    public var bound: BoundKind = .fivo
    public var particles = 4
    public var batchSize = 4
    /// Adam step size. Our choice: 1e-3 (FIVO's runs used 2e-4 to 3e-5 over far longer
    /// budgets; at the step counts this tool targets the larger rate trains much faster, and
    /// the best model is kept by validation so late noise does not hurt).
    public var learningRate = 1e-3
    /// Global gradient-norm clipping (nil: none).
    public var clipNorm: Double? = nil
    /// Training steps (batches); takes precedence over `epochs`.
    public var steps: Int? = nil
    public var epochs: Int? = nil
    /// Validate (and write the last checkpoint) every this many steps.
    public var validateEvery = 200
    /// Particles for validation FIVO.
    public var validationParticles = 4
    /// Stop after this many validations without improvement (nil: never).
    public var patience: Int? = nil
    public var criterion: ResamplingCriterion = .default
    public var scheme: ResamplingScheme = .multinomial
    public var seed: UInt64 = 0
    /// Data-parallel workers per training step (each takes a share of the batch's sequences);
    /// nil: one per kernel thread. Results are deterministic for a fixed worker count.
    public var workers: Int? = nil
    /// A step whose loss or gradient is not finite is not applied; after this many such steps
    /// in a row training stops with an error naming the step and the first non-finite tensor.
    public var maxNonFiniteSteps = 10

    public init() {}

    /// The step budget for a training split of `count` sequences.
    public func totalSteps(trainCount: Int) -> Int {
        if let steps { return steps }
        let perEpoch = (trainCount + batchSize - 1) / batchSize
        return perEpoch * (epochs ?? 10)
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
        o["max_nonfinite_steps"] = "\(maxNonFiniteSteps)"
        return o
    }
}

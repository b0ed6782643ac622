/// How a bound is computed: the bound, the particle count and, for FIVO, when and how to
/// resample.
public struct FilterSettings: Codable, Sendable, Equatable {
    /// The bound the filter computes: ELBO, IWAE or FIVO.
    public var bound: BoundKind
    /// K, the particles per sequence (at least 1).
    public var particleCount: Int
    /// When to resample. Applied only by a bound that ``BoundKind/resamples`` (FIVO); ELBO and
    /// IWAE never resample, whatever it says.
    public var criterion: ResamplingCriterion
    /// How to draw the ancestors when the filter resamples (unused otherwise).
    public var scheme: ResamplingScheme

    /// Settings for one bound.
    /// - Parameters:
    ///   - bound: the bound to compute.
    ///   - particleCount: K; must be at least 1 (a precondition).
    ///   - criterion: when to resample (FIVO only); default ESS ≤ K/2
    ///     (``ResamplingCriterion/default``).
    ///   - scheme: how to resample (FIVO only); default multinomial, FIVO's scheme.
    public init(bound: BoundKind, particleCount: Int, criterion: ResamplingCriterion = .default,
                scheme: ResamplingScheme = .multinomial) {
        precondition(particleCount >= 1, "at least one particle")
        self.bound = bound
        self.particleCount = particleCount
        self.criterion = criterion
        self.scheme = scheme
    }

    /// The criterion actually applied: only a bound that ``BoundKind/resamples`` uses it.
    var effectiveCriterion: ResamplingCriterion { bound.resamples ? criterion : .never }
}

/// What one filter pass computed, per sequence of the batch.
public struct FilterResult: Sendable {
    /// The bound summed over each sequence's steps (log Ẑ for IWAE/FIVO, the ELBO for ELBO).
    public var bounds: [Double]
    /// Each sequence's length.
    public var lengths: [Int]
    /// How many (sequence, step) resampling events happened.
    public var resamplingEvents: Int

    /// The bound divided by each sequence's length.
    public var boundsPerStep: [Double] { zip(bounds, lengths).map { $0 / Double($1) } }
}

/// The resampling decisions and ancestors of one pass, to replay them: with the same noise
/// and this plan, a bound is a deterministic, differentiable function of the parameters
/// (ancestor indices are constants; <doc:BoundsAndResampling#Gradients>).
///
/// Recorded by ``ParticleFilter/recordedPlan`` and passed back as the `replay` argument of
/// ``ParticleFilter/run(batch:settings:seed:keepTape:replay:)``, whose batch must have the
/// same sequences and particles and at most ``steps`` steps.
public struct AncestorPlan: Sendable, Equatable {
    /// T: the steps of the recorded pass (its batch's longest sequence).
    public var steps: Int
    /// B: the sequences of the recorded batch.
    public var sequences: Int
    /// K: the particles per sequence.
    public var particles: Int
    /// `(steps, sequences)`: 1 where the sequence resampled after that step.
    public var resampled: [UInt8]
    /// `(steps, sequences · particles)`: the parent row (a global row `b·K + k`) of each
    /// particle at the start of each step. Meaningful at the steps that follow a resampling of
    /// at least one sequence, where sequences that did not resample have the identity; a
    /// replay reads only the rows after a ``resampled`` flag.
    public var ancestors: [Int32]
}

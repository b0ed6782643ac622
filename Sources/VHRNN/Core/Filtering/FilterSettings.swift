/// How a bound is computed: the bound, the particle count and, for FIVO, when and how to
/// resample.
public struct FilterSettings: Codable, Sendable, Equatable {
    public var bound: BoundKind
    public var particleCount: Int
    public var criterion: ResamplingCriterion
    public var scheme: ResamplingScheme

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
/// (ancestor indices are constants; DESIGN §4).
public struct AncestorPlan: Sendable, Equatable {
    public var steps: Int
    public var sequences: Int
    public var particles: Int
    /// `(steps, sequences)`: 1 where the sequence resampled after that step.
    public var resampled: [UInt8]
    /// `(steps, sequences · particles)`: the parent row of each particle at the start of each
    /// step (identity where nothing was resampled).
    public var ancestors: [Int32]
}

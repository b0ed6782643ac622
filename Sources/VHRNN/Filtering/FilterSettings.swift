/// Which bound a particle filter computes (DESIGN §4).
public enum BoundKind: String, Codable, Sendable, CaseIterable {
    /// The mean over particles of each particle's summed log weights (K = 1: the classic ELBO).
    case elbo
    /// log Ẑ of a filter that never resamples.
    case iwae
    /// log Ẑ of a filter that resamples by its criterion and scheme.
    case fivo
}

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

    /// The criterion actually applied: IWAE and ELBO never resample.
    var effectiveCriterion: ResamplingCriterion { bound == .fivo ? criterion : .never }
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

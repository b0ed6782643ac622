/// Everything besides parameters and Adam moments needed to resume training exactly: the
/// contents of a checkpoint's `training_state.json`.
///
/// `generatorState` is written as a decimal string, since JSON numbers are read as doubles by
/// many tools and a `UInt64` would lose bits. `bestValidation` may be non-finite (written as the
/// strings `"inf"`, `"-inf"`, `"nan"`).
public struct TrainingState: Codable, Sendable, Equatable {
    /// Adam steps taken (the store's `step`; drives bias correction).
    public var step: Int
    /// The training generator's whole state (``SplitMix64/state``).
    public var generatorState: UInt64
    /// Completed epochs.
    public var epoch: Int
    /// Best validation objective so far, if any.
    public var bestValidation: Double?
    /// Free-form options (learning rate, objective, particle count, …) as strings.
    public var options: [String: String]

    /// A training state from its parts (the trainer fills `options` with its settings and its
    /// early-stopping and skipped-step counters).
    public init(step: Int, generatorState: UInt64, epoch: Int = 0, bestValidation: Double? = nil,
                options: [String: String] = [:]) {
        self.step = step
        self.generatorState = generatorState
        self.epoch = epoch
        self.bestValidation = bestValidation
        self.options = options
    }

    /// The training generator, restored.
    public var generator: SplitMix64 { SplitMix64(state: generatorState) }

    enum CodingKeys: String, CodingKey {
        case step, generatorState, epoch, bestValidation, options
    }

    /// Decodes `training_state.json`; `generatorState` must be a decimal `UInt64` string and
    /// `options` may be absent (empty).
    ///
    /// - Throws: `DecodingError` for a missing field or a malformed generator state.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        step = try c.decode(Int.self, forKey: .step)
        let text = try c.decode(String.self, forKey: .generatorState)
        guard let state = UInt64(text) else {
            throw DecodingError.dataCorruptedError(forKey: .generatorState, in: c,
                                                   debugDescription: "expected a decimal UInt64 string, found \"\(text)\"")
        }
        generatorState = state
        epoch = try c.decode(Int.self, forKey: .epoch)
        bestValidation = try c.decodeIfPresent(Double.self, forKey: .bestValidation)
        options = try c.decodeIfPresent([String: String].self, forKey: .options) ?? [:]
    }

    /// Encodes the state as `training_state.json` writes it, the generator state as a decimal
    /// string.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(step, forKey: .step)
        try c.encode(String(generatorState), forKey: .generatorState)
        try c.encode(epoch, forKey: .epoch)
        try c.encodeIfPresent(bestValidation, forKey: .bestValidation)
        try c.encode(options, forKey: .options)
    }
}

extension SplitMix64 {
    /// A generator resumed from a saved ``state``.
    public init(state: UInt64) { self.init(seed: state) }
}

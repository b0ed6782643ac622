/// Where a checkpoint's training data came from and how it was transformed — what a user of the
/// model needs to feed it new data the same way.
public struct DataSpec: Codable, Sendable, Equatable {
    /// The data source, e.g. `"synthetic:standard"`, `"pianoroll:/data/jsb.pkl"`, `"csv:/x.csv"`.
    public var source: String
    /// Binary (Bernoulli emission) or real (Gaussian emission) observations.
    public var kind: ObservationKind
    /// D, the values per frame.
    public var dataDim: Int
    /// For normalised real data: the statistics applied (fitted on the training split).
    public var normalization: Normalization?
    /// For binary data: the per-dimension mean of the training frames.
    public var trainFrameMean: [Double]?

    /// A data description from its parts.
    ///
    /// - Parameters:
    ///   - source: the data source string (as `--data` takes it).
    ///   - kind: binary or real observations.
    ///   - dataDim: D.
    ///   - normalization: the per-feature statistics applied, for normalised real data.
    ///   - trainFrameMean: the training frames' per-dimension mean, for binary data.
    public init(source: String, kind: ObservationKind, dataDim: Int, normalization: Normalization? = nil,
                trainFrameMean: [Double]? = nil) {
        self.source = source
        self.kind = kind
        self.dataDim = dataDim
        self.normalization = normalization
        self.trainFrameMean = trainFrameMean
    }

    /// The spec of a loaded dataset, with the given source string.
    public init(source: String, dataset: SequenceDataset) {
        self.init(source: source, kind: dataset.kind, dataDim: dataset.dataDim,
                  normalization: dataset.normalization, trainFrameMean: dataset.trainFrameMean)
    }
}

/// The contents of a checkpoint's `config.json`: what model the parameters belong to, what data
/// it was trained on, and in which precision the tensors are stored.
public struct CheckpointConfig: Codable, Sendable, Equatable {
    /// The version this library writes and reads.
    public static let currentFormatVersion = 1

    /// The `config.json` format version (``currentFormatVersion`` for files this library
    /// writes; any other is refused on load).
    public var formatVersion: Int
    /// The model the parameters belong to: every size and choice needed to rebuild its layout.
    public var model: ModelConfiguration
    /// The training data and its transformation, so new data can be fed the same way.
    public var data: DataSpec
    /// Precision of the stored tensors (that of the ``ParameterStore`` that was saved).
    public var precision: KernelPrecision
    /// Total number of scalars over all parameter tensors.
    public var parameterCount: Int
    /// When the checkpoint was written, ISO 8601 in UTC (e.g. `2025-01-31T12:00:00Z`).
    public var createdAt: String

    /// A config from its parts; ``Checkpoint/save(_:model:data:trainingState:to:)`` builds one
    /// from the store it saves.
    public init(formatVersion: Int = CheckpointConfig.currentFormatVersion, model: ModelConfiguration, data: DataSpec,
                precision: KernelPrecision, parameterCount: Int, createdAt: String) {
        self.formatVersion = formatVersion
        self.model = model
        self.data = data
        self.precision = precision
        self.parameterCount = parameterCount
        self.createdAt = createdAt
    }
}

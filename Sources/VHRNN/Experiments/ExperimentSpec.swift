import Foundation

/// An experiment: models trained on one data source under one protocol, over several seeds,
/// each evaluated on a list of (data, split, K) settings — and the table that compares them.
/// Read from a JSON file in `experiments/` (`vhrnn experiment run SPEC`). Every run is the pair
/// (model entry, seed); `ExperimentRunner` runs it and `ExperimentReport` tabulates the results.
///
/// ```json
/// {
///   "name": "table1", "title": "Table 1 — synthetic data",
///   "data": "synthetic:standard",
///   "training": {"steps": 6000, "learningRate": 0.001, "validateEvery": 600},
///   "seeds": [1, 2, 3, 4, 5],
///   "models": [{"id": "vrnn8", "label": "VRNN Z=8", "model": "vrnn", "latent": 8, "fcLayers": 2,
///               "paper": {"standard": -5.43}}],
///   "evaluations": [{"id": "standard", "label": "Test", "particles": 128}]
/// }
/// ```
public struct ExperimentSpec: Codable, Sendable, Equatable {
    /// File-name-safe identifier; results go to `<results>/<name>/`.
    public var name: String
    /// The report's heading for this spec, e.g. `Table 1 — synthetic data`.
    public var title: String
    /// A paragraph for the report: data, protocol and anything a reader needs to repeat it.
    public var description: String?
    /// Training data source (`DataSource` spelling).
    public var data: String
    /// The training protocol every run shares.
    public var training: TrainingProtocol
    /// The seeds; each model is trained once per seed (non-empty, no duplicates).
    public var seeds: [UInt64]
    /// The models compared (unique ids).
    public var models: [ModelEntry]
    /// What every trained model is evaluated on (unique ids).
    public var evaluations: [EvaluationEntry]
    /// The bound the report tabulates (default FIVO, the paper's metric).
    public var reportBound: BoundKind?
    /// Where the paper's reference numbers come from (shown under the table).
    public var paperSource: String?
    /// Also draw the report bound against the paper-style parameter count, one line per model
    /// family (kind and cell), for each evaluation (the paper's Fig. 5 and Fig. 9).
    public var parameterFigure: Bool?
    /// Qualitative panels (the paper's Figs. 2–4, 6–8): two trained models of this spec drawn on
    /// the same sequence by `vhrnn diagnose --compare`, once their runs have finished.
    public var panels: [PanelEntry]?
    /// The name of a spec whose runs this one trains for longer: the same data, models (by
    /// id), seeds and protocol but a larger `training.steps`. A run starts from that spec's
    /// finished run when its work directory is there and it reached its budget without
    /// stopping early — exactly where this run would stand at that step — and otherwise
    /// trains from step 0 to the same result (``ExperimentRunner`` `startFromExtendedRun`).
    public var extends: String?

    /// The training protocol shared by every run (paper appendix C unless overridden).
    public struct TrainingProtocol: Codable, Sendable, Equatable {
        /// The training bound (default FIVO).
        public var bound: BoundKind?
        /// K in training (default 4).
        public var particles: Int?
        /// Sequences per step (default 4).
        public var batchSize: Int?
        /// Adam's step size (default 1e-3).
        public var learningRate: Double?
        /// Training steps; this or `epochs` must be given.
        public var steps: Int?
        /// Epochs, when `steps` is not given.
        public var epochs: Int?
        /// Steps between validations (default 200).
        public var validateEvery: Int?
        /// K for validation FIVO (default 4).
        public var validationParticles: Int?
        /// Early stopping after this many validations without improvement (default: none).
        public var patience: Int?
        /// Gradient-norm clipping (default: none).
        public var clipNorm: Double?
        /// Data-parallel workers, fixed so that results do not depend on the machine's thread count.
        public var workers: Int?
        /// Steps of KL warm-up (``TrainingOptions/klWarmupSteps``; default: none).
        public var klWarmupSteps: Int?

        /// A protocol; everything left nil takes ``TrainingOptions``'s default.
        public init(bound: BoundKind? = nil, particles: Int? = nil, batchSize: Int? = nil, learningRate: Double? = nil,
                    steps: Int? = nil, epochs: Int? = nil, validateEvery: Int? = nil, validationParticles: Int? = nil,
                    patience: Int? = nil, clipNorm: Double? = nil, workers: Int? = nil, klWarmupSteps: Int? = nil) {
            self.bound = bound
            self.particles = particles
            self.batchSize = batchSize
            self.learningRate = learningRate
            self.steps = steps
            self.epochs = epochs
            self.validateEvery = validateEvery
            self.validationParticles = validationParticles
            self.patience = patience
            self.clipNorm = clipNorm
            self.workers = workers
            self.klWarmupSteps = klWarmupSteps
        }

        /// The options for one run with this seed.
        ///
        /// - Parameter seed: the run's seed (``TrainingOptions/seed``).
        /// - Returns: ``TrainingOptions`` with every field this protocol sets.
        public func options(seed: UInt64) -> TrainingOptions {
            var o = TrainingOptions()
            if let bound { o.bound = bound }
            if let particles { o.particles = particles }
            if let batchSize { o.batchSize = batchSize }
            if let learningRate { o.learningRate = learningRate }
            o.steps = steps
            o.epochs = epochs
            if let validateEvery { o.validateEvery = validateEvery }
            if let validationParticles { o.validationParticles = validationParticles }
            o.patience = patience
            o.clipNorm = clipNorm
            o.workers = workers
            o.klWarmupSteps = klWarmupSteps
            o.seed = seed
            return o
        }
    }

    /// One model of the comparison, spelled like the CLI's model flags.
    public struct ModelEntry: Codable, Sendable, Equatable {
        /// File-name-safe identifier of the model: its results file is `<id>-s<seed>.json`.
        public var id: String
        /// The model's name in tables and figures, e.g. `VHRNN Z=4`.
        public var label: String
        /// VRNN or VHRNN (`--model`).
        public var model: ModelKind
        /// LSTM or GRU (`--cell`; default LSTM).
        public var cell: CellKind?
        /// Z (`--latent`).
        public var latent: Int
        /// H (`--hidden`; default Z).
        public var hidden: Int?
        /// Hh (`--hyper`; default Z).
        public var hyper: Int?
        /// What the hyper networks read (`--hyper-input`; default both).
        public var hyperInput: HyperInput?
        /// The emission (`--emission`; default: from the data).
        public var emission: EmissionKind?
        /// Hidden layers of every MLP (`--fc-layers`; default 1).
        public var fcLayers: Int?
        /// omega's hidden width (`--omega-hidden`; default 64).
        public var omegaHidden: Int?
        /// Step semantics (`--semantics`; default FIVO's).
        public var semantics: StepSemantics?
        /// The paper's number for this model per evaluation id.
        public var paper: [String: Double]?
        /// The paper's parameter count for this model, as it prints it.
        public var paperParameters: String?

        /// The configuration for data of `dataDim` dimensions (emission from the data unless set).
        ///
        /// - Parameters:
        ///   - dataDim: D of the training data.
        ///   - dataEmission: the emission the data calls for (``DataSource/emission(for:)``).
        /// - Returns: the model configuration with this entry's sizes and the CLI's defaults.
        public func configuration(dataDim: Int, dataEmission: EmissionKind) -> ModelConfiguration {
            ModelConfiguration(model: model, cell: cell ?? .lstm, dataDim: dataDim, emission: emission ?? dataEmission,
                               latentDim: latent, hiddenDim: hidden, hyperDim: hyper, fcLayers: fcLayers ?? 1,
                               omegaHidden: omegaHidden ?? 64, hyperInput: hyperInput ?? .both,
                               semantics: semantics ?? .fivo)
        }
    }

    /// One evaluation of every trained model.
    public struct EvaluationEntry: Codable, Sendable, Equatable {
        /// File-name-safe identifier of the evaluation (a key of the models' `paper` tables).
        public var id: String
        /// The column heading in the report, e.g. `Test` or `NOISELESS`.
        public var label: String
        /// Data source (default: the spec's training data).
        public var data: String?
        /// The split evaluated (default test).
        public var split: SplitName?
        /// K for the evaluation (the paper: 128 for music, 1024 for the stock and sensor data).
        public var particles: Int
        /// Evaluation noise seed (default 0).
        public var seed: UInt64?
    }

    /// One qualitative panel: `models[0]` and `models[1]` (ids of this spec), both from the run
    /// with `seed`, on sequence `sequence` of `data`'s `split`, with K = `particles`. Written by
    /// `experiment run` to `<results>/<spec>/panels/<id>.{svg,csv,json}`.
    public struct PanelEntry: Codable, Sendable, Equatable {
        /// File-name-safe identifier; the panel's files are `panels/<id>.svg`, `.csv`, `.json`.
        public var id: String
        /// The panel's title.
        public var label: String
        /// The data source the sequence is taken from.
        public var data: String
        /// The split (default test).
        public var split: SplitName?
        /// The sequence's index in the split (default 0).
        public var sequence: Int?
        /// K for `vhrnn diagnose` (default 1).
        public var particles: Int?
        /// Which seed's runs of the two models are drawn (one of the spec's seeds).
        public var seed: UInt64
        /// Exactly two model ids of this spec: first and second model of the comparison.
        public var models: [String]
    }

    /// Reads and checks a spec file.
    ///
    /// - Parameter path: the JSON spec, e.g. `experiments/table1.json`.
    /// - Returns: the validated spec.
    /// - Throws: ``DataFileError`` naming the file and the field (malformed JSON or a failed
    ///   check of ``validate(path:)``).
    public static func load(path: String) throws -> ExperimentSpec {
        let spec = try JSONFile.decode(ExperimentSpec.self, path: path)
        try spec.validate(path: path)
        return spec
    }

    /// Checks names, sizes and data sources before anything runs: identifiers file-name-safe
    /// and unique, seeds non-empty and unique, every data source parseable, every model
    /// configuration valid, every count positive, panels naming two models and a seed of the
    /// spec, steps or epochs given, and a spec that extends another counting in steps.
    ///
    /// - Parameter path: the spec's file, for error messages.
    /// - Throws: ``DataFileError`` naming `path` and the field.
    public func validate(path: String) throws {
        func fail(_ field: String, _ message: String) -> DataFileError {
            DataFileError(path: path, location: field, message: message)
        }
        let safe = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_."))
        let panels = self.panels ?? []
        let ids: [(String, String)] = [("name", name)] + (extends.map { [("extends", $0)] } ?? []) + models.map { ("models.id", $0.id) }
            + evaluations.map { ("evaluations.id", $0.id) } + panels.map { ("panels.id", $0.id) }
        for (field, id) in ids {
            guard !id.isEmpty, id.unicodeScalars.allSatisfy(safe.contains), !id.hasPrefix(".") else {
                throw fail(field, "'\(id)' must be non-empty letters, digits, '-', '_' or '.'")
            }
        }
        guard !seeds.isEmpty else { throw fail("seeds", "needs at least one seed") }
        guard Set(seeds).count == seeds.count else { throw fail("seeds", "has duplicates") }
        guard !models.isEmpty else { throw fail("models", "needs at least one model") }
        guard Set(models.map(\.id)).count == models.count else { throw fail("models.id", "ids must be unique") }
        guard Set(evaluations.map(\.id)).count == evaluations.count else { throw fail("evaluations.id", "ids must be unique") }
        func source(_ text: String, _ field: String) throws {
            do { _ = try DataSource(parsing: text) } catch let error as DataSourceError {
                throw fail(field, error.message)
            }
        }
        try source(data, "data")
        for e in evaluations {
            if let d = e.data { try source(d, "evaluations[\(e.id)].data") }
            guard e.particles >= 1 else { throw fail("evaluations[\(e.id)].particles", "must be positive") }
        }
        guard Set(panels.map(\.id)).count == panels.count else { throw fail("panels.id", "ids must be unique") }
        for p in panels {
            try source(p.data, "panels[\(p.id)].data")
            guard p.models.count == 2, p.models.allSatisfy({ id in models.contains { $0.id == id } }) else {
                throw fail("panels[\(p.id)].models", "must name two model ids of this spec")
            }
            guard seeds.contains(p.seed) else { throw fail("panels[\(p.id)].seed", "\(p.seed) is not one of the spec's seeds") }
            if let k = p.particles, k < 1 { throw fail("panels[\(p.id)].particles", "must be positive") }
            if let i = p.sequence, i < 0 { throw fail("panels[\(p.id)].sequence", "must be at least 0") }
        }
        for m in models {
            let config = m.configuration(dataDim: 1, dataEmission: .gaussian)
            do { try config.validate() } catch let error as ConfigurationError {
                throw fail("models[\(m.id)]", error.description)
            }
        }
        let t = training
        for (value, field) in [(t.particles, "particles"), (t.batchSize, "batchSize"), (t.steps, "steps"),
                               (t.epochs, "epochs"), (t.validateEvery, "validateEvery"),
                               (t.validationParticles, "validationParticles"), (t.patience, "patience"),
                               (t.workers, "workers"), (t.klWarmupSteps, "klWarmupSteps")] {
            if let value, value < 1 { throw fail("training.\(field)", "must be positive, got \(value)") }
        }
        if let lr = t.learningRate, !(lr > 0 && lr.isFinite) { throw fail("training.learningRate", "must be positive") }
        if t.steps == nil && t.epochs == nil { throw fail("training", "give steps or epochs") }
        if let extends {
            guard extends != name else { throw fail("extends", "names this spec itself") }
            guard t.steps != nil && t.epochs == nil else {
                throw fail("extends", "needs a step budget (training.steps, not epochs) to continue another spec's runs")
            }
        }
    }

    /// Every (model, seed) pair, in run order (seed-major, so a partial run covers every model).
    public var runs: [(model: ModelEntry, seed: UInt64)] {
        seeds.flatMap { seed in models.map { ($0, seed) } }
    }
}

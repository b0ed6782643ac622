import Foundation

/// What one run of an experiment produced: the file `<results>/<spec>/<model>-s<seed>.json`,
/// written once the run has trained and been evaluated. `ExperimentReport` reads only these.
public struct ExperimentRunResult: Codable, Sendable, Equatable {
    /// One evaluation of the run's selected model (one ``ExperimentSpec/EvaluationEntry``).
    public struct Evaluation: Codable, Sendable, Equatable, PerBoundValues {
        /// The evaluation's id in the spec.
        public var id: String
        /// The data source evaluated on.
        public var data: String
        /// The split evaluated.
        public var split: SplitName
        /// K.
        public var particles: Int
        /// The evaluation's noise seed.
        public var seed: UInt64
        /// The ELBO per step.
        public var elbo: Double?
        /// The IWAE bound per step.
        public var iwae: Double?
        /// The FIVO bound per step.
        public var fivo: Double?
        /// Total time steps of the split.
        public var steps: Int
        /// Sequences in the split.
        public var sequences: Int
        /// Wall time of the evaluation.
        public var seconds: Double
        /// The ELBO's Monte Carlo standard error per step (``SplitEvaluation``); nil in results
        /// written before it was recorded.
        public var elboStandardError: Double?
        /// The ELBO per step without its lowest 0.1% of particles (nil in older files).
        public var elboWithoutTail: Double?

        /// The ELBO is carried by a handful of particles (``SplitEvaluation/elboDominatedByTail``).
        public var elboDominatedByTail: Bool {
            guard let elbo, let elboWithoutTail else { return false }
            return ELBOSpread.dominatedByTail(elbo: elbo, withoutTail: elboWithoutTail)
        }

        /// The per-step value of one bound.
        ///
        /// - Parameter kind: which bound.
        /// - Returns: ``elbo``, ``iwae`` or ``fivo``.
        public func bound(_ kind: BoundKind) -> Double? { self[kind] }
    }

    /// The spec's name.
    public var spec: String
    /// The model entry's id.
    public var model: String
    /// The run's seed (initial weights, batch order, training noise).
    public var seed: UInt64
    /// The model trained.
    public var configuration: ModelConfiguration
    /// Trainable parameters.
    public var trainable: Int
    /// Parameters as the paper counts them (FIVO's unused reverse LSTM included).
    public var paperCount: Int
    /// The training data source.
    public var data: String
    /// The spec's training protocol as this run used it (nil in files written before it was
    /// recorded).
    public var training: ExperimentSpec.TrainingProtocol?
    /// Steps trained (the trainer's final step).
    public var steps: Int
    /// The step of the best validation, whose model was evaluated.
    public var bestStep: Int?
    /// The best validation FIVO per step.
    public var bestValidation: Double?
    /// True when early stopping ended training.
    public var stoppedEarly: Bool
    /// Training wall time summed over every segment of the run (resumes included).
    public var trainSeconds: Double
    /// True when the run continued from a `last/` checkpoint.
    public var resumed: Bool
    /// The finished run of another spec this one began as a copy of (``ExperimentSpec/extends``);
    /// nil when it trained from step 0 in this spec. Its steps and wall time are included.
    public var continued: ExperimentRunner.Continuation?
    /// ``KernelRuntime/threadCount`` of the process that finished the run.
    public var threads: Int
    /// ``KernelRuntime/floatPath`` of the machine that ran it (absent in files from before it
    /// was recorded).
    public var floatPath: String?
    /// Every evaluation of the spec, in its order.
    public var evaluations: [Evaluation]
    /// When the results file was written, ISO 8601 UTC.
    public var finishedAt: String
}

/// Runs the (model, seed) pairs of an ``ExperimentSpec``, resumably:
///
/// - a run whose results file exists is skipped;
/// - a run with a `last/` checkpoint in its work directory continues from it (the trainer
///   writes `last/` at every validation, and on a stop request after the step in flight);
/// - otherwise it starts fresh.
///
/// Neither is taken on trust: ``results()`` refuses a results file that no longer matches the
/// spec, and a `last/` trained under other options or another model is not continued.
///
/// Work directories (`<work>/<spec>/<model>-s<seed>/`: best/, last/, metrics.jsonl) hold the large
/// files; the results files are small JSON meant to be committed.
public struct ExperimentRunner {
    /// The experiment.
    public var spec: ExperimentSpec
    /// Where runs keep their checkpoints and metrics (`<work>/<spec>/<model>-s<seed>/`; not
    /// committed).
    public var workDirectory: String
    /// Where results files and panels go (`<results>/<spec>/`; committed).
    public var resultsDirectory: String

    /// A runner for `spec` with its two directories (nothing is read or written yet).
    public init(spec: ExperimentSpec, workDirectory: String, resultsDirectory: String) {
        self.spec = spec
        self.workDirectory = workDirectory
        self.resultsDirectory = resultsDirectory
    }

    /// `<model>-s<seed>`: the base name of a run's results file and work directory.
    public static func runName(model: String, seed: UInt64) -> String { "\(model)-s\(seed)" }

    /// `<results>/<spec>/<model>-s<seed>.json`.
    public func resultPath(model: String, seed: UInt64) -> String {
        resultPath(spec: spec.name, model: model, seed: seed)
    }

    /// `<results>/<spec>/<model>-s<seed>.json` of the named spec (the one this spec extends).
    func resultPath(spec name: String, model: String, seed: UInt64) -> String {
        ((resultsDirectory as NSString).appendingPathComponent(name) as NSString)
            .appendingPathComponent(Self.runName(model: model, seed: seed) + ".json")
    }

    /// `<work>/<spec>/<model>-s<seed>`: the run's `best/`, `last/` and `metrics.jsonl`.
    public func runDirectory(model: String, seed: UInt64) -> String {
        runDirectory(spec: spec.name, model: model, seed: seed)
    }

    /// `<work>/<spec>/<model>-s<seed>` of the named spec (the one this spec extends).
    func runDirectory(spec name: String, model: String, seed: UInt64) -> String {
        ((workDirectory as NSString).appendingPathComponent(name) as NSString)
            .appendingPathComponent(Self.runName(model: model, seed: seed))
    }

    /// The checkpoint a finished run selected (best validation).
    public func bestCheckpoint(model: String, seed: UInt64) -> String {
        (runDirectory(model: model, seed: seed) as NSString).appendingPathComponent("best")
    }

    /// `<results>/<spec>/panels/<id>`: the prefix of a panel's .svg, .csv and .json.
    public func panelPrefix(_ panel: ExperimentSpec.PanelEntry) -> String {
        (((resultsDirectory as NSString).appendingPathComponent(spec.name) as NSString)
            .appendingPathComponent("panels") as NSString).appendingPathComponent(panel.id)
    }

    /// The pairs with no results file yet.
    public var pending: [(model: ExperimentSpec.ModelEntry, seed: UInt64)] {
        spec.runs.filter { !FileManager.default.fileExists(atPath: resultPath(model: $0.model.id, seed: $0.seed)) }
    }

    /// Loads data sources once per process.
    final class DataCache {
        var sets: [String: SequenceDataset] = [:]
        func dataset(_ text: String) throws -> SequenceDataset {
            if let d = sets[text] { return d }
            let d = try DataSource(parsing: text).load(seed: 0)
            sets[text] = d
            return d
        }
    }

    /// Trains and evaluates one run (resuming it if it was interrupted) and writes its results
    /// file. Returns nil when `shouldStop` ended training early; the run then resumes next time.
    @discardableResult
    func run(model entry: ExperimentSpec.ModelEntry, seed: UInt64, cache: DataCache = DataCache(),
             shouldStop: @escaping () -> Bool = { false }, notice: (String) -> Void = { _ in },
             progress: (TrainingProgress) -> Void = { _ in }) throws -> ExperimentRunResult? {
        let dataset = try cache.dataset(spec.data)
        let dataEmission = DataSource.emission(for: dataset.kind)
        let config = entry.configuration(dataDim: dataset.dataDim, dataEmission: dataEmission)
        if config.emission == .bernoulli && dataset.kind != .binary {
            throw TrainingError(message: "model \(entry.id): a Bernoulli emission needs 0/1 data, \(spec.data) holds real values")
        }
        var rng = SplitMix64(seed: seed)
        let bias = config.emission == .bernoulli ? dataset.trainFrameMean.map(SequenceModel<Float>.bernoulliOutputBias) : nil
        let model = try SequenceModel<Float>(configuration: config, outputBias: bias, generator: &rng)
        let directory = runDirectory(model: entry.id, seed: seed)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if let line = try startFromExtendedRun(model: entry.id, seed: seed, config: config) { notice(line) }
        let continuation = recordedContinuation(in: directory)
        let trainer = try Trainer(model: model, dataset: dataset, options: spec.training.options(seed: seed),
                                  dataSource: spec.data, outputDirectory: directory)
        let last = (directory as NSString).appendingPathComponent("last")
        let elapsedPath = (directory as NSString).appendingPathComponent("elapsed.json")
        var resumed = false
        var elapsed = 0.0
        if FileManager.default.fileExists(atPath: (last as NSString).appendingPathComponent(Checkpoint.modelFile)) {
            let checkpoint = try Checkpoint.load(directory: last)
            // A run started under another version of the spec is not continued under this one.
            let remedy = "the spec changed after this run started; move its directory aside to start afresh, or restore the spec"
            // A copied run of the spec this one extends was trained to its own, smaller budget.
            let extendedBudget = continuation.map { String($0.step) }
            if let state = checkpoint.trainingState,
               let d = trainer.options.differences(from: state).first(where: { $0.key != "steps" || $0.checkpoint != extendedBudget }) {
                throw DataFileError(path: last, location: d.key,
                                    message: "\(d.checkpoint) in this checkpoint, \(d.now) in spec '\(spec.name)': " + remedy)
            }
            if checkpoint.config.model != config {
                throw DataFileError(path: last, location: "config.json",
                                    message: "the model differs from models[\(entry.id)] of spec '\(spec.name)': " + remedy)
            }
            try trainer.restore(from: checkpoint)
            resumed = true
            elapsed = (try? JSONDecoder().decode([String: Double].self,
                                                 from: Data(contentsOf: URL(fileURLWithPath: elapsedPath))))?["seconds"] ?? 0
        }
        let summary = try trainer.run(shouldStop: shouldStop, progress: progress)
        elapsed += summary.seconds
        try JSONEncoder().encode(["seconds": elapsed]).write(to: URL(fileURLWithPath: elapsedPath), options: .atomic)
        if summary.interrupted { return nil }

        // Model selection by validation FIVO: evaluate the best model.
        if !trainer.restoreBestParameters() {
            let best = (directory as NSString).appendingPathComponent("best")
            if FileManager.default.fileExists(atPath: (best as NSString).appendingPathComponent(Checkpoint.modelFile)) {
                _ = try Checkpoint.load(directory: best).restore(into: model.parameters, includeTrainingState: false)
            }
        }
        var evaluations: [ExperimentRunResult.Evaluation] = []
        for e in spec.evaluations {
            let source = e.data ?? spec.data
            let data = try cache.dataset(source)
            guard data.dataDim == config.dataDim else {
                throw TrainingError(message: "evaluation \(e.id): \(source) has \(data.dataDim) dimensions, the model \(config.dataDim)")
            }
            let split = data.split(e.split ?? .test)
            let start = Date()
            let r = try Evaluator.evaluate(model: model, split: split, particles: e.particles, seed: e.seed ?? 0)
            evaluations.append(.init(id: e.id, data: source, split: e.split ?? .test, particles: e.particles,
                                     seed: e.seed ?? 0, elbo: r.elbo, iwae: r.iwae, fivo: r.fivo, steps: r.steps,
                                     sequences: r.sequences, seconds: Date().timeIntervalSince(start),
                                     elboStandardError: r.elboStandardError, elboWithoutTail: r.elboWithoutTail))
            if shouldStop() { return nil }
        }
        let result = ExperimentRunResult(
            spec: spec.name, model: entry.id, seed: seed, configuration: config, trainable: model.parameterCount,
            paperCount: model.paperParameterCount, data: spec.data, training: spec.training, steps: summary.finalStep,
            bestStep: trainer.bestStep, bestValidation: summary.bestValidation, stoppedEarly: summary.stoppedEarly,
            trainSeconds: elapsed, resumed: resumed, continued: continuation, threads: KernelRuntime.threadCount, floatPath: KernelRuntime.floatPath,
            evaluations: evaluations, finishedAt: ISO8601DateFormatter().string(from: Date()))
        try Self.write(result, to: resultPath(model: entry.id, seed: seed))
        return result
    }

    /// Runs one pair by model id and seed: trains it (resuming from `last/` when present),
    /// evaluates the best-validation model on every evaluation of the spec, and writes the
    /// results file.
    ///
    /// - Parameters:
    ///   - modelID: a model id of the spec.
    ///   - seed: one of the spec's seeds.
    ///   - shouldStop: checked every training step and after every evaluation; true stops the
    ///     run after the step in flight (it resumes next time).
    ///   - notice: called with a line when the run starts from the finished run of the spec
    ///     this one extends, or trains from step 0 although it extends one (and why).
    ///   - progress: called after every training step.
    /// - Returns: the results written, or nil when `shouldStop` ended the run early.
    /// - Throws: ``TrainingError`` for an unknown model or seed, mismatched data, or a
    ///   Bernoulli model on real data; the trainer's, evaluator's and file errors.
    @discardableResult
    public func run(modelID: String, seed: UInt64, shouldStop: @escaping () -> Bool = { false },
                    notice: (String) -> Void = { _ in },
                    progress: (TrainingProgress) -> Void = { _ in }) throws -> ExperimentRunResult? {
        guard let entry = spec.models.first(where: { $0.id == modelID }) else {
            throw TrainingError(message: "spec \(spec.name) has no model '\(modelID)' (models: \(spec.models.map(\.id).joined(separator: ", ")))")
        }
        guard spec.seeds.contains(seed) else {
            throw TrainingError(message: "spec \(spec.name) has no seed \(seed) (seeds: \(spec.seeds.map(String.init).joined(separator: ", ")))")
        }
        return try run(model: entry, seed: seed, shouldStop: shouldStop, notice: notice, progress: progress)
    }

    /// Results JSON, pretty and sorted (stable diffs), written atomically.
    static func write(_ result: ExperimentRunResult, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf",
                                                                      nan: "nan")
        try encoder.encode(result).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Every results file of this spec that exists, each checked against the spec
    /// (``ExperimentRunResult/disagreements(with:)``): a file written by a run of another version
    /// of the spec — a changed learning rate, model size or evaluation — is refused rather than
    /// reported under this spec's description, or skipped as finished.
    ///
    /// - Returns: the results, in file-name order.
    /// - Throws: ``DataFileError`` naming a file that is not a results file, or one that
    ///   disagrees with the spec, with the first field in which it does.
    public func results() throws -> [ExperimentRunResult] {
        try Self.resultFiles(in: (resultsDirectory as NSString).appendingPathComponent(spec.name)).map { path, result in
            if let d = result.disagreements(with: spec).first {
                throw DataFileError(path: path, location: d.field,
                                    message: "\(d.recorded) in this results file, \(d.expected) in spec '\(spec.name)': "
                                        + "the spec changed after this run; move the file aside to rerun it, or restore the spec")
            }
            return result
        }
    }

    /// Every `*.json` results file in `directory`, in file-name order (empty if the directory
    /// does not exist).
    ///
    /// - Throws: ``DataFileError`` naming a file that is not a results file.
    public static func results(in directory: String) throws -> [ExperimentRunResult] {
        try resultFiles(in: directory).map(\.result)
    }

    /// ``results(in:)`` with each file's path.
    static func resultFiles(in directory: String) throws -> [(path: String, result: ExperimentRunResult)] {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory) else { return [] }
        return try names.filter { $0.hasSuffix(".json") }.sorted().map { name in
            let path = (directory as NSString).appendingPathComponent(name)
            return (path, try readResult(path: path))
        }
    }

    /// One results file.
    ///
    /// - Throws: ``DataFileError`` naming a file that is not a results file.
    static func readResult(path: String) throws -> ExperimentRunResult {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf",
                                                                        nan: "nan")
        do {
            return try decoder.decode(ExperimentRunResult.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw DataFileError(path: path, message: "not a results file: \(error)")
        }
    }
}

import Foundation

/// A spec that trains the runs of another spec for longer (``ExperimentSpec/extends``).
///
/// Training is deterministic for a seed, and nothing in it depends on the step budget except
/// where it stops: the batch order, the noise and the validation steps are the same under any
/// budget. So the finished run of a spec that reached its budget without stopping early, under
/// the same protocol otherwise, is exactly where a run of the longer spec stands at that step
/// (a resume is bit-exact: `resumeEqualsUninterruptedRun`). Starting from a copy of its work
/// directory saves training those steps again and gives the same numbers; without it (a fresh
/// checkout, another float path) the run trains from step 0 to the same result.
extension ExperimentRunner {
    /// What a run's work directory records when it began as a copy of another spec's run.
    public struct Continuation: Codable, Sendable, Equatable {
        /// The spec whose finished run was copied.
        public var spec: String
        /// The step that run had reached (its step budget).
        public var step: Int
    }

    /// `<run>/extended.json`: written when the run began as a copy, read when it finishes.
    static let continuationFile = "extended.json"

    /// The continuation recorded in a run's work directory, if it began as a copy.
    func recordedContinuation(in directory: String) -> Continuation? {
        let path = (directory as NSString).appendingPathComponent(Self.continuationFile)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(Continuation.self, from: data)
    }

    /// Starts the run from the extended spec's finished run when it can: copies that run's
    /// `metrics.jsonl`, `elapsed.json` and `best/` into this run's work directory, records
    /// ``Continuation`` beside them, and copies `last/` last (an interruption part way leaves no
    /// `last/`, and the copy is redone, or the run trains from step 0 without the record).
    ///
    /// - Parameters:
    ///   - model: the model id.
    ///   - seed: the seed.
    ///   - config: the model this spec trains for the pair.
    /// - Returns: a line saying from where the run continues, or why it trains from step 0;
    ///   nil when the spec extends nothing or the run has a `last/` of its own.
    /// - Throws: file errors from copying.
    func startFromExtendedRun(model: String, seed: UInt64, config: ModelConfiguration) throws -> String? {
        guard let base = spec.extends else { return nil }
        let fm = FileManager.default
        let directory = runDirectory(model: model, seed: seed)
        let ownLast = (directory as NSString).appendingPathComponent("last")
        guard !fm.fileExists(atPath: ownLast) else { return nil }
        // Without a `last/` of its own the run has not started: a record left by a copy that
        // was interrupted before `last/` arrived no longer holds.
        let record = (directory as NSString).appendingPathComponent(Self.continuationFile)
        try? fm.removeItem(atPath: record)
        let name = Self.runName(model: model, seed: seed)
        let sourceResult = resultPath(spec: base, model: model, seed: seed)
        let sourceDirectory = runDirectory(spec: base, model: model, seed: seed)
        guard fm.fileExists(atPath: sourceResult) else {
            return "trains from step 0: \(base) has no finished run \(name)"
        }
        let source = try Self.readResult(path: sourceResult)
        if let obstacle = continuationObstacle(source, base: base, config: config) {
            return "trains from step 0: \(base)'s run \(name) \(obstacle)"
        }
        let sourceLast = (sourceDirectory as NSString).appendingPathComponent("last")
        guard let checkpoint = try? Checkpoint.load(directory: sourceLast), checkpoint.trainingState?.step == source.steps else {
            return "trains from step 0: \(sourceLast) is missing or not at the run's final step \(source.steps)"
        }
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func copy(_ item: String) throws {
            let from = (sourceDirectory as NSString).appendingPathComponent(item)
            guard fm.fileExists(atPath: from) else { return }
            let to = (directory as NSString).appendingPathComponent(item), partial = to + ".copying"
            try? fm.removeItem(atPath: partial)
            try fm.copyItem(atPath: from, toPath: partial)
            try? fm.removeItem(atPath: to)
            try fm.moveItem(atPath: partial, toPath: to)
        }
        for item in ["metrics.jsonl", "elapsed.json", "best"] { try copy(item) }
        // The record before `last/`: a `last/` with the other spec's budget is resumed only with it.
        try JSONEncoder().encode(Continuation(spec: base, step: source.steps))
            .write(to: URL(fileURLWithPath: record), options: .atomic)
        try copy("last")
        return "continues \(base)'s finished run from step \(source.steps)"
    }

    /// Why `source`, a finished run of spec `base`, is not where this spec's run stands at its
    /// final step: another model, data, float path or protocol (any field but a smaller step
    /// budget), early stopping, or a last validation off this protocol's schedule.
    ///
    /// - Returns: the reason, worded to follow the run's name; nil when it can be continued.
    func continuationObstacle(_ source: ExperimentRunResult, base: String, config: ModelConfiguration) -> String? {
        guard source.configuration == config else { return "trained another model" }
        guard source.data == spec.data else { return "trained on \(source.data)" }
        guard source.floatPath == KernelRuntime.floatPath else {
            return "ran on float path \(source.floatPath ?? "unrecorded"), this machine's is \(KernelRuntime.floatPath)"
        }
        guard let training = source.training else { return "does not record its training protocol" }
        var same = training
        same.steps = spec.training.steps
        if let d = ExperimentRunResult.fieldDifferences(same, spec.training, prefix: "training.").first {
            return "trained with \(d.field) \(d.recorded), this spec \(d.expected)"
        }
        guard let budget = training.steps, training.epochs == nil, let steps = spec.training.steps, budget < steps else {
            return "has a step budget (\(training.steps.map(String.init) ?? "epochs")) that is not smaller than this spec's"
        }
        guard !source.stoppedEarly, source.steps == budget else { return "stopped early at step \(source.steps)" }
        let every = spec.training.options(seed: source.seed).validateEvery
        guard budget % every == 0 else {
            return "validated at its last step \(budget), off this spec's schedule of every \(every) steps"
        }
        return nil
    }
}

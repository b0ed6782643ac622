import Foundation

/// Whether a results file still describes a run of its spec. The runner skips a run whose
/// results file exists and the report tabulates it under the spec's description, so a spec
/// edited after its runs (a new learning rate, a wider model, another K) would otherwise mix
/// old numbers with the new protocol silently.
extension ExperimentRunResult {
    /// One field in which a results file and its spec disagree.
    public struct Disagreement: Equatable, Sendable {
        /// The spec's field, e.g. `training.learningRate` or `models[vrnn8].latentDim`.
        public var field: String
        /// Its value as the results file records it.
        public var recorded: String
        /// Its value as the spec gives it now.
        public var expected: String
    }

    /// Every field in which this run differs from what `spec` would run now: model id and
    /// seed, training data, the model configuration (the entry's sizes and choices on the
    /// recorded data width and emission), the training protocol (when recorded; in older files
    /// the step count of a run that did not stop early) and the evaluations (ids, data, split,
    /// K, seed, in order). Labels, descriptions and paper numbers may change freely.
    ///
    /// - Parameter spec: the spec this file is filed under.
    /// - Returns: the disagreements, empty when the file is a run of `spec` as it stands.
    public func disagreements(with spec: ExperimentSpec) -> [Disagreement] {
        guard let entry = spec.models.first(where: { $0.id == model }) else {
            return [.init(field: "models", recorded: "model '\(model)'",
                          expected: "models \(spec.models.map(\.id).joined(separator: ", "))")]
        }
        var found: [Disagreement] = []
        if !spec.seeds.contains(seed) {
            found.append(.init(field: "seeds", recorded: "seed \(seed)",
                               expected: "seeds \(spec.seeds.map(String.init).joined(separator: ", "))"))
        }
        if data != spec.data { found.append(.init(field: "data", recorded: data, expected: spec.data)) }
        let config = entry.configuration(dataDim: configuration.dataDim, dataEmission: configuration.emission)
        found += Self.fieldDifferences(configuration, config, prefix: "models[\(model)].")
        if let training {
            found += Self.fieldDifferences(training, spec.training, prefix: "training.")
        } else if let steps = spec.training.steps, !stoppedEarly, self.steps != steps {
            found.append(.init(field: "training.steps", recorded: String(self.steps), expected: String(steps)))
        }
        // What decides an evaluation, as text, with the spec's defaults filled in as the runner fills them.
        func evaluationText(_ id: String, _ data: String, _ split: SplitName, _ particles: Int, _ seed: UInt64) -> String {
            "\(id) (\(data), \(split.rawValue), K=\(particles), seed \(seed))"
        }
        let recordedEvaluations = evaluations.map { evaluationText($0.id, $0.data, $0.split, $0.particles, $0.seed) }
        let specEvaluations = spec.evaluations.map {
            evaluationText($0.id, $0.data ?? spec.data, $0.split ?? .test, $0.particles, $0.seed ?? 0)
        }
        if recordedEvaluations.count != specEvaluations.count {
            found.append(.init(field: "evaluations", recorded: "evaluations " + evaluations.map(\.id).joined(separator: ", "),
                               expected: "evaluations " + spec.evaluations.map(\.id).joined(separator: ", ")))
        } else if let i = recordedEvaluations.indices.first(where: { recordedEvaluations[$0] != specEvaluations[$0] }) {
            found.append(.init(field: "evaluations[\(spec.evaluations[i].id)]", recorded: recordedEvaluations[i],
                               expected: specEvaluations[i]))
        }
        return found
    }

    /// The stored properties of two values of one type that print differently, by name.
    static func fieldDifferences<T>(_ recorded: T, _ expected: T, prefix: String) -> [Disagreement] {
        zip(Mirror(reflecting: recorded).children, Mirror(reflecting: expected).children).compactMap { a, b in
            let r = describe(a.value), e = describe(b.value)
            return r == e ? nil : Disagreement(field: prefix + (a.label ?? "?"), recorded: r, expected: e)
        }
    }

    /// A value as text, optionals unwrapped (`unset` for nil).
    private static func describe(_ value: Any) -> String {
        let mirror = Mirror(reflecting: value)
        guard mirror.displayStyle == .optional else { return String(describing: value) }
        return mirror.children.first.map { describe($0.value) } ?? "unset"
    }
}

import Foundation

/// The paper's claims and how our experiments test them: a JSON file (`experiments/claims.json`)
/// read by `vhrnn experiment report --claims`. Each claim names comparisons between models of
/// committed specs ("model `better` scores higher than model `than` on these evaluations") or
/// panels whose KL should rise at regime switches; the verdict is computed from the results
/// files (``ClaimVerdict``), never written by hand. Claims that no data here can test say why.
///
/// ```json
/// {"claims": [
///   {"id": "table1", "claim": "VHRNN Z=4 beats VRNN Z=6 and Z=8 on every synthetic setting",
///    "source": "Table 1",
///    "comparisons": [{"spec": "table1", "better": "vhrnn4-omega11", "than": "vrnn8"}]},
///   {"id": "ht-sensor", "claim": "...", "source": "Table 4", "untestable": "no readings file"}
/// ]}
/// ```
public struct ClaimSet: Codable, Sendable, Equatable {
    /// One claim of the paper and the tests that decide it.
    public struct Claim: Codable, Sendable, Equatable {
        /// File-name-safe identifier, unique in the file.
        public var id: String
        /// The claim, in the paper's terms.
        public var claim: String
        /// Where the paper makes it.
        public var source: String
        /// Model-against-model tests on committed specs.
        public var comparisons: [Comparison]?
        /// Panels on which a model's KL should rise at regime switches.
        public var switchPanels: [SwitchPanel]?
        /// Why nothing here can test it (then no comparisons).
        public var untestable: String?
        /// What we investigated where it does not hold (prose; numbers belong in the tables).
        public var notes: String?
    }

    /// `better` should score higher than `than` (both model ids of `spec`) on each evaluation
    /// (default: every evaluation of the spec), in the report bound of the spec.
    public struct Comparison: Codable, Sendable, Equatable {
        /// The spec both models belong to.
        public var spec: String
        /// The model id claimed to score higher.
        public var better: String
        /// The model id it should beat.
        public var than: String
        /// The evaluation ids to compare on (default: every evaluation of the spec).
        public var evaluations: [String]?
    }

    /// A drawn panel of `spec` on which `model`'s KL should rise at the regime switches.
    public struct SwitchPanel: Codable, Sendable, Equatable {
        /// The spec whose panel it is.
        public var spec: String
        /// The panel's id in that spec.
        public var panel: String
        /// Which of the panel's two models should show the rise.
        public var model: String
    }

    /// The claims, in report order (unique ids).
    public var claims: [Claim]

    /// Reads a claims file and checks every reference against the given specs (by name).
    ///
    /// - Parameters:
    ///   - path: the claims file, e.g. `experiments/claims.json`.
    ///   - specs: the specs of the report, which the claims may refer to.
    /// - Returns: the validated claims.
    /// - Throws: ``DataFileError`` naming the file and the field.
    public static func load(path: String, specs: [ExperimentSpec]) throws -> ClaimSet {
        let set = try JSONFile.decode(ClaimSet.self, path: path)
        try set.validate(path: path, specs: specs)
        return set
    }

    /// Checks that ids are unique, every claim is either untestable or has tests (not both),
    /// and every spec, model, evaluation and panel a test names exists.
    ///
    /// - Parameters:
    ///   - path: the claims file, for error messages.
    ///   - specs: the specs the claims may refer to.
    /// - Throws: ``DataFileError`` naming `path` and the field.
    public func validate(path: String, specs: [ExperimentSpec]) throws {
        func fail(_ field: String, _ message: String) -> DataFileError {
            DataFileError(path: path, location: field, message: message)
        }
        let byName = Dictionary(specs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        guard Set(claims.map(\.id)).count == claims.count else { throw fail("claims.id", "ids must be unique") }
        for c in claims {
            let field = "claims[\(c.id)]"
            let tests = (c.comparisons ?? []).count + (c.switchPanels ?? []).count
            if c.untestable != nil && tests > 0 { throw fail(field, "an untestable claim has no comparisons or panels") }
            if c.untestable == nil && tests == 0 { throw fail(field, "has nothing to test (give comparisons or switchPanels, or say why it is untestable)") }
            for (i, x) in (c.comparisons ?? []).enumerated() {
                guard let spec = byName[x.spec] else {
                    throw fail("\(field).comparisons[\(i)].spec", "'\(x.spec)' is not among the report's specs")
                }
                for id in [x.better, x.than] where !spec.models.contains(where: { $0.id == id }) {
                    throw fail("\(field).comparisons[\(i)]", "spec \(x.spec) has no model '\(id)'")
                }
                for e in x.evaluations ?? [] where !spec.evaluations.contains(where: { $0.id == e }) {
                    throw fail("\(field).comparisons[\(i)].evaluations", "spec \(x.spec) has no evaluation '\(e)'")
                }
            }
            for (i, p) in (c.switchPanels ?? []).enumerated() {
                guard let spec = byName[p.spec] else {
                    throw fail("\(field).switchPanels[\(i)].spec", "'\(p.spec)' is not among the report's specs")
                }
                guard let panel = spec.panels?.first(where: { $0.id == p.panel }) else {
                    throw fail("\(field).switchPanels[\(i)].panel", "spec \(p.spec) has no panel '\(p.panel)'")
                }
                guard panel.models.contains(p.model) else {
                    throw fail("\(field).switchPanels[\(i)].model", "panel \(p.panel) draws \(panel.models.joined(separator: " and ")), not '\(p.model)'")
                }
            }
        }
    }
}

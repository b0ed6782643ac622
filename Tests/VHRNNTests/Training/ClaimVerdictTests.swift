import Foundation
import Testing
@testable import VHRNN

/// The claims section's statistics and verdicts: exact Mann–Whitney p-values (checked against
/// the closed forms 1 / C(m+n, m) at full separation, and a hand-counted middle case), the
/// rank test's indifference to one diverged run, and the verdict words.
@Suite("Claims")
struct ClaimVerdictTests {
    @Test func mannWhitneyExactPValues() {
        // All of A above all of B: p = 1 / C(m + n, m).
        #expect(abs(ClaimVerdict.mannWhitney([4, 5, 6], [1, 2, 3]).above - 1.0 / 20) < 1e-12)
        #expect(abs(ClaimVerdict.mannWhitney([6, 7, 8, 9, 10], [1, 2, 3, 4, 5]).above - 1.0 / 252) < 1e-12)
        #expect(abs(ClaimVerdict.mannWhitney([3, 4], [1, 2]).above - 1.0 / 6) < 1e-12)
        // m = n = 3, U = 8: of the 20 orderings, U = 9 once and U = 8 once: P(U ≥ 8) = 2/20, P(U ≤ 8) = 19/20.
        let r = ClaimVerdict.mannWhitney([2.5, 5, 6], [1, 2, 3])
        #expect(r.u == 8 && abs(r.above - 0.1) < 1e-12 && abs(r.below - 0.95) < 1e-12)
        // Symmetry: the below p of (a, b) is the above p of (b, a).
        let x = [0.3, 1.7, 2.2, 0.9], y = [1.1, 0.2, 2.9]
        #expect(abs(ClaimVerdict.mannWhitney(x, y).below - ClaimVerdict.mannWhitney(y, x).above) < 1e-12)
    }

    @Test func outcomes() {
        #expect(ClaimVerdict.compare([4, 5, 6], [1, 2, 3])?.2 == .ahead)
        #expect(ClaimVerdict.compare([1, 2, 3], [4, 5, 6])?.2 == .behind)
        #expect(ClaimVerdict.compare([4, 5], [1, 2])?.2 == .tooFew)  // two runs prove nothing
        #expect(ClaimVerdict.compare([1, 5, 3], [4, 2, 6])?.2 == .unclear)
        // One diverged run is one run: a mean would be dominated by it, ranks are not.
        #expect(ClaimVerdict.compare([-5, -6, -7, -5.5, -6.5], [-9, -10, -11, -9.5, -1e15])?.2 == .ahead)
        #expect(ClaimVerdict.compare([], [1]) == nil)
    }

    static func result(model: String, seed: UInt64, fivo: Double) -> ExperimentRunResult {
        ExperimentRunResult(
            spec: "tiny", model: model, seed: seed,
            configuration: ModelConfiguration(model: .vrnn, dataDim: 2, emission: .gaussian, latentDim: 2),
            trainable: 1, paperCount: 1, data: "synthetic:standard", steps: 1, bestStep: 1, bestValidation: 0,
            stoppedEarly: false, trainSeconds: 1, resumed: false, threads: 1, floatPath: nil,
            evaluations: [.init(id: "test", data: "synthetic:standard", split: .test, particles: 2, seed: 0, elbo: nil,
                                iwae: nil, fivo: fivo, steps: 1, sequences: 1, seconds: 0)],
            finishedAt: "")
    }

    @Test func verdictWords() throws {
        let spec = ExperimentTests.tinySpec(seeds: [1, 2, 3])
        let claim = ClaimSet.Claim(id: "c", claim: "VHRNN beats VRNN", source: "Table 9",
                                   comparisons: [.init(spec: "tiny", better: "vhrnn2", than: "vrnn2", evaluations: ["test"])])
        func verdict(_ vhrnn: [Double], _ vrnn: [Double]) -> String {
            let results = vhrnn.enumerated().map { Self.result(model: "vhrnn2", seed: UInt64($0.offset + 1), fivo: $0.element) }
                + vrnn.enumerated().map { Self.result(model: "vrnn2", seed: UInt64($0.offset + 1), fivo: $0.element) }
            return ClaimVerdict.markdown(claim, specs: ["tiny": spec], results: ["tiny": results], panels: [:])
        }
        #expect(verdict([-1, -2, -3], [-4, -5, -6]).contains("**Reproduced** — the claimed ordering holds clearly in 1 of 1 tests, is reversed clearly in 0, and is unclear in 0.\n"))
        #expect(verdict([-4, -5, -6], [-1, -2, -3]).contains("**Not reproduced**"))
        #expect(verdict([-1, -5, -3], [-4, -2, -6]).contains("**Not reproduced**"))
        #expect(verdict([], []).contains("**Not run yet**: 1 test not run yet or with fewer than three seeds."))
        #expect(verdict([-1, -2], [-4, -5, -6]).contains("**Not run yet**: 1 test not run yet"))
        let untestable = ClaimSet.Claim(id: "u", claim: "x", source: "y", untestable: "no file")
        #expect(ClaimVerdict.markdown(untestable, specs: [:], results: [:], panels: [:]).contains("**Not testable here**: no file"))
        // The overview: one line per claim with the same verdict and tally as its section.
        func overview(_ vhrnn: [Double], _ vrnn: [Double]) -> String {
            let results = vhrnn.enumerated().map { Self.result(model: "vhrnn2", seed: UInt64($0.offset + 1), fivo: $0.element) }
                + vrnn.enumerated().map { Self.result(model: "vrnn2", seed: UInt64($0.offset + 1), fivo: $0.element) }
            return ClaimVerdict.overview([claim, untestable], specs: ["tiny": spec], results: ["tiny": results], panels: [:])
        }
        #expect(overview([-1, -2, -3], [-4, -5, -6]).contains("| VHRNN beats VRNN | reproduced | 1 of 1 | 0 | 0 | 0 |\n| x | not testable here |"))
        #expect(overview([-4, -5, -6], [-1, -2, -3]).contains("| VHRNN beats VRNN | not reproduced | 0 of 1 | 1 | 0 | 0 |"))
        #expect(overview([-1, -5, -3], [-4, -2, -6]).contains("| VHRNN beats VRNN | not reproduced | 0 of 1 | 0 | 1 | 0 |"))
        #expect(overview([-1, -2], [-4, -5, -6]).contains("| VHRNN beats VRNN | not run yet | 0 of 0 | 0 | 0 | 1 |"))
    }

    @Test func claimsFilesAreChecked() throws {
        let dir = try TemporaryDirectory("vhrnn-claims")
        defer { dir.remove() }
        let spec = ExperimentTests.tinySpec()
        func refuse(_ json: String, mentions word: String) throws {
            try dir.write("c.json", json)
            let error = try #require(throws: DataFileError.self) { try ClaimSet.load(path: dir.file("c.json"), specs: [spec]) }
            #expect("\(error)".contains(word) && "\(error)".contains("c.json"), "\(error)")
        }
        let head = #"{"claims": [{"id": "a", "claim": "x", "source": "y", "#
        try refuse(head + #""comparisons": [{"spec": "nope", "better": "vrnn2", "than": "vhrnn2"}]}]}"#, mentions: "nope")
        try refuse(head + #""comparisons": [{"spec": "tiny", "better": "zzz", "than": "vhrnn2"}]}]}"#, mentions: "zzz")
        try refuse(head + #""comparisons": [{"spec": "tiny", "better": "vrnn2", "than": "vhrnn2", "evaluations": ["q"]}]}]}"#,
                   mentions: "'q'")
        try refuse(head + #""notes": "n"}]}"#, mentions: "nothing to test")
        try refuse(head + #""untestable": "r", "comparisons": [{"spec": "tiny", "better": "vrnn2", "than": "vhrnn2"}]}]}"#,
                   mentions: "untestable")
        try refuse(head + #""switchPanels": [{"spec": "tiny", "panel": "p", "model": "vrnn2"}]}]}"#, mentions: "no panel 'p'")
    }

    @Test func committedClaimsMatchTheCommittedSpecs() throws {
        let folder = ExperimentTests.specFolder
        let specs = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") && $0 != "claims.json" }
            .map { try ExperimentSpec.load(path: folder.appendingPathComponent($0).path) }
        let set = try ClaimSet.load(path: folder.appendingPathComponent("claims.json").path, specs: specs)
        #expect(set.claims.count >= 10)
    }
}

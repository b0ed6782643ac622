import Foundation

/// A claim's verdict, computed from results files and drawn panels only.
///
/// A comparison of model A against model B on one evaluation is decided by a one-sided exact
/// Mann–Whitney test on the per-seed values (rank-based, so one diverged run of a heavy-tailed
/// setting counts as one run, not as an average of −10^15): A is *ahead* when p ≤ 0.05 for "A
/// above B", *behind* when p ≤ 0.05 for "A below B", otherwise there is *no clear difference*.
/// Three seeds each, all of A above all of B, is the least that can be ahead (p = 1/20); one or
/// two runs never are. The claim is *reproduced* when every test is ahead, *partly reproduced*
/// when some are and none is behind, and *not reproduced* when none is ahead or any is behind.
/// A switch panel counts as ahead when the model's mean KL within three steps after a switch
/// is at least twice its mean KL elsewhere.
public enum ClaimVerdict {
    /// The decision rule, as the report states it.
    public static let rule = "a comparison is *ahead* when a one-sided exact Mann–Whitney test on the per-seed values "
        + "puts the claimed-better model above the other at p ≤ 0.05 (with three seeds each: all three above all three), "
        + "*behind* when it puts it below at p ≤ 0.05, otherwise *no clear difference* (with fewer than three seeds "
        + "on a side it waits, as a test not yet run); "
        + "a claim is *reproduced* when every test is ahead, *partly reproduced* when some are and none is behind, otherwise "
        + "*not reproduced*. A switch panel counts as ahead when the model's mean KL within three steps after a regime "
        + "switch is at least twice its mean KL elsewhere."

    /// The result of one test; the raw value is how the report prints it.
    public enum Outcome: String, Sendable {
        /// `ahead`: the claimed-better model is above at p ≤ 0.05; `behind`: below at p ≤ 0.05;
        /// `unclear`: neither (no clear difference).
        case ahead = "ahead", behind = "behind", unclear = "no clear difference"
        /// Fewer than three seeds on a side: no ordering can be shown yet, so it waits like a test not run.
        case tooFew = "too few seeds yet"
    }

    /// One row: both models' per-seed summaries, how many of the (A, B) seed pairs have A above
    /// B (ties count half), and the outcome.
    public struct Row: Sendable {
        /// The comparison this row tests.
        public var comparison: ClaimSet.Comparison
        /// The spec's name.
        public var spec: String
        /// The evaluation id.
        public var evaluation: String
        /// The claimed-better model's values over its seeds.
        public var better: ExperimentReport.Summary
        /// The other model's values over its seeds.
        public var than: ExperimentReport.Summary
        /// The Mann–Whitney U: (better, than) seed pairs with `better` above, ties counting half.
        public var pairsAbove: Double
        /// The one-sided exact p-value of the direction the outcome reports.
        public var pValue: Double
        /// What the test decided.
        public var outcome: Outcome
    }

    /// The Mann–Whitney U of `a` over `b` (pairs with a > b, ties half) and the one-sided exact
    /// p-values of U at least / at most that large when a and b come from one distribution.
    ///
    /// - Parameters:
    ///   - a: one model's per-seed values.
    ///   - b: the other model's per-seed values.
    /// - Returns: U, P(U' ≥ U) and P(U' ≤ U) under the null, counted exactly over all
    ///   orderings.
    /// - Complexity: O(m² n²) for m and n values (a table of orderings by count).
    public static func mannWhitney(_ a: [Double], _ b: [Double]) -> (u: Double, above: Double, below: Double) {
        var u = 0.0
        for x in a { for y in b { u += x > y ? 1 : (x == y ? 0.5 : 0) } }
        // f[i][j][k]: orderings of i a's and j b's with exactly k pairs a above b. The largest
        // value is an a (above all j b's: k - j pairs remain) or a b.
        let m = a.count, n = b.count
        var f = [[[Double]]](repeating: [[Double]](repeating: [1], count: n + 1), count: m + 1)
        if m > 0 && n > 0 {
            for i in 1...m {
                for j in 1...n {
                    var c = [Double](repeating: 0, count: i * j + 1)
                    for (k, v) in f[i - 1][j].enumerated() { c[k + j] += v }
                    for (k, v) in f[i][j - 1].enumerated() { c[k] += v }
                    f[i][j] = c
                }
            }
        }
        let counts = f[m][n], total = counts.reduce(0, +)
        let above = counts.enumerated().filter { Double($0.offset) >= u - 1e-9 }.reduce(0) { $0 + $1.element } / total
        let below = counts.enumerated().filter { Double($0.offset) <= u + 1e-9 }.reduce(0) { $0 + $1.element } / total
        return (u, above, below)
    }

    /// Decides one comparison by ``rule``.
    ///
    /// - Parameters:
    ///   - a: the claimed-better model's per-seed values.
    ///   - b: the other model's per-seed values.
    /// - Returns: U, the p-value of the reported direction and the outcome (``Outcome/tooFew``
    ///   with fewer than three values on a side); nil when either side has no values.
    public static func compare(_ a: [Double], _ b: [Double]) -> (above: Double, p: Double, Outcome)? {
        guard !a.isEmpty, !b.isEmpty else { return nil }
        let (u, pAbove, pBelow) = mannWhitney(a, b)
        if min(a.count, b.count) < 3 { return (u, min(pAbove, pBelow), .tooFew) }
        if pAbove <= 0.05 { return (u, pAbove, .ahead) }
        if pBelow <= 0.05 { return (u, pBelow, .behind) }
        return (u, min(pAbove, pBelow), .unclear)
    }

    /// One switch panel's test: the model's mean KL near switches and elsewhere.
    public struct PanelRow: Sendable {
        /// The spec's name.
        public var spec: String
        /// The panel id.
        public var panel: String
        /// The model's label in the panel.
        public var label: String
        /// Mean KL within three steps after a switch (nil without switches).
        public var near: Double?
        /// Mean KL elsewhere.
        public var away: Double?
        /// True when `near` is at least twice `away`: the test is ahead.
        public var rises: Bool
    }

    /// A claim's tests and what they add up to.
    public struct Assessment: Sendable {
        /// The comparisons that have at least one result on each side, in the claim's order.
        public var rows: [Row]
        /// The switch panels that are drawn.
        public var panelRows: [PanelRow]
        /// Tests ahead (comparisons and panels).
        public var ahead: Int
        /// Comparisons behind.
        public var behind: Int
        /// Tests decided (rows with at least three seeds a side, and panels).
        public var total: Int
        /// Tests not run yet or with fewer than three seeds on a side.
        public var pending: Int

        /// The verdict's word: `Not run yet` with nothing decided, else ``rule``'s.
        public var word: String {
            if total == 0 { return "Not run yet" }
            return ahead == total ? "Reproduced" : ahead > 0 && behind == 0 ? "Partly reproduced" : "Not reproduced"
        }
    }

    /// Runs every test of a testable claim on the results and panels given.
    ///
    /// - Parameters:
    ///   - claim: the claim (its comparisons and switch panels).
    ///   - specs: the specs by name.
    ///   - results: every spec's results files, by spec name.
    ///   - panels: the drawn panels by `<spec>/<panel id>`.
    /// - Returns: the tests and their tally.
    public static func assess(_ claim: ClaimSet.Claim, specs: [String: ExperimentSpec],
                              results: [String: [ExperimentRunResult]],
                              panels: [String: ComparisonPanel]) -> Assessment {
        var rows: [Row] = []  // in the claim's order
        var pending = 0
        for c in claim.comparisons ?? [] {
            guard let spec = specs[c.spec] else { continue }
            let bound = spec.reportBound ?? .fivo
            let mine = results[c.spec] ?? []
            for e in c.evaluations ?? spec.evaluations.map(\.id) {
                func values(_ model: String) -> [Double] {
                    mine.filter { $0.model == model }.compactMap { $0.evaluations.first { $0.id == e }?.bound(bound) }
                }
                let a = values(c.better), b = values(c.than)
                guard let (above, p, outcome) = compare(a, b), let sa = ExperimentReport.Summary(a),
                      let sb = ExperimentReport.Summary(b) else { pending += 1; continue }
                rows.append(Row(comparison: c, spec: c.spec, evaluation: e, better: sa, than: sb, pairsAbove: above,
                                pValue: p, outcome: outcome))
            }
        }
        var panelRows: [PanelRow] = []
        for p in claim.switchPanels ?? [] {
            guard let drawn = panels["\(p.spec)/\(p.panel)"],
                  let entry = specs[p.spec]?.panels?.first(where: { $0.id == p.panel }),
                  let index = entry.models.firstIndex(of: p.model) else { pending += 1; continue }
            let model = index == 0 ? drawn.first : drawn.second
            let near = drawn.nearSwitch(), away = Set(1...max(drawn.steps, 1)).subtracting(near)
            let n = ComparisonPanel.mean(model.kl, steps: near), o = ComparisonPanel.mean(model.kl, steps: away)
            let rises = n.flatMap { n in o.map { n >= 2 * $0 } } ?? false
            panelRows.append(PanelRow(spec: p.spec, panel: p.panel, label: model.label, near: n, away: o, rises: rises))
        }
        return Assessment(rows: rows, panelRows: panelRows,
                          ahead: rows.filter { $0.outcome == .ahead }.count + panelRows.filter(\.rises).count,
                          behind: rows.filter { $0.outcome == .behind }.count,
                          total: rows.filter { $0.outcome != .tooFew }.count + panelRows.count,
                          pending: pending + rows.filter { $0.outcome == .tooFew }.count)
    }

    /// One line per claim, in order: the claim, its verdict and its tally — the overview above
    /// the claims' sections.
    ///
    /// - Parameters:
    ///   - claims: the claims, in report order.
    ///   - specs: the specs by name.
    ///   - results: every spec's results files, by spec name.
    ///   - panels: the drawn panels by `<spec>/<panel id>`.
    /// - Returns: a Markdown table.
    public static func overview(_ claims: [ClaimSet.Claim], specs: [String: ExperimentSpec],
                                results: [String: [ExperimentRunResult]],
                                panels: [String: ComparisonPanel]) -> String {
        var lines = ["| claim | verdict | tests ahead | reversed | unclear | waiting |", "|---|---|---|---|---|---|"]
        for claim in claims {
            if claim.untestable != nil {
                lines.append("| \(claim.claim) | not testable here | — | — | — | — |")
                continue
            }
            let a = assess(claim, specs: specs, results: results, panels: panels)
            lines.append("| \(claim.claim) | \(a.word.lowercased()) | \(a.ahead) of \(a.total) | \(a.behind) | "
                + "\(a.total - a.ahead - a.behind) | \(a.pending) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The claim's section: its verdict, the table of comparisons and panels, and the notes.
    ///
    /// - Parameters:
    ///   - claim: the claim to report.
    ///   - specs: the specs by name.
    ///   - results: every spec's results files, by spec name.
    ///   - panels: the drawn panels by `<spec>/<panel id>`.
    /// - Returns: Markdown, starting with a `###` heading.
    public static func markdown(_ claim: ClaimSet.Claim, specs: [String: ExperimentSpec],
                                results: [String: [ExperimentRunResult]],
                                panels: [String: ComparisonPanel]) -> String {
        var lines = ["### \(claim.claim)", "", "Paper: \(claim.source)."]
        if let reason = claim.untestable {
            lines += ["", "**Not testable here**: \(reason)"]
            if let notes = claim.notes { lines += ["", notes] }
            return lines.joined(separator: "\n") + "\n"
        }
        let a = assess(claim, specs: specs, results: results, panels: panels)
        let rows = a.rows, panelRows = a.panelRows
        let waiting = a.pending > 0
            ? "\(a.pending) test\(a.pending == 1 ? "" : "s") not run yet or with fewer than three seeds" : nil
        let verdict = a.total == 0
            ? "**\(a.word)**" + (waiting.map { ": " + $0 } ?? "")
            : "**\(a.word)** — the claimed ordering holds clearly in \(a.ahead) of \(a.total) tests, "
                + "is reversed clearly in \(a.behind), and is unclear in \(a.total - a.ahead - a.behind)"
                + (waiting.map { "; " + $0 } ?? "")
        lines += ["", verdict + "."]
        if !rows.isEmpty {
            lines += ["", "| spec | evaluation | claimed better | median (n) | than | median (n) | seed pairs above | p | outcome |",
                      "|---|---|---|---|---|---|---|---|---|"]
            let f = ExperimentReport.format
            for r in rows {
                guard let spec = specs[r.spec] else { continue }
                let label = { (id: String) in spec.models.first { $0.id == id }?.label ?? id }
                let e = spec.evaluations.first { $0.id == r.evaluation }?.label ?? r.evaluation
                let pairs = r.pairsAbove == r.pairsAbove.rounded() ? String(Int(r.pairsAbove)) : String(r.pairsAbove)
                lines.append("| \(r.spec) | \(e) | \(label(r.comparison.better)) | \(f(r.better.median)) (\(r.better.n)) | "
                    + "\(label(r.comparison.than)) | \(f(r.than.median)) (\(r.than.n)) | "
                    + "\(pairs) of \(r.better.n * r.than.n) | \(String(format: "%.3f", r.pValue)) | \(r.outcome.rawValue) |")
            }
        }
        if !panelRows.isEmpty {
            lines += ["", "| spec | panel | model | mean KL within 3 steps of a switch | elsewhere | rises at switches (≥ 2×) |",
                      "|---|---|---|---|---|---|"]
            for p in panelRows {
                lines.append("| \(p.spec) | \(p.panel) | \(p.label) | \(p.near.map(ExperimentReport.format) ?? "—") | "
                    + "\(p.away.map(ExperimentReport.format) ?? "—") | \(p.rises ? "yes" : "no") |")
            }
        }
        if let notes = claim.notes { lines += ["", notes] }
        return lines.joined(separator: "\n") + "\n"
    }
}

import Foundation

/// Tabulates an experiment's results files: one row per model, one column per evaluation,
/// each cell the report bound's mean ± sample standard deviation over the seeds that have
/// finished (with their number), beside the paper's figure. Built only from the results files,
/// so a report can be rebuilt without retraining.
public enum ExperimentReport {
    /// Mean, sample standard deviation (nil for n = 1), median and n.
    public struct Summary: Equatable, Sendable {
        /// The arithmetic mean.
        public var mean: Double
        /// The sample standard deviation (n − 1 in the denominator); nil for one value.
        public var sd: Double?
        /// The median (the mean of the middle two for an even count).
        public var median: Double
        /// The number of values (finished seeds).
        public var n: Int

        /// The summary of `values`; nil when there are none.
        public init?(_ values: [Double]) {
            guard !values.isEmpty else { return nil }
            n = values.count
            mean = values.reduce(0, +) / Double(n)
            let m = mean
            sd = n > 1 ? (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(n - 1)).squareRoot() : nil
            let sorted = values.sorted()
            median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
        }
    }

    /// The summary of `bound` for a model on an evaluation over the finished seeds.
    ///
    /// - Parameters:
    ///   - results: the spec's results files.
    ///   - model: the model id.
    ///   - evaluation: the evaluation id.
    ///   - bound: which bound.
    /// - Returns: the summary over the seeds that have the value; nil when none has.
    public static func summary(_ results: [ExperimentRunResult], model: String, evaluation: String,
                               bound: BoundKind) -> Summary? {
        Summary(results.filter { $0.model == model }.compactMap { r in
            r.evaluations.first { $0.id == evaluation }.flatMap { $0.bound(bound) }
        })
    }

    static func format(_ v: Double) -> String {
        guard v.isFinite else { return v.isNaN ? "nan" : (v < 0 ? "−inf" : "inf") }
        let text = abs(v) >= 1000 ? String(format: "%.0f", v) : String(format: "%.3f", v)
        return text.replacingOccurrences(of: "-", with: "−")
    }

    /// The report bound's mean over seeds against the paper-style parameter count, one series per
    /// model family (kind and cell) and one panel per evaluation.
    ///
    /// - Parameters:
    ///   - spec: the experiment.
    ///   - results: its results files.
    /// - Returns: the chart (the paper's Figs. 5 and 9), or nil when nothing has finished.
    public static func parameterFigure(spec: ExperimentSpec, results: [ExperimentRunResult]) -> LineChart? {
        let bound = spec.reportBound ?? .fivo
        var panels: [LineChart.Panel] = []
        for e in spec.evaluations {
            var families: [String: [(x: Double, y: Double)]] = [:]
            var order: [String] = []
            for m in spec.models {
                guard let r = results.first(where: { $0.model == m.id }),
                      let s = summary(results, model: m.id, evaluation: e.id, bound: bound) else { continue }
                let family = r.configuration.model.rawValue.uppercased()
                    + (r.configuration.cell == .gru ? "-GRU" : "")
                if families[family] == nil { order.append(family) }
                families[family, default: []].append((Double(r.paperCount), s.mean))
            }
            let series = order.map { name -> LineChart.Series in
                let points = families[name]!.sorted { $0.x < $1.x }
                return LineChart.Series(name: name, values: points.map(\.y), x: points.map(\.x))
            }
            if !series.isEmpty {
                panels.append(LineChart.Panel(yLabel: "\(e.label) \(bound.rawValue.uppercased())", series: series))
            }
        }
        guard !panels.isEmpty else { return nil }
        return LineChart(title: spec.title, xLabel: "parameters (counted as the paper counts them)", panels: panels)
    }

    /// The median best step of a model's runs and how many were best at their last validation
    /// of the whole budget (still improving when it ran out), e.g. `60000 (3 of 3)`.
    static func bestStepCell(_ runs: [ExperimentRunResult]) -> String {
        let steps = runs.compactMap(\.bestStep)
        guard let median = Summary(steps.map(Double.init))?.median else { return "—" }
        let atCap = runs.filter { !$0.stoppedEarly && $0.bestStep == $0.steps }.count
        return "\(Int(median.rounded())) (\(atCap) of \(runs.count))"
    }

    /// A markdown section for one spec: its table of mean ± sd over the finished seeds beside
    /// the paper's numbers, parameter counts, wall times, and the figure and panels if given.
    ///
    /// - Parameters:
    ///   - spec: the experiment.
    ///   - results: its results files.
    ///   - command: the command that regenerates the results (shown under the table).
    ///   - figure: a path (relative to the report) of the spec's parameter figure, if drawn.
    ///   - panels: the spec's drawn panels with their SVG paths (relative to the report).
    /// - Returns: Markdown, starting with a `##` heading.
    public static func markdown(spec: ExperimentSpec, results: [ExperimentRunResult], command: String,
                                figure: String? = nil,
                                panels: [(entry: ExperimentSpec.PanelEntry, panel: ComparisonPanel, svg: String)] = [])
        -> String {
        let bound = spec.reportBound ?? .fivo
        var lines: [String] = ["## \(spec.title)", ""]
        if let d = spec.description { lines += [d, ""] }
        let done = Set(results.map { "\($0.model)-s\($0.seed)" })
        lines.append("\(bound.rawValue.uppercased()) per step, mean ± sd over seeds (n; and the median where the sd exceeds half the mean); paper in parentheses. "
            + "Trained on `\(spec.data)`; \(done.count) of \(spec.runs.count) runs finished. Best step: the median step of "
            + "the selected (best-validation) model, and how many runs were best at the last validation of their whole "
            + "budget, i.e. still improving when it ran out.")
        // Which machines the runs come from: their float paths round differently (README).
        var paths: [String: Int] = [:]
        for r in results { paths[r.floatPath ?? "not recorded", default: 0] += 1 }
        if !paths.isEmpty {
            lines[lines.count - 1] += " Float paths: " + paths.sorted { $0.value > $1.value }
                .map { "\($0.key) (\($0.value) run\($0.value == 1 ? "" : "s"))" }.joined(separator: "; ") + "."
        }
        // Runs that began as copies of another spec's finished runs (ExperimentSpec.extends).
        var continued: [String: Int] = [:]
        for r in results { if let c = r.continued { continued["\(c.spec)'s finished runs from step \(c.step)", default: 0] += 1 } }
        for (from, n) in continued.sorted(by: { $0.key < $1.key }) {
            lines[lines.count - 1] += " \(n) run\(n == 1 ? "" : "s") continued \(from) (their train time includes those steps)."
        }
        lines.append("")
        var header = "| model | params (trainable / paper count) | paper params |"
        var rule = "|---|---|---|"
        for e in spec.evaluations {
            header += " \(e.label) (K=\(e.particles)) |"
            rule += "---|"
        }
        header += " best step: median (best at the step cap) | train time per run |"
        rule += "---|---|"
        lines += [header, rule]
        for m in spec.models {
            let mine = results.filter { $0.model == m.id }
            let counts = mine.first.map { "\($0.trainable) / \($0.paperCount)" } ?? "—"
            var row = "| \(m.label) | \(counts) | \(m.paperParameters ?? "—") |"
            for e in spec.evaluations {
                var cell = "—"
                if let s = summary(results, model: m.id, evaluation: e.id, bound: bound) {
                    // sd in the mean's format; the median too when the seeds spread widely (heavy tails).
                    let spread = s.sd.map { $0 > 0.5 * max(abs(s.mean), 1) } ?? false
                    cell = format(s.mean) + (s.sd.map { " ± " + format($0).replacingOccurrences(of: "−", with: "") } ?? "")
                        + " (\(s.n)" + (spread ? "; median " + format(s.median) : "") + ")"
                }
                if let p = m.paper?[e.id] { cell += " (paper \(format(p)))" }
                row += " \(cell) |"
            }
            let seconds = Summary(mine.map(\.trainSeconds)).map { String(format: "%.0f s", $0.mean) } ?? "—"
            row += " \(bestStepCell(mine)) | \(seconds) |"
            lines.append(row)
        }
        lines.append("")
        if let figure { lines += ["![\(spec.title)](\(figure))", ""] }
        if let source = spec.paperSource { lines += ["Paper numbers: \(source).", ""] }
        let specPanels = spec.panels ?? []
        if !specPanels.isEmpty {
            lines += ["### Qualitative panels", "",
                      "Two models of the same seed on one test sequence (`vhrnn diagnose --compare`): the data, "
                      + "KL(q‖p), predicted log-variance and L2 error per step; dashed lines mark regime switches. "
                      + "\(panels.count) of \(specPanels.count) drawn.", ""]
            for (entry, panel, svg) in panels {
                lines += ["#### \(entry.label)", "",
                          "`\(entry.data)` \((entry.split ?? .test).rawValue) sequence \(entry.sequence ?? 0), "
                          + "seed \(entry.seed), K = \(entry.particles ?? 1), \(panel.steps) steps"
                          + (panel.switchSteps.isEmpty ? "." : "; switches at steps "
                             + panel.switchSteps.map(String.init).joined(separator: ", ") + "."), "",
                          panel.markdownTable(), "", "![\(entry.label)](\(svg))", ""]
            }
        }
        lines += ["Regenerate: `\(command)`", ""]
        return lines.joined(separator: "\n")
    }
}

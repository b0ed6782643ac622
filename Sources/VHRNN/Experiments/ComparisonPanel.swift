import Foundation

/// A qualitative panel as `vhrnn diagnose --compare --json` records it (`<id>.json` beside the
/// panel's SVG): per-step KL(q‖p), L2 error and log-variance of two models on one sequence,
/// with the regime switches. The report summarises it in numbers, so a reader can check what
/// the chart shows: whether a model's KL rises at the switches, and whose reconstruction is
/// closer.
public struct ComparisonPanel: Decodable, Sendable, Equatable {
    /// One model's per-step diagnostics on the panel's sequence.
    public struct Model: Decodable, Sendable, Equatable {
        /// The model's name in the panel's legend (`first` when the file gives none).
        public var label: String
        /// Per step; nil where the value was not finite.
        public var kl: [Double?]
        /// Per step: the L2 distance between the predicted mean and the target; nil where not finite.
        public var l2Distance: [Double?]
        /// Per step: the emission's predicted log-variance; nil where not finite.
        public var logVariance: [Double?]
        /// log Z-hat of the whole sequence.
        public var bound: Double?

        enum CodingKeys: String, CodingKey {
            case label, kl, bound
            case l2Distance = "l2_distance", logVariance = "log_variance"
        }
    }

    /// The sequence's length.
    public var steps: Int
    /// The steps (1-based) at which a new regime starts; empty for data without switches.
    public var switchSteps: [Int]
    /// The first model (`vhrnn diagnose --checkpoint`).
    public var first: Model
    /// The second model (`--compare`).
    public var second: Model

    enum CodingKeys: String, CodingKey {
        case steps, kl, bound, compare, label
        case switchSteps = "switch_steps", l2Distance = "l2_distance", logVariance = "log_variance"
    }

    /// Decodes `diagnose --compare --json` output: the first model's fields at the top level,
    /// the second's under `compare`.
    ///
    /// - Throws: `DecodingError` for missing or mistyped fields.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        steps = try c.decode(Int.self, forKey: .steps)
        switchSteps = try c.decodeIfPresent([Int].self, forKey: .switchSteps) ?? []
        // The first model's fields sit at the top level, the second's under "compare".
        first = Model(label: try c.decodeIfPresent(String.self, forKey: .label) ?? "first",
                      kl: try c.decode([Double?].self, forKey: .kl),
                      l2Distance: try c.decode([Double?].self, forKey: .l2Distance),
                      logVariance: try c.decode([Double?].self, forKey: .logVariance),
                      bound: try c.decodeIfPresent(Double.self, forKey: .bound))
        second = try c.decode(Model.self, forKey: .compare)
    }

    /// Steps (1-based) within `window` steps after a switch, where the paper's VHRNN shows KL
    /// peaks (it re-identifies the new regime).
    ///
    /// - Parameter window: how many steps from each switch step on count (the switch step
    ///   included).
    /// - Returns: the steps, clipped to the sequence.
    public func nearSwitch(window: Int = 3) -> Set<Int> {
        Set(switchSteps.flatMap { s in (s..<min(s + window, steps + 1)) })
    }

    /// Mean of the finite values, over `steps` (1-based) when given.
    static func mean(_ values: [Double?], steps: Set<Int>? = nil) -> Double? {
        let picked = values.enumerated().compactMap { i, v -> Double? in
            guard let v, v.isFinite, steps.map({ $0.contains(i + 1) }) ?? true else { return nil }
            return v
        }
        return picked.isEmpty ? nil : picked.reduce(0, +) / Double(picked.count)
    }

    /// A markdown table: per model, the bound per step, mean KL (near switches and elsewhere when
    /// the sequence has switches), mean L2 error and mean predicted log-variance.
    ///
    /// - Returns: the table's lines, header first (no trailing newline).
    public func markdownTable() -> String {
        let near = nearSwitch()
        let away = Set(1...max(steps, 1)).subtracting(near)
        var lines = ["| model | bound per step | mean KL" + (near.isEmpty ? "" : " (within 3 steps of a switch / elsewhere)")
                     + " | mean L2 error | mean log-variance |", "|---|---|---|---|---|"]
        func text(_ v: Double?) -> String { v.map(ExperimentReport.format) ?? "—" }
        for m in [first, second] {
            let kl = near.isEmpty ? text(Self.mean(m.kl))
                : text(Self.mean(m.kl, steps: near)) + " / " + text(Self.mean(m.kl, steps: away))
            lines.append("| \(m.label) | \(text(m.bound.map { $0 / Double(max(steps, 1)) })) | \(kl) | "
                + "\(text(Self.mean(m.l2Distance))) | \(text(Self.mean(m.logVariance))) |")
        }
        return lines.joined(separator: "\n")
    }
}

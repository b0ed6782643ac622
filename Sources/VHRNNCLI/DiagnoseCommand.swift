import ArgumentParser
import Foundation
import VHRNN

/// `vhrnn diagnose`: per-step KL, emission log-variance and L2 error of a checkpoint on one
/// sequence (the paper's Figs. 2–4), as CSV and an SVG chart.
struct DiagnoseCommand: VHRNNSubcommand, ParticleFlagWording {
    static let configuration = CommandConfiguration(
        commandName: "diagnose",
        abstract: "Per-step KL(q‖p), emission log-variance and L2 error of a checkpoint on one sequence.",
        discussion: """
            Filters one sequence of a split and writes PREFIX.csv (step,kl,log_variance,l2_distance,log_alpha; \
            steps numbered from 1) and PREFIX.svg: the sequence's data, the KL between posterior and prior, the \
            emission's predicted log-variance and the L2 distance between its mean and the frame, per time step \
            (the quantities of the paper's Figs. 2-4). With K > 1 particles each quantity is averaged under the \
            filtering weights. For synthetic data the chart marks the steps where the generating regime \
            switches (the first step of each new regime). The data is loaded as training loaded it: synthetic \
            data is regenerated with --seed, so use the seed the model was trained with.

            --compare CHECKPOINT runs a second model on the same sequence (same data, seed and K) and draws \
            both in every panel, as the paper's figures compare VRNN and VHRNN; its columns follow in the CSV \
            with the prefix compare_.

            --out is a file prefix (PREFIX.csv, PREFIX.svg) or a directory (DIR/diagnose-SPLIT-INDEX.*); \
            default: diagnose-SPLIT-INDEX in the current directory.
            """)

    /// A `ValidationError` while running (e.g. `--checkpoint` naming no checkpoint) has always
    /// exited 1 here, not 64 as in the other commands.
    static let validationErrorWhileRunningExitCode = ExitCode(1)

    // How this command's shared flags read (FilterOptions.swift).
    static let defaultParticles = 1
    static let particlesHelp = "Particles K (1: a plain posterior pass)."

    @OptionGroup var input: CheckpointDataOptions
    var checkpoint: String { input.checkpoint }
    var data: String? { input.data }
    var split: SplitName { input.split }

    @Option(help: "Index of the sequence within the split (0-based).")
    var sequence: Int = 0

    @OptionGroup var particleOptions: ParticleOptions<Self>
    var particles: Int { particleOptions.particles }

    @Option(help: "Output file prefix or directory.")
    var out: String?

    @Option(help: "A second checkpoint to draw beside the first on the same sequence.")
    var compare: String?

    @Option(help: "Seed for the data (synthetic generation, as in training) and the filter noise.")
    var seed: UInt64 = 0

    @OptionGroup var outputFormat: OutputFormatOptions<Self>

    func validate() throws {
        try particleOptions.validateParticles()
        if sequence < 0 { throw ValidationError("--sequence must be at least 0, got \(sequence)") }
        if let data { _ = try DataSource(parsing: data) }
    }

    func execute() throws {
        let (directory, loaded, model) = try loadInferenceModel(checkpoint, semantics: input.semantics)
        let (dataset, source) = try dataset(for: loaded, data: data, seed: seed)
        let frames = try sequenceFrames(of: split, in: dataset, index: sequence, source: source)
        let D = dataset.dataDim, T = frames.count / D
        guard T <= Limits.diagnoseParticleSteps / particles else {
            throw CLIError("--particles \(particles) over \(T) steps is too large for the taped filter pass "
                + "(particles × steps at most \(Limits.diagnoseParticleSteps))")
        }
        let binary = loaded.config.data.kind == .binary
        let offset = binary ? loaded.config.data.trainFrameMean : nil
        if let offset, offset.count != D {
            throw CLIError("the checkpoint's trainFrameMean has \(offset.count) values, the data \(D) dimensions")
        }
        let diagnostics = try SequenceDiagnostics.compute(model: model, frames: frames, inputOffset: offset,
                                                          particles: particles, seed: seed)
        // The second model, if any: the same frames, offset, K and seed.
        var other: (label: String, directory: String, diagnostics: SequenceDiagnostics)?
        if let compare {
            let (otherDirectory, otherLoaded, otherModel) = try loadInferenceModel(compare, semantics: input.semantics)
            guard otherModel.configuration.dataDim == D else {
                throw CLIError("--compare \(compare): its model reads \(otherModel.configuration.dataDim) dimensions, the data has \(D)")
            }
            let otherOffset = otherLoaded.config.data.kind == .binary ? otherLoaded.config.data.trainFrameMean : nil
            let d = try SequenceDiagnostics.compute(model: otherModel, frames: frames, inputOffset: otherOffset ?? offset,
                                                    particles: particles, seed: seed)
            other = (Self.label(otherModel), otherDirectory, d)
        }
        let switches = try switchFrames(source: source)  // 0-based frames
        let switchSteps = switches.map { $0 + 1 }         // 1-based steps, as in the CSV and chart

        let prefix = try outputPrefix(out, defaultName: "diagnose-\(split.rawValue)-\(sequence)", strip: ["csv", "svg"])
        let csvPath = prefix + ".csv", svgPath = prefix + ".svg"
        try writeFile(Data(Self.csv(diagnostics, other?.diagnostics).utf8), to: csvPath)
        let label = Self.label(model)
        func series(_ name: String, _ values: (SequenceDiagnostics) -> [Double]) -> [LineChart.Series] {
            guard let other else { return [.init(name: name, values: values(diagnostics))] }
            return [.init(name: label, values: values(diagnostics)), .init(name: other.label, values: values(other.diagnostics))]
        }
        let chart = LineChart(
            title: Self.short(directory) + (other.map { " vs " + Self.short($0.directory) } ?? "")
                + ": \(split.rawValue) sequence \(sequence)"
                + (particles > 1 ? " (K=\(particles))" : ""),
            xLabel: "time step",
            panels: [dataPanel(frames: frames, dataDim: D, binary: binary, normalized: dataset.normalization != nil),
                     LineChart.Panel(yLabel: "KL(q‖p)", series: series("KL", \.kl)),
                     LineChart.Panel(yLabel: "log variance", series: series("log variance", \.logVariance)),
                     LineChart.Panel(yLabel: "L2 distance", series: series("L2 distance", \.l2Distance))],
            markers: switchSteps.map(Double.init), markerLabel: "switch", xStart: 1)
        try writeFile(Data(chart.svg().utf8), to: svgPath)

        let finiteKL = diagnostics.kl.enumerated().filter { $0.element.isFinite }
        let meanKL = finiteKL.isEmpty ? Double.nan : finiteKL.map(\.element).reduce(0, +) / Double(finiteKL.count)
        let peak = finiteKL.max { $0.element < $1.element }
        if outputFormat.json {
            var object: [String: Any] = [
                "checkpoint": directory, "label": label, "data": source.description, "split": split.rawValue, "sequence": sequence,
                "steps": T, "particles": particles, "seed": seed,
                "kl": jsonNumbers(diagnostics.kl), "log_variance": jsonNumbers(diagnostics.logVariance),
                "l2_distance": jsonNumbers(diagnostics.l2Distance), "log_alpha": jsonNumbers(diagnostics.logAlpha),
                "bound": jsonNumber(diagnostics.bound), "mean_kl": jsonNumber(meanKL),
                "switch_steps": switchSteps, "csv": csvPath, "svg": svgPath]
            if let peak { object["peak_kl_step"] = peak.offset + 1; object["peak_kl"] = peak.element }
            if let other {
                object["compare"] = ["checkpoint": other.directory, "label": other.label,
                                     "kl": jsonNumbers(other.diagnostics.kl),
                                     "log_variance": jsonNumbers(other.diagnostics.logVariance),
                                     "l2_distance": jsonNumbers(other.diagnostics.l2Distance),
                                     "bound": jsonNumber(other.diagnostics.bound)]
            }
            printJSON(object)
        } else {
            print("\(directory) on \(source) \(split.rawValue) sequence \(sequence): \(T) steps, K=\(particles)")
            print(String(format: "  mean KL(q‖p) %.4f nats per step", meanKL)
                + (peak.map { String(format: ", peak %.4f at step %d", $0.element, $0.offset + 1) } ?? ""))
            print(String(format: "  bound (log Z-hat) %.4f, %.4f per step", diagnostics.bound,
                         diagnostics.bound / Double(max(T, 1))))
            if let other {
                print(String(format: "  compared with %@ (%@): bound %.4f per step", other.directory, other.label,
                             other.diagnostics.bound / Double(max(T, 1))))
            }
            if !switchSteps.isEmpty {
                print("  regime switches at steps " + switchSteps.map(String.init).joined(separator: ", "))
            }
            print("wrote \(csvPath)")
            print("wrote \(svgPath)")
        }
    }

    /// The last two components of a checkpoint path (e.g. `vrnn8-s1/best`), for titles.
    static func short(_ path: String) -> String {
        let parts = path.split(separator: "/")
        return parts.suffix(2).joined(separator: "/")
    }

    /// A model's legend label: kind, latent size and trainable parameters.
    static func label<S>(_ model: SequenceModel<S>) -> String {
        let c = model.configuration
        return "\(c.model.rawValue.uppercased()) Z=\(c.latentDim) (\(model.parameterCount) params)"
    }

    /// The first model's CSV, with the second model's columns (prefixed compare_) appended.
    static func csv(_ a: SequenceDiagnostics, _ b: SequenceDiagnostics?) -> String {
        guard let b else { return a.csv() }
        let left = a.csv().split(separator: "\n", omittingEmptySubsequences: false)
        let right = b.csv().split(separator: "\n", omittingEmptySubsequences: false)
        return zip(left, right).enumerated().map { i, pair in
            let extra = pair.1.split(separator: ",", omittingEmptySubsequences: false).dropFirst()
            guard !pair.0.isEmpty else { return "" }
            return pair.0 + "," + (i == 0 ? extra.map { "compare_" + $0 } : extra.map(String.init)).joined(separator: ",")
        }.joined(separator: "\n")
    }

    /// The data panel: x0 and x1 for 2-D data, active notes per step for piano rolls, else the
    /// first four dimensions.
    private func dataPanel(frames: [Double], dataDim D: Int, binary: Bool, normalized: Bool) -> LineChart.Panel {
        let T = frames.count / D
        if binary {
            let active = (0..<T).map { t in (0..<D).reduce(0.0) { $0 + (frames[t * D + $1] >= 0.5 ? 1 : 0) } }
            return LineChart.Panel(yLabel: "active notes", series: [.init(name: "active notes", values: active)])
        }
        let shown = min(D, 4)
        let series = (0..<shown).map { d in
            LineChart.Series(name: "x\(d)", values: (0..<T).map { frames[$0 * D + d] })
        }
        return LineChart.Panel(yLabel: normalized ? "data (normalised)" : "data", series: series)
    }

    /// The frames (0-based) at which a synthetic sequence's regime switches; empty for other data.
    private func switchFrames(source: DataSource) throws -> [Int] {
        let info: SyntheticInfo
        switch source {
        case .synthetic(let setting, let family):
            info = SyntheticData.makeWithInfo(setting: setting, seed: seed, family: family).info
        case .syntheticDirectory(let dir):
            let path = (dir as NSString).appendingPathComponent("info.json")
            guard FileManager.default.fileExists(atPath: path) else { return [] }
            info = try SyntheticData.readInfo(directory: dir)
        default:
            return []
        }
        let sequences = info.split(split)
        guard sequence < sequences.count else { return [] }
        return sequences[sequence].switchSteps
    }
}

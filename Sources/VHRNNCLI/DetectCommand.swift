import ArgumentParser
import Foundation
import VHRNN

/// `vhrnn detect`: alarm thresholds for the online filter's surprise scores, calibrated on a
/// split's score quantiles, and — on synthetic data, whose switch frames are known — the
/// detection delay and false-alarm rate they give on another split.
struct DetectCommand: VHRNNSubcommand, ParticleFlagWording {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Calibrate regime-shift alarm thresholds on a split; on synthetic data, score them against the known switches.",
        discussion: """
            Filters every sequence of --calibration-split (default train) of --data (default the checkpoint's) and takes the \
            --quantile of each score over its frames after --warmup: the surprise −log p̂(x_t | x_<t) (in the model's \
            units), the KL rise (KL_t minus the mean KL of the previous --window observed frames) and the variance shift \
            (how far the log of the emission's predicted variance moved from its mean over that window, either way). A frame whose score \
            exceeds its threshold raises an alarm. On synthetic data (synthetic:SETTING) the thresholds are then applied to \
            --split (default test): a switch counts as detected by the first alarm within --tolerance frames of it (before \
            the next switch); other alarms are false alarms, reported per 1000 frames. Writes the thresholds (and the \
            record) to --out FILE.json, the file `vhrnn filter --alarms` reads.
            """)

    static let defaultParticles = 128
    static let particlesHelp = "Particles K per stream."
    static let boundHelp = "Bound whose weights filter: fivo (resampling) or iwae (none)."

    @Option(help: "Checkpoint directory, or a training output directory (uses its best/).")
    var checkpoint: String

    @Option(help: "Data (default: the checkpoint's training data source).")
    var data: String?

    @Option(name: .customLong("calibration-split"), help: "Split the thresholds are calibrated on: train, valid or test.")
    var calibrationSplit: SplitName = .train

    @Option(help: "Split whose known switches are detected (synthetic data): train, valid or test.")
    var split: SplitName = .test

    @Option(help: "Quantile of the calibration scores each threshold is.")
    var quantile: Double = 0.99

    @Option(help: "Frames of the trailing window of the KL rise and the variance shift.")
    var window: Int = 5

    @Option(help: "Frames at the start of each sequence without alarms.")
    var warmup: Int = 5

    @Option(help: "Frames after a switch in which an alarm detects it.")
    var tolerance: Int = 10

    @OptionGroup var filterOptions: OnlineFilterOptions<Self>

    @Option(help: "Seed for the filter (and for regenerating synthetic data, as in training).")
    var seed: UInt64 = 0

    @Option(help: "Write the thresholds and the detection record to this JSON file.")
    var out: String?

    @Option(help: "Draw one sequence of --split's scores, thresholds and switches to this SVG file.")
    var chart: String?

    @Option(name: .customLong("chart-sequence"), help: "Index (0-based) of the sequence --chart draws.")
    var chartSequence: Int = 0

    @OptionGroup var outputFormat: OutputFormatOptions<Self>

    func validate() throws {
        try filterOptions.validateOnline()
        if !(quantile > 0 && quantile < 1) { throw ValidationError("--quantile must be in (0, 1), got \(quantile)") }
        if window < 1 { throw ValidationError("--window must be positive, got \(window)") }
        if warmup < 0 { throw ValidationError("--warmup must be at least 0, got \(warmup)") }
        if tolerance < 1 { throw ValidationError("--tolerance must be positive, got \(tolerance)") }
        if chartSequence < 0 { throw ValidationError("--chart-sequence must be at least 0, got \(chartSequence)") }
        if let data { _ = try DataSource(parsing: data) }
    }

    func execute() throws {
        let (_, loaded, model) = try loadInferenceModel(checkpoint)
        let spec = loaded.config.data
        let offset = spec.kind == .binary ? spec.trainFrameMean : nil
        let (dataset, source) = try dataset(for: loaded, data: data, seed: seed)
        let settings = filterOptions.settings
        let thresholds: AlarmThresholds
        do {
            thresholds = try AlarmThresholds.calibrate(model: model, split: dataset.split(calibrationSplit), inputOffset: offset,
                                                       settings: settings, quantile: quantile, window: window, warmup: warmup,
                                                       seed: seed)
        } catch let error as OnlineFilterError {
            throw CLIError("calibrating on the \(calibrationSplit.rawValue) split of \(source): \(error)")
        }
        var record: RegimeShiftEvaluation?
        if case .synthetic(let setting, let family) = source {
            let info = SyntheticData.makeWithInfo(setting: setting, seed: seed, family: family).info
            let infos = Self.sequenceInfos(info, split)
            record = try RegimeShiftEvaluation.run(model: model, split: dataset.split(split), switchSteps: infos.map(\.switchSteps),
                                                   switchLabels: infos.map(Self.switchLabels), inputOffset: offset,
                                                   thresholds: thresholds, settings: settings, tolerance: tolerance, seed: seed)
        }
        if let chart {
            try drawChart(chart, model: model, dataset: dataset, source: source, offset: offset, settings: settings,
                          thresholds: thresholds)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        var json: [String: Any] = [
            "checkpoint": checkpoint, "data": source.description, "calibration_split": calibrationSplit.rawValue,
            "particles": settings.particleCount, "bound": settings.bound.rawValue, "seed": seed,
            "thresholds": try JSONSerialization.jsonObject(with: encoder.encode(thresholds)),
        ]
        if let record {
            json["split"] = split.rawValue
            json["detection"] = try JSONSerialization.jsonObject(with: encoder.encode(record))
        }
        if let out { try writeFile(try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .prettyPrinted]), to: out) }
        if outputFormat.json {
            printJSON(json)
            return
        }
        print("thresholds (\(quantile) quantile of \(thresholds.calibrationFrames) frames of the \(calibrationSplit.rawValue) split of \(source)):")
        for kind in SurpriseKind.allCases { print("  \(kind.rawValue): \(String(format: "%.4f", thresholds.threshold(kind)))") }
        if let record {
            print("detection on the \(split.rawValue) split (\(record.sequences) sequences, \(record.scoredFrames) frames, tolerance \(tolerance)):")
            for d in record.detectors {
                let delay = d.meanDelay.map { String(format: "mean delay %.2f, median %.1f", $0, d.medianDelay!) } ?? "no delay"
                print("  \(d.score): \(d.detected) of \(d.switches) switches detected, \(delay); "
                      + String(format: "%.1f", d.falseAlarmsPer1000) + " false alarms per 1000 frames")
                for (label, l) in (d.byLabel ?? [:]).sorted(by: { $0.key < $1.key }) {
                    print("    \(label): \(l.detected) of \(l.switches)" + (l.meanDelay.map { String(format: ", mean delay %.2f", $0) } ?? ""))
                }
            }
        }
        if let out { print("wrote \(out)") }
        if let chart { print("wrote \(chart)") }
    }

    /// What generated each sequence of `split`.
    static func sequenceInfos(_ info: SyntheticInfo, _ split: SplitName) -> [SyntheticSequenceInfo] {
        switch split {
        case .train: return info.train
        case .valid: return info.valid
        case .test: return info.test
        }
    }

    /// What changes at each switch of a synthetic sequence: `noise up`, `noise down` (sigma) or
    /// `dynamics` (W, at the same sigma: SWITCH's concatenations).
    static func switchLabels(_ info: SyntheticSequenceInfo) -> [String] {
        info.switchSteps.indices.map { r in
            let (before, after) = (info.sigmas[r], info.sigmas[r + 1])
            return after > before ? "noise up" : after < before ? "noise down" : "dynamics"
        }
    }

    /// Surprise and KL rise of one sequence against their thresholds, switches marked.
    private func drawChart(_ path: String, model: SequenceModel<Float>, dataset: SequenceDataset, source: DataSource,
                           offset: [Double]?, settings: FilterSettings, thresholds: AlarmThresholds) throws {
        let frames = try sequenceFrames(of: split, in: dataset, index: chartSequence, source: source)
        let one = SequenceSplit(dataDim: dataset.dataDim, sequences: [frames])
        let scores = try RegimeShiftScoring.score(model: model, split: one, inputOffset: offset, settings: settings,
                                                  window: thresholds.window, seed: seed)[0]
        var markers: [Double] = []
        if case .synthetic(let setting, let family) = source {
            let info = SyntheticData.makeWithInfo(setting: setting, seed: seed, family: family).info
            let infos = Self.sequenceInfos(info, split)
            markers = infos[chartSequence].switchSteps.map { Double($0 + 1) }
        }
        let panels = SurpriseKind.allCases.map { kind in
            LineChart.Panel(yLabel: kind.rawValue, series: [
                LineChart.Series(name: kind.rawValue, values: scores.map { $0.map(kind.value) ?? .nan }),
                LineChart.Series(name: "threshold (\(quantile) quantile)",
                                 values: [Double](repeating: thresholds.threshold(kind), count: scores.count),
                                 color: LineChart.palette[1]),
            ])
        }
        let title = "Surprise scores of \(split.rawValue) sequence \(chartSequence) of \(source)"
        let svg = LineChart(title: title, xLabel: "frame", panels: panels, markers: markers, xStart: 1).svg(panelHeight: 150)
        try writeFile(Data(svg.utf8), to: path)
    }
}

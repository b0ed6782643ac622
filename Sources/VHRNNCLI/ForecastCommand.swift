import ArgumentParser
import Foundation
import VHRNN

/// `vhrnn forecast`: H frames ahead of a prefix (a file of frames, or the start of a data
/// sequence) from the online filter's particles, as quantiles, note probabilities, sample
/// paths and a fan chart; or, with --evaluate, a split's rolling-origin forecasts scored
/// against the last-value and AR(1) baselines.
struct ForecastCommand: VHRNNSubcommand, ParticleFlagWording {
    static let configuration = CommandConfiguration(
        commandName: "forecast",
        abstract: "Forecast H frames ahead from the filtering distribution; or score a split's forecasts against baselines.",
        discussion: """
            The prefix is --input FILE (CSV frames as for `vhrnn filter`) or the first --origin frames of sequence \
            --sequence of --split (default test) of --data (default the checkpoint's). It is filtered with --particles \
            particles, then --paths sample paths run the model's generative process --horizon frames ahead from \
            particles drawn by their filtering weights. Writes PREFIX.csv (frame, dimension, mean, sd and the \
            --quantiles; binary data: the note probability; with the truth when the prefix is a data sequence), \
            PREFIX.json and PREFIX.svg (the fan against the truth), in the data's own units; --sample-paths N also \
            writes PREFIX-paths.csv. --out is the prefix or a directory (default "forecast").

            --evaluate forecasts every sequence of the split at every --stride frames after --warmup and scores \
            1...H steps ahead — CRPS per value (binary: Brier score per key), log score of the frame, coverage of \
            the --interval central interval — for the model, the last-value baseline and a per-dimension AR(1), \
            both fitted on the training split. Scores are in the model's units (normalised values for real data). \
            Writes PREFIX.json and PREFIX.csv.
            """)

    static let defaultParticles = 128
    static let particlesHelp = "Particles K of the filter over the prefix."
    static let boundHelp = "Bound whose weights filter: fivo (resampling) or iwae (none)."

    @Option(help: "Checkpoint directory, or a training output directory (uses its best/).")
    var checkpoint: String

    @Option(help: "Frames ahead.")
    var horizon: Int = 10

    @Option(help: "Predictive quantile levels, comma separated.")
    var quantiles: String = "0.05,0.25,0.5,0.75,0.95"

    @Option(help: "Sample paths per forecast.")
    var paths: Int = 200

    @Option(help: "CSV file of prefix frames (as for `vhrnn filter`).")
    var input: String?

    @Option(help: "Data for the prefix or the evaluation (default: the checkpoint's training data source).")
    var data: String?

    @Option(help: "Split of the sequence or the evaluation: train, valid or test.")
    var split: SplitName = .test

    @Option(help: "Index (0-based) of the sequence whose start is the prefix.")
    var sequence: Int?

    @Option(help: "Frames of the sequence in the prefix (default: half the sequence).")
    var origin: Int?

    @Flag(help: "Score rolling-origin forecasts of the whole split against the baselines.")
    var evaluate = false

    @Option(help: "With --evaluate: frames filtered before the first origin.")
    var warmup: Int = 10

    @Option(help: "With --evaluate: frames between origins.")
    var stride: Int = 1

    @Option(help: "With --evaluate: the central interval whose coverage is scored.")
    var interval: Double = 0.9

    @Option(name: .customLong("sample-paths"), help: "Also write this many sample paths (PREFIX-paths.csv).")
    var samplePaths: Int = 0

    @Option(help: "Dimensions drawn in the chart, comma separated (default: the first four).")
    var dims: String?

    @OptionGroup var filterOptions: OnlineFilterOptions<Self>

    @Option(help: "Seed for the filter and the forecast (and for regenerating synthetic data, as in training).")
    var seed: UInt64 = 0

    @Option(help: "Output file prefix or directory.")
    var out: String?

    @OptionGroup var outputFormat: OutputFormatOptions<Self>

    var levels: [Double] { quantiles.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) } }

    func validate() throws {
        try filterOptions.validateOnline()
        if horizon < 1 { throw ValidationError("--horizon must be positive, got \(horizon)") }
        if paths < 2 { throw ValidationError("--paths must be at least 2, got \(paths)") }
        let fields = quantiles.split(separator: ",", omittingEmptySubsequences: false)
        for field in fields {
            guard let q = Double(field.trimmingCharacters(in: .whitespaces)), q > 0, q < 1 else {
                throw ValidationError("--quantiles: '\(field)' is not a level in (0, 1)")
            }
        }
        if levels != levels.sorted() { throw ValidationError("--quantiles must be ascending, got \(quantiles)") }
        if samplePaths < 0 || samplePaths > paths {
            throw ValidationError("--sample-paths must be in 0...\(paths) (--paths), got \(samplePaths)")
        }
        let prefixes = (input != nil ? 1 : 0) + (sequence != nil ? 1 : 0) + (evaluate ? 1 : 0)
        if prefixes != 1 { throw ValidationError("give exactly one of --input FILE, --sequence I or --evaluate") }
        if input != nil && data != nil { throw ValidationError("--data is for --sequence or --evaluate, not --input") }
        if let sequence, sequence < 0 { throw ValidationError("--sequence must be at least 0, got \(sequence)") }
        if origin != nil && sequence == nil { throw ValidationError("--origin needs --sequence") }
        if let origin, origin < 1 { throw ValidationError("--origin must be positive, got \(origin)") }
        if warmup < 1 { throw ValidationError("--warmup must be positive, got \(warmup)") }
        if stride < 1 { throw ValidationError("--stride must be positive, got \(stride)") }
        if !(interval > 0 && interval < 1) { throw ValidationError("--interval must be in (0, 1), got \(interval)") }
        if let data { _ = try DataSource(parsing: data) }
    }

    func execute() throws {
        let (_, loaded, model) = try loadInferenceModel(checkpoint)
        let D = model.configuration.dataDim, spec = loaded.config.data
        let offset = spec.kind == .binary ? spec.trainFrameMean : nil
        let normalization = spec.kind == .real ? spec.normalization : nil
        if let n = normalization, n.mean.count != D || n.std.count != D {
            throw CLIError("the checkpoint's normalisation has \(n.mean.count) values, the model \(D) dimensions")
        }
        let prefix = try outputPrefix(out, defaultName: "forecast", strip: ["csv", "json", "svg"])
        if evaluate {
            try runEvaluation(model: model, loaded: loaded, offset: offset, prefix: prefix)
            return
        }
        let chartDims = try parseDims(D)

        // The prefix (model units) and, for a data sequence, the truth after it (model units).
        var history: [Double] = [], truth: [Double]? = nil, source = "", dimensionNames: [String]? = nil
        if let input {
            var reader = try FrameLineReader(path: input, width: D)
            while let (_, values) = try reader.next() {
                for d in 0..<D { history.append(normalization.map { (values[d] - $0.mean[d]) / $0.std[d] } ?? values[d]) }
            }
            guard !history.isEmpty else { throw CLIError("--input \(input): no frames") }
            source = input
        } else if let sequence {
            let (dataset, dataSource) = try dataset(for: loaded, data: data, seed: seed)
            let frames = try sequenceFrames(of: split, in: dataset, index: sequence, source: dataSource)
            let length = frames.count / D
            let T = origin ?? max(1, length / 2)
            guard T <= length else {
                throw CLIError("--origin \(T): \(split.rawValue) sequence \(sequence) of \(dataSource) has \(length) frames")
            }
            history = Array(frames[..<(T * D)])
            truth = Array(frames[(T * D)..<(min(length, T + horizon) * D)])
            let name = dataSource.description.split(separator: "/").last.map(String.init) ?? dataSource.description
            source = "\(name) \(split.rawValue) sequence \(sequence)"
            switch dataSource {
            case .stock, .stockRepaired: dimensionNames = StockLoader.featureNames.map { "log ratio " + $0 }
            default: break
            }
        }
        let T = history.count / D

        let filter = try OnlineFilter(model: model, settings: filterOptions.settings, seed: seed, inputOffset: offset)
        var observations: [OnlineObservation] = []
        for t in 0..<T { try filter.observe([Array(history[(t * D)..<((t + 1) * D)])], into: &observations) }
        var forecast = try filter.forecast(horizon: horizon, paths: paths, seed: seed &+ 1)[0]

        // Everything written is in the data's own units.
        if let n = normalization {
            forecast = forecast.transformed(scale: n.std, shift: n.mean)
            let unscale = { (x: [Double]) in x.enumerated().map { $0.element * n.std[$0.offset % D] + n.mean[$0.offset % D] } }
            history = unscale(history)
            truth = truth.map(unscale)
        }
        try writeForecast(forecast, history: history, truth: truth, source: source, prefix: prefix, chartDims: chartDims,
                          names: dimensionNames)
    }

    private func parseDims(_ D: Int) throws -> [Int] {
        guard let dims else { return Array(0..<min(D, 4)) }
        return try dims.split(separator: ",").map { field in
            guard let d = Int(field.trimmingCharacters(in: .whitespaces)), (0..<D).contains(d) else {
                throw ValidationError("--dims: '\(field)' is not a dimension in 0...\(D - 1)")
            }
            return d
        }
    }

    /// PREFIX.csv, PREFIX.json, PREFIX.svg (and PREFIX-paths.csv), then a summary on stdout.
    private func writeForecast(_ forecast: Forecast, history: [Double], truth: [Double]?, source: String, prefix: String,
                               chartDims: [Int], names: [String]?) throws {
        let D = forecast.dataDim, H = forecast.horizon, T = history.count / D
        let binary = forecast.emission == .bernoulli
        let mean = forecast.predictiveMean, variance = forecast.predictiveVariance
        let q = binary ? [] : forecast.quantiles(levels)
        let truthSteps = (truth?.count ?? 0) / D
        func number(_ v: Double) -> String { String(format: "%.6g", v) }

        var csv = "frame,dim," + (binary ? "probability" : (["mean", "sd"] + levels.map { "q\(number($0))" }).joined(separator: ","))
            + (truth != nil ? ",truth" : "") + "\n"
        for h in 0..<H {
            for d in 0..<D {
                let i = h * D + d
                var fields = ["\(T + 1 + h)", "\(d)"]
                fields += binary ? [number(mean[i])] : [number(mean[i]), number(variance[i].squareRoot())] + q.map { number($0[i]) }
                if let truth { fields.append(h < truthSteps ? number(truth[i]) : "") }
                csv += fields.joined(separator: ",") + "\n"
            }
        }
        try writeFile(Data(csv.utf8), to: prefix + ".csv")
        if samplePaths > 0 {
            var text = "path,frame," + (0..<D).map { "x\($0)" }.joined(separator: ",") + "\n"
            for m in 0..<samplePaths {
                let path = Array(forecast.path(m))
                for h in 0..<H {
                    text += "\(m),\(T + 1 + h)," + (0..<D).map { number(path[h * D + $0]) }.joined(separator: ",") + "\n"
                }
            }
            try writeFile(Data(text.utf8), to: prefix + "-paths.csv")
        }
        var object: [String: Any] = [
            "source": source, "origin": T, "horizon": H, "paths": forecast.paths, "particles": filterOptions.particles,
            "bound": filterOptions.boundOption.bound.rawValue, "seed": seed, "mean": jsonNumbers(mean),
            "variance": jsonNumbers(variance),
        ]
        if binary { object["note_probabilities"] = jsonNumbers(mean) } else {
            object["quantiles"] = Dictionary(uniqueKeysWithValues: zip(levels.map(number), q.map(jsonNumbers)))
        }
        if let truth { object["truth"] = jsonNumbers(truth) }
        try writeFile(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted]),
                      to: prefix + ".json")
        let chart = ForecastChart.make(title: "Forecast of \(source) after frame \(T)", history: history, forecast: forecast,
                                       levels: levels, truth: truth, dims: chartDims, names: names)
        try writeFile(Data(chart.svg(panelHeight: 150).utf8), to: prefix + ".svg")
        if outputFormat.json {
            printJSON(object)
        } else {
            print("forecast of \(source): \(H) frames after frame \(T), \(forecast.paths) paths from K = \(filterOptions.particles) particles")
            print("wrote \(prefix).csv, \(prefix).json, \(prefix).svg" + (samplePaths > 0 ? ", \(prefix)-paths.csv" : ""))
        }
    }

    private func runEvaluation(model: SequenceModel<Float>, loaded: LoadedCheckpoint, offset: [Double]?, prefix: String) throws {
        let (dataset, source) = try dataset(for: loaded, data: data, seed: seed)
        let settings = ForecastEvaluationSettings(horizon: horizon, paths: paths, warmup: warmup, stride: stride,
                                                  interval: interval)
        let report: ForecastEvaluation
        do {
            report = try ForecastEvaluation.run(model: model, split: dataset.split(split), train: dataset.train,
                                                observations: dataset.kind, inputOffset: offset, filterSettings: filterOptions.settings,
                                                settings: settings, seed: seed)
        } catch let error as OnlineFilterError {
            throw CLIError("--evaluate on the \(split.rawValue) split of \(source): \(error)")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        var json = try JSONSerialization.jsonObject(with: encoder.encode(report)) as! [String: Any]
        json["data"] = source.description
        json["split"] = split.rawValue
        json["checkpoint"] = checkpoint
        try writeFile(try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .prettyPrinted]), to: prefix + ".json")
        var csv = "forecaster,steps_ahead,frames,crps,log_score,coverage\n"
        for f in report.forecasters {
            for s in f.byStepsAhead + [f.overall] {
                csv += "\(f.name),\(s.stepsAhead == 0 ? "all" : "\(s.stepsAhead)"),\(s.frames),\(s.crps),\(s.logScore),"
                    + (s.coverage.map { "\($0)" } ?? "") + "\n"
            }
        }
        try writeFile(Data(csv.utf8), to: prefix + ".csv")
        if outputFormat.json {
            printJSON(json)
            return
        }
        let binary = dataset.kind == .binary
        print("forecasts of the \(split.rawValue) split of \(source): \(report.sequences) sequences, \(report.origins) origins, "
              + "\(horizon) frames ahead, \(paths) paths, K = \(filterOptions.particles) \(filterOptions.boundOption.bound.rawValue)")
        func cell(_ text: String, _ width: Int, left: Bool = false) -> String {
            let pad = String(repeating: " ", count: max(0, width - text.count))
            return left ? text + pad : pad + text
        }
        print(cell("ahead", 6, left: true) + cell("forecaster", 11, left: true) + cell("frames", 8) + cell(binary ? "Brier" : "CRPS", 10)
              + cell("log score", 11) + (binary ? "" : cell("cover \(Int((interval * 100).rounded()))%", 10)))
        for h in Array(1...horizon) + [0] {
            for f in report.forecasters {
                let s = h == 0 ? f.overall : f.byStepsAhead[h - 1]
                print(cell(h == 0 ? "all" : "\(h)", 6, left: true) + cell(f.name, 11, left: true) + cell("\(s.frames)", 8)
                      + cell(String(format: "%.4f", s.crps), 10) + cell(String(format: "%.4f", s.logScore), 11)
                      + (s.coverage.map { cell(String(format: "%.3f", $0), 10) } ?? ""))
            }
        }
        print("wrote \(prefix).json, \(prefix).csv")
    }
}

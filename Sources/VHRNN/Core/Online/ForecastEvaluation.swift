import Foundation

/// Where and how far a split's sequences are forecast by ``ForecastEvaluation``.
public struct ForecastEvaluationSettings: Sendable, Equatable, Codable {
    /// Steps ahead scored (1...horizon).
    public var horizon: Int
    /// Sample paths per forecast.
    public var paths: Int
    /// Frames filtered before the first forecast origin.
    public var warmup: Int
    /// A forecast origin every `stride` frames from the warm-up on.
    public var stride: Int
    /// The central predictive interval whose coverage is reported (0.9: from the 5% to the
    /// 95% quantile).
    public var interval: Double

    /// - Parameters:
    ///   - horizon: steps ahead (≥ 1).
    ///   - paths: sample paths per forecast (≥ 2).
    ///   - warmup: frames filtered before the first origin (≥ 1).
    ///   - stride: frames between origins (≥ 1).
    ///   - interval: central interval level in (0, 1).
    public init(horizon: Int = 5, paths: Int = 200, warmup: Int = 10, stride: Int = 1, interval: Double = 0.9) {
        (self.horizon, self.paths, self.warmup, self.stride, self.interval) = (horizon, paths, warmup, stride, interval)
    }

    /// Nil, or what is wrong, in words.
    public var problem: String? {
        if horizon < 1 { return "the horizon must be at least 1, got \(horizon)" }
        if paths < 2 { return "paths must be at least 2, got \(paths)" }
        if warmup < 1 { return "the warm-up must be at least 1 frame, got \(warmup)" }
        if stride < 1 { return "the stride must be at least 1, got \(stride)" }
        if !(interval > 0 && interval < 1) { return "the interval must be in (0, 1), got \(interval)" }
        return nil
    }
}

/// One forecaster's mean scores at one number of steps ahead (or over all of them).
public struct ForecastScores: Sendable, Equatable, Codable {
    /// Steps ahead (0: all steps ahead pooled).
    public var stepsAhead: Int
    /// Forecast frames scored.
    public var frames: Int
    /// Mean CRPS per value (real data; lower is better) or Brier score per key (binary data).
    public var crps: Double
    /// Mean log predictive density (probability) of a whole frame, in nats (higher is better).
    public var logScore: Double
    /// Fraction of values inside the central interval (real data only).
    public var coverage: Double?
}

/// A forecaster's scores, per step ahead and pooled.
public struct ForecasterScores: Sendable, Equatable, Codable {
    /// `model`, `last-value` or `ar1`.
    public var name: String
    /// Scores at 1...horizon steps ahead.
    public var byStepsAhead: [ForecastScores]
    /// Scores over every step ahead.
    public var overall: ForecastScores
}

/// Forecasts scored on a split with proper scoring rules, the model next to the two
/// ``ForecastBaseline``s fitted on the training split.
///
/// Every sequence of the split is filtered online (one stream each, side by side); at every
/// origin t (after `warmup` frames, then every `stride`) the model forecasts the next
/// `horizon` frames from its filtering distribution (``OnlineFilter/forecast(horizon:paths:seed:)``)
/// and each forecaster is scored on the frames that exist: the CRPS per value (the Brier score
/// per key for binary data), the log score of the whole frame, and the coverage of the
/// central interval. Scores are in the units the model sees (a real split's normalised values).
public struct ForecastEvaluation: Sendable, Equatable, Codable {
    /// How the split was forecast.
    public var settings: ForecastEvaluationSettings
    /// The filter's K.
    public var particles: Int
    /// The filter's bound (its resampling).
    public var bound: BoundKind
    /// The filter's and the forecasts' seed.
    public var seed: UInt64
    /// Sequences scored.
    public var sequences: Int
    /// Forecast origins scored, over all sequences.
    public var origins: Int
    /// The model first, then the baselines.
    public var forecasters: [ForecasterScores]

    /// Runs the evaluation.
    /// - Parameters:
    ///   - model: the trained model.
    ///   - split: the frames to forecast (its targets; a binary split's inputs are the
    ///     targets minus `inputOffset`).
    ///   - train: the split the baselines are fitted on.
    ///   - observations: binary (Bernoulli) or real (Gaussian) data.
    ///   - inputOffset: what the encoder subtracts from a frame (a piano roll's training frame mean).
    ///   - filterSettings: the online filter's K and bound (IWAE or FIVO).
    ///   - settings: horizon, paths, origins and interval.
    ///   - seed: the filter's seed; origin t's forecast uses a seed derived from it and t.
    ///   - progress: called after each frame with (frames done, frames in all).
    /// - Throws: ``OnlineFilterError`` for bad settings or a split too short for one origin.
    public static func run<S: KernelScalar>(model: SequenceModel<S>, split: SequenceSplit, train: SequenceSplit,
                                            observations: ObservationKind, inputOffset: [Double]?,
                                            filterSettings: FilterSettings, settings: ForecastEvaluationSettings,
                                            seed: UInt64, progress: ((Int, Int) -> Void)? = nil) throws -> ForecastEvaluation {
        if let problem = settings.problem { throw OnlineFilterError(problem) }
        let D = model.configuration.dataDim, H = settings.horizon, B = split.count
        guard split.dataDim == D, train.dataDim == D else {
            throw OnlineFilterError("the data have \(split.dataDim) dimensions, the model \(D)")
        }
        guard split.maxLength > settings.warmup else {
            throw OnlineFilterError("no sequence is longer than the warm-up of \(settings.warmup) frames")
        }
        let baselines = try ForecastBaseline.Kind.allCases.map {
            try ForecastBaseline($0, fittedOn: train, observations: observations, horizon: H)
        }
        let filter = try OnlineFilter(model: model, settings: filterSettings, streams: B, seed: seed, inputOffset: inputOffset)
        let binary = observations == .binary
        let tail = (1 - settings.interval) / 2
        let names = ["model"] + baselines.map(\.kind.rawValue)
        var totals = names.map { _ in (0..<H).map { ScoreSum(stepsAhead: $0 + 1) } }
        var frames = [[Double]](repeating: [Double](repeating: .nan, count: D), count: B)
        var observed: [OnlineObservation] = []
        var origins = 0
        let T = split.maxLength
        for t in 0..<T {
            split.streamFrames(step: t, into: &frames)
            try filter.observe(frames, into: &observed)
            progress?(t + 1, T)
            let seen = t + 1
            guard seen >= settings.warmup, (seen - settings.warmup) % settings.stride == 0, seen < T else { continue }
            let forecasts = try filter.forecast(horizon: H, paths: settings.paths,
                                                seed: SeedDerivation.sequenceStream(seed: seed ^ 0xF0CA_57ED, key: UInt64(t)))
            origins += 1
            for b in 0..<B {
                let x = split.targets[b], length = x.count / D
                guard seen < length else { continue }
                let forecast = forecasts[b]
                let last = x[(t * D)..<(seen * D)]
                let bands = binary ? [] : forecast.quantiles([tail, 1 - tail])
                for h in 0..<H where seen + h < length {
                    let truth = x[((seen + h) * D)..<((seen + h + 1) * D)]
                    // The model.
                    var crps = 0.0, inside = 0
                    for (d, value) in truth.enumerated() {
                        crps += binary ? forecast.brierScore(value, step: h, dim: d) : forecast.crps(value, step: h, dim: d)
                        if !binary && value >= bands[0][h * D + d] && value <= bands[1][h * D + d] { inside += 1 }
                    }
                    totals[0][h].add(crps: crps, logScore: forecast.logScore(truth, step: h), inside: inside, values: D)
                    // The baselines: independent marginals per dimension.
                    for (i, baseline) in baselines.enumerated() {
                        var crps = 0.0, logScore = 0.0, inside = 0
                        for (d, value) in truth.enumerated() {
                            let (mean, sd) = baseline.predictive(after: last, stepsAhead: h + 1, dim: d)
                            if binary {
                                crps += (mean - value) * (mean - value)
                                logScore += ForecastScore.bernoulliLogProbability(mean, value)
                            } else {
                                crps += ForecastScore.gaussianCRPS(value, mean: mean, sd: sd)
                                logScore += ForecastScore.gaussianLogDensity(value, mean: mean, sd: sd)
                                let half = sd * ForecastScore.normalQuantile(1 - tail)
                                if abs(value - mean) <= half { inside += 1 }
                            }
                        }
                        totals[i + 1][h].add(crps: crps, logScore: logScore, inside: inside, values: D)
                    }
                }
            }
        }
        guard origins > 0 else { throw OnlineFilterError("no forecast origin: the sequences end within the warm-up") }
        let forecasters = names.enumerated().map { i, name in
            var pooled = ScoreSum(stepsAhead: 0)
            for sum in totals[i] { pooled.merge(sum) }
            return ForecasterScores(name: name, byStepsAhead: totals[i].map { $0.scores(binary: binary) },
                                    overall: pooled.scores(binary: binary))
        }
        return ForecastEvaluation(settings: settings, particles: filterSettings.particleCount, bound: filterSettings.bound,
                                  seed: seed, sequences: B, origins: origins, forecasters: forecasters)
    }

    /// Running sums of one forecaster's scores at one step ahead.
    struct ScoreSum {
        var stepsAhead: Int
        var frames = 0, values = 0, inside = 0
        var crps = 0.0, logScore = 0.0

        mutating func add(crps: Double, logScore: Double, inside: Int, values: Int) {
            frames += 1
            self.values += values
            self.inside += inside
            self.crps += crps
            self.logScore += logScore
        }

        mutating func merge(_ other: ScoreSum) {
            frames += other.frames; values += other.values; inside += other.inside
            crps += other.crps; logScore += other.logScore
        }

        func scores(binary: Bool) -> ForecastScores {
            ForecastScores(stepsAhead: stepsAhead, frames: frames, crps: crps / Double(max(values, 1)),
                           logScore: logScore / Double(max(frames, 1)),
                           coverage: binary ? nil : Double(inside) / Double(max(values, 1)))
        }
    }
}

import Foundation

/// What one observed frame tells about a regime shift or an anomaly (both higher when more
/// surprising), from ``OnlineObservation``s.
public struct SurpriseScores: Sendable, Equatable, Codable {
    /// −log p̂(x_t | x_<t): how unlikely the frame was under the model's prediction.
    public var surprise: Double
    /// KL_t minus the mean KL of the previous `window` observed frames: how much more than
    /// lately the frame moved the latent away from the prior (the paper's Fig. 2 signal).
    public var klRise: Double
    /// |log v̄_t − the mean of log v̄ over the previous `window` observed frames|, v̄ the
    /// emission's predicted variance averaged over dimensions (the paper's Fig. 3 signal): how
    /// far the noise level the model reads off the stream moved, up or down.
    public var varianceShift: Double
}

/// The three scores, by name (`surprise`, `kl-rise`, `variance-shift`).
public enum SurpriseKind: String, Sendable, Codable, CaseIterable {
    /// ``SurpriseScores/surprise``: −log p̂(x_t | x_<t).
    case surprise
    /// ``SurpriseScores/klRise``: KL_t over its recent mean.
    case klRise = "kl-rise"
    /// ``SurpriseScores/varianceShift``: the predicted log-variance's move, up or down.
    case varianceShift = "variance-shift"

    /// This score of `scores`.
    public func value(_ scores: SurpriseScores) -> Double {
        switch self {
        case .surprise: return scores.surprise
        case .klRise: return scores.klRise
        case .varianceShift: return scores.varianceShift
        }
    }
}

/// Turns one stream's observations into ``SurpriseScores``: keeps the KL and the log predicted
/// variance of the last `window` observed frames (rings: nothing grows with the stream).
public struct SurpriseTracker: Sendable, Equatable {
    /// Observed frames the KL rise and the variance shift compare against.
    public let window: Int
    private var recentKL: [Double]
    private var recentLogVariance: [Double]
    private var filled = 0, next = 0

    /// - Parameter window: trailing frames of the KL rise and the variance shift (≥ 1).
    public init(window: Int = 5) {
        precondition(window >= 1, "the window must be at least one frame")
        self.window = window
        recentKL = [Double](repeating: 0, count: window)
        recentLogVariance = recentKL
    }

    /// The scores of `observation`'s frame; nil for a missing frame (which leaves the window).
    /// The first frame's KL rise and variance shift are 0 (nothing to compare with).
    public mutating func update(_ observation: OnlineObservation) -> SurpriseScores? {
        guard observation.observed else { return nil }
        let variance = observation.emissionVariance.reduce(0, +) / Double(max(observation.emissionVariance.count, 1))
        let logVariance = log(max(variance, 1e-300))
        var (meanKL, meanLogVariance) = (observation.kl, logVariance)
        if filled > 0 {
            (meanKL, meanLogVariance) = (0, 0)
            for i in 0..<filled {
                meanKL += recentKL[i]
                meanLogVariance += recentLogVariance[i]
            }
            meanKL /= Double(filled)
            meanLogVariance /= Double(filled)
        }
        recentKL[next] = observation.kl
        recentLogVariance[next] = logVariance
        next = (next + 1) % window
        filled = min(filled + 1, window)
        return SurpriseScores(surprise: -observation.logPredictive, klRise: observation.kl - meanKL,
                              varianceShift: abs(logVariance - meanLogVariance))
    }

    /// Forgets the window (a new stream).
    public mutating func reset() { (filled, next) = (0, 0) }
}

/// Alarm thresholds: a score above its threshold raises an alarm. Calibrated as the
/// `quantile` of the scores a split's frames get (from the `warmup`-th frame of each sequence
/// on: the first frames are surprising to any model that has seen nothing yet).
public struct AlarmThresholds: Sendable, Equatable, Codable {
    /// The quantile of the calibration scores each threshold is (0.99: 1% of calibration
    /// frames alarm).
    public var quantile: Double
    /// The trailing window of the KL rise and the variance shift.
    public var window: Int
    /// Frames of each sequence not scored (no alarm there).
    public var warmup: Int
    /// One threshold per ``SurpriseKind``, keyed by its raw value.
    public var thresholds: [String: Double]
    /// Frames the thresholds were calibrated on.
    public var calibrationFrames: Int

    /// The threshold of `kind`.
    public func threshold(_ kind: SurpriseKind) -> Double { thresholds[kind.rawValue]! }

    /// Whether `scores` at frame `step` (from 0) raise an alarm on `kind`.
    public func alarm(_ kind: SurpriseKind, _ scores: SurpriseScores, step: Int) -> Bool {
        step >= warmup && kind.value(scores) > threshold(kind)
    }

    /// Scores every frame of `split` (its sequences filtered side by side) and takes each
    /// score's `quantile`.
    /// - Parameters:
    ///   - model: the trained model.
    ///   - split: the calibration frames (its targets), e.g. the training split.
    ///   - inputOffset: what the encoder subtracts from a frame (a piano roll's frame mean).
    ///   - settings: the online filter's K and bound.
    ///   - quantile: in (0, 1).
    ///   - window: the KL rise's window.
    ///   - warmup: frames per sequence left out.
    ///   - seed: the filter's seed.
    /// - Throws: ``OnlineFilterError`` for bad settings or a split with nothing to score.
    public static func calibrate<S: KernelScalar>(model: SequenceModel<S>, split: SequenceSplit, inputOffset: [Double]?,
                                                  settings: FilterSettings, quantile: Double, window: Int = 5,
                                                  warmup: Int = 5, seed: UInt64) throws -> AlarmThresholds {
        guard quantile > 0 && quantile < 1 else { throw OnlineFilterError("the alarm quantile must be in (0, 1), got \(quantile)") }
        let scores = try RegimeShiftScoring.score(model: model, split: split, inputOffset: inputOffset, settings: settings,
                                                  window: window, seed: seed)
        var values = SurpriseKind.allCases.map { _ in [Double]() }
        for sequence in scores {
            for (t, s) in sequence.enumerated() where t >= warmup {
                guard let s else { continue }
                for (i, kind) in SurpriseKind.allCases.enumerated() { values[i].append(kind.value(s)) }
            }
        }
        guard !values[0].isEmpty else { throw OnlineFilterError("no frame after the warm-up of \(warmup) to calibrate on") }
        var thresholds: [String: Double] = [:]
        for (i, kind) in SurpriseKind.allCases.enumerated() {
            thresholds[kind.rawValue] = ForecastScore.sortedQuantile(values[i].sorted(), quantile)
        }
        return AlarmThresholds(quantile: quantile, window: window, warmup: warmup, thresholds: thresholds,
                               calibrationFrames: values[0].count)
    }
}

/// Scores of whole splits, one stream per sequence.
public enum RegimeShiftScoring {
    /// `[sequence][step]` the scores of every frame of `split` (nil: a missing frame), its
    /// sequences filtered side by side (stream b has noise key b).
    /// - Parameters:
    ///   - model: the trained model.
    ///   - split: the frames (its targets).
    ///   - inputOffset: what the encoder subtracts from a frame.
    ///   - settings: the online filter's K and bound.
    ///   - window: the KL rise's window.
    ///   - seed: the filter's seed.
    /// - Throws: ``OnlineFilterError`` for an empty split or one of the wrong width.
    public static func score<S: KernelScalar>(model: SequenceModel<S>, split: SequenceSplit, inputOffset: [Double]?,
                                       settings: FilterSettings, window: Int, seed: UInt64) throws -> [[SurpriseScores?]] {
        let D = model.configuration.dataDim, B = split.count
        guard B > 0 else { throw OnlineFilterError("no sequences to score") }
        guard split.dataDim == D else { throw OnlineFilterError("the data have \(split.dataDim) dimensions, the model \(D)") }
        let filter = try OnlineFilter(model: model, settings: settings, streams: B, seed: seed, inputOffset: inputOffset)
        var trackers = [SurpriseTracker](repeating: SurpriseTracker(window: window), count: B)
        var out = (0..<B).map { [SurpriseScores?](repeating: nil, count: split.length(of: $0)) }
        var frames = [[Double]](repeating: [Double](repeating: .nan, count: D), count: B)
        var observations: [OnlineObservation] = []
        for t in 0..<split.maxLength {
            split.streamFrames(step: t, into: &frames)
            try filter.observe(frames, into: &observations)
            for b in 0..<B where t < split.length(of: b) { out[b][t] = trackers[b].update(observations[b]) }
        }
        return out
    }
}

/// How well the alarms find known regime switches: per score, the delay from each switch to
/// the first alarm within `tolerance` frames of it (a switch with none is missed) and the
/// alarms elsewhere (false alarms), per 1000 scored frames outside the switches' windows.
public struct RegimeShiftEvaluation: Sendable, Equatable, Codable {
    /// One score's detection record.
    public struct Detector: Sendable, Equatable, Codable {
        /// The score (`surprise` or `kl-rise`).
        public var score: String
        /// Switches after the warm-up.
        public var switches: Int
        /// How many of them an alarm found within the tolerance.
        public var detected: Int
        /// Mean frames from a switch to its first alarm (detected switches; nil if none).
        public var meanDelay: Double?
        /// Median frames from a switch to its first alarm (detected switches; nil if none).
        public var medianDelay: Double?
        /// Alarms outside every switch's window.
        public var falseAlarms: Int
        /// Those alarms per 1000 scored frames outside the windows.
        public var falseAlarmsPer1000: Double
        /// Per switch label (e.g. `noise up`), when the switches have labels.
        public var byLabel: [String: LabelRecord]?
    }

    /// The switches of one label and their detections.
    public struct LabelRecord: Sendable, Equatable, Codable {
        /// Switches of this label after the warm-up.
        public var switches: Int
        /// How many of them an alarm found within the tolerance.
        public var detected: Int
        /// Mean frames from a switch to its first alarm (nil: none detected).
        public var meanDelay: Double?
    }

    /// The thresholds the alarms used.
    public var thresholds: AlarmThresholds
    /// Frames after a switch in which an alarm counts as its detection (cut at the next switch).
    public var tolerance: Int
    /// Sequences scored.
    public var sequences: Int
    /// Frames scored (after the warm-up).
    public var scoredFrames: Int
    /// One record per ``SurpriseKind``.
    public var detectors: [Detector]

    /// Filters `split` (one stream per sequence), raises alarms with `thresholds` and matches
    /// them to the known switch frames.
    /// - Parameters:
    ///   - model: the trained model.
    ///   - split: the frames.
    ///   - switchSteps: per sequence, the frames at which a new regime starts.
    ///   - switchLabels: per sequence, a label for each switch (e.g. `noise up`), to report
    ///     detections per label; nil: none.
    ///   - inputOffset: what the encoder subtracts from a frame.
    ///   - thresholds: from ``AlarmThresholds/calibrate(model:split:inputOffset:settings:quantile:window:warmup:seed:)``.
    ///   - settings: the online filter's K and bound.
    ///   - tolerance: frames after a switch that count as its detection (≥ 1).
    ///   - seed: the filter's seed.
    /// - Throws: ``OnlineFilterError`` for a switch list per sequence that does not match.
    public static func run<S: KernelScalar>(model: SequenceModel<S>, split: SequenceSplit, switchSteps: [[Int]],
                                            switchLabels: [[String]]? = nil, inputOffset: [Double]?,
                                            thresholds: AlarmThresholds, settings: FilterSettings,
                                            tolerance: Int = 10, seed: UInt64) throws -> RegimeShiftEvaluation {
        guard switchSteps.count == split.count else {
            throw OnlineFilterError("\(switchSteps.count) switch lists for \(split.count) sequences")
        }
        if let switchLabels {
            guard switchLabels.map(\.count) == switchSteps.map(\.count) else {
                throw OnlineFilterError("the switch labels do not match the switches sequence by sequence")
            }
        }
        guard tolerance >= 1 else { throw OnlineFilterError("the tolerance must be at least 1 frame, got \(tolerance)") }
        let scores = try RegimeShiftScoring.score(model: model, split: split, inputOffset: inputOffset, settings: settings,
                                                  window: thresholds.window, seed: seed)
        var detectors: [Detector] = []
        var scoredFrames = 0
        for kind in SurpriseKind.allCases {
            var delays: [Double] = [], switches = 0, falseAlarms = 0, outside = 0
            var labelled: [String: (switches: Int, delays: [Double])] = [:]
            scoredFrames = 0
            for (b, sequence) in scores.enumerated() {
                let T = sequence.count
                let kept = switchSteps[b].indices.filter { switchSteps[b][$0] >= thresholds.warmup && switchSteps[b][$0] < T }
                    .sorted { switchSteps[b][$0] < switchSteps[b][$1] }
                let starts = kept.map { switchSteps[b][$0] }
                var inWindow = [Bool](repeating: false, count: T)
                for (i, s) in starts.enumerated() {
                    let end = min(s + tolerance, i + 1 < starts.count ? starts[i + 1] : T, T)
                    for t in s..<end { inWindow[t] = true }
                    switches += 1
                    let label = switchLabels?[b][kept[i]]
                    if let label { labelled[label, default: (0, [])].switches += 1 }
                    if let first = (s..<end).first(where: { t in sequence[t].map { thresholds.alarm(kind, $0, step: t) } ?? false }) {
                        delays.append(Double(first - s))
                        if let label { labelled[label]!.delays.append(Double(first - s)) }
                    }
                }
                for t in thresholds.warmup..<max(T, thresholds.warmup) {
                    guard let s = sequence[t] else { continue }
                    scoredFrames += 1
                    if inWindow[t] { continue }
                    outside += 1
                    if thresholds.alarm(kind, s, step: t) { falseAlarms += 1 }
                }
            }
            let sorted = delays.sorted()
            detectors.append(Detector(
                score: kind.rawValue, switches: switches, detected: delays.count,
                meanDelay: delays.isEmpty ? nil : delays.reduce(0, +) / Double(delays.count),
                medianDelay: sorted.isEmpty ? nil : ForecastScore.sortedQuantile(sorted, 0.5),
                falseAlarms: falseAlarms, falseAlarmsPer1000: 1000 * Double(falseAlarms) / Double(max(outside, 1)),
                byLabel: switchLabels == nil ? nil : labelled.mapValues { record in
                    LabelRecord(switches: record.switches, detected: record.delays.count,
                                meanDelay: record.delays.isEmpty ? nil : record.delays.reduce(0, +) / Double(record.delays.count))
                }))
        }
        return RegimeShiftEvaluation(thresholds: thresholds, tolerance: tolerance, sequences: split.count,
                                     scoredFrames: scoredFrames, detectors: detectors)
    }
}

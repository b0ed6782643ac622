import Foundation
import Testing
@testable import VHRNN

/// Surprise scores, their calibrated thresholds and the detection record on known switches.
@Suite("Regime-shift scores")
struct RegimeShiftTests {
    typealias Configs = OnlineFilterTests

    @Test func theKLRiseComparesWithTheTrailingWindow() {
        var tracker = SurpriseTracker(window: 2)
        func observed(_ kl: Double, _ logPredictive: Double = -1, variance: Double = 1) -> OnlineObservation {
            var o = OnlineObservation(dataDim: 2)
            (o.kl, o.logPredictive, o.emissionVariance) = (kl, logPredictive, [variance, variance])
            return o
        }
        #expect(tracker.update(observed(4, -3)) == SurpriseScores(surprise: 3, klRise: 0, varianceShift: 0))
        #expect(tracker.update(observed(6))?.klRise == 2)        // 6 − 4
        var missing = observed(100)
        missing.observed = false
        #expect(tracker.update(missing) == nil)                  // leaves the window alone
        #expect(tracker.update(observed(9))?.klRise == 4)        // 9 − mean(4, 6)
        #expect(tracker.update(observed(9))?.klRise == 1.5)      // 9 − mean(6, 9)
        tracker.reset()
        #expect(tracker.update(observed(1))?.klRise == 0)
        // The variance shift: |log v − the window's mean log v|, either way.
        var shifts = SurpriseTracker(window: 2)
        #expect(shifts.update(observed(0, variance: 4))?.varianceShift == 0)
        #expect(abs(shifts.update(observed(0, variance: 1))!.varianceShift - log(4)) <= 1e-12)          // down
        #expect(abs(shifts.update(observed(0, variance: 16))!.varianceShift - (log(16) - log(2))) <= 1e-12)  // up, vs mean(log 4, log 1)
    }

    /// `count` sequences of 30 frames of N(0, 1); frames `jump ..< jump + 3` (when given) ×25.
    static func split(count: Int, jump: Int?, seed: UInt64) -> (SequenceSplit, [[Int]]) {
        var rng = SplitMix64(seed: seed)
        let D = Configs.configs[0].dataDim
        let sequences = (0..<count).map { _ in
            (0..<(30 * D)).map { i in rng.nextStandardNormal() * ((jump.map { (i / D) >= $0 && (i / D) < $0 + 3 } ?? false) ? 25 : 1) }
        }
        return (SequenceSplit(dataDim: D, sequences: sequences), (0..<count).map { _ in jump.map { [$0] } ?? [] })
    }

    @Test func calibratedThresholdsAlarmOnTheirQuantileAndFindAJump() throws {
        let model = try Configs.model(Configs.configs[0], Double.self)
        let settings = FilterSettings(bound: .fivo, particleCount: 32)
        let (calibration, _) = Self.split(count: 20, jump: nil, seed: 1)
        let thresholds = try AlarmThresholds.calibrate(model: model, split: calibration, inputOffset: nil, settings: settings,
                                                       quantile: 0.95, window: 4, warmup: 3, seed: 2)
        #expect(thresholds.calibrationFrames == 20 * 27)
        // On its own calibration frames about 5% alarm (exactly: those above the quantile).
        let scores = try RegimeShiftScoring.score(model: model, split: calibration, inputOffset: nil, settings: settings,
                                                  window: 4, seed: 2)
        for kind in SurpriseKind.allCases {
            var alarms = 0
            for sequence in scores { for (t, s) in sequence.enumerated() where thresholds.alarm(kind, s!, step: t) { alarms += 1 } }
            #expect(alarms >= 20 && alarms <= 28, "\(kind): \(alarms) of 540")
        }
        // A 25-fold burst at frame 15 is found at once by the surprise, with few false alarms.
        let (jumps, switches) = Self.split(count: 10, jump: 15, seed: 3)
        let record = try RegimeShiftEvaluation.run(model: model, split: jumps, switchSteps: switches,
                                                   switchLabels: switches.map { $0.map { _ in "burst" } }, inputOffset: nil,
                                                   thresholds: thresholds, settings: settings, tolerance: 5, seed: 4)
        let surprise = record.detectors.first { $0.score == "surprise" }!
        #expect(surprise.switches == 10 && surprise.detected == 10 && surprise.meanDelay == 0)
        #expect(surprise.byLabel == ["burst": .init(switches: 10, detected: 10, meanDelay: 0)])
        #expect(record.scoredFrames == 10 * 27)
        // 10 × (27 − 5) frames outside the switch windows; false alarms among them per 1000.
        #expect(abs(surprise.falseAlarmsPer1000 - 1000 * Double(surprise.falseAlarms) / 220) <= 1e-9)
        #expect(surprise.falseAlarmsPer1000 < 150, "\(surprise)")
        #expect(throws: OnlineFilterError.self) {
            try RegimeShiftEvaluation.run(model: model, split: jumps, switchSteps: [], inputOffset: nil, thresholds: thresholds,
                                          settings: settings, seed: 4)
        }
        #expect(throws: OnlineFilterError.self) {
            try RegimeShiftEvaluation.run(model: model, split: jumps, switchSteps: switches, switchLabels: switches.map { _ in [] },
                                          inputOffset: nil, thresholds: thresholds, settings: settings, seed: 4)
        }
    }
}

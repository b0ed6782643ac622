import Foundation
import Testing
@testable import VHRNN

/// Forecasts from an online filter: they start where the filter's particles are (checked
/// exactly against the sampler's continuation, and in distribution against the filter's own
/// next log predictive), leave the filter untouched, and the scores and baselines they are
/// judged by compute what their definitions say.
@Suite("Forecasts")
struct ForecastTests {
    typealias Configs = OnlineFilterTests

    /// Before any frame a forecast is a draw from the prior: the sampler's `sample` row for row.
    @Test func aForecastBeforeTheFirstFrameIsAPriorSample() throws {
        for config in Configs.configs {
            let model = try Configs.model(config, Double.self)
            let offset = config.emission == .bernoulli ? [Double](repeating: 0.3, count: config.dataDim) : nil
            let filter = try OnlineFilter(model: model, settings: FilterSettings(bound: .fivo, particleCount: 8), seed: 1,
                                          inputOffset: offset)
            let forecast = try filter.forecast(horizon: 6, paths: 5, seed: 17)[0]
            let prior = SequenceSampler(model: model).sample(count: 5, steps: 6, seed: 17, inputOffset: offset)
            #expect(forecast.samples == prior.flatMap { $0 }, "\(config.model) \(config.emission)")
        }
    }

    /// With one particle and IWAE weights the filtering distribution is one state: the
    /// forecast must equal the sampler's continuation of the same frames (same filter noise,
    /// same generation seed), which computes that state its own way.
    @Test func aOneParticleForecastEqualsTheSamplersContinuation() throws {
        for config in Configs.configs {
            let model = try Configs.model(config, Double.self)
            let D = config.dataDim
            let offset = config.emission == .bernoulli ? [Double](repeating: 0.25, count: D) : nil
            let frames = Configs.frames(Configs.split(config, count: 1), 0)
            let settings = FilterSettings(bound: .iwae, particleCount: 1)
            let seed: UInt64 = 31
            let filter = try OnlineFilter(model: model, settings: settings, seed: SequenceSampler<Double>.derive(seed, stream: 1),
                                          inputOffset: offset)
            for frame in frames { _ = try filter.observe(frame) }
            let forecast = try filter.forecast(horizon: 5, paths: 4, seed: SequenceSampler<Double>.derive(seed, stream: 2))[0]
            let continued = try SequenceSampler(model: model).continue(prefix: frames.flatMap { $0 }, steps: 5, count: 4,
                                                                       seed: seed, filterSettings: settings, inputOffset: offset)
            let expected = continued.flatMap { $0 }
            #expect(forecast.samples.count == expected.count)
            let gap = zip(forecast.samples, expected).map { abs($0 - $1) }.max() ?? 0
            #expect(gap <= 1e-9, "\(config.model) \(config.cell) \(config.emission): largest difference \(gap)")
        }
    }

    /// A forecast changes nothing: the stream goes on exactly as without it, also across a
    /// resampling (always resampling: the forecast reads the pending ancestors).
    @Test func aForecastLeavesTheFilterUntouched() throws {
        let config = Configs.configs[0]
        let model = try Configs.model(config, Float.self)
        let frames = Configs.frames(Configs.split(config, count: 1), 0)
        let settings = FilterSettings(bound: .fivo, particleCount: 16, criterion: .always)
        let plain = try OnlineFilter(model: model, settings: settings, seed: 2)
        let forecasting = try OnlineFilter(model: model, settings: settings, seed: 2)
        for frame in frames {
            let expected = try plain.observe(frame)
            let a = try forecasting.forecast(horizon: 3, paths: 7, seed: 5)
            let b = try forecasting.forecast(horizon: 3, paths: 7, seed: 5)
            #expect(a == b)
            #expect(try forecasting.observe(frame) == expected)
        }
    }

    /// In distribution: the one-step-ahead forecast's log density of the next frame estimates
    /// log p(x_{t+1} | x_≤t), as the filter's next log predictive does (through the proposal
    /// instead of the prior). Summed over 23 frames the two agree to within 0.2 nats here (a
    /// check of the whole path; which particles are drawn is pinned exactly by the next test).
    @Test func theOneStepForecastAgreesWithTheNextLogPredictive() throws {
        let config = Configs.configs[0]
        let model = try Configs.model(config, Double.self)
        // Larger weights, so that the particles' latent paths matter to the next frame, and
        // frames the model itself generates, so that the filter can tell the paths apart.
        for i in 0..<model.parameters.layout.count { model.parameters.values[i] *= 1.5 }
        let D = config.dataDim
        let generated = SequenceSampler(model: model).sample(count: 1, steps: 24, seed: 40)[0]
        let frames = (0..<24).map { t in Array(generated[(t * D)..<((t + 1) * D)]) }
        for criterion in [ResamplingCriterion.always, .default] {
            let filter = try OnlineFilter(model: model, settings: FilterSettings(bound: .fivo, particleCount: 512, criterion: criterion),
                                          seed: 8)
            var forecastSum = 0.0, filterSum = 0.0
            for (t, frame) in frames.enumerated() {
                if t >= 1 {
                    let forecast = try filter.forecast(horizon: 1, paths: 4000, seed: UInt64(100 + t))[0]
                    forecastSum += forecast.logScore(frame[...], step: 0)
                }
                let o = try filter.observe(frame)
                if t >= 1 { filterSum += o.logPredictive }
            }
            #expect(abs(forecastSum - filterSum) <= 1,
                    "\(criterion): forecast \(forecastSum), filter \(filterSum)")
        }
    }

    /// Which particles the paths start from: drawn by the filtering weights of the filter's
    /// saved state (``OnlineFilterState``, whose restore is tested bit for bit), through the
    /// pending ancestors after a resampling, each path generating from its particle's saved
    /// state blocks.
    @Test func pathsStartFromParticlesDrawnByTheFilteringWeights() throws {
        let config = Configs.configs[0]
        let model = try Configs.model(config, Double.self)
        let frames = Configs.frames(Configs.split(config, count: 1), 0)
        let (K, M, H, seed): (Int, Int, Int, UInt64) = (6, 9, 4, 3)
        let c = config
        let widths = [c.hiddenDim, c.hiddenDim, c.hyperDim, c.hyperDim]
        for criterion in [ResamplingCriterion.always, .never] {
            let filter = try OnlineFilter(model: model, settings: FilterSettings(bound: .fivo, particleCount: K, criterion: criterion),
                                          seed: 5)
            for frame in frames.prefix(5) { _ = try filter.observe(frame) }
            let saved = filter.state.stream
            #expect(saved.gatherNext == (criterion == .always))
            let forecast = try filter.forecast(horizon: H, paths: M, seed: seed)[0]

            var generator = SplitMix64(seed: SeedDerivation.sequenceStream(seed: SequenceSampler<Double>.derive(seed, stream: 3), key: 0))
            let drawn = UnsafeMutablePointer<Int32>.allocate(capacity: M)
            defer { drawn.deallocate() }
            saved.weights.withUnsafeBufferPointer {
                LogWeights.independentDraws(logWeights: $0, draws: M, generator: &generator, into: drawn)
            }
            let rows = (0..<M).map { saved.gatherNext ? Int(saved.ancestors[Int(drawn[$0])]) : Int(drawn[$0]) }
            var samples = [Double](repeating: 0, count: M * H * c.dataDim), means = samples, sigmas = samples
            samples.withUnsafeMutableBufferPointer { x in
                means.withUnsafeMutableBufferPointer { mu in
                    sigmas.withUnsafeMutableBufferPointer { sigma in
                        SequenceSampler(model: model).generate(
                            rows: M, steps: H, seed: seed, inputOffset: nil,
                            start: { state in
                                for (part, (block, width)) in zip([state.h, state.c, state.hyperH, state.hyperC], zip(saved.stateBlocks, widths)) {
                                    for (m, row) in rows.enumerated() {
                                        for i in 0..<width { part[m * width + i] = block[row * width + i] }
                                    }
                                }
                                return true
                            },
                            into: GenerationOutput(frames: x.baseAddress!, means: mu.baseAddress!, sigmas: sigma.baseAddress!))
                    }
                }
            }
            #expect(forecast.samples == samples && forecast.means == means && forecast.sigmas == sigmas, "\(criterion)")
            #expect(Set(rows).count > 1)
        }
    }

    @Test func quantilesMeansAndVariancesFollowTheirDefinitions() throws {
        // Two paths, two steps, one dimension.
        let f = Forecast(horizon: 2, paths: 2, dataDim: 1, emission: .gaussian, samples: [1, 4, 3, 2],
                         means: [0, 2, 2, 2], sigmas: [1, 1, 1, 3])
        #expect(f.quantiles([0, 0.5, 1]) == [[1, 2], [2, 3], [3, 4]])
        #expect(f.predictiveMean == [1, 2])
        #expect(f.predictiveVariance == [2, 5])  // mean sigma² + variance of the means
        let logDensity = log(0.5 * exp(ForecastScore.gaussianLogDensity(1, mean: 0, sd: 1))
                             + 0.5 * exp(ForecastScore.gaussianLogDensity(1, mean: 2, sd: 1)))
        #expect(abs(f.logScore([1], step: 0) - logDensity) <= 1e-12)
        let moved = f.transformed(scale: [2], shift: [10])
        #expect(moved.samples == [12, 18, 16, 14] && moved.sigmas == [2, 2, 2, 6])
        let notes = Forecast(horizon: 1, paths: 2, dataDim: 2, emission: .bernoulli, samples: [1, 0, 0, 0],
                             means: [0.8, 0.1, 0.4, 0.3], sigmas: [])
        #expect(notes.noteProbabilities.enumerated().allSatisfy { abs($0.element - [0.6, 0.2][$0.offset]) <= 1e-12 })
        #expect(abs(notes.brierScore(1, step: 0, dim: 0) - 0.16) <= 1e-12)
        #expect(abs(notes.logScore([1, 0], step: 0) - log(0.5 * 0.8 * 0.9 + 0.5 * 0.4 * 0.7)) <= 1e-12)
    }

    @Test func scoringRulesMatchTheirClosedForms() {
        // The fair sample CRPS of many normal draws approaches the Gaussian CRPS.
        var rng = SplitMix64(seed: 3)
        let draws = (0..<20000).map { _ in 1.5 + 2 * rng.nextStandardNormal() }.sorted()
        for x in [-3.0, 1.5, 2.0, 7.0] {
            let exact = ForecastScore.gaussianCRPS(x, mean: 1.5, sd: 2)
            #expect(abs(ForecastScore.sampleCRPS(sorted: draws, x) - exact) <= 0.02 * exact + 0.01)
        }
        // Two draws: |X − x| averaged minus |X1 − X2| / 2.
        #expect(abs(ForecastScore.sampleCRPS(sorted: [0, 2], 3) - (2.0 - 1.0)) <= 1e-12)
        // CRPS of a point mass is the absolute error; the Gaussian CRPS tends to it.
        #expect(abs(ForecastScore.gaussianCRPS(2, mean: 0, sd: 1e-9) - 2) <= 1e-6)
        for p in [1e-6, 0.01, 0.05, 0.3, 0.5, 0.9, 0.975, 1 - 1e-7] {
            #expect(abs(ForecastScore.normalCDF(ForecastScore.normalQuantile(p)) - p) <= 1e-12 * max(1, p / 1e-6))
        }
        #expect(abs(ForecastScore.normalQuantile(0.95) - 1.6448536269514722) <= 1e-12)
        #expect(ForecastScore.logMeanExp([-1000, -1000]) == -1000)
    }

    /// Fitted on a long AR(1) series, the AR(1) baseline recovers its coefficients and the
    /// last-value baseline the variance of h-step differences.
    @Test func baselinesRecoverWhatTheyFit() throws {
        var rng = SplitMix64(seed: 12)
        var x = 0.0, series: [Double] = []
        for _ in 0..<40000 {
            x = 0.5 + 0.8 * x + 0.3 * rng.nextStandardNormal()
            series.append(x)
        }
        let train = SequenceSplit(dataDim: 1, sequences: [series])
        let ar = try ForecastBaseline(.ar1, fittedOn: train, observations: .real, horizon: 2)
        let one = ar.predictive(after: [1.0], stepsAhead: 1, dim: 0), two = ar.predictive(after: [1.0], stepsAhead: 2, dim: 0)
        #expect(abs(one.mean - 1.3) <= 0.02 && abs(one.sd - 0.3) <= 0.01)
        #expect(abs(two.mean - (0.5 + 0.8 * 1.3)) <= 0.03 && abs(two.sd - 0.3 * (1 + 0.64).squareRoot()) <= 0.01)
        let last = try ForecastBaseline(.lastValue, fittedOn: train, observations: .real, horizon: 1)
        // Var(x_{t+1} − x_t) of a stationary AR(1): 2 σ² / (1 + b).
        let sd = last.predictive(after: [4.0], stepsAhead: 1, dim: 0)
        #expect(sd.mean == 4 && abs(sd.sd - (2 * 0.09 / 1.8).squareRoot()) <= 0.005)
        // Binary: a key that stays on 9 times in 10.
        let keys = (0..<4000).map { t in (t / 10) % 2 == 0 ? 1.0 : 0.0 }
        let chain = try ForecastBaseline(.ar1, fittedOn: SequenceSplit(dataDim: 1, sequences: [keys]), observations: .binary,
                                         horizon: 1)
        #expect(abs(chain.predictive(after: [1.0], stepsAhead: 1, dim: 0).mean - 0.9) <= 0.01)
        #expect(abs(chain.predictive(after: [0.0], stepsAhead: 1, dim: 0).mean - 0.1) <= 0.01)
    }

    /// The evaluation scores every (sequence, origin, step ahead) that exists, for the model
    /// and both baselines, with finite scores and coverages in [0, 1].
    @Test func theEvaluationScoresEveryForecastThatExists() throws {
        for config in [Configs.configs[0], Configs.configs[2]] {
            let model = try Configs.model(config, Double.self)
            let split = Configs.split(config, count: 3)  // lengths 9, 10, 11
            let binary = config.emission == .bernoulli
            let settings = ForecastEvaluationSettings(horizon: 3, paths: 20, warmup: 4, stride: 2)
            let report = try ForecastEvaluation.run(
                model: model, split: split, train: Configs.split(config, count: 4), observations: binary ? .binary : .real,
                inputOffset: nil, filterSettings: FilterSettings(bound: .fivo, particleCount: 8), settings: settings, seed: 1)
            // Origins after 4, 6, 8 and 10 frames (10 < 11, the longest).
            #expect(report.origins == 4)
            var expected = [0, 0, 0]
            for length in [9, 10, 11] {
                for seen in stride(from: 4, to: length, by: 2) {
                    for h in 0..<3 where seen + h < length { expected[h] += 1 }
                }
            }
            #expect(report.forecasters.map(\.name) == ["model", "last-value", "ar1"])
            for f in report.forecasters {
                #expect(f.byStepsAhead.map(\.frames) == expected)
                #expect(f.overall.frames == expected.reduce(0, +))
                for s in f.byStepsAhead + [f.overall] {
                    #expect(s.crps.isFinite && s.crps >= 0 && s.logScore.isFinite)
                    if binary { #expect(s.coverage == nil) } else { #expect(s.coverage! >= 0 && s.coverage! <= 1) }
                }
            }
        }
        #expect(throws: OnlineFilterError.self) {
            try ForecastEvaluation.run(model: Configs.model(Configs.configs[0], Double.self), split: Configs.split(Configs.configs[0], count: 1),
                                       train: Configs.split(Configs.configs[0], count: 1), observations: .real, inputOffset: nil,
                                       filterSettings: FilterSettings(bound: .fivo, particleCount: 4),
                                       settings: ForecastEvaluationSettings(warmup: 9), seed: 1)
        }
    }
}

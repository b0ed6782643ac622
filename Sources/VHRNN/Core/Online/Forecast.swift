import Foundation

/// A stream's predictive distribution for the next H frames, as M sample paths drawn from the
/// model's generative process started at the stream's filtering distribution
/// (``OnlineFilter/forecast(horizon:paths:seed:)``).
///
/// Each path carries, per step, the frame it drew and the emission it drew it from (mean and,
/// for a Gaussian emission, sigma), so the marginal predictive of step h is the mixture over
/// paths of p(x_{t+h} | z_{t+h}, h_{t+h-1}): its density, mean and variance are exact for the
/// drawn paths, and its quantiles are those of the drawn frames.
///
/// Layout: flat `(paths, horizon, D)` arrays; step index h = 0 is the first frame after the
/// last one observed.
public struct Forecast: Sendable, Equatable, Codable {
    /// Steps ahead (H).
    public let horizon: Int
    /// Sample paths (M).
    public let paths: Int
    /// Frame width (D).
    public let dataDim: Int
    /// The emission the paths were drawn from.
    public let emission: EmissionKind
    /// `(paths, horizon, D)` the frames drawn (0/1 for a Bernoulli emission).
    public var samples: [Double]
    /// `(paths, horizon, D)` each path's emission mean: note probabilities (Bernoulli), mu_x (Gaussian).
    public var means: [Double]
    /// `(paths, horizon, D)` each path's emission sigma_x (Gaussian; empty for Bernoulli).
    public var sigmas: [Double]

    /// A forecast from its parts (checked for shape).
    public init(horizon: Int, paths: Int, dataDim: Int, emission: EmissionKind, samples: [Double],
                means: [Double], sigmas: [Double]) {
        let n = paths * horizon * dataDim
        precondition(samples.count == n && means.count == n && sigmas.count == (emission == .gaussian ? n : 0),
                     "a forecast's arrays are (paths, horizon, D)")
        (self.horizon, self.paths, self.dataDim, self.emission) = (horizon, paths, dataDim, emission)
        (self.samples, self.means, self.sigmas) = (samples, means, sigmas)
    }

    @inline(__always) private func index(path m: Int, step h: Int, dim d: Int) -> Int {
        (m * horizon + h) * dataDim + d
    }

    /// Path m's frames, `(horizon, D)` flat.
    public func path(_ m: Int) -> ArraySlice<Double> {
        samples[(m * horizon * dataDim)..<((m + 1) * horizon * dataDim)]
    }

    /// `(horizon, D)` the predictive mean of every step and dimension: the mean over paths of
    /// the emission mean (for a Bernoulli emission the note probability).
    public var predictiveMean: [Double] {
        var out = [Double](repeating: 0, count: horizon * dataDim)
        for m in 0..<paths {
            for i in 0..<(horizon * dataDim) { out[i] += means[m * horizon * dataDim + i] }
        }
        return out.map { $0 / Double(paths) }
    }

    /// `(horizon, D)` the per-key note probabilities (a Bernoulli emission's ``predictiveMean``).
    public var noteProbabilities: [Double] { predictiveMean }

    /// `(horizon, D)` the predictive variance: mean of sigma² plus the variance of the means over
    /// paths (Gaussian), p̄(1 − p̄) (Bernoulli).
    public var predictiveVariance: [Double] {
        let mean = predictiveMean
        var out = [Double](repeating: 0, count: horizon * dataDim)
        switch emission {
        case .bernoulli:
            for i in out.indices { out[i] = mean[i] * (1 - mean[i]) }
        case .gaussian:
            for m in 0..<paths {
                for i in 0..<(horizon * dataDim) {
                    let j = m * horizon * dataDim + i, deviation = means[j] - mean[i]
                    out[i] += sigmas[j] * sigmas[j] + deviation * deviation
                }
            }
            for i in out.indices { out[i] /= Double(paths) }
        }
        return out
    }

    /// Empirical quantiles of the drawn frames: `[level][h · D + d]`, linearly interpolated
    /// between order statistics (R's type 7; level 0 is the smallest draw, 1 the largest).
    /// - Precondition: every level is in [0, 1].
    public func quantiles(_ levels: [Double]) -> [[Double]] {
        precondition(levels.allSatisfy { $0 >= 0 && $0 <= 1 }, "quantile levels are in [0, 1]")
        var out = levels.map { _ in [Double](repeating: 0, count: horizon * dataDim) }
        var column = [Double](repeating: 0, count: paths)
        for h in 0..<horizon {
            for d in 0..<dataDim {
                for m in 0..<paths { column[m] = samples[index(path: m, step: h, dim: d)] }
                column.sort()
                for (l, level) in levels.enumerated() {
                    out[l][h * dataDim + d] = ForecastScore.sortedQuantile(column, level)
                }
            }
        }
        return out
    }

    /// log p̂(x_{t+h} = frame): the log of the mixture over paths of the step's emission
    /// density (a Gaussian's density, a Bernoulli's probability, of the whole frame).
    public func logScore(_ frame: ArraySlice<Double>, step h: Int) -> Double {
        precondition(frame.count == dataDim, "a frame of \(frame.count) values, the forecast's have \(dataDim)")
        var logs = [Double](repeating: 0, count: paths)
        for m in 0..<paths {
            var sum = 0.0
            for (d, x) in frame.enumerated() {
                let j = index(path: m, step: h, dim: d)
                switch emission {
                case .bernoulli: sum += ForecastScore.bernoulliLogProbability(means[j], x)
                case .gaussian: sum += ForecastScore.gaussianLogDensity(x, mean: means[j], sd: sigmas[j])
                }
            }
            logs[m] = sum
        }
        return ForecastScore.logMeanExp(logs)
    }

    /// The continuous ranked probability score of value `x` of dimension d at step h under the
    /// drawn frames (the unbiased "fair" estimator; lower is better). For 0/1 frames it is the
    /// Brier score of the drawn frames' frequency — use ``brierScore(_:step:dim:)`` for the
    /// emission's probability instead.
    public func crps(_ x: Double, step h: Int, dim d: Int) -> Double {
        var column = (0..<paths).map { samples[index(path: $0, step: h, dim: d)] }
        column.sort()
        return ForecastScore.sampleCRPS(sorted: column, x)
    }

    /// (p̄ − x)² for a 0/1 value x under the step's note probability p̄ (Bernoulli).
    public func brierScore(_ x: Double, step h: Int, dim d: Int) -> Double {
        var p = 0.0
        for m in 0..<paths { p += means[index(path: m, step: h, dim: d)] }
        p /= Double(paths)
        return (p - x) * (p - x)
    }

    /// The forecast in other units: every frame, mean and quantile maps to shift + scale · x and
    /// sigma to |scale| · sigma, per dimension (e.g. a z-normalised model's forecast in data
    /// units: scale = std, shift = mean).
    public func transformed(scale: [Double], shift: [Double]) -> Forecast {
        precondition(scale.count == dataDim && shift.count == dataDim, "one scale and shift per dimension")
        var copy = self
        for i in samples.indices {
            let d = i % dataDim
            copy.samples[i] = shift[d] + scale[d] * samples[i]
            copy.means[i] = shift[d] + scale[d] * means[i]
            if emission == .gaussian { copy.sigmas[i] = abs(scale[d]) * sigmas[i] }
        }
        return copy
    }
}

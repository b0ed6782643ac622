import Foundation

/// The two trivial forecasters a model's forecast is scored against, fitted on a training
/// split. Each gives, per step ahead h and dimension d, an independent marginal predictive:
/// a Gaussian for real-valued data, a Bernoulli probability for binary data.
///
/// - **Last value** (persistence): x_{t+h} is x_t plus noise. Real: N(x_t, s²_{h,d}) with
///   s²_{h,d} the training split's mean of (x_{t+h,d} − x_{t,d})². Binary: P(x_{t+h,d} = 1)
///   is the training split's frequency of a key being on h steps after it was on (off), pooled
///   over keys (add-one smoothed).
/// - **AR(1)** per dimension: real: x_{t+1,d} = a_d + b_d x_{t,d} + N(0, s²_d) by least squares
///   on the training split's consecutive pairs, iterated h steps (mean a Σ_{i<h} bⁱ + bʰ x_t,
///   variance s² Σ_{i<h} b²ⁱ); binary: each key a two-state Markov chain with P(on | off) and
///   P(on | on) counted on the training split (add-one smoothed), iterated h steps.
public struct ForecastBaseline: Sendable, Equatable, Codable {
    /// Which baseline.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// Persistence: the last observed frame plus noise (see the type's description).
        case lastValue = "last-value"
        /// A per-dimension AR(1) fitted on the training split (binary data: a two-state Markov chain per key).
        case ar1 = "ar1"
    }

    /// Which baseline this is.
    public let kind: Kind
    /// The data it was fitted on: real-valued (Gaussian marginals) or binary (Bernoulli).
    public let observations: ObservationKind
    /// Frame width (D).
    public let dataDim: Int
    /// Steps ahead it was fitted for.
    public let horizon: Int
    /// Last value, real: `(horizon, D)` s². Binary: `(horizon, 2)` P(on | was off), P(on | was on).
    let persistence: [Double]
    /// AR(1), real: per dimension (a, b, s²); binary: per dimension (P(on | off), P(on | on)).
    let coefficients: [[Double]]

    /// Fits `kind` on `train`'s frames (its targets: raw 0/1 piano-roll frames, a real split's
    /// normalised values) for 1...`horizon` steps ahead.
    /// - Throws: ``OnlineFilterError`` when the split has no pair of frames `horizon` apart.
    public init(_ kind: Kind, fittedOn train: SequenceSplit, observations: ObservationKind, horizon: Int) throws {
        let D = train.dataDim
        (self.kind, self.observations, self.dataDim, self.horizon) = (kind, observations, D, horizon)
        let binary = observations == .binary
        switch kind {
        case .lastValue:
            var sums = [Double](repeating: 0, count: horizon * (binary ? 4 : D))
            var counts = [Double](repeating: 0, count: horizon)
            for x in train.targets {
                let T = x.count / D
                for h in 1...horizon where h < T {
                    for t in 0..<(T - h) {
                        counts[h - 1] += 1
                        for d in 0..<D {
                            let from = x[t * D + d], to = x[(t + h) * D + d]
                            if binary {
                                // (was off: count, on after), (was on: count, on after)
                                let base = (h - 1) * 4 + (from > 0.5 ? 2 : 0)
                                sums[base] += 1
                                sums[base + 1] += to > 0.5 ? 1 : 0
                            } else {
                                sums[(h - 1) * D + d] += (to - from) * (to - from)
                            }
                        }
                    }
                }
            }
            guard counts.allSatisfy({ $0 > 0 }) else {
                throw OnlineFilterError("the training split has no frames \(horizon) steps apart to fit the last-value baseline")
            }
            if binary {
                var probabilities: [Double] = []
                for h in 0..<horizon {
                    let wasOff: Double = (sums[h * 4 + 1] + 1) / (sums[h * 4] + 2)
                    let wasOn: Double = (sums[h * 4 + 3] + 1) / (sums[h * 4 + 2] + 2)
                    probabilities += [wasOff, wasOn]
                }
                persistence = probabilities
            } else {
                persistence = (0..<(horizon * D)).map { max(sums[$0] / counts[$0 / D], 1e-12) }
            }
            coefficients = []
        case .ar1:
            persistence = []
            var fitted: [[Double]] = []
            for d in 0..<D {
                var n = 0.0, sx = 0.0, sy = 0.0, sxx = 0.0, sxy = 0.0, syy = 0.0
                var offOn = [0.0, 0.0], onOn = [0.0, 0.0]
                for x in train.targets {
                    let T = x.count / D
                    for t in 0..<max(T - 1, 0) {
                        let a = x[t * D + d], b = x[(t + 1) * D + d]
                        n += 1; sx += a; sy += b; sxx += a * a; sxy += a * b; syy += b * b
                        if a > 0.5 { onOn[0] += 1; onOn[1] += b > 0.5 ? 1 : 0 } else { offOn[0] += 1; offOn[1] += b > 0.5 ? 1 : 0 }
                    }
                }
                guard n >= 2 else { throw OnlineFilterError("the training split has too few frames to fit an AR(1)") }
                if binary {
                    fitted.append([(offOn[1] + 1) / (offOn[0] + 2), (onOn[1] + 1) / (onOn[0] + 2)])
                } else {
                    let vx = sxx / n - (sx / n) * (sx / n), cxy = sxy / n - (sx / n) * (sy / n)
                    let b = vx > 1e-300 ? cxy / vx : 0, a = sy / n - b * sx / n
                    // mean of (y - a - b x)²
                    let cross: Double = 2 * a * b * sx / n - 2 * a * sy / n - 2 * b * sxy / n
                    let residual: Double = syy / n + a * a + b * b * sxx / n + cross
                    fitted.append([a, b, max(residual, 1e-12)])
                }
            }
            coefficients = fitted
        }
    }

    /// The marginal predictive of dimension d, `h` steps after frame `last` (h from 1):
    /// (mean, sd) of a Gaussian for real data, (p, 0) for binary data.
    public func predictive(after last: ArraySlice<Double>, stepsAhead h: Int, dim d: Int) -> (mean: Double, sd: Double) {
        precondition(h >= 1 && h <= horizon, "fitted for 1...\(horizon) steps ahead, asked for \(h)")
        let x = last[last.startIndex + d], binary = observations == .binary
        switch (kind, binary) {
        case (.lastValue, false):
            return (x, persistence[(h - 1) * dataDim + d].squareRoot())
        case (.lastValue, true):
            return (persistence[(h - 1) * 2 + (x > 0.5 ? 1 : 0)], 0)
        case (.ar1, false):
            let (a, b, s2) = (coefficients[d][0], coefficients[d][1], coefficients[d][2])
            var mean = x, variance = 0.0
            for _ in 0..<h {
                mean = a + b * mean
                variance = b * b * variance + s2
            }
            return (mean, variance.squareRoot())
        case (.ar1, true):
            let (offOn, onOn) = (coefficients[d][0], coefficients[d][1])
            var p = x > 0.5 ? 1.0 : 0.0
            for _ in 0..<h { p = offOn * (1 - p) + onOn * p }
            return (p, 0)
        }
    }
}

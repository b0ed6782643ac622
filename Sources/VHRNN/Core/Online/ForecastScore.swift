import Foundation

/// Proper scoring rules and the distribution functions they need, shared by the model's
/// forecasts (``Forecast``) and the baselines (``ForecastBaseline``). Lower CRPS and Brier
/// scores are better; higher log scores are better.
public enum ForecastScore {
    /// log N(x; mean, sd²).
    public static func gaussianLogDensity(_ x: Double, mean: Double, sd: Double) -> Double {
        let z = (x - mean) / sd
        return -0.5 * z * z - log(sd) - 0.5 * log(2 * Double.pi)
    }

    /// log p^x (1 − p)^(1 − x) for x in {0, 1}, with p kept inside [1e-12, 1 − 1e-12] so a
    /// confident miss costs about 27.6 nats instead of infinity.
    public static func bernoulliLogProbability(_ p: Double, _ x: Double) -> Double {
        let q = min(max(p, 1e-12), 1 - 1e-12)
        return x > 0.5 ? log(q) : log(1 - q)
    }

    /// log((1/n) Σ exp(v_i)), stable for large |v|.
    public static func logMeanExp(_ values: [Double]) -> Double {
        guard let top = values.max(), top > -.infinity else { return -.infinity }
        var sum = 0.0
        for v in values { sum += exp(v - top) }
        return top + log(sum / Double(values.count))
    }

    /// The CRPS of x under the empirical distribution of `sorted` (ascending) draws, in its
    /// unbiased ("fair") form: mean |X − x| − Σ_{i<j} |X_i − X_j| / (n(n − 1)). For one draw it
    /// is |X − x|.
    public static func sampleCRPS(sorted draws: [Double], _ x: Double) -> Double {
        let n = draws.count
        precondition(n >= 1, "the CRPS needs at least one draw")
        var absolute = 0.0, spread = 0.0
        for (i, v) in draws.enumerated() {
            absolute += abs(v - x)
            // Σ_{i<j} (X_(j) − X_(i)) = Σ_i (2i − n + 1) X_(i) for ascending X, i from 0.
            spread += Double(2 * i - n + 1) * v
        }
        let pairs = n > 1 ? spread / Double(n * (n - 1)) : 0
        return absolute / Double(n) - pairs
    }

    /// The CRPS of x under N(mean, sd²), in closed form:
    /// sd · (z (2Φ(z) − 1) + 2φ(z) − 1/√π) with z = (x − mean) / sd.
    public static func gaussianCRPS(_ x: Double, mean: Double, sd: Double) -> Double {
        let z = (x - mean) / sd
        let pdf = exp(-0.5 * z * z) / (2 * Double.pi).squareRoot()
        return sd * (z * (2 * normalCDF(z) - 1) + 2 * pdf - 1 / Double.pi.squareRoot())
    }

    /// Φ(z).
    public static func normalCDF(_ z: Double) -> Double { 0.5 * erfc(-z / 2.0.squareRoot()) }

    /// Φ⁻¹(p) for p in (0, 1): Acklam's rational approximation (relative error below 1.2e-9)
    /// refined by one Halley step.
    public static func normalQuantile(_ p: Double) -> Double {
        precondition(p > 0 && p < 1, "a normal quantile needs p in (0, 1), got \(p)")
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                 -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let low = 0.02425
        var x: Double
        if p < low {
            let q = (-2 * log(p)).squareRoot()
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else if p <= 1 - low {
            let q = p - 0.5, r = q * q
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        } else {
            let q = (-2 * log(1 - p)).squareRoot()
            x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        let e = normalCDF(x) - p, u = e * (2 * Double.pi).squareRoot() * exp(0.5 * x * x)
        return x - u / (1 + 0.5 * x * u)
    }

    /// The `level` quantile of ascending `sorted` values, interpolated between order statistics
    /// (R's type 7).
    public static func sortedQuantile(_ sorted: [Double], _ level: Double) -> Double {
        let position = level * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down)), upper = min(lower + 1, sorted.count - 1)
        let fraction = position - Double(lower)
        return sorted[lower] + fraction * (sorted[upper] - sorted[lower])
    }
}

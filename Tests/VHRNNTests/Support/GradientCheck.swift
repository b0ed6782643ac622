@testable import VHRNN

/// The central finite-difference harness every kernel gradient check goes through (after
/// ggml's test-backend-ops): for random inputs and a random projection `g` of the outputs,
/// `L = Σ out · g`; the analytic gradient (the kernel's backward with `dout = g`) is compared
/// element by element with `(L(x + h) − L(x − h)) / 2h`, in double precision.
///
/// Error measure and tolerance, stated once here:
///     error = |analytic − numeric| / max(|analytic|, |numeric|, absoluteFloor)
/// with h = 1e-5, absoluteFloor = 1e-2 and a pass at error ≤ 1e-6. Central differences in
/// double at this h are accurate to ~1e-10 for the smooth kernels tested, so a dropped or
/// wrong term (an O(1) relative error) fails by orders of magnitude.
enum GradientCheck {
    static let step = 1e-5
    static let absoluteFloor = 1e-2
    static let tolerance = 1e-6

    struct Report: CustomStringConvertible {
        var maxError = 0.0
        var checked = 0
        var worst = ""
        var description: String { "max error \(maxError) over \(checked) partials (worst: \(worst))" }
    }

    static func error(analytic: Double, numeric: Double) -> Double {
        abs(analytic - numeric) / max(abs(analytic), abs(numeric), absoluteFloor)
    }

    /// Runs the check for one kernel case in double precision.
    static func run(_ kernelCase: KernelCase<Double>, seed: UInt64) throws -> Report {
        var rng = SplitMix64(seed: seed)
        let inputs = kernelCase.inputs.map { $0.draw(Double.self, using: &rng) }
        let outputs = try kernelCase.forward(inputs)
        let projections = outputs.map { out in
            try! Tensor<Double>(shape: out.shape, values: (0..<out.count).map { _ in rng.nextStandardNormal() })
        }
        let analytic = try kernelCase.backward(inputs, projections)
        precondition(analytic.count == inputs.count, "backward must return one gradient slot per input")

        func loss() throws -> Double {
            let outs = try kernelCase.forward(inputs)
            var total = 0.0
            for (out, g) in zip(outs, projections) {
                for i in 0..<out.count { total += out[i] * g[i] }
            }
            return total
        }

        var report = Report()
        for (index, spec) in kernelCase.inputs.enumerated() where spec.differentiable {
            guard let grad = analytic[index] else {
                report.maxError = .infinity
                report.worst = "input \(index) (\(spec.name)) has no analytic gradient"
                return report
            }
            let x = inputs[index]
            for j in 0..<x.count {
                let original = x[j]
                x[j] = original + step
                let plus = try loss()
                x[j] = original - step
                let minus = try loss()
                x[j] = original
                let numeric = (plus - minus) / (2 * step)
                let e = error(analytic: grad[j], numeric: numeric)
                report.checked += 1
                if e > report.maxError || e.isNaN {
                    report.maxError = e.isNaN ? .infinity : e
                    report.worst = "\(spec.name)[\(j)]: analytic \(grad[j]) numeric \(numeric)"
                }
            }
        }
        return report
    }

    /// Runs the same case in both precisions on the same inputs and returns the largest
    /// difference of outputs and gradients, relative to max(|double value|, 1).
    static func precisionGap(float: KernelCase<Float>, double: KernelCase<Double>, seed: UInt64) throws -> Double {
        var rng = SplitMix64(seed: seed)
        let inputs64 = double.inputs.map { $0.draw(Double.self, using: &rng) }
        let inputs32 = inputs64.map { $0.converted(to: Float.self) }
        let out64 = try double.forward(inputs64)
        let out32 = try float.forward(inputs32)
        let g64 = out64.map { out in
            try! Tensor<Double>(shape: out.shape, values: (0..<out.count).map { _ in rng.nextStandardNormal() })
        }
        let grads64 = try double.backward(inputs64, g64)
        let grads32 = try float.backward(inputs32, g64.map { $0.converted(to: Float.self) })
        var gap = 0.0
        func compare(_ a: Tensor<Double>, _ b: Tensor<Float>) {
            for i in 0..<a.count {
                gap = max(gap, abs(a[i] - Double(b[i])) / max(abs(a[i]), 1))
            }
        }
        for (a, b) in zip(out64, out32) { compare(a, b) }
        for (a, b) in zip(grads64, grads32) {
            if let a, let b { compare(a, b) }
        }
        return gap
    }
}

/// How a kernel input is drawn.
struct InputSpec: Sendable {
    enum Domain: Sendable {
        /// Standard normal.
        case normal
        /// Uniform in [0.5, 2]: scales and standard deviations.
        case positive
        /// 0 or 1: Bernoulli targets.
        case binary
        /// Normal, but at least 0.1 from zero (keeps finite differences off ReLU's kink).
        case awayFromZero
        /// Normal times a factor.
        case scaled(Double)
    }

    var name: String
    var shape: [Int]
    var domain: Domain = .normal
    var differentiable = true

    func draw<S: KernelScalar>(_: S.Type, using rng: inout SplitMix64) -> Tensor<S> {
        let count = shape.reduce(1, *)
        let values: [S] = (0..<count).map { _ in
            switch domain {
            case .normal: return S(rng.nextStandardNormal())
            case .positive: return S(0.5 + 1.5 * rng.nextUnitDouble())
            case .binary: return rng.nextUnitDouble() < 0.3 ? 1 : 0
            case .awayFromZero:
                let v = rng.nextStandardNormal()
                return S(v >= 0 ? v + 0.1 : v - 0.1)
            case .scaled(let f): return S(f * rng.nextStandardNormal())
            }
        }
        return try! Tensor(shape: shape, values: values)
    }
}

/// A kernel under test at one shape: its inputs, its forward (returning the outputs the loss
/// sees) and its backward (returning one gradient per input, nil for non-differentiable ones).
struct KernelCase<S: KernelScalar> {
    var inputs: [InputSpec]
    var forward: ([Tensor<S>]) throws -> [Tensor<S>]
    var backward: (_ inputs: [Tensor<S>], _ outputGradients: [Tensor<S>]) throws -> [Tensor<S>?]
}

/// Builds a kernel case in either precision, so one table line serves the finite-difference
/// check (double) and the float-versus-double comparison.
protocol KernelCaseBuilder: Sendable, CustomStringConvertible {
    func build<S: KernelScalar>(_: S.Type) -> KernelCase<S>
}

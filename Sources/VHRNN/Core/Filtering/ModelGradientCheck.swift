/// A float64 finite-difference check of a whole model's bound: the analytic gradient from
/// ``ParticleFilter/backward(boundGradients:)`` against central differences of the bound, with
/// the noise (same seed) and the resampling decisions and ancestors (replayed plan) fixed, so
/// the bound is a deterministic function of the parameters (<doc:BoundsAndResampling#Gradients>).
///
/// First pass, per parameter: error |analytic − numeric| / max(|analytic|, |numeric|, 1e-2)
/// with the two-point difference at h = 1e-5. Its own error is not negligible everywhere: the
/// rounding of a bound of magnitude |f| contributes about ε|f|/h to it, which for a gradient
/// near the 1e-2 floor and |f| in the hundreds is ~1e-6 relative — the size of the tolerance.
/// So every parameter above the tolerance is *re-measured* (``Remeasurement``): a four-point
/// stencil (error O(h⁴)) at a ladder of step sizes, the function's rounding noise estimated from
/// high-order differences of closely spaced evaluations (as Moré & Wild's ECnoise), and from
/// both an estimate of the re-measured derivative's own error. The parameter agrees when the
/// analytic value is within the tolerance of the better estimate, or within four times that
/// estimate's error — provided that error is itself below 1e-4 relative, so a loose numeric
/// value never excuses a wrong gradient (a dropped term is off by O(1)).
///
/// A ReLU whose input crosses zero inside the stencil makes the bound non-differentiable there;
/// such parameters are detected (the pattern of active units changes) and skipped.
public enum ModelGradientCheck {
    /// What one check found, over every scalar parameter of the model.
    ///
    /// `Codable` with snake-case keys (`max_rel_error`, `parameters_checked`, …), as
    /// `vhrnn gradcheck --json` prints them.
    public struct Report: Codable, Sendable {
        /// The largest error after re-measurement (first-pass value where none was needed).
        public var maxRelativeError: Double
        /// Parameters compared: those whose two-point stencil kept every ReLU on its side.
        public var parametersChecked: Int
        /// Parameters skipped because a ReLU's input crossed zero within ±``step`` (the bound
        /// is not differentiable there).
        public var parametersSkipped: Int
        /// Resampling events of the analytic pass; 0 means the backward of the ancestor
        /// gather was not exercised (use a FIVO criterion such as `.always`).
        public var resamplingEvents: Int
        /// The parameter with ``maxRelativeError``, as `name[index]: analytic a, numeric n`
        /// (the re-measured numeric value where there was one); empty when every error is 0.
        public var worstParameter: String
        /// Parameters above the tolerance in the first pass that were re-measured (once
        /// ``maximumRemeasuredFailures`` have failed, the rest are counted as failures
        /// without re-measuring them).
        public var remeasured: Int
        /// How many of the ``remeasured`` parameters the re-measurement found in agreement.
        public var remeasuredAgreed: Int
        /// Parameters that disagree after re-measurement (the check fails if any).
        public var failures: Int
        /// The worst failure, or the re-measured parameter with the largest first-pass error.
        public var remeasureDetail: String

        /// Whether every checked parameter agrees: ``failures`` is 0.
        public var passed: Bool { failures == 0 }

        enum CodingKeys: String, CodingKey {
            case maxRelativeError = "max_rel_error", parametersChecked = "parameters_checked"
            case parametersSkipped = "parameters_skipped", resamplingEvents = "resampling_events"
            case worstParameter = "worst_parameter", remeasured, remeasuredAgreed = "remeasured_agreed"
            case failures, remeasureDetail = "remeasure_detail"
        }
    }

    /// The step h of the first pass's central difference (f(x + h) − f(x − h)) / 2h.
    public static let step = 1e-5
    /// The floor of the relative error's denominator, max(|analytic|, |numeric|, 1e-2): a
    /// gradient smaller than this is compared in absolute terms.
    public static let absoluteFloor = 1e-2
    /// The largest relative error at which a parameter agrees without re-measurement (and at
    /// which a re-measured value agrees outright).
    public static let tolerance = 1e-6
    /// A re-measured derivative whose estimated error exceeds this (relative) cannot vouch for
    /// an analytic value.
    public static let maximumNumericError = 1e-4
    /// How many estimated numeric errors the analytic value may be from the re-measured one
    /// (the error estimate is itself uncertain by ~20%).
    public static let agreementFactor = 4.0
    /// After this many parameters have failed re-measurement the check has failed; the rest
    /// above the tolerance are counted as failures without re-measuring them (each costs ~50
    /// filter passes).
    public static let maximumRemeasuredFailures = 20

    /// What re-measuring one parameter found.
    public struct Remeasurement: Sendable, Equatable {
        /// The four-point estimate at the step used.
        public var numeric: Double
        /// That step: the one of the ladder 1e-3 … 1e-5 whose estimate has the smallest
        /// ``numericError``.
        public var step: Double
        /// Estimated error of `numeric`: truncation (from the next step size) plus rounding
        /// (the function's noise level through the stencil's weights).
        public var numericError: Double
        /// The bound's estimated rounding noise at this parameter.
        public var noise: Double
        /// |analytic − numeric| / max(|analytic|, |numeric|, ``absoluteFloor``).
        public var relativeError: Double
        /// Whether the analytic value is vouched for: `numericError` is at most
        /// ``maximumNumericError`` relative, and the analytic value is within ``tolerance``
        /// (relative) or within ``agreementFactor`` · `numericError` of `numeric`.
        public var agrees: Bool
    }

    /// Checks `configuration`'s bound on a small random batch.
    ///
    /// The model is initialised and every parameter moved off its initial value by up to ±0.3;
    /// the checked function is Σ_b g_b · bound_b with random weights g_b, so every sequence's
    /// gradient counts.
    /// - Parameters:
    ///   - configuration: keep it tiny (every parameter costs two filter passes).
    ///   - settings: FIVO with `.always` makes resampling happen at every step.
    ///   - lengths: the batch's sequence lengths (unequal ones exercise the masks).
    ///   - seed: seeds everything random: the weights and their perturbation, the data, the
    ///     g_b and the filter's pass seed.
    ///   - mutation: a deliberate defect in the backward pass (tests of the check itself).
    ///   - klWeight: the KL warm-up's beta (``ParticleFilter/klWeight``); 1 checks the bound.
    /// - Returns: the ``Report``; the check passed when ``Report/passed``.
    /// - Throws: ``ConfigurationError`` when `configuration` is invalid.
    /// - Complexity: two filter passes per parameter, and about 50 more per re-measured one.
    public static func run(configuration: ModelConfiguration, settings: FilterSettings, lengths: [Int] = [4, 3],
                           seed: UInt64 = 1, mutation: GradientMutation? = nil,
                           klWeight: Double = 1) throws -> Report {
        var rng = SplitMix64(seed: seed)
        let model = try SequenceModel<Double>(configuration: configuration, generator: &rng)
        // Move every parameter off its initial value (hyper heads start at exact zeros/ones,
        // where some gradients vanish), so each term of the backward is exercised.
        let store = model.parameters
        for i in 0..<store.count { store.values[i] += 0.3 * (2 * rng.nextUnitDouble() - 1) }

        let d = configuration.dataDim
        let sequences: [[Double]] = lengths.map { len in
            (0..<(len * d)).map { _ in
                configuration.emission == .bernoulli ? (rng.nextUnitDouble() < 0.3 ? 1 : 0) : rng.nextStandardNormal()
            }
        }
        // Inputs offset from the targets, as centred piano rolls are: the check then tells
        // which of the two each component reads (FIVO's proposal reads the targets).
        let split = SequenceSplit(dataDim: d, inputs: sequences.map { $0.map { $0 - 0.3 } }, targets: sequences)
        let batch = try SequenceBatch<Double>(split: split, indices: Array(0..<lengths.count))
        let weights = lengths.map { _ in rng.nextStandardNormal() }
        let filterSeed = rng.next()

        let filter = ParticleFilter(model: model)
        filter.mutation = mutation
        filter.klWeight = klWeight
        let result = filter.run(batch: batch, settings: settings, seed: filterSeed, keepTape: true)
        let plan = filter.recordedPlan
        store.zeroGradients()
        filter.backward(boundGradients: weights)
        let analytic = store.gradientValues

        func evaluate() -> (Double, UInt64) {
            let r = filter.run(batch: batch, settings: settings, seed: filterSeed, keepTape: true, replay: plan)
            return (zip(r.bounds, weights).reduce(0) { $0 + $1.0 * $1.1 }, filter.activationPattern())
        }
        let basePattern = evaluate().1
        /// The bound with parameter i at x, or nil where the ReLU pattern differs from the base.
        func bound(_ i: Int, at x: Double) -> Double? {
            let original = store.values[i]
            store.values[i] = x
            defer { store.values[i] = original }
            let (value, pattern) = evaluate()
            return pattern == basePattern ? value : nil
        }

        var report = Report(maxRelativeError: 0, parametersChecked: 0, parametersSkipped: 0,
                            resamplingEvents: result.resamplingEvents, worstParameter: "", remeasured: 0,
                            remeasuredAgreed: 0, failures: 0, remeasureDetail: "")
        // The one re-measurement the report describes: the worst failure if any (by its
        // re-measured error), else the agreement whose first-pass error was largest.
        var described: (failed: Bool, error: Double)?
        func describe(_ detail: String, failed: Bool, error: Double) {
            let error = error.isNaN ? .infinity : error
            if let current = described, failed == current.failed ? !(error > current.error) : current.failed { return }
            report.remeasureDetail = detail
            described = (failed, error)
        }
        for tensor in store.layout.tensors {
            for j in 0..<tensor.count {
                let i = tensor.offset + j
                let x = store.values[i]
                guard let plus = bound(i, at: x + step), let minus = bound(i, at: x - step) else {
                    report.parametersSkipped += 1
                    continue
                }
                let numeric = (plus - minus) / (2 * step)
                var error = relativeError(analytic[i], numeric)
                var shown = numeric
                report.parametersChecked += 1
                if !(error <= tolerance) && report.failures >= maximumRemeasuredFailures {
                    report.failures += 1  // already failed: spare the re-measurement
                } else if !(error <= tolerance) {
                    report.remeasured += 1
                    let r = remeasure(analytic: analytic[i], at: x) { bound(i, at: $0) }
                    let detail = "\(tensor.name)[\(j)]: analytic \(analytic[i]), numeric \(numeric) at h = \(step); "
                        + (r.map { "re-measured \($0.numeric) at h = \($0.step) ± \($0.numericError) (noise \($0.noise))" }
                           ?? "no re-measurement (a ReLU kink within every step size)")
                    if let r, r.agrees {
                        report.remeasuredAgreed += 1
                        describe(detail, failed: false, error: error)
                        error = r.relativeError
                        shown = r.numeric
                    } else {
                        report.failures += 1
                        error = r?.relativeError ?? error
                        describe(detail, failed: true, error: error)
                    }
                }
                if !(error <= report.maxRelativeError) {
                    report.maxRelativeError = error.isNaN ? .infinity : error
                    report.worstParameter = "\(tensor.name)[\(j)]: analytic \(analytic[i]), numeric \(shown)"
                }
            }
        }
        return report
    }

    static func relativeError(_ a: Double, _ n: Double) -> Double {
        let e = abs(a - n) / max(abs(a), abs(n), absoluteFloor)
        return e.isNaN ? .infinity : e
    }

    /// Re-measures the derivative of `f` at `x` (see the type's discussion). Returns nil when a
    /// ReLU kink lies within the stencil at every step size of the ladder.
    public static func remeasure(analytic: Double, at x: Double, _ f: (Double) -> Double?) -> Remeasurement? {
        // Rounding noise of f near x: the 6th differences of 20 evaluations spaced 1e-7 apart
        // (where the smooth part's 6th difference is ~1e-42) are pure noise with variance
        // 924 σ² if the noise is independent between points; 14 of them pin σ down to ~20%.
        let delta = 1e-7 * max(1, abs(x))
        let points = 20
        var values: [Double] = []
        for k in 0..<points { if let v = f(x + Double(k - points / 2) * delta) { values.append(v) } }
        var noise = 0.0
        if values.count == points {
            var sum = 0.0
            for start in 0...(points - 7) {
                var diff = Array(values[start..<(start + 7)])
                for _ in 0..<6 { diff = zip(diff.dropFirst(), diff).map { $0 - $1 } }
                sum += diff[0] * diff[0]
            }
            noise = (sum / (Double(points - 6) * 924)).squareRoot()
        }
        noise = max(noise, 1e-16 * abs(values.first ?? 0))  // never below one ulp of f

        func fourPoint(_ h: Double) -> Double? {
            guard let a = f(x + 2 * h), let b = f(x + h), let c = f(x - h), let d = f(x - 2 * h) else { return nil }
            return (-a + 8 * b - 8 * c + d) / (12 * h)
        }
        // Every step of the ladder whose stencil (and the next larger one's) avoids every kink;
        // the estimate with the smallest error decides. Truncation error of D(h) is about
        // |D(2h) − D(h)| / 15 (error ∝ h⁴); rounding about 18 σ / (12 h).
        var best: Remeasurement?
        for h in [1e-3, 3e-4, 1e-4, 3e-5, 1e-5] {
            guard let near = fourPoint(h), let far = fourPoint(2 * h) else { continue }
            let numericError = abs(far - near) / 15 + 1.5 * noise / h
            let scale = max(abs(analytic), abs(near), absoluteFloor)
            let relative = relativeError(analytic, near)
            let trustworthy = numericError <= maximumNumericError * scale
            let agrees = trustworthy && (relative <= tolerance || abs(analytic - near) <= agreementFactor * numericError)
            let r = Remeasurement(numeric: near, step: h, numericError: numericError, noise: noise,
                                  relativeError: relative, agrees: agrees)
            if best == nil || numericError < best!.numericError { best = r }
        }
        return best
    }
}

extension ParticleFilter {
    /// A digest of which ReLU units were active in the last taped pass (every hidden layer of
    /// every MLP at every step). Equal digests mean the pass took the same linear pieces.
    func activationPattern() -> UInt64 {
        guard let w = stepModel.tape else { return 0 }
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ base: UnsafeMutablePointer<S>, _ slot: Slot, rows: Int) {
            let p = base.at(slot)
            for i in 0..<(rows * slot.width) {
                hash = (hash ^ (p[i] > 0 ? 1 : 0)) &* 0x0000_0100_0000_01B3
            }
        }
        let s = w.slots
        for slot in w.sequenceSlots.hidden + (w.rawSequenceSlots?.hidden ?? []) {
            mix(w.sequenceTape, slot, rows: w.steps * w.sequences)
        }
        if let initial = w.initialState {
            var stacks = [initial.slots.phiX]
            if let head = initial.slots.recurrence.thetaHead { stacks.append(head) }
            for stack in stacks { for slot in stack.hidden { mix(initial.slab, slot, rows: 1) } }
        }
        for t in 0..<(w.withTape ? w.steps : 0) {
            let slab = w.slab(t)
            for stack in [s.prior.network, s.proposal.network, s.phiZ, s.emission.network] + (s.emission.omega.map { [$0] } ?? []) {
                for slot in stack.hidden { mix(slab, slot, rows: w.rows) }
            }
        }
        return hash
    }
}

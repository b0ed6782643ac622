import Foundation

/// A trained VRNN or VHRNN run online: K particles per stream, one observation at a time, for
/// as long as the stream lasts, in constant memory and without allocating per step.
///
/// After each frame it reports, per stream (``OnlineObservation``): the log predictive density
/// log p̂(x_t | x_<t) — the log-sum-exp of the particles' weights after the step minus that
/// before it, so that over a sequence the log predictives sum to that sequence's FIVO bound
/// log Ẑ (IWAE without resampling) for the same seed, noise key and K —, the effective sample
/// size, whether the stream resampled, and KL(q ‖ p) of the step averaged under the filtering
/// weights (how much the frame moved the latent away from the prior; it rises after a regime
/// switch).
///
/// The noise is that of ``ParticleFilter/run(batch:settings:seed:keepTape:replay:)`` with the
/// same seed and the stream's noise key, step for step.
public final class OnlineFilter<S: KernelScalar> {
    /// The model the filter runs (its parameters are read, never changed).
    public let model: SequenceModel<S>
    /// The bound's settings: K, the resampling criterion and scheme (IWAE or FIVO).
    public let settings: FilterSettings
    /// Independent streams filtered side by side.
    public let streams: Int
    /// Each stream's noise key (its noise is that of a pass's sequence with this key).
    public let noiseKeys: [UInt64]
    /// Subtracted from each frame to give what the encoder reads (e.g. a piano roll's training
    /// frame mean, as ``SequenceDataset/trainFrameMean`` centres a split's inputs); nil: the
    /// frame itself.
    public let inputOffset: [Double]?
    /// Frames observed since the start or the last ``reset(seed:)``.
    public private(set) var steps = 0
    /// The pass seed of the current run.
    public private(set) var seed: UInt64

    let stepModel: VariationalParticleModel<S>
    /// Generates a ``forecast(horizon:paths:seed:)``'s paths (made on first use, then reused).
    var forecaster: SequenceSampler<S>?
    let smc: SequentialMonteCarlo<VariationalParticleModel<S>>
    private let report: StreamStepReport<S>
    /// `(streams, D)` the next step's encoder inputs and targets; `(streams · K)` per-particle KL.
    private let inputs: UnsafeMutablePointer<S>
    private let targets: UnsafeMutablePointer<S>
    private let particleKL: UnsafeMutablePointer<S>
    /// `(streams)` whether this step's frame of each stream is observed.
    private let observed: UnsafeMutablePointer<Bool>
    /// `(streams · K)` normalised weights; `(streams, D)` the emission's weighted mean and variance.
    private let normalisedWeights: UnsafeMutablePointer<S>
    private let emissionMean: UnsafeMutablePointer<S>
    private let emissionVariance: UnsafeMutablePointer<S>

    /// - Parameters:
    ///   - model: the trained model (read only).
    ///   - settings: IWAE or FIVO (the ELBO's weights define no filtering distribution).
    ///   - streams: independent streams filtered side by side (each frame batch has one per stream).
    ///   - seed: the pass seed the streams' noise derives from.
    ///   - noiseKeys: one per stream; nil: 0, 1, ... (a pass's keys for split indices 0, 1, ...).
    ///   - inputOffset: subtracted from every frame before the encoder reads it (D values; a
    ///     piano roll's training frame mean); nil: nothing.
    /// - Throws: ``OnlineFilterError`` for an ELBO bound, no streams, a wrong key count or a
    ///   wrong-sized offset.
    public init(model: SequenceModel<S>, settings: FilterSettings, streams: Int = 1, seed: UInt64,
                noiseKeys: [UInt64]? = nil, inputOffset: [Double]? = nil) throws {
        let D = model.configuration.dataDim
        guard settings.bound != .elbo else {
            throw OnlineFilterError("the online filter needs --bound iwae or fivo (the ELBO's weights are not a filtering distribution)")
        }
        guard streams >= 1 else { throw OnlineFilterError("streams must be at least 1, got \(streams)") }
        let keys = noiseKeys ?? (0..<streams).map { UInt64($0) }
        guard keys.count == streams else {
            throw OnlineFilterError("\(keys.count) noise keys for \(streams) streams")
        }
        if let inputOffset, inputOffset.count != D {
            throw OnlineFilterError("the input offset has \(inputOffset.count) values, the model's frames \(D)")
        }
        self.model = model
        self.settings = settings
        self.streams = streams
        self.noiseKeys = keys
        self.inputOffset = inputOffset
        self.seed = seed
        stepModel = VariationalParticleModel(model: model)
        stepModel.streamInputOffset = inputOffset
        smc = SequentialMonteCarlo(model: stepModel)
        report = StreamStepReport<S>(streams: streams, particles: settings.particleCount)
        inputs = .allocate(capacity: streams * D)
        targets = .allocate(capacity: streams * D)
        particleKL = .allocate(capacity: streams * settings.particleCount)
        observed = .allocate(capacity: streams)
        normalisedWeights = .allocate(capacity: streams * settings.particleCount)
        emissionMean = .allocate(capacity: streams * D)
        emissionVariance = .allocate(capacity: streams * D)
        smc.beginStream(settings: settings, seed: seed, noiseKeys: keys)
    }

    deinit {
        inputs.deallocate()
        targets.deallocate()
        particleKL.deallocate()
        observed.deallocate()
        normalisedWeights.deallocate()
        emissionMean.deallocate()
        emissionVariance.deallocate()
    }

    /// Bytes held by the filter's buffers: fixed when the filter is made, whatever the stream's length.
    public var workspaceBytes: Int {
        (stepModel.tape?.byteCount ?? 0) + (smc.buffers?.arena.byteCount ?? 0)
            + MemoryLayout<S>.stride * (2 * streams * model.configuration.dataDim + 2 * streams * settings.particleCount)
    }

    /// Starts every stream afresh (step 0 from the model's initial state), with a new seed or
    /// the current one.
    public func reset(seed: UInt64? = nil) {
        if let seed { self.seed = seed }
        steps = 0
        smc.beginStream(settings: settings, seed: self.seed, noiseKeys: noiseKeys)
    }

    /// Filters one frame per stream (`frames[b]` is stream b's, D values) and writes what the
    /// step tells into `observations` (resized to `streams` on first use, then reused: a
    /// step allocates nothing).
    ///
    /// A frame of D NaNs is a missing observation: that stream's particles propagate from the
    /// prior (z_t ~ p(z_t | h_{t-1}), the emission's mean frame standing in for x_t), their
    /// weights do not change and the stream does not resample; its log predictive and KL are 0.
    /// - Throws: ``OnlineFilterError`` naming the stream and column of a frame of the wrong
    ///   size or with a value that is not a finite number (in a frame that is not all NaN);
    ///   the filter is then unchanged.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func observe(_ frames: [[Double]], into observations: inout [OnlineObservation]) throws {
        let D = model.configuration.dataDim, K = settings.particleCount
        guard frames.count == streams else {
            throw OnlineFilterError("\(frames.count) frames for \(streams) streams")
        }
        for (b, frame) in frames.enumerated() {
            guard frame.count == D else {
                throw OnlineFilterError("stream \(b): a frame of \(frame.count) values, the model's have \(D)")
            }
            if frame.allSatisfy(\.isNaN) { continue }
            if let d = frame.firstIndex(where: { !$0.isFinite }) {
                throw OnlineFilterError("stream \(b), column \(d + 1): \(frame[d]) is not a finite number"
                                        + (frame[d].isNaN ? " (a missing frame is all NaN)" : ""))
            }
        }
        for (b, frame) in frames.enumerated() {
            observed[b] = !frame.allSatisfy(\.isNaN)
            for d in 0..<D {
                let x = observed[b] ? frame[d] : 0
                targets[b * D + d] = S(x)
                inputs[b * D + d] = S(x - (inputOffset?[d] ?? 0))
            }
        }
        stepModel.setFrames(inputs: UnsafePointer(inputs), targets: UnsafePointer(targets),
                            observed: UnsafePointer(observed))
        let t = steps
        smc.streamStep(into: report, observed: UnsafePointer(observed))
        steps += 1

        // KL(q || p) of every particle at this step, averaged under the step's filtering weights.
        let (slab, s) = (stepModel.tape!.slab(t), stepModel.tape!.slots)
        S.gaussianKlForward(particleKL, UnsafePointer(slab.at(s.proposal.mean)), UnsafePointer(slab.at(s.proposal.sigma)),
                            UnsafePointer(slab.at(s.prior.mean)), UnsafePointer(slab.at(s.prior.sigma)),
                            n: streams * K, d: model.configuration.latentDim)
        if observations.count != streams || observations.contains(where: { $0.emissionMean.count != D }) {
            observations = (0..<streams).map { _ in OnlineObservation(dataDim: D) }
        }
        let head = UnsafePointer(slab.at(s.emission.head)), sigma = s.emission.sigma.map { UnsafePointer(slab.at($0)) }
        for b in 0..<streams {
            let w = report.weights + b * K, wn = normalisedWeights + b * K
            var top = -Double.infinity
            for k in 0..<K { top = max(top, Double(w[k])) }
            var mass = 0.0, kl = 0.0
            for k in 0..<K {
                let p = exp(Double(w[k]) - top)
                mass += p
                kl += p * Double(particleKL[b * K + k])
            }
            for k in 0..<K { wn[k] = S(exp(Double(w[k]) - top) / mass) }
            S.emissionMoments(emissionMean + b * D, emissionVariance + b * D, head + b * K * D,
                              sigma.map { $0 + b * K * D }, UnsafePointer(wn), k: K, d: D)
            // In place: the observation's arrays keep their storage (no allocation per step).
            observations[b].step = t
            observations[b].observed = observed[b]
            observations[b].logPredictive = report.logPredictive[b]
            observations[b].effectiveSampleSize = exp(report.logESS[b])
            observations[b].resampled = report.resampled[b]
            observations[b].kl = observed[b] ? kl / mass : 0
            for d in 0..<D {
                observations[b].emissionMean[d] = Double(emissionMean[b * D + d])
                observations[b].emissionVariance[d] = Double(emissionVariance[b * D + d])
            }
        }
    }

    /// After a restore: the stream's step count.
    func restoredSteps(_ count: Int) { steps = count }

    /// ``observe(_:into:)`` for a single stream.
    public func observe(_ frame: [Double]) throws -> OnlineObservation {
        var out: [OnlineObservation] = []
        try observe([frame], into: &out)
        return out[0]
    }

    /// A step without an observation for a single stream (as a frame of NaNs).
    public func skip() throws -> OnlineObservation {
        try observe([Double](repeating: .nan, count: model.configuration.dataDim))
    }
}

/// What one frame told the filter about one stream.
public struct OnlineObservation: Sendable, Equatable, Codable {
    /// The frame's step, from 0.
    public var step = 0
    /// Whether the frame was observed (false: missing, propagated from the prior).
    public var observed = true
    /// log p̂(x_t | x_<t): summed over a sequence, its FIVO (IWAE) bound log Ẑ.
    public var logPredictive = 0.0
    /// The effective sample size of the weights after the step (before any resampling), 1...K.
    public var effectiveSampleSize = 0.0
    /// Whether the stream resampled after the step.
    public var resampled = false
    /// KL(q(z_t | x_≤t) ‖ p(z_t | x_<t)), per particle, averaged under the filtering weights.
    public var kl = 0.0
    /// `(D)` the emission's mean and variance at this step under the filtering weights: the
    /// mixture over particles of p(x_t | z_t, h_{t-1}) (Bernoulli: note probabilities p̄ and
    /// p̄(1 − p̄); Gaussian: the mixture's mean and variance). For an observed frame z_t is drawn
    /// from the proposal (what the model makes of the frame: the paper's Fig. 3 variance); for a
    /// missing one from the prior (its prediction of the frame).
    public var emissionMean: [Double] = []
    /// The variance of that mixture, per dimension (see ``emissionMean``).
    public var emissionVariance: [Double] = []

    /// An observation with room for D-dimensional moments.
    public init(dataDim: Int = 0) {
        emissionMean = [Double](repeating: 0, count: dataDim)
        emissionVariance = [Double](repeating: 0, count: dataDim)
    }
}

/// A misuse or a bad frame of an ``OnlineFilter``: what was wrong, in one line.
public struct OnlineFilterError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The message, e.g. `stream 0, column 2: nan is not a finite number`.
    public let description: String
    init(_ description: String) { self.description = description }
}

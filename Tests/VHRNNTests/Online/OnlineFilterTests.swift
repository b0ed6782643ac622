import Foundation
import Testing
@testable import VHRNN

/// The online filter against the offline one: a stream's log predictives sum to the FIVO
/// (IWAE) bound of a pass over the same frames with the same seed, noise key and K; reset
/// replays; bad frames are refused without disturbing the stream; memory does not grow.
@Suite("Online filter")
struct OnlineFilterTests {
    static let configs = [
        ModelConfiguration(model: .vhrnn, dataDim: 3, emission: .gaussian, latentDim: 3, hiddenDim: 5, hyperDim: 4,
                           fcLayers: 1, omegaHidden: 6, semantics: .fivo),
        ModelConfiguration(model: .vrnn, cell: .gru, dataDim: 4, emission: .bernoulli, latentDim: 2, hiddenDim: 6,
                           fcLayers: 0, semantics: .standard),
        ModelConfiguration(model: .vrnn, dataDim: 5, emission: .bernoulli, latentDim: 3, hiddenDim: 4, fcLayers: 1,
                           semantics: .fivo),
    ]

    static func model<S: KernelScalar>(_ config: ModelConfiguration, _: S.Type) throws -> SequenceModel<S> {
        var rng = SplitMix64(seed: 11)
        return try SequenceModel(configuration: config, generator: &rng)
    }

    /// `count` sequences of lengths 9, 10, 11, ... for `config`'s emission.
    static func split(_ config: ModelConfiguration, count: Int) -> SequenceSplit {
        var rng = SplitMix64(seed: 5)
        let D = config.dataDim
        return SequenceSplit(dataDim: D, sequences: (0..<count).map { b in
            (0..<((9 + b) * D)).map { _ in
                config.emission == .bernoulli ? (rng.nextUnitDouble() < 0.3 ? 1 : 0) : rng.nextStandardNormal()
            }
        })
    }

    static func frames(_ split: SequenceSplit, _ b: Int) -> [[Double]] {
        let D = split.dataDim, x = split.targets[b]
        return (0..<(x.count / D)).map { t in Array(x[(t * D)..<((t + 1) * D)]) }
    }

    func summedPredictivesEqualTheBound<S: KernelScalar>(_: S.Type, tolerance: Double) throws {
        for config in Self.configs {
            let model = try Self.model(config, S.self)
            let split = Self.split(config, count: 3)
            for settings in [FilterSettings(bound: .fivo, particleCount: 16),
                             FilterSettings(bound: .fivo, particleCount: 40, criterion: .always),
                             FilterSettings(bound: .iwae, particleCount: 8)] {
                let batch = try SequenceBatch<S>(split: split, indices: [0, 1, 2])
                let offline = ParticleFilter(model: model).run(batch: batch, settings: settings, seed: 21)
                for b in 0..<3 {
                    let online = try OnlineFilter(model: model, settings: settings, seed: 21, noiseKeys: [UInt64(b)])
                    var sum = 0.0, resamplings = 0
                    for frame in Self.frames(split, b) {
                        let o = try online.observe(frame)
                        #expect(o.emissionMean.count == config.dataDim && o.emissionVariance.allSatisfy { $0 >= 0 && $0.isFinite })
                        if config.emission == .bernoulli {
                            for (m, v) in zip(o.emissionMean, o.emissionVariance) {
                                #expect(m >= 0 && m <= 1 && abs(v - m * (1 - m)) <= 1e-5)
                            }
                        }
                        sum += o.logPredictive
                        if o.resampled { resamplings += 1 }
                        #expect(o.effectiveSampleSize >= 1 - 1e-6 && o.effectiveSampleSize <= Double(settings.particleCount) + 1e-6)
                        #expect(o.kl >= -1e-6 && o.kl.isFinite)
                    }
                    let bound = offline.bounds[b]
                    #expect(abs(sum - bound) <= tolerance * max(1, abs(bound)),
                            "\(S.self) \(config.model) \(settings.bound) K=\(settings.particleCount) sequence \(b): online \(sum) offline \(bound)")
                    if settings.bound == .iwae { #expect(resamplings == 0) }
                    if settings.criterion == .always { #expect(resamplings == Self.frames(split, b).count) }
                }
            }
        }
    }

    @Test func summedLogPredictivesEqualTheOfflineBound() throws {
        try summedPredictivesEqualTheBound(Double.self, tolerance: 1e-10)
        try summedPredictivesEqualTheBound(Float.self, tolerance: 1e-5)
    }

    /// Several streams side by side: each as if alone.
    @Test func streamsSideBySideAreEachTheirSequence() throws {
        let config = Self.configs[0]
        let model = try Self.model(config, Double.self)
        let split = Self.split(config, count: 3)
        let settings = FilterSettings(bound: .fivo, particleCount: 12)
        let together = try OnlineFilter(model: model, settings: settings, streams: 3, seed: 4)
        let steps = 9  // the shortest sequence
        var sums = [0.0, 0.0, 0.0], observations: [OnlineObservation] = []
        for t in 0..<steps {
            try together.observe((0..<3).map { Self.frames(split, $0)[t] }, into: &observations)
            for b in 0..<3 { sums[b] += observations[b].logPredictive }
        }
        for b in 0..<3 {
            let alone = try OnlineFilter(model: model, settings: settings, seed: 4, noiseKeys: [UInt64(b)])
            var sum = 0.0
            for t in 0..<steps { sum += try alone.observe(Self.frames(split, b)[t]).logPredictive }
            #expect(abs(sum - sums[b]) <= 1e-12 * max(1, abs(sum)))
        }
    }

    @Test func resetReplaysTheStream() throws {
        let config = Self.configs[1]
        let model = try Self.model(config, Float.self)
        let frames = Self.frames(Self.split(config, count: 1), 0)
        let filter = try OnlineFilter(model: model, settings: FilterSettings(bound: .fivo, particleCount: 10), seed: 9)
        let first = try frames.map { try filter.observe($0) }
        filter.reset()
        #expect(filter.steps == 0)
        let again = try frames.map { try filter.observe($0) }
        #expect(first == again)
        filter.reset(seed: 10)
        let other = try frames.map { try filter.observe($0) }
        #expect(other != first)
    }

    /// A bad frame is refused with its stream and column named, and the stream goes on as if
    /// it had never arrived.
    @Test func badFramesAreRefusedAndLeaveTheStreamUntouched() throws {
        let config = Self.configs[0]
        let model = try Self.model(config, Double.self)
        let frames = Self.frames(Self.split(config, count: 1), 0)
        let settings = FilterSettings(bound: .fivo, particleCount: 8)
        let clean = try OnlineFilter(model: model, settings: settings, seed: 3)
        let disturbed = try OnlineFilter(model: model, settings: settings, seed: 3)
        for (t, frame) in frames.enumerated() {
            if t == 4 {
                #expect(throws: OnlineFilterError("stream 0: a frame of 2 values, the model's have 3")) {
                    try disturbed.observe(Array(frame.prefix(2)))
                }
                #expect(throws: OnlineFilterError("stream 0, column 2: nan is not a finite number (a missing frame is all NaN)")) {
                    try disturbed.observe([frame[0], .nan, frame[2]])
                }
            }
            #expect(try clean.observe(frame) == disturbed.observe(frame))
        }
        #expect(throws: OnlineFilterError.self) {
            try OnlineFilter(model: model, settings: FilterSettings(bound: .elbo, particleCount: 4), seed: 1)
        }
    }

    /// A missing frame (all NaN, or `skip()`): observed false, log predictive and KL 0, the
    /// weights untouched (same ESS), no resampling; the stream goes on with finite values and
    /// differs from having seen the frame.
    @Test func missingFramesPropagateFromThePriorWithoutAWeightUpdate() throws {
        for config in Self.configs {
            let model = try Self.model(config, Double.self)
            let frames = Self.frames(Self.split(config, count: 1), 0)
            let settings = FilterSettings(bound: .fivo, particleCount: 16)
            let gappy = try OnlineFilter(model: model, settings: settings, seed: 6)
            let full = try OnlineFilter(model: model, settings: settings, seed: 6)
            var before = OnlineObservation(), differs = false
            for (t, frame) in frames.enumerated() {
                let reference = try full.observe(frame)
                if t == 3 || t == 4 {
                    let o = t == 3 ? try gappy.skip() : try gappy.observe([Double](repeating: .nan, count: config.dataDim))
                    #expect(!o.observed && o.logPredictive == 0 && o.kl == 0 && !o.resampled)
                    let carried = before.resampled ? Double(settings.particleCount) : before.effectiveSampleSize
                    #expect(abs(o.effectiveSampleSize - carried) <= 1e-9 * carried, "\(config.model) step \(t)")
                    before = o
                    continue
                }
                let o = try gappy.observe(frame)
                #expect(o.observed && o.logPredictive.isFinite && o.kl.isFinite)
                if t < 3 { #expect(o == reference) } else if o.logPredictive != reference.logPredictive { differs = true }
                before = o
            }
            #expect(differs)
        }
        let model = try Self.model(Self.configs[0], Double.self)
        let filter = try OnlineFilter(model: model, settings: FilterSettings(bound: .fivo, particleCount: 4), seed: 1)
        #expect(throws: OnlineFilterError("stream 0, column 2: nan is not a finite number (a missing frame is all NaN)")) {
            try filter.observe([0.5, .nan, 0.1])
        }
    }

    /// Streams with and without a frame at the same step, in one block and in blocks of whole
    /// streams: each stream as if filtered alone.
    @Test func aGapInOneStreamLeavesTheOthersAlone() throws {
        let config = Self.configs[0]
        let model = try Self.model(config, Double.self)
        let split = Self.split(config, count: 3)
        for (K, blocked) in [(12, false), (16, true)] {
            let settings = FilterSettings(bound: .fivo, particleCount: K)
            let together = try OnlineFilter(model: model, settings: settings, streams: 3, seed: 4)
            if blocked {
                together.smc.rowBlockThreads = 3
                together.smc.rowBlockMinimum = 16
                together.reset()
                #expect(together.smc.stream!.blocks.count == 3)
            }
            func missing(_ b: Int, _ t: Int) -> Bool { (b == 1 && (t == 2 || t == 3)) || (b == 2 && t == 5) }
            var sums = [0.0, 0.0, 0.0], observations: [OnlineObservation] = []
            for t in 0..<9 {
                try together.observe((0..<3).map { b in
                    missing(b, t) ? [Double](repeating: .nan, count: config.dataDim) : Self.frames(split, b)[t]
                }, into: &observations)
                for b in 0..<3 { sums[b] += observations[b].logPredictive }
            }
            for b in 0..<3 {
                let alone = try OnlineFilter(model: model, settings: settings, seed: 4, noiseKeys: [UInt64(b)])
                var sum = 0.0
                for t in 0..<9 { sum += try (missing(b, t) ? alone.skip() : alone.observe(Self.frames(split, b)[t])).logPredictive }
                #expect(abs(sum - sums[b]) <= 1e-12 * max(1, abs(sum)), "K=\(K) stream \(b): \(sum) vs \(sums[b])")
            }
        }
    }

    /// Saved mid-stream (after a resampling, so the next step gathers ancestors, and after a
    /// gap), restored into a new filter from the file: the rest of the stream is the same, bit
    /// for bit, as the filter that was never interrupted. A state refuses another model.
    @Test func aSavedStreamContinuesExactlyAfterARestart() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("online-\(UInt64.random(in: 0 ... .max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for (i, config) in Self.configs.enumerated() {
            let model = try Self.model(config, Float.self)
            let split = Self.split(config, count: 2)
            let settings = FilterSettings(bound: .fivo, particleCount: 24, criterion: i == 0 ? .always : .default)
            let running = try OnlineFilter(model: model, settings: settings, streams: 2, seed: 13,
                                           inputOffset: [Double](repeating: 0.25, count: config.dataDim))
            var observations: [OnlineObservation] = []
            func frames(_ t: Int) -> [[Double]] {
                (0..<2).map { b in t == 2 && b == 1 ? [Double](repeating: .nan, count: config.dataDim) : Self.frames(split, b)[t] }
            }
            for t in 0..<5 { try running.observe(frames(t), into: &observations) }
            let path = folder.appendingPathComponent("state-\(i).json").path
            try running.save(to: path)
            try running.save(to: path)  // over an existing file
            let restored = try OnlineFilter(model: model, restoringFrom: path)
            #expect(restored.steps == 5 && restored.state == running.state)
            var a: [OnlineObservation] = [], b: [OnlineObservation] = []
            for t in 5..<9 {
                try running.observe(frames(t), into: &a)
                try restored.observe(frames(t), into: &b)
                #expect(a == b, "\(config.model) step \(t)")
            }
            var rng = SplitMix64(seed: 99)
            let other = try SequenceModel<Float>(configuration: config, generator: &rng)
            #expect(throws: OnlineFilterError.self) { try OnlineFilter(model: other, restoringFrom: path) }
        }
        let model = try Self.model(Self.configs[0], Float.self)
        let junk = folder.appendingPathComponent("junk.json").path
        try Data("{\"format\": 1}".utf8).write(to: URL(fileURLWithPath: junk))
        #expect(throws: OnlineFilterError("\(junk): not an online filter state (no field configuration)")) {
            try OnlineFilter(model: model, restoringFrom: junk)
        }
        let double = try Self.model(Self.configs[0], Double.self)
        let saved = folder.appendingPathComponent("float.json").path
        try OnlineFilter(model: model, settings: FilterSettings(bound: .fivo, particleCount: 4), seed: 1).save(to: saved)
        #expect(throws: OnlineFilterError.self) { try OnlineFilter(model: double, restoringFrom: saved) }
    }

    /// 10^5 frames: the buffers are sized once and never grow.
    @Test func aLongStreamRunsInConstantMemory() throws {
        let config = ModelConfiguration(model: .vrnn, dataDim: 2, emission: .gaussian, latentDim: 2, hiddenDim: 3,
                                        fcLayers: 0, semantics: .standard)
        let model = try Self.model(config, Float.self)
        let filter = try OnlineFilter(model: model, settings: FilterSettings(bound: .fivo, particleCount: 4), seed: 2)
        var observations: [OnlineObservation] = []
        var rng = SplitMix64(seed: 8)
        var frame = [[0.0, 0.0]]
        try filter.observe(frame, into: &observations)
        let bytes = filter.workspaceBytes
        var total = 0.0
        for _ in 1..<100_000 {
            frame[0][0] = rng.nextStandardNormal()
            frame[0][1] = rng.nextStandardNormal()
            try filter.observe(frame, into: &observations)
            total += observations[0].logPredictive
        }
        #expect(filter.steps == 100_000)
        #expect(filter.workspaceBytes == bytes)
        #expect(total.isFinite)
    }
}

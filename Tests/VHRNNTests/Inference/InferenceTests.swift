import Foundation
import Testing
@testable import VHRNN

/// One small model of every kind the sampler must handle.
struct InferenceCase: CustomStringConvertible, Sendable {
    var model: ModelKind
    var cell: CellKind
    var emission: EmissionKind
    var hyperInput: HyperInput = .both
    var description: String { "\(model) \(cell) \(emission)\(model == .vhrnn ? " u=\(hyperInput)" : "")" }

    var configuration: ModelConfiguration {
        ModelConfiguration(model: model, cell: cell, dataDim: 3, emission: emission, latentDim: 2, hiddenDim: 3,
                           hyperDim: 2, encodedDim: 2, fcLayers: 1, fcWidth: 3, omegaHidden: 4, hyperInput: hyperInput)
    }

    func makeModel(seed: UInt64 = 11) throws -> SequenceModel<Double> {
        var rng = SplitMix64(seed: seed)
        let model = try SequenceModel<Double>(configuration: configuration, generator: &rng)
        // Perturb every parameter so the hyper heads (which start at exactly scale 1, bias 0)
        // and zero biases take part and a wrong wiring shows up.
        var values = model.parameters.parameterValues
        for i in values.indices { values[i] += 0.3 * (2 * rng.nextUnitDouble() - 1) }
        model.parameters.parameterValues = values
        return model
    }

    static let all: [InferenceCase] = {
        var cases: [InferenceCase] = []
        for model in ModelKind.allCases {
            for cell in CellKind.allCases {
                for emission in EmissionKind.allCases {
                    cases.append(InferenceCase(model: model, cell: cell, emission: emission))
                }
            }
        }
        cases.append(InferenceCase(model: .vhrnn, cell: .lstm, emission: .gaussian, hyperInput: .latent))
        cases.append(InferenceCase(model: .vhrnn, cell: .gru, emission: .bernoulli, hyperInput: .hidden))
        return cases
    }()
}

/// Overwrites one named parameter tensor (a single value fills it).
func setTensor(_ model: SequenceModel<Double>, _ name: String, _ values: [Double]) {
    guard let t = model.parameters.layout.tensor(named: name) else { preconditionFailure("no tensor \(name)") }
    precondition(values.count == 1 || values.count == t.count)
    var all = model.parameters.parameterValues
    for i in 0..<t.count { all[t.offset + i] = values.count == 1 ? values[0] : values[i] }
    model.parameters.parameterValues = all
}

/// softplus(raw + 0.5): the scale a raw output gives (see docs: VHRNN.docc/ModelArchitecture.md).
func sigmaFromRaw(_ raw: Double) -> Double { log1p(exp(raw + 0.5)) }

/// A flat (T, 3) test sequence: binary frames for Bernoulli, smooth reals for Gaussian.
func testFrames(_ emission: EmissionKind, steps: Int) -> [Double] {
    (0..<(steps * 3)).map { (i: Int) -> Double in
        if emission == .bernoulli { return (i * 7 + i / 3) % 3 == 0 ? 1 : 0 }
        let x = Double(i)
        return sin(0.7 * x) + 0.1 * Double(i % 3)
    }
}

@Suite("Inference: sampling")
struct InferenceSamplingTests {
    @Test("deterministic for a seed, right shapes, finite, Bernoulli 0/1", arguments: InferenceCase.all)
    func deterministic(_ c: InferenceCase) throws {
        let model = try c.makeModel()
        let sampler = SequenceSampler(model: model)
        let offset: [Double]? = c.emission == .bernoulli ? [0.2, 0.5, 0.1] : nil
        let a = sampler.sample(count: 4, steps: 6, seed: 99, inputOffset: offset)
        let b = SequenceSampler(model: model).sample(count: 4, steps: 6, seed: 99, inputOffset: offset)
        #expect(a == b)
        #expect(a.count == 4)
        #expect(a.allSatisfy { $0.count == 6 * 3 })
        #expect(a.allSatisfy { $0.allSatisfy(\.isFinite) })
        if c.emission == .bernoulli { #expect(a.allSatisfy { $0.allSatisfy { $0 == 0 || $0 == 1 } }) }
        #expect(sampler.sample(count: 4, steps: 6, seed: 100, inputOffset: offset) != a)
        // A sample does not depend on how many are drawn beside it (one stream per row).
        let single = sampler.sample(count: 1, steps: 6, seed: 99, inputOffset: offset)
        #expect(single[0] == a[0])
        // The mean mode shares the latent path and gives finite means (Bernoulli: in (0, 1)).
        let means = sampler.sample(count: 4, steps: 6, seed: 99, output: .mean, inputOffset: offset)
        #expect(means.allSatisfy { $0.count == 18 && $0.allSatisfy(\.isFinite) })
        if c.emission == .bernoulli { #expect(means.allSatisfy { $0.allSatisfy { $0 > 0 && $0 < 1 } }) }
        // Float runs through the same path.
        var rng = SplitMix64(seed: 1)
        let f = try SequenceModel<Float>(configuration: c.configuration, generator: &rng)
        let fs = SequenceSampler(model: f).sample(count: 2, steps: 3, seed: 5)
        #expect(fs.count == 2 && fs.allSatisfy { $0.count == 9 && $0.allSatisfy(\.isFinite) })
    }

    @Test("zero steps give empty sequences")
    func zeroSteps() throws {
        let model = try InferenceCase(model: .vrnn, cell: .lstm, emission: .gaussian).makeModel()
        #expect(SequenceSampler(model: model).sample(count: 2, steps: 0, seed: 1) == [[], []])
    }

    @Test("hand-set Gaussian emission: mean 3 and the chosen sigma", arguments: [ModelKind.vrnn, .vhrnn])
    func gaussianMoments(_ kind: ModelKind) throws {
        let model = try InferenceCase(model: kind, cell: .lstm, emission: .gaussian).makeModel()
        // Emission output layer: zero weights, so x_t ~ N(3, sigma) whatever z and h are
        // (VHRNN: omega's output layer is still at scale 1, shift 0, so it changes nothing).
        let raw = 0.2, sigma = sigmaFromRaw(raw)
        setTensor(model, "emission.layer1.weight", [0])
        setTensor(model, "emission.layer1.bias", [3, 3, 3, raw, raw, raw])
        if kind == .vhrnn {
            // Put omega back at its start (scales 1, shifts 0) for the 3 emission blocks.
            setTensor(model, "omega.layer1.weight", [0])
            setTensor(model, "omega.layer1.bias", Array((0..<3).map { _ in [1.0, 1, 1, 0, 0, 0] }.joined()))
        }
        let samples = SequenceSampler(model: model).sample(count: 400, steps: 5, seed: 3)
        let values = samples.flatMap { $0 }
        let n = Double(values.count)
        let mean = values.reduce(0, +) / n
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
        let standardError = sigma / n.squareRoot()
        #expect(abs(mean - 3) < 4 * standardError, "mean \(mean), se \(standardError)")
        // Var of the sample variance of normals: 2 sigma^4 / (n - 1).
        let varianceError = sigma * sigma * (2 / (n - 1)).squareRoot()
        #expect(abs(variance - sigma * sigma) < 4 * varianceError, "variance \(variance) vs \(sigma * sigma)")
        let means = SequenceSampler(model: model).sample(count: 3, steps: 4, seed: 3, output: .mean)
        #expect(means.allSatisfy { $0.allSatisfy { abs($0 - 3) < 1e-12 } })
    }

    @Test("hand-set Bernoulli emission: frequency of ones matches sigmoid(bias)")
    func bernoulliFrequency() throws {
        let model = try InferenceCase(model: .vrnn, cell: .gru, emission: .bernoulli).makeModel()
        let probabilities = [0.3, 0.05, 0.9]
        setTensor(model, "emission.layer1.weight", [0])
        setTensor(model, "emission.layer1.bias", probabilities.map { log($0 / (1 - $0)) })
        let samples = SequenceSampler(model: model).sample(count: 500, steps: 4, seed: 8, inputOffset: [0.3, 0.05, 0.9])
        for d in 0..<3 {
            var ones = 0.0, n = 0.0
            for s in samples { for t in 0..<4 { ones += s[t * 3 + d]; n += 1 } }
            let p = probabilities[d], se = (p * (1 - p) / n).squareRoot()
            #expect(abs(ones / n - p) < 4 * se, "dim \(d): \(ones / n) vs \(p)")
        }
    }

    @Test("hand-set prior: z_t has the prior's mean and scale")
    func priorMoments() throws {
        let model = try InferenceCase(model: .vhrnn, cell: .lstm, emission: .gaussian).makeModel()
        let raw = -0.4, sigma = sigmaFromRaw(raw)
        setTensor(model, "prior.layer1.weight", [0])
        setTensor(model, "prior.layer1.bias", [-1, 2, raw, raw])
        let sampler = SequenceSampler(model: model)
        let rows = 2000
        _ = sampler.sample(count: rows, steps: 1, seed: 21)
        let w = try #require(sampler.workspace)
        let z = w.slab(0).at(w.slots.z)
        for (d, mu) in [-1.0, 2.0].enumerated() {
            var sum = 0.0, squares = 0.0
            for r in 0..<rows { sum += z[r * 2 + d]; squares += z[r * 2 + d] * z[r * 2 + d] }
            let mean = sum / Double(rows), variance = squares / Double(rows) - mean * mean
            #expect(abs(mean - mu) < 4 * sigma / Double(rows).squareRoot(), "z[\(d)] mean \(mean)")
            #expect(abs(variance - sigma * sigma) < 4 * sigma * sigma * (2 / Double(rows)).squareRoot())
        }
    }
}

@Suite("Inference: prefix continuation")
struct InferenceContinuationTests {
    @Test("length, determinism, finiteness", arguments: InferenceCase.all)
    func continuation(_ c: InferenceCase) throws {
        let model = try c.makeModel()
        let prefix = testFrames(c.emission, steps: 5)
        let offset: [Double]? = c.emission == .bernoulli ? [0.3, 0.3, 0.4] : nil
        let sampler = SequenceSampler(model: model)
        let a = try sampler.continue(prefix: prefix, steps: 7, count: 3, seed: 4, particles: 8, inputOffset: offset)
        let b = try SequenceSampler(model: model).continue(prefix: prefix, steps: 7, count: 3, seed: 4, particles: 8,
                                                           inputOffset: offset)
        #expect(a == b)
        #expect(a.count == 3 && a.allSatisfy { $0.count == 7 * 3 && $0.allSatisfy(\.isFinite) })
        if c.emission == .bernoulli { #expect(a.allSatisfy { $0.allSatisfy { $0 == 0 || $0 == 1 } }) }
        #expect(try sampler.continue(prefix: prefix, steps: 7, count: 3, seed: 5, particles: 8, inputOffset: offset) != a)
        // A one-frame prefix works too (the filter's last step is its first).
        let short = try sampler.continue(prefix: Array(prefix.prefix(3)), steps: 2, count: 2, seed: 4, particles: 3)
        #expect(short.count == 2 && short.allSatisfy { $0.count == 6 })
    }

    /// The starting state a continuation computes from the filter's last slab must be the
    /// state the filter itself computes when the sequence goes on: with K = 1 (no resampling)
    /// and the same seed, step T0 of a pass over prefix + one more frame reads exactly the
    /// h, c (and hyper state) after the prefix.
    @Test("state after the prefix equals the filter's own recurrence", arguments: InferenceCase.all)
    func stateAfterPrefix(_ c: InferenceCase) throws {
        let model = try c.makeModel()
        let T0 = 4, D = 3
        let frames = testFrames(c.emission, steps: T0 + 1)
        let offset = [0.25, -0.5, 0.125]
        let sampler = SequenceSampler(model: model)
        let seed: UInt64 = 31
        // One generated step: it writes slab 0 only (no recurrence after the last step), so
        // slab 1 still holds the starting state, and slab 0 the first prior computed from it.
        _ = try sampler.continue(prefix: Array(frames.prefix(T0 * D)), steps: 1, count: 2, seed: seed, particles: 1,
                                 inputOffset: offset)
        let w = try #require(sampler.workspace)
        let start = w.slab(-1)

        let inputs = frames.enumerated().map { $0.element - offset[$0.offset % D] }
        let batch = try SequenceBatch<Double>(split: SequenceSplit(dataDim: D, inputs: [inputs], targets: [frames]),
                                              indices: [0], noiseKeys: [0])
        let filter = ParticleFilter(model: model)
        _ = filter.run(batch: batch, settings: FilterSettings(bound: .fivo, particleCount: 1),
                       seed: SequenceSampler<Double>.derive(seed, stream: 1), keepTape: true)
        let state = filter.stateInputs(T0)
        let cfg = c.configuration
        func same(_ a: UnsafeMutablePointer<Double>, _ b: UnsafeMutablePointer<Double>, _ width: Int, _ what: String) {
            for row in 0..<2 {
                for i in 0..<width {
                    #expect(abs(a[row * width + i] - b[i]) < 1e-12, "\(what)[\(row), \(i)]")
                }
            }
        }
        same(start.at(w.slots.recurrence.cell.h), state.h, cfg.hiddenDim, "h")
        if cfg.cell == .lstm { same(start.at(w.slots.recurrence.cell.c!), state.c, cfg.hiddenDim, "c") }
        if let theta = w.slots.recurrence.theta {
            same(start.at(theta.h), state.hyperH, cfg.hyperDim, "hyper h")
            if cfg.cell == .lstm { same(start.at(theta.c!), state.hyperC, cfg.hyperDim, "hyper c") }
        }
        // The first generated step's prior is the filter's prior at step T0.
        let (next, fs) = filter.tapeSlab(T0)
        same(w.slab(0).at(w.slots.prior.mean), next.at(fs.prior.mean), cfg.latentDim, "mu_p")
        same(w.slab(0).at(w.slots.prior.sigma), next.at(fs.prior.sigma), cfg.latentDim, "sigma_p")
    }

    @Test("particles are drawn by their final weights")
    func particleDraws() {
        var rng = SplitMix64(seed: 2)
        let logWeights: [Double] = [log(0.1), -.infinity, log(0.6), log(0.3)]
        var index = [Int32](repeating: -1, count: 20_000)
        logWeights.withUnsafeBufferPointer { w in
            index.withUnsafeMutableBufferPointer { out in
                SequenceSampler<Double>.drawParticles(logWeights: w.baseAddress!, particles: 4, draws: out.count,
                                                      generator: &rng, into: out.baseAddress!)
            }
        }
        let counts = (0..<4).map { k in Double(index.filter { $0 == k }.count) / Double(index.count) }
        #expect(counts[1] == 0)
        for (k, p) in [(0, 0.1), (2, 0.6), (3, 0.3)] {
            #expect(abs(counts[k] - p) < 4 * (p * (1 - p) / Double(index.count)).squareRoot(), "particle \(k)")
        }
    }
}

@Suite("Inference: diagnostics")
struct InferenceDiagnosticsTests {
    @Test("lengths, KL >= 0, finite, csv", arguments: InferenceCase.all)
    func basics(_ c: InferenceCase) throws {
        let model = try c.makeModel()
        let frames = testFrames(c.emission, steps: 6)
        for k in [1, 5] {
            let d = try SequenceDiagnostics.compute(model: model, frames: frames, particles: k, seed: 3)
            #expect(d.steps == 6)
            let counts: [Int] = [d.kl.count, d.logVariance.count, d.l2Distance.count, d.logAlpha.count]
            #expect(counts == [6, 6, 6, 6] as [Int])
            #expect(d.kl.allSatisfy { $0 >= 0 && $0.isFinite })
            #expect(d.l2Distance.allSatisfy { $0 >= 0 && $0.isFinite })
            #expect(d.logVariance.allSatisfy(\.isFinite) && d.logAlpha.allSatisfy(\.isFinite))
            if c.emission == .bernoulli { #expect(d.logVariance.allSatisfy { $0 <= log(0.25) + 1e-12 }) }
            // The per-step increments add up to the filter's log Z-hat.
            let total = d.logAlpha.reduce(0, +)
            #expect(abs(total - d.bound) < 1e-9 * max(1, abs(d.bound)), "K=\(k): \(total) vs \(d.bound)")
            let lines = d.csv().split(separator: "\n")
            #expect(lines.first == "step,kl,log_variance,l2_distance,log_alpha")
            #expect(lines.count == 7)
            #expect(lines[1].hasPrefix("1,"))
        }
    }

    @Test("with resampling the increments still add up to log Z-hat")
    func resamplingIncrements() throws {
        let c = InferenceCase(model: .vhrnn, cell: .lstm, emission: .gaussian)
        let model = try c.makeModel()
        let settings = FilterSettings(bound: .fivo, particleCount: 6, criterion: .always)
        let d = try SequenceDiagnostics.compute(model: model, frames: testFrames(.gaussian, steps: 8), seed: 9,
                                                settings: settings)
        #expect(abs(d.logAlpha.reduce(0, +) - d.bound) < 1e-9 * max(1, abs(d.bound)))
    }

    @Test("K = 1: values equal direct computations from the filter's slab")
    func matchesSlab() throws {
        for c in [InferenceCase(model: .vrnn, cell: .lstm, emission: .gaussian),
                  InferenceCase(model: .vhrnn, cell: .gru, emission: .bernoulli)] {
            let model = try c.makeModel()
            let frames = testFrames(c.emission, steps: 4)
            let d = try SequenceDiagnostics.compute(model: model, frames: frames, seed: 12)
            let batch = try SequenceBatch<Double>(split: SequenceSplit(dataDim: 3, sequences: [frames]), indices: [0],
                                                  noiseKeys: [0])
            let filter = ParticleFilter(model: model)
            _ = filter.run(batch: batch, settings: FilterSettings(bound: .fivo, particleCount: 1), seed: 12,
                           keepTape: true)
            for t in 0..<4 {
                let (slab, s) = filter.tapeSlab(t)
                var kl = 0.0
                for j in 0..<2 {
                    let mq = slab.at(s.proposal.mean)[j], sq = slab.at(s.proposal.sigma)[j]
                    let mp = slab.at(s.prior.mean)[j], sp = slab.at(s.prior.sigma)[j]
                    kl += log(sp / sq) + (sq * sq + (mq - mp) * (mq - mp)) / (2 * sp * sp) - 0.5
                }
                #expect(abs(d.kl[t] - kl) < 1e-12, "\(c) t=\(t): \(d.kl[t]) vs \(kl)")
                #expect(abs(d.logAlpha[t] - slab.at(s.logAlpha)[0]) < 1e-12)
                var variance = 0.0, squared = 0.0
                for i in 0..<3 {
                    let out = slab.at(s.emission.head)[i]
                    let mean = c.emission == .bernoulli ? 1 / (1 + exp(-out)) : out
                    variance += c.emission == .bernoulli ? mean * (1 - mean) : 2 * log(slab.at(s.emission.sigma!)[i])
                    squared += (mean - frames[t * 3 + i]) * (mean - frames[t * 3 + i])
                }
                let logVariance = c.emission == .bernoulli ? log(variance / 3) : variance / 3
                #expect(abs(d.logVariance[t] - logVariance) < 1e-12)
                #expect(abs(d.l2Distance[t] - squared.squareRoot()) < 1e-12)
            }
        }
    }

    @Test("proposal equal to the prior gives KL = 0", arguments: [ModelKind.vrnn, .vhrnn])
    func zeroKL(_ kind: ModelKind) throws {
        let model = try InferenceCase(model: kind, cell: .lstm, emission: .gaussian).makeModel()
        // Both heads ignore their inputs and output the same distribution: prior (mu, raw),
        // proposal residual 0 and the same raw, so q = p exactly.
        let raw = [0.3, -0.2]
        setTensor(model, "prior.layer1.weight", [0])
        setTensor(model, "prior.layer1.bias", [0.7, -1.1] + raw)
        setTensor(model, "proposal.layer1.weight", [0])
        setTensor(model, "proposal.layer1.bias", [0, 0] + raw)
        for k in [1, 4] {
            let d = try SequenceDiagnostics.compute(model: model, frames: testFrames(.gaussian, steps: 5), particles: k,
                                                    seed: 2)
            #expect(d.kl.allSatisfy { abs($0) < 1e-14 }, "\(d.kl)")
        }
    }

    @Test("hand-set emission: known log-variance and distance")
    func knownEmission() throws {
        let model = try InferenceCase(model: .vrnn, cell: .lstm, emission: .bernoulli).makeModel()
        setTensor(model, "emission.layer1.weight", [0])
        let p = [0.3, 0.6, 0.9]
        setTensor(model, "emission.layer1.bias", p.map { log($0 / (1 - $0)) })
        let frames = [1.0, 0, 1, 0, 0, 0]
        let d = try SequenceDiagnostics.compute(model: model, frames: frames, inputOffset: [0.5, 0.5, 0.5],
                                                particles: 3, seed: 1)
        let expected = log(p.reduce(0) { $0 + $1 * (1 - $1) } / 3)
        #expect(d.logVariance.allSatisfy { abs($0 - expected) < 1e-12 })
        let l2First = (0.7 * 0.7 + 0.6 * 0.6 + 0.1 * 0.1).squareRoot()
        let l2Second = (0.3 * 0.3 + 0.6 * 0.6 + 0.9 * 0.9).squareRoot()
        #expect(abs(d.l2Distance[0] - l2First) < 1e-12 && abs(d.l2Distance[1] - l2Second) < 1e-12)
    }
}

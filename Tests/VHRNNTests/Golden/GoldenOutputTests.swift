import Foundation
import Testing
@testable import VHRNN

/// Golden outputs: for fixed seeds, every bound, gradient, sample, diagnostic, training run and
/// checkpoint file of a grid of small models, compared with the values recorded in
/// `Tests/Golden/outputs.json`.
///
/// Why: refactors of the filter, the model step and the workspaces must not change a single
/// bit ("no behaviour change"). On the machine path the file was recorded on (the kernels'
/// instruction-set level, OpenBLAS's core, the parallel backend and the thread counts: see
/// ``GoldenRecord/fingerprint``) the comparison is exact, hashes of whole gradient and sample
/// arrays included. On any other path float summation order legitimately differs, so the
/// recorded summary values are compared within a tolerance and the hashes are skipped.
///
/// To record after an intended change (and say why in the commit):
///
///     VHRNN_GOLDEN_RECORD=1 swift test --filter GoldenOutputTests
///
/// Recording adds or replaces the entry of the current path and keeps the others.
@Suite("Golden outputs")
struct GoldenOutputTests {
    @Test func outputsMatchTheRecording() throws {
        let observed = try GoldenCases.all()
        let path = GoldenRecord.path
        let fingerprint = GoldenRecord.fingerprint
        if ProcessInfo.processInfo.environment["VHRNN_GOLDEN_RECORD"] == "1" {
            var file = (try? GoldenRecord.read()) ?? GoldenFile(paths: [:])
            file.paths[fingerprint] = observed
            try GoldenRecord.write(file)
            return
        }
        let file = try #require(try GoldenRecord.read(), "no golden file at \(path); record one with VHRNN_GOLDEN_RECORD=1")
        if let recorded = file.paths[fingerprint] {
            // Same machine path: bit-identical.
            #expect(Set(recorded.keys) == Set(observed.keys), "golden case names differ")
            for (name, want) in recorded.sorted(by: { $0.key < $1.key }) {
                guard let got = observed[name] else { continue }
                #expect(got.hash == want.hash, "\(name): hash \(got.hash) != recorded \(want.hash)")
                #expect(got.values.count == want.values.count, "\(name): \(got.values.count) values, recorded \(want.values.count)")
                for (i, (a, b)) in zip(got.values, want.values).enumerated() where a.bitPattern != b.bitPattern {
                    Issue.record("\(name)[\(i)]: \(a) != recorded \(b) (diff \(a - b))")
                    break
                }
            }
        } else {
            // Another machine path: the recorded values within a tolerance of their precision.
            let (otherPath, recorded) = try #require(file.paths.sorted(by: { $0.key < $1.key }).first)
            print("golden outputs: recorded on \"\(otherPath)\", running on \"\(fingerprint)\": comparing within tolerance")
            for (name, want) in recorded.sorted(by: { $0.key < $1.key }) {
                guard let got = observed[name] else {
                    Issue.record("\(name): not computed")
                    continue
                }
                // Float training compounds rounding over its steps; everything else is one pass.
                let tolerance = name.hasPrefix("float/train") ? 1e-3 : name.hasPrefix("float") ? 1e-4 : 1e-8
                for (i, (a, b)) in zip(got.values, want.values).enumerated() where abs(a - b) > tolerance * (1 + abs(b)) {
                    Issue.record("\(name)[\(i)]: \(a) vs recorded \(b)")
                    break
                }
            }
        }
    }
}

/// One case's outputs: summary values (compared exactly or within tolerance) and a hash of
/// every bit of the full arrays (compared only on the recorded machine path).
struct GoldenValue: Codable, Equatable {
    var values: [Double]
    var hash: String
}

struct GoldenFile: Codable {
    /// Machine path → case name → outputs.
    var paths: [String: [String: GoldenValue]]
}

enum GoldenRecord {
    static var path: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Golden/outputs.json").path
    }

    /// What decides float summation order here.
    static var fingerprint: String {
        "\(KernelRuntime.floatPath); \(KernelRuntime.parallelBackend) × \(KernelRuntime.threadCount); BLAS × \(KernelRuntime.blasThreadCount)"
    }

    static func read() throws -> GoldenFile? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try JSONDecoder().decode(GoldenFile.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func write(_ file: GoldenFile) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try encoder.encode(file).write(to: URL(fileURLWithPath: path))
    }
}

/// FNV-1a over the bit patterns of `values` (as Double).
private func bitHash(_ values: [Double]) -> String {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for v in values {
        var bits = v.bitPattern
        for _ in 0..<8 {
            h = (h ^ (bits & 0xFF)) &* 0x0000_0100_0000_01B3
            bits >>= 8
        }
    }
    return String(h, radix: 16)
}

private func golden(_ all: [Double], summary: [Double]? = nil) -> GoldenValue {
    GoldenValue(values: summary ?? all, hash: bitHash(all))
}

/// A few values that summarise a long array: its sum, sum of squares and entries spread over it.
private func summary(_ all: [Double]) -> [Double] {
    var out = [all.reduce(0, +), all.reduce(0) { $0 + $1 * $1 }]
    let n = all.count
    if n > 0 { for i in 0..<8 { out.append(all[(i * 7919) % n]) } }
    return out
}

enum GoldenCases {
    struct Setup {
        var name: String
        var model: ModelKind
        var cell: CellKind
        var emission: EmissionKind
        var semantics: StepSemantics
        var hyperInput: HyperInput = .both
    }

    static let setups: [Setup] = [
        Setup(name: "vrnn-lstm-bern-std", model: .vrnn, cell: .lstm, emission: .bernoulli, semantics: .standard),
        Setup(name: "vrnn-gru-gauss-std", model: .vrnn, cell: .gru, emission: .gaussian, semantics: .standard),
        Setup(name: "vhrnn-lstm-bern-std", model: .vhrnn, cell: .lstm, emission: .bernoulli, semantics: .standard),
        Setup(name: "vhrnn-gru-gauss-std", model: .vhrnn, cell: .gru, emission: .gaussian, semantics: .standard),
        Setup(name: "vrnn-lstm-bern-fivo", model: .vrnn, cell: .lstm, emission: .bernoulli, semantics: .fivo),
        Setup(name: "vhrnn-lstm-gauss-fivo-hidden", model: .vhrnn, cell: .lstm, emission: .gaussian, semantics: .fivo,
              hyperInput: .hidden),
        Setup(name: "vhrnn-lstm-bern-fivo-latent", model: .vhrnn, cell: .lstm, emission: .bernoulli, semantics: .fivo,
              hyperInput: .latent),
        Setup(name: "vhrnn-gru-bern-fivo", model: .vhrnn, cell: .gru, emission: .bernoulli, semantics: .fivo),
    ]

    static func all() throws -> [String: GoldenValue] {
        var out: [String: GoldenValue] = [:]
        for setup in setups {
            try cases(setup, Float.self, prefix: "float", into: &out)
            try cases(setup, Double.self, prefix: "double", into: &out)
        }
        try trainingCases(into: &out)
        return out
    }

    static let dataDim = 3

    static func split(_ emission: EmissionKind) -> SequenceSplit {
        var rng = SplitMix64(seed: 11)
        let lengths = [5, 2, 7, 4]
        let targets: [[Double]] = lengths.map { len in
            (0..<(len * dataDim)).map { _ in
                emission == .bernoulli ? (rng.nextUnitDouble() < 0.4 ? 1 : 0) : 3 * rng.nextUnitDouble() - 1.5
            }
        }
        let inputs = emission == .bernoulli ? targets.map { $0.map { $0 - 0.4 } } : targets
        return SequenceSplit(dataDim: dataDim, inputs: inputs, targets: targets)
    }

    static func model<S: KernelScalar>(_ setup: Setup, _: S.Type) throws -> SequenceModel<S> {
        var rng = SplitMix64(seed: 5)
        let config = ModelConfiguration(model: setup.model, cell: setup.cell, dataDim: dataDim,
                                        emission: setup.emission, latentDim: 2, hiddenDim: 5, hyperDim: 4,
                                        fcLayers: 1, omegaHidden: 6, hyperInput: setup.hyperInput,
                                        semantics: setup.semantics)
        let model = try SequenceModel<S>(configuration: config, generator: &rng)
        // Off the initial values, so that the hyper heads are not identities.
        for i in 0..<model.parameters.count {
            model.parameters.values[i] += S(0.3 * (2 * rng.nextUnitDouble() - 1))
        }
        return model
    }

    static func cases<S: KernelScalar>(_ setup: Setup, _ type: S.Type, prefix: String,
                                      into out: inout [String: GoldenValue]) throws {
        let name = "\(prefix)/\(setup.name)"
        let model = try model(setup, S.self)
        let data = split(setup.emission)
        let batch = try SequenceBatch<S>(split: data, indices: [0, 1, 2, 3], noiseKeys: [3, 1, 4, 1])
        let filter = ParticleFilter(model: model)

        // Bounds under every bound, scheme and a second criterion.
        var settings: [(String, FilterSettings)] = [
            ("elbo", FilterSettings(bound: .elbo, particleCount: 3)),
            ("iwae", FilterSettings(bound: .iwae, particleCount: 3)),
        ]
        for scheme in ResamplingScheme.allCases {
            settings.append(("fivo-\(scheme)", FilterSettings(bound: .fivo, particleCount: 4, scheme: scheme)))
        }
        settings.append(("fivo-always", FilterSettings(bound: .fivo, particleCount: 4, criterion: .always,
                                                      scheme: .systematic)))
        for (label, s) in settings {
            let result = filter.run(batch: batch, settings: s, seed: 17, keepTape: false)
            out["\(name)/bound/\(label)"] = golden(result.bounds + [Double(result.resamplingEvents)])
        }

        // Gradients of ELBO, IWAE and FIVO (taped pass, then backward).
        for (label, s) in [settings[0], settings[1], settings[2], settings[5]] {
            let result = filter.run(batch: batch, settings: s, seed: 23, keepTape: true)
            model.parameters.gradients.zero(count: model.parameters.count)
            filter.backward(boundGradients: result.bounds.indices.map { -1 / Double(4 * (1 + $0)) })
            let g = (0..<model.parameters.count).map { Double(model.parameters.gradients[$0]) }
            out["\(name)/gradient/\(label)"] = golden(g, summary: result.bounds + summary(g))
        }
        model.parameters.gradients.zero(count: model.parameters.count)

        // Generation from the prior and as a continuation, both output modes.
        let sampler = SequenceSampler(model: model)
        let offset = setup.emission == .bernoulli ? [0.4, 0.4, 0.4] : nil
        for output in [EmissionOutput.sample, .mean] {
            let drawn = sampler.sample(count: 3, steps: 4, seed: 9, output: output, inputOffset: offset).flatMap { $0 }
            out["\(name)/sample/\(output)"] = golden(drawn)
            let continued = try sampler.continue(prefix: Array(data.targets[2].prefix(4 * dataDim)), steps: 3,
                                                 count: 2, seed: 9, particles: 5, output: output,
                                                 inputOffset: offset).flatMap { $0 }
            out["\(name)/continue/\(output)"] = golden(continued)
        }

        // Diagnostics and the log-weight anatomy.
        let diagnostics = try SequenceDiagnostics.compute(model: model, frames: data.targets[2], inputOffset: offset,
                                                          particles: 3, seed: 2)
        out["\(name)/diagnostics"] = golden(diagnostics.kl + diagnostics.logVariance + diagnostics.l2Distance
            + diagnostics.logAlpha + [diagnostics.bound])
        let anatomy = try LogWeightAnatomy.compute(model: model, split: data, particles: 3, seed: 4, keep: 3)
        out["\(name)/anatomy"] = golden([anatomy.elbo, anatomy.elboStandardError, anatomy.elboWithoutTail]
            + anatomy.worst.flatMap { [$0.logWeight, $0.logPrior, $0.logLikelihood, $0.logProposal] })

        // The evaluator (all bounds, rows split over several passes).
        let evaluation = try Evaluator.evaluate(model: model, split: data, particles: 4, seed: 8, maxRows: 8)
        out["\(name)/evaluate"] = golden([evaluation.elbo, evaluation.iwae, evaluation.fivo].compactMap { $0 })
    }

    /// A few training steps with one and two workers, validation, and the checkpoint it saves.
    static func trainingCases(into out: inout [String: GoldenValue]) throws {
        let full = SyntheticData.make(setting: .standard, seed: 0)
        func cut(_ split: SequenceSplit, _ count: Int) -> SequenceSplit {
            SequenceSplit(dataDim: 2, sequences: split.inputs.prefix(count).map { Array($0.prefix(40)) })
        }
        let data = SequenceDataset(name: "golden", kind: .real, train: cut(full.train, 8), valid: cut(full.valid, 4),
                                   test: cut(full.test, 4))
        for (label, kind) in [("vhrnn", ModelKind.vhrnn), ("vrnn", ModelKind.vrnn)] {
            for workers in [1, 2] {
                var rng = SplitMix64(seed: 1)
                let model = try SequenceModel<Float>(
                    configuration: ModelConfiguration(model: kind, dataDim: 2, emission: .gaussian, latentDim: 3,
                                                      fcLayers: 1, omegaHidden: 8),
                    generator: &rng)
                var options = TrainingOptions()
                options.steps = 12
                options.validateEvery = 6
                options.learningRate = 3e-3
                options.workers = workers
                let dir = FileManager.default.temporaryDirectory
                    .appendingPathComponent("vhrnn-golden-\(UUID().uuidString)").path
                defer { try? FileManager.default.removeItem(atPath: dir) }
                let trainer = try Trainer(model: model, dataset: data, options: options, dataSource: "golden",
                                          outputDirectory: dir)
                let summaryOut = try trainer.run()
                let values = (0..<model.parameters.count).map { Double(model.parameters.values[$0]) }
                let name = "float/train/\(label)-workers\(workers)"
                out[name] = golden(values, summary: [summaryOut.bestValidation ?? .nan].filter(\.isFinite) + summary(values))
                let weights = try Data(contentsOf: URL(fileURLWithPath: dir + "/last/" + Checkpoint.modelFile))
                out[name + "/checkpoint"] = GoldenValue(values: [Double(weights.count)],
                                                        hash: bitHash(weights.map { Double($0) }))
            }
        }
    }
}

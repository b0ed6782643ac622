import Foundation
import Testing
@testable import VHRNN

/// Importing the two published FIVO checkpoints (../shared/data/fivo-checkpoints) and scoring
/// them on their chunked test splits; refusing damaged or foreign checkpoints.
@Suite("FIVO checkpoint import")
struct FIVOImportTests {
    typealias Published = PublishedFIVOCheckpoint
    static let published = PublishedFIVOCheckpoint.all

    static func prefix(_ p: Published) throws -> String { try p.prefix() }

    static func chunkedData(_ p: Published) throws -> (DataSpec, SequenceDataset) {
        let source = try DataSource(parsing: "pianoroll-chunks:100:" + (try SharedData.url(p.pickle).path))
        let dataset = try source.load()
        return (DataSpec(source: source.description, dataset: dataset), dataset)
    }

    @Test("published checkpoints import with the paper's parameter counts", arguments: published)
    func imports(_ p: Published) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (spec, _) = try Self.chunkedData(p)
        let (result, model) = try FIVOCheckpointImport.importCheckpoint(prefix: try Self.prefix(p), data: spec,
                                                                        latentSize: p.latent, to: dir.file("ckpt"))
        let c = result.configuration
        #expect(c.model == .vrnn && c.cell == .lstm && c.emission == .bernoulli && c.semantics == .fivo)
        #expect([c.latentDim, c.hiddenDim, c.encodedDim] == [p.latent, p.latent, p.latent] && c.fcWidths == [p.latent])
        #expect(c.dataDim == 88 && c.sigmaMin == 0)
        #expect(model.parameterCount == p.parameterCountWithoutReverseLSTM)
        #expect(model.paperParameterCount == p.parameterCount)
        #expect(model.parameterCount + result.droppedReverseLSTMCount == p.parameterCount)
        #expect(result.globalStep == Int64(p.step))

        // The saved checkpoint loads back with FIVO semantics and the same values.
        let loaded = try Checkpoint.load(directory: dir.file("ckpt"))
        #expect(loaded.config.model == c)
        let (reloaded, _) = try SequenceModel<Float>.load(checkpoint: loaded, includeTrainingState: false)
        #expect(Array(UnsafeBufferPointer(start: reloaded.parameters.values, count: reloaded.parameterCount))
            == Array(UnsafeBufferPointer(start: model.parameters.values, count: model.parameterCount)))
    }

    /// The mapping, element by element, for one tensor of each kind.
    @Test func tensorsAreTransposedSplitAndBiased() throws {
        let p = Self.published[0]
        let checkpoint = try TensorFlowCheckpoint(prefix: try Self.prefix(p))
        let (spec, _) = try Self.chunkedData(p)
        let result = try FIVOCheckpointImport.convert(prefix: try Self.prefix(p), trainFrameMean: spec.trainFrameMean)
        let n = p.latent, G = 4 * n
        // Sonnet w (in, out) -> ours (out, in)
        let w = try checkpoint.floatValues("data_encoder/linear_0/w")
        let ours = try #require(result.tensors["phi_x.layer0.weight"])
        for (i, o) in [(0, 0), (5, 17), (87, 31)] { #expect(ours[o * 88 + i] == w[i * n + o]) }
        // lstm kernel (2E + H, 4H): rows [0, 2E) input weight, [2E, 2E + H) recurrent weight
        let k = try checkpoint.floatValues("lstm_cell/kernel")
        let input = try #require(result.tensors["rnn.input_weight"]), recurrent = try #require(result.tensors["rnn.recurrent_weight"])
        for (r, g) in [(0, 0), (40, 100), (63, 127)] { #expect(input[g * 2 * n + r] == k[r * G + g]) }
        for (r, g) in [(0, 3), (31, 64)] { #expect(recurrent[g * n + r] == k[(2 * n + r) * G + g]) }
        // the run-time bias logit(clip(m)) folded into the emission's output bias
        let b = try checkpoint.floatValues("generative_fcnet/linear_1/b")
        let offset = SequenceModel<Float>.bernoulliOutputBias(frameMean: try #require(spec.trainFrameMean))
        let stored = try #require(result.tensors["emission.layer1.bias"])
        for d in [0, 30, 87] { #expect(stored[d] == Float(Double(b[d]) + offset[d])) }
    }

    /// Scored on the chunked test split at K = 4, seed 0. A wrong mapping scores far lower; the
    /// semantics the model was trained with scores higher than the other one (scripts/
    /// fivo-checkpoint-results.sh over 5 seeds: JSB FIVO −7.517 ± 0.005 against −7.580 under
    /// standard semantics, ELBO +0.21, IWAE +0.17; Nottingham FIVO −3.202 ± 0.002 against −3.536,
    /// ELBO +0.51, IWAE +0.55).
    @Test("published checkpoints score on their chunked test splits", arguments: zip(published, [
        (split: [84, 4725], fivo: -7.517, elboGain: 0.1, iwaeGain: 0.08),
        (split: [499, 44463], fivo: -3.202, elboGain: 0.3, iwaeGain: 0.3),
    ]))
    func scoresOnItsChunkedTestSplit(_ p: Published,
                                     _ expected: (split: [Int], fivo: Double, elboGain: Double, iwaeGain: Double)) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (spec, dataset) = try Self.chunkedData(p)
        let (_, model) = try FIVOCheckpointImport.importCheckpoint(prefix: try Self.prefix(p), data: spec, to: dir.file("c"))
        #expect([dataset.test.count, dataset.test.totalSteps] == expected.split)
        let fivo = try Evaluator.evaluate(model: model, split: dataset.test, particles: 4, seed: 0)
        var config = model.configuration
        config.semantics = .standard
        var rng = SplitMix64(seed: 0)
        let standard = try SequenceModel<Float>(configuration: config, generator: &rng)
        standard.parameters.values.update(from: model.parameters.values, count: model.parameterCount)
        let other = try Evaluator.evaluate(model: standard, split: dataset.test, particles: 4, seed: 0)
        let (e, i, f) = (try #require(fivo.elbo), try #require(fivo.iwae), try #require(fivo.fivo))
        #expect(e < i && i < f, "ELBO \(e) IWAE \(i) FIVO \(f)")
        // One seed's spread is ~0.01 (five standard errors of the 5-seed mean).
        #expect(abs(f - expected.fivo) < 0.05, "FIVO per step \(f) at K = 4, expected about \(expected.fivo)")
        #expect(e - (try #require(other.elbo)) > expected.elboGain, "ELBO \(e) vs \(other.elbo!) under standard semantics")
        #expect(i - (try #require(other.iwae)) > expected.iwaeGain, "IWAE \(i) vs \(other.iwae!) under standard semantics")
    }

    // MARK: - Refusals

    static func expectOneLine(_ error: any Error, mentions words: [String]) {
        let text = "\(error)"
        #expect(!text.contains("\n"), "\(text)")
        for w in words { #expect(text.contains(w), "\(text) should mention \(w)") }
    }

    static let mean = [Double](repeating: 0.05, count: 88)

    /// The published JSB checkpoint's tensors, as the bundle fixture writes them.
    static func publishedTensors() throws -> [BundleFixture.Tensor] {
        let checkpoint = try TensorFlowCheckpoint(prefix: prefix(published[0]))
        return try checkpoint.entries.map {
            BundleFixture.Tensor(name: $0.name, dtype: $0.dtype.rawValue, dims: $0.shape.map(Int64.init),
                                 bytes: try checkpoint.verifiedBytes($0))
        }
    }

    /// Rewrites the checkpoint with `edit` applied to its tensor list and imports it. (Truncated
    /// and flipped copies are refused by the reader itself: TensorFlowCheckpointTests.)
    static func importEdited(_ edit: (inout [BundleFixture.Tensor]) -> Void) throws -> any Error {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var tensors = try publishedTensors()
        edit(&tensors)
        tensors.sort { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }  // table order
        let prefix = try BundleFixture.bundle(tensors, in: dir, name: "edited")
        return try #require(throws: (any Error).self) {
            try FIVOCheckpointImport.convert(prefix: prefix, trainFrameMean: Self.mean)
        }
    }

    static func zeros(_ name: String, dims: [Int64], dtype: Int32 = 1) -> BundleFixture.Tensor {
        BundleFixture.Tensor(name: name, dtype: dtype, dims: dims,
                             bytes: [UInt8](repeating: 0, count: (dtype == 2 ? 8 : 4) * Int(dims.reduce(1, *))))
    }

    @Test func theFixtureRoundTripsThePublishedCheckpoint() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let copy = try BundleFixture.bundle(try Self.publishedTensors(), in: dir, name: "copy")
        let viaCopy = try FIVOCheckpointImport.convert(prefix: copy, trainFrameMean: Self.mean)
        let direct = try FIVOCheckpointImport.convert(prefix: Self.prefix(Self.published[0]), trainFrameMean: Self.mean)
        #expect(viaCopy.tensors == direct.tensors)
    }

    @Test func missingVariableIsNamed() throws {
        let error = try Self.importEdited { $0.removeAll { $0.name == "prior_fcnet/linear_1/b" } }
        #expect(error is FIVOImportError)
        Self.expectOneLine(error, mentions: ["prior_fcnet/linear_1/b", "missing"])
    }

    @Test func unexpectedVariableIsNamed() throws {
        let error = try Self.importEdited { $0.append(Self.zeros("tilt_fcnet/linear_0/w", dims: [2])) }
        Self.expectOneLine(error, mentions: ["tilt_fcnet/linear_0/w", "unexpected"])
    }

    @Test func wrongShapeIsNamed() throws {
        let error = try Self.importEdited { tensors in
            let i = tensors.firstIndex { $0.name == "latent_encoder/linear_1/w" }!
            tensors[i] = Self.zeros("latent_encoder/linear_1/w", dims: [32, 16])
        }
        Self.expectOneLine(error, mentions: ["latent_encoder/linear_1/w", "[32, 16]"])
    }

    @Test func wrongDtypeIsNamed() throws {
        let error = try Self.importEdited { tensors in
            let i = tensors.firstIndex { $0.name == "prior_fcnet/linear_0/b" }!
            tensors[i] = Self.zeros(tensors[i].name, dims: [16], dtype: 2)
        }
        Self.expectOneLine(error, mentions: ["prior_fcnet/linear_0/b", "float32"])
    }

    @Test func bernoulliModelNeedsTheTrainingMean() throws {
        let error = try #require(throws: FIVOImportError.self) {
            try FIVOCheckpointImport.convert(prefix: Self.prefix(Self.published[0]), trainFrameMean: nil)
        }
        Self.expectOneLine(error, mentions: ["training-frame mean"])
        let wrongLatent = try #require(throws: FIVOImportError.self) {
            try FIVOCheckpointImport.convert(prefix: Self.prefix(Self.published[0]), trainFrameMean: Self.mean, latentSize: 16)
        }
        Self.expectOneLine(wrongLatent, mentions: ["latent size 32"])
    }
}

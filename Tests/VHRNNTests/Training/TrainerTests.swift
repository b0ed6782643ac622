import Foundation
import Testing
@testable import VHRNN

/// A small synthetic dataset: the first sequences of the standard set, cut to 30 steps.
private func smallDataset() -> SequenceDataset {
    let full = SyntheticData.make(setting: .standard, seed: 0)
    func cut(_ split: SequenceSplit, _ count: Int) -> SequenceSplit {
        SequenceSplit(dataDim: 2, sequences: split.inputs.prefix(count).map { Array($0.prefix(60)) })
    }
    return SequenceDataset(name: "small", kind: .real, train: cut(full.train, 24), valid: cut(full.valid, 6),
                           test: cut(full.test, 6))
}

private func smallModel(seed: UInt64 = 1) throws -> SequenceModel<Float> {
    var rng = SplitMix64(seed: seed)
    return try SequenceModel(configuration: ModelConfiguration(model: .vhrnn, dataDim: 2, emission: .gaussian,
                                                               latentDim: 3, fcLayers: 1, omegaHidden: 8),
                             generator: &rng)
}

private func temporaryDirectory() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vhrnn-trainer-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

@Suite("Training")
struct TrainerTests {
    @Test func trainingRaisesTheTrainingBound() throws {
        let data = smallDataset()
        let model = try smallModel()
        let before = try Evaluator.evaluate(model: model, split: data.train, particles: 4, bounds: [.fivo], seed: 1).fivo!
        var options = TrainingOptions()
        options.steps = 150
        options.learningRate = 3e-3
        options.validateEvery = 50
        let trainer = try Trainer(model: model, dataset: data, options: options, dataSource: "test")
        let summary = try trainer.run()
        let after = try Evaluator.evaluate(model: model, split: data.train, particles: 4, bounds: [.fivo], seed: 1).fivo!
        #expect(summary.finalStep == 150)
        #expect(after > before + 0.5, "training FIVO per step before \(before), after \(after)")
        #expect(summary.bestValidation != nil)
    }

    @Test func sameSeedSameResult() throws {
        let data = smallDataset()
        var options = TrainingOptions()
        options.steps = 12
        options.validateEvery = 6
        options.workers = 2  // fixed: the default follows the global thread count, which another test changes
        func train() throws -> [Float] {
            let model = try smallModel()
            _ = try Trainer(model: model, dataset: data, options: options, dataSource: "test").run()
            return model.parameters.parameterValues
        }
        #expect(try train() == train())
    }

    /// `--clip-norm`: a step whose gradient norm exceeds the clip is applied with the gradient
    /// scaled to exactly the clip norm, a step below it unchanged; `lastGradientNorm` is the
    /// norm before clipping, and `metrics.jsonl` reports each interval's mean and maximum norm
    /// and how many steps were clipped.
    @Test func clippingScalesTheGradientToTheClipNormAndIsReported() throws {
        let data = smallDataset()
        var options = TrainingOptions()
        options.steps = 8
        options.validateEvery = 4
        options.workers = 1
        let probe = try Trainer(model: try smallModel(), dataset: data, options: options, dataSource: "test")
        try probe.trainStep(indices: [0, 1, 2, 3])
        let unclipped = try #require(probe.lastGradientNorm)
        #expect(abs(probe.model.parameters.gradientNorm() - unclipped) <= 1e-9 * unclipped)
        // The tensor metrics.jsonl names for a large step: the largest per-tensor norm, summed here
        // element by element.
        let store = probe.model.parameters
        let perTensor = store.layout.tensors.map { t in
            let g = (0..<t.count).map { Double(store.gradients[t.offset + $0]) }
            return (t.name, g.reduce(0) { $0 + $1 * $1 }.squareRoot())
        }
        let expected = try #require(perTensor.max { $0.1 < $1.1 })
        let found = try #require(store.largestGradientTensor())
        #expect(found.name == expected.0 && abs(found.norm - expected.1) <= 1e-6 * expected.1, "\(found) vs \(expected)")

        options.clipNorm = unclipped / 4
        let clipped = try Trainer(model: try smallModel(), dataset: data, options: options, dataSource: "test")
        try clipped.trainStep(indices: [0, 1, 2, 3])
        #expect(clipped.lastGradientNorm == unclipped, "the norm is reported before clipping")
        let applied = clipped.model.parameters.gradientNorm()
        #expect(abs(applied - unclipped / 4) <= 1e-4 * unclipped, "applied \(applied), clip \(unclipped / 4)")
        #expect(clipped.model.parameters.parameterValues != probe.model.parameters.parameterValues)

        options.clipNorm = unclipped * 4
        let loose = try Trainer(model: try smallModel(), dataset: data, options: options, dataSource: "test")
        try loose.trainStep(indices: [0, 1, 2, 3])
        #expect(loose.model.parameters.parameterValues == probe.model.parameters.parameterValues)

        // The metrics of a run where every step is clipped, and of one where none is.
        for (clip, everyStepClipped) in [(1e-6, true), (nil, false)] as [(Double?, Bool)] {
            options.clipNorm = clip
            let dir = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            _ = try Trainer(model: try smallModel(), dataset: data, options: options, dataSource: "test",
                            outputDirectory: dir).run()
            let lines = try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 2)
            for line in lines {
                let record = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                let mean = try #require(record["grad_norm_mean"] as? Double)
                let maximum = try #require(record["grad_norm_max"] as? Double)
                #expect(mean > 0 && mean <= maximum, "\(line)")
                // The maximum's step names its largest tensor: a real one, holding at least its
                // share of the norm (a norm over n tensors has one of at least norm / sqrt(n)).
                let tensors = probe.model.parameters.layout.tensors
                let name = try #require(record["grad_norm_max_tensor"] as? String)
                let part = try #require(record["grad_norm_max_tensor_norm"] as? Double)
                #expect(tensors.contains { $0.name == name }, "\(name)")
                #expect(part <= maximum * (1 + 1e-6) && part >= maximum / Double(tensors.count).squareRoot() * (1 - 1e-6), "\(line)")
                #expect(record["clipped_steps"] as? Int == (everyStepClipped ? 4 : 0), "\(line)")
            }
        }
    }

    /// Stop a run midway (as Ctrl-C does), resume it from its `last` checkpoint, and compare
    /// with an uninterrupted run: parameters, Adam moments and step must be bit-identical.
    @Test func resumeEqualsUninterruptedRun() throws {
        let data = smallDataset()
        var options = TrainingOptions()
        options.steps = 16
        options.validateEvery = 5
        options.workers = 2  // fixed: the default follows the global thread count, which another test changes
        options.seed = 7

        let straightModel = try smallModel()
        let straightDir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: straightDir) }
        _ = try Trainer(model: straightModel, dataset: data, options: options, dataSource: "test",
                        outputDirectory: straightDir).run()

        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try Trainer(model: try smallModel(), dataset: data, options: options, dataSource: "test",
                                outputDirectory: dir)
        var calls = 0
        let interrupted = try first.run(shouldStop: {
            calls += 1
            return calls > 7  // stop before step 8, between validations
        })
        #expect(interrupted.interrupted && interrupted.finalStep == 7)

        let resumedModel = try smallModel(seed: 99)  // different init: everything must come from the checkpoint
        let second = try Trainer(model: resumedModel, dataset: data, options: options, dataSource: "test",
                                 outputDirectory: dir)
        try second.restore(from: try Checkpoint.load(directory: dir + "/last"))
        #expect(second.step == 7)
        let summary = try second.run()
        #expect(summary.finalStep == 16)

        let a = straightModel.parameters, b = resumedModel.parameters
        #expect(a.parameterValues == b.parameterValues)
        #expect(Array(UnsafeBufferPointer(start: a.firstMoment, count: a.count))
            == Array(UnsafeBufferPointer(start: b.firstMoment, count: b.count)))
        #expect(Array(UnsafeBufferPointer(start: a.secondMoment, count: a.count))
            == Array(UnsafeBufferPointer(start: b.secondMoment, count: b.count)))
        #expect(a.step == b.step)
        // The best checkpoint is the same model in both runs.
        let bestA = try Checkpoint.load(directory: straightDir + "/best").parameters.map(\.values)
        let bestB = try Checkpoint.load(directory: dir + "/best").parameters.map(\.values)
        #expect(bestA == bestB)
        let metrics = try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8)
        #expect(metrics.split(separator: "\n").count >= 3)
    }

    /// Values near 1e30 overflow float (their squares are infinite): batches holding one give a
    /// non-finite loss. Such steps are skipped, counted and reported; the rest train normally,
    /// and no NaN or infinity reaches a checkpoint.
    static func poisoned(_ data: SequenceDataset, sequences: Int) -> SequenceDataset {
        var train = data.train.inputs
        for i in 0..<sequences { train[i] = train[i].map { $0 * 1e30 } }
        return SequenceDataset(name: "poisoned", kind: .real, train: SequenceSplit(dataDim: 2, sequences: train),
                               valid: data.valid, test: data.test)
    }

    /// Training options of the two non-finite tests.
    static func overflowOptions(steps: Int, validateEvery: Int, workers: Int) -> TrainingOptions {
        var options = TrainingOptions()
        options.steps = steps
        options.validateEvery = validateEvery
        options.workers = workers
        options.seed = 5
        return options
    }

    @Test func nonFiniteStepsAreSkippedAndCounted() throws {
        let data = Self.poisoned(smallDataset(), sequences: 4)
        let options = Self.overflowOptions(steps: 30, validateEvery: 10, workers: 2)
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try smallModel()
        let trainer = try Trainer(model: model, dataset: data, options: options, dataSource: "test", outputDirectory: dir)
        var reported = 0
        let summary = try trainer.run(progress: { reported = $0.skippedSteps })
        #expect(summary.finalStep == 30 && summary.skippedSteps > 0 && summary.skippedSteps < 30, "\(summary)")
        #expect(reported == summary.skippedSteps)
        #expect(model.parameters.firstNonFinite(in: model.parameters.values) == nil)
        for name in ["best", "last"] {
            let loaded = try Checkpoint.load(directory: dir + "/" + name)
            let store: ParameterStore<Float> = try loaded.makeStore(layout: model.parameters.layout)
            #expect(store.firstNonFinite(in: store.values) == nil, "\(name)")
        }
        let metrics = try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8)
        #expect(metrics.contains("\"skipped_steps\":\(summary.skippedSteps)"), "\(metrics)")
        // A resumed run carries the count on.
        let again = try Trainer(model: try smallModel(), dataset: data, options: options, dataSource: "test",
                                outputDirectory: dir)
        try again.restore(from: try Checkpoint.load(directory: dir + "/last"))
        #expect(again.skippedSteps == summary.skippedSteps)
    }

    @Test func tooManyNonFiniteStepsInARowStopWithTheStep() throws {
        let data = Self.poisoned(smallDataset(), sequences: 24)  // every batch overflows
        var options = Self.overflowOptions(steps: 50, validateEvery: 5, workers: 1)
        options.maxNonFiniteSteps = 4
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try smallModel()
        let before = model.parameters.parameterValues
        let trainer = try Trainer(model: model, dataset: data, options: options, dataSource: "test", outputDirectory: dir)
        let error = #expect(throws: TrainingError.self) { try trainer.run() }
        let message = error?.message ?? ""
        #expect(message.hasPrefix("step 4: ") && message.contains("not finite for 4 steps in a row"), "\(message)")
        #expect(model.parameters.parameterValues == before, "a skipped step changed the parameters")
        #expect(!FileManager.default.fileExists(atPath: dir + "/last"), "nothing to checkpoint was written")
    }

    @Test func rejectsMismatchedData() throws {
        let data = smallDataset()
        var rng = SplitMix64(seed: 0)
        let model = try SequenceModel<Float>(configuration: ModelConfiguration(model: .vrnn, dataDim: 3, emission: .gaussian,
                                                                               latentDim: 2), generator: &rng)
        #expect(throws: TrainingError.self) {
            _ = try Trainer(model: model, dataset: data, options: TrainingOptions(), dataSource: "test")
        }
    }
}

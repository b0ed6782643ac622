import Foundation

/// A snapshot of training for progress displays and logs.
public struct TrainingProgress: Sendable {
    /// Training steps taken so far in the run (resumed runs count from the restored step).
    public var step: Int
    /// The run's step budget (``TrainingOptions/totalSteps(trainCount:)``).
    public var totalSteps: Int
    /// The epoch the last step belonged to (0-based).
    public var epoch: Int
    /// The last batch's loss −mean_b(bound_b / T_b).
    public var loss: Double
    /// The last validation FIVO per step, if any.
    public var validation: Double?
    /// The best validation FIVO per step so far, if any.
    public var bestValidation: Double?
    /// Steps per second since this process started training (resumed steps excluded).
    public var stepsPerSecond: Double
    /// Estimated seconds to the end of the step budget at the current rate.
    public var secondsRemaining: Double
    /// True on the steps where a validation just ran.
    public var validated: Bool
    /// Steps not applied so far because their loss or gradient was not finite.
    public var skippedSteps: Int = 0
}

/// What a training run ended with.
public struct TrainingSummary: Sendable {
    /// Steps taken by this call of ``Trainer/run(shouldStop:progress:)`` (not counting a resumed
    /// run's earlier steps).
    public var stepsRun: Int
    /// The trainer's step count at the end (including a resumed run's earlier steps).
    public var finalStep: Int
    /// The best validation FIVO per step of the whole run (resumes included), if any.
    public var bestValidation: Double?
    /// The step at which ``bestValidation`` was reached, if any.
    public var bestStep: Int?
    /// True when ``TrainingOptions/patience`` validations in a row did not improve.
    public var stoppedEarly: Bool
    /// True when `shouldStop` returned true before the budget was reached.
    public var interrupted: Bool
    /// Wall time of this call, in seconds.
    public var seconds: Double
    /// Steps not applied because their loss or gradient was not finite (whole run, resumes included).
    public var skippedSteps: Int = 0
}

/// Trains a model with Adam on a particle-filter bound.
///
/// Deterministic for a given seed and thread count: the batch order of epoch e and the noise
/// of step s are functions of (seed, e) and (seed, s) only, so a run resumed from a checkpoint
/// continues exactly as the uninterrupted run would.
///
/// With an output directory it writes `OUT/best` (the model with the best validation FIVO),
/// `OUT/last` (everything needed to resume, written at every validation and at the end or on
/// interruption) and appends metrics to `OUT/metrics.jsonl`.
public final class Trainer<S: KernelScalar> {
    /// The model being trained; its parameters and Adam state change in place.
    public let model: SequenceModel<S>
    /// The data: training batches come from `train`, validation from `valid`.
    public let dataset: SequenceDataset
    /// The options the run was created with.
    public let options: TrainingOptions
    /// The data description written into every checkpoint's `config.json`.
    public let dataSpec: DataSpec
    /// Where `best/`, `last/` and `metrics.jsonl` go; nil: nothing is written.
    public let outputDirectory: String?

    /// Steps taken (batches), including those of a run restored with ``restore(from:)``.
    public private(set) var step = 0
    /// The best validation FIVO per step so far (nil before the first validation, or without a
    /// validation split).
    public private(set) var bestValidation: Double?
    /// The step of ``bestValidation``.
    public private(set) var bestStep: Int?
    private var staleValidations = 0
    /// Steps not applied (non-finite loss or gradient), in all and in a row.
    public private(set) var skippedSteps = 0
    private var consecutiveSkips = 0
    /// Whether the last ``trainStep(indices:)`` was not applied, and what was not finite first.
    public private(set) var lastStepSkipped = false
    /// What was not finite in the last skipped step, e.g. `"the loss (nan)"` or `"the gradient of
    /// emission.layer1.bias"`; nil when the last step was applied.
    public private(set) var lastNonFinite: String?
    /// The global gradient norm of the last applied ``trainStep(indices:)``, before clipping
    /// (nil before the first applied step). `metrics.jsonl` summarises it per validation
    /// interval, which is what a ``TrainingOptions/clipNorm`` is chosen from.
    public private(set) var lastGradientNorm: Double?
    /// Gradient norms of the applied steps since the last metrics line: sum, maximum, count,
    /// how many were clipped, and the tensor with the largest gradient in the maximum's step
    /// (with its norm). Not part of the resumable state: after a resume the first line covers
    /// the steps since the resume.
    private var intervalNorms = IntervalNorms()
    private struct IntervalNorms {
        var sum = 0.0, max = 0.0, count = 0, clipped = 0
        var maxTensor: (name: String, norm: Double)?
    }
    /// The parameter values at the best validation of this process (model selection).
    private var bestParameters: [S]?
    private let workers: [TrainingWorker<S>]

    /// A trainer for `model` on `dataset`; nothing is trained until ``run(shouldStop:progress:)``
    /// or ``trainStep(indices:)``.
    ///
    /// With an output directory, partial or superseded copies that a killed writer may have left
    /// beside `best/` and `last/` are removed first.
    ///
    /// - Parameters:
    ///   - model: the model to train (trained in place).
    ///   - dataset: its splits; the data dimension must match the model's.
    ///   - options: the protocol (bound, K, batch size, learning rate, budget, validation).
    ///   - dataSource: how the data was specified (e.g. `"pianoroll:JSB_Chorales.pickle"`),
    ///     recorded in the checkpoints so that `evaluate` can reload the data.
    ///   - outputDirectory: where to write checkpoints and metrics; nil: nowhere.
    /// - Throws: ``TrainingError`` for a dimension mismatch, an empty training split, a
    ///   non-positive batch size, particle count, validation interval or learning rate, or a
    ///   training tape above ``memoryLimitBytes``; a file error if leftovers cannot be removed.
    public init(model: SequenceModel<S>, dataset: SequenceDataset, options: TrainingOptions, dataSource: String,
                outputDirectory: String? = nil) throws {
        guard dataset.dataDim == model.configuration.dataDim else {
            throw TrainingError(message: "the data has \(dataset.dataDim) dimensions but the model expects \(model.configuration.dataDim)")
        }
        guard dataset.train.count > 0 else { throw TrainingError(message: "the training split is empty") }
        guard options.batchSize >= 1, options.particles >= 1, options.learningRate > 0,
              options.learningRate.isFinite, options.validateEvery >= 1 else {
            throw TrainingError(message: "batch size, particles and validate-every must be positive and the learning rate a positive number")
        }
        if let n = options.klWarmupSteps, n < 1 {
            throw TrainingError(message: "the KL warm-up must last at least one step, got \(n)")
        }
        let tapeBytes = ParticleFilter<S>.estimatedBytes(
            architecture: model.architecture, steps: dataset.train.maxLength,
            sequences: min(options.batchSize, dataset.train.count), particles: options.particles, withTape: true)
        guard tapeBytes <= Trainer.memoryLimitBytes else {
            throw TrainingError(message: String(format: "batch size %d × %d particles × %d steps needs a %.1f GB training tape (limit %.0f GB); lower --particles or --batch-size",
                                                options.batchSize, options.particles, dataset.train.maxLength,
                                                tapeBytes / 1e9, Trainer.memoryLimitBytes / 1e9))
        }
        self.model = model
        self.dataset = dataset
        self.options = options
        self.dataSpec = DataSpec(source: dataSource, dataset: dataset)
        self.outputDirectory = outputDirectory
        if let outputDirectory {
            // A writer killed mid-save may have left partial or superseded copies beside
            // best/ and last/ (or last/ moved aside): tidy them before anyone looks for last/.
            for name in ["best", "last"] {
                try Checkpoint.removeLeftovers(of: (outputDirectory as NSString).appendingPathComponent(name))
            }
        }
        let count = max(1, options.workers ?? KernelRuntime.threadCount)
        workers = (0..<count).map { TrainingWorker(model: model, ownsGradients: $0 > 0) }
    }

    /// Continues from the `last` checkpoint of a previous run: parameters, Adam moments and
    /// step, best validation so far and the early-stopping and skipped-step counters. The
    /// options must be the same as that run's (they are not compared; the model configuration
    /// is).
    ///
    /// - Parameter checkpoint: a checkpoint written with its training state (`OUT/last`).
    /// - Throws: ``TrainingError`` when the checkpoint's model configuration differs from this
    ///   trainer's model or it has no training state; the checkpoint's errors when its tensors do
    ///   not fit the model.
    public func restore(from checkpoint: LoadedCheckpoint) throws {
        guard checkpoint.config.model == model.configuration else {
            throw TrainingError(message: "the checkpoint's model configuration differs from this run's")
        }
        _ = try checkpoint.restore(into: model.parameters, includeTrainingState: true)
        guard let state = checkpoint.trainingState else {
            throw TrainingError(message: "the checkpoint has no training state to resume from")
        }
        step = state.step
        bestValidation = state.bestValidation
        bestStep = state.options["best_step"].flatMap(Int.init)
        staleValidations = state.options["stale_validations"].flatMap(Int.init) ?? 0
        skippedSteps = state.options["skipped_steps"].flatMap(Int.init) ?? 0
        consecutiveSkips = state.options["consecutive_skips"].flatMap(Int.init) ?? 0
    }

    /// Puts the parameters of the best validation seen by this trainer back into the model (for
    /// the final test evaluation).
    ///
    /// Only validations of this process count: after a resume, the best model of the earlier
    /// part is in `OUT/best`, not in memory.
    ///
    /// - Returns: false if this trainer has validated nothing yet (the model is left as it is).
    @discardableResult
    public func restoreBestParameters() -> Bool {
        guard let bestParameters else { return false }
        model.parameters.parameterValues = bestParameters
        return true
    }

    /// Refuse training tapes larger than this (bytes).
    public static var memoryLimitBytes: Double { 16e9 }

    /// Batches per epoch: ⌈training sequences / batch size⌉.
    public var stepsPerEpoch: Int { (dataset.train.count + options.batchSize - 1) / options.batchSize }
    /// The run's step budget (``TrainingOptions/totalSteps(trainCount:)`` of the training split).
    public var totalSteps: Int { options.totalSteps(trainCount: dataset.train.count) }

    /// Trains until the step budget, early stopping, or `shouldStop()` returns true.
    ///
    /// Every ``TrainingOptions/validateEvery`` steps and at the last step it validates, writes
    /// `OUT/best` on an improvement and `OUT/last` every time, and appends a line to
    /// `OUT/metrics.jsonl`. When interrupted it writes `OUT/last` before returning, so the same
    /// command resumes.
    ///
    /// - Parameters:
    ///   - shouldStop: checked before every step (e.g. a Ctrl-C flag); true stops the run.
    ///   - progress: called after every step with a snapshot.
    /// - Returns: what the run did (steps, best validation, why it stopped, time).
    /// - Throws: ``TrainingError`` when ``TrainingOptions/maxNonFiniteSteps`` steps in a row
    ///   were not finite or a parameter became non-finite; ``BatchError`` for a bad sequence;
    ///   file errors from writing checkpoints or metrics.
    public func run(shouldStop: () -> Bool = { false }, progress: (TrainingProgress) -> Void = { _ in })
        throws -> TrainingSummary {
        let start = Date()
        let firstStep = step
        let total = totalSteps
        var permutation: [Int] = []
        var permutationEpoch = -1
        var lastValidation: Double? = nil
        var interrupted = false, stoppedEarly = false
        let train = dataset.train

        while step < total {
            if shouldStop() { interrupted = true; break }
            let epoch = step / stepsPerEpoch, position = step % stepsPerEpoch
            if epoch != permutationEpoch {
                permutation = Self.permutation(count: train.count, seed: options.seed, epoch: epoch)
                permutationEpoch = epoch
            }
            let indices = Array(permutation[(position * options.batchSize)..<min((position + 1) * options.batchSize, train.count)])
            let loss = try trainStep(indices: indices)
            step += 1
            if lastStepSkipped {
                skippedSteps += 1
                consecutiveSkips += 1
                if consecutiveSkips >= options.maxNonFiniteSteps {
                    throw TrainingError(message: "step \(step): \(lastNonFinite ?? "the loss") not finite for \(consecutiveSkips) "
                        + "steps in a row (none of them applied; the last checkpoint is untouched); "
                        + "check the data's scale, or try a lower --lr or --clip-norm")
                }
            } else {
                consecutiveSkips = 0
            }

            var validated = false
            if step % options.validateEvery == 0 || step == total {
                lastValidation = try validate()
                validated = true
                if let v = lastValidation, v > (bestValidation ?? -.infinity) {
                    bestValidation = v
                    bestStep = step
                    bestParameters = model.parameters.parameterValues
                    staleValidations = 0
                    try saveCheckpoint(named: "best", withTrainingState: false)
                } else {
                    staleValidations += 1
                }
                try saveCheckpoint(named: "last", withTrainingState: true)
                try appendMetrics(loss: loss, validation: lastValidation, seconds: Date().timeIntervalSince(start))
                if let patience = options.patience, staleValidations >= patience { stoppedEarly = true }
            }
            let elapsed = Date().timeIntervalSince(start)
            let rate = Double(step - firstStep) / max(elapsed, 1e-9)
            progress(TrainingProgress(step: step, totalSteps: total, epoch: epoch, loss: loss, validation: lastValidation,
                                      bestValidation: bestValidation, stepsPerSecond: rate,
                                      secondsRemaining: Double(total - step) / max(rate, 1e-9), validated: validated,
                                      skippedSteps: skippedSteps))
            if stoppedEarly { break }
        }
        if interrupted { try saveCheckpoint(named: "last", withTrainingState: true) }
        return TrainingSummary(stepsRun: step - firstStep, finalStep: step, bestValidation: bestValidation,
                               bestStep: bestStep, stoppedEarly: stoppedEarly, interrupted: interrupted,
                               seconds: Date().timeIntervalSince(start), skippedSteps: skippedSteps)
    }

    /// One Adam step (forward with tape, backward, clipping, update) on the training sequences
    /// `indices`, with the noise and (in a KL warm-up) the KL weight of the current step.
    /// ``run(shouldStop:progress:)`` calls this once per step; benchmarks call it directly. It
    /// does not advance ``step``.
    ///
    /// A step whose loss or gradient norm is not finite is not applied: ``lastStepSkipped`` is
    /// set and ``lastNonFinite`` names the culprit.
    ///
    /// - Parameter indices: indices into the training split, one per sequence of the batch
    ///   (split among the data-parallel workers).
    /// - Returns: the loss −mean_b(bound_b / T_b) of the batch (of the surrogate during a KL
    ///   warm-up).
    /// - Throws: ``BatchError`` when a sequence is empty or holds a non-finite value.
    @discardableResult
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func trainStep(indices: [Int]) throws -> Double {
        let settings = FilterSettings(bound: options.bound, particleCount: options.particles,
                                      criterion: options.criterion, scheme: options.scheme)
        let seed = Self.mix(options.seed, UInt64(step))
        let store = model.parameters
        let b = Double(indices.count)
        let workerCount = min(workers.count, indices.count)
        let klWeight = options.klWeight(step: step + 1)
        for worker in workers { worker.filter.klWeight = klWeight }
        store.zeroGradients()
        var loss = 0.0
        if workerCount <= 1 {
            loss = try workers[0].step(model: model, split: dataset.train, indices: indices, settings: settings, seed: seed,
                                       batchSize: b, gradients: store.gradients)
        } else {
            // Data-parallel: each worker filters and backpropagates a contiguous share of the
            // batch into its own gradient arena; the arenas are then summed. A sequence's noise
            // is keyed by its index, so each bound equals the single-worker one; only the order
            // of the gradient sum differs (fixed for a fixed worker count).
            let chunk = (indices.count + workerCount - 1) / workerCount
            let previousBLASThreads = KernelRuntime.blasThreadCount
            KernelRuntime.blasThreadCount = 1
            defer { KernelRuntime.blasThreadCount = previousBLASThreads }
            // The workers in parallel (TeamRegion.runWorkers: with OpenMP one team region, so a
            // worker's parallel-for does not start a second team of spinning threads per worker).
            // Every worker initialises its own slot.
            let outcomes = UnsafeMutableBufferPointer<Result<Double, Error>>.allocate(capacity: workerCount)
            defer {
                outcomes.baseAddress!.deinitialize(count: workerCount)
                outcomes.deallocate()
            }
            let model = self.model, split = dataset.train, workers = self.workers
            TeamRegion.runWorkers(workerCount) { w in
                let part = Array(indices[(w * chunk)..<min((w + 1) * chunk, indices.count)])
                let target = w == 0 ? store.gradients : workers[w].gradients
                if w > 0 { target.zero(count: store.count) }
                (outcomes.baseAddress! + w).initialize(to: Result {
                    try workers[w].step(model: model, split: split, indices: part, settings: settings, seed: seed,
                                        batchSize: b, gradients: target)
                })
            }
            for w in 0..<workerCount {
                loss += try outcomes[w].get()
                if w > 0 { S.accumulate(store.gradients, UnsafePointer(workers[w].gradients), count: store.count) }
            }
        }
        // A non-finite loss or gradient is not applied: Adam would carry it into every
        // parameter and moment. (The squared norm is summed in double, so it is finite exactly
        // when every gradient element is.)
        let norm = store.gradientNorm()
        guard loss.isFinite, norm.isFinite else {
            lastStepSkipped = true
            lastNonFinite = loss.isFinite ? "the gradient of \(store.firstNonFinite(in: store.gradients) ?? "?")"
                : "the loss (\(loss))"
            return loss
        }
        lastStepSkipped = false
        lastNonFinite = nil
        lastGradientNorm = norm
        intervalNorms.sum += norm
        if norm > intervalNorms.max {
            // Only when the interval's maximum rises (a few times per interval): which tensor a
            // spike hits is what tells its source.
            intervalNorms.max = norm
            intervalNorms.maxTensor = store.largestGradientTensor()
        }
        intervalNorms.count += 1
        if let clip = options.clipNorm, norm > clip {
            store.scaleGradients(by: clip / norm)
            intervalNorms.clipped += 1
        }
        store.adamStep(learningRate: options.learningRate)
        return loss
    }

    /// Validation FIVO per step with fixed noise (the same at every validation), with
    /// ``TrainingOptions/validationParticles`` particles and the run's criterion and scheme.
    ///
    /// - Returns: the bound per step, or nil when the dataset has no validation split.
    /// - Throws: the evaluator's errors (``TrainingError``, ``BatchError``).
    public func validate() throws -> Double? {
        guard dataset.valid.count > 0 else { return nil }
        let e = try Evaluator.evaluate(model: model, split: dataset.valid, particles: options.validationParticles,
                                       bounds: [.fivo], criterion: options.criterion, scheme: options.scheme,
                                       seed: Self.mix(options.seed, 0xFEED))
        return e.fivo
    }

    private func saveCheckpoint(named name: String, withTrainingState: Bool) throws {
        guard let outputDirectory else { return }
        // Never write a non-finite parameter (skipped steps should make this impossible).
        if let tensor = model.parameters.firstNonFinite(in: model.parameters.values) {
            throw TrainingError(message: "step \(step): parameter \(tensor) is not finite; \(name)/ not written")
        }
        var o = options.asStrings
        o["stale_validations"] = "\(staleValidations)"
        o["skipped_steps"] = "\(skippedSteps)"
        o["consecutive_skips"] = "\(consecutiveSkips)"
        if let bestStep { o["best_step"] = "\(bestStep)" }
        let state = TrainingState(step: step, generatorState: Self.mix(options.seed, UInt64(step)),
                                  epoch: step / stepsPerEpoch, bestValidation: bestValidation, options: o)
        try Checkpoint.save(model.parameters, model: model.configuration, data: dataSpec,
                            trainingState: withTrainingState ? state : nil,
                            to: (outputDirectory as NSString).appendingPathComponent(name))
    }

    private func appendMetrics(loss: Double, validation: Double?, seconds: Double) throws {
        guard let outputDirectory else { return }
        let path = (outputDirectory as NSString).appendingPathComponent("metrics.jsonl")
        func number(_ x: Double?) -> String { x.map { $0.isFinite ? "\($0)" : "null" } ?? "null" }
        // Gradient norms before clipping over the applied steps of this interval (mean, max)
        // and how many of them the clip norm scaled down.
        let norms = intervalNorms
        intervalNorms = IntervalNorms()
        let meanNorm: Double? = norms.count > 0 ? norms.sum / Double(norms.count) : nil
        let line = "{\"step\":\(step),\"epoch\":\(step / stepsPerEpoch),\"loss\":\(number(loss)),"
            + "\"valid_fivo\":\(number(validation)),\"best_valid_fivo\":\(number(bestValidation)),"
            + "\"skipped_steps\":\(skippedSteps),\"grad_norm_mean\":\(number(meanNorm)),"
            + "\"grad_norm_max\":\(number(norms.count > 0 ? norms.max : nil)),"
            + "\"grad_norm_max_tensor\":\(norms.maxTensor.map { "\"\($0.name)\"" } ?? "null"),"
            + "\"grad_norm_max_tensor_norm\":\(number(norms.maxTensor?.norm)),\"clipped_steps\":\(norms.clipped),"
            + "\"seconds\":\(number(seconds))}\n"
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw TrainingError(message: "cannot append to \(path)")
        }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(line.utf8))
    }

    /// The sequence order of an epoch: a Fisher–Yates shuffle seeded by (seed, epoch).
    static func permutation(count: Int, seed: UInt64, epoch: Int) -> [Int] {
        var rng = SplitMix64(seed: mix(seed, 0x5EED_0000 &+ UInt64(epoch)))
        var p = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) {
            let j = Int(rng.next() % UInt64(i + 1))
            p.swapAt(i, j)
        }
        return p
    }

    /// Hashes (seed, counter) to a seed (``SeedDerivation/training(seed:counter:)``).
    static func mix(_ seed: UInt64, _ counter: UInt64) -> UInt64 {
        SeedDerivation.training(seed: seed, counter: counter)
    }
}

/// One data-parallel share of a training step: its own filter (workspace) and, except for the
/// first worker, which writes the store's arena, its own gradient arena.
final class TrainingWorker<S: KernelScalar> {
    let filter: ParticleFilter<S>
    let gradients: UnsafeMutablePointer<S>
    private let ownsGradients: Bool

    init(model: SequenceModel<S>, ownsGradients: Bool) {
        filter = ParticleFilter(model: model)
        self.ownsGradients = ownsGradients
        if ownsGradients {
            gradients = .allocate(capacity: max(model.parameters.count, 1))
            gradients.initialize(repeating: 0, count: max(model.parameters.count, 1))
        } else {
            gradients = model.parameters.gradients
        }
    }

    deinit { if ownsGradients { gradients.deallocate() } }

    /// Filters `indices`, backpropagates −Σ_b bound_b / (B·T_b) into `gradients`; returns this
    /// share's part of the loss.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    func step(model: SequenceModel<S>, split: SequenceSplit, indices: [Int], settings: FilterSettings, seed: UInt64,
              batchSize: Double, gradients target: UnsafeMutablePointer<S>) throws -> Double {
        let batch = try SequenceBatch<S>(split: split, indices: indices)
        let result = filter.run(batch: batch, settings: settings, seed: seed, keepTape: true)
        let loss = -zip(result.bounds, batch.lengths).reduce(0) { $0 + $1.0 / Double($1.1) } / batchSize
        guard loss.isFinite else { return loss }
        filter.backward(boundGradients: batch.lengths.map { -1 / (batchSize * Double($0)) }, into: target)
        return loss
    }
}

/// Training or evaluation cannot proceed: mismatched data, impossible options, memory
/// limits, or too many non-finite steps. The message is one line, meant for the user.
public struct TrainingError: Error, CustomStringConvertible, Sendable {
    /// What went wrong and, where possible, what to change.
    public var message: String
    /// The message itself.
    public var description: String { message }
}

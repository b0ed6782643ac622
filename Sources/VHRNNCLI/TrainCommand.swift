import ArgumentParser
import Foundation
import VHRNN

/// `vhrnn train`: train a model on a dataset, or (without --data) the built-in comparison.
struct TrainCommand: VHRNNSubcommand, ParticleFlagWording {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a VRNN or VHRNN with Adam on ELBO, IWAE or FIVO.",
        discussion: """
            Without --data, trains the built-in default: a VHRNN (Z=4) and a VRNN (Z=8), both with two fc \
            layers, on the synthetic standard set, then prints each model's test FIVO per step next to the \
            paper's Table 1.

            With --out DIR the run writes DIR/best (best validation FIVO), DIR/last (resumable state) and \
            DIR/metrics.jsonl. Ctrl-C stops after the current step and writes DIR/last; --resume DIR \
            continues it and gives the same result as an uninterrupted run.
            """)

    // How this command's shared flags read (FilterOptions.swift, OutputFormatOptions.swift).
    static let boundHelp = "Training objective: elbo, iwae or fivo."
    static let defaultParticles = 4
    static let particlesHelp = "Particles per sequence during training."
    static let jsonHelp = "Print one JSON object at the end instead of the human summary."

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Data: synthetic[:SETTING] | pianoroll:PATH | stock:PATH | stock-repaired:PATH | ht-sensor:DIR | csv:PATH | synthetic-dir:DIR.")
    var data: String?

    @OptionGroup var boundOption: BoundOption<Self>
    var bound: BoundKind { boundOption.bound }

    @OptionGroup var particleOptions: ParticleOptions<Self>
    var particles: Int { particleOptions.particles }

    @Option(name: .customLong("batch-size"), help: "Sequences per batch.")
    var batchSize: Int = 4

    @Option(help: "Adam learning rate.")
    var lr: Double = 1e-3

    @Option(help: "Training steps (batches).")
    var steps: Int?

    @Option(help: "Training epochs (used when --steps is not given; default 10).")
    var epochs: Int?

    @Option(name: .customLong("clip-norm"), help: "Clip the global gradient norm to this value.")
    var clipNorm: Double?

    @Option(name: .customLong("validate-every"), help: "Validate (and write DIR/last) every N steps.")
    var validateEvery: Int = 200

    @Option(name: .customLong("valid-particles"), help: "Particles for validation FIVO.")
    var validParticles: Int = 4

    @Option(help: "Stop after this many validations without improvement.")
    var patience: Int?

    @Option(name: .customLong("kl-warmup"), help: "KL warm-up: over the first N steps the weight of log p(z) - log q(z) in the training bound rises linearly from 1/N to 1 (validation and test use the bound itself; default: none, as the paper).")
    var klWarmup: Int?

    @OptionGroup var resamplingOptions: ResamplingOptions<Self>

    @Option(name: .customLong("test-particles"), help: "Particles for the final test evaluation (0 to skip).")
    var testParticles: Int = 128

    @Option(help: "Data-parallel workers per training step (default: one per kernel thread).")
    var workers: Int?

    @Option(name: .customLong("max-nonfinite-steps"), help: "Stop after this many steps in a row whose loss or gradient is not finite (such steps are never applied).")
    var maxNonFiniteSteps: Int = 10

    @Option(help: "Output directory for checkpoints and metrics.")
    var out: String?

    @Option(help: "Resume the run whose output directory is DIR (reads DIR/last).")
    var resume: String?

    @Option(help: "Seed for initialisation, batch order and noise (default 0; the built-in default runs seeds 1, 2 and 3).")
    var seed: UInt64?

    @OptionGroup var outputFormat: OutputFormatOptions<Self>
    var json: Bool { outputFormat.json }

    func validate() throws {
        try modelOptions.validateSizes()
        try particleOptions.validateParticles()
        for (value, flag) in [(batchSize, "--batch-size"), (validateEvery, "--validate-every"),
                              (validParticles, "--valid-particles")] where value < 1 {
            throw ValidationError("\(flag) must be positive, got \(value)")
        }
        if !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be a positive number, got \(lr)") }
        if let steps, steps < 1 { throw ValidationError("--steps must be positive, got \(steps)") }
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be positive, got \(epochs)") }
        if let clipNorm, !(clipNorm > 0) { throw ValidationError("--clip-norm must be positive, got \(clipNorm)") }
        if let workers, workers < 1 { throw ValidationError("--workers must be positive, got \(workers)") }
        if let klWarmup, klWarmup < 1 { throw ValidationError("--kl-warmup must be positive, got \(klWarmup)") }
        if maxNonFiniteSteps < 1 { throw ValidationError("--max-nonfinite-steps must be positive, got \(maxNonFiniteSteps)") }
        if testParticles < 0 { throw ValidationError("--test-particles must be at least 0") }
        if let data { _ = try DataSource(parsing: data) }
        if resume != nil && data == nil { throw ValidationError("--resume needs the run's --data and model options") }
    }

    var trainingOptions: TrainingOptions {
        var o = TrainingOptions()
        o.bound = bound
        o.particles = particles
        o.batchSize = batchSize
        o.learningRate = lr
        o.steps = steps
        o.epochs = epochs
        o.clipNorm = clipNorm
        o.validateEvery = validateEvery
        o.validationParticles = validParticles
        o.patience = patience
        o.klWarmupSteps = klWarmup
        o.criterion = resamplingOptions.resampling
        o.scheme = resamplingOptions.scheme
        o.seed = seed ?? 0
        o.workers = workers
        o.maxNonFiniteSteps = maxNonFiniteSteps
        return o
    }

    func execute() throws {
        let stop = InterruptFlag.install()
        if let data {
            try trainOne(source: try DataSource(parsing: data), stop: stop)
        } else {
            try DefaultComparison(command: self).run(stop: stop)
        }
    }

    private func trainOne(source: DataSource, stop: InterruptFlag) throws {
        let seed = self.seed ?? 0
        let dataset = try source.load(seed: seed)
        let outputDirectory = resume ?? out
        let emission = modelOptions.emission ?? DataSource.emission(for: dataset.kind)
        if emission == .bernoulli && dataset.kind != .binary {
            throw ValidationError("--emission bernoulli needs 0/1 data, but \(source) holds real values; use --emission gaussian")
        }
        let config = modelOptions.configuration(dataDim: dataset.dataDim, defaultEmission: emission,
                                                defaultLatent: 32)
        var rng = SplitMix64(seed: seed)
        let bias = emission == .bernoulli ? dataset.trainFrameMean.map(SequenceModel<Float>.bernoulliOutputBias) : nil
        let model = try SequenceModel<Float>(configuration: config, outputBias: bias, generator: &rng)
        let trainer = try Trainer(model: model, dataset: dataset, options: trainingOptions, dataSource: source.description,
                                  outputDirectory: outputDirectory)
        if let resume {
            let last = (resume as NSString).appendingPathComponent("last")
            let checkpoint = try Checkpoint.load(directory: last)
            try trainer.restore(from: checkpoint)
            // Allowed (a longer budget, a new rate), but said: the run is no longer one protocol.
            for d in checkpoint.trainingState.map(trainingOptions.differences(from:)) ?? [] {
                printError("warning: resuming with \(d.key) \(d.now); \(last) was trained with \(d.checkpoint)")
            }
            if !json { print("resuming \(last) at step \(trainer.step) of \(trainer.totalSteps)") }
        }
        if !json {
            print("training \(config.model.rawValue) (\(config.cell.rawValue), Z=\(config.latentDim), H=\(config.hiddenDim)"
                + (config.model == .vhrnn ? ", Hh=\(config.hyperDim)" : "") + ") on \(source): "
                + "\(model.parameterCount) parameters, \(dataset.train.count) training sequences, "
                + "\(bound.rawValue) K=\(particles) B=\(batchSize), \(trainer.totalSteps) steps, "
                + "\(KernelRuntime.threadCount) threads (\(KernelRuntime.parallelBackend))")
        }
        let display = ProgressDisplay(enabled: !json)
        let summary = try trainer.run(shouldStop: { stop.isSet }, progress: display.update)
        display.finish()
        var report: [String: Any] = ["steps": summary.finalStep, "seconds": summary.seconds,
                                     "interrupted": summary.interrupted, "stopped_early": summary.stoppedEarly,
                                     "parameters": model.parameterCount, "skipped_steps": summary.skippedSteps]
        if let best = summary.bestValidation { report["best_valid_fivo"] = best }
        if let outputDirectory { report["checkpoint"] = (outputDirectory as NSString).appendingPathComponent("best") }
        if !summary.interrupted && testParticles > 0 && dataset.test.count > 0 {
            // Model selection by validation FIVO: test the best model (DIR/best), not the last.
            if !trainer.restoreBestParameters(), let outputDirectory {
                let best = (outputDirectory as NSString).appendingPathComponent("best")
                if let loaded = try? Checkpoint.load(directory: best) {
                    _ = try loaded.restore(into: model.parameters, includeTrainingState: false)
                }
            }
            let evaluation = try Evaluator.evaluate(model: model, split: dataset.test, particles: testParticles,
                                                    seed: seed ^ 0x7E57)
            // (JSONSerialization refuses NaN: a missing or non-finite bound is null.)
            report["test"] = ["elbo": jsonNumber(evaluation.elbo ?? .nan), "iwae": jsonNumber(evaluation.iwae ?? .nan),
                              "fivo": jsonNumber(evaluation.fivo ?? .nan), "particles": testParticles,
                              "steps": evaluation.steps, "elbo_mc_se": jsonNumber(evaluation.elboStandardError ?? .nan),
                              "elbo_without_tail": jsonNumber(evaluation.elboWithoutTail ?? .nan),
                              "elbo_dominated_by_tail": evaluation.elboDominatedByTail]
            if !json {
                print(String(format: "test (best validation model, K=%d): ELBO %.4f (± %.3g MC)  IWAE %.4f  FIVO %.4f per step",
                             testParticles, evaluation.elbo ?? .nan, evaluation.elboStandardError ?? .nan,
                             evaluation.iwae ?? .nan, evaluation.fivo ?? .nan))
                if let warning = elboTailWarning(evaluation) { print(warning) }
            }
        }
        if json { printJSON(report) } else {
            print(String(format: "%@ after %d steps in %.1f s; best validation FIVO %.4f at step %d",
                         summary.interrupted ? "interrupted" : (summary.stoppedEarly ? "stopped early" : "done"),
                         summary.finalStep, summary.seconds, summary.bestValidation ?? .nan, summary.bestStep ?? 0))
            if summary.skippedSteps > 0 {
                print("\(summary.skippedSteps) step\(summary.skippedSteps == 1 ? "" : "s") not applied: loss or gradient not finite")
            }
            if let outputDirectory { print("checkpoints in \(outputDirectory) (best/, last/), metrics in metrics.jsonl") }
        }
    }
}

import ArgumentParser
import Foundation
import VHRNN

/// The built-in default of `vhrnn train`: VHRNN (Z=4) and VRNN (Z=8) on the synthetic standard
/// set, each trained for the same number of steps, then test FIVO per step side by side with
/// the paper's Table 1 "Test" column.
struct DefaultComparison {
    let command: TrainCommand

    static let paper: [(name: String, model: ModelKind, latent: Int, paper: Double)] = [
        ("VHRNN Z=4", .vhrnn, 4, -4.68),
        ("VRNN  Z=8", .vrnn, 8, -5.43),
    ]
    static let defaultSteps = 6000

    func run(stop: InterruptFlag) throws {
        let dataset = SyntheticData.make(setting: .standard, seed: command.seed)
        var options = command.trainingOptions
        options.steps = command.steps ?? Self.defaultSteps
        options.validateEvery = max(1, min(options.validateEvery, options.steps! / 10))
        let testParticles = command.testParticles > 0 ? command.testParticles : 128
        if !command.json {
            print("Built-in default: VHRNN (Z=4) vs VRNN (Z=8) on the synthetic standard set "
                + "(\(dataset.train.count)/\(dataset.valid.count)/\(dataset.test.count) sequences of \(SyntheticData.sequenceLength) steps), "
                + "FIVO K=\(options.particles) B=\(options.batchSize), \(options.steps!) steps each, "
                + "\(KernelRuntime.threadCount) threads (\(KernelRuntime.parallelBackend)).")
        }
        var rows: [[String: Any]] = []
        for entry in Self.paper {
            if stop.isSet { break }
            let config = ModelConfiguration(model: entry.model, cell: command.modelOptions.cell, dataDim: 2,
                                            emission: .gaussian, latentDim: entry.latent, fcLayers: 2,
                                            omegaHidden: command.modelOptions.omegaHidden,
                                            semantics: command.modelOptions.semantics)
            var rng = SplitMix64(seed: command.seed)
            let model = try SequenceModel<Float>(configuration: config, generator: &rng)
            let out = command.out.map { ($0 as NSString).appendingPathComponent(entry.model.rawValue) }
            let trainer = try Trainer(model: model, dataset: dataset, options: options, dataSource: "synthetic:standard",
                                      outputDirectory: out)
            if !command.json { print("\n\(entry.name): \(model.parameterCount) parameters (paper count \(model.paperParameterCount))") }
            let display = ProgressDisplay(enabled: !command.json)
            let summary = try trainer.run(shouldStop: { stop.isSet }, progress: display.update)
            display.finish()
            trainer.restoreBestParameters()
            let test = try Evaluator.evaluate(model: model, split: dataset.test, particles: testParticles,
                                              seed: command.seed ^ 0x7E57)
            rows.append(["model": entry.name, "parameters": model.parameterCount, "steps": summary.finalStep,
                         "seconds": summary.seconds, "test_fivo": test.fivo ?? .nan, "test_iwae": test.iwae ?? .nan,
                         "test_elbo": test.elbo ?? .nan, "paper_test_fivo": entry.paper,
                         "best_valid_fivo": summary.bestValidation ?? .nan])
        }
        if command.json {
            printJSON(["default": "synthetic-standard", "test_particles": testParticles, "results": rows])
            return
        }
        print("\nTest bounds per step on the synthetic standard set (K=\(testParticles); higher is better):")
        print("  model        params   steps   time     ELBO      IWAE      FIVO    paper FIVO (Table 1)")
        for r in rows {
            print(String(format: "  %-10@ %7d %7d %6.0fs %9.3f %9.3f %9.3f    %.2f", r["model"] as! String,
                         r["parameters"] as! Int, r["steps"] as! Int, r["seconds"] as! Double, r["test_elbo"] as! Double,
                         r["test_iwae"] as! Double, r["test_fivo"] as! Double, r["paper_test_fivo"] as! Double))
        }
        print("The paper's numbers come from its unpublished synthetic matrices and a far longer training run;")
        print("compare the ordering (VHRNN above VRNN), not the digits. docs/DATA.md lists our matrices.")
    }
}

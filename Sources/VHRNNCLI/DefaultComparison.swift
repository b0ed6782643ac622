import ArgumentParser
import Foundation
import VHRNN

/// The built-in default of `vhrnn train` (`make run`): ``ExperimentSpec/builtInDefault`` — VHRNN
/// Z=4 with omega width 11 against the larger VRNN Z=8 on the synthetic standard set, seeds 1–3,
/// the protocol of `experiments/table1.json` — run in this process through the experiment
/// runner, then test FIVO, IWAE and ELBO per step as mean ± sd over the seeds beside the paper's
/// Table 1 "Test" column.
///
/// Flags that apply: --steps, --seed (one seed instead of three), --cell, --semantics,
/// --omega-hidden (the VHRNN's), --test-particles, --out (keeps the runs and makes the default
/// resumable), --json.
struct DefaultComparison {
    let command: TrainCommand

    /// The built-in spec with the command's overrides applied.
    var spec: ExperimentSpec {
        var spec = ExperimentSpec.builtInDefault
        if let steps = command.steps {
            spec.training.steps = steps
            spec.training.validateEvery = max(1, min(spec.training.validateEvery ?? steps, steps / 10))
        }
        if let seed = command.seed { spec.seeds = [seed] }
        if command.testParticles > 0 { spec.evaluations[0].particles = command.testParticles }
        for i in spec.models.indices {
            spec.models[i].cell = command.modelOptions.cell
            spec.models[i].semantics = command.modelOptions.semantics
            if spec.models[i].model == .vhrnn, let width = command.modelOptions.omegaHidden {
                spec.models[i].omegaHidden = width
                spec.models[i].label = "VHRNN Z=4, omega \(width)"
            }
        }
        return spec
    }

    func run(stop: InterruptFlag) throws {
        let spec = self.spec
        let fm = FileManager.default
        // With --out the runs stay there (and a rerun skips the finished ones); otherwise they go
        // to a temporary folder that is removed at the end.
        let root = command.out ?? fm.temporaryDirectory.appendingPathComponent("vhrnn-default-\(UUID().uuidString)").path
        defer { if command.out == nil { try? fm.removeItem(atPath: root) } }
        try claim(root, for: spec)
        let runner = ExperimentRunner(spec: spec, workDirectory: root,
                                      resultsDirectory: (root as NSString).appendingPathComponent("results"))
        let evaluation = spec.evaluations[0]
        if !command.json {
            let t = spec.training
            print("Built-in default: \(spec.models.map(\.label).joined(separator: " vs ")) on the synthetic standard set "
                + "(\(SyntheticData.trainCount)/\(SyntheticData.validCount)/\(SyntheticData.testCount) sequences of "
                + "\(SyntheticData.sequenceLength) steps), FIVO K=\(t.particles!) B=\(t.batchSize!), \(t.steps!) steps each, "
                + "seeds \(spec.seeds.map(String.init).joined(separator: ", ")), "
                + "\(KernelRuntime.threadCount) threads (\(KernelRuntime.parallelBackend)), \(KernelRuntime.floatPath).")
            print("The runs of experiments/table1.json with these seeds; docs/RESULTS.md has all five.")
        }
        for (model, seed) in spec.runs {
            if stop.isSet { break }
            if fm.fileExists(atPath: runner.resultPath(model: model.id, seed: seed)) { continue }
            let display = ProgressDisplay(enabled: !command.json)
            if !command.json { print("\n\(model.label), seed \(seed):") }
            let result = try runner.run(modelID: model.id, seed: seed, shouldStop: { stop.isSet }, progress: display.update)
            display.finish()
            if let result, !command.json {
                print(String(format: "  %d parameters (%d counted as the paper counts), %d steps in %.0f s, test FIVO %.3f",
                             result.trainable, result.paperCount, result.steps, result.trainSeconds,
                             result.evaluations[0].fivo ?? .nan))
            }
        }
        let results = try runner.results()
        if stop.isSet && results.count < spec.runs.count {
            printError("interrupted: \(results.count) of \(spec.runs.count) runs finished"
                + (command.out.map { "; rerun with --out \($0) to continue" } ?? ""))
            throw ExitCode(130)
        }
        let bounds: [BoundKind] = [.fivo, .iwae, .elbo]
        if command.json {
            printJSON(["default": spec.name, "float_path": KernelRuntime.floatPath, "test_particles": evaluation.particles, "seeds": spec.seeds.map { Int($0) },
                       "models": spec.models.map { model -> [String: Any] in
                           let mine = results.filter { $0.model == model.id }
                           var row: [String: Any] = ["model": model.label, "id": model.id,
                                                     "parameters": mine.first?.trainable ?? 0,
                                                     "paper_count": mine.first?.paperCount ?? 0,
                                                     "paper_test_fivo": model.paper?[evaluation.id] ?? .nan,
                                                     "seconds": mine.map(\.trainSeconds)]
                           for bound in bounds {
                               let s = ExperimentReport.summary(results, model: model.id, evaluation: evaluation.id, bound: bound)
                               row["test_\(bound.rawValue)"] = s?.mean ?? .nan
                               row["test_\(bound.rawValue)_sd"] = s?.sd ?? .nan
                               row["test_\(bound.rawValue)_values"] = mine.map { $0.evaluations[0].bound(bound) ?? .nan }
                           }
                           return row
                       }])
            return
        }
        let seedText = spec.seeds.count == 1 ? "seed \(spec.seeds[0])" : "mean ± sd over seeds \(spec.seeds.map(String.init).joined(separator: ", "))"
        print("\nTest bounds per step on the synthetic standard set (K=\(evaluation.particles), \(seedText); higher is better):")
        print("  model                params  paper count  time/run        FIVO             IWAE             ELBO   paper FIVO")
        for model in spec.models {
            let mine = results.filter { $0.model == model.id }
            guard let first = mine.first else { continue }
            let cells = bounds.map { bound -> String in
                guard let s = ExperimentReport.summary(results, model: model.id, evaluation: evaluation.id, bound: bound)
                else { return "-" }
                return s.sd.map { Self.format(s.mean) + " ± " + Self.format($0) } ?? Self.format(s.mean)
            }
            let seconds = mine.map(\.trainSeconds).reduce(0, +) / Double(mine.count)
            // (%@ does not pad on Linux, so the text columns are padded here.)
            let label = model.label.padding(toLength: 20, withPad: " ", startingAt: 0)
            let columns = cells.map { String(repeating: " ", count: max(0, 16 - $0.count)) + $0 }.joined(separator: " ")
            print("  " + label + String(format: " %6d %12d %8.0fs ", first.trainable, first.paperCount, seconds) + columns
                + String(format: "   %.2f", model.paper?[evaluation.id] ?? .nan))
        }
        if spec.seeds.count > 1 {
            print("FIVO per seed: " + spec.models.map { model in
                model.label + " " + results.filter { $0.model == model.id }.sorted { $0.seed < $1.seed }
                    .map { Self.format($0.evaluations[0].fivo ?? .nan) }.joined(separator: " ")
            }.joined(separator: "; "))
        }
        let tailed = results.filter { $0.evaluations[0].elboDominatedByTail }.map { "\($0.model) seed \($0.seed)" }
        if !tailed.isEmpty {
            print("warning: the ELBO of " + tailed.joined(separator: ", ") + " is dominated by a handful of particles "
                  + "(the lowest 0.1% carry more than half of it); read FIVO and IWAE, and see `vhrnn log-weights`.")
        }
        print("On another float path (CPU, OpenBLAS core) single runs move by up to 0.1 nats, the means far less (README).")
        print("The paper's matrices are unpublished and its training far longer: compare the ordering, not the digits.")
    }

    static func format(_ v: Double) -> String {
        guard v.isFinite else { return v.isNaN ? "nan" : "\(v)" }
        return abs(v) >= 1000 ? String(format: "%.4g", v) : String(format: "%.3f", v)
    }

    /// Records the spec in `root/spec.json`, refusing a folder that holds a default run with
    /// other options (its finished runs would otherwise be reported as these).
    func claim(_ root: String, for spec: ExperimentSpec) throws {
        let path = (root as NSString).appendingPathComponent("spec.json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(spec)
        if let existing = FileManager.default.contents(atPath: path) {
            guard (try? JSONDecoder().decode(ExperimentSpec.self, from: existing)) == spec else {
                printError("error: \(root) holds a built-in default run with other options (\(path)); choose another --out")
                throw ExitCode(1)
            }
            return
        }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}

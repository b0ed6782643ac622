import Foundation
import Testing
@testable import VHRNN

/// The experiment runner on tiny specs: every run once, skipping finished ones, resuming an
/// interrupted one to the same result, and the report built from the results files alone.
@Suite("Experiments")
struct ExperimentTests {
    static func tinySpec(name: String = "tiny", seeds: [UInt64] = [1, 2]) -> ExperimentSpec {
        ExperimentSpec(
            name: name, title: "Tiny", description: nil, data: "synthetic:standard",
            training: .init(particles: 2, batchSize: 4, learningRate: 1e-3, steps: 24, validateEvery: 8,
                            validationParticles: 2, workers: 1),
            seeds: seeds,
            models: [
                .init(id: "vrnn2", label: "VRNN Z=2", model: .vrnn, latent: 2, fcLayers: 1,
                      paper: ["test": -5.0], paperParameters: "100"),
                .init(id: "vhrnn2", label: "VHRNN Z=2", model: .vhrnn, latent: 2, fcLayers: 1, omegaHidden: 3),
            ],
            evaluations: [.init(id: "test", label: "Test", data: nil, split: .test, particles: 2, seed: 0),
                          .init(id: "add", label: "ADD", data: "synthetic:add", split: .test, particles: 2, seed: 0)])
    }

    @Test func runsEveryPairOnceAndReports() throws {
        let dir = try TemporaryDirectory("vhrnn-experiment")
        defer { dir.remove() }
        let spec = Self.tinySpec()
        let runner = ExperimentRunner(spec: spec, workDirectory: dir.file("work"), resultsDirectory: dir.file("results"))
        #expect(runner.pending.count == 4)
        for (model, seed) in runner.pending {
            let result = try #require(try runner.run(modelID: model.id, seed: seed))
            #expect(result.steps == 24 && result.evaluations.map(\.id) == ["test", "add"])
            #expect(result.evaluations.allSatisfy { ($0.fivo ?? -.infinity).isFinite && $0.particles == 2 })
            #expect(result.paperCount > result.trainable && !result.resumed)
            #expect(result.floatPath == KernelRuntime.floatPath && KernelRuntime.floatPath.contains("OpenBLAS"))
        }
        #expect(runner.pending.isEmpty)
        let results = try runner.results()
        #expect(results.count == 4)
        // The same pair trained again gives the same numbers (deterministic for a seed).
        let again = ExperimentRunner(spec: spec, workDirectory: dir.file("work2"), resultsDirectory: dir.file("results2"))
        let repeatRun = try #require(try again.run(modelID: "vrnn2", seed: 2))
        let first = try #require(results.first { $0.model == "vrnn2" && $0.seed == 2 })
        #expect(repeatRun.evaluations.map(\.fivo) == first.evaluations.map(\.fivo))

        let text = ExperimentReport.markdown(spec: spec, results: results, command: "vhrnn experiment run tiny.json")
        #expect(text.contains("| VRNN Z=2 |") && text.contains("(2) (paper −5.000)") && text.contains("4 of 4 runs finished"))
        // Best step: the median over seeds, and the runs best at their last validation (step 24).
        let vrnn = results.filter { $0.model == "vrnn2" }
        let median = Int(try #require(ExperimentReport.Summary(vrnn.compactMap(\.bestStep).map(Double.init))).median.rounded())
        let atCap = vrnn.filter { $0.bestStep == 24 }.count
        #expect(ExperimentReport.bestStepCell(vrnn) == "\(median) (\(atCap) of 2)")
        #expect(text.contains("| \(median) (\(atCap) of 2) |"), "\(text)")
        var early = vrnn[0]
        early.stoppedEarly = true
        early.bestStep = early.steps
        #expect(ExperimentReport.bestStepCell([early]) == "24 (0 of 1)", "an early-stopped run was not cut off by the budget")
        let summary = try #require(ExperimentReport.summary(results, model: "vhrnn2", evaluation: "add", bound: .fivo))
        #expect(summary.n == 2 && summary.sd != nil)
    }

    @Test func parameterFigureHasAFamilyPerModelKind() throws {
        let dir = try TemporaryDirectory("vhrnn-experiment-figure")
        defer { dir.remove() }
        var spec = Self.tinySpec(seeds: [1])
        spec.parameterFigure = true
        let runner = ExperimentRunner(spec: spec, workDirectory: dir.file("w"), resultsDirectory: dir.file("r"))
        #expect(ExperimentReport.parameterFigure(spec: spec, results: []) == nil)
        for (model, seed) in runner.pending { try runner.run(modelID: model.id, seed: seed) }
        let chart = try #require(ExperimentReport.parameterFigure(spec: spec, results: try runner.results()))
        #expect(chart.panels.count == 2)  // one per evaluation
        #expect(chart.panels[0].series.map(\.name) == ["VRNN", "VHRNN"])
        let results = try runner.results()
        #expect(chart.panels[0].series[0].x == [Double(results.first { $0.model == "vrnn2" }!.paperCount)])
    }

    @Test func anInterruptedRunResumesToTheSameResult() throws {
        let dir = try TemporaryDirectory("vhrnn-experiment-resume")
        defer { dir.remove() }
        let spec = Self.tinySpec(seeds: [3])
        let whole = try #require(try ExperimentRunner(spec: spec, workDirectory: dir.file("a"), resultsDirectory: dir.file("ra"))
            .run(modelID: "vhrnn2", seed: 3))

        let runner = ExperimentRunner(spec: spec, workDirectory: dir.file("b"), resultsDirectory: dir.file("rb"))
        var steps = 0
        let stopped = try runner.run(modelID: "vhrnn2", seed: 3, shouldStop: { steps >= 13 }, progress: { steps = $0.step })
        #expect(stopped == nil)
        #expect(runner.pending.count == 2, "the stopped run has no results file")
        let resumed = try #require(try runner.run(modelID: "vhrnn2", seed: 3))
        #expect(resumed.resumed && resumed.steps == 24)
        #expect(resumed.evaluations.map(\.fivo) == whole.evaluations.map(\.fivo))
        #expect(resumed.bestStep == whole.bestStep)
    }

    /// A spec edited after its runs: each changed field that decides what a run is (protocol,
    /// sizes, data, evaluations, the models and seeds themselves) makes its results files
    /// refused, naming file and field; a changed label or paper number does not.
    @Test func resultsOfAnEditedSpecAreRefused() throws {
        let dir = try TemporaryDirectory("vhrnn-experiment-edited")
        defer { dir.remove() }
        let spec = Self.tinySpec(seeds: [1])
        let runner = ExperimentRunner(spec: spec, workDirectory: dir.file("w"), resultsDirectory: dir.file("r"))
        let result = try #require(try runner.run(modelID: "vhrnn2", seed: 1))
        #expect(result.training == spec.training && result.disagreements(with: spec).isEmpty)
        #expect(try runner.results().count == 1)
        func refused(_ edit: (inout ExperimentSpec) -> Void) throws -> String {
            var edited = spec
            edit(&edited)
            let error = try #require(throws: DataFileError.self) {
                try ExperimentRunner(spec: edited, workDirectory: dir.file("w"), resultsDirectory: dir.file("r")).results()
            }
            #expect(error.path.hasSuffix("vhrnn2-s1.json") && error.message.contains("spec changed"), "\(error)")
            return error.location ?? ""
        }
        #expect(try refused { $0.training.learningRate = 2e-3 } == "training.learningRate")
        #expect(try refused { $0.training.clipNorm = 100 } == "training.clipNorm")
        #expect(try refused { $0.models[1].omegaHidden = 4 } == "models[vhrnn2].omegaHidden")
        #expect(try refused { $0.models[1].hyperInput = .latent } == "models[vhrnn2].hyperInput")
        #expect(try refused { $0.data = "synthetic:expanding" } == "data")
        #expect(try refused { $0.evaluations[1].particles = 8 } == "evaluations[add]")
        #expect(try refused { $0.evaluations.removeLast() } == "evaluations")
        #expect(try refused { $0.models.removeLast() } == "models")
        #expect(try refused { $0.seeds = [2] } == "seeds")
        var relabelled = spec
        relabelled.models[1].label = "VHRNN, renamed"
        relabelled.models[1].paper = ["test": -1]
        relabelled.description = "a new paragraph"
        relabelled.evaluations[0].label = "Held-out"
        #expect(try ExperimentRunner(spec: relabelled, workDirectory: "", resultsDirectory: dir.file("r")).results().count == 1)
        // Files written before the protocol was recorded: the step count still tells.
        var older = result
        older.training = nil
        var longer = spec
        longer.training.steps = 30
        #expect(older.disagreements(with: spec).isEmpty)
        #expect(older.disagreements(with: longer).map(\.field) == ["training.steps"])
    }

    /// An interrupted run whose spec was then edited is not continued under the new protocol or
    /// model: the error names its `last/` and the first option that differs; restoring the spec
    /// resumes it.
    @Test func anInterruptedRunOfAnEditedSpecIsNotContinued() throws {
        let dir = try TemporaryDirectory("vhrnn-experiment-edited-resume")
        defer { dir.remove() }
        let spec = Self.tinySpec(seeds: [3])
        var steps = 0
        let runner = ExperimentRunner(spec: spec, workDirectory: dir.file("w"), resultsDirectory: dir.file("r"))
        #expect(try runner.run(modelID: "vrnn2", seed: 3, shouldStop: { steps >= 13 }, progress: { steps = $0.step }) == nil)
        func refused(_ edit: (inout ExperimentSpec) -> Void) throws -> String {
            var edited = spec
            edit(&edited)
            let error = try #require(throws: DataFileError.self) {
                try ExperimentRunner(spec: edited, workDirectory: dir.file("w"), resultsDirectory: dir.file("r"))
                    .run(modelID: "vrnn2", seed: 3)
            }
            #expect(error.path.hasSuffix("vrnn2-s3/last") && error.message.contains("spec changed"), "\(error)")
            return error.location ?? ""
        }
        #expect(try refused { $0.training.learningRate = 2e-3 } == "learning_rate")
        #expect(try refused { $0.training.clipNorm = 100 } == "clip_norm")
        #expect(try refused { $0.training.steps = 48 } == "steps")
        #expect(try refused { $0.models[0].fcLayers = 2 } == "config.json")
        let resumed = try #require(try runner.run(modelID: "vrnn2", seed: 3))
        #expect(resumed.resumed && resumed.steps == 24)
    }

    /// A spec that extends another with a larger step budget starts each run from the other's
    /// finished run and ends exactly where a run trained from step 0 under the longer budget
    /// does; where the other's run cannot be continued (another protocol, a budget off the
    /// validation schedule, early stopping, its work directory gone) it trains from step 0 and
    /// says why.
    @Test func anExtendedSpecContinuesTheShorterRunsToTheSameResult() throws {
        let dir = try TemporaryDirectory("vhrnn-experiment-extends")
        defer { dir.remove() }
        let short = Self.tinySpec(name: "short", seeds: [1])  // 24 steps, validation every 8
        var long = Self.tinySpec(name: "long", seeds: [1])
        long.training.steps = 40
        let fresh = try #require(try ExperimentRunner(spec: long, workDirectory: dir.file("fresh"),
                                                      resultsDirectory: dir.file("fresh-results")).run(modelID: "vhrnn2", seed: 1))
        #expect(fresh.continued == nil && !fresh.resumed)

        long.extends = "short"
        let work = dir.file("w"), results = dir.file("r")
        let shortRun = try #require(try ExperimentRunner(spec: short, workDirectory: work, resultsDirectory: results)
            .run(modelID: "vhrnn2", seed: 1))
        let runner = ExperimentRunner(spec: long, workDirectory: work, resultsDirectory: results)
        var notices: [String] = [], firstStep: Int?
        let extended = try #require(try runner.run(modelID: "vhrnn2", seed: 1, notice: { notices.append($0) },
                                                   progress: { firstStep = firstStep ?? $0.step }))
        #expect(notices == ["continues short's finished run from step 24"])
        #expect(firstStep == 25, "the 24 steps of the short run are not trained again")
        #expect(extended.continued == .init(spec: "short", step: 24) && extended.resumed && extended.steps == 40)
        for (a, b) in zip(extended.evaluations, fresh.evaluations) {
            #expect(a.fivo == b.fivo && a.iwae == b.iwae && a.elbo == b.elbo, "\(a.id)")
        }
        #expect(extended.bestStep == fresh.bestStep && extended.bestValidation == fresh.bestValidation)
        #expect(extended.trainSeconds >= shortRun.trainSeconds, "the copied run's wall time is included")
        #expect(extended.disagreements(with: long).isEmpty)
        #expect(ExperimentReport.markdown(spec: long, results: [extended], command: "")
            .contains("1 run continued short's finished runs from step 24 (their train time includes those steps)."))
        let metrics = try String(contentsOfFile: runner.runDirectory(model: "vhrnn2", seed: 1) + "/metrics.jsonl", encoding: .utf8)
        #expect(metrics.split(separator: "\n").map { String($0.split(separator: ",")[0]) } == [8, 16, 24, 32, 40].map { "{\"step\":\($0)" })

        // Killed after the copy, before the longer run saved a `last/` of its own: the copied
        // checkpoint (budget 24) is resumed, not refused as another protocol.
        let vrnnConfig = long.models[0].configuration(dataDim: 2, dataEmission: .gaussian)
        try ExperimentRunner(spec: short, workDirectory: work, resultsDirectory: results).run(modelID: "vrnn2", seed: 1)
        #expect(try runner.startFromExtendedRun(model: "vrnn2", seed: 1, config: vrnnConfig) != nil)
        notices = []
        let copiedThenResumed = try #require(try runner.run(modelID: "vrnn2", seed: 1, notice: { notices.append($0) }))
        let vrnnFresh = try #require(try ExperimentRunner(spec: long, workDirectory: dir.file("fresh"),
                                                          resultsDirectory: dir.file("fresh-results")).run(modelID: "vrnn2", seed: 1))
        #expect(notices.isEmpty && copiedThenResumed.continued?.step == 24)
        #expect(copiedThenResumed.evaluations.map(\.fivo) == vrnnFresh.evaluations.map(\.fivo))

        // Where the short run is not where the long one stands, the long one trains from step 0.
        var other = Self.tinySpec(name: "other", seeds: [2])
        other.training.learningRate = 2e-3
        try ExperimentRunner(spec: other, workDirectory: work, resultsDirectory: results).run(modelID: "vrnn2", seed: 2)
        var fromOther = long
        fromOther.seeds = [2]
        fromOther.extends = "other"
        notices = []
        let retrained = try #require(try ExperimentRunner(spec: fromOther, workDirectory: work, resultsDirectory: results)
            .run(modelID: "vrnn2", seed: 2, notice: { notices.append($0) }))
        #expect(notices == ["trains from step 0: other's run vrnn2-s2 trained with training.learningRate 0.002, this spec 0.001"])
        #expect(retrained.continued == nil && !retrained.resumed)
        let source = try ExperimentRunner.readResult(path: results + "/short/vrnn2-s1.json")
        func obstacle(_ edit: (inout ExperimentRunResult) -> Void) -> String? {
            var r = source
            edit(&r)
            return runner.continuationObstacle(r, base: "short", config: vrnnConfig)
        }
        #expect(obstacle { _ in } == nil)
        #expect(obstacle { $0.stoppedEarly = true; $0.steps = 16 } == "stopped early at step 16")
        #expect(obstacle { $0.training?.steps = 20; $0.steps = 20 }?.contains("off this spec's schedule") == true)
        #expect(obstacle { $0.training?.steps = 40; $0.steps = 40 }?.contains("not smaller") == true)
        #expect(obstacle { $0.floatPath = "another machine" }?.contains("float path") == true)
        #expect(obstacle { $0.configuration.latentDim = 3 } == "trained another model")
        #expect(obstacle { $0.training = nil } == "does not record its training protocol")
        try FileManager.default.removeItem(atPath: work + "/short/vrnn2-s1")
        try FileManager.default.removeItem(atPath: work + "/long/vrnn2-s1/last")
        // The record of a copy interrupted before `last/` arrived goes when the run cannot continue.
        let record = work + "/long/vrnn2-s1/" + ExperimentRunner.continuationFile
        #expect(FileManager.default.fileExists(atPath: record))
        #expect(try runner.startFromExtendedRun(model: "vrnn2", seed: 1, config: vrnnConfig)?.contains("is missing") == true)
        #expect(!FileManager.default.fileExists(atPath: record), "a run trained from step 0 must not claim a continuation")
    }

    /// Every committed results file is a run of its committed spec as it stands.
    @Test func committedResultsAgreeWithTheirSpecs() throws {
        let results = Self.specFolder.appendingPathComponent("results").path
        var files = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: Self.specFolder.path)
        where name.hasSuffix(".json") && name != "claims.json" {
            let spec = try ExperimentSpec.load(path: Self.specFolder.appendingPathComponent(name).path)
            files += try ExperimentRunner(spec: spec, workDirectory: "", resultsDirectory: results).results().count
        }
        #expect(files >= 250, "the committed tables hold about 300 runs; read \(files)")
    }

    @Test func badSpecsNameTheField() throws {
        let dir = try TemporaryDirectory("vhrnn-experiment-spec")
        defer { dir.remove() }
        func refuse(_ edit: (inout ExperimentSpec) -> Void, mentions word: String) throws {
            var spec = Self.tinySpec()
            edit(&spec)
            let encoder = JSONEncoder()
            try encoder.encode(spec).write(to: URL(fileURLWithPath: dir.file("s.json")))
            let error = try #require(throws: (any Error).self) { try ExperimentSpec.load(path: dir.file("s.json")) }
            #expect("\(error)".contains(word) && "\(error)".contains("s.json"), "\(error)")
        }
        try refuse({ $0.seeds = [] }, mentions: "seeds")
        try refuse({ $0.seeds = [1, 1] }, mentions: "seeds")
        try refuse({ $0.models[1].id = "vrnn2" }, mentions: "models.id")
        try refuse({ $0.models[0].id = "../x" }, mentions: "models.id")
        try refuse({ $0.training.steps = nil }, mentions: "steps or epochs")
        try refuse({ $0.training.learningRate = -1 }, mentions: "learningRate")
        try refuse({ $0.data = "nonsense:x" }, mentions: "nonsense")
        try refuse({ $0.evaluations[0].particles = 0 }, mentions: "particles")
        try refuse({ $0.models[0].latent = 0 }, mentions: "latentDim")
        let panel = ExperimentSpec.PanelEntry(id: "p", label: "P", data: "synthetic:switch", seed: 1, models: ["vrnn2", "vhrnn2"])
        try refuse({ $0.panels = [panel, panel] }, mentions: "panels.id")
        try refuse({ $0.panels = [panel]; $0.panels![0].models = ["vrnn2", "zzz"] }, mentions: "panels[p].models")
        try refuse({ $0.panels = [panel]; $0.panels![0].seed = 9 }, mentions: "panels[p].seed")
        try refuse({ $0.panels = [panel]; $0.panels![0].data = "nonsense:y" }, mentions: "panels[p].data")
        try refuse({ $0.extends = "tiny" }, mentions: "extends")
        try refuse({ $0.extends = "shorter"; $0.training.steps = nil; $0.training.epochs = 3 }, mentions: "extends")
        try refuse({ $0.extends = "../x" }, mentions: "extends")
        try dir.write("broken.json", #"{"name": "x", "title": 3}"#)
        let error = try #require(throws: DataFileError.self) { try ExperimentSpec.load(path: dir.file("broken.json")) }
        #expect("\(error)".contains("title"), "\(error)")
    }

    static let specFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("experiments")

    @Test func committedSpecsAreValid() throws {
        let folder = Self.specFolder
        let specs = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") && $0 != "claims.json" }
        #expect(!specs.isEmpty)
        for name in specs { _ = try ExperimentSpec.load(path: folder.appendingPathComponent(name).path) }
    }

    /// The built-in default repeats runs of Table 1: same models, protocol and test evaluation,
    /// so `make run` can be checked against the committed results files.
    @Test func builtInDefaultIsPartOfTable1() throws {
        let table1 = try ExperimentSpec.load(path: Self.specFolder.appendingPathComponent("table1.json").path)
        let builtIn = ExperimentSpec.builtInDefault
        #expect(builtIn.training == table1.training)
        #expect(Set(builtIn.seeds).isSubset(of: table1.seeds) && builtIn.seeds.count >= 2)
        for model in builtIn.models {
            var theirs = try #require(table1.models.first { $0.id == model.id }, "\(model.id) not in table1.json")
            theirs.paper = theirs.paper?.filter { $0.key == "standard" }
            #expect(theirs == model)
        }
        #expect(builtIn.evaluations == table1.evaluations.filter { $0.id == "standard" })
        // The comparison is at matched size: the VHRNN has no more parameters than the VRNN.
        let counts = try builtIn.models.map { m -> (ModelKind, Int) in
            var rng = SplitMix64(seed: 1)
            let model = try SequenceModel<Float>(configuration: m.configuration(dataDim: 2, dataEmission: .gaussian),
                                                 generator: &rng)
            return (m.model, model.parameterCount)
        }
        let vhrnn = try #require(counts.first { $0.0 == .vhrnn }), vrnn = try #require(counts.first { $0.0 == .vrnn })
        #expect(vhrnn.1 <= vrnn.1)
    }
}

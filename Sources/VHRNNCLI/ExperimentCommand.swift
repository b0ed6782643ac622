import ArgumentParser
import Foundation
import VHRNN

/// `vhrnn experiment`: run the experiments described by spec files, resumably, and build the
/// report from their results files.
struct ExperimentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiment",
        abstract: "Run experiment specs (experiments/*.json) resumably and report their tables.",
        subcommands: [ExperimentRunCommand.self, ExperimentReportCommand.self])
}

struct ExperimentRunCommand: VHRNNSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Train and evaluate every (model, seed) of a spec that has no results file yet.",
        discussion: """
            Finished runs (a results file in --results) are skipped; an interrupted run continues from its \
            last/ checkpoint in --work (written at every validation, and after the step in flight on Ctrl-C \
            or SIGTERM). With --jobs N, N runs go in parallel child processes, each with its log in its \
            work directory. Every run uses one kernel thread, whatever --jobs (VHRNN_THREADS is not \
            followed): evaluated bounds differ in about the 7th significant digit between thread counts, \
            so that results do not depend on --jobs.
            """)

    @Argument(help: "Spec file.")
    var spec: String

    @Option(help: "Where runs keep their checkpoints and logs.")
    var work: String = "runs/experiments"

    @Option(help: "Where results files are written (small JSON, meant to be committed).")
    var results: String = "experiments/results"

    @Option(help: "Runs in parallel, each a child process with one kernel thread (default: one per core; measured: two 1-thread runs finish 1.8x sooner than two 2-thread runs in turn on 2 cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Only this model id.")
    var model: String?

    @Option(help: "Only this seed.")
    var seed: UInt64?

    func validate() throws {
        if jobs < 1 { throw ValidationError("--jobs must be positive, got \(jobs)") }
    }

    func execute() throws {
        let stop = InterruptFlag.install()
        setvbuf(stdout, nil, _IOLBF, 0)  // progress lines reach a log file as they happen
        let spec = try ExperimentSpec.load(path: self.spec)
        let runner = ExperimentRunner(spec: spec, workDirectory: work, resultsDirectory: results)
        _ = try runner.results()  // a results file of an older version of the spec is not skipped as finished
        let pending = runner.pending.filter { (model == nil || $0.model.id == model) && (seed == nil || $0.seed == seed) }
        if let model, !spec.models.contains(where: { $0.id == model }) {
            throw CLIError("\(self.spec): no model '\(model)' (models: \(spec.models.map(\.id).joined(separator: ", ")))")
        }
        if let seed, !spec.seeds.contains(seed) {
            throw CLIError("\(self.spec): no seed \(seed) (seeds: \(spec.seeds.map(String.init).joined(separator: ", ")))")
        }
        print("\(spec.name): \(spec.runs.count - runner.pending.count) of \(spec.runs.count) runs finished, \(pending.count) to run"
            + (jobs > 1 ? " with \(jobs) jobs" : ""))
        if jobs == 1 || pending.count <= 1 {
            KernelRuntime.threadCount = Self.kernelThreads
            for (entry, s) in pending {
                if stop.isSet { break }
                let name = ExperimentRunner.runName(model: entry.id, seed: s)
                let start = Date()
                print("  \(name): training…")
                let result = try runner.run(modelID: entry.id, seed: s, shouldStop: { stop.isSet },
                                            notice: { print("  \(name): \($0)") })
                print(Self.line(name, result, seconds: Date().timeIntervalSince(start)))
            }
        } else {
            try runInChildren(pending.map { ($0.model.id, $0.seed) }, spec: spec, runner: runner, stop: stop)
        }
        if stop.isSet {
            print("stopped; run the same command to continue")
        } else if model == nil && seed == nil {
            try drawPanels(spec: spec, runner: runner, stop: stop)
        }
    }

    /// Draws each of the spec's panels whose two runs have finished and that is not drawn yet,
    /// with `vhrnn diagnose --compare --json` in a child process (its JSON kept beside the SVG).
    private func drawPanels(spec: ExperimentSpec, runner: ExperimentRunner, stop: InterruptFlag) throws {
        let fm = FileManager.default
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        for panel in spec.panels ?? [] where !stop.isSet {
            let prefix = runner.panelPrefix(panel)
            guard !fm.fileExists(atPath: prefix + ".json") else { continue }
            let finished = panel.models.allSatisfy { fm.fileExists(atPath: runner.resultPath(model: $0, seed: panel.seed)) }
            guard finished else { continue }
            try fm.createDirectory(atPath: (prefix as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let p = Process()
            p.executableURL = executable
            p.arguments = ["diagnose", "--checkpoint", runner.bestCheckpoint(model: panel.models[0], seed: panel.seed),
                           "--compare", runner.bestCheckpoint(model: panel.models[1], seed: panel.seed),
                           "--data", panel.data, "--split", (panel.split ?? .test).rawValue,
                           "--sequence", String(panel.sequence ?? 0), "--particles", String(panel.particles ?? 1),
                           "--seed", "0", "--out", prefix, "--json"]
            let output = Pipe(), errors = Pipe()
            p.standardOutput = output
            p.standardError = errors
            try p.run()
            let json = output.fileHandleForReading.readDataToEndOfFile()
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            guard p.terminationStatus == 0 else {
                throw CLIError("panel \(panel.id): diagnose failed: \(message.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            try json.write(to: URL(fileURLWithPath: prefix + ".json"), options: .atomic)
            print("  panel \(panel.id): wrote \(prefix).svg")
        }
    }

    /// Kernel threads of every run, in this process or a child. Training's numbers do not depend
    /// on the thread count (a spec fixes the data-parallel workers, each running its kernels
    /// inline), but evaluation's do, slightly: the linear kernels split a GEMM's rows over the
    /// threads, and OpenBLAS's result for a row depends on how many rows its call has (measured:
    /// MuseData validation FIVO up to 7e-6 apart on 1 and 2 threads). One thread for every run
    /// keeps results independent of `--jobs` and equal to the committed ones (all 1-thread);
    /// parallelism comes from running runs side by side.
    static let kernelThreads = 1

    static func line(_ name: String, _ result: ExperimentRunResult?, seconds: Double) -> String {
        guard let r = result else { return "  \(name): stopped (resumes from last/)" }
        let evals = r.evaluations.map { "\($0.id) \(String(format: "%.3f", $0.fivo ?? .nan))" }.joined(separator: ", ")
        return String(format: "  %@: done in %.0f s, %d steps, FIVO %@", name, seconds, r.steps, evals)
    }

    /// Runs each pair as `vhrnn experiment run SPEC --model ID --seed S` in a pool of `jobs`
    /// child processes; a stop request is passed on to them as SIGINT (they save last/).
    private func runInChildren(_ pairs: [(String, UInt64)], spec: ExperimentSpec, runner: ExperimentRunner,
                               stop: InterruptFlag) throws {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        let threads = Self.kernelThreads
        var queue = pairs[...]
        var running: [(process: Process, model: String, seed: UInt64, name: String, start: Date)] = []
        var failures: [String] = []
        var forwarded = false
        while (!queue.isEmpty && !stop.isSet) || !running.isEmpty {
            while running.count < jobs, let (model, seed) = queue.first, !stop.isSet {
                queue = queue.dropFirst()
                let name = ExperimentRunner.runName(model: model, seed: seed)
                let dir = ((work as NSString).appendingPathComponent(spec.name) as NSString).appendingPathComponent(name)
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                let log = (dir as NSString).appendingPathComponent("log.txt")
                _ = FileManager.default.createFile(atPath: log, contents: nil)
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
                handle.seekToEndOfFile()
                let p = Process()
                p.executableURL = executable
                p.arguments = ["experiment", "run", self.spec, "--work", work, "--results", results, "--model", model,
                               "--seed", String(seed)]
                var env = ProcessInfo.processInfo.environment
                env["VHRNN_THREADS"] = String(threads)
                env[InterruptFlag.childEnvironmentKey] = "1"
                p.environment = env
                p.standardOutput = handle
                p.standardError = handle
                try p.run()
                running.append((p, model, seed, name, Date()))
                print("  \(name): started (\(threads) thread\(threads == 1 ? "" : "s"), log \(log))")
            }
            if stop.isSet && !forwarded {
                // Passed on once; each child stops after its step in flight and saves last/.
                for r in running where r.process.isRunning { kill(r.process.processIdentifier, SIGINT) }
                forwarded = true
            }
            Thread.sleep(forTimeInterval: 0.2)
            running.removeAll { r in
                guard !r.process.isRunning else { return false }
                let seconds = Date().timeIntervalSince(r.start)
                if r.process.terminationStatus == 0 {
                    print(FileManager.default.fileExists(atPath: runner.resultPath(model: r.model, seed: r.seed))
                          ? String(format: "  %@: done in %.0f s", r.name, seconds)
                          : "  \(r.name): stopped (resumes from last/)")
                } else {
                    failures.append(r.name)
                    print("  \(r.name): failed (exit \(r.process.terminationStatus)); see its log.txt")
                }
                return true
            }
        }
        if !failures.isEmpty { throw CLIError("\(failures.count) run\(failures.count == 1 ? "" : "s") failed: \(failures.joined(separator: ", "))") }
    }
}

struct ExperimentReportCommand: VHRNNSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Build a markdown report (one table per spec) from the results files alone.")

    @Argument(help: "Spec files, in report order.")
    var specs: [String]

    @Option(help: "Where the results files are.")
    var results: String = "experiments/results"

    @Option(help: "Write the report here (default: print it).")
    var output: String?

    @Option(help: "A claims file (experiments/claims.json): each of the paper's claims with its verdict, computed from the results, at the top of the report.")
    var claims: String?

    func execute() throws {
        var sections = ["# Results", "",
                        "Built by `vhrnn experiment report` from the results files in `\(results)/` — every number "
                            + "below comes from one of them; none is typed by hand.", ""]
        let loaded = try specs.map { try ExperimentSpec.load(path: $0) }
        // Each spec's results files and drawn panels, read (and checked against the spec) once.
        let finished = try loaded.map { try ExperimentRunner(spec: $0, workDirectory: "", resultsDirectory: results).results() }
        let drawn = try loaded.map(drawnPanels)
        // What has run and what remains, spec by spec (the order is the run order).
        sections += ["## Status", "", "| spec | runs finished | training + evaluation time so far (one core) |", "|---|---|---|"]
        for (spec, done) in zip(loaded, finished) {
            let seconds = done.reduce(0.0) { $0 + $1.trainSeconds + $1.evaluations.reduce(0) { $0 + $1.seconds } }
            sections.append("| \(spec.title) | \(done.count) of \(spec.runs.count) | "
                + (done.isEmpty ? "—" : String(format: "%.1f h", seconds / 3600)) + " |")
        }
        sections.append("")
        if let claims {
            let set = try ClaimSet.load(path: claims, specs: loaded)
            var results: [String: [ExperimentRunResult]] = [:]
            var panels: [String: ComparisonPanel] = [:]
            for (i, spec) in loaded.enumerated() {
                results[spec.name] = finished[i]
                for p in drawn[i] { panels["\(spec.name)/\(p.entry.id)"] = p.panel }
            }
            let byName = Dictionary(loaded.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            sections += ["## The paper's claims", "",
                         "Each verdict below is computed from the results files by `vhrnn experiment report --claims \(claims)`: "
                             + ClaimVerdict.rule, ""]
            sections += [ClaimVerdict.overview(set.claims, specs: byName, results: results, panels: panels)]
            sections += set.claims.map { ClaimVerdict.markdown($0, specs: byName, results: results, panels: panels) }
        }
        for (i, (path, spec)) in zip(specs, loaded).enumerated() {
            let results = finished[i]
            // Figures go beside the report (figures/<spec>.svg), linked relative to it.
            var figure: String?
            if spec.parameterFigure == true, let output,
               let chart = ExperimentReport.parameterFigure(spec: spec, results: results) {
                let folder = ((output as NSString).deletingLastPathComponent as NSString).appendingPathComponent("figures")
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                try Data(chart.svg().utf8).write(to: URL(fileURLWithPath: (folder as NSString)
                    .appendingPathComponent(spec.name + ".svg")), options: .atomic)
                figure = "figures/\(spec.name).svg"
            }
            let command = "vhrnn experiment run \(path) && vhrnn experiment report \(specs.joined(separator: " "))"
                + (claims.map { " --claims \($0)" } ?? "") + (output.map { " --output \($0)" } ?? "")
            sections.append(ExperimentReport.markdown(spec: spec, results: results, command: command, figure: figure,
                                                      panels: drawn[i]))
        }
        let text = sections.joined(separator: "\n")
        if let output {
            try createDirectory((output as NSString).deletingLastPathComponent.isEmpty ? "."
                                : (output as NSString).deletingLastPathComponent)
            try writeFile(Data(text.utf8), to: output)
            print("wrote \(output)")
        } else {
            print(text)
        }
    }

    /// The spec's panels that `experiment run` has drawn, with SVG links relative to the report.
    private func drawnPanels(_ spec: ExperimentSpec) throws
        -> [(entry: ExperimentSpec.PanelEntry, panel: ComparisonPanel, svg: String)] {
        let runner = ExperimentRunner(spec: spec, workDirectory: "", resultsDirectory: results)
        let base = output.map { ($0 as NSString).deletingLastPathComponent } ?? "."
        return try (spec.panels ?? []).compactMap { entry in
            let prefix = runner.panelPrefix(entry)
            guard let data = FileManager.default.contents(atPath: prefix + ".json") else { return nil }
            do {
                let panel = try JSONDecoder().decode(ComparisonPanel.self, from: data)
                return (entry, panel, relativePath(prefix + ".svg", from: base))
            } catch {
                throw CLIError("\(prefix).json: not a diagnose --compare record: \(error)")
            }
        }
    }
}

/// `path` relative to the directory `base` (both relative to the working directory or absolute).
func relativePath(_ path: String, from base: String) -> String {
    func components(_ p: String) -> [String] {
        let absolute = p.hasPrefix("/") ? p : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(p)
        return (absolute as NSString).standardizingPath.split(separator: "/").map(String.init)
    }
    let target = components(path), from = components(base.isEmpty ? "." : base)
    var shared = 0
    while shared < min(target.count, from.count) && target[shared] == from[shared] { shared += 1 }
    return (Array(repeating: "..", count: from.count - shared) + target[shared...]).joined(separator: "/")
}

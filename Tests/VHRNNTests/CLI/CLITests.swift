import Foundation
import Testing
@testable import VHRNN

/// End-to-end tests of the `vhrnn` command line, run as a subprocess.
///
/// The test target does not depend on the executable, but `swift test` builds every product of
/// the package (the executables too) before running the tests, so the binary is normally next to
/// the test binary; with `--skip-build` it must have been built before. It is looked for in this order:
/// `$VHRNN_CLI`; next to the test binary (the same build directory, e.g. `.build/debug`);
/// then under the package's `.build`/`.build-openmp` debug and release directories. When none
/// is there the tests fail with a message saying to build it.
@Suite("CLI")
struct CLITests {
    // MARK: - Running the binary

    // #filePath is .../<repo>/Tests/VHRNNTests/CLI/CLITests.swift
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static let binary: String? = {
        let fm = FileManager.default
        if let env = ProcessInfo.processInfo.environment["VHRNN_CLI"], !env.isEmpty {
            return fm.isExecutableFile(atPath: env) ? env : nil
        }
        var candidates: [URL] = []
        if let exe = Bundle.main.executableURL { candidates.append(exe.deletingLastPathComponent()) }
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
        for scratch in [".build", ".build-openmp"] {
            for config in ["debug", "release"] {
                candidates.append(packageRoot.appendingPathComponent(scratch).appendingPathComponent(config))
            }
        }
        return candidates.map { $0.appendingPathComponent("vhrnn").path }.first { fm.isExecutableFile(atPath: $0) }
    }()

    static let missingBinary: Comment = """
        the vhrnn binary was not found (looked at $VHRNN_CLI, next to the test binary and in .build*/debug|release); \
        build it first (`swift build --product vhrnn`; plain `swift test` without --skip-build builds it too), \
        or set VHRNN_CLI to its path
        """

    struct Result {
        var status: Int32
        /// False when the process died of a signal (a crash) or was killed after the timeout.
        var exited: Bool
        var stdout: String
        var stderr: String
        var stderrLines: [Substring] { stderr.split(separator: "\n", omittingEmptySubsequences: true) }

        /// The stdout parsed as one JSON object.
        func json() throws -> [String: Any] {
            let object = try JSONSerialization.jsonObject(with: Data(stdout.utf8))
            return try #require(object as? [String: Any], "stdout is not a JSON object: \(stdout)")
        }
    }

    /// Multiplies every command's timeout: `VHRNN_TEST_TIMEOUT_SCALE` (scripts/test-sanitize.sh
    /// sets it, since a sanitized binary on a loaded machine runs many times slower).
    static let timeoutScale: Double = {
        let text = ProcessInfo.processInfo.environment["VHRNN_TEST_TIMEOUT_SCALE"] ?? ""
        return Double(text).map { max(1, $0) } ?? 1
    }()

    /// Runs `vhrnn args...` in `directory`, with stdout and stderr captured in files (no pipe
    /// can fill up), killed after `timeout` seconds (a hang fails the test instead of blocking).
    static func run(_ args: [String], in directory: String? = nil, environment: [String: String] = [:],
                    timeout: TimeInterval = 60) throws -> Result {
        let binary = try #require(Self.binary, Self.missingBinary)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("vhrnn-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = args
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout * Self.timeoutScale)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        let timedOut = process.isRunning
        if timedOut {
            process.terminate()
        }
        process.waitUntilExit()
        try out.close()
        try err.close()
        let result = Result(status: process.terminationStatus, exited: process.terminationReason == .exit,
                            stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                            stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
        #expect(!timedOut, "vhrnn \(args.joined(separator: " ")) did not finish within \(timeout * Self.timeoutScale) s")
        return result
    }

    /// Runs and requires success.
    @discardableResult
    static func succeed(_ args: [String], in directory: String? = nil, environment: [String: String] = [:]) throws -> Result {
        let r = try run(args, in: directory, environment: environment)
        try #require(r.status == 0, "vhrnn \(args.joined(separator: " ")) exited \(r.status): \(r.stderr)")
        return r
    }

    /// Runs and requires a clean failure: non-zero exit, one `error: ...` line on stderr
    /// mentioning `mentioning`, nothing on stdout, no crash report.
    static func fail(_ args: [String], mentioning: String, in directory: String? = nil) throws {
        let r = try run(args, in: directory)
        let command = "vhrnn " + args.joined(separator: " ")
        #expect(r.status != 0, "\(command) should fail")
        #expect(r.exited && r.status < 128, "\(command) crashed (status \(r.status)): \(r.stderr)")
        #expect(r.stderrLines.count == 1, "\(command): expected one stderr line, got: \(r.stderr)")
        #expect(r.stderrLines.first?.hasPrefix("error: ") == true, "\(command): \(r.stderr)")
        #expect(r.stderr.contains(mentioning), "\(command): stderr does not mention '\(mentioning)': \(r.stderr)")
        #expect(r.stdout.isEmpty, "\(command) printed on stdout: \(r.stdout)")
    }

    static func number(_ object: [String: Any], _ key: String) -> Double? { (object[key] as? NSNumber)?.doubleValue }

    static let tinyModel = ["--latent", "2", "--fc-layers", "1", "--omega-hidden", "4"]

    // MARK: - Tests

    @Test("params --json reproduces the paper's VRNN parameter counts")
    func paramsTable() throws {
        let cases: [(args: [String], trainable: Int, paper: Int)] = [
            (["--data-dim", "2", "--emission", "gaussian", "--latent", "8", "--fc-layers", "2"], 2068, 2612),
            (["--data-dim", "2", "--emission", "gaussian", "--latent", "6", "--fc-layers", "2"], 1204, 1516),
            (["--data-dim", "88", "--emission", "bernoulli", "--latent", "32"], 30776, 39096),
        ]
        for c in cases {
            let object = try Self.succeed(["params", "--model", "vrnn", "--json"] + c.args).json()
            #expect(object["trainable"] as? Int == c.trainable, "\(c.args): \(object)")
            #expect(object["paper_count"] as? Int == c.paper, "\(c.args): \(object)")
            #expect(object["model"] as? String == "vrnn")
        }
    }

    @Test("gradcheck --json passes, and FIVO resamples", arguments: ["vrnn", "vhrnn"])
    func gradcheck(model: String) throws {
        for bound in ["fivo", "iwae"] {
            let object = try Self.succeed(["gradcheck", "--model", model, "--bound", bound, "--json"]).json()
            #expect(object["passed"] as? Bool == true, "\(model) \(bound): \(object)")
            let error = try #require(Self.number(object, "max_rel_error"))
            #expect(error <= 1e-6, "\(model) \(bound): max_rel_error \(error)")
            #expect((object["parameters_checked"] as? Int ?? 0) > 0)
            if bound == "fivo" { #expect((object["resampling_events"] as? Int ?? 0) > 0, "\(object)") }
        }
    }

    @Test("bad flags and files fail with one error line and a non-zero exit")
    func badInput() throws {
        let dir = try TemporaryDirectory("vhrnn-cli-bad")
        defer { dir.remove() }
        // A directory that looks like a checkpoint but holds garbage.
        let corrupt = dir.file("corrupt")
        try FileManager.default.createDirectory(atPath: corrupt, withIntermediateDirectories: true)
        try Data("not safetensors".utf8).write(to: URL(fileURLWithPath: corrupt + "/model.safetensors"))
        try Data("{".utf8).write(to: URL(fileURLWithPath: corrupt + "/config.json"))

        try Self.fail(["params", "--latent", "0", "--data-dim", "2"], mentioning: "--latent")
        try Self.fail(["train", "--data", "nonsense:x"], mentioning: "nonsense:x")
        try Self.fail(["train", "--data", "synthetic-dir:/nonexistent/dir", "--steps", "1"], mentioning: "/nonexistent/dir")
        try Self.fail(["evaluate", "--checkpoint", "/nonexistent"], mentioning: "/nonexistent")
        try Self.fail(["evaluate", "--checkpoint", corrupt], mentioning: corrupt)
        try Self.fail(["evaluate", "--checkpoint", "x", "--bogus"], mentioning: "--bogus")
        try Self.fail(["diagnose", "--checkpoint", "/nonexistent"], mentioning: "/nonexistent")
        try Self.fail(["diagnose", "--checkpoint", corrupt], mentioning: corrupt)
        try Self.fail(["diagnose", "--checkpoint", "x", "--particles", "0"], mentioning: "--particles")
        try Self.fail(["diagnose", "--checkpoint", "x", "--sequence", "-1"], mentioning: "--sequence")
        try Self.fail(["diagnose", "--checkpoint", "x", "--split", "nope"], mentioning: "--split")
        try Self.fail(["diagnose", "--checkpoint", "x", "--data", "nonsense:x"], mentioning: "nonsense:x")
        try Self.fail(["sample", "--checkpoint", "/nonexistent"], mentioning: "/nonexistent")
        try Self.fail(["sample", "--checkpoint", "x", "--count", "0"], mentioning: "--count")
        try Self.fail(["sample", "--checkpoint", "x", "--steps", "0"], mentioning: "--steps")
        try Self.fail(["sample", "--checkpoint", "x", "--prefix-steps", "3"], mentioning: "--prefix-sequence")
        try Self.fail(["sample", "--checkpoint", "x", "--count", "abc"], mentioning: "abc")
        try Self.fail(["sample", "--checkpoint", "x", "--particles", "0"], mentioning: "--particles")
        try Self.fail(["nonsense-subcommand"], mentioning: "nonsense-subcommand")
    }

    /// Runs and requires exactly `stderr` (one line), nothing on stdout and exit `status`.
    static func expectError(_ args: [String], _ stderr: String, status: Int32, in directory: String? = nil) throws {
        let r = try run(args, in: directory)
        let command = "vhrnn " + args.joined(separator: " ")
        #expect(r.exited && r.status == status, "\(command): exit \(r.status), expected \(status): \(r.stderr)")
        #expect(r.stderr == stderr + "\n", "\(command): stderr \(r.stderr)")
        #expect(r.stdout.isEmpty, "\(command) printed on stdout: \(r.stdout)")
    }

    @Test("a shared flag is spelled, checked and reported the same way by every command that takes it")
    func sharedFlags() throws {
        let dir = try TemporaryDirectory("vhrnn-cli-shared")
        defer { dir.remove() }
        let corrupt = dir.file("corrupt")
        try FileManager.default.createDirectory(atPath: corrupt, withIntermediateDirectories: true)
        try Data("not safetensors".utf8).write(to: URL(fileURLWithPath: corrupt + "/model.safetensors"))
        try Data("{".utf8).write(to: URL(fileURLWithPath: corrupt + "/config.json"))

        // Each command with the arguments it needs to get as far as its flags.
        let commands: [String: [String]] = [
            "train": ["train", "--data", "synthetic"], "evaluate": ["evaluate", "--checkpoint", "x"],
            "diagnose": ["diagnose", "--checkpoint", "x"], "log-weights": ["log-weights", "--checkpoint", "x"],
            "sample": ["sample", "--checkpoint", "x"], "gradcheck": ["gradcheck"], "params": ["params", "--data-dim", "2"],
        ]
        func see(_ name: String) -> String { " (see 'vhrnn \(name) --help')" }
        // Flag values rejected while parsing or validating: one line, the command's --help, exit 64.
        for name in ["train", "evaluate"] {
            try Self.expectError(commands[name]! + ["--scheme", "bogus"], "error: The value 'bogus' is invalid for "
                + "'--scheme <scheme>'. Please provide one of 'multinomial', 'systematic' or 'stratified'." + see(name), status: 64)
            try Self.expectError(commands[name]! + ["--resampling", "ess:2"],
                                 "error: The value 'ess:2' is invalid for '--resampling <resampling>'" + see(name), status: 64)
        }
        for name in ["train", "gradcheck"] {
            try Self.expectError(commands[name]! + ["--bound", "nope"], "error: The value 'nope' is invalid for "
                + "'--bound <bound>'. Please provide one of 'elbo', 'iwae' or 'fivo'." + see(name), status: 64)
        }
        for name in ["train", "evaluate", "diagnose", "log-weights", "sample"] {
            try Self.expectError(commands[name]! + ["--particles", "0"], "error: --particles must be positive, got 0" + see(name),
                                 status: 64)
            try Self.expectError(commands[name]! + ["--particles", "x"],
                                 "error: The value 'x' is invalid for '--particles <particles>'" + see(name), status: 64)
        }
        try Self.expectError(commands["train"]! + ["--kl-warmup", "0"], "error: --kl-warmup must be positive, got 0"
                             + see("train"), status: 64)
        try Self.expectError(commands["sample"]! + ["--particles", "100001"],
                             "error: --particles must be at most 100000, got 100001" + see("sample"), status: 64)
        for name in ["evaluate", "diagnose", "log-weights", "sample", "gradcheck", "params"] {
            try Self.expectError(commands[name]! + ["--json=1"], "error: The option '--json' does not take any value, "
                + "but '1' was specified." + see(name), status: 64)
        }
        // An error while running (here the library's, reading the checkpoint): one line, exit 1.
        for name in ["evaluate", "diagnose", "log-weights", "sample"] {
            try Self.expectError([name, "--checkpoint", corrupt], "error: \(corrupt)/config.json: invalid JSON: "
                + "The given data was not valid JSON.", status: 1)
        }
    }

    @Test("import-fivo converts the published JSB checkpoint; evaluate scores it under either semantics")
    func importFIVO() throws {
        let dir = try TemporaryDirectory("vhrnn-cli-fivo")
        defer { dir.remove() }
        let folder = try SharedData.url("fivo-checkpoints/trunc_jsb-fivo").path
        let data = "pianoroll-chunks:100:" + (try SharedData.url("JSB_Chorales.pickle").path)
        let out = dir.file("jsb")
        let imported = try Self.succeed(["import-fivo", folder, "--data", data, "--out", out, "--json"]).json()
        #expect(imported["trainable"] as? Int == 30776 && imported["paper_count"] as? Int == 39096, "\(imported)")
        #expect(imported["global_step"] as? Int == 280001 && imported["semantics"] as? String == "fivo")
        // The folder, the prefix and the .index path name the same checkpoint.
        try Self.succeed(["import-fivo", folder + "/model.ckpt-280001.index", "--data", data, "--out", dir.file("b")])
        for semantics in ["fivo", "standard"] {
            let r = try Self.succeed(["evaluate", "--checkpoint", out, "--particles", "2", "--bounds", "fivo",
                                      "--repeats", "2", "--semantics", semantics, "--json"]).json()
            #expect(r["semantics"] as? String == semantics)
            #expect((r["fivo_values"] as? [Double])?.count == 2 && Self.number(r, "fivo_se") != nil, "\(r)")
        }

        try Self.fail(["import-fivo", folder, "--out", dir.file("c")], mentioning: "--data")
        try Self.fail(["import-fivo", "/nonexistent/model.ckpt-1", "--data", data, "--out", dir.file("d")],
                      mentioning: "/nonexistent/model.ckpt-1")
        try Self.fail(["import-fivo", folder, "--data", data, "--latent", "16", "--out", dir.file("e")],
                      mentioning: "latent size 32")
        try Self.fail(["import-fivo", dir.path, "--data", data, "--out", dir.file("f")], mentioning: "checkpoint")
        try Self.fail(["evaluate", "--checkpoint", out, "--repeats", "0"], mentioning: "--repeats")
        #expect(!FileManager.default.fileExists(atPath: dir.file("c")), "a refused import must write nothing")
    }

    @Test("experiment run --jobs 2 runs every pair in child processes; a rerun skips them; report builds the table")
    func experimentRunAndReport() throws {
        let dir = try TemporaryDirectory("vhrnn-cli-experiment")
        defer { dir.remove() }
        try dir.write("tiny.json", """
            {"name": "tiny", "title": "Tiny", "data": "synthetic:standard",
             "training": {"particles": 2, "steps": 30, "validateEvery": 10, "workers": 2},
             "seeds": [1, 2],
             "models": [{"id": "a", "label": "VRNN Z=2", "model": "vrnn", "latent": 2, "paper": {"t": -5}},
                        {"id": "b", "label": "VHRNN Z=2", "model": "vhrnn", "latent": 2, "omegaHidden": 3}],
             "evaluations": [{"id": "t", "label": "Test", "particles": 2}],
             "panels": [{"id": "sw", "label": "SWITCH", "data": "synthetic:switch", "seed": 1, "models": ["a", "b"]}]}
            """)
        let first = try Self.succeed(["experiment", "run", "tiny.json", "--jobs", "2"], in: dir.path)
        #expect(first.stdout.contains("0 of 4 runs finished, 4 to run with 2 jobs"), "\(first.stdout)")
        for name in ["a-s1", "a-s2", "b-s1", "b-s2"] {
            #expect(FileManager.default.fileExists(atPath: dir.file("experiments/results/tiny/\(name).json")), "\(name)")
        }
        // The panel is drawn once both of its runs have finished: the two models on one sequence.
        #expect(first.stdout.contains("panel sw: wrote"), "\(first.stdout)")
        for ext in ["svg", "csv", "json"] {
            #expect(FileManager.default.fileExists(atPath: dir.file("experiments/results/tiny/panels/sw.\(ext)")), "\(ext)")
        }
        let again = try Self.succeed(["experiment", "run", "tiny.json"], in: dir.path)
        #expect(again.stdout.contains("4 of 4 runs finished, 0 to run") && !again.stdout.contains("panel"), "\(again.stdout)")
        // A spec training the same runs for longer continues them; --jobs 1 runs them in this
        // process, on one kernel thread like the children (VHRNN_THREADS is not followed).
        let tiny = try String(contentsOfFile: dir.file("tiny.json"), encoding: .utf8)
        try dir.write("longer.json", tiny.replacingOccurrences(of: #""name": "tiny""#, with: #""name": "longer", "extends": "tiny""#)
            .replacingOccurrences(of: #""steps": 30"#, with: #""steps": 40"#))
        let longer = try Self.succeed(["experiment", "run", "longer.json", "--jobs", "1", "--model", "a", "--seed", "1"],
                                      in: dir.path, environment: ["VHRNN_THREADS": "2"])
        #expect(longer.stdout.contains("a-s1: continues tiny's finished run from step 30"), "\(longer.stdout)")
        let extended = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: dir.file("experiments/results/longer/a-s1.json")))) as? [String: Any]
        #expect(extended?["threads"] as? Int == 1 && extended?["steps"] as? Int == 40, "\(extended ?? [:])")
        #expect((extended?["continued"] as? [String: Any])?["spec"] as? String == "tiny", "\(extended ?? [:])")
        try Self.succeed(["experiment", "report", "tiny.json", "--output", "docs/RESULTS.md"], in: dir.path)
        let report = try String(contentsOfFile: dir.file("docs/RESULTS.md"), encoding: .utf8)
        #expect(report.contains("| VRNN Z=2 |") && report.contains("(2) (paper −5.000)"), "\(report)")
        #expect(report.contains("switches at steps 101, 201") && report.contains("| VHRNN Z=2 (")
                && report.contains("](../experiments/results/tiny/panels/sw.svg)"), "\(report)")
        try Self.fail(["experiment", "run", "missing.json"], mentioning: "missing.json", in: dir.path)
        try Self.fail(["experiment", "run", "tiny.json", "--model", "zzz"], mentioning: "zzz", in: dir.path)
        // The spec edited after its runs: neither run nor report passes the old results off as new.
        let spec = try String(contentsOfFile: dir.file("tiny.json"), encoding: .utf8)
        try dir.write("tiny.json", spec.replacingOccurrences(of: #""steps": 30"#, with: #""steps": 40"#))
        try Self.fail(["experiment", "run", "tiny.json"], mentioning: "training.steps", in: dir.path)
        try Self.fail(["experiment", "report", "tiny.json"], mentioning: "a-s1.json: training.steps", in: dir.path)
    }

    @Test("train --resume with other options continues, and says which options changed")
    func resumeWithOtherOptionsWarns() throws {
        let dir = try TemporaryDirectory("vhrnn-cli-resume-options")
        defer { dir.remove() }
        let common = ["train", "--data", "synthetic:standard", "--validate-every", "10", "--valid-particles", "2",
                      "--test-particles", "0", "--workers", "1", "--seed", "3", "--json"] + Self.tinyModel
        try Self.succeed(common + ["--steps", "20", "--out", "run"], in: dir.path)
        let same = try Self.succeed(common + ["--steps", "20", "--resume", "run"], in: dir.path)
        #expect(!same.stderr.contains("warning"), "\(same.stderr)")
        let other = try Self.succeed(common + ["--steps", "30", "--lr", "0.002", "--resume", "run"], in: dir.path)
        #expect(other.stderr.contains("warning: resuming with learning_rate 0.002; run/last was trained with 0.001")
                && other.stderr.contains("warning: resuming with steps 30; run/last was trained with 20"), "\(other.stderr)")
        #expect(other.stdout.contains("\"steps\":30") || other.stdout.contains("\"steps\" : 30"), "\(other.stdout)")
    }

    @Test("kill -9 at random moments (during checkpoint writes too): best/ and last/ stay whole, --resume ends bit-identical")
    func killNineDuringTraining() throws {
        let binary = try #require(Self.binary, Self.missingBinary)
        let dir = try TemporaryDirectory("vhrnn-cli-kill")
        defer { dir.remove() }
        let common = ["train", "--data", "synthetic:standard", "--steps", "300", "--validate-every", "10",
                      "--valid-particles", "2", "--test-particles", "0", "--workers", "2", "--seed", "3", "--json"]
            + Self.tinyModel
        try Self.succeed(common + ["--out", "reference"], in: dir.path)

        func start(_ args: [String]) throws -> Process {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: binary)
            p.arguments = args
            p.currentDirectoryURL = URL(fileURLWithPath: dir.path)
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            return p
        }
        var rng = SplitMix64(seed: 99)
        var kills = 0, killsDuringWrites = 0
        for round in 0..<40 {
            // What the next start does first; then both checkpoints must load whole.
            for name in ["best", "last"] {
                try Checkpoint.removeLeftovers(of: dir.file("run/\(name)"))
                if FileManager.default.fileExists(atPath: dir.file("run/\(name)")) {
                    _ = try Checkpoint.load(directory: dir.file("run/\(name)"))
                }
            }
            let resuming = FileManager.default.fileExists(atPath: dir.file("run/last"))
            let p = try start(common + (resuming ? ["--resume", "run"] : ["--out", "run"]))
            if round.isMultiple(of: 2) {
                // Aim at a write: kill as soon as a temporary copy of last/ or best/ appears.
                let deadline = Date().addingTimeInterval(5)
                while p.isRunning && Date() < deadline {
                    let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.file("run"))) ?? []
                    if names.contains(where: { $0.contains(".tmp-") || $0.contains(".old-") }) {
                        killsDuringWrites += 1
                        break
                    }
                    usleep(200)
                }
            } else {
                usleep(UInt32(50_000 + rng.next() % 400_000))
            }
            if p.isRunning {
                kill(p.processIdentifier, SIGKILL)
                kills += 1
            }
            p.waitUntilExit()
            if p.terminationReason == .exit {
                #expect(p.terminationStatus == 0, "round \(round): exit \(p.terminationStatus)")
                break
            }
        }
        #expect(kills >= 10 && killsDuringWrites >= 3, "only \(kills) kills, \(killsDuringWrites) during writes")
        // Finish whatever is left (the next start tidies first, as above), then compare with
        // the uninterrupted run byte for byte.
        try Checkpoint.removeLeftovers(of: dir.file("run/last"))
        let resumable = FileManager.default.fileExists(atPath: dir.file("run/last"))
        try Self.succeed(common + (resumable ? ["--resume", "run"] : ["--out", "run"]), in: dir.path)
        for file in ["last/model.safetensors", "last/training_state.safetensors", "best/model.safetensors"] {
            let a = try Data(contentsOf: URL(fileURLWithPath: dir.file("reference/\(file)")))
            let b = try Data(contentsOf: URL(fileURLWithPath: dir.file("run/\(file)")))
            #expect(a == b, "\(file) differs from the uninterrupted run's")
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.file("run"))
            .filter { $0.contains(".tmp-") || $0.contains(".old-") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    @Test("the built-in default runs both models over its seeds, resumes from --out and refuses other options there")
    func builtInDefault() throws {
        let dir = try TemporaryDirectory("vhrnn-cli-default")
        defer { dir.remove() }
        let args = ["train", "--steps", "6", "--test-particles", "2", "--out", "d", "--json"]
        let first = try Self.succeed(args, in: dir.path)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any])
        let models = try #require(object["models"] as? [[String: Any]])
        #expect(models.map { $0["id"] as? String } == ["vhrnn4-omega11", "vrnn8"])
        for m in models {
            #expect((m["test_fivo_values"] as? [Double])?.count == 3 && (m["test_fivo"] as? Double)?.isFinite == true, "\(m)")
        }
        #expect((models[0]["parameters"] as? Int ?? .max) <= (models[1]["parameters"] as? Int ?? 0))
        // A rerun finds every run finished and reports the same numbers without training.
        let again = try Self.succeed(args, in: dir.path)
        #expect(again.stdout == first.stdout)
        try Self.fail(["train", "--steps", "7", "--test-particles", "2", "--out", "d"], mentioning: "other options",
                      in: dir.path)
        let human = try Self.succeed(["train", "--steps", "6", "--test-particles", "2", "--seed", "1"], in: dir.path)
        #expect(human.stdout.contains("VHRNN Z=4, omega 11") && human.stdout.contains("paper FIVO"), "\(human.stdout)")
    }

    @Test("generate-synthetic, train, evaluate, diagnose and sample on a tiny VRNN")
    func syntheticPipeline() throws {
        let dir = try TemporaryDirectory("vhrnn-cli-pipeline")
        defer { dir.remove() }
        let cwd = dir.path
        try Self.succeed(["generate-synthetic", "--out", "syn"], in: cwd)
        for file in ["train.csv", "valid.csv", "test.csv", "info.json"] {
            #expect(FileManager.default.fileExists(atPath: dir.file("syn/\(file)")), "\(file) missing")
        }
        let train = try Self.succeed(["train", "--data", "synthetic-dir:syn", "--steps", "20", "--validate-every", "10",
                                      "--out", "run", "--test-particles", "4", "--model", "vrnn", "--json"]
                                     + Self.tinyModel, in: cwd).json()
        #expect(train["steps"] as? Int == 20)
        #expect(FileManager.default.fileExists(atPath: dir.file("run/best/model.safetensors")))

        // evaluate
        let evaluation = try Self.succeed(["evaluate", "--checkpoint", "run", "--particles", "4", "--json"], in: cwd).json()
        for key in ["elbo", "iwae", "fivo", "steps"] { #expect(evaluation[key] != nil, "evaluate --json lacks \(key)") }
        #expect(evaluation["steps"] as? Int == 100 * 100)
        let elbo = try #require(Self.number(evaluation, "elbo")), iwae = try #require(Self.number(evaluation, "iwae"))
        #expect(elbo.isFinite && iwae.isFinite)
        let mcse = try #require(Self.number(evaluation, "elbo_mc_se"))
        #expect(mcse > 0 && Self.number(evaluation, "elbo_without_tail")?.isFinite == true)
        #expect(evaluation["elbo_dominated_by_tail"] is Bool)
        let evaluated = try Self.succeed(["evaluate", "--checkpoint", "run", "--particles", "4"], in: cwd)
        #expect(evaluated.stdout.contains("(Monte Carlo standard error)"), "\(evaluated.stdout)")

        // log-weights: the same ELBO and standard error as evaluate (same noise; the float model's
        // weights are accumulated in float by the filter, the three terms summed in double by the
        // anatomy, hence the float-rounding tolerance), and the worst particles
        let anatomy = try Self.succeed(["log-weights", "--checkpoint", "run", "--particles", "4", "--worst", "3", "--json"],
                                       in: cwd).json()
        #expect(abs((Self.number(anatomy, "elbo") ?? .nan) - elbo) <= 1e-6 * abs(elbo))
        #expect(abs((Self.number(anatomy, "elboStandardError") ?? .nan) - mcse) <= 1e-3 * mcse)
        let worst = try #require(anatomy["worst"] as? [[String: Any]])
        #expect(worst.count == 3 && worst.allSatisfy { ["emission", "prior", "proposal"].contains($0["dominantTerm"] as? String ?? "") })
        #expect(anatomy["particleSteps"] as? Int == 4 * 100 * 100)
        let table = try Self.succeed(["log-weights", "--checkpoint", "run", "--particles", "2", "--worst", "2"], in: cwd)
        #expect(table.stdout.contains("Monte Carlo standard error") && table.stdout.contains("lowest log weights"))
        try Self.fail(["log-weights", "--checkpoint", "run", "--particles", "0"], mentioning: "--particles", in: cwd)
        try Self.fail(["log-weights", "--checkpoint", "/nonexistent"], mentioning: "/nonexistent", in: cwd)

        // diagnose: CSV, SVG with switch markers, JSON arrays
        let diagnosis = try Self.succeed(["diagnose", "--checkpoint", "run", "--sequence", "3", "--out", "diag/",
                                          "--json"], in: cwd).json()
        let csvPath = try #require(diagnosis["csv"] as? String), svgPath = try #require(diagnosis["svg"] as? String)
        #expect(csvPath == "diag/diagnose-test-3.csv" && svgPath == "diag/diagnose-test-3.svg")
        let csv = try String(contentsOfFile: dir.file(csvPath), encoding: .utf8)
        let csvLines = csv.split(separator: "\n")
        #expect(csvLines.first == "step,kl,log_variance,l2_distance,log_alpha")
        #expect(csvLines.count == 101)
        let svg = try String(contentsOfFile: dir.file(svgPath), encoding: .utf8)
        #expect(svg.contains("<svg") && svg.contains("</svg>"))
        #expect(svg.contains("time step") && svg.contains("KL") && svg.contains("L2 distance"))
        #expect(svg.contains("class=\"marker\""), "synthetic data should get switch markers")
        #expect(svg.contains("data-name=\"x0\"") && svg.contains("data-name=\"x1\""))
        let info = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.file("syn/info.json"))))
        let switches = try #require(((info as? [String: Any])?["test"] as? [[String: Any]])?[3]["switchSteps"] as? [Int])
        #expect(diagnosis["switch_steps"] as? [Int] == switches.map { $0 + 1 })
        for key in ["kl", "log_variance", "l2_distance", "log_alpha"] {
            #expect((diagnosis[key] as? [Any])?.count == 100, "diagnose --json \(key)")
        }
        #expect(diagnosis["steps"] as? Int == 100)
        #expect(diagnosis["particles"] as? Int == 1)

        // diagnose, human output and a file prefix with K particles
        let human = try Self.succeed(["diagnose", "--checkpoint", "run/best", "--particles", "4", "--out", "d2.svg"],
                                     in: cwd)
        #expect(human.stdout.contains("mean KL") && human.stdout.contains("d2.csv") && human.stdout.contains("d2.svg"))
        #expect(FileManager.default.fileExists(atPath: dir.file("d2.csv")))
        #expect(FileManager.default.fileExists(atPath: dir.file("d2.svg")))
        // diagnose --compare: a second model on the same sequence, in every panel and the CSV
        let compared = try Self.succeed(["diagnose", "--checkpoint", "run", "--compare", "run/best", "--semantics", "standard",
                                         "--out", "cmp", "--json"], in: cwd).json()
        #expect(((compared["compare"] as? [String: Any])?["kl"] as? [Any])?.count == 100, "\(compared.keys)")
        let cmpHeader = try String(contentsOfFile: dir.file("cmp.csv"), encoding: .utf8).split(separator: "\n").first
        #expect(cmpHeader == "step,kl,log_variance,l2_distance,log_alpha,compare_kl,compare_log_variance,compare_l2_distance,compare_log_alpha")
        #expect(try String(contentsOfFile: dir.file("cmp.svg"), encoding: .utf8).components(separatedBy: "VRNN Z=2").count >= 4)
        try Self.fail(["diagnose", "--checkpoint", "run", "--compare", "/nonexistent"], mentioning: "/nonexistent", in: cwd)
        try Self.fail(["diagnose", "--checkpoint", "run", "--sequence", "100"], mentioning: "out of range", in: cwd)
        try Self.fail(["diagnose", "--checkpoint", "run", "--data", "synthetic-dir:missing"], mentioning: "missing",
                      in: cwd)

        // sample from the prior: one CSV, count x steps rows
        let prior = try Self.succeed(["sample", "--checkpoint", "run", "--count", "3", "--steps", "7", "--out", "prior.csv",
                                      "--json"], in: cwd).json()
        #expect(prior["files"] as? [String] == ["prior.csv"])
        let priorCSV = try String(contentsOfFile: dir.file("prior.csv"), encoding: .utf8).split(separator: "\n")
        #expect(priorCSV.first == "sequence,step,x0,x1")
        #expect(priorCSV.count == 1 + 3 * 7)

        // continuing a prefix: the prefix, then the generated steps
        let continued = try Self.succeed(["sample", "--checkpoint", "run", "--count", "2", "--steps", "5",
                                          "--prefix-split", "test", "--prefix-sequence", "1", "--prefix-steps", "4",
                                          "--particles", "4", "--out", "cont"], in: cwd)
        #expect(continued.stdout.contains("wrote cont.csv"))
        let contCSV = try String(contentsOfFile: dir.file("cont.csv"), encoding: .utf8).split(separator: "\n")
        #expect(contCSV.count == 1 + 2 * 9)
        let testCSV = try String(contentsOfFile: dir.file("syn/test.csv"), encoding: .utf8).split(separator: "\n")
        let prefixRows = testCSV.filter { $0.hasPrefix("1,") }.prefix(4).map { $0.dropFirst(2) }
        #expect(Array(contCSV[1...4].map { $0.dropFirst(2) }) == Array(prefixRows))
        #expect(Array(contCSV[10...13].map { $0.dropFirst(2) }) == Array(prefixRows))
        try Self.fail(["sample", "--checkpoint", "run", "--prefix-sequence", "0", "--prefix-steps", "101"],
                      mentioning: "--prefix-steps", in: cwd)
        try Self.fail(["sample", "--checkpoint", "run", "--prefix-sequence", "100"], mentioning: "out of range", in: cwd)
        try Self.fail(["sample", "--checkpoint", "run", "--count", "1000000", "--steps", "1000000"],
                      mentioning: "too large", in: cwd)
        try Self.fail(["diagnose", "--checkpoint", "run", "--particles", "1000000"], mentioning: "too large", in: cwd)
    }

    @Test("piano-roll data: diagnose plots active notes, sample writes note lists and MIDI files")
    func pianoRollPipeline() throws {
        let dir = try TemporaryDirectory("vhrnn-cli-music")
        defer { dir.remove() }
        typealias V = PickleFixtureWriter.Value
        func piece(_ chords: [[Int64]]) -> V { .list(chords.map { .tuple($0.map(V.numpyInt64)) }) }
        let pieces: [V] = (0..<4).map { k in
            piece((0..<6).map { t in t % 3 == 2 ? [] : [60 + k, 64 + Int64(t % 2), 67] })
        }
        let value: V = .dict([(.py2str("train"), .list(pieces)), (.py2str("valid"), .list([pieces[0]])),
                              (.py2str("test"), .list([pieces[1], pieces[2]]))])
        try Data(PickleFixtureWriter.pickle(value, protocol: 2)).write(to: URL(fileURLWithPath: dir.file("tiny.pickle")))
        let cwd = dir.path
        try Self.succeed(["train", "--data", "pianoroll:tiny.pickle", "--steps", "4", "--validate-every", "2",
                          "--out", "run", "--test-particles", "2", "--model", "vhrnn", "--json"] + Self.tinyModel, in: cwd)

        let diagnosis = try Self.succeed(["diagnose", "--checkpoint", "run", "--sequence", "1", "--json"], in: cwd).json()
        #expect((diagnosis["kl"] as? [Any])?.count == 6)
        #expect(diagnosis["switch_steps"] as? [Int] == [])
        let svg = try String(contentsOfFile: dir.file("diagnose-test-1.svg"), encoding: .utf8)
        #expect(svg.contains("active notes"))
        #expect(!svg.contains("class=\"marker\""))

        let sampled = try Self.succeed(["sample", "--checkpoint", "run", "--count", "2", "--steps", "8",
                                        "--out", "music/", "--json"], in: cwd).json()
        #expect(sampled["format"] as? String == "midi")
        let files = try #require(sampled["files"] as? [String])
        #expect(files == ["music/sample-0.txt", "music/sample-0.mid", "music/sample-1.txt", "music/sample-1.mid"])
        let noteList = try String(contentsOfFile: dir.file("music/sample-0.txt"), encoding: .utf8)
        #expect(noteList.filter { $0 == "\n" }.count == 8)
        let midi = try Data(contentsOf: URL(fileURLWithPath: dir.file("music/sample-0.mid")))
        #expect(Array(midi.prefix(4)) == Array("MThd".utf8))

        // a continuation of a test piece keeps the piece's first steps
        try Self.succeed(["sample", "--checkpoint", "run", "--count", "1", "--steps", "3", "--prefix-sequence", "0",
                          "--prefix-steps", "2", "--particles", "3", "--out", "cont"], in: cwd)
        let continuation = try String(contentsOfFile: dir.file("cont-0.txt"), encoding: .utf8).split(separator: "\n",
                                      omittingEmptySubsequences: false)
        #expect(continuation.count == 5 + 1)  // 2 prefix + 3 generated lines, each ending in a newline
        #expect(continuation.first == "61 64 67")
        #expect(FileManager.default.fileExists(atPath: dir.file("cont-0.mid")))
    }
}

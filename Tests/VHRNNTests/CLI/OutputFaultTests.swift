import Foundation
import Testing
@testable import VHRNN

/// A full disk and a read-only output directory during `vhrnn train --resume`: one clear error
/// line naming the file, a non-zero exit (no crash), the previous checkpoint byte for byte
/// intact and loadable, no temporary folder left behind — and, once there is room again, the
/// run resumes.
@Suite(.enabled(if: SmallFilesystem.canMount, "needs root to mount a small tmpfs"))
struct OutputFaultTests {
    static func train(_ run: String, steps: Int, resume: Bool) -> [String] {
        ["train", "--data", "synthetic", "--model", "vrnn", "--latent", "4", "--validate-every", "10",
         "--valid-particles", "2", "--test-particles", "2", "--seed", "3", "--steps", "\(steps)", "--out", run]
            + (resume ? ["--resume", run] : [])
    }

    /// Every file of the run's checkpoints, by relative path.
    static func snapshot(_ run: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for sub in ["best", "last"] {
            for name in try FileManager.default.contentsOfDirectory(atPath: run + "/" + sub) {
                files[sub + "/" + name] = try Data(contentsOf: URL(fileURLWithPath: run + "/" + sub + "/" + name))
            }
        }
        return files
    }

    static func expectRefusedCleanly(_ r: CLITests.Result, _ needle: String, run: String, before: [String: Data]) throws {
        #expect(r.status != 0 && r.exited && r.status < 128, "status \(r.status): \(r.stderr)")
        let errors = r.stderrLines.filter { $0.hasPrefix("error:") }
        #expect(errors.count == 1 && errors[0].contains(needle) && errors[0].contains(run), "\(r.stderr)")
        #expect(try Self.snapshot(run) == before, "a checkpoint changed")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: run).filter { $0.contains(".tmp-") || $0.contains(".old-") }
        #expect(leftovers.isEmpty, "left behind: \(leftovers)")
        _ = try Checkpoint.load(directory: run + "/last")
        _ = try Checkpoint.load(directory: run + "/best")
    }

    @Test func aFullDiskLeavesThePreviousCheckpointIntact() throws {
        let fs = try SmallFilesystem(kilobytes: 400)
        defer { fs.unmount() }
        let run = fs.path + "/run"
        try CLITests.succeed(Self.train(run, steps: 20, resume: false))
        let before = try Self.snapshot(run)
        fs.fill()
        let r = try CLITests.run(Self.train(run, steps: 40, resume: true))
        try Self.expectRefusedCleanly(r, "No space left on device", run: run, before: before)
        // With room again, the same command resumes and finishes.
        fs.removeFiller()
        try CLITests.succeed(Self.train(run, steps: 40, resume: true))
        #expect(try Checkpoint.load(directory: run + "/last").trainingState?.step == 40)
    }

    @Test func aReadOnlyOutputDirectoryLeavesThePreviousCheckpointIntact() throws {
        let fs = try SmallFilesystem(kilobytes: 4096)
        defer { fs.unmount() }
        let run = fs.path + "/run"
        try CLITests.succeed(Self.train(run, steps: 20, resume: false))
        let before = try Self.snapshot(run)
        try fs.remount(readOnly: true)
        let r = try CLITests.run(Self.train(run, steps: 40, resume: true))
        try Self.expectRefusedCleanly(r, "read only", run: run, before: before)
        try fs.remount(readOnly: false)
        try CLITests.succeed(Self.train(run, steps: 40, resume: true))
    }
}

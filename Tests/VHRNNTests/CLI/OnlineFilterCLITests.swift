import Foundation
import Testing
@testable import VHRNN

/// `vhrnn filter` end to end: one JSON line per frame, missing frames, a header, bad rows (one
/// error naming the line, the lines before it kept), and a stream resumed from its state file.
@Suite("CLI: vhrnn filter")
struct OnlineFilterCLITests {
    static func lines(_ r: CLITests.Result) throws -> [[String: Any]] {
        try r.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], "not JSON: \($0)")
        }
    }

    @Test func filtersAStreamAndResumesIt() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let cwd = dir.path
        try CLITests.succeed(["train", "--data", "synthetic:standard", "--steps", "4", "--test-particles", "2",
                              "--out", "run", "--model", "vhrnn", "--json"] + CLITests.tinyModel, in: cwd)
        try dir.write("frames.csv", "x,y\n0.5,-0.25\n1.0,0.75\n\n,\n-0.5,0.125\nnan,NaN\n0.25,0.5\n")
        let out = try Self.lines(CLITests.succeed(["filter", "--checkpoint", "run", "--input", "frames.csv",
                                                   "--particles", "8"], in: cwd))
        #expect(out.count == 6)
        #expect(out.map { $0["step"] as? Int } == [1, 2, 3, 4, 5, 6])
        #expect(out.map { $0["line"] as? Int } == [2, 3, 5, 6, 7, 8])
        #expect(out.map { $0["observed"] as? Bool } == [true, true, false, true, false, true])
        for o in out {
            let lp = try #require(CLITests.number(o, "log_predictive")), ess = try #require(CLITests.number(o, "ess"))
            #expect(lp.isFinite && ess >= 1 && ess <= 8 + 1e-9)
            if o["observed"] as? Bool == false { #expect(lp == 0 && CLITests.number(o, "kl") == 0) }
            #expect((o["mean"] as? [Double])?.count == 2 && (o["variance"] as? [Double])?.allSatisfy { $0 >= 0 } == true)
        }

        // The same stream in two runs through a state file: the second run continues the first.
        try dir.write("first.csv", "0.5,-0.25\n1.0,0.75\n\n,\n")
        try dir.write("second.csv", "-0.5,0.125\nnan,NaN\n0.25,0.5\n")
        let a = try Self.lines(CLITests.succeed(["filter", "--checkpoint", "run", "--input", "first.csv", "--particles", "8",
                                                 "--state", "stream.json"], in: cwd))
        let b = try Self.lines(CLITests.succeed(["filter", "--checkpoint", "run", "--input", "second.csv",
                                                 "--state", "stream.json"], in: cwd))
        #expect((a + b).map { $0["step"] as? Int } == [1, 2, 3, 4, 5, 6])
        #expect((a + b).map { CLITests.number($0, "log_predictive") } == out.map { CLITests.number($0, "log_predictive") })
    }

    @Test func aBadRowStopsWithOneErrorAndKeepsTheStreamSoFar() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let cwd = dir.path
        try CLITests.succeed(["train", "--data", "synthetic:standard", "--steps", "4", "--test-particles", "2",
                              "--out", "run", "--json"] + CLITests.tinyModel, in: cwd)
        let cases: [(text: String, message: String, kept: Int)] = [
            ("0.5,0.25\n1.0,0.75\n0.5\n0.1,0.1\n", "frames.csv line 3: 1 values, the model's frames have 2", 2),
            ("0.5,0.25\n1.0,x\n", "frames.csv line 2, column 2: 'x' is not a number", 1),
            ("0.5,0.25\n1.0,0.5,2\n", "frames.csv line 2: 3 values, the model's frames have 2", 1),
            ("0.5,0.25\n1.0,\n", "frames.csv line 2, column 2: empty or NaN in a frame that is not all missing", 1),
            ("a,b,c\n0.5,0.25\n", "frames.csv line 1: a header of 3 columns, the model's frames have 2", 0),
        ]
        for c in cases {
            try dir.write("frames.csv", c.text)
            try? FileManager.default.removeItem(atPath: dir.file("s.json"))
            let r = try CLITests.run(["filter", "--checkpoint", "run", "--input", "frames.csv", "--particles", "4",
                                      "--state", "s.json"], in: cwd)
            #expect(r.status == 1 && r.exited)
            #expect(r.stderrLines == ["error: " + c.message[...]], "\(r.stderr)")
            #expect(try Self.lines(r).count == c.kept, "\(c.message)")
            #expect(FileManager.default.fileExists(atPath: dir.file("s.json")))
        }
        try CLITests.fail(["filter", "--checkpoint", "run", "--bound", "elbo"], mentioning: "iwae or fivo", in: cwd)
        try CLITests.fail(["filter", "--checkpoint", "nowhere"], mentioning: "nowhere", in: cwd)
    }
}

import Foundation
import Testing
@testable import VHRNN

/// `vhrnn forecast` and `vhrnn detect` end to end: a forecast of a file prefix and of a data
/// sequence (CSV, JSON and SVG written, the truth beside it), bad input with one clear error,
/// a split's forecast scores against the baselines, alarm thresholds and their use by
/// `vhrnn filter --alarms`.
@Suite("CLI: vhrnn forecast and detect")
struct ForecastCLITests {
    static func trained(in dir: TemporaryDirectory) throws {
        try CLITests.succeed(["train", "--data", "synthetic:standard", "--steps", "4", "--test-particles", "2",
                              "--out", "run", "--model", "vhrnn", "--json"] + CLITests.tinyModel, in: dir.path)
    }

    static func rows(_ text: String) -> [[String]] {
        text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    @Test func forecastsAPrefixAndADataSequence() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Self.trained(in: dir)
        try dir.write("prefix.csv", "x,y\n0.5,-0.25\n1.0,0.75\n,\n-0.5,0.125\n")
        let r = try CLITests.succeed(["forecast", "--checkpoint", "run", "--input", "prefix.csv", "--horizon", "3",
                                      "--paths", "20", "--particles", "8", "--quantiles", "0.1,0.5,0.9", "--sample-paths", "2",
                                      "--out", "fc/", "--json"], in: dir.path)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(object["origin"] as? Int == 4 && object["horizon"] as? Int == 3)
        let quantiles = try #require(object["quantiles"] as? [String: [Double]])
        #expect(Set(quantiles.keys) == ["0.1", "0.5", "0.9"])
        for i in 0..<6 { #expect(quantiles["0.1"]![i] <= quantiles["0.5"]![i] && quantiles["0.5"]![i] <= quantiles["0.9"]![i]) }
        let csv = Self.rows(try String(contentsOfFile: dir.file("fc/forecast.csv"), encoding: .utf8))
        #expect(csv[0] == ["frame", "dim", "mean", "sd", "q0.1", "q0.5", "q0.9"])
        #expect(csv.dropFirst().map { $0[0] } == ["5", "5", "6", "6", "7", "7"])
        let paths = Self.rows(try String(contentsOfFile: dir.file("fc/forecast-paths.csv"), encoding: .utf8))
        #expect(paths.count == 1 + 2 * 3)
        let svg = try String(contentsOfFile: dir.file("fc/forecast.svg"), encoding: .utf8)
        #expect(svg.contains("class=\"band\"") && svg.contains("forecast origin"))

        // A data sequence: the truth after the origin is written beside the forecast.
        try CLITests.succeed(["forecast", "--checkpoint", "run", "--sequence", "2", "--origin", "30", "--horizon", "4",
                              "--paths", "10", "--particles", "4", "--out", "seq"], in: dir.path)
        let withTruth = Self.rows(try String(contentsOfFile: dir.file("seq.csv"), encoding: .utf8))
        #expect(withTruth[0].last == "truth" && withTruth.count == 1 + 4 * 2)
        let truth = SyntheticData.make().test.targets[2]
        #expect(abs(Double(withTruth[1].last!)! - truth[30 * 2]) <= 1e-5 * max(1, abs(truth[60])))
        #expect(try String(contentsOfFile: dir.file("seq.svg"), encoding: .utf8).contains("data-name=\"truth\""))
    }

    @Test func badForecastInputGetsOneClearError() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Self.trained(in: dir)
        for (text, message) in [("0.5,0.25\n1.0\n", "prefix.csv line 2: 1 values, the model's frames have 2"),
                                ("0.5,0.25\n1.0,abc\n", "prefix.csv line 2, column 2: 'abc' is not a number"),
                                ("0.5,0.25,1\n", "prefix.csv line 1: 3 values, the model's frames have 2"),
                                ("x,y\n", "--input prefix.csv: no frames")] {
            try dir.write("prefix.csv", text)
            let r = try CLITests.run(["forecast", "--checkpoint", "run", "--input", "prefix.csv", "--paths", "4"], in: dir.path)
            #expect(r.status == 1 && r.exited)
            #expect(r.stderrLines == ["error: " + message[...]], "\(r.stderr)")
        }
        try CLITests.fail(["forecast", "--checkpoint", "run"], mentioning: "exactly one of", in: dir.path)
        try CLITests.fail(["forecast", "--checkpoint", "run", "--evaluate", "--quantiles", "0.5,1.5"], mentioning: "'1.5'", in: dir.path)
        try CLITests.fail(["forecast", "--checkpoint", "run", "--evaluate", "--quantiles", "0.9,0.1"], mentioning: "ascending", in: dir.path)
        try CLITests.fail(["forecast", "--checkpoint", "run", "--evaluate", "--horizon", "0"], mentioning: "--horizon", in: dir.path)
        try CLITests.fail(["forecast", "--checkpoint", "run", "--sequence", "999"], mentioning: "out of range", in: dir.path)
        try CLITests.fail(["forecast", "--checkpoint", "run", "--sequence", "0", "--origin", "500"], mentioning: "--origin 500", in: dir.path)
        try CLITests.fail(["forecast", "--checkpoint", "run", "--evaluate", "--warmup", "100"], mentioning: "warm-up", in: dir.path)
    }

    @Test func scoresASplitAgainstTheBaselines() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Self.trained(in: dir)
        let r = try CLITests.succeed(["forecast", "--checkpoint", "run", "--evaluate", "--split", "valid", "--horizon", "2",
                                      "--paths", "8", "--particles", "4", "--warmup", "90", "--stride", "5", "--out", "eval"],
                                     in: dir.path)
        #expect(r.stdout.contains("last-value") && r.stdout.contains("ar1"))
        let report = try JSONDecoder().decode(ForecastEvaluation.self, from: Data(contentsOf: URL(fileURLWithPath: dir.file("eval.json"))))
        #expect(report.sequences == 100 && report.origins == 2)  // after frames 90 and 95
        #expect(report.forecasters.map(\.name) == ["model", "last-value", "ar1"])
        #expect(report.forecasters.allSatisfy { $0.byStepsAhead.map(\.frames) == [200, 200] })
        let csv = Self.rows(try String(contentsOfFile: dir.file("eval.csv"), encoding: .utf8))
        #expect(csv.count == 1 + 3 * 3)
    }

    @Test func detectCalibratesThresholdsThatFilterRaisesAlarmsWith() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Self.trained(in: dir)
        let r = try CLITests.succeed(["detect", "--checkpoint", "run", "--data", "synthetic:rand", "--particles", "4",
                                      "--quantile", "0.9", "--out", "alarms.json", "--json"], in: dir.path)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let thresholds = try #require(object["thresholds"] as? [String: Any])
        #expect(thresholds["calibrationFrames"] as? Int == 800 * 95)
        let detection = try #require(object["detection"] as? [String: Any])
        let detectors = try #require(detection["detectors"] as? [[String: Any]])
        #expect(detectors.map { $0["score"] as? String } == ["surprise", "kl-rise", "variance-shift"])
        let rand = SyntheticData.makeWithInfo(setting: .rand).info.test.map { $0.switchSteps.filter { $0 >= 5 }.count }
        #expect(detectors.allSatisfy { $0["switches"] as? Int == rand.reduce(0, +) })

        try dir.write("frames.csv", (0..<12).map { t in "\(sin(Double(t))),\(t == 9 ? 40.0 : cos(Double(t)))" }.joined(separator: "\n"))
        let lines = try OnlineFilterCLITests.lines(CLITests.succeed(["filter", "--checkpoint", "run", "--input", "frames.csv",
                                                                     "--particles", "4", "--alarms", "alarms.json"], in: dir.path))
        #expect(lines.count == 12)
        #expect(lines.allSatisfy { $0["surprise"] is Double && $0["kl_rise"] is Double && $0["variance_shift"] is Double
                                   && $0["alarm"] is [String] })
        #expect((lines[9]["alarm"] as? [String])?.contains("surprise") == true, "a frame 40 away is surprising: \(lines[9])")
        #expect(lines.prefix(5).allSatisfy { ($0["alarm"] as? [String])?.isEmpty == true })  // the warm-up
        try dir.write("bad.json", "{\"thresholds\": {\"quantile\": 0.9}}")
        try CLITests.fail(["filter", "--checkpoint", "run", "--input", "frames.csv", "--alarms", "bad.json"],
                          mentioning: "--alarms bad.json", in: dir.path)
        try CLITests.fail(["detect", "--checkpoint", "run", "--quantile", "1"], mentioning: "--quantile", in: dir.path)
    }
}

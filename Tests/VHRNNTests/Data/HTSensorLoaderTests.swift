import Foundation
import Testing
@testable import VHRNN

@Suite struct HTSensorLoaderTests {
    /// Real metadata (100 inductions) + generated readings: induction i lasts
    /// 3500 / 4500 / 5500 s for i % 3 = 0 / 1 / 2, sampled every 5 s (sparser than the real
    /// 1 Hz to keep the test fast; the loader takes the nearest sample anyway) -> 1 / 2 / 3
    /// windows, 34 + 66 + 99 = 199 in all.
    static func makeHundred() throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory("ht")
        let meta = try String(contentsOf: try SharedData.url("HT_Sensor_metadata.dat"), encoding: .utf8)
        try dir.write(HTSensorLoader.metadataFile, meta)
        let samples = (0..<100).map { id -> (id: Int, seconds: [Double]) in
            let length = 3500 + 1000 * (id % 3)
            return (id, stride(from: 0, through: length, by: 5).map(Double.init))
        }
        try dir.write(HTSensorLoader.datasetFile, HTSensorFixture.datasetText(samples: samples))
        return dir
    }

    @Test func windowsShapesSplitsAndNormalisation() throws {
        let dir = try Self.makeHundred()
        defer { dir.remove() }
        let meta = try HTSensorLoader.readMetadata(path: dir.file(HTSensorLoader.metadataFile))
        #expect(meta.count == 100 && meta[0] == .init(id: 0, date: "07-04-15", label: "banana", t0: 13.49, dt: 1.64))
        let (ds, windows) = try HTSensorLoader.loadWithWindows(directory: dir.path)
        #expect(ds.name == "ht-sensor" && ds.kind == .real && ds.dataDim == 11)
        #expect(ds.train.count + ds.valid.count + ds.test.count == 199)
        for s in SplitName.allCases {
            let split = ds.split(s)
            #expect((0..<split.count).allSatisfy { split.length(of: $0) == 100 })
            #expect(windows[s]!.count == split.count)
        }
        // Targets: test round(199*74/674) = 22, valid round(199*68/674) = 20, each overshot by
        // at most one induction (3 windows).
        #expect(ds.test.count >= 22 && ds.test.count <= 24)
        #expect(ds.valid.count >= 20 && ds.valid.count <= 22)
        // Whole inductions per split.
        let ids = windows.mapValues { Set($0.map(\.inductionID)) }
        #expect(ids[.train]!.isDisjoint(with: ids[.valid]!) && ids[.train]!.isDisjoint(with: ids[.test]!)
            && ids[.valid]!.isDisjoint(with: ids[.test]!))
        #expect(ids.values.reduce(0) { $0 + $1.count } == 100)
        // Window count per induction follows from its length.
        let perID = Dictionary(grouping: windows.values.flatMap { $0 }, by: \.inductionID).mapValues(\.count)
        #expect((0..<100).allSatisfy { perID[$0] == 1 + $0 % 3 })
        // Windows start at the first sample (-1 h) and every 1000 s after.
        let starts = windows.values.flatMap { $0 }.filter { $0.inductionID == 2 }.map(\.startHours).sorted()
        #expect(zip(starts, [-1.0, -1 + 1000.0 / 3600, -1 + 2000.0 / 3600]).allSatisfy { abs($0 - $1) < 1e-9 })
        let refit = Normalization.fitted(on: ds.train)
        #expect(refit.mean.allSatisfy { abs($0) < 1e-9 } && refit.std.allSatisfy { abs($0 - 1) < 1e-9 })
        #expect(ds.normalization?.mean.count == 11)

        // Same seed, same split; window-level splitting gives exact counts; time optional.
        #expect(try HTSensorLoader.load(directory: dir.path) == ds)
        var options = HTSensorLoader.Options()
        options.splitUnit = .window
        options.includeTime = false
        let byWindow = try HTSensorLoader.load(directory: dir.path, options: options)
        #expect(byWindow.dataDim == 10)
        #expect(byWindow.train.count == 157 && byWindow.valid.count == 20 && byWindow.test.count == 22)
    }

    /// 1 Hz with jitter: each frame must be the sample nearest its target instant, and a
    /// dropout longer than maxGapSeconds drops the windows that need it.
    @Test func nearestSampleResamplingAndGaps() throws {
        let dir = try TemporaryDirectory("ht-exact")
        defer { dir.remove() }
        try dir.write(HTSensorLoader.metadataFile, HTSensorFixture.metadataText(ids: [3, 5]))
        // Sample k at k + jitter (|jitter| <= 0.3 s); R1 holds k so the chosen sample is visible.
        let jittered = (0..<5200).map { Double($0) + 0.3 * sin(Double($0) * 1.7) }
        // Induction 5: same, but samples 4100..<4200 missing (a 100-s dropout).
        let gappy = jittered.enumerated().filter { !(4100..<4200).contains($0.offset) }.map(\.element)
        let text = HTSensorFixture.datasetText(samples: [(3, jittered), (5, gappy)]) { id, c, k, s in
            c == 0 ? s.rounded() : Double(c)
        }
        try dir.write(HTSensorLoader.datasetFile, text)
        var options = HTSensorLoader.Options()
        options.splitUnit = .window
        options.includeTime = false
        let (ds, windows) = try HTSensorLoader.loadWithWindows(directory: dir.path, options: options)
        let all = SplitName.allCases.flatMap { s in zip(ds.split(s).inputs, windows[s]!).map { ($0, $1) } }
        // Induction 3: windows at 0, 1000, 2000 s (2000 + 2999 <= 5199.x); induction 5 loses
        // the windows at 2000 s (needs 4100..4200), keeping 0 and 1000 s.
        #expect(all.filter { $0.1.inductionID == 3 }.count == 3)
        #expect(all.filter { $0.1.inductionID == 5 }.count == 2)
        let norm = try #require(ds.normalization)
        for (seq, w) in all {
            let startSecond = (w.startHours * 3600 + 3600).rounded()
            for j in 0..<100 {
                let r1 = seq[j * 10] * norm.std[0] + norm.mean[0]
                #expect(abs(r1 - (startSecond + 30 * Double(j))) < 1e-6, "window \(w) frame \(j)")
            }
        }
    }

    @Test(arguments: [
        ("id time R1 R2 R3 R4 R5 R6 R7 R8 Temp Humidity\n", "line 1", "expected header"),
        (HTSensorFixture.header + "\n0  -0.5  1  2  3  4  5  6  7  8  9\n", "line 2", "expected 12 fields, found 11"),
        (HTSensorFixture.header + "\n0  -0.5  1  2  3  4  x  6  7  8  9  10\n", "line 2, column R5", "not a number"),
        (HTSensorFixture.header + "\n0  -0.5  1  2  3  4  5  6  7  8  9  10\n42  -0.5  1  2  3  4  5  6  7  8  9  10\n",
         "line 3, column id", "induction 42 is not in"),
        (HTSensorFixture.header + "\n0.5  -0.5  1  2  3  4  5  6  7  8  9  10\n", "line 2, column id", "not an integer id"),
        (HTSensorFixture.header + "\n0  -0.5  1  2  3  4  5  6  7  8  inf  10\n", "line 2, column Temp.", "non-finite"),
        (HTSensorFixture.header + "\n", nil, "induction 0 listed in HT_Sensor_metadata.dat has no readings"),
        ("", nil, "empty file"),
    ] as [(String, String?, String)])
    func malformedDatasetLines(text: String, location: String?, message: String) throws {
        let dir = try TemporaryDirectory("ht-bad")
        defer { dir.remove() }
        try dir.write(HTSensorLoader.metadataFile, HTSensorFixture.metadataText(ids: [0]))
        try dir.write(HTSensorLoader.datasetFile, text)
        let e = #expect(throws: DataFileError.self) { try HTSensorLoader.load(directory: dir.path) }
        #expect(e?.path == dir.file(HTSensorLoader.datasetFile))
        #expect(e?.location == location)
        #expect(e?.message.contains(message) == true, "\(String(describing: e))")
    }

    @Test(arguments: [
        ("id date class t0\n", "line 1", "expected header"),
        ("id\tdate\t\tclass\tt0\tdt\n0\t07-04-15\tbanana\t13.49\n", "line 2", "expected 5 fields"),
        ("id\tdate\t\tclass\tt0\tdt\n0\t07-04-15\tbanana\tnoon\t1.64\n", "line 2, column t0", "not a number"),
        ("id\tdate\t\tclass\tt0\tdt\n0\t07-04-15\tbanana\t1\t1\n0\t07-04-15\twine\t1\t1\n", "line 3", "duplicate induction id 0"),
        ("id\tdate\t\tclass\tt0\tdt\n", nil, "no inductions"),
    ] as [(String, String?, String)])
    func malformedMetadata(text: String, location: String?, message: String) throws {
        let dir = try TemporaryDirectory("ht-meta")
        defer { dir.remove() }
        try dir.write(HTSensorLoader.metadataFile, text)
        let e = #expect(throws: DataFileError.self) { try HTSensorLoader.load(directory: dir.path) }
        #expect(e?.path == dir.file(HTSensorLoader.metadataFile))
        #expect(e?.location == location)
        #expect(e?.message.contains(message) == true, "\(String(describing: e))")
    }

    @Test func missingReadingsFileAndTooShortRecordings() throws {
        let dir = try TemporaryDirectory("ht-missing")
        defer { dir.remove() }
        try dir.write(HTSensorLoader.metadataFile, HTSensorFixture.metadataText(ids: [0]))
        var e = #expect(throws: DataFileError.self) { try HTSensorLoader.load(directory: dir.path) }
        #expect(e?.path == dir.file(HTSensorLoader.datasetFile) && e?.message == "file not found")
        try dir.write(HTSensorLoader.datasetFile,
                      HTSensorFixture.datasetText(samples: [(0, stride(from: 0, through: 2000, by: 10).map(Double.init))]))
        e = #expect(throws: DataFileError.self) { try HTSensorLoader.load(directory: dir.path) }
        #expect(e?.message.contains("no recording is long enough") == true)
    }
}

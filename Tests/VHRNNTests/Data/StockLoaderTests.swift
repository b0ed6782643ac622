import Foundation
import Testing
@testable import VHRNN

@Suite struct StockLoaderTests {
    /// The real file, loaded once and shared by the tests that need it.
    static let real: Result<(path: String, dataset: SequenceDataset), Error> = Result {
        let path = try SharedData.url("sp500_2008_ohlcv.csv").path
        return (path, try StockLoader.load(path: path, seed: 0))
    }

    @Test func realFileSplitsAndShapes() throws {
        let (_, ds) = try Self.real.get()
        #expect(ds.name == "stock" && ds.kind == .real && ds.dataDim == 5)
        #expect(ds.train.count == 345 && ds.valid.count == 50 && ds.test.count == 50)
        for s in SplitName.allCases {
            let split = ds.split(s)
            #expect((0..<split.count).allSatisfy { split.length(of: $0) == 125 })
            #expect(split.inputs.allSatisfy { $0.allSatisfy(\.isFinite) })
        }
        let refit = Normalization.fitted(on: ds.train)
        for j in 0..<5 {
            #expect(abs(refit.mean[j]) < 1e-12, "train mean of feature \(j): \(refit.mean[j])")
            #expect(abs(refit.std[j] - 1) < 1e-12, "train std of feature \(j): \(refit.std[j])")
        }
        let norm = try #require(ds.normalization)
        #expect(norm.std.allSatisfy { $0 > 0 })
    }

    /// Undoes the normalisation and compares with log ratios computed here from the raw rows:
    /// train uses rows 0...125, valid/test rows 125...250.
    @Test func ratiosComeFromTheDocumentedRows() throws {
        let (path, ds) = try Self.real.get()
        let assignment = try StockLoader.tickerAssignment(path: path, seed: 0)
        #expect(Set(assignment[.train]! + assignment[.valid]! + assignment[.test]!).count == 445)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        func rows(_ ticker: String) -> [[Double]] {
            text.split(whereSeparator: \.isNewline).filter  // the file has CRLF line ends
                 { $0.hasPrefix(ticker + ",") }.map { line in
                let f = line.split(separator: ",")
                return [2, 3, 4, 5, 7].map { Double(f[$0])! }
            }
        }
        let norm = try #require(ds.normalization)
        for (split, start) in [(SplitName.train, 0), (.test, 125)] {
            let ticker = assignment[split]![0]
            let raw = rows(ticker)
            try #require(raw.count == 254)
            let seq = ds.split(split).inputs[0]
            for t in [0, 1, 124] {
                for j in 0..<5 {
                    let expected = log(raw[start + t + 1][j] / raw[start + t][j])
                    let got = seq[t * 5 + j] * norm.std[j] + norm.mean[j]
                    #expect(abs(got - expected) < 1e-9, "\(ticker) t=\(t) feature \(j)")
                }
            }
        }
    }

    @Test func assignmentIsSeeded() throws {
        let (path, _) = try Self.real.get()
        let a = try StockLoader.tickerAssignment(path: path, seed: 0)
        let b = try StockLoader.tickerAssignment(path: path, seed: 0)
        let c = try StockLoader.tickerAssignment(path: path, seed: 1)
        #expect(a == b)
        #expect(a[.train] != c[.train])
        #expect(Set(a[.train]!).isDisjoint(with: a[.test]!) && Set(a[.valid]!).isDisjoint(with: a[.test]!))
    }

    /// The shared file's recording errors: exactly WBA's twelve (open and low on six days),
    /// WBA is a training ticker, and `repairBadTicks` changes WBA's training sequence only,
    /// bringing its largest normalised value from about 70 down into the range of the others.
    @Test func realFileBadTicksAreWBAsAndRepairTouchesOnlyThem() throws {
        let (path, ds) = try Self.real.get()
        let ticks = try StockLoader.badTicks(path: path)
        #expect(ticks.count == 12, "\(ticks)")
        #expect(ticks.allSatisfy { $0.ticker == "WBA" && ["open", "low"].contains($0.field) && $0.value < 2.5 && $0.close > 24 })
        #expect(Set(ticks.map(\.date)) == ["2008-01-22", "2008-02-19", "2008-05-27", "2008-07-07", "2008-09-02", "2008-11-28"])
        #expect(ticks.contains { $0.line == 110271 && $0.field == "open" && $0.value == 2.4 })

        let train = try StockLoader.tickerAssignment(path: path, seed: 0)[.train]!
        let wba = try #require(train.firstIndex(of: "WBA"))
        let repaired = try DataSource(parsing: "stock-repaired:\(path)").load(seed: 0)
        #expect(repaired.name == "stock-repaired")
        let maxAbs = { (x: [Double]) in x.map(abs).max()! }
        #expect(maxAbs(ds.train.inputs[wba]) > 60, "as published WBA carries the ~70-sd ratios")
        // Undo the published normalisation and reapply the repaired one: every other training
        // sequence is the same series, and so are the valid and test splits.
        let (n0, n1) = (try #require(ds.normalization), try #require(repaired.normalization))
        func raw(_ x: [Double], _ n: Normalization) -> [Double] { x.indices.map { x[$0] * n.std[$0 % 5] + n.mean[$0 % 5] } }
        for i in train.indices where i != wba {
            let (a, b) = (raw(ds.train.inputs[i], n0), raw(repaired.train.inputs[i], n1))
            #expect(zip(a, b).allSatisfy { abs($0 - $1) < 1e-9 }, "\(train[i])")
        }
        #expect(raw(ds.test.inputs[0], n0).indices.allSatisfy { abs(raw(ds.test.inputs[0], n0)[$0] - raw(repaired.test.inputs[0], n1)[$0]) < 1e-9 })
        let others = repaired.train.inputs.indices.filter { $0 != wba }.map { maxAbs(repaired.train.inputs[$0]) }.max()!
        #expect(maxAbs(repaired.train.inputs[wba]) <= others, "repaired WBA \(maxAbs(repaired.train.inputs[wba])), others up to \(others)")
        #expect(try DataSource(parsing: "stock-repaired:x.csv") == .stockRepaired("x.csv"))
        #expect(DataSource.stockRepaired("x.csv").description == "stock-repaired:x.csv")
    }

    /// The rule on a made-up ticker: a low 6× below both closes is a bad tick and is repaired
    /// to the close; a high 4× above (within the factor) and a low 6× below today's close but
    /// near yesterday's (a genuine gap) are not.
    @Test func badTickRuleAndRepair() throws {
        let dir = try TemporaryDirectory("stock")
        defer { dir.remove() }
        var lines = Self.block("A").split(separator: "\n").map(String.init)
        lines[10] = "A,2008-010,11,12,1.8,11,11,1010"     // low 1.8, closes 11 and 13 (row 9): bad
        lines[20] = "A,2008-020,16,60,15,16,16,1020"      // high 60 = 3.75 x close: kept
        lines[30] = "A,2008-030,60,60,11,60,60,1030"      // close jumps to 60; low 11 = yesterday's close: kept
        try dir.write("a.csv", Self.header + lines.joined(separator: "\n") + "\n")
        let ticks = try StockLoader.badTicks(path: dir.file("a.csv"))
        #expect(ticks == [StockLoader.BadTick(ticker: "A", date: "2008-010", line: 12, field: "low", value: 1.8, close: 11)])
        var tickers = try StockLoader.readTickers(path: dir.file("a.csv"))
        #expect(StockLoader.badTickPositions(tickers[0]).map { [$0.row, $0.feature] } == [[10, 2]])
        StockLoader.repairBadTicks(&tickers[0])
        #expect(tickers[0].values[10 * 5 + 2] == 11 && StockLoader.badTickPositions(tickers[0]).isEmpty)
    }

    static let header = "ticker,date,open,high,low,close,adj_close,volume\n"

    /// A well-formed ticker block of 254 rows.
    static func block(_ ticker: String, volumeAt zeroRow: Int? = nil) -> String {
        var s = ""
        for i in 0..<254 {
            let date = String(format: "2008-%03d", i)
            let v = 10 + Double(i % 7)
            s += "\(ticker),\(date),\(v),\(v + 1),\(v - 1),\(v),\(v),\(i == zeroRow ? 0 : 1000 + i)\n"
        }
        return s
    }

    @Test(arguments: [
        ("ticker,date,open,high,low,close,volume\n", "line 1", "expected header"),
        (header + "A,2008-01-01,1,2,x,4,5,6\n", "line 2, column low", "not a number: \"x\""),
        (header + "A,2008-01-01,1,2,3,4,5\n", "line 2", "expected 8 fields"),
        (header + "A,2008-01-01,1,2,3,4,5,6\nA,2008-01-02,1,2,3,4,5,6\n", "line 2", "ticker A has 2 rows, expected 254"),
        (header + "A,2008-01-02,1,2,3,4,5,6\nA,2008-01-01,1,2,3,4,5,6\n", "line 3, column date", "does not follow"),
        ("", nil, "empty file"),
        (header, nil, "no data rows"),
    ] as [(String, String?, String)])
    func malformedFilesNameLineAndColumn(text: String, location: String?, message: String) throws {
        let dir = try TemporaryDirectory("stock")
        defer { dir.remove() }
        try dir.write("s.csv", text)
        let error = #expect(throws: DataFileError.self) { try StockLoader.load(path: dir.file("s.csv")) }
        #expect(error?.path == dir.file("s.csv"))
        #expect(error?.location == location)
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }

    @Test func missingFileTooFewTickersAndNonContiguousRows() throws {
        let dir = try TemporaryDirectory("stock")
        defer { dir.remove() }
        var e = #expect(throws: DataFileError.self) { try StockLoader.load(path: dir.file("none.csv")) }
        #expect(e?.message == "file not found")
        try dir.write("two.csv", Self.header + Self.block("A") + Self.block("B"))
        e = #expect(throws: DataFileError.self) { try StockLoader.load(path: dir.file("two.csv")) }
        #expect(e?.message.contains("2 tickers, need at least 445") == true)
        try dir.write("split.csv", Self.header + Self.block("A") + Self.block("B") + Self.block("A"))
        e = #expect(throws: DataFileError.self) { try StockLoader.load(path: dir.file("split.csv")) }
        #expect(e?.location == "line 510" && e?.message.contains("not contiguous") == true)
    }

    @Test func zeroVolumeNamesTickerAndDate() throws {
        let dir = try TemporaryDirectory("stock")
        defer { dir.remove() }
        try dir.write("z.csv", Self.header + Self.block("ZZ", volumeAt: 130))
        let tickers = try StockLoader.readTickers(path: dir.file("z.csv"))
        _ = try StockLoader.logRatios(tickers[0], startRow: 0, path: dir.file("z.csv"))  // rows 0...125 fine
        let e = #expect(throws: DataFileError.self) {
            try StockLoader.logRatios(tickers[0], startRow: 125, path: dir.file("z.csv"))
        }
        #expect(e?.location == "line 132, column volume")
        #expect(e?.message.contains("ticker ZZ on 2008-130") == true)
    }
}

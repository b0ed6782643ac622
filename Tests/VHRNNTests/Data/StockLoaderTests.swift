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

import Foundation
import Testing
@testable import VHRNN

@Suite struct CSVSequenceLoaderTests {
    /// Ten sequences "s0".."s9", rows shuffled across sequences and out of step order;
    /// sequence i has i + 2 frames with a = 100 i + step, b = -step, and a text column.
    static func longTable(withSplit: Bool = false) -> String {
        var rows: [String] = []
        for i in [3, 7, 0, 9, 1, 5, 2, 8, 4, 6] {
            for step in (0..<(i + 2)).reversed() {
                let split = i < 7 ? "train" : i < 9 ? "Valid" : "TEST"
                rows.append("s\(i),\(step),\(100 * i + step),\(-step),note" + (withSplit ? ",\(split)" : ""))
            }
        }
        // Interleave sequences so rows of one sequence are not contiguous.
        let interleaved = rows.enumerated().sorted { ($0.offset % 3, $0.offset) < ($1.offset % 3, $1.offset) }.map(\.element)
        return "sequence,step,a,b,comment" + (withSplit ? ",split" : "") + "\n" + interleaved.joined(separator: "\n") + "\n"
    }

    static func raw() -> CSVSequenceLoader.Options {
        var o = CSVSequenceLoader.Options()
        o.normalize = false
        o.featureColumns = ["a", "b"]
        return o
    }

    @Test func longTableOrdersFramesAndSplitsByFraction() throws {
        let dir = try TemporaryDirectory("csv")
        defer { dir.remove() }
        try dir.write("table.csv", Self.longTable())
        let (ds, ids) = try CSVSequenceLoader.loadWithIDs(path: dir.file("table.csv"), options: Self.raw())
        #expect(ds.name == "table" && ds.kind == .real && ds.dataDim == 2 && ds.normalization == nil)
        #expect(ds.train.count == 8 && ds.valid.count == 1 && ds.test.count == 1)
        #expect(Set(ids.values.flatMap { $0 }) == Set((0..<10).map { "s\($0)" }))
        for s in SplitName.allCases {
            for (seq, id) in zip(ds.split(s).inputs, ids[s]!) {
                let i = Double(Int(id.dropFirst())!)
                let steps = seq.count / 2
                #expect(steps == Int(i) + 2)
                #expect((0..<steps).allSatisfy { seq[2 * $0] == 100 * i + Double($0) && seq[2 * $0 + 1] == -Double($0) })
            }
        }
        // Within a split, file order (order of first appearance) is kept.
        var firstSeen: [String] = []
        for line in Self.longTable().split(separator: "\n").dropFirst() {
            let id = String(line.split(separator: ",")[0])
            if !firstSeen.contains(id) { firstSeen.append(id) }
        }
        #expect(firstSeen != (0..<10).map { "s\($0)" })  // the fixture really is interleaved
        let train = ids[.train]!
        #expect(train == firstSeen.filter(train.contains))
        // Seeded: same seed same split, another seed (usually) another.
        #expect(try CSVSequenceLoader.loadWithIDs(path: dir.file("table.csv"), options: Self.raw()).ids == ids)
        var other = Self.raw()
        other.seed = 5
        #expect(try CSVSequenceLoader.loadWithIDs(path: dir.file("table.csv"), options: other).ids != ids)
    }

    @Test func splitColumnDecidesAndNormalisationIsFittedOnTrain() throws {
        let dir = try TemporaryDirectory("csv")
        defer { dir.remove() }
        try dir.write("t.csv", Self.longTable(withSplit: true))
        var options = CSVSequenceLoader.Options()
        options.featureColumns = ["a", "b"]
        let (ds, ids) = try CSVSequenceLoader.loadWithIDs(path: dir.file("t.csv"), options: options)
        #expect(Set(ids[.train]!) == Set((0..<7).map { "s\($0)" }))
        #expect(Set(ids[.valid]!) == ["s7", "s8"] && ids[.test]! == ["s9"])
        let refit = Normalization.fitted(on: ds.train)
        #expect(refit.mean.allSatisfy { abs($0) < 1e-12 } && refit.std.allSatisfy { abs($0 - 1) < 1e-12 })
        let norm = try #require(ds.normalization)
        // Test data use the training statistics: s9 step 0 has a = 900.
        #expect(abs(ds.test.inputs[0][0] * norm.std[0] + norm.mean[0] - 900) < 1e-9)
    }

    @Test func constantFeatureGetsUnitStd() throws {
        let dir = try TemporaryDirectory("csv")
        defer { dir.remove() }
        try dir.write("c.csv", "sequence,x,y\n" + (0..<20).map { "q\($0 % 5),\($0),7" }.joined(separator: "\n"))
        let ds = try CSVSequenceLoader.load(path: dir.file("c.csv"))
        #expect(ds.normalization?.std[1] == 1 && ds.normalization?.mean[1] == 7)
        #expect(ds.train.inputs.allSatisfy { seq in stride(from: 1, to: seq.count, by: 2).allSatisfy { seq[$0] == 0 } })
        #expect(ds.train.count + ds.valid.count + ds.test.count == 5)
        #expect(ds.valid.count == 1 && ds.test.count == 1)
    }

    @Test func directoryOfFiles() throws {
        let dir = try TemporaryDirectory("csvdir")
        defer { dir.remove() }
        for i in 0..<4 {
            // Steps written backwards: the step column restores order.
            let rows = (0..<(3 + i)).reversed().map { "\($0),\(Double(i) + 0.5 * Double($0)),\(i)" }
            try dir.write("run\(i).csv", "step,p,q\n" + rows.joined(separator: "\r\n") + "\r\n")
        }
        try dir.write("notes.txt", "ignored")
        var options = CSVSequenceLoader.Options()
        options.normalize = false
        options.name = "runs"
        let (ds, ids) = try CSVSequenceLoader.loadWithIDs(path: dir.path, options: options)
        #expect(ds.name == "runs" && ds.dataDim == 2)
        #expect(ds.train.count == 2 && ds.valid.count == 1 && ds.test.count == 1)
        for s in SplitName.allCases {
            for (seq, id) in zip(ds.split(s).inputs, ids[s]!) {
                let i = Double(Int(id.dropFirst(3))!)
                #expect(seq.count == 2 * (3 + Int(i)))
                #expect(seq[0] == i && seq[2] == i + 0.5 && seq[1] == i)
            }
        }
    }

    @Test(arguments: [
        ("", nil, "empty file"),
        ("sequence,a\n", nil, "no sequences"),
        ("sequence,a,b\ns,1,2\ns,3\n", "line 3", "expected 3 fields, found 2"),
        ("sequence,a,b\ns,1,2\ns,3,x\n", "line 3, column b", "not a number: \"x\""),
        ("sequence,a,b\ns,1,\n", "line 2, column b", "empty field"),
        ("sequence,a,b\ns,1,NaN\n", "line 2, column b", "non-finite"),
        ("sequence,a,b\ns,inf,1\n", "line 2, column a", "non-finite"),
        ("id,a\ns,1\n", "line 1", "no sequence-id column \"sequence\""),
        ("sequence,step,a\ns,0,1\ns,1,2\ns,0,3\n", "line 4", "step 0.0 repeats line 2"),
        ("sequence,a,split\ns,1,train\nt,1,holdout\n", "line 3, column split", "unknown split \"holdout\""),
        ("sequence,a,split\ns,1,train\ns,1,test\n", "line 3, column split", "is in split train on line 2 but test"),
        ("sequence,a,split\ns,1,test\n", nil, "no training sequences"),
        ("sequence,a,a\ns,1,2\n", "line 1", "duplicate column"),
        ("sequence\ns\n", "line 1", "no feature columns"),
        // A hostile value is quoted as a short excerpt, not in full.
        ("sequence,a\ns," + String(repeating: "9", count: 1_000_000) + "x\n", "line 2, column a",
         "not a number: \"" + String(repeating: "9", count: 40) + "… (1000001 characters)\""),
        ("id," + String(repeating: "b", count: 3000) + "\ns,1\n", "line 1", "characters)"),
    ] as [(String, String?, String)])
    func longTableErrors(text: String, location: String?, message: String) throws {
        let dir = try TemporaryDirectory("csv-bad")
        defer { dir.remove() }
        try dir.write("bad.csv", text)
        let e = #expect(throws: DataFileError.self) { try CSVSequenceLoader.load(path: dir.file("bad.csv")) }
        #expect(e?.path == dir.file("bad.csv"))
        #expect(e?.location == location)
        #expect(e?.message.contains(message) == true, "\(String(describing: e?.description.prefix(300)))")
        #expect((e?.description.count ?? 0) < 1000, "an error message must be short")
    }

    @Test func directoryErrors() throws {
        let dir = try TemporaryDirectory("csvdir-bad")
        defer { dir.remove() }
        var e = #expect(throws: DataFileError.self) { try CSVSequenceLoader.load(path: dir.path) }
        #expect(e?.path == dir.path && e?.message.contains("no sequences") == true)
        try dir.write("a.csv", "x,y\n1,2\n3,4\n")
        try dir.write("b.csv", "x,y\n")
        e = #expect(throws: DataFileError.self) { try CSVSequenceLoader.load(path: dir.path) }
        #expect(e?.path == dir.file("b.csv") && e?.message.contains("length 0") == true)
        try dir.write("b.csv", "x,z\n1,2\n")
        e = #expect(throws: DataFileError.self) { try CSVSequenceLoader.load(path: dir.path) }
        #expect(e?.path == dir.file("b.csv") && e?.location == "line 1" && e?.message.contains("differ") == true)
        try dir.write("b.csv", "")
        e = #expect(throws: DataFileError.self) { try CSVSequenceLoader.load(path: dir.path) }
        #expect(e?.path == dir.file("b.csv") && e?.message == "empty file")
        e = #expect(throws: DataFileError.self) { try CSVSequenceLoader.load(path: dir.file("nope.csv")) }
        #expect(e?.message == "file not found")
    }
}

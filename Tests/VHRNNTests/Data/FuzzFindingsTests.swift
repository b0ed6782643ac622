import Foundation
import Testing
@testable import VHRNN

/// Regression tests for what `make fuzz` (scripts/fuzz.sh) found; each names its target and
/// the input that exposed it.
@Suite struct FuzzFindingsTests {
    /// data-source, input "s\nnthet\u{E5}ic": the error quoted the value with its newline, so a
    /// one-line error became two. Control characters in quoted values are now escaped.
    @Test func quotedValuesWithControlCharactersStayOnOneLine() {
        let e = #expect(throws: DataSourceError.self) { try DataSource(parsing: "s\nnthet\u{E5}ic") }
        #expect(e?.description.contains("s\\u{a}nthet\u{E5}ic") == true, "\(e?.description ?? "")")
        #expect(e?.description.contains("\n") == false)
        let f = DataFileError(path: "x.csv", location: "line 2, column \"a\tb\"", message: "not a number: \"1\r\n2\u{0}\"")
        #expect(!f.description.contains(where: { $0.isNewline }))
        #expect(f.description.contains(#""1\u{d}\u{a}2\u{0}""#), "\(f.description)")
        #expect(f.location == #"line 2, column "a\u{9}b""#)
        #expect(DataFileError.excerpt(String(repeating: "\n", count: 100), limit: 10) == #"\u{a}\u{a}"# + "… (500 characters)")
        #expect(DataFileError.oneLine("a\u{2028}b") == #"a\u{2028}b"#)
    }

    /// csv-table, csv-folder, stock, ht-sensor, tf-checkpoint, synthetic-folder, experiment-spec,
    /// claims, checkpoint-config: an empty file. Foundation's whole-file read leaked a 4 KiB
    /// buffer for it (LeakSanitizer); every reader now reads through `FileBytes`. The leak is
    /// LeakSanitizer's to see; here every reader refuses the empty file with a short error
    /// naming it.
    @Test func everyReaderRefusesAnEmptyFileNamingIt() throws {
        let dir = try TemporaryDirectory("fuzz-findings")
        defer { dir.remove() }
        try dir.write("empty", "")
        let empty = dir.file("empty")
        let readers: [(String, () throws -> Void)] = [
            ("csv", { _ = try CSVSequenceLoader.load(path: empty) }),
            ("stock", { _ = try StockLoader.load(path: empty) }),
            ("pickle", { _ = try PianoRollLoader.load(path: empty) }),
            ("safetensors", { _ = try SafeTensorsFile.read(path: empty) }),
            ("spec", { _ = try ExperimentSpec.load(path: empty) }),
            ("claims", { _ = try ClaimSet.load(path: empty, specs: []) }),
            ("ht metadata", { _ = try HTSensorLoader.readMetadata(path: empty) }),
        ]
        for (label, read) in readers {
            do {
                try read()
                Issue.record("\(label): accepted an empty file")
            } catch {
                let text = String(describing: error)
                #expect(text.contains(empty), "\(label): \(text)")
                #expect(!text.contains("\n") && text.count < 300, "\(label): \(text)")
            }
        }
        // The shared reader's own refusals.
        #expect(try FileBytes.read(path: empty) == [])
        #expect(throws: DataFileError(path: dir.file("none"), message: "file not found")) { try FileBytes.read(path: dir.file("none")) }
        #expect(throws: DataFileError(path: dir.path, message: "is a directory, expected a file")) { try FileBytes.read(path: dir.path) }
        #expect(throws: DataFileError(path: "/dev/null", message: "is not a regular file")) { try FileBytes.read(path: "/dev/null") }
        try dir.write("tf.index", "")
        #expect(throws: TensorFlowCheckpointError.self) { try TensorFlowCheckpoint(prefix: dir.file("tf")) }
    }

    /// pickle: a STACK_GLOBAL whose module name holds a newline ("numpy\n_O"): the
    /// PickleError quoted it raw over two lines. Its message is now escaped and bounded.
    @Test func pickleErrorsQuotingNamesStayOnOneLine() {
        let bytes: [UInt8] = [0x80, 4, 0x8C, 8] + Array("numpy\n_O".utf8) + [0x8C, 1, UInt8(ascii: "x"), 0x93, UInt8(ascii: ".")]
        let e = #expect(throws: PickleError.self) { try SafePickleReader.parse(bytes) }
        #expect(e?.description.contains("\n") == false, "\(e?.description ?? "")")
        #expect(e?.description.contains(#"numpy\u{a}_O"#) == true, "\(e?.description ?? "")")
        let long = PickleError(opcode: "GLOBAL", opcodeByte: nil, offset: 0, message: String(repeating: "y", count: 100_000))
        #expect(long.description.count < 700)
    }

    /// ht-sensor: one reading at −99861111 h stretched an induction over 3.6e11 s, and the
    /// windowing walked all 1.8e10 window starts in between (a timeout). It now jumps over the
    /// starts that must fail, so its work is bounded by the readings. (Such a time is now
    /// refused outright, below; −999999 h, just inside the bound, still spans 3.6e9 s — 1.8e8
    /// window starts without the jump.)
    @Test(.timeLimit(.minutes(1))) func aHugeTimeSpanDoesNotHang() throws {
        let dir = try TemporaryDirectory("fuzz-ht")
        defer { dir.remove() }
        try dir.write(HTSensorLoader.metadataFile, HTSensorFixture.metadataText(ids: [0, 1]))
        let dense = (0..<12).map { Double($0) * 5 + 3600 }
        var text = HTSensorFixture.datasetText(samples: [(0, dense), (1, dense)])
        // Induction 1's first reading moved to −999999 h (the fixture writes hours − 1).
        let first = String(format: "%.8f", (dense[0] - 3600) / 3600)
        text = text.replacingOccurrences(of: "1  " + first, with: "1  -999999")
        try dir.write(HTSensorLoader.datasetFile, text)
        var options = HTSensorLoader.Options()
        options.windowSeconds = 40
        options.strideSeconds = 20
        options.downsample = 4
        let (_, windows) = try HTSensorLoader.loadWithWindows(directory: dir.path, options: options)
        let all = windows.values.flatMap { $0 }
        #expect(all.contains { $0.inductionID == 0 } && all.contains { $0.inductionID == 1 })
    }

    /// ht-sensor (rerun after the fix above): a reading at −1e122 h. Adding a 20-s stride to
    /// −3.6e125 s changes nothing in Double, so every window started at the same instant, every
    /// frame found that one reading, and windows were appended until memory ran out. Times
    /// beyond ±1e6 h are now refused, naming the line.
    @Test(.timeLimit(.minutes(1))) func anAstronomicalTimestampIsRefused() throws {
        let dir = try TemporaryDirectory("fuzz-ht")
        defer { dir.remove() }
        try dir.write(HTSensorLoader.metadataFile, HTSensorFixture.metadataText(ids: [3]))
        let dense = (0..<12).map { Double($0) * 5 + 3600 }
        let first = String(format: "%.8f", (dense[0] - 3600) / 3600)
        let text = HTSensorFixture.datasetText(samples: [(3, dense)]).replacingOccurrences(of: "3  " + first, with: "3  -1e+122")
        try dir.write(HTSensorLoader.datasetFile, text)
        let e = #expect(throws: DataFileError.self) { try HTSensorLoader.load(directory: dir.path) }
        #expect(e?.location == "line 2, column time" && e?.message.contains("outside") == true, "\(e?.description ?? "")")
    }
}

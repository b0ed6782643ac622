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
        #expect(e?.description.contains("s\\nnthet\u{E5}ic") == true, "\(e?.description ?? "")")
        #expect(e?.description.contains("\n") == false)
        let f = DataFileError(path: "x.csv", location: "line 2, column \"a\tb\"", message: "not a number: \"1\r\n2\u{0}\"")
        #expect(!f.description.contains(where: { $0.isNewline }))
        #expect(f.description.contains(#""1\r\n2\0""#), "\(f.description)")
        #expect(f.location == #"line 2, column "a\tb""#)
        #expect(DataFileError.excerpt(String(repeating: "\n", count: 100), limit: 10) == String(repeating: "\\n", count: 5) + "… (200 characters)")
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
}

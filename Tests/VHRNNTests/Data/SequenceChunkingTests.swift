import Foundation
import Testing
@testable import VHRNN

/// Chunked piano rolls as the FIVO reference trains on them (`pianoroll-chunks:100:PATH`).
/// Counts checked against Python: sum over songs of ceil(length / 100).
@Suite("Sequence chunking")
struct SequenceChunkingTests {
    @Test func chunksAreConsecutiveAndKeepEveryFrame() {
        let split = SequenceSplit(dataDim: 2, inputs: [(0..<10).map(Double.init), (0..<4).map(Double.init)],
                                  targets: [(0..<10).map { Double($0) + 100 }, (0..<4).map { Double($0) + 100 }])
        let chunked = split.chunked(maxLength: 2)
        // 5 steps -> chunks of 2, 2, 1; 2 steps -> one chunk
        #expect(chunked.count == 4)
        #expect(chunked.inputs == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9], [0, 1, 2, 3]])
        #expect(chunked.targets[2] == [108, 109])
        #expect(chunked.totalSteps == split.totalSteps)
        #expect(split.chunked(maxLength: 100) == split)
    }

    @Test("real pickles chunk into FIVO's trunc_ splits", arguments: [
        ("JSB_Chorales.pickle", [243, 83, 84], 4725),
        ("Nottingham.pickle", [1994, 513, 499], 44463),
    ])
    func realPickles(_ file: String, _ counts: [Int], _ testSteps: Int) throws {
        let path = try SharedData.url(file).path
        let source = try DataSource(parsing: "pianoroll-chunks:100:\(path)")
        #expect(source.description == "pianoroll-chunks:100:\(path)")
        let chunked = try source.load()
        let whole = try PianoRollLoader.load(path: path)
        #expect([chunked.train.count, chunked.valid.count, chunked.test.count] == counts)
        #expect(chunked.test.totalSteps == testSteps && chunked.test.maxLength == 100)
        #expect(chunked.trainFrameMean == whole.trainFrameMean)
        #expect(chunked.train.totalSteps == whole.train.totalSteps)
    }

    @Test func badChunkSpellingsAreRefused() {
        for text in ["pianoroll-chunks:", "pianoroll-chunks:100", "pianoroll-chunks:0:x.pickle",
                     "pianoroll-chunks:abc:x.pickle", "pianoroll-chunks:100:"] {
            #expect(throws: DataSourceError.self, "\(text)") { try DataSource(parsing: text) }
        }
    }
}

import Foundation
import Testing
@testable import VHRNN

/// `PianoRollLoader` on the four real pickles (facts from /work/shared/data/README.md, checked
/// against Python's own unpickler) and on small fixtures for its error paths.
@Suite("Piano-roll loader")
struct PianoRollLoaderTests {
    struct RealFile: Sendable, CustomTestStringConvertible {
        var file: String
        var counts: (train: Int, valid: Int, test: Int)
        var lengths: ClosedRange<Int>
        var notes: ClosedRange<Int>
        var maxSimultaneous: Int
        var trainFrames: Int
        /// Sum over keys of the training frame mean = mean notes sounding per training frame.
        var meanNotesPerFrame: Double
        var testDescription: String { file }
    }

    static let realFiles: [RealFile] = [
        RealFile(file: "JSB_Chorales.pickle", counts: (229, 76, 77), lengths: 25...160, notes: 43...96,
                 maxSimultaneous: 4, trainFrames: 13807, meanNotesPerFrame: 3.8983124502064173),
        RealFile(file: "Piano-midi.de.pickle", counts: (87, 12, 25), lengths: 65...3857, notes: 21...108,
                 maxSimultaneous: 12, trainFrames: 75911, meanNotesPerFrame: 3.0442096665832357),
        RealFile(file: "Nottingham.pickle", counts: (694, 173, 170), lengths: 40...1793, notes: 31...93,
                 maxSimultaneous: 9, trainFrames: 176561, meanNotesPerFrame: 3.961254184106343),
        RealFile(file: "MuseData.pickle", counts: (524, 135, 124), lengths: 9...4273, notes: 21...105,
                 maxSimultaneous: 15, trainFrames: 245202, meanNotesPerFrame: 3.4932137584522147),
    ]

    @Test("real pickles load with the published split sizes, lengths and note ranges", arguments: realFiles)
    func realFile(_ item: RealFile) throws {
        let path = try SharedData.url(item.file).path
        let clock = ContinuousClock()
        var loaded: SequenceDataset?
        let elapsed = try clock.measure { loaded = try PianoRollLoader.load(path: path) }
        let dataset = try #require(loaded)
        print("\(item.file): loaded in \(elapsed)")

        #expect(dataset.name == String(item.file.dropLast(".pickle".count)))
        #expect(dataset.kind == .binary)
        #expect(dataset.dataDim == 88)
        #expect(dataset.train.count == item.counts.train)
        #expect(dataset.valid.count == item.counts.valid)
        #expect(dataset.test.count == item.counts.test)
        #expect(dataset.train.totalSteps == item.trainFrames)

        var lengths: [Int] = []
        var lowest = Int.max, highest = Int.min, mostAtOnce = 0
        for split in SplitName.allCases {
            let data = dataset.split(split)
            #expect(data.dataDim == 88)
            for index in 0..<data.count {
                lengths.append(data.length(of: index))
                let roll = data.targets[index]
                for step in 0..<data.length(of: index) {
                    var sounding = 0
                    for key in 0..<88 where roll[step * 88 + key] != 0 {
                        #expect(roll[step * 88 + key] == 1)
                        sounding += 1
                        lowest = min(lowest, key + 21)
                        highest = max(highest, key + 21)
                    }
                    mostAtOnce = max(mostAtOnce, sounding)
                }
            }
        }
        #expect(lengths.min() == item.lengths.lowerBound)
        #expect(lengths.max() == item.lengths.upperBound)
        #expect(lowest == item.notes.lowerBound)
        #expect(highest == item.notes.upperBound)
        #expect(mostAtOnce == item.maxSimultaneous)

        let mean = try #require(dataset.trainFrameMean)
        #expect(mean.count == 88)
        #expect(mean.allSatisfy { (0...1).contains($0) })
        #expect(abs(mean.reduce(0, +) - item.meanNotesPerFrame) < 1e-9)
        // Inputs are the targets centred by the training mean (checked on a few sequences of
        // each split; the loader computes every sequence the same way).
        for split in SplitName.allCases {
            let data = dataset.split(split)
            for index in [0, data.count / 2, data.count - 1] {
                let inputs = data.inputs[index], targets = data.targets[index]
                #expect(inputs.count == targets.count)
                #expect(inputs.indices.allSatisfy { inputs[$0] == targets[$0] - mean[$0 % 88] })
            }
        }
    }

    @Test("the training mean is computed over training frames only")
    func meanFromTrainingOnly() throws {
        typealias V = PickleFixtureWriter.Value
        let value: V = .dict([
            (.py2str("train"), .list([.list([.tuple([.numpyInt64(60), .numpyInt64(64)]), .tuple([.numpyInt64(60)])]),
                                      .list([.tuple([])])])),
            (.py2str("valid"), .list([.list([.tuple([.numpyInt64(21)])])])),
            (.py2str("test"), .list([.list([.tuple([.numpyInt64(108)]), .tuple([.numpyInt64(108)])])])),
        ])
        for proto in 2...5 {
            let dataset = try PianoRollLoader.load(pickle: PickleFixtureWriter.pickle(value, protocol: proto), name: "tiny")
            var expectedMean = [Double](repeating: 0, count: 88)
            expectedMean[60 - 21] = 2.0 / 3.0
            expectedMean[64 - 21] = 1.0 / 3.0
            #expect(dataset.trainFrameMean == expectedMean)
            #expect(dataset.train.count == 2)
            #expect(dataset.train.length(of: 0) == 2)
            #expect(dataset.train.length(of: 1) == 1)
            #expect(dataset.test.targets[0][87] == 1 && dataset.test.targets[0][88 + 87] == 1)
            #expect(dataset.valid.targets[0][0] == 1)
            #expect(dataset.valid.inputs[0][0] == 1)
            #expect(dataset.train.inputs[0][39] == 1 - 2.0 / 3.0)
            #expect(dataset.train.inputs[1][39] == -2.0 / 3.0)
        }
    }

    @Test("unicode keys with plain ints load the same as py2 keys with numpy ints")
    func keyAndNoteFlavours() throws {
        typealias V = PickleFixtureWriter.Value
        func build(_ key: (String) -> V, _ note: (Int64) -> V) -> V {
            .dict([(key("valid"), .list([.list([.list([note(40), note(50)])])])),
                   (key("train"), .list([.list([.list([note(30)]), .list([])])])),
                   (key("test"), .list([.list([.list([note(99)])])])),
                   (key("extra"), .none)])
        }
        let unicode = try PianoRollLoader.load(pickle: PickleFixtureWriter.pickle(build(V.str, V.int), protocol: 4), name: "a")
        let legacy = try PianoRollLoader.load(pickle: PickleFixtureWriter.pickle(build(V.py2str, V.numpyInt64), protocol: 2), name: "a")
        #expect(unicode == legacy)
    }

    @Test("a missing file is a DataFileError naming the path")
    func missingFile() throws {
        let path = "/nonexistent/dir/JSB_Chorales.pickle"
        let error = try #require(throws: DataFileError.self) { try PianoRollLoader.load(path: path) }
        #expect(error.path == path)
        #expect(error.description.contains(path))
        #expect(error.message.contains("not found"))
    }

    @Test("a refused pickle file is a DataFileError naming the file, byte and opcode")
    func refusedFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("vhrnn-evil-\(UUID().uuidString).pickle")
        try Data(ascii("cos\nsystem\n(S'echo hi'\ntR.")).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let error = try #require(throws: DataFileError.self) { try PianoRollLoader.load(path: url.path) }
        #expect(error.path == url.path)
        #expect(error.location == "byte 0")
        #expect(error.message.contains("GLOBAL (0x63)"))
        #expect(error.message.contains("os.system"))
    }

    struct BadContent: Sendable, CustomTestStringConvertible {
        var name: String
        var value: PickleFixtureWriter.Value
        var location: String?
        var fragment: String
        var testDescription: String { name }
    }

    static func splits(train: PickleFixtureWriter.Value) -> PickleFixtureWriter.Value {
        .dict([(.str("train"), train),
               (.str("valid"), .list([.list([.list([.int(60)])])])),
               (.str("test"), .list([.list([.list([.int(60)])])]))])
    }

    static let badContents: [BadContent] = [
        BadContent(name: "top level is a list", value: .list([.int(1)]), location: nil, fragment: "expected a dict"),
        BadContent(name: "no valid split", value: .dict([(.str("train"), .list([])), (.str("test"), .list([]))]),
                   location: nil, fragment: "no 'valid' key"),
        BadContent(name: "note 20", value: splits(train: .list([.list([.list([.int(60)]), .list([.int(20)])])])),
                   location: "train sequence 0 step 1", fragment: "note 20 is outside"),
        BadContent(name: "note 109", value: splits(train: .list([.list([.list([.int(60)])]), .list([.tuple([.numpyInt64(109)])])])),
                   location: "train sequence 1 step 0", fragment: "note 109 is outside"),
        BadContent(name: "float note", value: splits(train: .list([.list([.list([.float(60)])])])),
                   location: "train sequence 0 step 0", fragment: "must be an integer"),
        BadContent(name: "empty sequence", value: splits(train: .list([.list([.list([.int(60)])]), .list([])])),
                   location: "train sequence 1", fragment: "empty"),
        BadContent(name: "empty split", value: splits(train: .list([])), location: "train", fragment: "no sequences"),
        BadContent(name: "split is not a list", value: splits(train: .int(3)), location: "train", fragment: "list of sequences"),
        BadContent(name: "step is an int", value: splits(train: .list([.list([.int(60)])])),
                   location: "train sequence 0 step 0", fragment: "tuple or list of notes"),
    ]

    @Test("malformed contents are DataFileErrors with split, sequence and step", arguments: badContents)
    func badContent(_ item: BadContent) throws {
        let bytes = PickleFixtureWriter.pickle(item.value, protocol: 2)
        let error = try #require(throws: DataFileError.self) {
            try PianoRollLoader.load(pickle: bytes, name: "bad", path: "bad.pickle")
        }
        #expect(error.path == "bad.pickle")
        #expect(error.location == item.location, "\(error)")
        #expect(error.message.contains(item.fragment), "\(error)")
    }
}

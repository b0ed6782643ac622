import Foundation
import Testing
@testable import VHRNN

// MARK: - Fixtures

enum CheckpointFixture {
    /// A small layout resembling the model's naming scheme.
    static func layout(extra: Bool = false, biasCount: Int = 3) -> ParameterLayout {
        var layout = ParameterLayout()
        _ = layout.add("phi_x.layer0.weight", shape: [3, 2], initializer: .uniform(limit: 1))
        _ = layout.add("phi_x.layer0.bias", shape: [biasCount], initializer: .zeros)
        _ = layout.add("rnn.input_weight", shape: [4, 3], initializer: .uniform(limit: 1))
        _ = layout.add("emission.scale", shape: [1], initializer: .constant(1))
        if extra { _ = layout.add("extra.weight", shape: [2, 2], initializer: .zeros) }
        return layout
    }

    /// A store with random values, nonzero moments and gradients, and a step count.
    static func store<S: KernelScalar>(_: S.Type, seed: UInt64, layout: ParameterLayout = layout()) -> ParameterStore<S> {
        var g = SplitMix64(seed: seed)
        let store = ParameterStore<S>(layout: layout, generator: &g)
        for i in 0..<store.count {
            store.values[i] = S(g.nextStandardNormal())
            store.firstMoment[i] = S(g.nextStandardNormal() * 1e-3)
            store.secondMoment[i] = S(g.nextUnitDouble() * 1e-6)
            store.gradients[i] = S(g.nextStandardNormal())
        }
        store.step = Int(seed % 1000) + 1
        return store
    }

    static let model = ModelConfiguration(model: .vhrnn, cell: .gru, dataDim: 2, emission: .gaussian, latentDim: 3)

    static let data = DataSpec(source: "synthetic:standard", kind: .real, dataDim: 2,
                               normalization: Normalization(mean: [0.1, -0.3], std: [1.5, 0.7]))

    static let state = TrainingState(step: 0, generatorState: UInt64.max - 12345, epoch: 7, bestValidation: -123.456789012345,
                                     options: ["objective": "fivo", "learningRate": "0.0003"])

    /// The raw bytes of `n` scalars (for bit-exact comparison).
    static func bits<S: KernelScalar>(_ p: UnsafeMutablePointer<S>, _ n: Int) -> Data {
        CheckpointValues.littleEndianBytes(UnsafePointer(p), count: n)
    }
}

private func siblings(of dir: TemporaryDirectory) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
}

// MARK: - SafeTensors

@Suite struct SafeTensorsTests {
    static func le<T: FixedWidthInteger>(_ values: [T]) -> Data {
        var d = Data()
        for v in values { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        return d
    }

    static let sample = SafeTensorsFile(tensors: [
        SafeTensorsEntry(name: "w", dtype: .f32, shape: [2, 3], data: le((0..<6).map { Float($0).bitPattern })),
        SafeTensorsEntry(name: "scalar", dtype: .f64, shape: [], data: le([Double.pi.bitPattern])),
        SafeTensorsEntry(name: "empty", dtype: .f32, shape: [0, 4], data: Data()),
        SafeTensorsEntry(name: "ids \"quoted\" ü", dtype: .i64, shape: [3], data: le([Int64(-1), 0, Int64.max])),
        SafeTensorsEntry(name: "mask", dtype: .u8, shape: [5], data: Data([1, 0, 1, 1, 0])),
    ], metadata: ["format": "test", "note": "tab\there \"q\" / ü"])

    /// A file from a literal header and data bytes (no padding unless the header has it).
    static func file(header: String, data: [UInt8], length: UInt64? = nil) -> Data {
        var d = le([length ?? UInt64(header.utf8.count)])
        d.append(contentsOf: Array(header.utf8))
        d.append(contentsOf: data)
        return d
    }

    static func file(bytes header: [UInt8]) -> Data {
        var d = le([UInt64(header.count)])
        d.append(contentsOf: header)
        return d
    }

    @Test func roundTrip() throws {
        let bytes = try Self.sample.serialized()
        let n = bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        #expect(n % 8 == 0)
        #expect(bytes[8] == UInt8(ascii: "{"))
        let parsed = try SafeTensorsFile.parse(bytes, path: "x.safetensors")
        #expect(parsed == Self.sample)
        // Written to disk and read back.
        let dir = try TemporaryDirectory("st")
        defer { dir.remove() }
        try Self.sample.write(to: dir.file("a.safetensors"))
        #expect(try SafeTensorsFile.read(path: dir.file("a.safetensors")) == Self.sample)
    }

    @Test func exactBytesOfASmallFile() throws {
        let file = SafeTensorsFile(tensors: [SafeTensorsEntry(name: "a", dtype: .f32, shape: [2], data: Self.le([Float(1).bitPattern, Float(-2).bitPattern]))],
                                   metadata: ["format": "pt"])
        let bytes = try file.serialized()
        let header = #"{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        var padded = header
        while padded.utf8.count % 8 != 0 { padded += " " }
        #expect(bytes == Self.file(header: padded, data: [0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0]))
    }

    @Test func readerAcceptsUnpaddedHeadersAndAnyTensorOrder() throws {
        let header = #"{"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]},"a":{"data_offsets":[0,2],"shape":[1],"dtype":"I16"}}"#
        let parsed = try SafeTensorsFile.parse(Self.file(header: header, data: [1, 2, 3]), path: "p")
        #expect(parsed.tensors.map(\.name) == ["a", "b"])
        #expect(parsed.metadata.isEmpty)
        #expect(parsed.tensor(named: "b")?.data == Data([3]))
    }

    @Test func writerRejectsInconsistentTensors() {
        for (file, needle) in [
            (SafeTensorsFile(tensors: [SafeTensorsEntry(name: "a", dtype: .f32, shape: [2], data: Data(count: 7))]), "needs 8"),
            (SafeTensorsFile(tensors: [SafeTensorsEntry(name: "a", dtype: .u8, shape: [1], data: Data(count: 1)),
                                       SafeTensorsEntry(name: "a", dtype: .u8, shape: [1], data: Data(count: 1))]), "duplicate"),
            (SafeTensorsFile(tensors: [SafeTensorsEntry(name: "__metadata__", dtype: .u8, shape: [1], data: Data(count: 1))]), "invalid tensor name"),
            (SafeTensorsFile(tensors: [SafeTensorsEntry(name: "a", dtype: .u8, shape: [-1], data: Data())]), "invalid shape"),
        ] {
            let e = #expect(throws: DataFileError.self) { try file.serialized(path: "out.safetensors") }
            #expect(e?.description.contains(needle) == true, "\(e?.description ?? "no error")")
            #expect(e?.path == "out.safetensors")
        }
    }

    @Test func corruptFilesGiveClearErrors() {
        let t = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        let cases: [(String, Data, String)] = [
            ("empty file", Data(), "shorter than the 8-byte"),
            ("header longer than file", Self.file(header: t, data: [UInt8](repeating: 0, count: 8), length: 1000), "exceeds the"),
            ("huge header length", Self.file(header: t, data: [], length: UInt64.max), "exceeds the"),
            ("not an object", Self.file(header: "[1,2]", data: []), "does not start with '{'"),
            ("bad JSON", Self.file(header: #"{"a":{"dtype":"F32","#, data: []), "malformed JSON"),
            ("trailing garbage in JSON", Self.file(header: t + "x", data: [UInt8](repeating: 0, count: 8)), "malformed JSON"),
            ("invalid UTF-8", Self.file(bytes: [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D]), "UTF-8"),
            ("duplicate names", Self.file(header: #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#, data: [1, 2]), "duplicate key \"a\""),
            ("offsets past the end", Self.file(header: t, data: [0, 0, 0, 0]), "extend past"),
            ("offsets not matching shape", Self.file(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8)), "needs 12"),
            ("begin > end", Self.file(header: #"{"a":{"dtype":"U8","shape":[0],"data_offsets":[2,1]}}"#, data: [0, 0]), "begin > end"),
            ("overlap", Self.file(header: #"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}"#, data: [1, 2, 3]), "overlap"),
            ("gap", Self.file(header: #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}}"#, data: [1, 2, 3]), "gap"),
            ("trailing data", Self.file(header: t, data: [UInt8](repeating: 0, count: 9)), "trailing"),
            ("unknown dtype", Self.file(header: #"{"a":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}"#, data: [UInt8](repeating: 0, count: 16)), "unsupported dtype"),
            ("negative shape", Self.file(header: #"{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}"#, data: []), "non-negative"),
            ("fractional offset", Self.file(header: #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1.0]}}"#, data: [0]), "data_offsets"),
            ("huge shape", Self.file(header: #"{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,0]}}"#, data: []), "too large"),
            ("metadata not strings", Self.file(header: #"{"__metadata__":{"n":1}}"#, data: []), "__metadata__.n"),
            ("missing dtype", Self.file(header: #"{"a":{"shape":[0],"data_offsets":[0,0]}}"#, data: []), "\"dtype\""),
            ("unknown field", Self.file(header: #"{"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0],"x":1}}"#, data: []), "unknown field"),
            ("deep nesting", Self.file(header: "{\"__metadata__\":" + String(repeating: "[", count: 10000), data: []), "malformed JSON"),
        ]
        for (label, bytes, needle) in cases {
            let e = #expect(throws: DataFileError.self, "\(label)") { try SafeTensorsFile.parse(bytes, path: "bad.safetensors") }
            #expect(e?.path == "bad.safetensors")
            #expect(e?.description.contains(needle) == true, "\(label): \(e?.description ?? "no error")")
        }
    }

    @Test func everyTruncationIsRejected() throws {
        let bytes = try Self.sample.serialized()
        for n in 0..<bytes.count {
            #expect(throws: DataFileError.self, "truncated to \(n)") { try SafeTensorsFile.parse(bytes.prefix(n), path: "t") }
        }
    }

    /// Random byte corruptions either parse or throw a DataFileError; they never trap.
    @Test func randomCorruptionNeverCrashes() throws {
        let bytes = try Self.sample.serialized()
        var g = SplitMix64(seed: 99)
        var rejected = 0
        for _ in 0..<3000 {
            var d = [UInt8](bytes)
            for _ in 0...(g.next() % 3) { d[Int(g.next() % UInt64(d.count))] = UInt8(truncatingIfNeeded: g.next()) }
            do { _ = try SafeTensorsFile.parse(Data(d), path: "r") } catch is DataFileError { rejected += 1 }
        }
        #expect(rejected > 1000)
    }

    @Test func readingAMissingFileNamesIt() {
        let e = #expect(throws: DataFileError.self) { try SafeTensorsFile.read(path: "/nonexistent/x.safetensors") }
        #expect(e?.path == "/nonexistent/x.safetensors")
    }
}

// MARK: - Checkpoint directories

@Suite struct CheckpointTests {
    static func expectSame<S: KernelScalar>(_ a: ParameterStore<S>, _ b: ParameterStore<S>) {
        #expect(a.layout == b.layout)
        #expect(CheckpointFixture.bits(a.values, a.count) == CheckpointFixture.bits(b.values, b.count))
        #expect(CheckpointFixture.bits(a.firstMoment, a.count) == CheckpointFixture.bits(b.firstMoment, b.count))
        #expect(CheckpointFixture.bits(a.secondMoment, a.count) == CheckpointFixture.bits(b.secondMoment, b.count))
        #expect(a.step == b.step)
    }

    func roundTrip<S: KernelScalar>(_ type: S.Type) throws {
        let dir = try TemporaryDirectory("ckpt")
        defer { dir.remove() }
        let store = CheckpointFixture.store(S.self, seed: 42)
        let path = dir.file("run/best")  // parent created on demand
        let written = try Checkpoint.save(store, model: CheckpointFixture.model, data: CheckpointFixture.data,
                                          trainingState: CheckpointFixture.state, to: path)
        #expect(written.precision == S.kernelPrecision)
        #expect(written.parameterCount == 3 * 2 + 3 + 4 * 3 + 1)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: path)) == Checkpoint.fileNames)

        let loaded = try Checkpoint.load(directory: path)
        #expect(loaded.config == written)
        var expectedState = CheckpointFixture.state
        expectedState.step = store.step
        #expect(loaded.trainingState == expectedState)
        #expect(loaded.trainingState?.generator == SplitMix64(state: UInt64.max - 12345))
        #expect(loaded.parameters.map(\.name) == store.layout.tensors.map(\.name))
        #expect(loaded.parameters.map(\.shape) == store.layout.tensors.map(\.shape))
        #expect(loaded.parameter(named: "rnn.input_weight")?.values.converted(to: S.self) == store.values(of: "rnn.input_weight"))

        let restored: ParameterStore<S> = try loaded.makeStore(layout: store.layout)
        Self.expectSame(store, restored)
        #expect(restored.gradientValues.allSatisfy { $0 == 0 })
    }

    @Test func roundTripFloat() throws { try roundTrip(Float.self) }
    @Test func roundTripDouble() throws { try roundTrip(Double.self) }

    @Test func filesAreWhatTheDocsSay() throws {
        let dir = try TemporaryDirectory("ckpt")
        defer { dir.remove() }
        let store = CheckpointFixture.store(Float.self, seed: 1)
        try Checkpoint.save(store, model: CheckpointFixture.model, data: CheckpointFixture.data,
                            trainingState: CheckpointFixture.state, to: dir.file("c"))
        let model = try SafeTensorsFile.read(path: dir.file("c/model.safetensors"))
        #expect(model.metadata == ["format": "vhrnn-checkpoint-1", "precision": "float32"])
        #expect(model.tensors.allSatisfy { $0.dtype == .f32 })
        #expect(model.tensor(named: "phi_x.layer0.weight")?.shape == [3, 2])
        let state = try SafeTensorsFile.read(path: dir.file("c/training_state.safetensors"))
        #expect(state.metadata["format"] == "vhrnn-training-state-1")
        #expect(state.tensors.map(\.name) == store.layout.tensors.map { "adam_m." + $0.name } + store.layout.tensors.map { "adam_v." + $0.name })
        let json = try String(contentsOfFile: dir.file("c/training_state.json"), encoding: .utf8)
        #expect(json.contains("\"generatorState\" : \"\(UInt64.max - 12345)\""))
        let config = try String(contentsOfFile: dir.file("c/config.json"), encoding: .utf8)
        #expect(config.contains("\"formatVersion\" : 1"))
        #expect(config.contains("\"source\" : \"synthetic:standard\""))
        #expect(config.contains("\n  \"createdAt\""))  // pretty-printed, sorted: createdAt first
    }

    @Test func nonFiniteBestValidationRoundTrips() throws {
        let dir = try TemporaryDirectory("ckpt")
        defer { dir.remove() }
        let store = CheckpointFixture.store(Double.self, seed: 5)
        var state = CheckpointFixture.state
        state.bestValidation = -.infinity
        try Checkpoint.save(store, model: CheckpointFixture.model, data: CheckpointFixture.data, trainingState: state, to: dir.file("c"))
        #expect(try Checkpoint.load(directory: dir.file("c")).trainingState?.bestValidation == -.infinity)
    }

    @Test func crossPrecisionLoadsByConversion() throws {
        let dir = try TemporaryDirectory("ckpt")
        defer { dir.remove() }
        let f = CheckpointFixture.store(Float.self, seed: 7)
        try Checkpoint.save(f, model: CheckpointFixture.model, data: CheckpointFixture.data,
                            trainingState: CheckpointFixture.state, to: dir.file("f"))
        var g = SplitMix64(seed: 0)
        let asDouble = ParameterStore<Double>(layout: f.layout, generator: &g)
        let notes = try Checkpoint.load(directory: dir.file("f")).restore(into: asDouble)
        #expect(notes.count == 2 && notes.allSatisfy { $0.contains("converted to float64") })
        #expect(asDouble.parameterValues == f.parameterValues.map(Double.init))
        #expect((0..<f.count).allSatisfy { asDouble.secondMoment[$0] == Double(f.secondMoment[$0]) })
        #expect(asDouble.step == f.step)

        let d = CheckpointFixture.store(Double.self, seed: 8)
        try Checkpoint.save(d, model: CheckpointFixture.model, data: CheckpointFixture.data,
                            trainingState: CheckpointFixture.state, to: dir.file("d"))
        let asFloat: ParameterStore<Float> = try Checkpoint.load(directory: dir.file("d")).makeStore(layout: d.layout)
        #expect(asFloat.parameterValues == d.parameterValues.map(Float.init))
        #expect((0..<d.count).allSatisfy { asFloat.firstMoment[$0] == Float(d.firstMoment[$0]) })
    }

    @Test func layoutMismatchNamesTheTensor() throws {
        let dir = try TemporaryDirectory("ckpt")
        defer { dir.remove() }
        let store = CheckpointFixture.store(Float.self, seed: 3)
        try Checkpoint.save(store, model: CheckpointFixture.model, data: CheckpointFixture.data, to: dir.file("c"))
        let loaded = try Checkpoint.load(directory: dir.file("c"))
        let target = CheckpointFixture.store(Float.self, seed: 4)
        let before = target.parameterValues

        var e = #expect(throws: DataFileError.self) {
            try loaded.restore(into: CheckpointFixture.store(Float.self, seed: 1, layout: CheckpointFixture.layout(extra: true)))
        }
        #expect(e?.location == "tensor extra.weight")
        #expect(e?.message.contains("missing") == true)

        e = #expect(throws: DataFileError.self) {
            try loaded.restore(into: CheckpointFixture.store(Float.self, seed: 1, layout: CheckpointFixture.layout(biasCount: 4)))
        }
        #expect(e?.location == "tensor phi_x.layer0.bias")
        #expect(e?.message.contains("[3]") == true && e?.message.contains("[4]") == true)

        var smaller = ParameterLayout()
        _ = smaller.add("phi_x.layer0.weight", shape: [3, 2], initializer: .zeros)
        e = #expect(throws: DataFileError.self) { try loaded.restore(into: CheckpointFixture.store(Float.self, seed: 1, layout: smaller)) }
        #expect(e?.location == "tensor phi_x.layer0.bias")
        #expect(e?.message.contains("not a parameter") == true)
        #expect(target.parameterValues == before)
    }

    @Test func withoutTrainingStateMomentsReset() throws {
        let dir = try TemporaryDirectory("ckpt")
        defer { dir.remove() }
        let store = CheckpointFixture.store(Float.self, seed: 11)
        try Checkpoint.save(store, model: CheckpointFixture.model, data: CheckpointFixture.data, to: dir.file("c"))
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: dir.file("c"))) == [Checkpoint.modelFile, Checkpoint.configFile])
        let loaded = try Checkpoint.load(directory: dir.file("c"))
        #expect(loaded.trainingState == nil && loaded.firstMoments == nil)
        let target = CheckpointFixture.store(Float.self, seed: 12)
        let notes = try loaded.restore(into: target)
        #expect(notes.contains { $0.contains("reset") })
        #expect(target.parameterValues == store.parameterValues)
        #expect(target.step == 0 && (0..<target.count).allSatisfy { target.firstMoment[$0] == 0 && target.secondMoment[$0] == 0 })

        // Values only, keeping the target's own training state.
        let keep = CheckpointFixture.store(Float.self, seed: 13)
        let m = CheckpointFixture.bits(keep.firstMoment, keep.count)
        try loaded.restore(into: keep, includeTrainingState: false)
        #expect(keep.parameterValues == store.parameterValues && CheckpointFixture.bits(keep.firstMoment, keep.count) == m)
    }

    @Test func overwriteReplacesThePreviousCheckpoint() throws {
        let dir = try TemporaryDirectory("ckpt")
        defer { dir.remove() }
        let a = CheckpointFixture.store(Float.self, seed: 21), b = CheckpointFixture.store(Float.self, seed: 22)
        try Checkpoint.save(a, model: CheckpointFixture.model, data: CheckpointFixture.data,
                            trainingState: CheckpointFixture.state, to: dir.file("c"))
        // The second save has no training state: stale training files must not survive.
        try Checkpoint.save(b, model: CheckpointFixture.model, data: CheckpointFixture.data, to: dir.file("c/"))
        #expect(siblings(of: dir) == ["c"])
        let loaded = try Checkpoint.load(directory: dir.file("c"))
        #expect(loaded.trainingState == nil)
        #expect(try loaded.makeStore(Float.self, layout: b.layout).parameterValues == b.parameterValues)
    }

    @Test func failedSaveLeavesThePreviousCheckpointIntact() throws {
        struct Injected: Error {}
        let dir = try TemporaryDirectory("ckpt")
        defer { dir.remove() }
        let a = CheckpointFixture.store(Double.self, seed: 31), b = CheckpointFixture.store(Double.self, seed: 32)
        try Checkpoint.save(a, model: CheckpointFixture.model, data: CheckpointFixture.data,
                            trainingState: CheckpointFixture.state, to: dir.file("c"))
        for stage in [Checkpoint.configFile, Checkpoint.modelFile, Checkpoint.trainingStateFile, Checkpoint.trainingStateJSONFile, "rename"] {
            var seen: [String] = []
            #expect(throws: Injected.self, "failure after \(stage)") {
                try Checkpoint.save(b, model: CheckpointFixture.model, data: CheckpointFixture.data,
                                    trainingState: CheckpointFixture.state, to: dir.file("c")) { name in
                    seen.append(name)
                    if name == stage { throw Injected() }
                }
            }
            #expect(seen.last == stage)
            #expect(siblings(of: dir) == ["c"], "temporary directory left behind after \(stage)")
            let restored: ParameterStore<Double> = try Checkpoint.load(directory: dir.file("c")).makeStore(layout: a.layout)
            Self.expectSame(a, restored)
        }
        // A failed first save leaves nothing at all.
        #expect(throws: Injected.self) {
            try Checkpoint.save(b, model: CheckpointFixture.model, data: CheckpointFixture.data,
                                trainingState: nil, to: dir.file("new")) { if $0 == Checkpoint.modelFile { throw Injected() } }
        }
        #expect(siblings(of: dir) == ["c"])
    }

    @Test func crashBetweenRenamesIsReportedOnLoad() throws {
        let dir = try TemporaryDirectory("ckpt")
        defer { dir.remove() }
        try Checkpoint.save(CheckpointFixture.store(Float.self, seed: 41), model: CheckpointFixture.model,
                            data: CheckpointFixture.data, to: dir.file("c"))
        try FileManager.default.moveItem(atPath: dir.file("c"), toPath: dir.file("c.old-0123456789abcdef"))
        let e = #expect(throws: DataFileError.self) { try Checkpoint.load(directory: dir.file("c")) }
        #expect(e?.message.contains("c.old-0123456789abcdef") == true)
        #expect(e?.message.contains("interrupted") == true)
        let missing = #expect(throws: DataFileError.self) { try Checkpoint.load(directory: dir.file("other")) }
        #expect(missing?.message == "no such checkpoint directory")
    }

    @Test func leftoversOfAKilledWriterAreTidied() throws {
        let dir = try TemporaryDirectory("ckpt")
        defer { dir.remove() }
        let a = CheckpointFixture.store(Float.self, seed: 51), b = CheckpointFixture.store(Float.self, seed: 52)
        try Checkpoint.save(a, model: CheckpointFixture.model, data: CheckpointFixture.data, to: dir.file("c"))
        // Killed while writing (a partial .tmp-) and after the final rename (a superseded .old-).
        try FileManager.default.createDirectory(atPath: dir.file("c.tmp-00000000000000aa"), withIntermediateDirectories: false)
        try dir.write("c.tmp-00000000000000aa/model.safetensors", "partial")
        try FileManager.default.copyItem(atPath: dir.file("c"), toPath: dir.file("c.old-00000000000000bb"))
        try dir.write("c.tmp-note", "not ours")  // not of the writer's form: left alone
        #expect(Set(try Checkpoint.removeLeftovers(of: dir.file("c"))) == ["c.tmp-00000000000000aa", "c.old-00000000000000bb"])
        #expect(siblings(of: dir) == ["c", "c.tmp-note"])
        // Killed between the two renames: the previous checkpoint is moved back, the new one dropped.
        try FileManager.default.moveItem(atPath: dir.file("c"), toPath: dir.file("c.old-00000000000000cc"))
        try Checkpoint.save(b, model: CheckpointFixture.model, data: CheckpointFixture.data, to: dir.file("d"))
        try FileManager.default.moveItem(atPath: dir.file("d"), toPath: dir.file("c.tmp-00000000000000dd"))
        #expect(Set(try Checkpoint.removeLeftovers(of: dir.file("c"))) == ["c.tmp-00000000000000dd", "c.old-00000000000000cc"])
        #expect(siblings(of: dir) == ["c", "c.tmp-note"])
        #expect(try Checkpoint.load(directory: dir.file("c")).makeStore(Float.self, layout: a.layout).parameterValues
                == a.parameterValues)
        // And a save tidies before it writes.
        try FileManager.default.createDirectory(atPath: dir.file("c.tmp-00000000000000ee"), withIntermediateDirectories: false)
        try Checkpoint.save(b, model: CheckpointFixture.model, data: CheckpointFixture.data, to: dir.file("c"))
        #expect(siblings(of: dir) == ["c", "c.tmp-note"])
    }

    @Test func refusesToReplaceANonCheckpointDirectory() throws {
        let dir = try TemporaryDirectory("ckpt")
        defer { dir.remove() }
        try FileManager.default.createDirectory(atPath: dir.file("precious"), withIntermediateDirectories: false)
        try dir.write("precious/thesis.tex", "important")
        let e = #expect(throws: DataFileError.self) {
            try Checkpoint.save(CheckpointFixture.store(Float.self, seed: 1), model: CheckpointFixture.model,
                                data: CheckpointFixture.data, to: dir.file("precious"))
        }
        #expect(e?.message.contains("thesis.tex") == true)
        #expect(try String(contentsOfFile: dir.file("precious/thesis.tex"), encoding: .utf8) == "important")
        try dir.write("file", "x")
        #expect(throws: DataFileError.self) {
            try Checkpoint.save(CheckpointFixture.store(Float.self, seed: 1), model: CheckpointFixture.model,
                                data: CheckpointFixture.data, to: dir.file("file"))
        }
    }

    @Test func corruptCheckpointFilesNameTheFile() throws {
        let dir = try TemporaryDirectory("ckpt")
        defer { dir.remove() }
        let store = CheckpointFixture.store(Float.self, seed: 51)
        func fresh() throws -> String {
            let path = dir.file("c")
            try Checkpoint.save(store, model: CheckpointFixture.model, data: CheckpointFixture.data,
                                trainingState: CheckpointFixture.state, to: path)
            return path
        }
        func replace(_ file: String, _ edit: (Data) -> Data) throws {
            let url = URL(fileURLWithPath: dir.file("c/" + file))
            let data = try Data(contentsOf: url)
            try edit(data).write(to: url)
        }
        func expectError(_ file: String, _ needle: String, location: String? = nil) throws {
            let e = #expect(throws: DataFileError.self) { try Checkpoint.load(directory: dir.file("c")) }
            #expect(e?.path.hasSuffix("/" + file) == true, "\(e?.description ?? "")")
            #expect(e?.description.contains(needle) == true, "\(e?.description ?? "")")
            if let location { #expect(e?.location == location) }
        }

        _ = try fresh()
        try replace(Checkpoint.modelFile) { $0.prefix($0.count - 3) }
        try expectError(Checkpoint.modelFile, "extend past")

        _ = try fresh()
        try replace(Checkpoint.configFile) { $0.prefix(20) }
        try expectError(Checkpoint.configFile, "invalid JSON")

        // A NaN or infinity written over a weight or a moment (the last 4 bytes are the last
        // tensor's last float) is refused, naming the tensor.
        for (file, bits) in [(Checkpoint.modelFile, Float.nan.bitPattern), (Checkpoint.trainingStateFile, Float.infinity.bitPattern)] {
            _ = try fresh()
            try replace(file) { d in
                var d = d
                withUnsafeBytes(of: bits.littleEndian) { d.replaceSubrange((d.count - 4)..<d.count, with: $0) }
                return d
            }
            try expectError(file, "checkpoint values must be finite")
        }

        _ = try fresh()
        try replace(Checkpoint.configFile) { d in
            Data(String(decoding: d, as: UTF8.self).replacingOccurrences(of: "\"latentDim\"", with: "\"latent\"").utf8)
        }
        try expectError(Checkpoint.configFile, "missing field \"latentDim\"", location: "model")

        _ = try fresh()
        try replace(Checkpoint.configFile) { d in
            Data(String(decoding: d, as: UTF8.self).replacingOccurrences(of: "\"parameterCount\" : 22", with: "\"parameterCount\" : 23").utf8)
        }
        try expectError(Checkpoint.modelFile, "config.json says 23")

        _ = try fresh()
        try replace(Checkpoint.trainingStateJSONFile) { d in
            Data(String(decoding: d, as: UTF8.self).replacingOccurrences(of: "\"\(UInt64.max - 12345)\"", with: "1.8e19").utf8)
        }
        try expectError(Checkpoint.trainingStateJSONFile, "String", location: "generatorState")

        _ = try fresh()
        try FileManager.default.removeItem(atPath: dir.file("c/" + Checkpoint.trainingStateFile))
        try expectError(Checkpoint.trainingStateFile, "both or neither")

        _ = try fresh()
        var moments = try SafeTensorsFile.read(path: dir.file("c/" + Checkpoint.trainingStateFile))
        moments.tensors.removeAll { $0.name == "adam_v.rnn.input_weight" }
        try FileManager.default.removeItem(atPath: dir.file("c/" + Checkpoint.trainingStateFile))
        try moments.write(to: dir.file("c/" + Checkpoint.trainingStateFile))
        try expectError(Checkpoint.trainingStateFile, "missing", location: "tensor adam_v.rnn.input_weight")

        _ = try fresh()
        var model = try SafeTensorsFile.read(path: dir.file("c/" + Checkpoint.modelFile))
        model.metadata = [:]
        try FileManager.default.removeItem(atPath: dir.file("c/" + Checkpoint.modelFile))
        try model.write(to: dir.file("c/" + Checkpoint.modelFile))
        try expectError(Checkpoint.modelFile, "not a VHRNN checkpoint")
    }
}

import Foundation
import Testing
@testable import VHRNN

/// A real model's checkpoint, damaged the ways a hostile or corrupted file can be, must be
/// refused — by `Checkpoint.load` or by `SequenceModel.load`, as `vhrnn evaluate` loads it —
/// with one line that names the file and the field, never a trap, a huge allocation or a
/// model that computes garbage.
@Suite struct HostileCheckpointTests {
    static let model = ModelConfiguration(model: .vhrnn, cell: .lstm, dataDim: 2, emission: .gaussian,
                                          latentDim: 2, hiddenDim: 3, omegaHidden: 4)

    /// A freshly saved checkpoint of `model` in `dir/c`.
    static func save(in dir: TemporaryDirectory) throws -> String {
        var g = SplitMix64(seed: 3)
        let m = try SequenceModel<Float>(configuration: model, generator: &g)
        let data = DataSpec(source: "synthetic:standard", kind: .real, dataDim: 2)
        let path = dir.file("c")
        try? FileManager.default.removeItem(atPath: path)
        try Checkpoint.save(m.parameters, model: model, data: data, trainingState: TrainingState(step: 1, generatorState: 5), to: path)
        return path
    }

    /// Loads as the CLI does; the error it throws.
    static func loadError(_ path: String) -> (any Error)? {
        do {
            let loaded = try Checkpoint.load(directory: path)
            _ = try SequenceModel<Float>.load(checkpoint: loaded)
            return nil
        } catch { return error }
    }

    static func expectRefused(_ path: String, file: String, _ needles: [String], _ label: String) {
        guard let error = loadError(path) else {
            Issue.record("\(label): loaded")
            return
        }
        let text = String(describing: error)
        #expect(error is DataFileError, "\(label): \(type(of: error)): \(text)")
        #expect((error as? DataFileError)?.path.hasSuffix("/" + file) == true, "\(label): \(text)")
        for needle in needles { #expect(text.contains(needle), "\(label): \(text)") }
        #expect(!text.contains("\n") && text.utf8.count < 800, "\(label): \(text)")
    }

    /// Rewrites `model.safetensors` through `edit` (on the parsed file) and serialises it again.
    static func editTensors(_ path: String, _ edit: (inout SafeTensorsFile) -> Void) throws {
        let file = path + "/" + Checkpoint.modelFile
        var tensors = try SafeTensorsFile.read(path: file)
        edit(&tensors)
        try FileManager.default.removeItem(atPath: file)
        try tensors.write(to: file)
    }

    static func removeTrainingState(_ path: String) throws {
        try FileManager.default.removeItem(atPath: path + "/" + Checkpoint.trainingStateFile)
        try FileManager.default.removeItem(atPath: path + "/" + Checkpoint.trainingStateJSONFile)
    }

    /// Replaces text in `config.json`.
    static func editConfig(_ path: String, _ old: String, _ new: String) throws {
        let file = path + "/" + Checkpoint.configFile
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.contains(old), "config.json has no \(old)")
        try Data(text.replacingOccurrences(of: old, with: new).utf8).write(to: URL(fileURLWithPath: file))
    }

    /// Rewrites the raw bytes of `model.safetensors`: its header JSON text and its length field.
    static func editRawHeader(_ path: String, length: UInt64? = nil, _ edit: (String) -> String = { $0 }) throws {
        let url = URL(fileURLWithPath: path + "/" + Checkpoint.modelFile)
        let bytes = [UInt8](try Data(contentsOf: url))
        let n = Int(bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        let header = Array(edit(String(decoding: bytes[8..<(8 + n)], as: UTF8.self)).utf8)
        var out: [UInt8] = []
        withUnsafeBytes(of: (length ?? UInt64(header.count)).littleEndian) { out += $0 }
        try Data(out + header + bytes[(8 + n)...]).write(to: url)
    }

    @Test func damagedWeightFilesAreRefusedNamingTheField() throws {
        let dir = try TemporaryDirectory("hostile")
        defer { dir.remove() }
        let weights = Checkpoint.modelFile

        // A header length of 2^63 (and of 2^64 − 1): refused before anything is allocated.
        for length in [UInt64(1) << 63, UInt64.max] {
            let c = try Self.save(in: dir)
            try Self.editRawHeader(c, length: length)
            Self.expectRefused(c, file: weights, ["header length \(length) exceeds"], "header length \(length)")
        }

        // Offsets past the end of the data section.
        var c = try Self.save(in: dir)
        try Self.editRawHeader(c) { $0.replacingOccurrences(of: #"\[0,(\d+)\]"#, with: "[0,99999999]", options: .regularExpression) }
        Self.expectRefused(c, file: weights, ["extend past"], "offsets past the end")

        // Two tensors over the same bytes: the first tensor's offsets given to the second too.
        c = try Self.save(in: dir)
        let first = try SafeTensorsFile.read(path: c + "/" + weights).tensors[0]
        let firstBytes = first.data.count
        try Self.editRawHeader(c) { header in
            // The second tensor in data order starts where the first ends; move it back over it.
            header.replacingOccurrences(of: "\"data_offsets\":[\(firstBytes),", with: "\"data_offsets\":[0,")
        }
        Self.expectRefused(c, file: weights, ["tensor"], "overlapping offsets")

        // A named tensor of the wrong dtype (I32 has F32's byte size, so only the dtype is wrong).
        c = try Self.save(in: dir)
        try Self.editTensors(c) { $0.tensors[1].dtype = .i32 }
        let renamed = try SafeTensorsFile.read(path: c + "/" + weights).tensors[1].name
        Self.expectRefused(c, file: weights, ["tensor \(renamed)", "has dtype I32"], "wrong dtype")

        // A named tensor of the wrong shape (same element count, transposed); without training
        // state, whose moments would be refused first for not matching it.
        c = try Self.save(in: dir)
        try Self.removeTrainingState(c)
        var reshaped = ""
        try Self.editTensors(c) { file in
            let i = file.tensors.firstIndex { $0.shape.count == 2 && $0.shape[0] != $0.shape[1] }!
            reshaped = file.tensors[i].name
            file.tensors[i].shape = file.tensors[i].shape.reversed()
        }
        Self.expectRefused(c, file: weights, ["tensor \(reshaped)", "has shape"], "wrong shape")

        // A missing tensor, with config.json's count adjusted so the totals agree.
        c = try Self.save(in: dir)
        let count = try Checkpoint.load(directory: c).config.parameterCount
        var removed = SafeTensorsEntry(name: "", dtype: .f32, shape: [], data: Data())
        try Self.editTensors(c) { removed = $0.tensors.removeLast() }
        try Self.removeTrainingState(c)
        try Self.editConfig(c, "\"parameterCount\" : \(count)", "\"parameterCount\" : \(count - removed.data.count / 4)")
        Self.expectRefused(c, file: Checkpoint.configFile, ["describes a model of \(count) parameters"], "missing tensor")
    }

    @Test func configContradictingTheWeightsIsRefusedBeforeAllocating() throws {
        let dir = try TemporaryDirectory("hostile")
        defer { dir.remove() }
        // A config.json that asks for another model than the weights: a different latent size,
        // the other cell, a huge omega (which would need gigabytes), and sizes out of range.
        let cases: [(String, String, [String])] = [
            ("\"latentDim\" : 2", "\"latentDim\" : 3", ["describes a model of", "holds"]),
            ("\"cell\" : \"lstm\"", "\"cell\" : \"gru\"", ["describes a model of"]),
            ("\"omegaHidden\" : 4", "\"omegaHidden\" : 60000", ["describes a model of"]),
            ("\"omegaHidden\" : 4", "\"omegaHidden\" : 4611686018427387904", ["model.omegaHidden", "exceeds the supported maximum"]),
            ("\"hiddenDim\" : 3", "\"hiddenDim\" : -3", ["model.hiddenDim", "must be positive"]),
        ]
        for (old, new, needles) in cases {
            let c = try Self.save(in: dir)
            try Self.editConfig(c, old, new)
            Self.expectRefused(c, file: Checkpoint.configFile, needles, new)
        }
    }

    @Test func anAcceptedCheckpointComputesAFiniteBound() throws {
        // The control: the undamaged file loads and evaluates.
        let dir = try TemporaryDirectory("hostile")
        defer { dir.remove() }
        let c = try Self.save(in: dir)
        #expect(Self.loadError(c) == nil)
        let (m, _) = try SequenceModel<Float>.load(checkpoint: Checkpoint.load(directory: c))
        let split = SequenceSplit(dataDim: 2, sequences: [[0.1, -0.2, 0.3, 0.0]])
        let result = try Evaluator.evaluate(model: m, split: split, particles: 2, bounds: [.fivo])
        #expect(result.fivo?.isFinite == true)
    }
}

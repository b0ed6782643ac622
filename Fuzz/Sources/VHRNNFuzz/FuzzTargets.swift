import Foundation
import VHRNN

/// One fuzz target: a reader of outside bytes and how one fuzz input becomes that reader's
/// file(s). A reader that refuses an input by throwing is doing its job; a trap, a hang, an
/// unbounded allocation, a leak or an unbounded error message is a finding.
struct FuzzTarget {
    let name: String
    /// What the input is, for `make fuzz`'s listing.
    let summary: String
    /// Feeds one input to the reader.
    let run: (_ bytes: [UInt8], _ scratch: ScratchDirectory) throws -> Void
    /// Harness-made seeds, written beside the ones scripts/fuzz.sh derives from the real files.
    let seeds: (_ scratch: ScratchDirectory) throws -> [(name: String, bytes: [UInt8])]

    init(_ name: String, _ summary: String,
         seeds: @escaping (ScratchDirectory) throws -> [(name: String, bytes: [UInt8])] = { _ in [] },
         run: @escaping ([UInt8], ScratchDirectory) throws -> Void) {
        self.name = name
        self.summary = summary
        self.run = run
        self.seeds = seeds
    }
}

extension FuzzTarget {
    static let all: [FuzzTarget] = [
        FuzzTarget("pickle", "a piano-roll pickle (SafePickleReader, then PianoRollLoader's structure checks)") { bytes, _ in
            let root = try SafePickleReader.parse(bytes)
            _ = try PianoRollLoader.dataset(from: root, name: "fuzz", path: "fuzz.pickle")
        },
        FuzzTarget("safetensors", "a safetensors file: length, header JSON, tensor table",
                   seeds: { try TemplateCheckpoint.files($0).filter { $0.name.hasSuffix(".safetensors") } }) { bytes, _ in
            let file = try SafeTensorsFile.parse(Data(bytes), path: "fuzz.safetensors")
            // Re-serialising what was accepted must work: an accepted file is a consistent one.
            _ = try file.serialized()
        },
        FuzzTarget("checkpoint-config", "config.json of a checkpoint whose other files are valid",
                   seeds: { try TemplateCheckpoint.files($0).filter { $0.name == Checkpoint.configFile } }) { bytes, scratch in
            try TemplateCheckpoint.loadAndEvaluate(scratch, replacing: [Checkpoint.configFile: bytes])
        },
        FuzzTarget("checkpoint-state", "training_state.json of a checkpoint whose other files are valid",
                   seeds: { try TemplateCheckpoint.files($0).filter { $0.name == Checkpoint.trainingStateJSONFile } }) { bytes, scratch in
            try TemplateCheckpoint.loadAndEvaluate(scratch, replacing: [Checkpoint.trainingStateJSONFile: bytes])
        },
        FuzzTarget("checkpoint", "all four checkpoint files at once (config, weights, state, moments): contradictions between them",
                   seeds: { scratch in
                       let files = Dictionary(uniqueKeysWithValues: try TemplateCheckpoint.files(scratch).map { ($0.name, $0.bytes) })
                       return [("template", MultiPart.join(TemplateCheckpoint.fileOrder.map { files[$0]! }))]
                   }) { bytes, scratch in
            let parts = MultiPart.split(bytes, parts: TemplateCheckpoint.fileOrder.count)
            try TemplateCheckpoint.loadAndEvaluate(scratch, replacing: Dictionary(uniqueKeysWithValues: zip(TemplateCheckpoint.fileOrder, parts)))
        },
        FuzzTarget("csv-table", "a long-table CSV (CSVSequenceLoader, one file)") { bytes, scratch in
            let path = scratch.file("table.csv")
            scratch.write(bytes, to: path)
            _ = try CSVSequenceLoader.load(path: path)
        },
        FuzzTarget("csv-folder", "up to four per-sequence CSV files (CSVSequenceLoader, a directory)") { bytes, scratch in
            let folder = scratch.emptyFolder("sequences")
            for (i, part) in MultiPart.split(bytes, parts: 4).enumerated() where !part.isEmpty || i == 0 {
                scratch.write(part, to: folder + "/s\(i).csv")
            }
            _ = try CSVSequenceLoader.load(path: folder)
        },
        FuzzTarget("stock", "the S&P 500 OHLCV CSV (StockLoader)") { bytes, scratch in
            let path = scratch.file("stock.csv")
            scratch.write(bytes, to: path)
            _ = try StockLoader.load(path: path)
        },
        FuzzTarget("ht-sensor", "HT_Sensor_metadata.dat and HT_Sensor_dataset.dat (HTSensorLoader; short windows so small inputs reach the windowing)",
                   seeds: { _ in [("small", HTSensorSeed.bytes)] }) { bytes, scratch in
            let folder = scratch.emptyFolder("ht")
            let parts = MultiPart.split(bytes, parts: 2)
            scratch.write(parts[0], to: folder + "/HT_Sensor_metadata.dat")
            scratch.write(parts[1], to: folder + "/HT_Sensor_dataset.dat")
            _ = try HTSensorLoader.load(directory: folder, options: HTSensorSeed.options)
        },
        FuzzTarget("tf-checkpoint", "a TensorFlow checkpoint: .index table and one data shard (TensorFlowCheckpoint, then the FIVO import)") { bytes, scratch in
            let parts = MultiPart.split(bytes, parts: 2)
            let prefix = scratch.file("model.ckpt")
            scratch.write(parts[0], to: prefix + ".index")
            scratch.write(parts[1], to: prefix + ".data-00000-of-00001")
            let checkpoint = try TensorFlowCheckpoint(prefix: prefix)
            for entry in checkpoint.entries.prefix(64) {
                _ = try? checkpoint.floatValues(entry.name)
                _ = try? checkpoint.doubleValues(entry.name)
                _ = try? checkpoint.int64Values(entry.name)
            }
            _ = try FIVOCheckpointImport.convert(prefix: prefix, trainFrameMean: nil)
        },
        FuzzTarget("synthetic-folder", "a generate-synthetic folder: train/valid/test CSV and info.json (SyntheticData.read)",
                   seeds: { try SyntheticSeed.files($0) }) { bytes, scratch in
            let folder = scratch.emptyFolder("synthetic")
            let names = ["train.csv", "valid.csv", "test.csv", "info.json"]
            for (name, part) in zip(names, MultiPart.split(bytes, parts: names.count)) where !(name == "info.json" && part.isEmpty) {
                scratch.write(part, to: folder + "/" + name)
            }
            _ = try SyntheticData.read(directory: folder)
            _ = try? SyntheticData.readInfo(directory: folder)
        },
        FuzzTarget("experiment-spec", "an experiment spec JSON (ExperimentSpec.load and validate)") { bytes, scratch in
            let path = scratch.file("spec.json")
            scratch.write(bytes, to: path)
            let spec = try ExperimentSpec.load(path: path)
            try spec.validate(path: path)
        },
        FuzzTarget("claims", "a claims JSON against the repository's specs (ClaimSet.load)") { bytes, scratch in
            let path = scratch.file("claims.json")
            scratch.write(bytes, to: path)
            _ = try ClaimSet.load(path: path, specs: RepositorySpecs.all)
        },
        FuzzTarget("data-source", "a --data value (DataSource parsing)") { bytes, _ in
            _ = try DataSource(parsing: String(decoding: bytes, as: UTF8.self))
        },
    ]
}

import Foundation
import VHRNN

/// A small valid checkpoint (a VHRNN with an LSTM, Gaussian emission, 2-D data) saved through
/// the public API once per process. The checkpoint targets replace some of its files with the
/// fuzz input, load the result as `vhrnn evaluate` would, and — when it loads — evaluate one
/// short sequence: a checkpoint that is accepted must give a model that computes a finite bound.
enum TemplateCheckpoint {
    /// The order of the parts in the `checkpoint` target's multi-part input.
    static let fileOrder = [Checkpoint.configFile, Checkpoint.modelFile,
                            Checkpoint.trainingStateJSONFile, Checkpoint.trainingStateFile]

    static let model = ModelConfiguration(model: .vhrnn, cell: .lstm, dataDim: 2, emission: .gaussian,
                                          latentDim: 2, hiddenDim: 3, omegaHidden: 4)

    /// The template's four files, written on first use.
    static func files(_ scratch: ScratchDirectory) throws -> [(name: String, bytes: [UInt8])] {
        let cache = cached(scratch)
        return fileOrder.map { ($0, cache[$0]!) }
    }

    private static var cache: [String: [UInt8]]?

    private static func cached(_ scratch: ScratchDirectory) -> [String: [UInt8]] {
        if let cache { return cache }
        let directory = scratch.file("template-checkpoint")
        do {
            var generator = SplitMix64(seed: 7)
            let m = try SequenceModel<Float>(configuration: model, generator: &generator)
            let data = DataSpec(source: "synthetic:standard", kind: .real, dataDim: 2,
                                normalization: Normalization(mean: [0.5, -1], std: [2, 0.25]))
            try Checkpoint.save(m.parameters, model: model, data: data,
                                trainingState: TrainingState(step: 3, generatorState: 99, epoch: 1, bestValidation: -2.5,
                                                             options: ["bound": "fivo"]),
                                to: directory)
            var files: [String: [UInt8]] = [:]
            for name in fileOrder {
                files[name] = [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name)))
            }
            cache = files
            return files
        } catch {
            fatalError("fuzz harness: cannot build the template checkpoint: \(error)")
        }
    }

    /// One short sequence to evaluate an accepted checkpoint on.
    static let sequence = SequenceSplit(dataDim: 2, sequences: [[0.1, -0.2, 0.3, 0.0, -0.5, 1.0]])

    /// Writes the template with `replacing`'s files swapped in (an empty replacement of a
    /// training-state file removes it, so "no training state" is reachable), loads it and, if
    /// it loads, evaluates a sequence and demands a finite result.
    static func loadAndEvaluate(_ scratch: ScratchDirectory, replacing: [String: [UInt8]]) throws {
        let template = cached(scratch)
        let directory = scratch.emptyFolder("checkpoint")
        for name in fileOrder {
            let bytes = replacing[name] ?? template[name]!
            if bytes.isEmpty, name != Checkpoint.configFile, name != Checkpoint.modelFile { continue }
            scratch.write(bytes, to: directory + "/" + name)
        }
        let loaded = try Checkpoint.load(directory: directory)
        let (model, _) = try SequenceModel<Float>.load(checkpoint: loaded, includeTrainingState: true)
        guard model.configuration.dataDim == sequence.dataDim else { return }
        let result = try Evaluator.evaluate(model: model, split: sequence, particles: 2, bounds: [.fivo])
        guard let fivo = result.fivo, !fivo.isNaN else {
            fatalError("an accepted checkpoint evaluates to \(String(describing: result.fivo)): the loader let garbage through")
        }
    }
}

/// A small HT Sensor pair in the published formats (tab-separated metadata; readings with the
/// id, the time in hours and ten channels), with window options short enough that it yields
/// windows for every split.
enum HTSensorSeed {
    static var options: HTSensorLoader.Options {
        var o = HTSensorLoader.Options()
        o.windowSeconds = 40
        o.strideSeconds = 20
        o.downsample = 4
        o.maxGapSeconds = 30
        return o
    }

    static var bytes: [UInt8] {
        let ids = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
        var meta = "id\tdate\t\tclass\tt0\tdt\n"
        for id in ids { meta += "\(id)\t07-04-15\t\(id % 2 == 0 ? "banana" : "wine")\t13.49\t1.64 \n" }
        var data = "id time R1 R2 R3 R4 R5 R6 R7 R8 Temp. Humidity\n"
        for id in ids {
            for k in 0..<12 {
                let hours = (Double(k) * 5 - 3600) / 3600
                var fields = ["\(id)", String(format: "%.8f", hours)]
                for c in 0..<10 { fields.append(String(format: "%.5f", 10 + Double(c) + sin(Double(k + id + c)))) }
                data += fields.joined(separator: "  ") + "\n"
            }
        }
        return MultiPart.join([Array(meta.utf8), Array(data.utf8)])
    }
}

/// The repository's experiment specs, which the `claims` target validates claims against.
enum RepositorySpecs {
    static let all: [ExperimentSpec] = {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../experiments").standardized.path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".json") && $0 != "claims.json" }.sorted()
            .compactMap { try? ExperimentSpec.load(path: directory + "/" + $0) }
    }()
}

/// `generate-synthetic`'s files for the standard setting, each CSV cut to its first rows (the
/// loader's checks are per row; a few sequences reach all of them) and info.json as written.
enum SyntheticSeed {
    static func files(_ scratch: ScratchDirectory) throws -> [(name: String, bytes: [UInt8])] {
        let folder = scratch.emptyFolder("synthetic-seed")
        let (dataset, info) = SyntheticData.makeWithInfo(setting: .switch, seed: 3)
        try SyntheticData.write(dataset, info: info, to: folder)
        var parts: [[UInt8]] = []
        for name in ["train.csv", "valid.csv", "test.csv"] {
            let text = try String(contentsOfFile: folder + "/" + name, encoding: .utf8)
            parts.append(Array((text.split(separator: "\n").prefix(80).joined(separator: "\n") + "\n").utf8))
        }
        let infoBytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/info.json")))
        return [("csv-only", MultiPart.join(parts)), ("with-info", MultiPart.join(parts + [infoBytes]))]
    }
}

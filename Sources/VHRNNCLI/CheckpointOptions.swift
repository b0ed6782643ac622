import ArgumentParser
import Foundation
import VHRNN

/// Resolves `--checkpoint DIR`: a checkpoint directory itself, or a training output directory
/// (then its `best/` checkpoint).
func resolveCheckpoint(_ path: String) throws -> String {
    let fm = FileManager.default
    if fm.fileExists(atPath: (path as NSString).appendingPathComponent(Checkpoint.modelFile)) { return path }
    let best = (path as NSString).appendingPathComponent("best")
    if fm.fileExists(atPath: (best as NSString).appendingPathComponent(Checkpoint.modelFile)) { return best }
    throw ValidationError("--checkpoint \(path): no checkpoint there (expected \(Checkpoint.modelFile), or a training output directory with best/)")
}

extension SplitName: ExpressibleByArgument {}

/// The dataset a checkpoint was trained on, unless `--data` names another.
func dataset(for checkpoint: LoadedCheckpoint, data: String?, seed: UInt64) throws -> (SequenceDataset, DataSource) {
    let source = try DataSource(parsing: data ?? checkpoint.config.data.source)
    let dataset = try source.load(seed: seed)
    guard dataset.dataDim == checkpoint.config.model.dataDim else {
        throw ValidationError("--data \(source): \(dataset.dataDim) dimensions, but the checkpoint's model has \(checkpoint.config.model.dataDim)")
    }
    return (dataset, source)
}

import ArgumentParser
import Foundation
import VHRNN

/// Resolves an `--out` value that names a file prefix or a directory.
///
/// - nil: `defaultName` in the current directory;
/// - an existing directory, or a path ending in `/`: `DIR/defaultName` (the directory is created);
/// - otherwise the value itself is the prefix (a trailing extension from `strip` is dropped, so
///   `--out run/diag.svg` and `--out run/diag` both give `run/diag`); its parent directory is
///   created if needed.
func outputPrefix(_ out: String?, defaultName: String, strip extensions: [String] = []) throws -> String {
    let fm = FileManager.default
    guard let out, !out.isEmpty else { return defaultName }
    var isDirectory: ObjCBool = false
    if out.hasSuffix("/") || (fm.fileExists(atPath: out, isDirectory: &isDirectory) && isDirectory.boolValue) {
        try createDirectory(out)
        return (out as NSString).appendingPathComponent(defaultName)
    }
    // Plain string handling: (NSString).deletingLastPathComponent crashes on some relative
    // paths in swift-corelibs-foundation.
    var prefix = out
    let slash = prefix.lastIndex(of: "/")
    let name = slash.map { prefix[prefix.index(after: $0)...] } ?? prefix[...]
    if let dot = name.lastIndex(of: "."), dot != name.startIndex,
       extensions.contains(name[name.index(after: dot)...].lowercased()) {
        prefix = String(prefix[..<dot])
    }
    if let slash, slash != prefix.startIndex { try createDirectory(String(prefix[..<slash])) }
    return prefix
}

/// Creates a directory (and its parents); the error names it.
func createDirectory(_ path: String) throws {
    do {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    } catch {
        throw DataFileError(path: path, message: "cannot create directory: \(error.localizedDescription)")
    }
}

/// Writes text or bytes to `path` atomically; the error names the file.
func writeFile(_ data: Data, to path: String) throws {
    do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
        throw DataFileError(path: path, message: "cannot write: \(error.localizedDescription)")
    }
}

/// A JSON-safe number: non-finite values become null (JSONSerialization refuses NaN and inf).
func jsonNumber(_ v: Double) -> Any { v.isFinite ? v : NSNull() }

func jsonNumbers(_ values: [Double]) -> [Any] { values.map(jsonNumber) }

/// Loads a checkpoint and its model for inference (no training state), optionally under other
/// step semantics than it was saved with (the parameters are the same).
func loadInferenceModel(_ checkpoint: String, semantics: StepSemantics? = nil)
    throws -> (directory: String, loaded: LoadedCheckpoint, model: SequenceModel<Float>) {
    let directory = try resolveCheckpoint(checkpoint)
    var loaded = try Checkpoint.load(directory: directory)
    if let semantics { loaded.config.model.semantics = semantics }
    let (model, _) = try SequenceModel<Float>.load(checkpoint: loaded, includeTrainingState: false)
    return (directory, loaded, model)
}

/// One sequence of a split, with a clear error when the index is out of range.
func sequenceFrames(of split: SplitName, in dataset: SequenceDataset, index: Int, source: DataSource) throws -> [Double] {
    let data = dataset.split(split)
    guard data.count > 0 else { throw CLIError("the \(split.rawValue) split of \(source) is empty") }
    guard (0..<data.count).contains(index) else {
        throw CLIError("sequence index \(index) is out of range: the \(split.rawValue) split of \(source) has "
            + "\(data.count) sequence\(data.count == 1 ? "" : "s") (0...\(data.count - 1))")
    }
    guard data.length(of: index) > 0 else {
        throw CLIError("\(split.rawValue) sequence \(index) of \(source) has no frames")
    }
    // Targets are the raw frames (for binary data, inputs are mean-centred).
    return data.targets[index]
}

/// A run-time error with a one-line message.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}

/// Limits that keep a mistyped number from exhausting memory (a clear error instead of a crash).
enum Limits {
    /// Values (samples × steps × dimensions) `vhrnn sample` holds and writes.
    static let sampleValues = 25_000_000
    /// Particles × steps of the taped filter pass in `vhrnn diagnose`.
    static let diagnoseParticleSteps = 2_000_000
    /// Particles of the prefix filter in `vhrnn sample`.
    static let sampleParticles = 100_000
}

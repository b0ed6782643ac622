import Foundation

/// Saving and loading a model checkpoint: a directory holding
///
/// - `model.safetensors` — one tensor per ``ParameterLayout`` tensor, named and shaped as in the
///   layout, `F32` or `F64` per the store's scalar type; `__metadata__` has
///   `format: "vhrnn-checkpoint-1"` and `precision`.
/// - `config.json` — a ``CheckpointConfig`` (pretty-printed, sorted keys).
/// - `training_state.safetensors` — Adam's moments as `adam_m.<name>` and `adam_v.<name>`, one
///   pair per parameter tensor, same shapes and dtype; `__metadata__` has
///   `format: "vhrnn-training-state-1"`. Present only when a ``TrainingState`` was saved.
/// - `training_state.json` — the ``TrainingState`` (step, generator state, epoch, best
///   validation, options). Present exactly when `training_state.safetensors` is.
///
/// Saving is atomic: everything is written and fsynced into a sibling `DIR.tmp-<random>`; then an
/// existing `DIR` is renamed to `DIR.old-<random>`, the temporary directory renamed to `DIR`, the
/// parent directory fsynced and the old copy deleted. A failure or crash at any point leaves
/// either the previous checkpoint or the new one at `DIR` — except in the instant between the two
/// renames, after which ``load(directory:)`` reports the `.old-` sibling that holds the previous
/// checkpoint. See docs/CHECKPOINTS.md.
public struct Checkpoint {
    /// `model.safetensors`: the parameter values, one tensor per layout tensor.
    public static let modelFile = "model.safetensors"
    /// `config.json`: the ``CheckpointConfig`` (model, data, precision, parameter count).
    public static let configFile = "config.json"
    /// `training_state.safetensors`: Adam's moments (resumable checkpoints only).
    public static let trainingStateFile = "training_state.safetensors"
    /// `training_state.json`: the ``TrainingState`` (resumable checkpoints only).
    public static let trainingStateJSONFile = "training_state.json"
    /// Every file a checkpoint directory may hold.
    public static let fileNames: Set<String> = [modelFile, configFile, trainingStateFile, trainingStateJSONFile]

    /// `__metadata__["format"]` of `model.safetensors`.
    public static let modelFormat = "vhrnn-checkpoint-1"
    /// `__metadata__["format"]` of `training_state.safetensors`.
    public static let trainingStateFormat = "vhrnn-training-state-1"
    /// Prefix of the names of Adam's first-moment tensors in `training_state.safetensors`
    /// (`adam_m.<parameter name>`).
    public static let firstMomentPrefix = "adam_m."
    /// Prefix of the names of Adam's second-moment tensors (`adam_v.<parameter name>`).
    public static let secondMomentPrefix = "adam_v."

    /// Saves `store`'s values (and, with `trainingState`, its Adam moments and step) with the
    /// model and data description to `directory`, atomically replacing a previous checkpoint
    /// there. `trainingState.step` is ignored: the store's `step` is written.
    ///
    /// An existing `directory` is only replaced if it looks like a checkpoint (it holds nothing
    /// but checkpoint files); anything else is refused, so a mistyped path cannot delete data.
    /// Leftovers of an interrupted earlier save are tidied first (``removeLeftovers(of:)``).
    ///
    /// - Parameters:
    ///   - store: the parameters (and Adam moments) to write, in the store's precision.
    ///   - model: the configuration the store's layout was built from.
    ///   - data: where the training data came from and how it was transformed.
    ///   - trainingState: what is needed to resume training; nil writes a model-only checkpoint.
    ///   - directory: the checkpoint directory (its parent is created if needed).
    /// - Returns: the config written to `config.json`.
    /// - Throws: ``DataFileError`` naming the path when `directory` is not a checkpoint
    ///   directory, or a file cannot be created, written, synced or renamed.
    /// - Complexity: O(parameter count) time and memory: everything is serialised before the
    ///   disk is touched.
    @discardableResult
    public static func save<S: KernelScalar>(_ store: ParameterStore<S>, model: ModelConfiguration, data: DataSpec,
                                             trainingState: TrainingState? = nil, to directory: String) throws -> CheckpointConfig {
        try save(store, model: model, data: data, trainingState: trainingState, to: directory, afterWriting: { _ in })
    }

    /// ``save(_:model:data:trainingState:to:)`` with a hook called after each file is written
    /// into the temporary directory (with the file name) and before the renames (with
    /// `"rename"`); a hook that throws simulates a failure at that point (for tests).
    static func save<S: KernelScalar>(_ store: ParameterStore<S>, model: ModelConfiguration, data: DataSpec,
                                      trainingState: TrainingState?, to directory: String,
                                      afterWriting hook: (String) throws -> Void) throws -> CheckpointConfig {
        let dir = normalized(directory)
        let config = CheckpointConfig(model: model, data: data, precision: S.kernelPrecision, parameterCount: store.count,
                                      createdAt: ISO8601DateFormatter().string(from: Date()))

        // Everything is serialized before the disk is touched.
        var files: [(name: String, data: Data)] = []
        files.append((configFile, try encodeJSON(config, path: dir + "/" + configFile)))
        let dtype = SafeTensorsDType(S.kernelPrecision)
        func tensors(_ arena: UnsafeMutablePointer<S>, prefix: String) -> [SafeTensorsEntry] {
            store.layout.tensors.map { t in
                SafeTensorsEntry(name: prefix + t.name, dtype: dtype, shape: t.shape,
                                 data: CheckpointValues.littleEndianBytes(UnsafePointer(arena + t.offset), count: t.count))
            }
        }
        let modelMetadata = ["format": modelFormat, "precision": S.kernelPrecision.rawValue]
        files.append((modelFile, try SafeTensorsFile(tensors: tensors(store.values, prefix: ""), metadata: modelMetadata)
            .serialized(path: dir + "/" + modelFile)))
        if var state = trainingState {
            state.step = store.step
            let moments = tensors(store.firstMoment, prefix: firstMomentPrefix) + tensors(store.secondMoment, prefix: secondMomentPrefix)
            files.append((trainingStateFile, try SafeTensorsFile(tensors: moments, metadata: ["format": trainingStateFormat,
                                                                                              "precision": S.kernelPrecision.rawValue])
                .serialized(path: dir + "/" + trainingStateFile)))
            files.append((trainingStateJSONFile, try encodeJSON(state, path: dir + "/" + trainingStateJSONFile)))
        }

        let fm = FileManager.default
        try removeLeftovers(of: dir)
        var isDirectory: ObjCBool = false
        let exists = fm.fileExists(atPath: dir, isDirectory: &isDirectory)
        if exists {
            guard isDirectory.boolValue else {
                throw DataFileError(path: dir, message: "exists and is not a directory; refusing to replace it with a checkpoint")
            }
            let entries = (try? fm.contentsOfDirectory(atPath: dir)) ?? []
            let foreign = entries.filter { !fileNames.contains($0) }.sorted()
            guard foreign.isEmpty else {
                throw DataFileError(path: dir, message: "is not a checkpoint directory (it holds \(foreign.prefix(3).joined(separator: ", "))"
                                    + (foreign.count > 3 ? ", …" : "") + "); refusing to replace it")
            }
        }
        let parent = (dir as NSString).deletingLastPathComponent
        let parentPath = parent.isEmpty ? "." : parent
        do {
            try fm.createDirectory(atPath: parentPath, withIntermediateDirectories: true)
        } catch {
            throw DataFileError(path: parentPath, message: "cannot create directory: \(error.localizedDescription)")
        }

        let temporary = "\(dir).tmp-\(DurableFiles.randomSuffix())"
        do {
            try fm.createDirectory(atPath: temporary, withIntermediateDirectories: false)
        } catch {
            throw DataFileError(path: temporary, message: "cannot create directory: \(error.localizedDescription)")
        }
        do {
            for file in files {
                try DurableFiles.writeFile(file.data, to: temporary + "/" + file.name)
                try hook(file.name)
            }
            try DurableFiles.syncDirectory(temporary)
            try hook("rename")
        } catch {
            try? fm.removeItem(atPath: temporary)
            throw error
        }

        if exists {
            let old = "\(dir).old-\(DurableFiles.randomSuffix())"
            do {
                try DurableFiles.renameItem(dir, to: old)
            } catch {
                try? fm.removeItem(atPath: temporary)
                throw error
            }
            do {
                try DurableFiles.renameItem(temporary, to: dir)
            } catch {
                try? DurableFiles.renameItem(old, to: dir)
                try? fm.removeItem(atPath: temporary)
                throw error
            }
            try DurableFiles.syncDirectory(parentPath)
            try? fm.removeItem(atPath: old)
        } else {
            do {
                try DurableFiles.renameItem(temporary, to: dir)
            } catch {
                try? fm.removeItem(atPath: temporary)
                throw error
            }
            try DurableFiles.syncDirectory(parentPath)
        }
        return config
    }

    /// Tidies what a writer killed in the middle of ``save(_:model:data:trainingState:to:)``
    /// left beside `directory` (called by the trainer when it starts, before it looks for a
    /// checkpoint to resume, and by every save):
    ///
    /// - `DIR.tmp-*` (a new checkpoint not yet renamed into place) are removed;
    /// - if `DIR` is missing but `DIR.old-*` exist (killed between the two renames), the newest
    ///   `.old-` — the previous complete checkpoint — is renamed back to `DIR`;
    /// - remaining `DIR.old-*` (superseded by `DIR`) are removed.
    ///
    /// Only names of exactly that form (the base name, the marker and a random suffix of the
    /// length saves use) are touched.
    ///
    /// - Parameter directory: the checkpoint directory whose siblings are inspected.
    /// - Returns: the names removed or restored (empty when the parent cannot be listed).
    /// - Throws: ``DataFileError`` when an `.old-` copy cannot be renamed back.
    @discardableResult
    public static func removeLeftovers(of directory: String) throws -> [String] {
        let dir = normalized(directory)
        let fm = FileManager.default
        let parent = (dir as NSString).deletingLastPathComponent
        let parentPath = parent.isEmpty ? "." : parent
        let base = (dir as NSString).lastPathComponent
        guard let entries = try? fm.contentsOfDirectory(atPath: parentPath) else { return [] }
        func isLeftover(_ name: String, _ kind: String) -> Bool {
            name.hasPrefix(base + kind) && name.count == base.count + kind.count + DurableFiles.randomSuffixLength
        }
        let temporaries = entries.filter { isLeftover($0, ".tmp-") }
        var olds = entries.filter { isLeftover($0, ".old-") }
        var touched: [String] = []
        for name in temporaries {
            try? fm.removeItem(atPath: (parentPath as NSString).appendingPathComponent(name))
            touched.append(name)
        }
        if !fm.fileExists(atPath: dir), !olds.isEmpty {
            func modified(_ name: String) -> Date {
                ((try? fm.attributesOfItem(atPath: (parentPath as NSString).appendingPathComponent(name)))?[.modificationDate]
                    as? Date) ?? .distantPast
            }
            let newest = olds.max { modified($0) < modified($1) }!
            try DurableFiles.renameItem((parentPath as NSString).appendingPathComponent(newest), to: dir)
            try DurableFiles.syncDirectory(parentPath)
            olds.removeAll { $0 == newest }
            touched.append(newest)
        }
        for name in olds {
            try? fm.removeItem(atPath: (parentPath as NSString).appendingPathComponent(name))
            touched.append(name)
        }
        return touched
    }

    /// Reads and validates a checkpoint directory: config, parameter tensors and, if present,
    /// the training state and Adam moments. Use ``LoadedCheckpoint/restore(into:includeTrainingState:)``
    /// or ``LoadedCheckpoint/makeStore(_:layout:includeTrainingState:)`` to get a
    /// ``ParameterStore``, or ``SequenceModel/load(checkpoint:includeTrainingState:)`` for a model.
    ///
    /// Nothing of a size the files claim is allocated before it is checked against the file.
    ///
    /// - Parameter directory: the checkpoint directory.
    /// - Returns: the checkpoint's config, tensors (in their stored precision) and training state.
    /// - Throws: ``DataFileError`` naming the file and the field or tensor: no such directory
    ///   (with a hint when an interrupted save left a `.old-` copy), an unsupported format
    ///   version, a malformed safetensors file, a wrong `format` entry, a dtype other than F32 or
    ///   F64, a NaN or infinity in any tensor, a parameter count that contradicts `config.json`,
    ///   only one of the two training-state files, or moments that do not pair up with the
    ///   parameters.
    public static func load(directory: String) throws -> LoadedCheckpoint {
        let dir = normalized(directory)
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: dir, isDirectory: &isDirectory) else {
            let parent = (dir as NSString).deletingLastPathComponent
            let base = (dir as NSString).lastPathComponent
            let siblings = ((try? fm.contentsOfDirectory(atPath: parent.isEmpty ? "." : parent)) ?? [])
                .filter { $0.hasPrefix(base + ".old-") }.sorted()
            if let old = siblings.first {
                throw DataFileError(path: dir, message: "no checkpoint directory, but \(old) exists: a save was interrupted "
                                    + "after moving the previous checkpoint aside; rename \(old) to \(base) to recover it")
            }
            throw DataFileError(path: dir, message: "no such checkpoint directory")
        }
        guard isDirectory.boolValue else { throw DataFileError(path: dir, message: "is not a directory") }

        let configPath = dir + "/" + configFile
        let config = try decodeJSON(CheckpointConfig.self, path: configPath)
        guard config.formatVersion == CheckpointConfig.currentFormatVersion else {
            throw DataFileError(path: configPath, location: "formatVersion",
                                message: "unsupported format version \(config.formatVersion) (this library reads \(CheckpointConfig.currentFormatVersion))")
        }

        let modelPath = dir + "/" + modelFile
        let modelTensors = try SafeTensorsFile.read(path: modelPath)
        try checkFormat(modelTensors, expected: modelFormat, path: modelPath)
        let parameters = try floatTensors(modelTensors.tensors, path: modelPath)
        let total = parameters.reduce(0) { $0 + $1.values.count }
        guard total == config.parameterCount else {
            throw DataFileError(path: modelPath, message: "holds \(total) parameters but config.json says \(config.parameterCount)")
        }

        let statePath = dir + "/" + trainingStateFile
        let stateJSONPath = dir + "/" + trainingStateJSONFile
        let hasState = fm.fileExists(atPath: statePath), hasStateJSON = fm.fileExists(atPath: stateJSONPath)
        guard hasState == hasStateJSON else {
            throw DataFileError(path: hasState ? stateJSONPath : statePath,
                                message: "missing, but \(hasState ? trainingStateFile : trainingStateJSONFile) exists (both or neither are needed)")
        }
        var trainingState: TrainingState?
        var firstMoments: [CheckpointTensor]?, secondMoments: [CheckpointTensor]?
        if hasState {
            trainingState = try decodeJSON(TrainingState.self, path: stateJSONPath)
            let file = try SafeTensorsFile.read(path: statePath)
            try checkFormat(file, expected: trainingStateFormat, path: statePath)
            let moments = try floatTensors(file.tensors, path: statePath)
            var m: [String: CheckpointTensor] = [:], v: [String: CheckpointTensor] = [:]
            for t in moments {
                if t.name.hasPrefix(firstMomentPrefix) {
                    m[String(t.name.dropFirst(firstMomentPrefix.count))] = t
                } else if t.name.hasPrefix(secondMomentPrefix) {
                    v[String(t.name.dropFirst(secondMomentPrefix.count))] = t
                } else {
                    throw DataFileError(path: statePath, location: "tensor \(t.name)",
                                        message: "unexpected tensor (names must start with \(firstMomentPrefix) or \(secondMomentPrefix))")
                }
            }
            var firsts: [CheckpointTensor] = [], seconds: [CheckpointTensor] = []
            for p in parameters {
                for (prefix, table) in [(firstMomentPrefix, m), (secondMomentPrefix, v)] {
                    guard var t = table[p.name] else {
                        throw DataFileError(path: statePath, location: "tensor \(prefix + p.name)", message: "missing")
                    }
                    guard t.shape == p.shape else {
                        throw DataFileError(path: statePath, location: "tensor \(prefix + p.name)",
                                            message: "has shape \(t.shape) but the parameter has \(p.shape)")
                    }
                    t.name = p.name
                    if prefix == firstMomentPrefix { firsts.append(t) } else { seconds.append(t) }
                }
            }
            guard m.count == parameters.count, v.count == parameters.count else {
                let known = Set(parameters.map(\.name))
                let extra = (m.keys.filter { !known.contains($0) }.map { firstMomentPrefix + $0 }
                             + v.keys.filter { !known.contains($0) }.map { secondMomentPrefix + $0 }).sorted()
                throw DataFileError(path: statePath, location: "tensor \(extra.first ?? "?")",
                                    message: "moment of a parameter that \(modelFile) does not have")
            }
            firstMoments = firsts
            secondMoments = seconds
        }
        return LoadedCheckpoint(directory: dir, config: config, trainingState: trainingState, parameters: parameters,
                                firstMoments: firstMoments, secondMoments: secondMoments)
    }

    // MARK: Helpers

    static func normalized(_ path: String) -> String {
        var p = path
        while p.count > 1, p.hasSuffix("/") { p.removeLast() }
        return p
    }

    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }

    static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }

    static func encodeJSON<T: Encodable>(_ value: T, path: String) throws -> Data {
        do {
            var data = try encoder().encode(value)
            data.append(0x0A)
            return data
        } catch {
            throw DataFileError(path: path, message: "cannot encode: \(error)")
        }
    }

    static func decodeJSON<T: Decodable>(_ type: T.Type, path: String) throws -> T {
        try JSONFile.decode(type, path: path, decoder: decoder())
    }

    private static func checkFormat(_ file: SafeTensorsFile, expected: String, path: String) throws {
        guard let format = file.metadata["format"] else {
            throw DataFileError(path: path, location: "__metadata__", message: "no \"format\" entry; not a VHRNN checkpoint file")
        }
        guard format == expected else {
            throw DataFileError(path: path, location: "__metadata__.format", message: "is \"\(format)\", expected \"\(expected)\"")
        }
    }

    private static func floatTensors(_ entries: [SafeTensorsEntry], path: String) throws -> [CheckpointTensor] {
        try entries.map { e in
            guard let values = CheckpointValues(dtype: e.dtype, bytes: e.data) else {
                throw DataFileError(path: path, location: "tensor \(e.name)", message: "has dtype \(e.dtype.rawValue); expected F32 or F64")
            }
            // A NaN or infinity in a weight can vanish inside a ReLU and leave a finite-looking
            // bound: a damaged file is refused, not evaluated.
            if let index = values.firstNonFiniteIndex {
                throw DataFileError(path: path, location: "tensor \(e.name)",
                                    message: "element \(index) is \(values.describe(index)); checkpoint values must be finite")
            }
            return CheckpointTensor(name: e.name, shape: e.shape, values: values)
        }
    }
}

import Foundation

/// An ``OnlineFilter`` between two frames, as a file: enough to continue every stream exactly
/// after a restart (``OnlineFilter/save(to:)``, ``OnlineFilter/init(model:restoringFrom:)``).
///
/// JSON, with the model it belongs to identified by its configuration and a CRC-32C of its
/// parameters, so that a stream is never continued by another model.
public struct OnlineFilterState: Codable, Sendable, Equatable {
    /// The format's version (1).
    public var format = 1
    /// The model's configuration.
    public var configuration: ModelConfiguration
    /// The CRC-32C of the model's parameter bytes: a state restores only into the same model.
    public var parameterChecksum: UInt32
    /// `float32` or `float64`: the filter's precision (a stream continues in the same one).
    public var precision: String
    /// The filter's settings.
    public var settings: FilterSettings
    /// The number of streams filtered side by side.
    public var streams: Int
    /// Each stream's noise key.
    public var noiseKeys: [UInt64]
    /// The filter's seed.
    public var seed: UInt64
    /// The offset subtracted from every frame before the encoder (nil: none).
    public var inputOffset: [Double]?
    /// Weights, noise states, the state the last step wrote and the pending gather.
    var stream: StreamSnapshot
}

extension OnlineFilter {
    /// The filter as it stands: what ``save(to:)`` writes.
    public var state: OnlineFilterState {
        OnlineFilterState(configuration: model.configuration, parameterChecksum: Self.checksum(model),
                          precision: S.kernelPrecision == .float32 ? "float32" : "float64", settings: settings,
                          streams: streams, noiseKeys: noiseKeys, seed: seed, inputOffset: inputOffset,
                          stream: smc.streamSnapshot())
    }

    /// Writes ``state`` to `path` atomically: a temporary file in the same folder, fsynced, then
    /// renamed over `path`, so a crash leaves either the old file or the new one.
    /// - Throws: ``DataFileError`` naming the path.
    public func save(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(state)
        let folder = (path as NSString).deletingLastPathComponent
        let temporary = path + ".tmp-" + DurableFiles.randomSuffix()
        do {
            try DurableFiles.writeFile(data, to: temporary)
            try DurableFiles.renameItem(temporary, to: path)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        try DurableFiles.syncDirectory(folder.isEmpty ? "." : folder)
    }

    /// A filter that continues the streams saved in `path` by ``save(to:)``.
    /// - Throws: ``OnlineFilterError`` naming the file when it cannot be read, is not such a
    ///   state, or belongs to another model, precision or shape.
    public convenience init(model: SequenceModel<S>, restoringFrom path: String) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw OnlineFilterError("\(path): cannot read (\(error.localizedDescription))")
        }
        let state: OnlineFilterState
        do { state = try JSONDecoder().decode(OnlineFilterState.self, from: data) } catch {
            throw OnlineFilterError("\(path): not an online filter state (\(Self.describe(error)))")
        }
        try self.init(model: model, restoring: state, source: path)
    }

    /// A filter that continues the streams of `state`.
    /// - Throws: ``OnlineFilterError`` when `state` belongs to another model, precision or shape.
    public convenience init(model: SequenceModel<S>, restoring state: OnlineFilterState) throws {
        try self.init(model: model, restoring: state, source: "the state")
    }

    private convenience init(model: SequenceModel<S>, restoring state: OnlineFilterState, source: String) throws {
        guard state.format == 1 else { throw OnlineFilterError("\(source): format \(state.format), this version reads 1") }
        guard state.configuration == model.configuration else {
            throw OnlineFilterError("\(source): saved for another model configuration")
        }
        guard state.parameterChecksum == Self.checksum(model) else {
            throw OnlineFilterError("\(source): saved for other parameters (checksum \(state.parameterChecksum), the model's \(Self.checksum(model)))")
        }
        let precision = S.kernelPrecision == .float32 ? "float32" : "float64"
        guard state.precision == precision else {
            throw OnlineFilterError("\(source): saved in \(state.precision), this filter runs in \(precision)")
        }
        try self.init(model: model, settings: state.settings, streams: state.streams, seed: state.seed,
                      noiseKeys: state.noiseKeys, inputOffset: state.inputOffset)
        if let problem = smc.restoreStream(state.stream) { throw OnlineFilterError("\(source): \(problem)") }
        restoredSteps(state.stream.steps)
    }

    static func checksum(_ model: SequenceModel<S>) -> UInt32 {
        CRC32C.update(0, UnsafeRawBufferPointer(start: model.parameters.values,
                                                count: model.parameters.count * MemoryLayout<S>.stride))
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "no field \(key.stringValue)"
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            return "bad field \(c.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.dataCorrupted(let c):
            return c.codingPath.isEmpty ? "not JSON" : "bad field \(c.codingPath.map(\.stringValue).joined(separator: "."))"
        default: return "\(error)"
        }
    }
}

/// A checkpoint read by ``Checkpoint/load(directory:)``: its config, training state and raw
/// tensors, ready to be restored into a ``ParameterStore``.
public struct LoadedCheckpoint: Sendable, Equatable {
    /// The directory it was read from.
    public var directory: String
    /// The contents of `config.json`: model configuration, data description, precision.
    public var config: CheckpointConfig
    /// Nil when the checkpoint was saved without training state.
    public var trainingState: TrainingState?
    /// Parameter tensors in file order (the layout's order for checkpoints this library wrote).
    public var parameters: [CheckpointTensor]
    /// Adam's first moments, named and ordered as ``parameters`` (nil without training state).
    public var firstMoments: [CheckpointTensor]?
    /// Adam's second moments, named and ordered as ``parameters`` (nil without training state).
    public var secondMoments: [CheckpointTensor]?

    /// The parameter tensor with this name (e.g. `rnn.input_weight`), if any.
    public func parameter(named name: String) -> CheckpointTensor? { parameters.first { $0.name == name } }

    /// Copies the checkpoint into `store`: values always; with `includeTrainingState` also
    /// Adam's moments and step (zero moments and step 0 if the checkpoint has no training
    /// state). Gradients are zeroed.
    ///
    /// Every layout tensor must be present with the same shape, and the checkpoint must have no
    /// other tensor; otherwise a ``DataFileError`` names the tensor and nothing is changed.
    /// Tensors of the other precision are converted (Float → Double exactly, Double → Float
    /// rounded to nearest); the returned notes say so.
    ///
    /// - Parameters:
    ///   - store: the destination; its layout decides which tensors are expected.
    ///   - includeTrainingState: also restore Adam's moments and step (false: only the values;
    ///     the store's moments and step are left as they are).
    /// - Returns: notes for the user (a precision conversion, moments reset for want of a
    ///   training state); empty when the copy was exact.
    /// - Throws: ``DataFileError`` naming `model.safetensors` and the missing, mis-shaped or
    ///   unexpected tensor.
    /// - Complexity: O(parameter count).
    @discardableResult
    public func restore<S: KernelScalar>(into store: ParameterStore<S>, includeTrainingState: Bool = true) throws -> [String] {
        let modelPath = directory + "/" + Checkpoint.modelFile
        let layout = store.layout
        let byName = Dictionary(parameters.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for t in layout.tensors {
            guard let p = byName[t.name] else {
                throw DataFileError(path: modelPath, location: "tensor \(t.name)",
                                    message: "missing; the model's layout expects shape \(t.shape)")
            }
            guard p.shape == t.shape else {
                throw DataFileError(path: modelPath, location: "tensor \(t.name)",
                                    message: "has shape \(p.shape) but the model's layout expects \(t.shape)")
            }
        }
        if let extra = parameters.first(where: { layout.tensor(named: $0.name) == nil }) {
            throw DataFileError(path: modelPath, location: "tensor \(extra.name)",
                                message: "not a parameter of the model's layout (a different model configuration?)")
        }

        var notes: [String] = []
        func appendOnce(_ note: String) { if !notes.contains(note) { notes.append(note) } }
        func copy(_ tensors: [CheckpointTensor], into arena: UnsafeMutablePointer<S>, file: String) {
            var converted = false
            for c in tensors {
                let t = layout.tensor(named: c.name)!
                let values: [S] = c.values.converted()
                values.withUnsafeBufferPointer { (arena + t.offset).update(from: $0.baseAddress!, count: t.count) }
                if c.values.precision != S.kernelPrecision { converted = true }
            }
            if converted {
                appendOnce("\(file): tensors stored as \(S.kernelPrecision == .float32 ? "float64" : "float32") were converted to "
                             + "\(S.kernelPrecision.rawValue)\(S.kernelPrecision == .float32 ? " (rounded to nearest)" : " (exactly)")")
            }
        }
        store.zeroGradients()
        copy(parameters, into: store.values, file: Checkpoint.modelFile)
        if includeTrainingState {
            if let state = trainingState, let m = firstMoments, let v = secondMoments {
                copy(m, into: store.firstMoment, file: Checkpoint.trainingStateFile)
                copy(v, into: store.secondMoment, file: Checkpoint.trainingStateFile)
                store.step = state.step
            } else {
                store.firstMoment.update(repeating: 0, count: store.count)
                store.secondMoment.update(repeating: 0, count: store.count)
                store.step = 0
                notes.append("no training state in the checkpoint: Adam moments and step reset to zero")
            }
        }
        return notes
    }

    /// A new store for `layout` holding the checkpoint's values, moments and step (see
    /// ``restore(into:includeTrainingState:)``).
    ///
    /// - Parameters:
    ///   - _: the store's scalar type, e.g. `Float.self` (inferred from the context if omitted).
    ///   - layout: the layout of the model the checkpoint belongs to.
    ///   - includeTrainingState: also restore Adam's moments and step.
    /// - Returns: the filled store.
    /// - Throws: ``DataFileError`` when the tensors do not match `layout`.
    public func makeStore<S: KernelScalar>(_: S.Type = S.self, layout: ParameterLayout,
                                           includeTrainingState: Bool = true) throws -> ParameterStore<S> {
        var generator = SplitMix64(seed: 0)
        let store = ParameterStore<S>(layout: layout, generator: &generator)
        try restore(into: store, includeTrainingState: includeTrainingState)
        return store
    }
}

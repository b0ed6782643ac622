/// A padded, time-major batch of sequences ready for the particle filter.
///
/// `inputs` and `targets` are `(T, B, D)` with T the longest length in the batch; frames past
/// a sequence's end are zero and masked out. `noiseKeys` identify each sequence's noise stream
/// (by default its index in the split), so a sequence sees the same noise whichever batch it is
/// in — what makes "a padded batch equals each sequence alone" testable.
public struct SequenceBatch<Scalar: KernelScalar> {
    /// D, the values per frame.
    public let dataDim: Int
    /// Each sequence's length T_b (at least 1).
    public let lengths: [Int]
    /// Each sequence's noise key: the filter seeds the sequence's noise stream from the pass
    /// seed and this key.
    public let noiseKeys: [UInt64]
    /// T, the longest length in the batch (the padded time dimension).
    public let maxLength: Int
    /// `(T, B, D)` encoder inputs.
    public let inputs: [Scalar]
    /// `(T, B, D)` emission targets.
    public let targets: [Scalar]
    /// `(T, B)`: 1 inside a sequence, 0 after its end.
    public let mask: [Scalar]

    /// B, the number of sequences.
    public var count: Int { lengths.count }
    /// Σ_b T_b, the steps that are not padding.
    public var totalSteps: Int { lengths.reduce(0, +) }

    /// Pads `indices` of `split` into one batch, converting to `Scalar`.
    ///
    /// - Parameters:
    ///   - split: the sequences to draw from.
    ///   - indices: which sequences, in batch order (at least one; a precondition).
    ///   - noiseKeys: one key per sequence; nil: the indices themselves, so a sequence's noise
    ///     depends only on its place in the split.
    /// - Throws: ``BatchError`` when a sequence is empty or a value is not finite after
    ///   conversion (e.g. a double beyond `Float`'s range).
    /// - Complexity: O(T · B · D).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public init(split: SequenceSplit, indices: [Int], noiseKeys: [UInt64]? = nil) throws {
        precondition(!indices.isEmpty, "a batch needs at least one sequence")
        let d = split.dataDim
        let lengths = indices.map { split.length(of: $0) }
        if let bad = lengths.firstIndex(of: 0) {
            throw BatchError(message: "sequence \(indices[bad]) is empty")
        }
        let b = indices.count, t = lengths.max()!
        var inputs = [Scalar](repeating: 0, count: t * b * d)
        var targets = inputs
        var mask = [Scalar](repeating: 0, count: t * b)
        for (j, index) in indices.enumerated() {
            let x = split.inputs[index], y = split.targets[index]
            for step in 0..<lengths[j] {
                mask[step * b + j] = 1
                for k in 0..<d {
                    inputs[(step * b + j) * d + k] = Scalar(x[step * d + k])
                    targets[(step * b + j) * d + k] = Scalar(y[step * d + k])
                }
            }
        }
        for v in inputs + targets where !v.isFinite {
            throw BatchError(message: "non-finite value in the data (sequences \(indices))")
        }
        self.dataDim = d
        self.lengths = lengths
        self.noiseKeys = noiseKeys ?? indices.map { UInt64($0) }
        self.maxLength = t
        self.inputs = inputs
        self.targets = targets
        self.mask = mask
    }
}

/// A batch cannot be built from the data: an empty sequence or a non-finite value.
public struct BatchError: Error, CustomStringConvertible, Sendable {
    /// Which sequences and what is wrong.
    public var message: String
    /// `invalid batch: ` followed by the message.
    public var description: String { "invalid batch: \(message)" }
}

/// A padded, time-major batch of sequences ready for the particle filter.
///
/// `inputs` and `targets` are `(T, B, D)` with T the longest length in the batch; frames past
/// a sequence's end are zero and masked out. `noiseKeys` identify each sequence's noise stream
/// (by default its index in the split), so a sequence sees the same noise whichever batch it is
/// in — what makes "a padded batch equals each sequence alone" testable.
public struct SequenceBatch<Scalar: KernelScalar> {
    public let dataDim: Int
    public let lengths: [Int]
    public let noiseKeys: [UInt64]
    public let maxLength: Int
    /// `(T, B, D)` encoder inputs.
    public let inputs: [Scalar]
    /// `(T, B, D)` emission targets.
    public let targets: [Scalar]
    /// `(T, B)`: 1 inside a sequence, 0 after its end.
    public let mask: [Scalar]

    public var count: Int { lengths.count }
    public var totalSteps: Int { lengths.reduce(0, +) }

    /// Pads `indices` of `split` into one batch.
    /// - Throws: ``DataFileError``-free: a precondition failure only for programmer errors;
    ///   empty sequences are rejected with ``BatchError``.
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

public struct BatchError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { "invalid batch: \(message)" }
}

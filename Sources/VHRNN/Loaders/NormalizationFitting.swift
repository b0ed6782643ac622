extension Normalization {
    /// Per-feature z-score statistics of every frame of `split` (population standard deviation,
    /// i.e. divided by the number of frames).
    ///
    /// A feature that is constant over the training frames gets std 1 rather than 0, so
    /// normalising leaves it centred instead of dividing by zero.
    public static func fitted(on split: SequenceSplit) -> Normalization {
        let d = split.dataDim
        var count = 0
        var mean = [Double](repeating: 0, count: d)
        // Two passes (mean, then squared deviations): more accurate than sum-of-squares when a
        // feature has a large offset, e.g. raw sensor resistances.
        for seq in split.inputs {
            var i = 0
            while i < seq.count {
                for j in 0..<d { mean[j] += seq[i + j] }
                i += d
                count += 1
            }
        }
        guard count > 0 else {
            return Normalization(mean: [Double](repeating: 0, count: d),
                                 std: [Double](repeating: 1, count: d))
        }
        for j in 0..<d { mean[j] /= Double(count) }
        var variance = [Double](repeating: 0, count: d)
        for seq in split.inputs {
            var i = 0
            while i < seq.count {
                for j in 0..<d {
                    let e = seq[i + j] - mean[j]
                    variance[j] += e * e
                }
                i += d
            }
        }
        let std = variance.map { v -> Double in
            let s = (v / Double(count)).squareRoot()
            return s > 0 && s.isFinite ? s : 1
        }
        return Normalization(mean: mean, std: std)
    }

    /// `(x - mean) / std` applied to every frame of `split` (inputs and targets alike, since for
    /// real-valued data they are the same values).
    public func apply(to split: SequenceSplit) -> SequenceSplit {
        let d = split.dataDim
        precondition(mean.count == d && std.count == d, "normalisation has the wrong dimension")
        func transform(_ seq: [Double]) -> [Double] {
            var out = seq
            for i in out.indices {
                let j = i % d
                out[i] = (out[i] - mean[j]) / std[j]
            }
            return out
        }
        return SequenceSplit(dataDim: d, inputs: split.inputs.map(transform),
                             targets: split.targets.map(transform))
    }
}

/// Cutting sequences into consecutive chunks, as the FIVO reference trains its piano-roll models
/// ("trunc_" datasets): a sequence of length L becomes x[0:n], x[n:2n], …, the last chunk
/// holding the remainder; every chunk is a sequence of its split.
extension SequenceSplit {
    /// This split with every sequence cut into consecutive chunks of at most `maxLength` steps,
    /// in order (chunks of sequence 0, then of sequence 1, …).
    public func chunked(maxLength: Int) -> SequenceSplit {
        precondition(maxLength >= 1, "chunks need at least one step")
        let width = maxLength * dataDim
        func cut(_ sequences: [[Double]]) -> [[Double]] {
            sequences.flatMap { s in
                stride(from: 0, to: s.count, by: width).map { Array(s[$0..<min($0 + width, s.count)]) }
            }
        }
        return SequenceSplit(dataDim: dataDim, inputs: cut(inputs), targets: cut(targets))
    }
}

extension SequenceDataset {
    /// Every split chunked (``SequenceSplit/chunked(maxLength:)``). The statistics the inputs
    /// were made with (training-frame mean, normalisation) are unchanged: chunking keeps every
    /// frame, so they are the same.
    public func chunked(maxLength: Int) -> SequenceDataset {
        var copy = self
        copy.train = train.chunked(maxLength: maxLength)
        copy.valid = valid.chunked(maxLength: maxLength)
        copy.test = test.chunked(maxLength: maxLength)
        return copy
    }
}

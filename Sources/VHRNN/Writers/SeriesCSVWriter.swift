import Foundation

/// Writes real-valued sequences as one long CSV table — the layout of the synthetic dataset
/// files (``SyntheticData/write(_:info:to:)``) and one that ``CSVSequenceLoader``
/// (`csv:PATH`) reads back:
///
///     sequence,step,x0,x1
///     0,0,0.5,-1.25
///     0,1,0.75,-1.0
///     1,0,...
///
/// - Header `sequence,step,` then one column per feature, `x0`, `x1`, ... unless names are
///   given. Sequence indices and steps are 0-based; rows are sequence-major, steps in order.
/// - Values are Swift's `Double.description`: the shortest decimal that parses back to the
///   same bits, so a round trip is exact. Non-finite values would be written as `nan`/`inf`,
///   which the loaders refuse.
/// - Sequences are flat row-major `(length, dataDim)` arrays, as in `SequenceSplit`. A
///   `Normalization` can be undone on the way out (`x * std + mean`) so that samples of a
///   model trained on z-scored data come out in the data's own units.
public enum SeriesCSVWriter {
    /// The header line (without newline): `sequence,step,x0,...` or with the given names.
    ///
    /// - Parameters:
    ///   - dataDim: the number of feature columns.
    ///   - featureNames: `dataDim` column names without commas, quotes or newlines (a
    ///     precondition); nil: `x0`, `x1`, ….
    public static func header(dataDim: Int, featureNames: [String]? = nil) -> String {
        let names = featureNames ?? (0..<dataDim).map { "x\($0)" }
        precondition(names.count == dataDim, "\(names.count) feature names for \(dataDim) features")
        precondition(names.allSatisfy { !$0.contains(",") && !$0.contains("\n") && !$0.contains("\"") },
                     "feature names cannot contain commas, quotes or newlines")
        return (["sequence", "step"] + names).joined(separator: ",")
    }

    /// The whole CSV text, ending with a newline.
    ///
    /// - Parameters:
    ///   - sequences: flat row-major sequences, each a whole number of `dataDim`-value frames.
    ///   - dataDim: values per frame (positive).
    ///   - featureNames: column names, as in ``header(dataDim:featureNames:)``.
    ///   - normalization: if given, each value `x` of feature `j` is written as
    ///     `x * std[j] + mean[j]`.
    /// - Returns: the header and one row per frame, sequence-major.
    /// - Complexity: O(total values).
    public static func csv(sequences: [[Double]], dataDim: Int, featureNames: [String]? = nil,
                           denormalizing normalization: Normalization? = nil) -> String {
        precondition(dataDim > 0, "dataDim must be positive")
        if let norm = normalization {
            precondition(norm.mean.count == dataDim && norm.std.count == dataDim,
                         "normalisation has the wrong dimension")
        }
        var text = header(dataDim: dataDim, featureNames: featureNames) + "\n"
        for (s, seq) in sequences.enumerated() {
            precondition(seq.count % dataDim == 0, "sequence \(s) is not a whole number of \(dataDim)-value frames")
            for t in 0..<(seq.count / dataDim) {
                text += "\(s),\(t)"
                for j in 0..<dataDim {
                    var v = seq[t * dataDim + j]
                    if let norm = normalization { v = v * norm.std[j] + norm.mean[j] }
                    text += "," + v.description
                }
                text += "\n"
            }
        }
        return text
    }

    /// The CSV text of a split's `inputs` (for real-valued data, the same values as its targets).
    ///
    /// - Parameters:
    ///   - split: the sequences to write.
    ///   - featureNames: column names, as in ``header(dataDim:featureNames:)``.
    ///   - normalization: if given, undone on the way out (`x * std + mean`).
    public static func csv(_ split: SequenceSplit, featureNames: [String]? = nil,
                           denormalizing normalization: Normalization? = nil) -> String {
        csv(sequences: split.inputs, dataDim: split.dataDim, featureNames: featureNames,
            denormalizing: normalization)
    }

    /// Writes ``csv(sequences:dataDim:featureNames:denormalizing:)`` to `path` (atomically).
    ///
    /// - Parameters:
    ///   - sequences: flat row-major sequences.
    ///   - dataDim: values per frame.
    ///   - featureNames: column names, as in ``header(dataDim:featureNames:)``.
    ///   - normalization: if given, undone on the way out.
    ///   - path: the file to write (replaced if it exists).
    /// - Throws: ``DataFileError`` naming `path` when it cannot be written.
    public static func write(sequences: [[Double]], dataDim: Int, featureNames: [String]? = nil,
                             denormalizing normalization: Normalization? = nil, to path: String) throws {
        let text = csv(sequences: sequences, dataDim: dataDim, featureNames: featureNames,
                       denormalizing: normalization)
        do { try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw DataFileError(path: path, message: "cannot write: \(error.localizedDescription)")
        }
    }
}

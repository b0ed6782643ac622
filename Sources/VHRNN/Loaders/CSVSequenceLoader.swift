import Foundation

/// Real-valued sequences from your own CSV files, in either of two layouts:
///
/// - **Long table** (one file): a header row, then one row per frame. A sequence-id column
///   (`idColumn`, default `sequence`; any text) says which sequence a row belongs to; rows of a
///   sequence need not be contiguous, and sequences keep the order of their first row. If a
///   step column (`stepColumn`, default `step`) is present, frames are ordered by its numeric
///   value (duplicates are an error); otherwise file order is used.
/// - **Directory**: every `*.csv` file directly inside is one sequence (files in name order,
///   the id is the file name); each has a header row and one row per frame. A step column, if
///   present, orders the frames as above. All files must have the same columns.
///
/// Features are `featureColumns` if given, else every column except the id, step and split
/// columns; every feature value must be a finite number.
///
/// Splits: in a long table with a split column (`splitColumn`, default `split`) whose values
/// are `train`, `valid` (or `validation`) and `test` (any case), that column decides and must
/// be constant within a sequence. Otherwise sequences are shuffled by `SplitMix64(seed)`
/// (Fisher–Yates) and divided by `fractions` (default 0.8/0.1/0.1, normalised by their sum):
/// `round(n * valid)` valid and `round(n * test)` test sequences — at least one each when the
/// fraction is positive and n >= 3 — and the rest train. Within a split, sequences keep their
/// file order.
///
/// Normalisation (on by default): per-feature z-score with the training frames' mean and
/// population std (std 0 -> 1), applied to all splits and stored in `normalization`.
///
/// Errors (`DataFileError`, naming file, line and column): missing or empty file, missing
/// columns, ragged rows, non-numeric or non-finite values, duplicate steps, no sequences, an
/// empty sequence, an unknown split name, no training sequences.
public enum CSVSequenceLoader {
    /// Column names, split fractions, seed and normalisation for ``CSVSequenceLoader``; the
    /// defaults read a `sequence,step,…` long table with an 80/10/10 random split, z-scored.
    public struct Options: Sendable {
        /// The sequence-id column of a long table (required there; ignored for a directory).
        public var idColumn = "sequence"
        /// Used for ordering frames when the column exists.
        public var stepColumn = "step"
        /// Used for the split assignment when the column exists (long tables only).
        public var splitColumn = "split"
        /// nil: all columns except id, step and split.
        public var featureColumns: [String]?
        /// Shares of the sequences in the train, valid and test splits when no split column decides
        /// (normalised by their sum; see the type's documentation for the rounding).
        public var trainFraction = 0.8, validFraction = 0.1, testFraction = 0.1
        /// Seed of the shuffle that assigns sequences to splits.
        public var seed: UInt64 = 0
        /// Z-score every feature with the training frames' mean and population std (std 0 → 1).
        public var normalize = true
        /// Dataset name; default: the file or directory name without extension.
        public var name: String?
        /// The defaults listed on each property.
        public init() {}
    }

    /// A long table when `path` is a file, per-sequence files when it is a directory.
    ///
    /// - Parameters:
    ///   - path: a CSV file or a directory of CSV files.
    ///   - options: columns, split fractions, seed, normalisation and name.
    /// - Returns: the dataset, kind `.real`, with its normalisation if one was applied.
    /// - Throws: ``DataFileError`` naming the file, line and column (see the type's
    ///   documentation for the cases).
    public static func load(path: String, options: Options = Options()) throws -> SequenceDataset {
        try loadWithIDs(path: path, options: options).dataset
    }

    /// As ``load(path:options:)``, also returning each split's sequence ids (same order as the
    /// sequences).
    ///
    /// - Parameters:
    ///   - path: a CSV file or a directory of CSV files.
    ///   - options: columns, split fractions, seed, normalisation and name.
    /// - Returns: the dataset and, per split, the id of each sequence (the id column's value,
    ///   or the file name for a directory).
    /// - Throws: ``DataFileError``, as ``load(path:options:)``.
    public static func loadWithIDs(path: String, options: Options = Options()) throws
        -> (dataset: SequenceDataset, ids: [SplitName: [String]])
    {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataFileError(path: path, message: "file not found")
        }
        let sequences = isDirectory.boolValue
            ? try readDirectory(path: path, options: options)
            : try readLongTable(path: path, options: options)
        return try assemble(sequences, path: path, options: options)
    }

    struct RawSequence {
        var id: String
        var frames: [Double] = []
        var steps: [(step: Double, line: Int)] = []
        var split: SplitName?
        var path: String
        var firstLine: Int
    }

    struct Parsed {
        var sequences: [RawSequence]
        var features: [String]
        var splitGiven: Bool
    }

    /// Column positions resolved from a header.
    struct Layout {
        var features: [(name: String, index: Int)]
        var step: Int?
        var stepName: String
        var split: Int?
        var id: Int?

        init(header: [String], path: String, line: Int, options: Options, needID: Bool, allowSplit: Bool) throws {
            func index(_ name: String) -> Int? { header.firstIndex(of: name) }
            var seen = Set<String>()
            for name in header where !seen.insert(name).inserted {
                throw DataFileError(path: path, location: "line \(line)", message: "duplicate column \"\(DataFileError.excerpt(name))\"")
            }
            id = index(options.idColumn)
            if needID && id == nil {
                throw DataFileError(path: path, location: "line \(line)",
                                    message: "no sequence-id column \"\(options.idColumn)\" in header \(header.joined(separator: ","))")
            }
            step = index(options.stepColumn)
            stepName = options.stepColumn
            split = allowSplit ? index(options.splitColumn) : nil
            if let names = options.featureColumns {
                features = try names.map { name in
                    guard let i = index(name) else {
                        throw DataFileError(path: path, location: "line \(line)", message: "no feature column \"\(DataFileError.excerpt(name))\"")
                    }
                    return (name, i)
                }
            } else {
                let reserved = Set([id, step, split].compactMap { $0 })
                features = header.enumerated().filter { !reserved.contains($0.offset) }.map { ($0.element, $0.offset) }
            }
            if features.isEmpty {
                throw DataFileError(path: path, location: "line \(line)", message: "no feature columns")
            }
        }
    }

    static func parseRow(_ f: [String], layout: Layout, into seq: inout RawSequence, path: String, line: Int) throws {
        for (name, i) in layout.features {
            seq.frames.append(try DelimitedText.number(f[i], path: path, line: line, column: name))
        }
        if let s = layout.step {
            seq.steps.append((try DelimitedText.number(f[s], path: path, line: line, column: layout.stepName), line))
        }
    }

    static func readLongTable(path: String, options: Options) throws -> Parsed {
        var header: [String]?
        var layout: Layout?
        var order: [String] = []
        var byID: [String: RawSequence] = [:]
        try DelimitedText.forEachRow(path: path, separator: .comma) { line, f in
            guard let h = header else {
                header = f
                layout = try Layout(header: f, path: path, line: line, options: options, needID: true, allowSplit: true)
                return
            }
            guard f.count == h.count else {
                throw DataFileError(path: path, location: "line \(line)", message: "expected \(h.count) fields, found \(f.count)")
            }
            let lay = layout!
            let id = f[lay.id!]
            var seq = byID.removeValue(forKey: id) ?? {
                order.append(id)
                return RawSequence(id: id, path: path, firstLine: line)
            }()
            if let si = lay.split {
                let name = try splitName(f[si], path: path, line: line, column: h[si])
                if let existing = seq.split, existing != name {
                    throw DataFileError(path: path, location: "line \(line), column \(h[si])",
                                        message: "sequence \(id) is in split \(existing.rawValue) on line \(seq.firstLine) but \(name.rawValue) here")
                }
                seq.split = name
            }
            try parseRow(f, layout: lay, into: &seq, path: path, line: line)
            byID[id] = seq
        }
        guard let lay = layout else { throw DataFileError(path: path, message: "empty file") }
        guard !order.isEmpty else { throw DataFileError(path: path, message: "no sequences (header only)") }
        return Parsed(sequences: order.map { byID[$0]! }, features: lay.features.map(\.name), splitGiven: lay.split != nil)
    }

    static func readDirectory(path: String, options: Options) throws -> Parsed {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
                .filter { $0.lowercased().hasSuffix(".csv") }.sorted()
        } catch {
            throw DataFileError(path: path, message: "cannot list directory: \(error.localizedDescription)")
        }
        guard !names.isEmpty else { throw DataFileError(path: path, message: "no .csv files: no sequences") }
        var features: [String]?
        var out: [RawSequence] = []
        for name in names {
            let file = URL(fileURLWithPath: path).appendingPathComponent(name).path
            var header: [String]?
            var layout: Layout?
            var seq = RawSequence(id: String(name.dropLast(4)), path: file, firstLine: 1)
            try DelimitedText.forEachRow(path: file, separator: .comma) { line, f in
                guard let h = header else {
                    header = f
                    let lay = try Layout(header: f, path: file, line: line, options: options, needID: false, allowSplit: false)
                    if let expected = features, expected != lay.features.map(\.name) {
                        throw DataFileError(path: file, location: "line \(line)",
                                            message: "feature columns \(lay.features.map(\.name).joined(separator: ",")) differ from the first file's \(expected.joined(separator: ","))")
                    }
                    features = lay.features.map(\.name)
                    layout = lay
                    return
                }
                guard f.count == h.count else {
                    throw DataFileError(path: file, location: "line \(line)", message: "expected \(h.count) fields, found \(f.count)")
                }
                try parseRow(f, layout: layout!, into: &seq, path: file, line: line)
            }
            guard header != nil else { throw DataFileError(path: file, message: "empty file") }
            guard !seq.frames.isEmpty else { throw DataFileError(path: file, message: "sequence of length 0 (header only)") }
            out.append(seq)
        }
        return Parsed(sequences: out, features: features!, splitGiven: false)
    }

    static func splitName(_ value: String, path: String, line: Int, column: String) throws -> SplitName {
        switch value.lowercased() {
        case "train": return .train
        case "valid", "validation": return .valid
        case "test": return .test
        default:
            throw DataFileError(path: path, location: "line \(line), column \(column)",
                                message: "unknown split \"\(DataFileError.excerpt(value))\" (expected train, valid or test)")
        }
    }

    /// Orders frames by step, assigns splits, normalises.
    static func assemble(_ parsed: Parsed, path: String, options: Options) throws
        -> (dataset: SequenceDataset, ids: [SplitName: [String]])
    {
        let d = parsed.features.count
        var seqs = parsed.sequences
        for i in seqs.indices where !seqs[i].steps.isEmpty {
            let s = seqs[i]
            let order = s.steps.indices.sorted { s.steps[$0].step < s.steps[$1].step }
            for (a, b) in zip(order, order.dropFirst()) where s.steps[a].step == s.steps[b].step {
                throw DataFileError(path: s.path, location: "line \(s.steps[b].line)",
                                    message: "sequence \(s.id): step \(s.steps[b].step) repeats line \(s.steps[a].line)")
            }
            seqs[i].frames = order.flatMap { s.frames[($0 * d)..<($0 * d + d)] }
        }
        var assignment: [SplitName: [Int]] = [.train: [], .valid: [], .test: []]
        if parsed.splitGiven {
            for (i, s) in seqs.enumerated() { assignment[s.split!]!.append(i) }
        } else {
            let fr = [options.trainFraction, options.validFraction, options.testFraction]
            guard fr.allSatisfy({ $0 >= 0 && $0.isFinite }), options.trainFraction > 0 else {
                throw DataFileError(path: path, message: "split fractions must be >= 0 with a positive train fraction")
            }
            let sum = fr.reduce(0, +)
            let n = seqs.count
            func count(_ f: Double) -> Int {
                let c = Int((Double(n) * f / sum).rounded())
                return f > 0 && n >= 3 ? max(c, 1) : c
            }
            let nValid = count(options.validFraction), nTest = count(options.testFraction)
            let shuffled = SeededShuffle.shuffled(Array(0..<n), seed: options.seed)
            let nTrain = n - nValid - nTest
            if nTrain > 0 {
                assignment[.train] = shuffled[0..<nTrain].sorted()
                assignment[.valid] = shuffled[nTrain..<(nTrain + nValid)].sorted()
                assignment[.test] = shuffled[(nTrain + nValid)...].sorted()
            }
        }
        guard !assignment[.train]!.isEmpty else {
            throw DataFileError(path: path, message: "no training sequences (\(seqs.count) sequences in all)")
        }
        var splits = assignment.mapValues { SequenceSplit(dataDim: d, sequences: $0.map { seqs[$0].frames }) }
        var normalization: Normalization?
        if options.normalize {
            let norm = Normalization.fitted(on: splits[.train]!)
            splits = splits.mapValues { norm.apply(to: $0) }
            normalization = norm
        }
        let name = options.name ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let dataset = SequenceDataset(name: name, kind: .real, train: splits[.train]!, valid: splits[.valid]!,
                                      test: splits[.test]!, normalization: normalization)
        return (dataset, assignment.mapValues { $0.map { seqs[$0].id } })
    }
}

/// One split of a sequence dataset: variable-length sequences of `dataDim`-dimensional frames.
///
/// Each sequence is stored flat, row-major, `(length, dataDim)`. `inputs` are what the model's
/// data encoder phi_x reads (e.g. mean-centred piano-roll frames); `targets` are what the
/// emission scores (e.g. the raw 0/1 frames). For real-valued data they are the same values.
public struct SequenceSplit: Sendable, Equatable {
    /// D, the values per frame.
    public var dataDim: Int
    /// What the data encoder phi_x reads, one flat `(length, D)` array per sequence.
    public var inputs: [[Double]]
    /// What the emission scores, one flat `(length, D)` array per sequence, paired with
    /// ``inputs``.
    public var targets: [[Double]]

    /// A split with separate encoder inputs and emission targets (as many of each; a
    /// precondition).
    public init(dataDim: Int, inputs: [[Double]], targets: [[Double]]) {
        precondition(inputs.count == targets.count, "inputs and targets must pair up")
        self.dataDim = dataDim
        self.inputs = inputs
        self.targets = targets
    }

    /// A split whose inputs and targets are the same values.
    public init(dataDim: Int, sequences: [[Double]]) {
        self.init(dataDim: dataDim, inputs: sequences, targets: sequences)
    }

    /// The number of sequences.
    public var count: Int { inputs.count }
    /// The number of frames of sequence `index`.
    public func length(of index: Int) -> Int { inputs[index].count / dataDim }
    /// Σ lengths: the denominator of the per-step bounds.
    public var totalSteps: Int { inputs.reduce(0) { $0 + $1.count } / max(dataDim, 1) }
    /// The longest sequence's length (0 for an empty split).
    public var maxLength: Int { inputs.map { $0.count / dataDim }.max() ?? 0 }

    /// Writes frame t of every sequence's targets into `frames[b]` (D values each), D NaNs for
    /// a sequence that has ended: one step of the split streamed through an ``OnlineFilter``
    /// (a frame of NaNs is a missing observation).
    func streamFrames(step t: Int, into frames: inout [[Double]]) {
        for b in 0..<count {
            let x = targets[b], ended = t >= length(of: b)
            for d in 0..<dataDim { frames[b][d] = ended ? .nan : x[t * dataDim + d] }
        }
    }
}

/// The kind of observation a dataset holds, which decides the emission distribution.
public enum ObservationKind: String, Sendable, Codable {
    /// 0/1 frames (piano rolls): Bernoulli emission.
    case binary
    /// Real values: diagonal-Gaussian emission.
    case real
}

/// Per-feature affine normalisation `(x - mean) / std` fitted on a training split.
public struct Normalization: Sendable, Equatable, Codable {
    /// Per-feature means subtracted.
    public var mean: [Double]
    /// Per-feature standard deviations divided by (1 where the data had none).
    public var std: [Double]
    /// Statistics from their parts (see ``fitted(on:)`` to fit them).
    public init(mean: [Double], std: [Double]) {
        self.mean = mean
        self.std = std
    }
}

/// A dataset with its three splits, ready for training and evaluation.
public struct SequenceDataset: Sendable, Equatable {
    /// A short name for reports, e.g. `JSB_Chorales`, `synthetic-standard`.
    public var name: String
    /// Binary or real frames; decides the emission (``DataSource/emission(for:)``).
    public var kind: ObservationKind
    /// The training split.
    public var train: SequenceSplit
    /// The validation split (model selection, early stopping); may be empty.
    public var valid: SequenceSplit
    /// The test split.
    public var test: SequenceSplit
    /// For binary data: the per-dimension mean of the training frames (used to centre inputs
    /// and to initialise the Bernoulli output bias). For normalised real data: nil.
    public var trainFrameMean: [Double]?
    /// For normalised real data: the statistics applied (fitted on the training split).
    public var normalization: Normalization?

    /// A dataset from its splits.
    public init(name: String, kind: ObservationKind, train: SequenceSplit, valid: SequenceSplit,
                test: SequenceSplit, trainFrameMean: [Double]? = nil,
                normalization: Normalization? = nil) {
        self.name = name
        self.kind = kind
        self.train = train
        self.valid = valid
        self.test = test
        self.trainFrameMean = trainFrameMean
        self.normalization = normalization
    }

    /// D, taken from the training split.
    public var dataDim: Int { train.dataDim }

    /// The split called `which`.
    public func split(_ which: SplitName) -> SequenceSplit {
        switch which {
        case .train: return train
        case .valid: return valid
        case .test: return test
        }
    }
}

/// The name of one of a dataset's three splits, as written on the command line
/// (`--split train|valid|test`) and in files.
public enum SplitName: String, Sendable, Codable, CaseIterable {
    /// `train`, `valid` (validation) and `test`.
    case train, valid, test
}

/// A data file could not be read: names the file and, where known, the line, field or byte.
public struct DataFileError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file (or directory) concerned.
    public var path: String
    /// Where in it, e.g. `line 12`, `byte 4096`, `tensor rnn.bias`; at most 200 characters.
    public var location: String?
    /// What is wrong, at most 500 characters.
    public var message: String

    /// An error naming `path` and, optionally, where in it; `location` and `message` are cut
    /// to 200 and 500 characters with control characters escaped, so the error stays one short
    /// line whatever a hostile file put in the value it quotes.
    public init(path: String, location: String? = nil, message: String) {
        self.path = path
        self.location = location.map { Self.excerpt($0, limit: 200) }
        // Bounded whatever the caller quoted: a hostile value must not become a huge message.
        self.message = Self.excerpt(message, limit: 500)
    }

    /// `text`, or its first `limit` characters followed by how much was cut — for quoting an
    /// offending value (a five-million-digit CSV field) in one short line. Control characters
    /// (a newline inside a quoted field, a NUL) are written as escapes, so the line stays one.
    ///
    /// - Parameters:
    ///   - text: the value to quote.
    ///   - limit: the most characters kept.
    /// - Returns: one line of at most `limit` characters plus a note of the original length.
    public static func excerpt(_ text: String, limit: Int = 40) -> String {
        let line = oneLine(text)
        guard line.count > limit else { return line }
        return String(line.prefix(limit)) + "… (\(line.count) characters)"
    }

    /// `text` with control characters and the line/paragraph separators written as `\u{…}`
    /// (a newline becomes `\u{a}`): every error message of the library goes through this, so
    /// one error stays one line whatever a hostile file put in the value it quotes.
    static func oneLine(_ text: String) -> String {
        func breaksLines(_ s: Unicode.Scalar) -> Bool {
            s.value < 0x20 || (0x7F...0x9F).contains(s.value) || s.value == 0x2028 || s.value == 0x2029
        }
        guard text.unicodeScalars.contains(where: breaksLines) else { return text }
        var out = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            if breaksLines(s) { out.append(contentsOf: ("\\u{" + String(s.value, radix: 16) + "}").unicodeScalars) } else { out.append(s) }
        }
        return String(out)
    }

    /// `path: location: message`, or `path: message` without a location.
    public var description: String {
        if let location { return "\(path): \(location): \(message)" }
        return "\(path): \(message)"
    }
}

import Foundation

/// Loads the Boulanger-Lewandowski polyphonic-music pickles (JSB Chorales, Piano-midi.de,
/// Nottingham, MuseData) as 88-key binary piano rolls.
///
/// The file holds `{'train': [...], 'valid': [...], 'test': [...]}`; each split is a list of
/// sequences, each sequence a list of time steps, each step a tuple or list of MIDI note
/// numbers (numpy int scalars or plain ints). Keys may be Python 2 str or unicode; other
/// top-level keys are ignored. The pickle is read with `SafePickleReader`, which executes
/// nothing.
///
/// As the model expects (see <doc:ModelArchitecture#Data-inputs-and-targets>): `targets` are the raw 0/1 frames the
/// Bernoulli emission scores; `inputs` are the frames centred by the per-key mean of all
/// training frames, which is also returned as `trainFrameMean` (it initialises the emission
/// bias).
public enum PianoRollLoader {
    /// Lowest piano key, A0.
    public static let lowestNote = 21
    /// Highest piano key, C8.
    public static let highestNote = 108
    /// Number of keys, and the frame dimension.
    public static let keyCount = highestNote - lowestNote + 1

    /// Reads a pickle file; the dataset is named after the file (without `.pickle`/`.pkl`).
    ///
    /// - Parameter path: the pickle, e.g. `JSB_Chorales.pickle`.
    /// - Returns: the three splits, kind `.binary`, 88 keys, with `trainFrameMean`.
    /// - Throws: ``DataFileError`` naming the file, for unreadable files, pickles the safe reader
    ///   refuses (with the byte offset) and contents that are not piano rolls.
    public static func load(path: String) throws -> SequenceDataset {
        let data = try FileBytes.read(path: path)
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        return try load(pickle: data, name: name, path: path)
    }

    /// Reads pickle bytes already in memory.
    ///
    /// - Parameters:
    ///   - bytes: the whole pickle stream.
    ///   - name: the dataset's name.
    ///   - path: used in error messages only.
    /// - Returns: the three splits, as ``load(path:)``.
    /// - Throws: ``DataFileError``, as ``load(path:)``.
    public static func load(pickle bytes: [UInt8], name: String, path: String = "<memory>") throws -> SequenceDataset {
        let root: PickleValue
        do {
            root = try SafePickleReader.parse(bytes)
        } catch let error as PickleError {
            throw DataFileError(path: path, location: "byte \(error.offset)",
                                message: "refused pickle: \(error.opcode)"
                                    + (error.opcodeByte.map { " (0x\(hex($0)))" } ?? "") + ": \(error.message)")
        }
        return try dataset(from: root, name: name, path: path)
    }

    /// Converts an already parsed pickle into a dataset.
    ///
    /// - Parameters:
    ///   - root: the pickle's top-level dict with keys `train`, `valid`, `test`.
    ///   - name: the dataset's name.
    ///   - path: used in error messages only.
    /// - Returns: the three splits, as ``load(path:)``.
    /// - Throws: ``DataFileError`` naming the split, sequence and step of anything that is not
    ///   a list of steps of MIDI numbers 21...108.
    public static func dataset(from root: PickleValue, name: String, path: String = "<memory>") throws -> SequenceDataset {
        guard root.dictEntries != nil else {
            throw DataFileError(path: path, message: "expected a dict with keys 'train', 'valid', 'test' at the top level, found a \(root.typeName)")
        }
        // Check all three keys before converting any split, so a missing key is reported as
        // such rather than as a problem inside another split.
        var splitValues: [SplitName: PickleValue] = [:]
        for split in SplitName.allCases {
            guard let value = root[split.rawValue] else {
                throw DataFileError(path: path, message: "the top-level dict has no '\(split.rawValue)' key")
            }
            splitValues[split] = value
        }
        var rolls: [SplitName: [PianoRoll]] = [:]
        for (split, value) in splitValues {
            rolls[split] = try pianoRolls(value, split: split, path: path)
        }
        let mean = frameMean(rolls[.train] ?? [])
        // The centred frame of silence, -m; a sounding key adds 1 (1 + (-m) == 1 - m exactly).
        let silence = mean.map { -$0 }
        func makeSplit(_ split: SplitName) -> SequenceSplit {
            let splitRolls = rolls[split] ?? []
            let inputs = splitRolls.map { roll -> [Double] in
                var input: [Double] = []
                input.reserveCapacity(roll.frames.count)
                for _ in 0..<roll.steps { input.append(contentsOf: silence) }
                for index in roll.soundingIndices { input[index] += 1 }
                return input
            }
            return SequenceSplit(dataDim: keyCount, inputs: inputs, targets: splitRolls.map(\.frames))
        }
        return SequenceDataset(name: name, kind: .binary, train: makeSplit(.train), valid: makeSplit(.valid),
                               test: makeSplit(.test), trainFrameMean: mean)
    }

    /// One sequence: its 0/1 frames, and the flat indices of the 1s (so later passes touch
    /// only sounding keys instead of every key of every frame).
    struct PianoRoll {
        var steps: Int
        var frames: [Double]
        var soundingIndices: [Int]
    }

    /// One split's sequences as flat row-major (length, 88) 0/1 rolls.
    static func pianoRolls(_ value: PickleValue, split: SplitName, path: String) throws -> [PianoRoll] {
        guard let sequences = value.elements else {
            throw DataFileError(path: path, location: split.rawValue, message: "expected a list of sequences, found a \(value.typeName)")
        }
        guard !sequences.isEmpty else {
            throw DataFileError(path: path, location: split.rawValue, message: "the split has no sequences")
        }
        var rolls: [PianoRoll] = []
        rolls.reserveCapacity(sequences.count)
        for (sequenceIndex, sequence) in sequences.enumerated() {
            let location = "\(split.rawValue) sequence \(sequenceIndex)"
            guard let steps = sequence.elements else {
                throw DataFileError(path: path, location: location, message: "expected a list of time steps, found a \(sequence.typeName)")
            }
            guard !steps.isEmpty else {
                throw DataFileError(path: path, location: location, message: "the sequence is empty")
            }
            var roll = PianoRoll(steps: steps.count, frames: [Double](repeating: 0, count: steps.count * keyCount),
                                 soundingIndices: [])
            for (stepIndex, step) in steps.enumerated() {
                guard let notes = step.elements else {
                    throw DataFileError(path: path, location: "\(location) step \(stepIndex)",
                                        message: "expected a tuple or list of notes, found a \(step.typeName)")
                }
                for note in notes {
                    guard case .int(let number) = note else {
                        throw DataFileError(path: path, location: "\(location) step \(stepIndex)",
                                            message: "a note must be an integer, found a \(note.typeName)")
                    }
                    guard number >= Int64(lowestNote), number <= Int64(highestNote) else {
                        throw DataFileError(path: path, location: "\(location) step \(stepIndex)",
                                            message: "note \(number) is outside the piano range \(lowestNote)...\(highestNote)")
                    }
                    let index = stepIndex * keyCount + Int(number) - lowestNote
                    // A note listed twice in one step is still one key down.
                    if roll.frames[index] == 0 {
                        roll.frames[index] = 1
                        roll.soundingIndices.append(index)
                    }
                }
            }
            rolls.append(roll)
        }
        return rolls
    }

    /// The per-key mean over every frame of every sequence.
    static func frameMean(_ rolls: [PianoRoll]) -> [Double] {
        var counts = [Int](repeating: 0, count: keyCount)
        var frames = 0
        for roll in rolls {
            frames += roll.steps
            for index in roll.soundingIndices { counts[index % keyCount] += 1 }
        }
        return counts.map { Double($0) / Double(max(frames, 1)) }
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return digits.count < 2 ? "0" + digits : digits
    }
}

import Foundation

/// The plain on-disk form of a synthetic dataset (what `vhrnn generate-synthetic --out DIR`
/// writes), so other tools can read exactly the sequences a model was trained on:
///
/// - `DIR/train.csv`, `DIR/valid.csv`, `DIR/test.csv`: long tables with header
///   `sequence,step,x0,x1` — sequence index within the split (0-based), frame index (0-based),
///   then the frame's values. Values are Swift's `Double.description`, the shortest decimal
///   that parses back to the same bits, so reading is bit-exact.
/// - `DIR/info.json`: `SyntheticInfo` — setting, seed, T, both matrix tables and, per split
///   and sequence, the switch frames, matrix indices and noise levels.
extension SyntheticData {
    static let splitFiles: [(SplitName, String)] = [(.train, "train.csv"), (.valid, "valid.csv"), (.test, "test.csv")]

    /// Reads a directory written by ``write(_:info:to:)``. Values come back bit-identical.
    /// The dataset name comes from `info.json` (`synthetic-<setting>`); without that file it is
    /// "synthetic".
    ///
    /// - Parameter directory: the folder holding `train.csv`, `valid.csv`, `test.csv`.
    /// - Returns: the three splits, kind `.real`, not normalised.
    /// - Throws: ``DataFileError`` naming the file and line of anything that is not exactly
    ///   the format written (sequence and step numbers in order, the same columns throughout).
    public static func read(directory: String) throws -> SequenceDataset {
        let dir = URL(fileURLWithPath: directory)
        var splits: [SplitName: SequenceSplit] = [:]
        for (name, file) in splitFiles {
            splits[name] = try readSplit(path: dir.appendingPathComponent(file).path)
        }
        var datasetName = "synthetic"
        if FileManager.default.fileExists(atPath: dir.appendingPathComponent("info.json").path) {
            datasetName = "synthetic-\(try readInfo(directory: directory).setting.rawValue)"
        }
        let dims = Set(splits.values.map(\.dataDim))
        guard dims.count == 1 else {
            throw DataFileError(path: directory, message: "splits have different numbers of columns")
        }
        return SequenceDataset(name: datasetName, kind: .real, train: splits[.train]!,
                               valid: splits[.valid]!, test: splits[.test]!)
    }

    /// Reads `info.json` from a directory written by ``write(_:info:to:)``.
    ///
    /// - Parameter directory: the folder holding `info.json`.
    /// - Returns: the setting, seed, matrices and per-sequence generation details.
    /// - Throws: ``DataFileError`` when the file is missing or not a valid info file.
    public static func readInfo(directory: String) throws -> SyntheticInfo {
        let path = URL(fileURLWithPath: directory).appendingPathComponent("info.json").path
        let bytes = try DelimitedText.bytes(path: path)
        do {
            return try JSONDecoder().decode(SyntheticInfo.self, from: Data(bytes))
        } catch {
            throw DataFileError(path: path, message: "not a valid synthetic info file: \(error)")
        }
    }

    /// One split file: header `sequence,step,x0,...`, sequences numbered 0, 1, ... in order,
    /// frames numbered 0, 1, ... in order (this is our own format, so it is checked strictly).
    static func readSplit(path: String) throws -> SequenceSplit {
        var header: [String]?
        var sequences: [[Double]] = []
        var current: [Double] = []
        var currentIndex = -1
        var nextStep = 0
        try DelimitedText.forEachRow(path: path, separator: .comma) { line, fields in
            guard let columns = header else {
                guard fields.count >= 3, fields[0] == "sequence", fields[1] == "step",
                      fields[2...].enumerated().allSatisfy({ $1 == "x\($0)" }) else {
                    throw DataFileError(path: path, location: "line \(line)",
                                        message: "expected header sequence,step,x0,x1,... but found \(fields.joined(separator: ","))")
                }
                header = fields
                return
            }
            guard fields.count == columns.count else {
                throw DataFileError(path: path, location: "line \(line)",
                                    message: "expected \(columns.count) fields, found \(fields.count)")
            }
            let s = try DelimitedText.integer(fields[0], path: path, line: line, column: "sequence")
            let t = try DelimitedText.integer(fields[1], path: path, line: line, column: "step")
            if s != currentIndex {
                guard s == currentIndex + 1 else {
                    throw DataFileError(path: path, location: "line \(line), column sequence",
                                        message: "expected sequence \(currentIndex + 1), found \(s)")
                }
                if currentIndex >= 0 { sequences.append(current) }
                current = []
                currentIndex = s
                nextStep = 0
            }
            guard t == nextStep else {
                throw DataFileError(path: path, location: "line \(line), column step",
                                    message: "expected step \(nextStep), found \(t)")
            }
            nextStep += 1
            for j in 2..<fields.count {
                current.append(try DelimitedText.number(fields[j], path: path, line: line, column: columns[j]))
            }
        }
        guard let columns = header else {
            throw DataFileError(path: path, message: "empty file")
        }
        if currentIndex >= 0 { sequences.append(current) }
        return SequenceSplit(dataDim: columns.count - 2, sequences: sequences)
    }
}

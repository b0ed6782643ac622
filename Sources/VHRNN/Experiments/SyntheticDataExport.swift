import Foundation

/// Writing the on-disk form of a synthetic dataset (described with the reader,
/// ``SyntheticData/read(directory:)``). It lives in the top layer because it joins a loader's
/// types (``SyntheticInfo``) with a writer (``SeriesCSVWriter``); see "Library layout" in CONTRIBUTING.md.
extension SyntheticData {
    /// Writes the three CSV files and `info.json` into `directory` (created if needed).
    ///
    /// - Parameters:
    ///   - dataset: the splits to write (as ``make(setting:seed:family:)`` returns them).
    ///   - info: what generated them, written as `info.json`.
    ///   - directory: the destination; existing files of the same names are replaced.
    /// - Throws: ``DataFileError`` naming the file that cannot be created or written.
    public static func write(_ dataset: SequenceDataset, info: SyntheticInfo, to directory: String) throws {
        let dir = URL(fileURLWithPath: directory)
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } catch {
            throw DataFileError(path: directory, message: "cannot create directory: \(error.localizedDescription)")
        }
        for (name, file) in splitFiles {
            try writeText(SeriesCSVWriter.csv(dataset.split(name)), to: dir.appendingPathComponent(file))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json: Data
        do { json = try encoder.encode(info) } catch {
            throw DataFileError(path: dir.appendingPathComponent("info.json").path,
                                message: "cannot encode: \(error)")
        }
        try writeData(json, to: dir.appendingPathComponent("info.json"))
    }

    static func writeText(_ text: String, to url: URL) throws {
        try writeData(Data(text.utf8), to: url)
    }

    static func writeData(_ data: Data, to url: URL) throws {
        do { try data.write(to: url, options: .atomic) } catch {
            throw DataFileError(path: url.path, message: "cannot write: \(error.localizedDescription)")
        }
    }
}

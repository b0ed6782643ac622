import Foundation

/// Reads a JSON file a user may have written or edited (checkpoint config and training state,
/// experiment specs, claims): one reader, and one way of saying what is wrong — a
/// ``DataFileError`` naming the file, the field as a path (`models[0].id`) and the problem.
enum JSONFile {
    static func decode<T: Decodable>(_ type: T.Type, path: String, decoder: JSONDecoder = JSONDecoder()) throws -> T {
        let data = try FileBytes.readData(path: path)
        do {
            return try decoder.decode(type, from: data)
        } catch let error as DecodingError {
            throw DataFileError(path: path, location: location(of: error), message: describe(error))
        } catch {
            throw DataFileError(path: path, message: "invalid JSON: \(error.localizedDescription)")
        }
    }

    /// The field the error is about, as `a.b[2].c` (nil for the whole file).
    static func location(of error: DecodingError) -> String? {
        let path: [any CodingKey]
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .keyNotFound(_, let c), .dataCorrupted(let c): path = c.codingPath
        @unknown default: return nil
        }
        var parts: [String] = []
        for key in path {
            if let i = key.intValue { parts.append("[\(i)]") } else { parts.append((parts.isEmpty ? "" : ".") + key.stringValue) }
        }
        return parts.isEmpty ? nil : parts.joined()
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, _): return "missing field \"\(key.stringValue)\""
        case .typeMismatch(let type, let c): return "expected \(type): \(c.debugDescription)"
        case .valueNotFound(let type, let c): return "missing \(type) value: \(c.debugDescription)"
        case .dataCorrupted(let c):
            let underlying = c.underlyingError.map { " (\($0.localizedDescription))" } ?? ""
            return "invalid JSON: \(c.debugDescription)\(underlying)"
        @unknown default: return "\(error)"
        }
    }
}

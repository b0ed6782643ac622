import Foundation

/// Reads a delimited text table (CSV or whitespace-separated) row by row, keeping 1-based line
/// numbers so every loader can name the file and line in its errors.
///
/// Why bytes and not `String.split`: Swift treats "\r\n" as one `Character`, and character-wise
/// iteration is slow in debug builds; the stock file alone has 116k lines. Splitting the raw
/// UTF-8 bytes on `\n` (and dropping a trailing `\r`) is simple, fast and handles both line ends.
/// Quoted CSV fields are not supported: every table these loaders read is plain numbers and
/// identifiers.
enum DelimitedText {
    enum Separator {
        /// One comma between fields; spaces around a field are trimmed.
        case comma
        /// Any run of spaces or tabs (the UCI `.dat` files use two spaces, the metadata tabs).
        case whitespace
    }

    /// Loads the whole file, failing with a `DataFileError` naming `path` when it is missing,
    /// a directory, or not UTF-8.
    static func bytes(path: String) throws -> [UInt8] {
        try FileBytes.read(path: path)
    }

    /// Calls `body` for every non-blank line with its 1-based line number and its fields.
    /// Blank (or whitespace-only) lines are skipped, so a trailing newline is harmless.
    static func forEachRow(path: String, separator: Separator,
                           _ body: (_ line: Int, _ fields: [String]) throws -> Void) throws {
        let data = try bytes(path: path)
        try data.withUnsafeBufferPointer { buf in
            var lineNumber = 0
            var start = 0
            let n = buf.count
            while start <= n {  // start == n: the (blank) remainder after a final newline
                lineNumber += 1
                var end = start
                while end < n && buf[end] != 0x0A { end += 1 }
                var stop = end
                if stop > start && buf[stop - 1] == 0x0D { stop -= 1 }
                let fields = split(buf, start, stop, separator)
                if !(fields.count == 1 && fields[0].isEmpty) && !fields.isEmpty {
                    guard let decoded = decode(fields, buf) else {
                        throw DataFileError(path: path, location: "line \(lineNumber)",
                                            message: "not UTF-8 text")
                    }
                    try body(lineNumber, decoded)
                }
                start = end + 1
            }
        }
    }

    /// Field byte ranges of one line.
    private static func split(_ buf: UnsafeBufferPointer<UInt8>, _ start: Int, _ stop: Int,
                              _ separator: Separator) -> [Range<Int>] {
        var fields: [Range<Int>] = []
        switch separator {
        case .comma:
            var fieldStart = start
            var i = start
            while i <= stop {
                if i == stop || buf[i] == 0x2C {
                    var a = fieldStart, b = i
                    while a < b && (buf[a] == 0x20 || buf[a] == 0x09) { a += 1 }
                    while b > a && (buf[b - 1] == 0x20 || buf[b - 1] == 0x09) { b -= 1 }
                    fields.append(a..<b)
                    fieldStart = i + 1
                }
                i += 1
            }
        case .whitespace:
            var i = start
            while i < stop {
                while i < stop && (buf[i] == 0x20 || buf[i] == 0x09) { i += 1 }
                if i == stop { break }
                let a = i
                while i < stop && buf[i] != 0x20 && buf[i] != 0x09 { i += 1 }
                fields.append(a..<i)
            }
        }
        return fields
    }

    private static func decode(_ ranges: [Range<Int>], _ buf: UnsafeBufferPointer<UInt8>) -> [String]? {
        var out: [String] = []
        out.reserveCapacity(ranges.count)
        for r in ranges {
            let bytes = UnsafeBufferPointer(rebasing: buf[r])
            if bytes.allSatisfy({ $0 < 0x80 }) {
                out.append(String(decoding: bytes, as: UTF8.self))
            } else {
                // Non-ASCII (only ever in identifiers): validate instead of silently replacing.
                guard let s = String(bytes: bytes, encoding: .utf8) else { return nil }
                out.append(s)
            }
        }
        return out
    }

    /// Parses one numeric field; NaN and infinities are refused because every model downstream
    /// would turn them into a NaN loss far from their cause.
    static func number(_ field: String, path: String, line: Int, column: String) throws -> Double {
        guard let value = Double(field) else {
            let shown = field.isEmpty ? "empty field" : "not a number: \"\(DataFileError.excerpt(field))\""
            throw DataFileError(path: path, location: "line \(line), column \(column)", message: shown)
        }
        guard value.isFinite else {
            throw DataFileError(path: path, location: "line \(line), column \(column)",
                                message: "non-finite value \"\(DataFileError.excerpt(field))\"")
        }
        return value
    }

    /// Parses a non-negative integer field (ids, steps).
    static func integer(_ field: String, path: String, line: Int, column: String) throws -> Int {
        guard let value = Int(field) else {
            throw DataFileError(path: path, location: "line \(line), column \(column)",
                                message: "not an integer: \"\(DataFileError.excerpt(field))\"")
        }
        return value
    }
}

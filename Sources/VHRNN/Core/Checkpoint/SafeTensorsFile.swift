import Foundation

/// One tensor of a safetensors file: name, element type, row-major shape and raw little-endian
/// bytes.
public struct SafeTensorsEntry: Sendable, Equatable {
    /// The tensor's key in the header (not empty, not `__metadata__`, unique in a file).
    public var name: String
    /// The element type.
    public var dtype: SafeTensorsDType
    /// Row-major shape (`[]` for a scalar).
    public var shape: [Int]
    /// Exactly `dtype.byteSize × shape product` bytes, little-endian, row-major.
    public var data: Data

    /// An entry from its parts; consistency of `data` with `dtype` and `shape` is checked when
    /// the file is serialised.
    public init(name: String, dtype: SafeTensorsDType, shape: [Int], data: Data) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.data = data
    }

    /// Number of elements (1 for a scalar, shape `[]`), or nil if a dimension is negative or
    /// the product overflows.
    public var elementCount: Int? { SafeTensorsFile.elementCount(shape) }
}

/// A file in the Hugging Face safetensors format, read or written whole.
///
/// Layout: an 8-byte little-endian `u64` header length N; N bytes of UTF-8 JSON mapping each
/// tensor name to `{"dtype", "shape", "data_offsets": [begin, end]}` plus an optional
/// `"__metadata__"` object of string values; then the data section, in which every tensor's
/// bytes occupy `[begin, end)` (offsets relative to the start of the data section), tensors
/// back to back with no gaps or overlaps.
///
/// The writer emits `__metadata__` first and the tensors in the given order, and pads the header
/// with spaces to a multiple of 8 bytes as the reference implementation does. The reader accepts
/// any padding and any key order, and validates everything (see ``parse(_:path:)``); a corrupt
/// file raises a ``DataFileError`` naming the file and the problem, never a trap.
public struct SafeTensorsFile: Sendable, Equatable {
    /// Tensors in data-section order.
    public var tensors: [SafeTensorsEntry]
    /// The `__metadata__` string map (empty when absent).
    public var metadata: [String: String]

    /// The reference implementation's limit on the header size (100 MB).
    public static let maximumHeaderSize = 100_000_000

    /// A file of `tensors` (written in this order) and an optional `__metadata__` map.
    public init(tensors: [SafeTensorsEntry], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The tensor with this name, if any.
    public func tensor(named name: String) -> SafeTensorsEntry? { tensors.first { $0.name == name } }

    static func elementCount(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            n = p
        }
        return n
    }

    // MARK: Writing

    /// The file's bytes: header length, JSON header (`__metadata__` first, then the tensors in
    /// order, padded with spaces to a multiple of 8 bytes) and the tensors' data back to back.
    ///
    /// - Parameter path: the file name used in error messages only.
    /// - Returns: the complete file image.
    /// - Throws: ``DataFileError`` (naming `path`) if a name is duplicated, empty or
    ///   `__metadata__`, a shape is invalid, or a tensor's byte count does not match its dtype
    ///   and shape.
    public func serialized(path: String = "<safetensors>") throws -> Data {
        var seen = Set<String>()
        var header = "{"
        var members: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(HeaderJSON.quote($0)):\(HeaderJSON.quote(metadata[$0]!))" }
            members.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
        }
        var offset = 0
        for t in tensors {
            let location = "tensor \(t.name)"
            guard !t.name.isEmpty, t.name != "__metadata__" else {
                throw DataFileError(path: path, location: location, message: "invalid tensor name")
            }
            guard seen.insert(t.name).inserted else {
                throw DataFileError(path: path, location: location, message: "duplicate tensor name")
            }
            guard let n = t.elementCount, case let (bytes, false) = n.multipliedReportingOverflow(by: t.dtype.byteSize) else {
                throw DataFileError(path: path, location: location, message: "invalid shape \(t.shape)")
            }
            guard bytes == t.data.count else {
                throw DataFileError(path: path, location: location,
                                    message: "has \(t.data.count) bytes, but \(t.dtype.rawValue) \(t.shape) needs \(bytes)")
            }
            let shape = "[" + t.shape.map(String.init).joined(separator: ",") + "]"
            members.append("\(HeaderJSON.quote(t.name)):{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":\(shape),"
                           + "\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        header += members.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }

        var out = Data(capacity: 8 + headerBytes.count + offset)
        var length = UInt64(headerBytes.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out.append(contentsOf: headerBytes)
        for t in tensors { out.append(t.data) }
        return out
    }

    /// Writes the file (not atomically; ``Checkpoint`` adds atomicity and fsync).
    ///
    /// - Parameter path: the destination, replaced if it exists.
    /// - Throws: ``DataFileError`` if the file cannot be serialised or written.
    public func write(to path: String) throws {
        let data = try serialized(path: path)
        do {
            try data.write(to: URL(fileURLWithPath: path))
        } catch {
            throw DataFileError(path: path, message: "cannot write: \(error.localizedDescription)")
        }
    }

    // MARK: Reading

    /// Reads and validates a safetensors file (see ``parse(_:path:)`` for what is checked).
    ///
    /// - Parameter path: the file to read.
    /// - Returns: the tensors, in data-section order, and the metadata.
    /// - Throws: ``DataFileError`` naming the file and the problem.
    public static func read(path: String) throws -> SafeTensorsFile {
        try parse(FileBytes.readData(path: path), path: path)
    }

    /// Parses and validates a safetensors image. Checks: the file holds the 8-byte length and
    /// the whole header; the header is at most ``maximumHeaderSize``, valid UTF-8 JSON, an object
    /// without duplicate keys; `__metadata__` (if present) maps strings to strings; every tensor
    /// has a known dtype, a shape of non-negative integers and two integer offsets with
    /// `begin ≤ end`, `end - begin = dtype size × element count`; and, sorted by offset, the
    /// tensors tile the data section exactly (no gap, overlap or trailing bytes).
    ///
    /// - Parameters:
    ///   - data: the whole file image.
    ///   - path: the file name used in error messages.
    /// - Returns: the tensors, in data-section order, and the metadata.
    /// - Throws: ``DataFileError`` naming `path` and the failed check.
    /// - Complexity: O(file size); nothing is allocated for a claimed size before the claim is
    ///   checked against the bytes present.
    public static func parse(_ data: Data, path: String) throws -> SafeTensorsFile {
        func fail(_ message: String, _ location: String? = nil) -> DataFileError {
            DataFileError(path: path, location: location, message: message)
        }
        let bytes = [UInt8](data)
        guard bytes.count >= 8 else {
            throw fail("not a safetensors file: \(bytes.count) bytes, shorter than the 8-byte header length")
        }
        var n: UInt64 = 0
        for i in (0..<8).reversed() { n = n << 8 | UInt64(bytes[i]) }
        let available = UInt64(bytes.count - 8)
        guard n <= available else {
            throw fail("header length \(n) exceeds the \(available) bytes after the length field (truncated or not a safetensors file)")
        }
        guard n <= UInt64(maximumHeaderSize) else {
            throw fail("header length \(n) exceeds the maximum \(maximumHeaderSize)")
        }
        let headerEnd = 8 + Int(n)
        let headerBytes = Array(bytes[8..<headerEnd])
        guard headerBytes.first == UInt8(ascii: "{") else {
            throw fail("header does not start with '{'", "header")
        }
        let json: HeaderJSON
        do {
            json = try HeaderJSON.parse(headerBytes)
        } catch let e as HeaderJSON.ParseError {
            throw fail("malformed JSON: \(e.message)", "header byte \(e.offset)")
        }
        guard case .object(let members) = json else { throw fail("header is not a JSON object", "header") }

        let dataSize = bytes.count - headerEnd
        var metadata: [String: String] = [:]
        var entries: [(name: String, dtype: SafeTensorsDType, shape: [Int], begin: Int, end: Int)] = []
        for (key, value) in members {
            if key == "__metadata__" {
                guard case .object(let pairs) = value else {
                    throw fail("must be an object of strings, found \(value.typeName)", "__metadata__")
                }
                for (k, v) in pairs {
                    guard case .string(let s) = v else {
                        throw fail("value must be a string, found \(v.typeName)", "__metadata__.\(k)")
                    }
                    metadata[k] = s
                }
                continue
            }
            let location = "tensor \(key)"
            guard case .object(let fields) = value else { throw fail("must be an object, found \(value.typeName)", location) }
            var dtypeValue: HeaderJSON?, shapeValue: HeaderJSON?, offsetsValue: HeaderJSON?
            for (k, v) in fields {
                switch k {
                case "dtype": dtypeValue = v
                case "shape": shapeValue = v
                case "data_offsets": offsetsValue = v
                default: throw fail("unknown field \"\(k)\"", location)
                }
            }
            guard case .string(let dtypeName)? = dtypeValue else { throw fail("missing or non-string \"dtype\"", location) }
            guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
                throw fail("unsupported dtype \"\(dtypeName)\"", location)
            }
            guard case .array(let dims)? = shapeValue else { throw fail("missing or non-array \"shape\"", location) }
            var shape: [Int] = []
            for d in dims {
                guard let v = d.nonNegativeInt else { throw fail("shape entries must be non-negative integers", location) }
                shape.append(v)
            }
            guard case .array(let offs)? = offsetsValue, offs.count == 2,
                  let begin = offs[0].nonNegativeInt, let end = offs[1].nonNegativeInt else {
                throw fail("\"data_offsets\" must be two non-negative integers", location)
            }
            guard begin <= end else { throw fail("data_offsets [\(begin), \(end)] has begin > end", location) }
            guard end <= dataSize else {
                throw fail("data_offsets [\(begin), \(end)] extend past the \(dataSize)-byte data section", location)
            }
            guard let count = elementCount(shape), case let (expected, false) = count.multipliedReportingOverflow(by: dtype.byteSize) else {
                throw fail("shape \(shape) is too large", location)
            }
            guard end - begin == expected else {
                throw fail("data_offsets [\(begin), \(end)] span \(end - begin) bytes, but \(dtype.rawValue) \(shape) needs \(expected)", location)
            }
            entries.append((key, dtype, shape, begin, end))
        }

        // Tiling: sorted by (begin, end), each tensor starts where the previous ended.
        let sorted = entries.sorted { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var cursor = 0
        for e in sorted {
            if e.begin < cursor {
                let other = sorted.last { $0.end > e.begin && $0.name != e.name && ($0.begin, $0.end) <= (e.begin, e.end) }
                throw fail("data_offsets [\(e.begin), \(e.end)] overlap" + (other.map { " tensor \($0.name)" } ?? " another tensor"),
                           "tensor \(e.name)")
            }
            if e.begin > cursor {
                throw fail("gap in the data section: bytes [\(cursor), \(e.begin)) belong to no tensor", "tensor \(e.name)")
            }
            cursor = e.end
        }
        guard cursor == dataSize else {
            throw fail("data section has \(dataSize) bytes but the tensors cover \(cursor) (trailing bytes or truncated header)")
        }

        let tensors = sorted.map { e in
            SafeTensorsEntry(name: e.name, dtype: e.dtype, shape: e.shape,
                             data: Data(bytes[(headerEnd + e.begin)..<(headerEnd + e.end)]))
        }
        return SafeTensorsFile(tensors: tensors, metadata: metadata)
    }
}

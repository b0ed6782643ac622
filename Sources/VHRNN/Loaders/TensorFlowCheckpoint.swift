import Foundation

/// A TensorFlow 1 `tf.train.Saver` checkpoint (V2 "tensor bundle" format), read without
/// TensorFlow or a protobuf library: the tensor table of `PREFIX.index` and the tensor bytes of
/// `PREFIX.data-SSSSS-of-NNNNN`.
///
/// # Format
///
/// A checkpoint with prefix `PREFIX` is one index file plus `N ≥ 1` data shards.
///
/// **Index file `PREFIX.index`** — a LevelDB-style SSTable (TensorFlow's `tensorflow/core/lib/io`
/// table), all integers little-endian:
///
/// - *Footer*: the last 48 bytes of the file:
///   `metaindex handle | index handle | zero padding to 40 bytes | magic (8 bytes)`.
///   A block handle is two base-128 varint64s, `offset` then `size` (the size excludes the
///   trailer), so each handle takes 2–20 bytes. The magic is `0xdb4775248b80fb57` as a
///   little-endian `uint64` (bytes `57 fb 80 8b 24 75 47 db`).
/// - *Block*: `size` bytes of contents followed by a 5-byte *trailer*:
///   `compression type (1 byte: 0 none, 1 snappy) | masked CRC32C (fixed32)`, where the CRC
///   covers the block contents *and* the type byte. Checkpoint writers never compress; this
///   reader refuses snappy blocks.
/// - *Block contents*: a run of entries, then the restart array (`num_restarts` fixed32 offsets
///   of entries, relative to the block start), then `num_restarts` (fixed32) last. Each entry is
///   `shared (varint32) | non_shared (varint32) | value_length (varint32) |
///   key_delta (non_shared bytes) | value (value_length bytes)`; its key is the first `shared`
///   bytes of the previous entry's key followed by `key_delta`. Entries at restart points have
///   `shared = 0` (the writer restarts every 16 entries).
/// - *Index block*: one entry per data block; the key is a separator ≥ every key in that block
///   (and < every key of the next), the value that block's handle. The *metaindex block* is
///   empty in checkpoints (no filters). Keys of the whole table are byte strings in strictly
///   increasing bytewise order.
///
/// **Table entries** — values are protocol buffers (proto3 wire format: each field a varint tag
/// `number << 3 | wire type`, wire type 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32,
/// 3/4 start/end of a group):
///
/// - Key `""` (the first entry) — `BundleHeaderProto`: field 1 `num_shards` (int32), field 2
///   `endianness` (enum: 0 little, 1 big — this reader refuses big), field 3 `version`
///   (`VersionDef`, ignored).
/// - Every other key is a tensor name (UTF-8) and its value a `BundleEntryProto`:
///   field 1 `dtype` (enum `DataType`: 1 `DT_FLOAT`, 2 `DT_DOUBLE`, 3 `DT_INT32`,
///   9 `DT_INT64`, …), field 2 `shape` (`TensorShapeProto`: repeated field 2 `dim`, each a
///   message with field 1 `size` int64 and field 2 `name` string; field 3 `unknown_rank`
///   bool), field 3 `shard_id` (int32), field 4 `offset` (int64), field 5 `size` (int64, bytes),
///   field 6 `crc32c` (fixed32: the *masked* CRC32C of the tensor's bytes), field 7 `slices`
///   (repeated `TensorSliceProto`: present only for partitioned variables, refused here).
///
/// **Data shards** — `String(format: "%@.data-%05d-of-%05d", PREFIX, shard_id, num_shards)`,
/// e.g. `model.ckpt-280001.data-00000-of-00001`. A tensor occupies bytes
/// `[offset, offset + size)` of its shard: the elements in row-major order, little-endian,
/// `size = element count × dtype size` for numeric types. Tensors follow each other in key order
/// (writers may align them, Saver checkpoints do not).
///
/// **Checksums** — CRC32C (Castagnoli; the internal `CRC32C`) stored *masked*:
/// `mask(crc) = ((crc >> 15) | (crc << 17)) &+ 0xa282ead8` (32-bit rotate right by 15, then a
/// wrapping add). Both block trailers and `BundleEntryProto.crc32c` use masked values.
///
/// # Reader behaviour
///
/// ``init(prefix:)`` reads and validates the whole index: every block's checksum and compression
/// type, every varint (at most 10 bytes, no overflow) and length against the bytes that remain,
/// every block handle against the file, restart points, strictly increasing keys, the header,
/// and every entry (known wire types, non-negative dimensions and byte ranges, shard in range,
/// no slices). Data shards are opened lazily by the typed readers, which check that the shard
/// exists, that the byte range lies inside it, that `size` matches dtype and shape, and the
/// tensor's checksum. Every failure is a ``TensorFlowCheckpointError`` with a one-line
/// description naming the file (and tensor); hostile bytes never trap.
public struct TensorFlowCheckpoint: Sendable {
    /// A tensor's element type (TensorFlow's `DataType` enum). Only the four numeric types the
    /// readers decode are named; anything else keeps its raw enum number.
    public enum DataType: Sendable, Hashable, CustomStringConvertible {
        /// `DT_FLOAT` (1): 4-byte IEEE floats.
        case float
        /// `DT_DOUBLE` (2): 8-byte IEEE doubles.
        case double
        /// `DT_INT32` (3): 4-byte signed integers.
        case int32
        /// `DT_INT64` (9): 8-byte signed integers (e.g. `global_step`).
        case int64
        /// Any other `DataType` number; such tensors are listed but not decoded.
        case other(Int32)

        /// The type with TensorFlow's enum number `rawValue` (``other(_:)`` for unnamed ones).
        public init(rawValue: Int32) {
            switch rawValue {
            case 1: self = .float
            case 2: self = .double
            case 3: self = .int32
            case 9: self = .int64
            default: self = .other(rawValue)
            }
        }

        /// The `DataType` enum number.
        public var rawValue: Int32 {
            switch self {
            case .float: return 1
            case .double: return 2
            case .int32: return 3
            case .int64: return 9
            case .other(let raw): return raw
            }
        }

        /// Bytes per element, or nil for a type this reader does not decode.
        public var byteSize: Int? {
            switch self {
            case .float, .int32: return 4
            case .double, .int64: return 8
            case .other: return nil
            }
        }

        /// TensorFlow's name (`DT_FLOAT`, …), or `DataType N` for the others.
        public var description: String {
            switch self {
            case .float: return "DT_FLOAT"
            case .double: return "DT_DOUBLE"
            case .int32: return "DT_INT32"
            case .int64: return "DT_INT64"
            case .other(let raw): return "DataType \(raw)"
            }
        }
    }

    /// One tensor of the table, as its `BundleEntryProto` describes it.
    public struct Entry: Sendable, Hashable {
        /// The variable's name, e.g. `lstm_cell/kernel`.
        public let name: String
        /// The tensor's element type.
        public let dtype: DataType
        /// Dimensions, outermost first (`[]` for a scalar); all non-negative.
        public let shape: [Int]
        /// Which data shard holds the bytes (`0 ..< numShards`).
        public let shard: Int
        /// Byte offset of the tensor in its shard.
        public let offset: Int
        /// Byte count of the tensor in its shard.
        public let size: Int
        /// The masked CRC32C of the tensor's `size` bytes, as stored.
        public let maskedCRC32C: UInt32

        /// The product of the shape (1 for a scalar), or nil if it overflows `Int`.
        public var elementCount: Int? {
            var n = 1
            for d in shape {
                let (p, overflow) = n.multipliedReportingOverflow(by: d)
                if overflow { return nil }
                n = p
            }
            return n
        }
    }

    /// The checkpoint prefix as given, e.g. `.../model.ckpt-280001`.
    public let prefix: String
    /// The number of data shards (`BundleHeaderProto.num_shards`).
    public let numShards: Int
    /// Every tensor, sorted by name in bytewise (UTF-8) order — the table's order.
    public let entries: [Entry]

    /// `prefix + ".index"`.
    public var indexPath: String { prefix + ".index" }

    /// The path of data shard `shard`: `PREFIX.data-%05d-of-%05d`.
    public func dataShardPath(_ shard: Int) -> String {
        prefix + ".data-" + Self.zeroPadded(shard) + "-of-" + Self.zeroPadded(numShards)
    }

    /// The most shards a header may declare; more is taken as corruption.
    static let maximumShards = 100_000
    /// TensorFlow's `TensorShape` rank limit.
    static let maximumRank = 254

    /// Reads and validates `prefix + ".index"` (see the type's documentation for what is
    /// checked). The data shards are not opened until a tensor is read.
    ///
    /// - Parameter prefix: the checkpoint prefix, e.g. `runs/x/model.ckpt-280001`.
    /// - Throws: ``TensorFlowCheckpointError`` naming the index file and the problem.
    /// - Complexity: O(index size).
    public init(prefix: String) throws {
        let path = prefix + ".index"
        guard FileManager.default.fileExists(atPath: path) else {
            throw TensorFlowCheckpointError(.unreadable, path: path, message: "missing index file")
        }
        let bytes: [UInt8]
        do { bytes = try FileBytes.read(path: path) } catch let error as DataFileError {
            throw TensorFlowCheckpointError(.unreadable, path: path, message: error.message)
        }
        try self.init(prefix: prefix, indexBytes: bytes)
    }

    /// Parses index bytes as if read from `prefix + ".index"` (data shards are looked up next to
    /// `prefix`). Used by ``init(prefix:)`` and by tests feeding mutated bytes.
    init(prefix: String, indexBytes bytes: [UInt8]) throws {
        let path = prefix + ".index"
        let records = try TensorBundleTable.records(of: bytes, path: path)
        guard let header = records.first, header.key.isEmpty else {
            throw TensorFlowCheckpointError(.malformed, path: path,
                                            message: "no header entry (the table has no empty key)")
        }
        let numShards = try BundleProtos.header(bytes, header.value, path: path)
        var entries: [Entry] = []
        entries.reserveCapacity(records.count - 1)
        for record in records.dropFirst() {
            let name = String(decoding: record.key, as: UTF8.self)
            guard name.utf8.elementsEqual(record.key) else {
                throw TensorFlowCheckpointError(.malformed, path: path,
                                                message: "tensor name \(quoted(name)) is not valid UTF-8")
            }
            entries.append(try BundleProtos.entry(bytes, record.value, name: name, numShards: numShards, path: path))
        }
        self.prefix = prefix
        self.numShards = numShards
        self.entries = entries
    }

    /// The entry with exactly this name (bytewise), if any. Binary search.
    public func entry(named name: String) -> Entry? {
        var low = 0, high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if entries[mid].name.utf8.lexicographicallyPrecedes(name.utf8) { low = mid + 1 } else { high = mid }
        }
        guard low < entries.count, entries[low].name.utf8.elementsEqual(name.utf8) else { return nil }
        return entries[low]
    }

    // MARK: Typed readers

    /// The elements of a `DT_FLOAT` tensor (or a `DT_DOUBLE` one, rounded to `Float`), row-major.
    ///
    /// - Parameter name: the variable's name, e.g. `lstm_cell/kernel`.
    /// - Throws: ``TensorFlowCheckpointError`` when there is no such tensor, its dtype is not
    ///   a float type, its shard is missing or too short, or its checksum does not match.
    public func floatValues(_ name: String) throws -> [Float] {
        let entry = try lookup(name, accepting: [.float, .double], reader: "floatValues")
        let bytes = try verifiedBytes(entry)
        if entry.dtype == .double { return Self.decode(bytes, as: UInt64.self) { Float(Double(bitPattern: $0)) } }
        return Self.decode(bytes, as: UInt32.self) { Float(bitPattern: $0) }
    }

    /// The elements of a `DT_DOUBLE` tensor (or a `DT_FLOAT` one, widened exactly), row-major.
    ///
    /// - Parameter name: the variable's name.
    /// - Throws: ``TensorFlowCheckpointError``, as ``floatValues(_:)``.
    public func doubleValues(_ name: String) throws -> [Double] {
        let entry = try lookup(name, accepting: [.double, .float], reader: "doubleValues")
        let bytes = try verifiedBytes(entry)
        if entry.dtype == .float { return Self.decode(bytes, as: UInt32.self) { Double(Float(bitPattern: $0)) } }
        return Self.decode(bytes, as: UInt64.self) { Double(bitPattern: $0) }
    }

    /// The elements of a `DT_INT64` tensor (or a `DT_INT32` one, widened), row-major.
    ///
    /// - Parameter name: the variable's name, e.g. `global_step`.
    /// - Throws: ``TensorFlowCheckpointError``, as ``floatValues(_:)``.
    public func int64Values(_ name: String) throws -> [Int64] {
        let entry = try lookup(name, accepting: [.int64, .int32], reader: "int64Values")
        let bytes = try verifiedBytes(entry)
        if entry.dtype == .int32 { return Self.decode(bytes, as: UInt32.self) { Int64(Int32(bitPattern: $0)) } }
        return Self.decode(bytes, as: UInt64.self) { Int64(bitPattern: $0) }
    }

    /// The tensor's raw bytes from its shard, after checking the range, the size against dtype
    /// and shape, and the checksum.
    func verifiedBytes(_ entry: Entry) throws -> [UInt8] {
        guard let byteSize = entry.dtype.byteSize else {
            throw TensorFlowCheckpointError(.wrongType, path: indexPath, tensor: entry.name,
                                            message: "\(entry.dtype) cannot be decoded")
        }
        guard let count = entry.elementCount,
              case let (expected, false) = count.multipliedReportingOverflow(by: byteSize),
              expected == entry.size else {
            throw TensorFlowCheckpointError(.malformed, path: indexPath, tensor: entry.name,
                                            message: "size \(entry.size) bytes does not match \(entry.dtype) \(entry.shape)")
        }
        let path = dataShardPath(entry.shard)
        let bytes = try Self.readRange(path: path, entry: entry, numShards: numShards)
        let computed = CRC32C.mask(CRC32C.checksum(bytes))
        guard computed == entry.maskedCRC32C else {
            throw TensorFlowCheckpointError(.checksumMismatch, path: path, tensor: entry.name,
                                            message: "checksum mismatch (stored \(hex32(entry.maskedCRC32C)), computed \(hex32(computed)))")
        }
        return bytes
    }

    private func lookup(_ name: String, accepting types: [DataType], reader: String) throws -> Entry {
        guard let entry = entry(named: name) else {
            throw TensorFlowCheckpointError(.noSuchTensor, path: indexPath, message: "no tensor named \(quoted(name))")
        }
        guard types.contains(entry.dtype) else {
            throw TensorFlowCheckpointError(.wrongType, path: indexPath, tensor: name,
                                            message: "dtype is \(entry.dtype), \(reader) reads \(types.map(\.description).joined(separator: " or "))")
        }
        return entry
    }

    /// Reads `[entry.offset, entry.offset + entry.size)` of the shard at `path`.
    private static func readRange(path: String, entry: Entry, numShards: Int) throws -> [UInt8] {
        func fail(_ kind: TensorFlowCheckpointError.Kind, _ message: String) -> TensorFlowCheckpointError {
            TensorFlowCheckpointError(kind, path: path, tensor: entry.name, message: message)
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw fail(.missingShard, "missing data shard (shard \(entry.shard) of \(numShards))")
        }
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            let fileSize = try handle.seekToEnd()
            let end = UInt64(entry.offset) + UInt64(entry.size)  // both ≤ Int.max: no overflow
            guard end <= fileSize else {
                throw fail(.truncated, "bytes [\(entry.offset), \(end)) extend past the end of the file (\(fileSize) bytes)")
            }
            try handle.seek(toOffset: UInt64(entry.offset))
            var bytes: [UInt8] = []
            bytes.reserveCapacity(entry.size)
            while bytes.count < entry.size {
                guard let chunk = try handle.read(upToCount: entry.size - bytes.count), !chunk.isEmpty else {
                    throw fail(.truncated, "file ended after \(entry.offset + bytes.count) of \(end) bytes")
                }
                bytes.append(contentsOf: chunk)
            }
            return bytes
        } catch let error as TensorFlowCheckpointError {
            throw error
        } catch {
            throw fail(.unreadable, "cannot read: \(error.localizedDescription)")
        }
    }

    /// Little-endian words of `bytes` (whose count is a multiple of the word size), converted.
    private static func decode<Word: FixedWidthInteger, Value>(_ bytes: [UInt8], as _: Word.Type,
                                                                _ convert: (Word) -> Value) -> [Value] {
        let width = MemoryLayout<Word>.size
        return bytes.withUnsafeBytes { raw in
            (0..<raw.count / width).map { convert(Word(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * width, as: Word.self))) }
        }
    }

    /// `%05d`: at least five digits, zero-padded.
    private static func zeroPadded(_ n: Int) -> String {
        let digits = String(n)
        return digits.count >= 5 ? digits : String(repeating: "0", count: 5 - digits.count) + digits
    }
}

/// Why a TensorFlow checkpoint could not be read: the file, the tensor where relevant, and the
/// problem, described on one short line (control characters in names are escaped, long names
/// shortened), e.g.
/// `model.ckpt-280001.data-00000-of-00001: tensor "lstm_cell/kernel": checksum mismatch (stored 0x…, computed 0x…)`.
public struct TensorFlowCheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The class of problem, for callers that branch on it.
    public enum Kind: Sendable, Hashable {
        /// A file is missing (the index) or cannot be read.
        case unreadable
        /// A file ends before the structure it must hold (footer, tensor bytes).
        case truncated
        /// The bytes do not follow the format.
        case malformed
        /// A block's or a tensor's CRC32C does not match.
        case checksumMismatch
        /// Valid TensorFlow, but outside what this reader supports (snappy, big-endian, slices).
        case unsupported
        /// A data shard the index refers to does not exist.
        case missingShard
        /// No tensor has the requested name.
        case noSuchTensor
        /// The tensor's dtype is not what the reader asked for decodes.
        case wrongType
    }

    /// The class of problem.
    public var kind: Kind
    /// The file the problem is in.
    public var path: String
    /// The tensor concerned, if any.
    public var tensor: String?
    /// What is wrong, in a few words.
    public var message: String

    /// An error from its parts.
    public init(_ kind: Kind, path: String, tensor: String? = nil, message: String) {
        self.kind = kind
        self.path = path
        self.tensor = tensor
        self.message = message
    }

    /// One line: `path: tensor "name": message`, control characters escaped.
    public var description: String {
        var line = escapingControlCharacters(path) + ": "
        if let tensor { line += "tensor \(quoted(tensor)): " }
        return line + escapingControlCharacters(message)
    }
}

// MARK: - Table (SSTable) decoding

/// The key/value records of a TensorFlow table (the index file's SSTable), validated.
enum TensorBundleTable {
    static let footerSize = 48
    static let magic: UInt64 = 0xDB47_7524_8B80_FB57
    static let trailerSize = 5

    /// A table record: the full key, and where its value lies in the file.
    struct Record {
        var key: [UInt8]
        var value: Range<Int>
    }

    /// Every record of the table in key order: footer → index block → data blocks.
    static func records(of file: [UInt8], path: String) throws -> [Record] {
        func fail(_ kind: TensorFlowCheckpointError.Kind, _ message: String) -> TensorFlowCheckpointError {
            TensorFlowCheckpointError(kind, path: path, message: message)
        }
        guard !file.isEmpty else { throw fail(.truncated, "empty file (a table footer needs \(footerSize) bytes)") }
        guard file.count >= footerSize else {
            throw fail(.truncated, "truncated (file is \(file.count) bytes, a table footer needs \(footerSize))")
        }
        let footerStart = file.count - footerSize
        var magicReader = WireReader(file, from: footerStart + 40, to: file.count)
        let foundMagic = UInt64(try magicReader.fixed32()) | UInt64(try magicReader.fixed32()) << 32
        guard foundMagic == magic else {
            throw fail(.malformed, "bad table magic \(hex64(foundMagic)) (not a checkpoint index, or truncated)")
        }
        var footer = WireReader(file, from: footerStart, to: footerStart + 40)
        let metaindexHandle: BlockHandle, indexHandle: BlockHandle
        do {
            metaindexHandle = try footer.blockHandle()
            indexHandle = try footer.blockHandle()
        } catch let error as WireError {
            throw fail(.malformed, "footer: \(error.message)")
        }

        // The metaindex is empty in checkpoints; it is checksummed and parsed, then ignored.
        _ = try entries(ofBlock: block(metaindexHandle, in: file, what: "metaindex block", path: path), in: file, path: path)
        let index = try entries(ofBlock: block(indexHandle, in: file, what: "index block", path: path), in: file, path: path)

        var records: [Record] = []
        var previousSeparator: [UInt8]?
        for (separator, handleRange) in index {
            if let previous = previousSeparator, !previous.lexicographicallyPrecedes(separator) {
                throw fail(.malformed, "index block: separator \(quoted(separator)) is not greater than \(quoted(previous))")
            }
            previousSeparator = separator
            var handleReader = WireReader(file, from: handleRange.lowerBound, to: handleRange.upperBound)
            let handle: BlockHandle
            do {
                handle = try handleReader.blockHandle()
            } catch let error as WireError {
                throw fail(.malformed, "index block: entry \(quoted(separator)): \(error.message)")
            }
            guard handleReader.isAtEnd else {
                throw fail(.malformed, "index block: entry \(quoted(separator)): \(handleReader.remaining) bytes after the block handle")
            }
            let contents = try block(handle, in: file, what: "data block", path: path)
            for (key, value) in try entries(ofBlock: contents, in: file, path: path) {
                if let previous = records.last?.key, !previous.lexicographicallyPrecedes(key) {
                    throw fail(.malformed, "key \(quoted(key)) in block at offset \(handle.offset) is not greater than the previous key \(quoted(previous)) (keys must be strictly increasing)")
                }
                guard !separator.lexicographicallyPrecedes(key) else {
                    throw fail(.malformed, "key \(quoted(key)) in block at offset \(handle.offset) is greater than its index separator \(quoted(separator))")
                }
                records.append(Record(key: key, value: value))
            }
        }
        return records
    }

    /// The contents range of the block `handle` points at, after checking that block and trailer
    /// lie before the footer, the trailer's masked CRC32C and the compression type.
    static func block(_ handle: BlockHandle, in file: [UInt8], what: String, path: String) throws -> Range<Int> {
        let limit = file.count - footerSize
        guard handle.offset <= limit, handle.size <= limit - handle.offset,
              trailerSize <= limit - handle.offset - handle.size else {
            throw TensorFlowCheckpointError(.malformed, path: path,
                                            message: "\(what) handle (offset \(handle.offset), size \(handle.size)) runs past the \(limit) bytes before the footer")
        }
        let contents = handle.offset ..< handle.offset + handle.size
        let typeByte = file[contents.upperBound]
        var trailer = WireReader(file, from: contents.upperBound + 1, to: contents.upperBound + trailerSize)
        let stored = try trailer.fixed32()  // in bounds: checked above
        let computed = CRC32C.mask(CRC32C.checksum(file[contents.lowerBound ... contents.upperBound]))
        guard stored == computed else {
            throw TensorFlowCheckpointError(.checksumMismatch, path: path,
                                            message: "block at offset \(handle.offset): checksum mismatch (stored \(hex32(stored)), computed \(hex32(computed)))")
        }
        switch typeByte {
        case 0:
            return contents
        case 1:
            throw TensorFlowCheckpointError(.unsupported, path: path,
                                            message: "block at offset \(handle.offset) is snappy-compressed; snappy-compressed index is unsupported")
        default:
            throw TensorFlowCheckpointError(.malformed, path: path,
                                            message: "block at offset \(handle.offset): unknown compression type \(typeByte)")
        }
    }

    /// The entries of one block (prefix-decompressed keys and value ranges), checking the restart
    /// array: it fits, its offsets are increasing entry boundaries starting at 0, and restart
    /// entries share nothing with the previous key.
    static func entries(ofBlock contents: Range<Int>, in file: [UInt8], path: String) throws -> [(key: [UInt8], value: Range<Int>)] {
        let start = contents.lowerBound
        func fail(_ message: String) -> TensorFlowCheckpointError {
            TensorFlowCheckpointError(.malformed, path: path, message: "block at offset \(start): \(message)")
        }
        guard contents.count >= 4 else { throw fail("\(contents.count) bytes, too short for the restart count") }
        var countReader = WireReader(file, from: contents.upperBound - 4, to: contents.upperBound)
        let restartCount = Int(try countReader.fixed32())
        guard restartCount <= (contents.count - 4) / 4 else {
            throw fail("restart count \(restartCount) does not fit in \(contents.count) bytes")
        }
        let entriesEnd = contents.upperBound - 4 - 4 * restartCount
        var restartReader = WireReader(file, from: entriesEnd, to: contents.upperBound - 4)
        var restarts: [Int] = []
        restarts.reserveCapacity(restartCount)
        for _ in 0..<restartCount { restarts.append(Int(try restartReader.fixed32())) }
        if entriesEnd > start, restarts.first != 0 {
            throw fail("the first entry is not a restart point")
        }

        var reader = WireReader(file, from: start, to: entriesEnd)
        var key: [UInt8] = []
        var result: [(key: [UInt8], value: Range<Int>)] = []
        var nextRestart = 0
        while !reader.isAtEnd {
            let entryOffset = reader.position - start
            if nextRestart < restarts.count, restarts[nextRestart] < entryOffset {
                throw fail("restart point \(restarts[nextRestart]) is not at an entry boundary")
            }
            let isRestart = nextRestart < restarts.count && restarts[nextRestart] == entryOffset
            if isRestart { nextRestart += 1 }
            do {
                let shared = Int(try reader.varint32())
                let nonShared = Int(try reader.varint32())
                let valueLength = Int(try reader.varint32())
                guard shared <= key.count else {
                    throw WireError("shares \(shared) bytes with a previous key of \(key.count)")
                }
                if isRestart, shared != 0 { throw WireError("is a restart point but shares \(shared) key bytes") }
                guard nonShared <= reader.remaining, valueLength <= reader.remaining - nonShared else {
                    throw WireError("key and value (\(nonShared) + \(valueLength) bytes) run past the \(reader.remaining) bytes left")
                }
                key.removeSubrange(shared...)
                key.append(contentsOf: try reader.bytes(nonShared))
                let valueStart = reader.position
                _ = try reader.bytes(valueLength)
                result.append((key, valueStart ..< valueStart + valueLength))
            } catch let error as WireError {
                throw fail("entry at byte \(entryOffset): \(error.message)")
            }
        }
        // An empty block (as LevelDB writes it) still has the restart point 0.
        if result.isEmpty, let bad = restarts.first(where: { $0 != 0 }) {
            throw fail("restart point \(bad) lies in a block without entries")
        }
        if !result.isEmpty, nextRestart < restarts.count {
            throw fail("restart point \(restarts[nextRestart]) is not at an entry boundary")
        }
        return result
    }
}

/// A block's position in the table file (`size` excludes the 5-byte trailer).
struct BlockHandle {
    var offset: Int
    var size: Int
}

// MARK: - Protocol buffer decoding (the four messages a bundle needs)

/// Decoders of `BundleHeaderProto` and `BundleEntryProto`.
enum BundleProtos {
    /// `BundleHeaderProto` → `num_shards`, refusing big-endian bundles.
    static func header(_ file: [UInt8], _ value: Range<Int>, path: String) throws -> Int {
        var numShards: Int32 = 0
        var endianness: UInt64 = 0
        do {
            var proto = ProtoReader(file, value)
            while let field = try proto.nextField() {
                switch field.number {
                case 1: numShards = Int32(truncatingIfNeeded: try proto.varint(field, "num_shards"))
                case 2: endianness = try proto.varint(field, "endianness")
                case 3: _ = try proto.message(field, "version")
                default: try proto.skip(field)
                }
            }
        } catch let error as WireError {
            throw TensorFlowCheckpointError(.malformed, path: path, message: "BundleHeaderProto: \(error.message)")
        }
        switch endianness {
        case 0: break
        case 1:
            throw TensorFlowCheckpointError(.unsupported, path: path, message: "big-endian checkpoint is unsupported")
        default:
            throw TensorFlowCheckpointError(.malformed, path: path, message: "BundleHeaderProto: unknown endianness \(endianness)")
        }
        guard numShards >= 1, Int(numShards) <= TensorFlowCheckpoint.maximumShards else {
            throw TensorFlowCheckpointError(.malformed, path: path,
                                            message: "BundleHeaderProto: num_shards \(numShards) is not in 1...\(TensorFlowCheckpoint.maximumShards)")
        }
        return Int(numShards)
    }

    /// `BundleEntryProto` → a validated entry.
    static func entry(_ file: [UInt8], _ value: Range<Int>, name: String, numShards: Int,
                      path: String) throws -> TensorFlowCheckpoint.Entry {
        func fail(_ kind: TensorFlowCheckpointError.Kind, _ message: String) -> TensorFlowCheckpointError {
            TensorFlowCheckpointError(kind, path: path, tensor: name, message: message)
        }
        var dtype: Int32 = 0
        var shape: [Int] = []
        var unknownRank = false
        var shard: Int32 = 0
        var offset: Int64 = 0
        var size: Int64 = 0
        var crc: UInt32 = 0
        var sliceCount = 0
        do {
            var proto = ProtoReader(file, value)
            while let field = try proto.nextField() {
                switch field.number {
                case 1: dtype = Int32(truncatingIfNeeded: try proto.varint(field, "dtype"))
                case 2: try tensorShape(try proto.message(field, "shape"), into: &shape, unknownRank: &unknownRank)
                case 3: shard = Int32(truncatingIfNeeded: try proto.varint(field, "shard_id"))
                case 4: offset = Int64(bitPattern: try proto.varint(field, "offset"))
                case 5: size = Int64(bitPattern: try proto.varint(field, "size"))
                case 6: crc = try proto.fixed32(field, "crc32c")
                case 7:
                    _ = try proto.message(field, "slices")
                    sliceCount += 1
                default: try proto.skip(field)
                }
            }
        } catch let error as WireError {
            throw fail(.malformed, "BundleEntryProto: \(error.message)")
        }
        guard sliceCount == 0 else {
            throw fail(.unsupported, "has \(sliceCount) slices; partitioned variables are unsupported")
        }
        guard dtype != 0 else { throw fail(.malformed, "dtype is DT_INVALID (0)") }
        guard !unknownRank else { throw fail(.malformed, "shape has unknown rank") }
        if let bad = shape.first(where: { $0 < 0 }) { throw fail(.malformed, "shape \(shape) has a negative dimension \(bad)") }
        guard (0..<numShards).contains(Int(shard)) else {
            throw fail(.malformed, "shard_id \(shard) is not below num_shards \(numShards)")
        }
        guard offset >= 0, size >= 0, !offset.addingReportingOverflow(size).overflow else {
            throw fail(.malformed, "byte range offset \(offset), size \(size) is invalid")
        }
        return TensorFlowCheckpoint.Entry(name: name, dtype: .init(rawValue: dtype), shape: shape, shard: Int(shard),
                                          offset: Int(offset), size: Int(size), maskedCRC32C: crc)
    }

    /// Merges a `TensorShapeProto` (repeated `dim` = 2, `unknown_rank` = 3) into `shape`,
    /// as protobuf merges a repeated singular message field.
    static func tensorShape(_ message: ProtoReader, into shape: inout [Int], unknownRank: inout Bool) throws {
        var proto = message
        while let field = try proto.nextField() {
            switch field.number {
            case 2:
                var dim = try proto.message(field, "dim")
                var dimSize: Int64 = 0
                while let dimField = try dim.nextField() {
                    switch dimField.number {
                    case 1: dimSize = Int64(bitPattern: try dim.varint(dimField, "dim.size"))
                    default: try dim.skip(dimField)  // 2: name
                    }
                }
                guard shape.count < TensorFlowCheckpoint.maximumRank else {
                    throw WireError("shape has more than \(TensorFlowCheckpoint.maximumRank) dimensions")
                }
                shape.append(Int(dimSize))
            case 3:
                unknownRank = try proto.varint(field, "unknown_rank") != 0
            default:
                try proto.skip(field)
            }
        }
    }
}

/// A decoding failure below the level that knows the file and entry; wrapped into a
/// ``TensorFlowCheckpointError`` by the caller.
struct WireError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// A bounds-checked cursor over `bytes[position ..< end]`. Every read checks the bytes left.
struct WireReader {
    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int

    init(_ bytes: [UInt8], from start: Int, to end: Int) {
        self.bytes = bytes
        position = start
        self.end = end
    }

    var isAtEnd: Bool { position >= end }
    var remaining: Int { end - position }

    /// A base-128 varint of at most 10 bytes whose value fits in 64 bits.
    mutating func varint64() throws -> UInt64 {
        var result: UInt64 = 0
        for i in 0..<10 {
            guard position < end else { throw WireError("truncated varint") }
            let byte = bytes[position]
            position += 1
            if i == 9, byte > 1 { throw WireError("varint longer than 64 bits") }
            result |= UInt64(byte & 0x7F) << UInt64(7 * i)
            if byte < 0x80 { return result }
        }
        throw WireError("varint longer than 10 bytes")
    }

    /// A varint of at most 5 bytes whose value fits in 32 bits (LevelDB's `GetVarint32`).
    mutating func varint32() throws -> UInt32 {
        var result: UInt64 = 0
        for i in 0..<5 {
            guard position < end else { throw WireError("truncated varint") }
            let byte = bytes[position]
            position += 1
            result |= UInt64(byte & 0x7F) << UInt64(7 * i)
            if byte < 0x80 {
                guard result <= UInt64(UInt32.max) else { throw WireError("varint32 value \(result) overflows 32 bits") }
                return UInt32(result)
            }
        }
        throw WireError("varint32 longer than 5 bytes")
    }

    mutating func fixed32() throws -> UInt32 {
        guard remaining >= 4 else { throw WireError("truncated fixed32") }
        let p = position
        position += 4
        return UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24
    }

    /// The next `count` bytes.
    mutating func bytes(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else { throw WireError("length \(count) runs past the \(remaining) bytes left") }
        let p = position
        position += count
        return bytes[p ..< p + count]
    }

    /// Skips `count` bytes.
    mutating func skip(_ count: Int) throws { _ = try bytes(count) }

    /// A block handle: varint64 offset, varint64 size, both at most `Int.max`.
    mutating func blockHandle() throws -> BlockHandle {
        let offset = try varint64(), size = try varint64()
        guard offset <= UInt64(Int.max), size <= UInt64(Int.max) else {
            throw WireError("block handle (offset \(offset), size \(size)) is out of range")
        }
        return BlockHandle(offset: Int(offset), size: Int(size))
    }
}

/// Reads protobuf fields from a message's bytes, checking wire types of known fields and
/// skipping unknown ones by wire type (groups included, nested at most 64 deep).
struct ProtoReader {
    struct Field {
        var number: UInt32
        var wireType: UInt8
    }

    private var reader: WireReader

    init(_ bytes: [UInt8], _ range: Range<Int>) {
        reader = WireReader(bytes, from: range.lowerBound, to: range.upperBound)
    }

    /// The next field's tag, or nil at the end of the message.
    mutating func nextField() throws -> Field? {
        guard !reader.isAtEnd else { return nil }
        let tag = try reader.varint64()
        guard tag <= UInt64(UInt32.max) else { throw WireError("field tag \(tag) overflows 32 bits") }
        let number = UInt32(tag >> 3), wireType = UInt8(tag & 7)
        guard number != 0 else { throw WireError("field number 0") }
        guard wireType <= 5 else { throw WireError("field \(number) has invalid wire type \(wireType)") }
        return Field(number: number, wireType: wireType)
    }

    private func expect(_ field: Field, _ wireType: UInt8, _ name: String) throws {
        guard field.wireType == wireType else {
            throw WireError("field \(field.number) (\(name)) has wire type \(field.wireType), expected \(wireType)")
        }
    }

    mutating func varint(_ field: Field, _ name: String) throws -> UInt64 {
        try expect(field, 0, name)
        return try reader.varint64()
    }

    mutating func fixed32(_ field: Field, _ name: String) throws -> UInt32 {
        try expect(field, 5, name)
        return try reader.fixed32()
    }

    /// A length-delimited field's bytes, as a reader of the embedded message.
    mutating func message(_ field: Field, _ name: String) throws -> ProtoReader {
        try expect(field, 2, name)
        let range = try lengthDelimited()
        return ProtoReader(reader.bytes, range)
    }

    private mutating func lengthDelimited() throws -> Range<Int> {
        let length = try reader.varint64()
        guard length <= UInt64(reader.remaining) else {
            throw WireError("length \(length) runs past the \(reader.remaining) bytes left")
        }
        let start = reader.position
        try reader.skip(Int(length))
        return start ..< start + Int(length)
    }

    /// Skips an unknown field's payload according to its wire type.
    mutating func skip(_ field: Field, depth: Int = 0) throws {
        switch field.wireType {
        case 0: _ = try reader.varint64()
        case 1: try reader.skip(8)
        case 2: _ = try lengthDelimited()
        case 5: try reader.skip(4)
        case 3:
            guard depth < 64 else { throw WireError("groups nested more than 64 deep") }
            while true {
                guard let inner = try nextField() else { throw WireError("group \(field.number) is not terminated") }
                if inner.wireType == 4 {
                    guard inner.number == field.number else {
                        throw WireError("group \(field.number) ended by end-group \(inner.number)")
                    }
                    return
                }
                try skip(inner, depth: depth + 1)
            }
        default:  // 4: an end-group with no group open
            throw WireError("unexpected end-group for field \(field.number)")
        }
    }
}

// MARK: - Message formatting

/// A name in double quotes for a one-line message: `"` and `\` and control characters escaped,
/// shortened to 120 characters.
private func quoted(_ name: String) -> String {
    var body = ""
    var count = 0
    for scalar in name.unicodeScalars {
        if count == 120 {
            body += "…"
            break
        }
        count += 1
        switch scalar {
        case "\"": body += "\\\""
        case "\\": body += "\\\\"
        default: body += escapingControlCharacters(String(scalar))
        }
    }
    return "\"" + body + "\""
}

private func quoted(_ key: [UInt8]) -> String { quoted(String(decoding: key, as: UTF8.self)) }

/// `text` with control characters and line/paragraph separators written as `\u{…}`.
private func escapingControlCharacters(_ text: String) -> String { DataFileError.oneLine(text) }

private func hex32(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}

private func hex64(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 16 - digits.count) + digits
}

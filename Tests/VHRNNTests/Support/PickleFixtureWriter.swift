import VHRNN

/// Builds small pickles for tests, laid out the way CPython's pickler writes them, so fixtures
/// for every protocol (2–5) can be made in Swift without needing Python at test time.
///
/// Protocol 2 writes what Python 2 wrote for the published music pickles (BINPUT, GLOBAL
/// `numpy.core.multiarray scalar`, SHORT_BINSTRING payloads); protocols 4–5 write what
/// Python 3 with numpy 2 writes (FRAME, MEMOIZE, SHORT_BINUNICODE, STACK_GLOBAL
/// `numpy._core.multiarray scalar`, SHORT_BINBYTES payloads).
struct PickleFixtureWriter {
    indirect enum Value {
        case none
        case bool(Bool)
        case int(Int64)
        case float(Double)
        /// A Python 3 str (unicode).
        case str(String)
        /// A Python 2 str: raw bytes (SHORT_BINSTRING / BINSTRING).
        case py2str(String)
        case bytes([UInt8])
        case list([Value])
        case tuple([Value])
        case dict([(Value, Value)])
        /// A numpy int64 scalar, as numpy pickles it.
        case numpyInt64(Int64)

        /// What `SafePickleReader` should return for this value.
        var expected: PickleValue {
            switch self {
            case .none: return .none
            case .bool(let value): return .bool(value)
            case .int(let value), .numpyInt64(let value): return .int(value)
            case .float(let value): return .float(value)
            case .str(let text): return .string(text)
            case .py2str(let text): return .bytes(Array(text.utf8))
            case .bytes(let raw): return .bytes(raw)
            case .list(let items): return .list(items.map(\.expected))
            case .tuple(let items): return .tuple(items.map(\.expected))
            case .dict(let pairs): return .dict(pairs.map { PickleDictEntry(key: $0.0.expected, value: $0.1.expected) })
            }
        }
    }

    let proto: Int
    private var body: [UInt8] = []
    private var memoCount = 0
    private var scalarKey: Int?
    private var dtypeKey: Int?

    /// The complete pickle of `value` with protocol `proto` (2...5).
    static func pickle(_ value: Value, protocol proto: Int) -> [UInt8] {
        var writer = PickleFixtureWriter(proto: proto)
        writer.write(value)
        writer.body.append(0x2E)  // STOP
        var out: [UInt8] = [0x80, UInt8(proto)]
        if proto >= 4 {
            out.append(0x95)  // FRAME with its 8-byte length
            out += littleEndian(UInt64(writer.body.count), bytes: 8)
        }
        return out + writer.body
    }

    static func littleEndian(_ value: UInt64, bytes count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }

    private mutating func memoize() -> Int {
        let key = memoCount
        memoCount += 1
        if proto >= 4 {
            body.append(0x94)
        } else if key < 256 {
            body += [0x71, UInt8(key)]
        } else {
            body.append(0x72)
            body += Self.littleEndian(UInt64(key), bytes: 4)
        }
        return key
    }

    private mutating func get(_ key: Int) {
        if key < 256 {
            body += [0x68, UInt8(key)]
        } else {
            body.append(0x6A)
            body += Self.littleEndian(UInt64(key), bytes: 4)
        }
    }

    private mutating func writeUnicode(_ text: String) {
        let raw = Array(text.utf8)
        if proto >= 4, raw.count < 256 {
            body += [0x8C, UInt8(raw.count)]
        } else {
            body.append(0x58)
            body += Self.littleEndian(UInt64(raw.count), bytes: 4)
        }
        body += raw
        _ = memoize()
    }

    /// A module-level name: GLOBAL for protocols < 4, STACK_GLOBAL for 4 and 5.
    private mutating func writeGlobal(module: String, name: String) -> Int {
        if proto >= 4 {
            writeUnicode(module)
            writeUnicode(name)
            body.append(0x93)
        } else {
            body.append(0x63)
            body += Array("\(module)\n\(name)\n".utf8)
        }
        return memoize()
    }

    private mutating func write(_ value: Value) {
        switch value {
        case .none:
            body.append(0x4E)
        case .bool(let flag):
            body.append(flag ? 0x88 : 0x89)
        case .int(let number):
            if (0..<256).contains(number) {
                body += [0x4B, UInt8(number)]
            } else if (0..<65536).contains(number) {
                body.append(0x4D)
                body += Self.littleEndian(UInt64(number), bytes: 2)
            } else if Int64(Int32.min)...Int64(Int32.max) ~= number {
                body.append(0x4A)
                body += Self.littleEndian(UInt64(bitPattern: number), bytes: 4)
            } else {
                body += [0x8A, 8]
                body += Self.littleEndian(UInt64(bitPattern: number), bytes: 8)
            }
        case .float(let number):
            body.append(0x47)
            body += Self.littleEndian(number.bitPattern.byteSwapped, bytes: 8)
        case .str(let text):
            writeUnicode(text)
        case .py2str(let text):
            let raw = Array(text.utf8)
            if raw.count < 256 {
                body += [0x55, UInt8(raw.count)]
            } else {
                body.append(0x54)
                body += Self.littleEndian(UInt64(raw.count), bytes: 4)
            }
            body += raw
            _ = memoize()
        case .bytes(let raw):
            if raw.count < 256 {
                body += [0x43, UInt8(raw.count)]
            } else {
                body.append(0x42)
                body += Self.littleEndian(UInt64(raw.count), bytes: 4)
            }
            body += raw
            _ = memoize()
        case .list(let items):
            body.append(0x5D)
            _ = memoize()
            if items.count == 1 {
                write(items[0])
                body.append(0x61)  // APPEND
            } else if items.count > 1 {
                body.append(0x28)  // MARK
                for item in items { write(item) }
                body.append(0x65)  // APPENDS
            }
        case .tuple(let items):
            if items.isEmpty {
                body.append(0x29)
                return
            }
            if items.count <= 3 {
                for item in items { write(item) }
                body.append(0x85 + UInt8(items.count - 1))
            } else {
                body.append(0x28)
                for item in items { write(item) }
                body.append(0x74)
            }
            _ = memoize()
        case .dict(let pairs):
            body.append(0x7D)
            _ = memoize()
            if pairs.count == 1 {
                write(pairs[0].0)
                write(pairs[0].1)
                body.append(0x73)  // SETITEM
            } else if pairs.count > 1 {
                body.append(0x28)
                for (key, item) in pairs {
                    write(key)
                    write(item)
                }
                body.append(0x75)  // SETITEMS
            }
        case .numpyInt64(let number):
            writeNumpyInt64(number)
        }
    }

    /// `scalar(dtype('i8'), <8 little-endian bytes>)`, with the callable and the dtype
    /// memoized on first use and fetched with BINGET afterwards, as numpy's pickles do.
    private mutating func writeNumpyInt64(_ number: Int64) {
        if let scalarKey {
            get(scalarKey)
        } else {
            scalarKey = writeGlobal(module: proto >= 4 ? "numpy._core.multiarray" : "numpy.core.multiarray",
                                    name: "scalar")
        }
        if let dtypeKey {
            get(dtypeKey)
        } else {
            _ = writeGlobal(module: "numpy", name: "dtype")
            write(proto == 2 ? .py2str("i8") : .str("i8"))
            body += [0x89, 0x88, 0x87]  // False, True, TUPLE3
            _ = memoize()
            body.append(0x52)  // REDUCE
            dtypeKey = memoize()
            body.append(0x28)
            write(.int(3))
            write(proto == 2 ? .py2str("<") : .str("<"))
            body += [0x4E, 0x4E, 0x4E]
            write(.int(-1))
            write(.int(-1))
            write(.int(0))
            body.append(0x74)  // TUPLE
            _ = memoize()
            body.append(0x62)  // BUILD
        }
        let payload = Self.littleEndian(UInt64(bitPattern: number), bytes: 8)
        body += [proto == 2 ? 0x55 : 0x43, 8] + payload
        _ = memoize()
        body.append(0x86)  // TUPLE2
        _ = memoize()
        body.append(0x52)  // REDUCE
        _ = memoize()
    }
}

extension Array where Element == UInt8 {
    /// Bytes from a hex string such as "80027d71" (whitespace ignored); for pasted fixtures.
    init(hex: String) {
        let digits = hex.filter { !$0.isWhitespace }.map { UInt8($0.hexDigitValue ?? 0) }
        self = stride(from: 0, to: digits.count - 1, by: 2).map { digits[$0] << 4 | digits[$0 + 1] }
    }
}

/// The UTF-8 bytes of an ASCII string, for writing opcode sequences legibly.
func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }

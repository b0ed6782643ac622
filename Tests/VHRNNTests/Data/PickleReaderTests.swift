import Foundation
import Testing
@testable import VHRNN

/// `SafePickleReader`: the data opcodes of protocols 2–5, the two numpy callables, and refusal
/// of everything else with the opcode and offset named.
@Suite("Pickle reader")
struct PickleReaderTests {
    // MARK: - Fixtures written by CPython

    /// `pickle.dumps({'train': [[(60, 64), (62,)], [[]]], 'valid': [[[21, 108]]],
    /// 'test': [[(40,)]]}, protocol=p)` from CPython 3 (protocols 2 and 3 are identical here).
    static let pythonPlainInts: [Int: String] = [
        2: "80027d7100285805000000747261696e71015d7102285d7103284b3c4b408671044b3e857105655d71065d71076165580500000076616c696471085d71095d710a5d710b284b154b6c656161580400000074657374710c5d710d5d710e4b2885710f6161752e",
        3: "80037d7100285805000000747261696e71015d7102285d7103284b3c4b408671044b3e857105655d71065d71076165580500000076616c696471085d71095d710a5d710b284b154b6c656161580400000074657374710c5d710d5d710e4b2885710f6161752e",
        4: "8004954b000000000000007d94288c05747261696e945d94285d94284b3c4b4086944b3e8594655d945d9461658c0576616c6964945d945d945d94284b154b6c6561618c0474657374945d945d944b2885946161752e",
        5: "8005954b000000000000007d94288c05747261696e945d94285d94284b3c4b4086944b3e8594655d945d9461658c0576616c6964945d945d945d94284b154b6c6561618c0474657374945d945d944b2885946161752e",
    ]

    static let plainIntsExpected: PickleValue = .dict([
        PickleDictEntry(key: .string("train"), value: .list([
            .list([.tuple([.int(60), .int(64)]), .tuple([.int(62)])]),
            .list([.list([])]),
        ])),
        PickleDictEntry(key: .string("valid"), value: .list([.list([.list([.int(21), .int(108)])])])),
        PickleDictEntry(key: .string("test"), value: .list([.list([.tuple([.int(40)])])])),
    ])

    /// `pickle.dumps({'train': [[(np.int64(60), np.int64(64))]]}, protocol=p)` with numpy 2.4:
    /// STACK_GLOBAL `numpy._core.multiarray scalar` (4, 5) or GLOBAL (3), SHORT_BINBYTES payloads.
    static let pythonNumpy: [Int: String] = [
        3: "80037d71005805000000747261696e71015d71025d7103636e756d70792e5f636f72652e6d756c746961727261790a7363616c61720a7104636e756d70790a64747970650a71055802000000693871068988877107527108284b0358010000003c71094e4e4e4affffffff4affffffff4b0074710a6243083c00000000000000710b86710c52710d6804680843084000000000000000710e86710f5271108671116161732e",
        4: "80049590000000000000007d948c05747261696e945d945d948c166e756d70792e5f636f72652e6d756c74696172726179948c067363616c61729493948c056e756d7079948c0564747970659493948c02693894898887945294284b038c013c944e4e4e4affffffff4affffffff4b0074946243083c0000000000000094869452946806680c43084000000000000000948694529486946161732e",
        5: "80059590000000000000007d948c05747261696e945d945d948c166e756d70792e5f636f72652e6d756c74696172726179948c067363616c61729493948c056e756d7079948c0564747970659493948c02693894898887945294284b038c013c944e4e4e4affffffff4affffffff4b0074946243083c0000000000000094869452946806680c43084000000000000000948694529486946161732e",
    ]

    @Test("CPython plain-int pickles, protocols 2–5", arguments: [2, 3, 4, 5])
    func pythonPlainIntFixture(proto: Int) throws {
        let bytes = [UInt8](hex: try #require(Self.pythonPlainInts[proto]))
        #expect(bytes[1] == UInt8(proto))
        #expect(try SafePickleReader.parse(bytes) == Self.plainIntsExpected)
    }

    @Test("CPython numpy-scalar pickles, protocols 3–5", arguments: [3, 4, 5])
    func pythonNumpyFixture(proto: Int) throws {
        let bytes = [UInt8](hex: try #require(Self.pythonNumpy[proto]))
        let expected: PickleValue = .dict([PickleDictEntry(key: .string("train"), value: .list([
            .list([.tuple([.int(60), .int(64)])]),
        ]))])
        #expect(try SafePickleReader.parse(bytes) == expected)
    }

    // MARK: - Fixtures written in Swift

    /// Every value kind, numpy scalars (first defined, then fetched from the memo), more than
    /// 256 memo entries (LONG_BINPUT / LONG_BINGET in protocols 2–3), long strings.
    static let richValue: PickleFixtureWriter.Value = .dict([
        (.py2str("train"), .list([
            .list([.tuple([.numpyInt64(60), .numpyInt64(64), .numpyInt64(67)]), .tuple([]),
                   .tuple([.numpyInt64(-5), .numpyInt64(Int64.max), .numpyInt64(Int64.min), .numpyInt64(0)])]),
        ])),
        (.str("ints"), .list([.int(0), .int(255), .int(256), .int(65535), .int(65536), .int(-1),
                              .int(Int64(Int32.min)), .int(Int64(Int32.max) + 1), .int(Int64.min), .int(Int64.max)])),
        (.str("misc"), .tuple([.none, .bool(true), .bool(false), .float(-2.5), .bytes([0, 1, 255]),
                              .str("ünïcødé ♪"), .str(String(repeating: "x", count: 300))])),
        (.str("many"), .list((0..<300).map { .tuple([.numpyInt64(Int64($0)), .str("k\($0)")]) })),
    ])

    /// Every opcode kind of `richValue` in a few hundred bytes, for tests that parse many variants.
    static let smallValue: PickleFixtureWriter.Value = .dict([
        (.py2str("train"), .list([.list([.tuple([.numpyInt64(60), .numpyInt64(-64)]), .tuple([]),
                                         .tuple([.numpyInt64(1), .numpyInt64(2), .numpyInt64(3), .numpyInt64(4)])])])),
        (.str("ints"), .list([.int(255), .int(65535), .int(-1), .int(Int64.max)])),
        (.str("misc"), .tuple([.none, .bool(true), .float(-2.5), .bytes([0, 1, 255]), .str("ünï ♪")])),
    ])

    @Test("Swift-written fixtures round-trip, protocols 2–5", arguments: [2, 3, 4, 5])
    func writerFixture(proto: Int) throws {
        let bytes = PickleFixtureWriter.pickle(Self.richValue, protocol: proto)
        #expect(try SafePickleReader.parse(bytes) == Self.richValue.expected)
    }

    @Test("the Swift writer reproduces CPython's layout for plain ints, protocols 2–5", arguments: [2, 3, 4, 5])
    func writerMatchesPython(proto: Int) throws {
        let value: PickleFixtureWriter.Value = .dict([
            (.str("train"), .list([.list([.tuple([.int(60), .int(64)]), .tuple([.int(62)])]), .list([.list([])])])),
            (.str("valid"), .list([.list([.list([.int(21), .int(108)])])])),
            (.str("test"), .list([.list([.tuple([.int(40)])])])),
        ])
        let python = [UInt8](hex: try #require(Self.pythonPlainInts[proto]))
        #expect(PickleFixtureWriter.pickle(value, protocol: proto) == python)
    }

    @Test("memo references share the filled object, as in Python")
    func memoSharing() throws {
        // EMPTY_LIST BINPUT 0, MARK, EMPTY_LIST BINPUT 1, 1, APPEND, BINGET 1, APPENDS, STOP:
        // the inner list is filled after being memoized and then referenced twice.
        let bytes: [UInt8] = [0x80, 2, 0x5D, 0x71, 0, 0x28, 0x5D, 0x71, 1, 0x4B, 1, 0x61, 0x68, 1, 0x65, 0x2E]
        #expect(try SafePickleReader.parse(bytes) == .list([.list([.int(1)]), .list([.int(1)])]))
    }

    @Test("memo keys far apart, and MEMOIZE numbering after them, follow Python")
    func sparseMemo() throws {
        // 7 MEMOIZE(0), LONG_BINPUT 1000000, POP, 8 MEMOIZE(→ len(memo) = 2), POP,
        // MARK, BINGET 0, LONG_BINGET 1000000, BINGET 2, TUPLE, STOP.
        let bytes: [UInt8] = [0x80, 4, 0x4B, 7, 0x94, 0x72, 0x40, 0x42, 0x0F, 0x00, 0x30,
                              0x4B, 8, 0x94, 0x30,
                              0x28, 0x68, 0, 0x6A, 0x40, 0x42, 0x0F, 0x00, 0x68, 2, 0x74, 0x2E]
        #expect(try SafePickleReader.parse(bytes) == .tuple([.int(7), .int(7), .int(8)]))
    }

    @Test("a repeated dict key keeps its first position and takes the last value")
    func duplicateKeys() throws {
        let bytes: [UInt8] = [0x80, 2, 0x7D, 0x28] + ascii("U\u{1}aK\u{1}U\u{1}bK\u{2}U\u{1}aK\u{3}u.")
        #expect(try SafePickleReader.parse(bytes) == .dict([
            PickleDictEntry(key: .bytes([0x61]), value: .int(3)),
            PickleDictEntry(key: .bytes([0x62]), value: .int(2)),
        ]))
        #expect(try SafePickleReader.parse(bytes)["a"] == .int(3))
    }

    @Test("protocol-0 text opcodes INT, GET, PUT and python-2 bools")
    func textOpcodes() throws {
        let bytes = ascii("(I42\np0\nI-7\nI01\nI00\ng0\nt.")
        #expect(try SafePickleReader.parse(bytes) == .tuple([.int(42), .int(-7), .bool(true), .bool(false), .int(42)]))
    }

    struct DTypeCase: Sendable, CustomTestStringConvertible {
        var descriptor: String
        var order: String
        var payload: [UInt8]
        var expected: PickleValue?
        var testDescription: String { "\(descriptor) \(order) \(payload)" }
    }

    @Test("numpy scalar dtypes and byte orders", arguments: [
        DTypeCase(descriptor: "i8", order: "<", payload: [0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], expected: .int(-2)),
        DTypeCase(descriptor: "i8", order: ">", payload: [0, 0, 0, 0, 0, 0, 0x01, 0x02], expected: .int(258)),
        DTypeCase(descriptor: "<i4", order: "<", payload: [0x2A, 0, 0, 0], expected: .int(42)),
        DTypeCase(descriptor: ">i2", order: ">", payload: [0xFF, 0xFE], expected: .int(-2)),
        DTypeCase(descriptor: "i1", order: "|", payload: [0x80], expected: .int(-128)),
        DTypeCase(descriptor: "u1", order: "|", payload: [0xFF], expected: .int(255)),
        DTypeCase(descriptor: "u2", order: "<", payload: [0x34, 0x12], expected: .int(0x1234)),
        DTypeCase(descriptor: "u8", order: "<", payload: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F], expected: .int(Int64.max)),
        DTypeCase(descriptor: "u8", order: "<", payload: [0, 0, 0, 0, 0, 0, 0, 0x80], expected: nil),
        DTypeCase(descriptor: "f8", order: "<", payload: FixtureBytes.le(1.5.bitPattern, 8), expected: .float(1.5)),
        DTypeCase(descriptor: "f4", order: "<", payload: FixtureBytes.le(UInt64(Float(-0.25).bitPattern), 4), expected: .float(-0.25)),
        DTypeCase(descriptor: "i8", order: "<", payload: [1, 2, 3, 4], expected: nil),
        DTypeCase(descriptor: "O8", order: "|", payload: [0, 0, 0, 0, 0, 0, 0, 0], expected: nil),
        DTypeCase(descriptor: "c16", order: "<", payload: [0, 0, 0, 0, 0, 0, 0, 0], expected: nil),
    ])
    func numpyScalar(_ item: DTypeCase) throws {
        var bytes: [UInt8] = [0x80, 2] + ascii("cnumpy.core.multiarray\nscalar\ncnumpy\ndtype\n")
        bytes += [0x55, UInt8(item.descriptor.utf8.count)] + ascii(item.descriptor)
        bytes += [0x89, 0x88, 0x87, 0x52]  // False, True, TUPLE3, REDUCE
        bytes += [0x28, 0x4B, 3, 0x55, 1] + ascii(item.order) + [0x4E, 0x4E, 0x4E, 0x4B, 0, 0x4B, 0, 0x4B, 0, 0x74, 0x62]
        bytes += [0x55, UInt8(item.payload.count)] + item.payload + [0x86, 0x52, 0x2E]
        if let expected = item.expected {
            #expect(try SafePickleReader.parse(bytes) == expected)
        } else {
            let error = try #require(throws: PickleError.self) { try SafePickleReader.parse(bytes) }
            #expect(error.opcode == "REDUCE")
        }
    }

    @Test("a dtype left in the data comes out as a value")
    func dtypeAsData() throws {
        let bytes: [UInt8] = [0x80, 2] + ascii("cnumpy\ndtype\nU\u{3}<u2") + [0x85, 0x52, 0x2E]
        #expect(try SafePickleReader.parse(bytes) == .numpyDType(NumpyDType(kind: .unsignedInteger, itemSize: 2, byteOrder: .little)))
    }

    // MARK: - Hostile and corrupt input

    struct Refusal: Sendable, CustomTestStringConvertible {
        var name: String
        var bytes: [UInt8]
        var opcode: String
        /// Exact offset, where the test pins it.
        var offset: Int?
        /// A fragment the message must contain (case-insensitive).
        var fragment: String
        var testDescription: String { name }
    }

    /// A protocol-2 scalar REDUCE whose payload is 4 bytes for an 8-byte dtype.
    static let shortScalar: [UInt8] = [0x80, 2] + ascii("cnumpy.core.multiarray\nscalar\ncnumpy\ndtype\nU\u{2}i8")
        + [0x89, 0x88, 0x87, 0x52, 0x55, 4, 1, 2, 3, 4, 0x86, 0x52, 0x2E]

    static let refusals: [Refusal] = [
        Refusal(name: "GLOBAL os.system, protocol 0", bytes: ascii("cos\nsystem\n(S'echo hi'\ntR."),
                opcode: "GLOBAL", offset: 0, fragment: "'os.system' is refused"),
        Refusal(name: "GLOBAL __builtin__.getattr", bytes: [0x80, 2] + ascii("c__builtin__\ngetattr\n."),
                opcode: "GLOBAL", offset: 2, fragment: "__builtin__.getattr"),
        Refusal(name: "STACK_GLOBAL builtins.eval",
                bytes: [0x80, 4, 0x8C, 8] + ascii("builtins") + [0x8C, 4] + ascii("eval") + [0x93, 0x4E, 0x85, 0x52, 0x2E],
                opcode: "STACK_GLOBAL", offset: 18, fragment: "builtins.eval"),
        Refusal(name: "STACK_GLOBAL numpy.load", bytes: [0x80, 4, 0x8C, 5] + ascii("numpy") + [0x8C, 4] + ascii("load") + [0x93, 0x2E],
                opcode: "STACK_GLOBAL", offset: 15, fragment: "numpy.load"),
        Refusal(name: "STACK_GLOBAL on ints", bytes: [0x80, 4, 0x4B, 1, 0x4B, 2, 0x93, 0x2E],
                opcode: "STACK_GLOBAL", offset: 6, fragment: "two strings"),
        Refusal(name: "REDUCE on a list", bytes: [0x80, 2, 0x5D, 0x29, 0x52, 0x2E],
                opcode: "REDUCE", offset: 4, fragment: "not a list"),
        Refusal(name: "REDUCE with non-tuple arguments", bytes: [0x80, 2] + ascii("cnumpy\ndtype\n]R."),
                opcode: "REDUCE", offset: 16, fragment: "must be a tuple"),
        Refusal(name: "REDUCE numpy scalar with a short payload", bytes: shortScalar,
                opcode: "REDUCE", offset: 60, fragment: "needs 8 bytes, got 4"),
        Refusal(name: "BUILD on a list", bytes: [0x80, 2, 0x5D, 0x29, 0x62, 0x2E],
                opcode: "BUILD", offset: 4, fragment: "only accepted on a numpy.dtype"),
        Refusal(name: "callable stored as data", bytes: [0x80, 2, 0x5D] + ascii("cnumpy\ndtype\na."),
                opcode: "APPEND", offset: 16, fragment: "REDUCE"),
        Refusal(name: "INST", bytes: ascii("(ios\nsystem\n(S'x'\nt."), opcode: "INST", offset: 1, fragment: "object construction"),
        Refusal(name: "OBJ", bytes: [0x80, 2, 0x28, 0x6F, 0x2E], opcode: "OBJ", offset: 3, fragment: "object construction"),
        Refusal(name: "NEWOBJ", bytes: [0x80, 2, 0x5D, 0x29, 0x81, 0x2E], opcode: "NEWOBJ", offset: 4, fragment: "object construction"),
        Refusal(name: "NEWOBJ_EX", bytes: [0x80, 4, 0x92, 0x2E], opcode: "NEWOBJ_EX", offset: 2, fragment: "object construction"),
        Refusal(name: "PERSID", bytes: ascii("Pfoo\n."), opcode: "PERSID", offset: 0, fragment: "persistent"),
        Refusal(name: "BINPERSID", bytes: [0x80, 2, 0x4E, 0x51, 0x2E], opcode: "BINPERSID", offset: 3, fragment: "persistent"),
        Refusal(name: "EXT1", bytes: [0x80, 2, 0x82, 1, 0x2E], opcode: "EXT1", offset: 2, fragment: "extension"),
        Refusal(name: "EMPTY_SET", bytes: [0x80, 4, 0x8F, 0x2E], opcode: "EMPTY_SET", offset: 2, fragment: "not supported"),
        Refusal(name: "unknown opcode 0xFF", bytes: [0x80, 2, 0xFF, 0x2E], opcode: "unknown", offset: 2, fragment: "unknown opcode"),
        Refusal(name: "protocol 6", bytes: [0x80, 6, 0x4E, 0x2E], opcode: "PROTO", offset: 0, fragment: "protocol 6"),
        Refusal(name: "BINUNICODE length 0xFFFFFFF0",
                bytes: [0x80, 2, 0x58, 0xF0, 0xFF, 0xFF, 0xFF] + ascii("abc."),
                opcode: "BINUNICODE", offset: 2, fragment: "oversized string length 4294967280"),
        Refusal(name: "BINUNICODE8 length 2^64-1", bytes: [0x80, 4, 0x8D] + [UInt8](repeating: 0xFF, count: 8) + [0x2E],
                opcode: "BINUNICODE8", offset: 2, fragment: "oversized"),
        Refusal(name: "BINBYTES longer than the input", bytes: [0x80, 3, 0x42, 100, 0, 0, 0, 1, 2, 3, 0x2E],
                opcode: "BINBYTES", offset: 2, fragment: "truncated: bytes length 100 but only 4 bytes remain"),
        Refusal(name: "FRAME longer than the input", bytes: [0x80, 4, 0x95, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0x4E, 0x2E],
                opcode: "FRAME", offset: 2, fragment: "truncated"),
        Refusal(name: "BINSTRING negative length", bytes: [0x80, 2, 0x54, 0xFF, 0xFF, 0xFF, 0xFF, 0x2E],
                opcode: "BINSTRING", offset: 2, fragment: "negative"),
        Refusal(name: "LONG1 of 9 bytes", bytes: [0x80, 2, 0x8A, 9] + [UInt8](repeating: 1, count: 9) + [0x2E],
                opcode: "LONG1", offset: 2, fragment: "wider than 64 bits"),
        Refusal(name: "LONG4 negative count", bytes: [0x80, 2, 0x8B, 0xFF, 0xFF, 0xFF, 0xFF, 0x2E],
                opcode: "LONG4", offset: 2, fragment: "negative"),
        Refusal(name: "invalid UTF-8", bytes: [0x80, 4, 0x8C, 2, 0xC3, 0x28, 0x2E],
                opcode: "SHORT_BINUNICODE", offset: 2, fragment: "UTF-8"),
        Refusal(name: "INT out of range", bytes: ascii("I99999999999999999999\n."), opcode: "INT", offset: 0, fragment: "out-of-range"),
        Refusal(name: "BINGET of an undefined key", bytes: [0x80, 2, 0x68, 5, 0x2E],
                opcode: "BINGET", offset: 2, fragment: "memo key 5 is not defined"),
        Refusal(name: "LONG_BINGET of an undefined key", bytes: [0x80, 2, 0x6A, 0xFF, 0xFF, 0xFF, 0xFF, 0x2E],
                opcode: "LONG_BINGET", offset: 2, fragment: "memo key 4294967295"),
        Refusal(name: "GET of a negative key", bytes: ascii("N g-1\n.").filter { $0 != 0x20 },
                opcode: "GET", offset: 1, fragment: "negative memo key"),
        Refusal(name: "BINPUT on an empty stack", bytes: [0x80, 2, 0x71, 0, 0x2E],
                opcode: "BINPUT", offset: 2, fragment: "underflow"),
        Refusal(name: "APPEND on an empty stack", bytes: [0x80, 2, 0x61, 0x2E],
                opcode: "APPEND", offset: 2, fragment: "underflow"),
        Refusal(name: "APPEND to a tuple", bytes: [0x80, 2, 0x29, 0x4E, 0x61, 0x2E],
                opcode: "APPEND", offset: 4, fragment: "expected a list"),
        Refusal(name: "TUPLE2 with one item", bytes: [0x80, 2, 0x4E, 0x86, 0x2E],
                opcode: "TUPLE2", offset: 3, fragment: "underflow"),
        Refusal(name: "TUPLE without MARK", bytes: [0x80, 2, 0x4E, 0x74, 0x2E],
                opcode: "TUPLE", offset: 3, fragment: "no MARK"),
        Refusal(name: "APPENDS with nothing below the MARK", bytes: [0x80, 2, 0x28, 0x4E, 0x65, 0x2E],
                opcode: "APPENDS", offset: 4, fragment: "underflow"),
        Refusal(name: "item hidden by a MARK", bytes: [0x80, 2, 0x5D, 0x28, 0x61, 0x2E],
                opcode: "APPEND", offset: 4, fragment: "above the last MARK"),
        Refusal(name: "SETITEMS with an odd count", bytes: [0x80, 2, 0x7D, 0x28, 0x4E, 0x75, 0x2E],
                opcode: "SETITEMS", offset: 5, fragment: "odd number"),
        Refusal(name: "unhashable dict key", bytes: [0x80, 2, 0x7D, 0x5D, 0x4E, 0x73, 0x2E],
                opcode: "SETITEM", offset: 5, fragment: "unhashable"),
        Refusal(name: "list appended to itself", bytes: [0x80, 2, 0x5D, 0x32, 0x61, 0x2E],
                opcode: "APPEND", offset: 4, fragment: "recursive"),
        Refusal(name: "list modified after nesting",
                bytes: [0x80, 2, 0x5D, 0x71, 0, 0x5D, 0x68, 0, 0x61, 0x68, 0, 0x4E, 0x61, 0x2E],
                opcode: "APPEND", offset: 12, fragment: "after being placed"),
        Refusal(name: "STOP with an open MARK", bytes: [0x80, 2, 0x28, 0x4E, 0x2E],
                opcode: "STOP", offset: 4, fragment: "MARK"),
        Refusal(name: "STOP with two objects", bytes: [0x80, 2, 0x4E, 0x4E, 0x2E],
                opcode: "STOP", offset: 4, fragment: "2 objects"),
        Refusal(name: "STOP on an empty stack", bytes: [0x80, 2, 0x2E], opcode: "STOP", offset: 2, fragment: "underflow"),
        Refusal(name: "missing STOP", bytes: [0x80, 2, 0x4E], opcode: "STOP", offset: 3, fragment: "truncated"),
        Refusal(name: "empty input", bytes: [], opcode: "STOP", offset: 0, fragment: "truncated"),
        Refusal(name: "trailing bytes after STOP", bytes: [0x80, 2, 0x4E, 0x2E, 0x4E, 0x2E],
                opcode: "STOP", offset: 4, fragment: "2 bytes of trailing data"),
        Refusal(name: "GLOBAL line cut off", bytes: ascii("cnumpy"), opcode: "GLOBAL", offset: 0, fragment: "truncated"),
        Refusal(name: "tuples nested 200 deep", bytes: [0x80, 2, 0x4E] + [UInt8](repeating: 0x85, count: 200) + [0x2E],
                opcode: "TUPLE1", offset: 103, fragment: "nested deeper than 100"),
        Refusal(name: "lists nested 150 deep",
                bytes: [0x80, 2] + [UInt8](repeating: 0x5D, count: 150) + [UInt8](repeating: 0x61, count: 149) + [0x2E],
                opcode: "APPEND", offset: 251, fragment: "nested deeper than 100"),
        Refusal(name: "MARKs nested 200 deep", bytes: [0x80, 2] + [UInt8](repeating: 0x28, count: 200),
                opcode: "MARK", offset: 102, fragment: "nested deeper"),
    ]

    @Test("hostile and corrupt streams are refused with opcode and offset", arguments: refusals)
    func refusal(_ item: Refusal) throws {
        let error = try #require(throws: PickleError.self) { try SafePickleReader.parse(item.bytes) }
        #expect(error.opcode == item.opcode, "\(error)")
        if let offset = item.offset { #expect(error.offset == offset, "\(error)") }
        #expect(error.message.lowercased().contains(item.fragment.lowercased()), "\(error)")
        #expect(error.description.contains(error.opcode))
    }

    @Test("the error description names opcode, hex byte and offset")
    func errorDescription() throws {
        let error = try #require(throws: PickleError.self) {
            try SafePickleReader.parse(ascii("cos\nsystem\n(S'echo hi'\ntR."))
        }
        #expect(error.opcodeByte == 0x63)
        #expect(error.description.hasPrefix("pickle byte 0: GLOBAL (0x63): global 'os.system' is refused"))
    }

    @Test("every proper prefix of a fixture is reported as truncated", arguments: [2, 3, 4, 5])
    func truncatedPrefixes(proto: Int) throws {
        let bytes = PickleFixtureWriter.pickle(Self.smallValue, protocol: proto)
        for cut in 0..<bytes.count {
            let error = try #require(throws: PickleError.self) { try SafePickleReader.parse(Array(bytes[..<cut])) }
            // Protocol 4+ frames declare their length, so a cut is caught at the FRAME itself.
            #expect(error.message.contains("truncated"), "cut at \(cut): \(error)")
            #expect(error.offset <= cut, "cut at \(cut): \(error)")
        }
    }

    @Test("the first 1000 bytes of the JSB pickle are reported as truncated")
    func truncatedJSB() throws {
        let data = try Data(contentsOf: SharedData.url("JSB_Chorales.pickle"))
        for cut in [1000, 117, 118, 500, 999] {
            let error = try #require(throws: PickleError.self) { try SafePickleReader.parse([UInt8](data.prefix(cut))) }
            #expect(error.message.contains("truncated"), "cut at \(cut): \(error)")
            #expect(error.offset <= cut)
        }
    }

    @Test("memo sharing cannot expand a small stream into a huge tree")
    func expansionBomb() throws {
        // L0 = []; L(i) = [L(i-1), L(i-1)] for 60 levels: 2^60 values from ~600 bytes.
        // Each level: EMPTY_LIST, MARK, BINGET, BINGET, APPENDS, BINPUT, POP (only the memo keeps it).
        var bytes: [UInt8] = [0x80, 2, 0x5D, 0x71, 0, 0x30]
        for level in 1...60 {
            let previous = UInt8(level - 1)
            bytes += [0x5D, 0x28, 0x68, previous, 0x68, previous, 0x65, 0x71, UInt8(level), 0x30]
        }
        bytes += [0x68, 60, 0x2E]
        let error = try #require(throws: PickleError.self) { try SafePickleReader.parse(bytes) }
        #expect(error.opcode == "STOP")
        #expect(error.message.contains("too many values"))
    }

    @Test("random single-byte corruption of a fixture never crashes the reader")
    func randomCorruption() throws {
        let bytes = PickleFixtureWriter.pickle(Self.smallValue, protocol: 2)
        var rng = SplitMix64(seed: 12345)
        var refused = 0
        for _ in 0..<2000 {
            var mutated = bytes
            let index = Int(rng.next() % UInt64(mutated.count))
            mutated[index] = UInt8(truncatingIfNeeded: rng.next())
            do {
                _ = try SafePickleReader.parse(mutated)
            } catch is PickleError {
                refused += 1
            }
        }
        // Many single-byte changes (inside payloads) still parse; the point is no crash.
        #expect(refused > 0)
    }
}

/// Little-endian byte helpers for table literals.
enum FixtureBytes {
    static func le(_ value: UInt64, _ count: Int) -> [UInt8] {
        PickleFixtureWriter.littleEndian(value, bytes: count)
    }
}

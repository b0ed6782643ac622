/// Reads Python pickles as data, never as programs.
///
/// A pickle is a little stack-machine program that can import and call anything; loading one
/// with a general unpickler runs whatever it says. This reader interprets only the opcodes that
/// build data (protocols 2–5: ints, floats, strings, bytes, lists, tuples, dicts, the memo)
/// plus exactly two callables, interpreted here rather than called: `numpy.dtype` and numpy's
/// scalar constructor (`numpy.core.multiarray.scalar`, or `numpy._core.multiarray.scalar` in
/// numpy 2), which is how the published polyphonic-music pickles store their note numbers.
/// Everything else — any other global, object construction (INST, OBJ, NEWOBJ, NEWOBJ_EX),
/// persistent ids, extension codes, sets, out-of-band buffers — is refused with a
/// `PickleError` naming the opcode and its byte offset.
///
/// Every read is bounds-checked, lengths are checked against the remaining input before any
/// allocation, and the nesting depth and the size of the resulting tree are capped, so no
/// input can crash the process or make it allocate far more than the input's size.
public enum SafePickleReader {
    /// Resource caps. The defaults are far above what real data sets need.
    public struct Limits: Sendable {
        /// Deepest allowed container nesting (and MARK nesting). At most 1000: the tree is
        /// converted and released recursively, so the cap is what keeps the call stack bounded.
        public var maxNestingDepth: Int
        /// Largest string, bytes or frame length accepted, in bytes.
        public var maxLength: Int
        /// The finished tree may hold at most this many values per input byte (plus 65,536).
        /// Memo references can repeat a sub-object any number of times; without a cap a few
        /// hundred bytes could describe an exponentially large tree.
        public var maxValuesPerInputByte: Int

        /// Limits with the given caps; `maxNestingDepth` is clamped to 1...1000, the others to
        /// non-negative and positive values.
        public init(maxNestingDepth: Int = 100, maxLength: Int = Int(Int32.max),
                    maxValuesPerInputByte: Int = 16) {
            self.maxNestingDepth = min(max(maxNestingDepth, 1), 1000)
            self.maxLength = max(maxLength, 0)
            self.maxValuesPerInputByte = max(maxValuesPerInputByte, 1)
        }

        /// The defaults: nesting depth 100, lengths up to 2^31 − 1 bytes, 16 values per input byte.
        public static let standard = Limits()
    }

    /// Parses a complete pickle (one object, ending with STOP and nothing after it).
    ///
    /// - Parameters:
    ///   - bytes: the whole pickle stream.
    ///   - limits: resource caps (the defaults suit any real dataset).
    /// - Returns: the value tree the stream describes.
    /// - Throws: ``PickleError`` for anything that is not plain data or is malformed, naming the
    ///   opcode and its byte offset.
    /// - Complexity: time linear in the input and the resulting tree, which holds at most
    ///   `maxValuesPerInputByte · bytes.count + 65,536` values.
    public static func parse(_ bytes: [UInt8], limits: Limits = .standard) throws -> PickleValue {
        var machine = PickleMachine(bytes: bytes, limits: limits)
        return try machine.run()
    }
}

/// The interpreter state: input cursor, stack, MARK positions and memo.
struct PickleMachine {
    let bytes: [UInt8]
    let limits: SafePickleReader.Limits
    var pos = 0
    /// Offset and byte of the opcode being executed, for error messages.
    var opStart = 0
    var opByte: UInt8 = 0
    var stack: [PickleStackItem] = []
    /// Stack heights at each open MARK (Python keeps a "metastack"; heights are enough).
    var marks: [Int] = []
    /// Memo keys are almost always 0, 1, 2, ... (Python 2's pickler starts at 1), so they live
    /// in an array. A key may extend the array only while it stays at most about twice as long
    /// as the number of entries stored, so an untrusted key can never make it preallocate much;
    /// keys beyond that go to `sparseMemo`.
    var memo: [PickleStackItem?] = []
    var memoEntries = 0
    var sparseMemo: [Int: PickleStackItem] = [:]
    /// Values the final tree may still contain; see `Limits.maxValuesPerInputByte`.
    var valueBudget: Int

    /// Longest text line (GLOBAL, INT, GET, PUT) accepted.
    static let maxLineLength = 1024

    init(bytes: [UInt8], limits: SafePickleReader.Limits) {
        self.bytes = bytes
        self.limits = limits
        let (scaled, overflow) = bytes.count.multipliedReportingOverflow(by: limits.maxValuesPerInputByte)
        self.valueBudget = overflow || scaled > Int.max - 65_536 ? Int.max : scaled + 65_536
    }

    // MARK: - Main loop

    mutating func run() throws -> PickleValue {
        while pos < bytes.count {
            opStart = pos
            opByte = bytes[pos]
            pos += 1
            guard let op = PickleOpcode(rawValue: opByte) else {
                throw fail("unknown opcode; this is not a pickle or it is corrupt")
            }
            switch op {
            case .stop:
                return try finish()
            case .proto:
                let version = try readByte()
                guard version <= 5 else { throw fail("unsupported pickle protocol \(version)") }
            case .frame:
                // Frames only group bytes for buffered reading; check the declared size so a
                // cut-off file is reported here, then keep reading opcodes normally.
                let frameLength = try readLittleEndian(8)
                _ = try checkedLength(frameLength, what: "frame")
            case .mark:
                guard marks.count < limits.maxNestingDepth else {
                    throw fail("MARKs nested deeper than \(limits.maxNestingDepth)")
                }
                marks.append(stack.count)
            case .pop:
                if stack.count > frameFloor {
                    stack.removeLast()
                } else if !marks.isEmpty {
                    marks.removeLast()  // As in Python: POP on an empty frame discards the MARK.
                } else {
                    throw fail("stack underflow: nothing to pop")
                }
            case .popMark:
                _ = try popMark()
            case .dup:
                stack.append(try peek())
            case .none:
                stack.append(.value(.none))
            case .newTrue:
                stack.append(.value(.bool(true)))
            case .newFalse:
                stack.append(.value(.bool(false)))
            case .int:
                stack.append(.value(try readTextInt()))
            case .binInt:
                let raw = try readLittleEndian(4)
                stack.append(.value(.int(Int64(Int32(bitPattern: UInt32(truncatingIfNeeded: raw))))))
            case .binInt1:
                stack.append(.value(.int(Int64(try readByte()))))
            case .binInt2:
                stack.append(.value(.int(Int64(try readLittleEndian(2)))))
            case .long1:
                stack.append(.value(.int(try readLong(byteCount: Int(try readByte())))))
            case .long4:
                let count = Int32(bitPattern: UInt32(truncatingIfNeeded: try readLittleEndian(4)))
                guard count >= 0 else { throw fail("negative byte count \(count)") }
                stack.append(.value(.int(try readLong(byteCount: Int(count)))))
            case .binFloat:
                // The only big-endian field in the format.
                let bits = try readLittleEndian(8).byteSwapped
                stack.append(.value(.float(Double(bitPattern: bits))))
            case .shortBinString:
                let count = Int(try readByte())
                stack.append(.value(.bytes(try readBytes(count))))
            case .binString:
                let count = Int32(bitPattern: UInt32(truncatingIfNeeded: try readLittleEndian(4)))
                guard count >= 0 else { throw fail("negative string length \(count)") }
                let length = try checkedLength(UInt64(count), what: "string")
                stack.append(.value(.bytes(try readBytes(length))))
            case .shortBinBytes:
                let count = Int(try readByte())
                stack.append(.value(.bytes(try readBytes(count))))
            case .binBytes:
                let field = try readLittleEndian(4)
                let count = try checkedLength(field, what: "bytes")
                stack.append(.value(.bytes(try readBytes(count))))
            case .binBytes8:
                let field = try readLittleEndian(8)
                let count = try checkedLength(field, what: "bytes")
                stack.append(.value(.bytes(try readBytes(count))))
            case .shortBinUnicode:
                let count = Int(try readByte())
                stack.append(.value(.string(try readUTF8(count))))
            case .binUnicode:
                let field = try readLittleEndian(4)
                let count = try checkedLength(field, what: "string")
                stack.append(.value(.string(try readUTF8(count))))
            case .binUnicode8:
                let field = try readLittleEndian(8)
                let count = try checkedLength(field, what: "string")
                stack.append(.value(.string(try readUTF8(count))))
            case .emptyList:
                stack.append(.list(PickleListBox()))
            case .list:
                let items = try popMark()
                let box = PickleListBox()
                try append(items, to: box)
                stack.append(.list(box))
            case .append:
                let item = try pop()
                try append([item], to: try topList())
            case .appends:
                let items = try popMark()
                try append(items, to: try topList())
            case .emptyTuple:
                stack.append(.tuple([], depth: 1))
            case .tuple:
                stack.append(try makeTuple(try popMark()))
            case .tuple1, .tuple2, .tuple3:
                let count = Int(op.rawValue - PickleOpcode.tuple1.rawValue) + 1
                guard stack.count - frameFloor >= count else {
                    throw fail("stack underflow: needs \(count) items, has \(stack.count - frameFloor)")
                }
                let items = Array(stack[(stack.count - count)...])
                stack.removeLast(count)
                stack.append(try makeTuple(items))
            case .emptyDict:
                stack.append(.dict(PickleDictBox()))
            case .dict:
                let items = try popMark()
                let box = PickleDictBox()
                try setItems(items, in: box)
                stack.append(.dict(box))
            case .setItem:
                let value = try pop()
                let key = try pop()
                try setItems([key, value], in: try topDict())
            case .setItems:
                let items = try popMark()
                try setItems(items, in: try topDict())
            case .put:
                try memoPut(try readTextMemoKey())
            case .binPut:
                try memoPut(Int(try readByte()))
            case .longBinPut:
                try memoPut(Int(try readLittleEndian(4)))
            case .memoize:
                // Python uses len(memo): the number of keys stored (dense and sparse never overlap).
                try memoPut(memoEntries + sparseMemo.count)
            case .get:
                stack.append(try memoGet(try readTextMemoKey()))
            case .binGet:
                stack.append(try memoGet(Int(try readByte())))
            case .longBinGet:
                stack.append(try memoGet(Int(try readLittleEndian(4))))
            case .global:
                let module = try readLine()
                let name = try readLine()
                stack.append(.global(try resolveGlobal(module: module, name: name)))
            case .stackGlobal:
                let name = try pop()
                let module = try pop()
                guard case .value(.string(let nameText)) = name,
                      case .value(.string(let moduleText)) = module else {
                    throw fail("STACK_GLOBAL needs two strings, found \(module.typeName) and \(name.typeName)")
                }
                stack.append(.global(try resolveGlobal(module: Array(moduleText.utf8), name: Array(nameText.utf8))))
            case .reduce:
                try reduce()
            case .build:
                try build()
            case .inst, .obj, .newObj, .newObjEx:
                throw fail("object construction is refused: this reader only accepts plain data")
            case .persID, .binPersID:
                throw fail("persistent ids are refused: this reader only accepts plain data")
            case .ext1, .ext2, .ext4:
                throw fail("extension-registry globals are refused: this reader only accepts plain data")
            case .float, .long, .string, .unicode, .emptySet, .addItems, .frozenSet,
                 .byteArray8, .nextBuffer, .readonlyBuffer:
                throw fail("opcode not supported by this data-only reader")
            }
        }
        throw PickleError(opcode: PickleOpcode.stop.name, opcodeByte: PickleOpcode.stop.rawValue,
                          offset: bytes.count,
                          message: "truncated: the stream ends at byte \(bytes.count) without a STOP opcode")
    }

    /// STOP: exactly one finished object must be on the stack, and nothing may follow.
    mutating func finish() throws -> PickleValue {
        guard marks.isEmpty else { throw fail("STOP with \(marks.count) unclosed MARK(s)") }
        guard stack.count == 1 else {
            throw fail(stack.isEmpty ? "stack underflow: STOP on an empty stack"
                                     : "STOP with \(stack.count) objects on the stack; expected one")
        }
        guard pos == bytes.count else {
            throw PickleError(opcode: PickleOpcode.stop.name, opcodeByte: opByte, offset: pos,
                              message: "\(bytes.count - pos) bytes of trailing data after STOP at byte \(opStart)")
        }
        return try materialize(stack[0])
    }

    // MARK: - Errors

    /// An error about the opcode being executed.
    func fail(_ message: String) -> PickleError {
        PickleError(opcode: PickleOpcode(rawValue: opByte)?.name ?? "unknown", opcodeByte: opByte,
                    offset: opStart, message: message)
    }

    // MARK: - Reading the input

    var remaining: Int { bytes.count - pos }

    /// Consumes `count` bytes and returns their range; `count` must not exceed `remaining`.
    mutating func take(_ count: Int) throws -> Range<Int> {
        guard count >= 0, count <= remaining else {
            throw fail("truncated: needs \(count) bytes at offset \(pos) but only \(remaining) remain")
        }
        defer { pos += count }
        return pos..<(pos + count)
    }

    mutating func readByte() throws -> UInt8 {
        bytes[try take(1).lowerBound]
    }

    /// An unsigned little-endian integer of `count` (at most 8) bytes.
    mutating func readLittleEndian(_ count: Int) throws -> UInt64 {
        let range = try take(count)
        var value: UInt64 = 0
        for index in range.reversed() { value = value << 8 | UInt64(bytes[index]) }
        return value
    }

    /// Validates a length field against the cap and the remaining input, before anything is
    /// allocated, so a corrupt or hostile length cannot trigger a huge allocation.
    /// Read the field into a local first: in `checkedLength(try readLittleEndian(4), ...)`
    /// Swift would copy `self` (and so `pos`) before the read advanced it.
    func checkedLength(_ length: UInt64, what: String) throws -> Int {
        guard length <= UInt64(limits.maxLength) else {
            throw fail("oversized \(what) length \(length) (limit \(limits.maxLength))")
        }
        let count = Int(length)
        guard count <= remaining else {
            throw fail("truncated: \(what) length \(count) but only \(remaining) bytes remain after offset \(pos)")
        }
        return count
    }

    mutating func readBytes(_ count: Int) throws -> [UInt8] {
        Array(bytes[try take(count)])
    }

    /// Strict UTF-8: invalid sequences are an error rather than silently replaced.
    mutating func readUTF8(_ count: Int) throws -> String {
        let start = pos
        let raw = bytes[try take(count)]
        let text = String(decoding: raw, as: UTF8.self)
        // Decoding replaces invalid bytes with U+FFFD, which changes the byte sequence.
        guard text.utf8.elementsEqual(raw) else {
            throw fail("invalid UTF-8 in the string at offset \(start)")
        }
        return text
    }

    /// A newline-terminated text argument (protocol-0 style), without the newline.
    mutating func readLine() throws -> ArraySlice<UInt8> {
        let end = min(bytes.count, pos + Self.maxLineLength + 1)
        guard let newline = bytes[pos..<end].firstIndex(of: 0x0A) else {
            if end == bytes.count {
                throw fail("truncated: text argument at offset \(pos) has no newline")
            }
            throw fail("text argument at offset \(pos) is longer than \(Self.maxLineLength) bytes")
        }
        let line = bytes[pos..<newline]
        pos = newline + 1
        return line
    }

    /// A decimal integer such as "-12"; nil if malformed or outside Int64.
    static func parseDecimal(_ text: ArraySlice<UInt8>) -> Int64? {
        var digits = text[...]
        var negative = false
        if let sign = digits.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            negative = sign == UInt8(ascii: "-")
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty else { return nil }
        var value: Int64 = 0
        for digit in digits {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let step = Int64(digit - UInt8(ascii: "0"))
            let (next, overflow2) = negative ? shifted.subtractingReportingOverflow(step)
                                             : shifted.addingReportingOverflow(step)
            guard !overflow1, !overflow2 else { return nil }
            value = next
        }
        return value
    }

    /// INT's argument: "00"/"01" are Python 2's False/True, otherwise a decimal.
    mutating func readTextInt() throws -> PickleValue {
        let line = try readLine()
        if line.elementsEqual("00".utf8) { return .bool(false) }
        if line.elementsEqual("01".utf8) { return .bool(true) }
        guard let value = Self.parseDecimal(line) else {
            throw fail("malformed or out-of-range decimal '\(Self.printable(line))'")
        }
        return .int(value)
    }

    /// A little-endian two's-complement integer of `byteCount` bytes (LONG1 / LONG4).
    mutating func readLong(byteCount: Int) throws -> Int64 {
        guard byteCount <= 8 else {
            throw fail("integer of \(byteCount) bytes is wider than 64 bits; refused")
        }
        guard byteCount > 0 else { return 0 }
        let bits = try readLittleEndian(byteCount)
        let unused = UInt64(64 - 8 * byteCount)
        return Int64(bitPattern: bits << unused) >> unused
    }

    /// For quoting untrusted text in messages: at most 80 bytes, invalid UTF-8 replaced.
    static func printable(_ raw: ArraySlice<UInt8>) -> String {
        String(decoding: raw.prefix(80), as: UTF8.self)
    }

    // MARK: - Stack

    /// The lowest stack index the current MARK frame may touch.
    var frameFloor: Int { marks.last ?? 0 }

    mutating func pop() throws -> PickleStackItem {
        guard stack.count > frameFloor else {
            throw fail(marks.isEmpty ? "stack underflow: the stack is empty"
                                     : "stack underflow: nothing above the last MARK")
        }
        return stack.removeLast()
    }

    func peek() throws -> PickleStackItem {
        guard stack.count > frameFloor, let top = stack.last else {
            throw fail(marks.isEmpty ? "stack underflow: the stack is empty"
                                     : "stack underflow: nothing above the last MARK")
        }
        return top
    }

    /// Removes the items above the most recent MARK, and the MARK.
    mutating func popMark() throws -> [PickleStackItem] {
        guard let height = marks.popLast() else { throw fail("no MARK on the stack") }
        let items = Array(stack[height...])
        stack.removeSubrange(height...)
        return items
    }

    mutating func topList() throws -> PickleListBox {
        let top = try peek()
        guard case .list(let box) = top else { throw fail("expected a list to append to, found \(top.typeName)") }
        return box
    }

    mutating func topDict() throws -> PickleDictBox {
        let top = try peek()
        guard case .dict(let box) = top else { throw fail("expected a dict to set items in, found \(top.typeName)") }
        return box
    }

    // MARK: - Containers

    /// Places `item` inside a container: freezes lists and dicts (see `PickleStackItem`) and
    /// refuses callables, which are never data. Returns the item's depth.
    func adopt(_ item: PickleStackItem, into container: AnyObject?) throws -> Int {
        switch item {
        case .list(let box):
            if box === container { throw fail("a list cannot contain itself (recursive structures are refused)") }
            box.frozen = true
        case .dict(let box):
            if box === container { throw fail("a dict cannot contain itself (recursive structures are refused)") }
            box.frozen = true
        case .global(let global):
            throw fail("the callable \(global.qualifiedName) may only be applied with REDUCE, not stored as data")
        case .value, .tuple, .dtype:
            break
        }
        return item.depth
    }

    func checkDepth(_ depth: Int) throws {
        guard depth <= limits.maxNestingDepth else {
            throw fail("containers nested deeper than \(limits.maxNestingDepth) levels")
        }
    }

    func refuseFrozen(_ frozen: Bool, _ kind: String) throws {
        guard !frozen else {
            throw fail("the \(kind) is modified after being placed in another container "
                + "(recursive or self-referencing structures are refused)")
        }
    }

    mutating func append(_ items: [PickleStackItem], to box: PickleListBox) throws {
        var depth = box.depth
        for item in items { depth = max(depth, try adopt(item, into: box) + 1) }
        try refuseFrozen(box.frozen, "list")
        try checkDepth(depth)
        box.items.append(contentsOf: items)
        box.depth = depth
    }

    func makeTuple(_ items: [PickleStackItem]) throws -> PickleStackItem {
        var depth = 1
        for item in items { depth = max(depth, try adopt(item, into: nil) + 1) }
        try checkDepth(depth)
        return .tuple(items, depth: depth)
    }

    /// Sets alternating key, value items; Python's dict semantics (a repeated key keeps its
    /// first position and takes the last value).
    mutating func setItems(_ items: [PickleStackItem], in box: PickleDictBox) throws {
        guard items.count % 2 == 0 else { throw fail("odd number of items (\(items.count)) for key/value pairs") }
        var depth = box.depth
        var index = 0
        while index < items.count {
            let keyItem = items[index], valueItem = items[index + 1]
            index += 2
            depth = max(depth, try adopt(keyItem, into: box) + 1, try adopt(valueItem, into: box) + 1)
            let key = try dictKey(keyItem)
            try refuseFrozen(box.frozen, "dict")
            try checkDepth(depth)
            if let slot = box.index[key] {
                box.values[slot] = valueItem
            } else {
                box.index[key] = box.keys.count
                box.keys.append(key)
                box.values.append(valueItem)
            }
            box.depth = depth
        }
    }

    /// Dict keys must be hashable in Python, i.e. not lists or dicts.
    mutating func dictKey(_ item: PickleStackItem) throws -> PickleValue {
        switch item {
        case .list, .dict: throw fail("unhashable dict key of type \(item.typeName)")
        case .tuple(let elements, _):
            for element in elements { _ = try dictKey(element) }
            return try materialize(item)
        default: return try materialize(item)
        }
    }

    // MARK: - Memo

    /// Invariant: every sparse key is >= `memo.count`, so the two stores never overlap and
    /// `memoEntries + sparseMemo.count` is Python's len(memo).
    mutating func memoPut(_ key: Int) throws {
        let item = try peek()
        if key >= memo.count, key <= 2 * memoEntries + 256 {
            // Grow the array to cover `key`, moving in any sparse keys it now covers.
            while memo.count <= key {
                let moved = sparseMemo.isEmpty ? nil : sparseMemo.removeValue(forKey: memo.count)
                if moved != nil { memoEntries += 1 }
                memo.append(moved)
            }
        }
        if key < memo.count {
            if memo[key] == nil { memoEntries += 1 }
            memo[key] = item
        } else {
            sparseMemo[key] = item
        }
    }

    func memoGet(_ key: Int) throws -> PickleStackItem {
        if key < memo.count, let item = memo[key] { return item }
        guard let item = sparseMemo[key] else { throw fail("memo key \(key) is not defined") }
        return item
    }

    /// PUT/GET's text argument: a non-negative decimal.
    mutating func readTextMemoKey() throws -> Int {
        let line = try readLine()
        guard let value = Self.parseDecimal(line) else {
            throw fail("malformed memo key '\(Self.printable(line))'")
        }
        guard value >= 0, let key = Int(exactly: value) else { throw fail("negative memo key \(value)") }
        return key
    }

    // MARK: - The allowed callables

    func resolveGlobal<M: Collection, N: Collection>(module: M, name: N) throws -> PickleAllowedGlobal
    where M.Element == UInt8, N.Element == UInt8 {
        guard let global = PickleAllowedGlobal(module: module, name: name) else {
            let printable = "\(Self.printable(ArraySlice(module))).\(Self.printable(ArraySlice(name)))"
            throw fail("global '\(printable)' is refused: only numpy.dtype and numpy's scalar "
                + "constructor may appear (a pickle is a program; this reader executes nothing)")
        }
        return global
    }

    /// REDUCE: interprets `callable(*args)` for the two allowed callables only.
    mutating func reduce() throws {
        let args = try pop()
        let callable = try pop()
        guard case .global(let global) = callable else {
            throw fail("REDUCE may only apply numpy.dtype or numpy's scalar constructor, not a \(callable.typeName)")
        }
        guard case .tuple(let arguments, _) = args else {
            throw fail("the arguments of \(global.qualifiedName) must be a tuple, found \(args.typeName)")
        }
        switch global {
        case .numpyScalar:
            stack.append(.value(try numpyScalar(arguments)))
        case .numpyDType:
            stack.append(.dtype(PickleDTypeBox(try numpyDType(arguments))))
        }
    }

    /// `scalar(dtype, raw)`: decodes the raw bytes as one value of the dtype.
    func numpyScalar(_ arguments: [PickleStackItem]) throws -> PickleValue {
        guard arguments.count == 2, case .dtype(let box) = arguments[0] else {
            throw fail("numpy scalar expects (dtype, bytes), got \(arguments.count) argument(s)")
        }
        let raw: [UInt8]
        switch arguments[1] {
        case .value(.bytes(let payload)):
            raw = payload
        case .value(.string(let text)):
            // A Python 2 str re-pickled as unicode holds the bytes as latin-1 code points.
            var payload: [UInt8] = []
            for scalar in text.unicodeScalars {
                guard scalar.value < 256 else { throw fail("numpy scalar payload is not latin-1 text") }
                payload.append(UInt8(scalar.value))
            }
            raw = payload
        default:
            throw fail("numpy scalar payload must be bytes, found \(arguments[1].typeName)")
        }
        let dtype = box.dtype
        guard let value = dtype.decode(raw) else {
            if raw.count != dtype.itemSize {
                throw fail("numpy scalar of dtype \(dtype.descriptor) needs \(dtype.itemSize) bytes, got \(raw.count)")
            }
            throw fail("numpy scalar of dtype \(dtype.descriptor) does not fit in a signed 64-bit integer")
        }
        return value
    }

    /// `dtype(descriptor, align, copy)`: the descriptor must name a supported int/float type.
    func numpyDType(_ arguments: [PickleStackItem]) throws -> NumpyDType {
        guard (1...3).contains(arguments.count) else {
            throw fail("numpy.dtype expects 1 to 3 arguments, got \(arguments.count)")
        }
        let descriptor: String
        switch arguments[0] {
        case .value(.string(let text)): descriptor = text
        case .value(.bytes(let raw)): descriptor = Self.printable(raw[...])
        default: throw fail("numpy.dtype descriptor must be a string, found \(arguments[0].typeName)")
        }
        for flag in arguments.dropFirst() {
            switch flag {
            case .value(.bool), .value(.int): continue
            default: throw fail("numpy.dtype flags must be bools, found \(flag.typeName)")
            }
        }
        guard let dtype = NumpyDType(descriptor: descriptor) else {
            throw fail("unsupported numpy dtype '\(descriptor)' (only i1–i8, u1–u8, f4 and f8)")
        }
        return dtype
    }

    /// BUILD: only a numpy dtype's `__setstate__`, which may change its byte order.
    mutating func build() throws {
        let state = try pop()
        let target = try peek()
        guard case .dtype(let box) = target else {
            throw fail("BUILD is only accepted on a numpy.dtype, not on a \(target.typeName)")
        }
        guard case .tuple(let fields, _) = state, fields.count >= 2 else {
            throw fail("numpy.dtype state must be a tuple (version, byteorder, ...), found \(state.typeName)")
        }
        let code: String
        switch fields[1] {
        case .value(.string(let text)): code = text
        case .value(.bytes(let raw)): code = Self.printable(raw[...])
        default: throw fail("numpy.dtype byte order must be a string, found \(fields[1].typeName)")
        }
        guard code.count == 1, let first = code.first, let order = NumpyDType.byteOrder(fromCode: first) else {
            throw fail("unknown numpy byte order '\(code)'")
        }
        box.dtype.byteOrder = order
    }

    // MARK: - Result

    /// Converts the finished object into a value tree. Recursion depth is bounded by the
    /// nesting cap; the value budget bounds the total size (memo sharing can repeat subtrees).
    mutating func materialize(_ item: PickleStackItem) throws -> PickleValue {
        valueBudget -= 1
        guard valueBudget >= 0 else {
            throw fail("the data expands to too many values (more than \(limits.maxValuesPerInputByte) "
                + "per input byte); shared references repeated too often")
        }
        switch item {
        case .value(let value):
            return value
        case .tuple(let elements, _):
            var values: [PickleValue] = []
            values.reserveCapacity(elements.count)
            for element in elements { values.append(try materialize(element)) }
            return .tuple(values)
        case .list(let box):
            var values: [PickleValue] = []
            values.reserveCapacity(box.items.count)
            for element in box.items { values.append(try materialize(element)) }
            return .list(values)
        case .dict(let box):
            var entries: [PickleDictEntry] = []
            entries.reserveCapacity(box.keys.count)
            for (key, value) in zip(box.keys, box.values) {
                entries.append(PickleDictEntry(key: key, value: try materialize(value)))
            }
            return .dict(entries)
        case .dtype(let box):
            return .numpyDType(box.dtype)
        case .global(let global):
            throw fail("the callable \(global.qualifiedName) is not data")
        }
    }
}

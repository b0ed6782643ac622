import Foundation
import Testing
@testable import VHRNN

// MARK: - Fixtures

/// One of the two published FIVO checkpoints in the shared data folder.
struct PublishedFIVOCheckpoint: Sendable, CustomTestStringConvertible {
    var folder: String
    var step: Int
    /// The latent size, which is also every hidden size of the model.
    var latent: Int
    /// Non-Adam float parameters, with and without the unused reverse LSTM `rnn/lstm_cell/*`.
    var parameterCount: Int
    var parameterCountWithoutReverseLSTM: Int
    /// The pianoroll pickle of the dataset it was trained on (chunked to 100 steps).
    var pickle: String

    static let jsb = PublishedFIVOCheckpoint(folder: "trunc_jsb-fivo", step: 280_001, latent: 32,
                                             parameterCount: 39_096, parameterCountWithoutReverseLSTM: 30_776,
                                             pickle: "JSB_Chorales.pickle")
    static let nottingham = PublishedFIVOCheckpoint(folder: "trunc_nottingham-fivo", step: 740_001, latent: 64,
                                                    parameterCount: 143_640, parameterCountWithoutReverseLSTM: 110_616,
                                                    pickle: "Nottingham.pickle")
    static let all = [jsb, nottingham]

    var fileName: String { "model.ckpt-\(step)" }
    var testDescription: String { folder }

    /// The prefix in the shared data folder (throws if the index is missing).
    func prefix() throws -> String {
        let index = try SharedData.url("fivo-checkpoints/\(folder)/\(fileName).index")
        return index.deletingPathExtension().path
    }

    func dataShardName() -> String { "\(fileName).data-00000-of-00001" }

    /// The model variables FIVO's `models/vrnn.py` creates for latent size h and 88 piano keys
    /// (Sonnet `Linear` weights are (in, out); the LSTM kernel is (input + hidden, 4 hidden)),
    /// each with Adam slots, plus the reverse LSTM `rnn/lstm_cell/*` (no slots: never trained).
    var trainedVariables: [(name: String, shape: [Int])] {
        let h = latent, d = 88
        return [
            ("approximate_posterior_fcnet/linear_0/b", [h]), ("approximate_posterior_fcnet/linear_0/w", [2 * h, h]),
            ("approximate_posterior_fcnet/linear_1/b", [2 * h]), ("approximate_posterior_fcnet/linear_1/w", [h, 2 * h]),
            ("data_encoder/linear_0/b", [h]), ("data_encoder/linear_0/w", [d, h]),
            ("data_encoder/linear_1/b", [h]), ("data_encoder/linear_1/w", [h, h]),
            ("generative_fcnet/linear_0/b", [h]), ("generative_fcnet/linear_0/w", [2 * h, h]),
            ("generative_fcnet/linear_1/b", [d]), ("generative_fcnet/linear_1/w", [h, d]),
            ("latent_encoder/linear_0/b", [h]), ("latent_encoder/linear_0/w", [h, h]),
            ("latent_encoder/linear_1/b", [h]), ("latent_encoder/linear_1/w", [h, h]),
            ("lstm_cell/bias", [4 * h]), ("lstm_cell/kernel", [3 * h, 4 * h]),
            ("prior_fcnet/linear_0/b", [h]), ("prior_fcnet/linear_0/w", [h, h]),
            ("prior_fcnet/linear_1/b", [2 * h]), ("prior_fcnet/linear_1/w", [h, 2 * h]),
        ]
    }

    var reverseLSTM: [(name: String, shape: [Int])] {
        [("rnn/lstm_cell/bias", [4 * latent]), ("rnn/lstm_cell/kernel", [2 * latent, 4 * latent])]
    }

    /// Every tensor of the checkpoint, in table (bytewise) order.
    var expectedEntries: [(name: String, dtype: TensorFlowCheckpoint.DataType, shape: [Int])] {
        var all: [(name: String, dtype: TensorFlowCheckpoint.DataType, shape: [Int])] = []
        for v in trainedVariables {
            for suffix in ["", "/Adam", "/Adam_1"] { all.append((v.name + suffix, .float, v.shape)) }
        }
        for v in reverseLSTM { all.append((v.name, .float, v.shape)) }
        all += [("beta1_power", .float, []), ("beta2_power", .float, []), ("global_step", .int64, [])]
        return all.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }
}

/// Builds TensorFlow tables and bundles byte by byte, for targeted hostile inputs: varints,
/// protobuf fields, prefix-compressed blocks with restarts, trailers, footer.
enum BundleFixture {
    static func varint(_ value: UInt64) -> [UInt8] {
        var v = value, out: [UInt8] = []
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        return out + [UInt8(v)]
    }

    static func fixed32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }

    static func tag(_ number: Int, _ wireType: Int) -> [UInt8] { varint(UInt64(number << 3 | wireType)) }
    static func varintField(_ number: Int, _ value: UInt64) -> [UInt8] { tag(number, 0) + varint(value) }
    static func messageField(_ number: Int, _ body: [UInt8]) -> [UInt8] { tag(number, 2) + varint(UInt64(body.count)) + body }

    static func header(numShards: Int32 = 1, endianness: UInt64 = 0, extra: [UInt8] = []) -> [UInt8] {
        varintField(1, UInt64(bitPattern: Int64(numShards))) + (endianness == 0 ? [] : varintField(2, endianness))
            + messageField(3, varintField(1, 1)) + extra
    }

    static func shape(_ dims: [Int64]) -> [UInt8] {
        messageField(2, dims.flatMap { messageField(2, varintField(1, UInt64(bitPattern: $0))) })
    }

    static func entry(dtype: Int32, dims: [Int64], shard: Int32 = 0, offset: Int, size: Int, crc: UInt32,
                      extra: [UInt8] = []) -> [UInt8] {
        varintField(1, UInt64(bitPattern: Int64(dtype))) + shape(dims) + (shard == 0 ? [] : varintField(3, UInt64(shard)))
            + (offset == 0 ? [] : varintField(4, UInt64(offset))) + varintField(5, UInt64(size))
            + tag(6, 5) + fixed32(crc) + extra
    }

    /// Block contents: prefix-compressed entries, restart every `restartInterval` entries.
    static func block(_ records: [([UInt8], [UInt8])], restartInterval: Int = 16) -> [UInt8] {
        var out: [UInt8] = [], restarts: [UInt32] = [0], previous: [UInt8] = []
        for (i, (key, value)) in records.enumerated() {
            var shared = 0
            if i % restartInterval == 0 {
                if i > 0 { restarts.append(UInt32(out.count)) }
            } else {
                while shared < min(key.count, previous.count), key[shared] == previous[shared] { shared += 1 }
            }
            out += varint(UInt64(shared)) + varint(UInt64(key.count - shared)) + varint(UInt64(value.count))
            out += key[shared...] + value
            previous = key
        }
        for r in restarts { out += fixed32(r) }
        return out + fixed32(UInt32(restarts.count))
    }

    static func trailer(_ contents: [UInt8], compression: UInt8 = 0) -> [UInt8] {
        [compression] + fixed32(CRC32C.mask(CRC32C.checksum(contents + [compression])))
    }

    /// A whole index file: one data block (given as contents), an empty metaindex, an index
    /// block whose single separator is `separator`, and the footer.
    static func table(dataBlock: [UInt8], separator: [UInt8] = Array("~".utf8), compression: UInt8 = 0) -> [UInt8] {
        var file = dataBlock + trailer(dataBlock, compression: compression)
        let metaOffset = file.count, meta = block([])
        file += meta + trailer(meta)
        let indexOffset = file.count
        let index = block([(separator, varint(0) + varint(UInt64(dataBlock.count)))])
        file += index + trailer(index)
        var footer = varint(UInt64(metaOffset)) + varint(UInt64(meta.count))
            + varint(UInt64(indexOffset)) + varint(UInt64(index.count))
        footer += [UInt8](repeating: 0, count: 40 - footer.count)
        footer += fixed32(0x8B80_FB57) + fixed32(0xDB47_7524)
        return file + footer
    }

    static func table(_ records: [(String, [UInt8])], restartInterval: Int = 16, compression: UInt8 = 0) -> [UInt8] {
        table(dataBlock: block(records.map { (Array($0.0.utf8), $0.1) }, restartInterval: restartInterval),
              compression: compression)
    }

    static func le<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        values.flatMap { v in (0..<MemoryLayout<T>.size).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    }

    /// A tensor for ``bundle(_:in:)``: raw little-endian bytes and proto fields to append.
    struct Tensor {
        var name: String
        var dtype: Int32
        var dims: [Int64]
        var bytes: [UInt8]
        var extra: [UInt8] = []
    }

    /// Writes `NAME.index` and `NAME.data-00000-of-00001` into `dir`; returns the prefix.
    static func bundle(_ tensors: [Tensor], in dir: TemporaryDirectory, name: String = "fixture",
                       restartInterval: Int = 16, headerExtra: [UInt8] = []) throws -> String {
        var data: [UInt8] = []
        var records: [(String, [UInt8])] = [("", header(extra: headerExtra))]
        for t in tensors {
            records.append((t.name, entry(dtype: t.dtype, dims: t.dims, offset: data.count, size: t.bytes.count,
                                          crc: CRC32C.mask(CRC32C.checksum(t.bytes)), extra: t.extra)))
            data += t.bytes
        }
        let prefix = dir.file(name)
        try Data(table(records, restartInterval: restartInterval)).write(to: URL(fileURLWithPath: prefix + ".index"))
        try Data(data).write(to: URL(fileURLWithPath: prefix + ".data-00000-of-00001"))
        return prefix
    }
}

/// An index image that must be refused, with the kind and a fragment of the message expected.
struct HostileIndex: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: [UInt8]
    var kind: TensorFlowCheckpointError.Kind
    var fragment: String
    var testDescription: String { name }

    typealias F = BundleFixture
    static let scalarFloat = F.entry(dtype: 1, dims: [], offset: 0, size: 4, crc: 0)

    static let all: [HostileIndex] = {
        var cases: [HostileIndex] = []
        func add(_ name: String, _ bytes: [UInt8], _ kind: TensorFlowCheckpointError.Kind, _ fragment: String) {
            cases.append(HostileIndex(name: name, bytes: bytes, kind: kind, fragment: fragment))
        }
        let good = F.table([("", F.header()), ("x", scalarFloat)])
        add("snappy block", F.table([("", F.header()), ("x", scalarFloat)], compression: 1),
            .unsupported, "snappy-compressed index is unsupported")
        add("unknown compression type", F.table([("", F.header())], compression: 7), .malformed, "compression type 7")
        add("big-endian header", F.table([("", F.header(endianness: 1))]), .unsupported, "big-endian")
        add("unknown endianness", F.table([("", F.header(endianness: 5))]), .malformed, "endianness 5")
        add("partitioned variable", F.table([("", F.header()), ("x", scalarFloat + F.messageField(7, []))]),
            .unsupported, "partitioned variables are unsupported")
        add("keys out of order", F.table([("", F.header()), ("b", scalarFloat), ("a", scalarFloat)]),
            .malformed, "strictly increasing")
        add("duplicate key", F.table([("", F.header()), ("a", scalarFloat), ("a", scalarFloat)]),
            .malformed, "strictly increasing")
        add("key beyond its separator", F.table(dataBlock: F.block([([], F.header()), (Array("z".utf8), scalarFloat)]),
                                                separator: Array("m".utf8)),
            .malformed, "separator")
        add("no header", F.table([("x", scalarFloat)]), .malformed, "no header entry")
        add("zero shards", F.table([("", F.header(numShards: 0))]), .malformed, "num_shards 0")
        add("absurd shard count", F.table([("", F.header(numShards: Int32.max))]), .malformed, "num_shards")
        add("shard out of range", F.table([("", F.header()), ("x", F.entry(dtype: 1, dims: [], shard: 1, offset: 0, size: 4, crc: 0))]),
            .malformed, "shard_id 1")
        add("negative dimension", F.table([("", F.header()), ("x", F.entry(dtype: 1, dims: [2, -1], offset: 0, size: 8, crc: 0))]),
            .malformed, "negative dimension")
        add("negative offset", F.table([("", F.header()), ("x", F.entry(dtype: 1, dims: [], offset: 0, size: 4, crc: 0)
                                                                + F.varintField(4, UInt64(bitPattern: -8)))]),
            .malformed, "byte range")
        add("DT_INVALID", F.table([("", F.header()), ("x", F.entry(dtype: 0, dims: [], offset: 0, size: 4, crc: 0))]),
            .malformed, "DT_INVALID")
        add("unknown rank", F.table([("", F.header()), ("x", scalarFloat + F.messageField(2, F.varintField(3, 1)))]),
            .malformed, "unknown rank")
        add("eleven-byte varint", F.table([("", F.header()), ("x", F.tag(1, 0) + [UInt8](repeating: 0xFF, count: 10) + [0x01])]),
            .malformed, "varint")
        add("varint overflowing 64 bits", F.table([("", F.header()), ("x", F.tag(1, 0) + [UInt8](repeating: 0xFF, count: 9) + [0x02])]),
            .malformed, "longer than 64 bits")
        add("truncated varint", F.table([("", F.header()), ("x", F.tag(4, 0) + [0x80, 0x80])]), .malformed, "truncated varint")
        add("wrong wire type", F.table([("", F.header()), ("x", F.messageField(1, [1]))]), .malformed, "wire type 2, expected 0")
        add("invalid wire type", F.table([("", F.header()), ("x", F.tag(9, 7))]), .malformed, "invalid wire type 7")
        add("field number 0", F.table([("", F.header()), ("x", [0x00, 0x01])]), .malformed, "field number 0")
        add("length past the message", F.table([("", F.header()), ("x", F.tag(2, 2) + F.varint(1000))]), .malformed, "runs past")
        add("unterminated group", F.table([("", F.header()), ("x", scalarFloat + F.tag(30, 3) + F.varintField(1, 1))]),
            .malformed, "not terminated")
        add("mismatched end-group", F.table([("", F.header()), ("x", scalarFloat + F.tag(30, 3) + F.tag(31, 4))]),
            .malformed, "ended by end-group 31")
        add("stray end-group", F.table([("", F.header()), ("x", scalarFloat + F.tag(30, 4))]), .malformed, "end-group")
        add("groups nested too deep", F.table([("", F.header()), ("x", scalarFloat + (0..<100).flatMap { _ in F.tag(30, 3) })]),
            .malformed, "nested")
        add("invalid UTF-8 name", F.table(dataBlock: F.block([([], F.header()), ([0x61, 0xFF], scalarFloat)])),
            .malformed, "not valid UTF-8")
        // Hand-made blocks (prefix compression and restart array).
        let headerEntry: [UInt8] = [0, 0, UInt8(F.header().count)] + F.header()
        add("shared prefix longer than the previous key",
            F.table(dataBlock: headerEntry + [5, 1, 0, 0x61] + F.fixed32(0) + F.fixed32(1)), .malformed, "shares 5 bytes")
        add("restart count too large", F.table(dataBlock: headerEntry + F.fixed32(0) + F.fixed32(1000)),
            .malformed, "restart count 1000")
        add("restart point inside an entry", F.table(dataBlock: headerEntry + F.fixed32(0) + F.fixed32(1) + F.fixed32(2)),
            .malformed, "restart point 1")
        add("first entry not a restart point", F.table(dataBlock: headerEntry + F.fixed32(3) + F.fixed32(1)),
            .malformed, "first entry")
        add("entry running past the block", F.table(dataBlock: [0, 1, 100, 0x61] + F.fixed32(0) + F.fixed32(1)),
            .malformed, "run past")
        add("block too short", F.table(dataBlock: [0, 0]), .malformed, "too short")
        // Footer and handles.
        var badMagic = good
        badMagic[badMagic.count - 1] ^= 0x01
        add("bad magic", badMagic, .malformed, "bad table magic")
        var farHandle = good
        var goodFooter = WireReader(good, from: good.count - 48, to: good.count - 8)
        let meta = try? goodFooter.blockHandle()  // keep the real metaindex; move the index far away
        let footer = F.varint(UInt64(meta?.offset ?? 0)) + F.varint(UInt64(meta?.size ?? 0)) + F.varint(1 << 40) + F.varint(15)
        farHandle.replaceSubrange(farHandle.count - 48 ..< farHandle.count - 48 + footer.count, with: footer)
        add("index handle past the file", farHandle, .malformed, "runs past")
        var overlongHandle = good
        overlongHandle.replaceSubrange(overlongHandle.count - 48 ..< overlongHandle.count - 8,
                                       with: [UInt8](repeating: 0xFF, count: 40))
        add("footer varints never end", overlongHandle, .malformed, "footer")
        add("short file", Array(good.suffix(47)), .truncated, "truncated (file is 47 bytes, a table footer needs 48)")
        add("empty file", [], .truncated, "empty file")
        return cases
    }()
}

/// Checks the promise of ``TensorFlowCheckpointError/description``: a single short line that
/// names the file.
private func expectOneLine(_ error: TensorFlowCheckpointError, naming path: String? = nil,
                           sourceLocation: SourceLocation = #_sourceLocation) {
    let text = error.description
    #expect(!text.unicodeScalars.contains { $0.value < 0x20 || $0 == "\u{2028}" || $0 == "\u{2029}" },
            "description has a control character: \(text.debugDescription)", sourceLocation: sourceLocation)
    #expect(text.count < 500, "description is \(text.count) characters", sourceLocation: sourceLocation)
    if let path { #expect(text.hasPrefix(path + ": "), "\(text)", sourceLocation: sourceLocation) }
}

/// Copies a published checkpoint into `dir` (as `NAME.index` / `NAME.data-00000-of-00001`),
/// transforming the bytes; returns the new prefix. A nil transform result leaves the file out.
private func copy(_ checkpoint: PublishedFIVOCheckpoint, to dir: TemporaryDirectory,
                  index: ([UInt8]) -> [UInt8]? = { $0 }, data: ([UInt8]) -> [UInt8]? = { $0 }) throws -> String {
    let source = try checkpoint.prefix()
    let prefix = dir.file(checkpoint.fileName)
    if let bytes = index([UInt8](try Data(contentsOf: URL(fileURLWithPath: source + ".index")))) {
        try Data(bytes).write(to: URL(fileURLWithPath: prefix + ".index"))
    }
    let shard = URL(fileURLWithPath: source).deletingLastPathComponent().appendingPathComponent(checkpoint.dataShardName())
    if let bytes = data([UInt8](try Data(contentsOf: shard))) {
        try Data(bytes).write(to: URL(fileURLWithPath: prefix + ".data-00000-of-00001"))
    }
    return prefix
}

/// Reads every tensor with the reader its dtype calls for (the checksums are checked inside).
private func readAll(_ checkpoint: TensorFlowCheckpoint, _ entries: [TensorFlowCheckpoint.Entry]) throws -> Int {
    var elements = 0
    for e in entries {
        switch e.dtype {
        case .float, .double: elements += try checkpoint.floatValues(e.name).count
        case .int32, .int64: elements += try checkpoint.int64Values(e.name).count
        case .other: _ = try checkpoint.verifiedBytes(e)
        }
    }
    return elements
}

// MARK: - Tests

@Suite struct TensorFlowCheckpointTests {
    // MARK: CRC32C

    @Test func crc32cMatchesPublishedCheckValues() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        // RFC 3720 (iSCSI) B.4 test vectors.
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).map { UInt8(31 - $0) }) == 0x113F_DB5C)
        #expect(CRC32C.checksum([UInt8]()) == 0)
    }

    @Test func crc32cIsIncrementalAcrossEverySplit() {
        var g = SplitMix64(seed: 7)
        let bytes = (0..<77).map { _ in UInt8(truncatingIfNeeded: g.next()) }
        let whole = CRC32C.checksum(bytes)
        // Byte-at-a-time reference (table 0 only), independent of the slicing-by-8 path.
        var reference: UInt32 = 0xFFFF_FFFF
        for b in bytes { reference = CRC32C.tables[Int((reference ^ UInt32(b)) & 0xFF)] ^ (reference >> 8) }
        #expect(whole == ~reference)
        for split in 0...bytes.count {
            let first = CRC32C.checksum(bytes[..<split])
            #expect(CRC32C.checksum(bytes[split...], continuing: first) == whole, "split at \(split)")
        }
        #expect(CRC32C.checksum(Data(bytes)) == whole)
    }

    @Test func crc32cMaskRoundTrips() {
        // LevelDB's crc32c_test: masking changes the value and unmask inverts it.
        let crc = CRC32C.checksum(Array("foo".utf8))
        #expect(CRC32C.mask(crc) != crc)
        #expect(CRC32C.mask(CRC32C.mask(crc)) != crc)
        #expect(CRC32C.unmask(CRC32C.mask(crc)) == crc)
        #expect(CRC32C.unmask(CRC32C.unmask(CRC32C.mask(CRC32C.mask(crc)))) == crc)
        #expect(CRC32C.mask(0) == 0xA282_EAD8)
        #expect(CRC32C.mask(0x0000_8000) == 0xA282_EAD9)  // bit 15 rotates to bit 0
        var g = SplitMix64(seed: 11)
        for _ in 0..<1000 {
            let v = UInt32(truncatingIfNeeded: g.next())
            #expect(CRC32C.unmask(CRC32C.mask(v)) == v)
        }
    }

    // MARK: Published checkpoints

    @Test(arguments: PublishedFIVOCheckpoint.all)
    func listsEveryVariableWithItsDtypeAndShape(_ published: PublishedFIVOCheckpoint) throws {
        let checkpoint = try TensorFlowCheckpoint(prefix: try published.prefix())
        #expect(checkpoint.numShards == 1)
        let expected = published.expectedEntries
        #expect(checkpoint.entries.count == expected.count)
        #expect(checkpoint.entries.map(\.name) == expected.map(\.name))
        for (entry, want) in zip(checkpoint.entries, expected) {
            #expect(entry.dtype == want.dtype, "\(entry.name)")
            #expect(entry.shape == want.shape, "\(entry.name)")
            #expect(entry.shard == 0, "\(entry.name)")
            #expect(entry.size == (entry.elementCount ?? -1) * (entry.dtype.byteSize ?? -1), "\(entry.name)")
        }
        // Spot checks from the task, for JSB (latent 32, 88 keys).
        if published.latent == 32 {
            #expect(checkpoint.entry(named: "lstm_cell/kernel")?.shape == [96, 128])
            #expect(checkpoint.entry(named: "data_encoder/linear_0/w")?.shape == [88, 32])
            #expect(checkpoint.entry(named: "rnn/lstm_cell/kernel")?.shape == [64, 128])
        }
        #expect(checkpoint.entry(named: "lstm_cell") == nil)
        #expect(checkpoint.entry(named: "") == nil)
        #expect(checkpoint.entry(named: "zzz") == nil)
        #expect(checkpoint.entry(named: "rnn/lstm_cell/bias/Adam") == nil)
    }

    @Test(arguments: PublishedFIVOCheckpoint.all)
    func tensorsTileTheDataShardAndAllChecksumsVerify(_ published: PublishedFIVOCheckpoint) throws {
        let checkpoint = try TensorFlowCheckpoint(prefix: try published.prefix())
        let shardSize = try FileManager.default.attributesOfItem(atPath: checkpoint.dataShardPath(0))[.size] as? Int
        var end = 0
        for e in checkpoint.entries.sorted(by: { $0.offset < $1.offset }) {
            #expect(e.offset == end, "\(e.name) starts at \(e.offset), previous tensor ended at \(end)")
            end = e.offset + e.size
        }
        #expect(end == shardSize)
        let elements = try readAll(checkpoint, checkpoint.entries)
        #expect(elements * 4 + 4 == end)  // every tensor is 4-byte except the int64 global_step
    }

    @Test(arguments: PublishedFIVOCheckpoint.all)
    func globalStepIsTheStepInTheFileName(_ published: PublishedFIVOCheckpoint) throws {
        let prefix = try published.prefix()
        let checkpoint = try TensorFlowCheckpoint(prefix: prefix)
        let name = URL(fileURLWithPath: prefix).lastPathComponent
        let step = try #require(name.split(separator: "-").last.flatMap { Int64($0) })
        #expect(step == Int64(published.step))
        #expect(checkpoint.entry(named: "global_step")?.dtype == .int64)
        #expect(try checkpoint.int64Values("global_step") == [step])
        // Adam's beta powers underflow to zero after this many steps (0.999^740001 < 1e-300).
        #expect(try checkpoint.floatValues("beta1_power") == [0])
        #expect(try checkpoint.floatValues("beta2_power") == [0])
    }

    @Test(arguments: PublishedFIVOCheckpoint.all)
    func parameterCountMatchesThePaper(_ published: PublishedFIVOCheckpoint) throws {
        let checkpoint = try TensorFlowCheckpoint(prefix: try published.prefix())
        let parameters = checkpoint.entries.filter {
            $0.dtype == .float && !$0.name.hasSuffix("/Adam") && !$0.name.hasSuffix("/Adam_1")
                && !$0.name.hasSuffix("_power") && $0.name != "global_step"
        }
        #expect(parameters.count == 24)
        let total = parameters.reduce(0) { $0 + ($1.elementCount ?? 0) }
        let withoutReverse = parameters.filter { !$0.name.hasPrefix("rnn/") }.reduce(0) { $0 + ($1.elementCount ?? 0) }
        #expect(total == published.parameterCount)
        #expect(withoutReverse == published.parameterCountWithoutReverseLSTM)
        // The reverse LSTM is never used by the filtering proposal: it has no Adam slots and its
        // bias is still the zero initialiser.
        #expect(try checkpoint.floatValues("rnn/lstm_cell/bias").allSatisfy { $0 == 0 })
    }

    /// Values cross-checked with an independent Python decoder (numpy `<f4` at the entry's
    /// offset): bit patterns of the first, [1, 2] and last elements.
    @Test func valuesMatchAnIndependentDecoder() throws {
        let jsb = try TensorFlowCheckpoint(prefix: try PublishedFIVOCheckpoint.jsb.prefix())
        let kernel = try jsb.floatValues("lstm_cell/kernel")
        #expect(kernel.count == 96 * 128)
        #expect(kernel[0].bitPattern == 1_050_967_547)
        #expect(kernel[1 * 128 + 2].bitPattern == 3_184_243_079)
        #expect(kernel[kernel.count - 1].bitPattern == 3_167_545_494)
        #expect(abs(kernel.reduce(0.0) { $0 + Double($1) } - -22.686614289528734) < 1e-9)
        let encoder = try jsb.floatValues("data_encoder/linear_0/w")
        #expect(encoder[0].bitPattern == 3_170_227_344)
        #expect(encoder[1 * 32 + 2].bitPattern == 1_034_122_056)
        #expect(encoder[88 * 32 - 1].bitPattern == 1_041_006_648)
        let emissionBias = try jsb.doubleValues("generative_fcnet/linear_1/b")
        #expect(emissionBias.count == 88)
        #expect(emissionBias[0] == Double(Float(bitPattern: 3_195_605_932)))
        #expect(emissionBias[87] == Double(Float(bitPattern: 3_196_958_977)))

        let nottingham = try TensorFlowCheckpoint(prefix: try PublishedFIVOCheckpoint.nottingham.prefix())
        let kernel64 = try nottingham.floatValues("lstm_cell/kernel")
        #expect(kernel64.count == 192 * 256)
        #expect(kernel64[0].bitPattern == 1_043_819_183)
        #expect(kernel64[1 * 256 + 2].bitPattern == 3_199_108_252)
        #expect(kernel64[kernel64.count - 1].bitPattern == 1_049_909_373)
        let bias64 = try nottingham.floatValues("generative_fcnet/linear_1/b")
        #expect(bias64.first?.bitPattern == 3_189_410_153)
        #expect(bias64.last?.bitPattern == 3_188_321_091)
    }

    /// The layout the fuzzing below relies on, and what TensorFlow wrote: one data block at 0
    /// holding all 72 records, an empty metaindex, an index with one separator.
    @Test func jsbIndexIsOneDataBlockAnEmptyMetaindexAndAOneEntryIndex() throws {
        let prefix = try PublishedFIVOCheckpoint.jsb.prefix()
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: prefix + ".index")))
        #expect(bytes.count == 2366)
        var footer = WireReader(bytes, from: bytes.count - 48, to: bytes.count - 8)
        let meta = try footer.blockHandle(), index = try footer.blockHandle()
        #expect([meta.offset, meta.size, index.offset, index.size] == [Int]([2285, 8, 2298, 15]))
        let indexEntries = try TensorBundleTable.entries(ofBlock: index.offset ..< index.offset + index.size, in: bytes, path: "t")
        #expect(indexEntries.map(\.key) == [Array("s".utf8)])
        let records = try TensorBundleTable.records(of: bytes, path: "t")
        #expect(records.count == 72)
        #expect((records.last?.value.upperBound ?? .max) <= 2280)
    }

    // MARK: Synthetic bundles

    @Test func syntheticBundleRoundTripsAndSkipsUnknownFields() throws {
        let dir = try TemporaryDirectory("tfcheckpoint")
        defer { dir.remove() }
        typealias F = BundleFixture
        // Unknown fields of every wire type, a nested group, and a dim name.
        let unknown = F.varintField(20, 123_456_789) + F.tag(21, 1) + F.le([UInt64(42)]) + F.messageField(22, [1, 2, 3])
            + F.tag(23, 5) + F.fixed32(7) + F.tag(24, 3) + F.varintField(1, 1) + F.tag(25, 3) + F.tag(25, 4) + F.tag(24, 4)
        let named = F.messageField(2, F.messageField(2, F.varintField(1, 2) + F.messageField(2, Array("rows".utf8)))
                                         + F.messageField(2, F.varintField(1, 3)))
        let floats: [Float] = [1, -2.5, 3.25, .pi, -0, 1e-30]
        let doubles: [Double] = [1.0 / 3.0, -1e300]
        let ints: [Int32] = [0, -1, .max, .min]
        let tensors: [F.Tensor] = [
            .init(name: "a/double", dtype: 2, dims: [2], bytes: F.le(doubles.map(\.bitPattern))),
            .init(name: "a/float", dtype: 1, dims: [], bytes: F.le(floats.map(\.bitPattern)), extra: named + unknown),
            .init(name: "a/int32", dtype: 3, dims: [4], bytes: F.le(ints)),
            .init(name: "a/int64", dtype: 9, dims: [], bytes: F.le([Int64.min])),
            .init(name: "a/string", dtype: 7, dims: [1], bytes: [1, 0x61]),
            .init(name: "b/empty", dtype: 1, dims: [0, 5], bytes: []),
            .init(name: "b/\u{e9}t\u{e9}", dtype: 1, dims: [1], bytes: F.le([Float(2).bitPattern])),
        ]
        let prefix = try F.bundle(tensors, in: dir, restartInterval: 2, headerExtra: unknown)
        let checkpoint = try TensorFlowCheckpoint(prefix: prefix)
        #expect(checkpoint.entries.map(\.name) == tensors.map(\.name))
        // Shape messages merge: the explicit scalar shape plus the [2, 3] from `named`.
        #expect(checkpoint.entry(named: "a/float")?.shape == [2, 3])
        #expect(checkpoint.entry(named: "a/string")?.dtype == .other(7))
        #expect(try checkpoint.floatValues("a/float") == floats)
        #expect(try checkpoint.doubleValues("a/float") == floats.map(Double.init))
        #expect(try checkpoint.doubleValues("a/double") == doubles)
        #expect(try checkpoint.floatValues("a/double") == doubles.map(Float.init))
        #expect(try checkpoint.int64Values("a/int32") == ints.map(Int64.init))
        #expect(try checkpoint.int64Values("a/int64") == [.min])
        #expect(try checkpoint.floatValues("b/empty") == [])
        #expect(try checkpoint.floatValues("b/\u{e9}t\u{e9}") == [2])
        // Bytewise lookup: the decomposed spelling is a different key.
        #expect(checkpoint.entry(named: "b/e\u{301}te\u{301}") == nil)

        let string = try #require(throws: TensorFlowCheckpointError.self) { _ = try checkpoint.floatValues("a/string") }
        #expect(string.kind == .wrongType)
        expectOneLine(string, naming: checkpoint.indexPath)
        let wrong = try #require(throws: TensorFlowCheckpointError.self) { _ = try checkpoint.int64Values("a/float") }
        #expect(wrong.kind == .wrongType)
        #expect(wrong.description.contains("tensor \"a/float\": dtype is DT_FLOAT"))
        let missing = try #require(throws: TensorFlowCheckpointError.self) { _ = try checkpoint.floatValues("nope") }
        #expect(missing.kind == .noSuchTensor)
        #expect(missing.description == "\(checkpoint.indexPath): no tensor named \"nope\"")
    }

    @Test func sizeThatDisagreesWithTheShapeIsRefusedOnRead() throws {
        let dir = try TemporaryDirectory("tfcheckpoint")
        defer { dir.remove() }
        let prefix = try BundleFixture.bundle([.init(name: "w", dtype: 1, dims: [3], bytes: [UInt8](repeating: 0, count: 8))], in: dir)
        let checkpoint = try TensorFlowCheckpoint(prefix: prefix)
        let error = try #require(throws: TensorFlowCheckpointError.self) { _ = try checkpoint.floatValues("w") }
        #expect(error.kind == .malformed)
        #expect(error.description == "\(prefix).index: tensor \"w\": size 8 bytes does not match DT_FLOAT [3]")
    }

    @Test(arguments: HostileIndex.all)
    func hostileIndexIsRefused(_ hostile: HostileIndex) throws {
        let error = try #require(throws: TensorFlowCheckpointError.self) {
            _ = try TensorFlowCheckpoint(prefix: "/nonexistent/hostile", indexBytes: hostile.bytes)
        }
        #expect(error.kind == hostile.kind, "\(error)")
        #expect(error.description.contains(hostile.fragment), "\(error)")
        expectOneLine(error, naming: "/nonexistent/hostile.index")
    }

    @Test func hostileNamesAreEscapedOntoOneLine() throws {
        typealias F = BundleFixture
        let name = "line\nbreak\u{2028}\"quoted\"" + String(repeating: "x", count: 500)
        let bytes = F.table([("", F.header()), (name, F.entry(dtype: 1, dims: [], shard: 3, offset: 0, size: 4, crc: 0))])
        let error = try #require(throws: TensorFlowCheckpointError.self) {
            _ = try TensorFlowCheckpoint(prefix: "/tmp/p", indexBytes: bytes)
        }
        #expect(error.tensor == name)
        #expect(error.description.hasPrefix(#"/tmp/p.index: tensor "line\u{a}break\u{2028}\"quoted\"xxx"#))
        #expect(error.description.hasSuffix(#"…": shard_id 3 is not below num_shards 1"#))
        expectOneLine(error)
    }

    // MARK: Corrupt copies of a real checkpoint

    @Test func truncatedDataShardIsRefused() throws {
        let dir = try TemporaryDirectory("tfcheckpoint")
        defer { dir.remove() }
        let prefix = try copy(.jsb, to: dir, data: { Array($0.dropLast(100)) })
        let checkpoint = try TensorFlowCheckpoint(prefix: prefix)
        #expect(try checkpoint.floatValues("lstm_cell/kernel").count == 96 * 128)  // earlier tensors still read
        let error = try #require(throws: TensorFlowCheckpointError.self) { _ = try checkpoint.floatValues("rnn/lstm_cell/kernel") }
        #expect(error.kind == .truncated)
        #expect(error.description == "\(prefix).data-00000-of-00001: tensor \"rnn/lstm_cell/kernel\": bytes [369840, 402608) extend past the end of the file (402508 bytes)")
        expectOneLine(error)
    }

    @Test func flippedByteInATensorFailsItsChecksum() throws {
        let dir = try TemporaryDirectory("tfcheckpoint")
        defer { dir.remove() }
        let original = try TensorFlowCheckpoint(prefix: try PublishedFIVOCheckpoint.jsb.prefix())
        let kernel = try #require(original.entry(named: "lstm_cell/kernel"))
        let prefix = try copy(.jsb, to: dir, data: { bytes in
            var b = bytes
            b[kernel.offset + 1234] ^= 0x10
            return b
        })
        let checkpoint = try TensorFlowCheckpoint(prefix: prefix)
        let error = try #require(throws: TensorFlowCheckpointError.self) { _ = try checkpoint.floatValues("lstm_cell/kernel") }
        #expect(error.kind == .checksumMismatch)
        #expect(error.description.hasPrefix("\(prefix).data-00000-of-00001: tensor \"lstm_cell/kernel\": checksum mismatch (stored 0x"))
        #expect(error.description.contains(", computed 0x"))
        expectOneLine(error)
        #expect(try checkpoint.floatValues("lstm_cell/bias").count == 128)
    }

    @Test func flippedByteInTheIndexFailsTheBlockChecksum() throws {
        let dir = try TemporaryDirectory("tfcheckpoint")
        defer { dir.remove() }
        for position in [0, 100, 2279, 2280, 2290, 2300] {  // data block, its trailer, metaindex, index block
            let prefix = try copy(.jsb, to: dir, index: { bytes in
                var b = bytes
                b[position] ^= 0x01
                return b
            })
            let error = try #require(throws: TensorFlowCheckpointError.self) { _ = try TensorFlowCheckpoint(prefix: prefix) }
            #expect(error.kind == .checksumMismatch, "byte \(position): \(error)")
            #expect(error.description.contains(": checksum mismatch (stored 0x"), "\(error)")
            expectOneLine(error, naming: prefix + ".index")
        }
        let prefix = try copy(.jsb, to: dir, index: { bytes in
            var b = bytes
            b[100] ^= 0x01
            return b
        })
        let error = try #require(throws: TensorFlowCheckpointError.self) { _ = try TensorFlowCheckpoint(prefix: prefix) }
        #expect(error.description.hasPrefix("\(prefix).index: block at offset 0: checksum mismatch"))
    }

    @Test func truncatedEmptyAndMissingIndexAreRefused() throws {
        let dir = try TemporaryDirectory("tfcheckpoint")
        defer { dir.remove() }
        let short = try copy(.jsb, to: dir, index: { Array($0.prefix(20)) })
        let shortError = try #require(throws: TensorFlowCheckpointError.self) { _ = try TensorFlowCheckpoint(prefix: short) }
        #expect(shortError.kind == .truncated)
        #expect(shortError.description == "\(short).index: truncated (file is 20 bytes, a table footer needs 48)")

        let half = try copy(.jsb, to: dir, index: { Array($0.prefix(1200)) })
        let halfError = try #require(throws: TensorFlowCheckpointError.self) { _ = try TensorFlowCheckpoint(prefix: half) }
        #expect(halfError.description.hasPrefix("\(half).index: bad table magic 0x"))

        let empty = try copy(.jsb, to: dir, index: { _ in [] })
        let emptyError = try #require(throws: TensorFlowCheckpointError.self) { _ = try TensorFlowCheckpoint(prefix: empty) }
        #expect(emptyError.kind == .truncated)
        #expect(emptyError.description == "\(empty).index: empty file (a table footer needs 48 bytes)")

        let missing = dir.file("absent/model.ckpt-1")
        let missingError = try #require(throws: TensorFlowCheckpointError.self) { _ = try TensorFlowCheckpoint(prefix: missing) }
        #expect(missingError.kind == .unreadable)
        #expect(missingError.description == "\(missing).index: missing index file")
        for e in [shortError, halfError, emptyError, missingError] { expectOneLine(e) }
    }

    @Test func missingDataShardIsRefused() throws {
        let dir = try TemporaryDirectory("tfcheckpoint")
        defer { dir.remove() }
        let prefix = try copy(.jsb, to: dir, data: { _ in nil })
        let checkpoint = try TensorFlowCheckpoint(prefix: prefix)  // the index alone lists the tensors
        #expect(checkpoint.entries.count == 71)
        let error = try #require(throws: TensorFlowCheckpointError.self) { _ = try checkpoint.int64Values("global_step") }
        #expect(error.kind == .missingShard)
        #expect(error.description == "\(prefix).data-00000-of-00001: tensor \"global_step\": missing data shard (shard 0 of 1)")
        expectOneLine(error)
    }

    /// Random mutations of the real index: each either reads (and then every tensor whose entry
    /// changed reads or throws) or throws ``TensorFlowCheckpointError`` — never traps, never
    /// another error. Three regimes: anywhere in the file (mostly caught by checksums/magic);
    /// inside the data block with its trailer CRC recomputed, so the block and protobuf decoders
    /// see the hostile bytes; and inside the footer's handles.
    @Test func randomIndexMutationsReadOrThrowNeverCrash() throws {
        let prefix = try PublishedFIVOCheckpoint.jsb.prefix()
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: prefix + ".index")))
        let reference = try TensorFlowCheckpoint(prefix: prefix)
        let known = Set(reference.entries)
        let dataBlock = 0 ..< 2280  // see jsbIndexIsOneDataBlockAnEmptyMetaindexAndAOneEntryIndex
        var g = SplitMix64(seed: 0x7F_C0_DE)
        var outcomes = [0, 0, 0]  // read, refused at open, refused on a tensor read
        for trial in 0..<900 {
            var bytes = original
            let regime = trial % 3
            let edits = 1 + Int(g.next() % 4)
            for _ in 0..<edits where !bytes.isEmpty {
                let range: Range<Int>
                switch regime {
                case 0: range = 0 ..< bytes.count
                case 1: range = dataBlock
                default: range = bytes.count - 48 ..< bytes.count - 8
                }
                let position = range.lowerBound + Int(g.next() % UInt64(range.count))
                switch g.next() % 4 {
                case 0: bytes[position] ^= UInt8(1 << (g.next() % 8))
                case 1: bytes[position] = UInt8(truncatingIfNeeded: g.next())
                case 2: bytes[position] = [0x00, 0x7F, 0x80, 0xFF][Int(g.next() % 4)]
                default:
                    if regime == 0 { bytes = Array(bytes.prefix(position)) }  // truncation
                    else { bytes[position] &+= 1 }
                }
            }
            if regime == 1 {
                bytes.replaceSubrange(2280 ..< 2285, with: BundleFixture.trailer(Array(bytes[dataBlock])))
            }
            do {
                let checkpoint = try TensorFlowCheckpoint(prefix: prefix, indexBytes: bytes)
                do {
                    _ = try readAll(checkpoint, checkpoint.entries.filter { !known.contains($0) })
                    outcomes[0] += 1
                } catch let error as TensorFlowCheckpointError {
                    expectOneLine(error)
                    outcomes[2] += 1
                }
            } catch let error as TensorFlowCheckpointError {
                expectOneLine(error)
                outcomes[1] += 1
            } catch {
                Issue.record("trial \(trial): unexpected error \(type(of: error)): \(error)")
            }
        }
        // Each outcome occurred (the fuzzing is not vacuous: some mutations get past the checks).
        #expect(outcomes.allSatisfy { $0 > 0 }, "\(outcomes)")
    }
}

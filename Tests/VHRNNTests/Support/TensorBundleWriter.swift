import Foundation
@testable import VHRNN

/// Writes a TF1 tensor-bundle checkpoint (`PREFIX.index` + one data shard) in the format
/// ``TensorFlowCheckpoint`` documents, so tests can build checkpoints with a variable missing,
/// added, re-shaped or re-typed. One data block, a restart at every entry, no compression.
enum TensorBundleWriter {
    struct Tensor {
        var name: String
        /// `DataType` enum number (1 float, 2 double, 3 int32, 9 int64).
        var dtype: Int32
        var shape: [Int]
        var bytes: [UInt8]

        static func float(_ name: String, shape: [Int], _ values: [Float]) -> Tensor {
            Tensor(name: name, dtype: 1, shape: shape, bytes: values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init) })
        }
    }

    /// Every tensor of `checkpoint`, with its stored bytes.
    static func tensors(of checkpoint: TensorFlowCheckpoint) throws -> [Tensor] {
        try checkpoint.entries.map { e in
            Tensor(name: e.name, dtype: e.dtype.rawValue, shape: e.shape, bytes: try checkpoint.verifiedBytes(e))
        }
    }

    static func varint(_ value: UInt64) -> [UInt8] {
        var v = value, out: [UInt8] = []
        while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        out.append(UInt8(v))
        return out
    }

    static func fixed32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }

    static func field(_ number: Int, varint value: UInt64) -> [UInt8] { varint(UInt64(number << 3)) + varint(value) }
    static func field(_ number: Int, bytes: [UInt8]) -> [UInt8] {
        varint(UInt64(number << 3 | 2)) + varint(UInt64(bytes.count)) + bytes
    }

    /// Block contents (entries, restart array, count) followed by its trailer.
    static func block(_ entries: [(key: [UInt8], value: [UInt8])]) -> [UInt8] {
        var contents: [UInt8] = [], restarts: [UInt32] = []
        for e in entries {
            restarts.append(UInt32(contents.count))
            contents += varint(0) + varint(UInt64(e.key.count)) + varint(UInt64(e.value.count)) + e.key + e.value
        }
        if restarts.isEmpty { restarts = [0] }
        for r in restarts { contents += fixed32(r) }
        contents += fixed32(UInt32(restarts.count))
        let withType = contents + [0]
        return withType + fixed32(CRC32C.mask(CRC32C.checksum(withType)))
    }

    static func write(_ tensors: [Tensor], prefix: String) throws {
        let sorted = tensors.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
        var data: [UInt8] = []
        var entries: [(key: [UInt8], value: [UInt8])] = [([], field(1, varint: 1) + field(3, bytes: field(1, varint: 1)))]
        for t in sorted {
            let shape = field(2, bytes: t.shape.flatMap { field(2, bytes: field(1, varint: UInt64($0))) })
            let value = field(1, varint: UInt64(t.dtype)) + shape + field(4, varint: UInt64(data.count))
                + field(5, varint: UInt64(t.bytes.count)) + varint(6 << 3 | 5) + fixed32(CRC32C.mask(CRC32C.checksum(t.bytes)))
            entries.append((Array(t.name.utf8), value))
            data += t.bytes
        }
        var file: [UInt8] = []
        let dataBlock = block(entries)
        let dataHandle = varint(0) + varint(UInt64(dataBlock.count - 5))
        file += dataBlock
        let metaOffset = file.count
        let meta = block([])
        file += meta
        let indexOffset = file.count
        let index = block([(entries.last!.key, dataHandle)])
        file += index
        var footer = varint(UInt64(metaOffset)) + varint(UInt64(meta.count - 5))
            + varint(UInt64(indexOffset)) + varint(UInt64(index.count - 5))
        footer += [UInt8](repeating: 0, count: 40 - footer.count)
        footer += withUnsafeBytes(of: UInt64(0xDB47_7524_8B80_FB57).littleEndian, Array.init)
        file += footer
        try Data(file).write(to: URL(fileURLWithPath: prefix + ".index"))
        try Data(data).write(to: URL(fileURLWithPath: prefix + ".data-00000-of-00001"))
    }
}

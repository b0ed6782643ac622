/// CRC-32C (Castagnoli): the checksum LevelDB tables and TensorFlow tensor bundles store.
///
/// Parameters: reflected polynomial 0x82F63B78 (0x1EDC6F41 unreflected), initial value
/// 0xFFFFFFFF, final XOR 0xFFFFFFFF, input and output reflected; the check value of the ASCII
/// bytes "123456789" is 0xE3069283. Computed by slicing-by-8: eight 256-entry tables, built
/// once, consume eight bytes per step; the tail goes through the first table byte by byte.
///
/// LevelDB and TensorFlow never store a raw CRC next to the data it covers; they store
/// ``mask(_:)``ed values (a CRC computed over bytes that themselves contain an embedded CRC is
/// otherwise prone to trivial collisions), so every comparison with a stored value masks first.
enum CRC32C {
    /// The reflected Castagnoli polynomial.
    static let polynomial: UInt32 = 0x82F6_3B78

    /// The constant LevelDB's `crc32c::Mask` adds after rotating.
    static let maskDelta: UInt32 = 0xA282_EAD8

    /// Slicing-by-8 tables, flattened: entry `t * 256 + b` is the CRC contribution of byte `b`
    /// followed by `t` zero bytes. Table 0 is the classic byte-at-a-time table.
    static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for b in 0..<256 {
            var c = UInt32(b)
            for _ in 0..<8 { c = c & 1 == 1 ? (c >> 1) ^ polynomial : c >> 1 }
            t[b] = c
        }
        for k in 1..<8 {
            for b in 0..<256 {
                let previous = t[(k - 1) * 256 + b]
                t[k * 256 + b] = (previous >> 8) ^ t[Int(previous & 0xFF)]
            }
        }
        return t
    }()

    /// The CRC-32C of `bytes`, continuing from `crc` (the CRC of the bytes before them; 0 to
    /// start). `update(update(0, a), b) == checksum(a + b)`.
    static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var c = ~crc
        let n = bytes.count
        tables.withUnsafeBufferPointer { t in
            var i = 0
            while n - i >= 8 {
                let lo = c ^ (UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8
                    | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
                let hi = UInt32(bytes[i + 4]) | UInt32(bytes[i + 5]) << 8
                    | UInt32(bytes[i + 6]) << 16 | UInt32(bytes[i + 7]) << 24
                c = t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int((lo >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((lo >> 16) & 0xFF)] ^ t[4 * 256 + Int(lo >> 24)]
                    ^ t[3 * 256 + Int(hi & 0xFF)] ^ t[2 * 256 + Int((hi >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((hi >> 16) & 0xFF)] ^ t[Int(hi >> 24)]
                i += 8
            }
            while i < n {
                c = t[Int((c ^ UInt32(bytes[i])) & 0xFF)] ^ (c >> 8)
                i += 1
            }
        }
        return ~c
    }

    /// The CRC-32C of a byte collection (an array, a slice, `Data`).
    static func checksum<Bytes: Sequence>(_ bytes: Bytes, continuing crc: UInt32 = 0) -> UInt32
    where Bytes.Element == UInt8 {
        if let result = bytes.withContiguousStorageIfAvailable({ update(crc, UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return Array(bytes).withUnsafeBytes { update(crc, $0) }
    }

    /// LevelDB/TensorFlow's stored form of a CRC: rotate right by 15 bits, then add a constant
    /// (wrapping). `((crc >> 15) | (crc << 17)) &+ 0xa282ead8`.
    static func mask(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ maskDelta
    }

    /// The inverse of ``mask(_:)``: the raw CRC a stored masked value stands for.
    static func unmask(_ masked: UInt32) -> UInt32 {
        let rotated = masked &- maskDelta
        return (rotated >> 17) | (rotated << 15)
    }
}

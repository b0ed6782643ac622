/// The subset of `numpy.dtype` a pickled numpy scalar may use: fixed-size integers and floats.
///
/// A numpy scalar pickles as `scalar(dtype, raw_bytes)`, where the dtype itself pickles as
/// `dtype('i8', False, True)` followed by BUILD with a state tuple whose second element is the
/// byte order. This type holds just enough of that to decode the raw bytes.
public struct NumpyDType: Hashable, Sendable {
    /// The value class, as numpy's type character.
    public enum Kind: String, Sendable {
        /// `i`: two's-complement signed integers.
        case signedInteger = "i"
        /// `u`: unsigned integers (decoded only if they fit in `Int64`).
        case unsignedInteger = "u"
        /// `f`: IEEE floats (4 or 8 bytes).
        case float = "f"
    }

    /// The order of a value's bytes, as numpy's order character.
    public enum ByteOrder: String, Sendable {
        /// `<`: least significant byte first.
        case little = "<"
        /// `>`: most significant byte first.
        case big = ">"
    }

    /// Integer, unsigned integer or float.
    public var kind: Kind
    /// Bytes per value: 1, 2, 4 or 8 for integers; 4 or 8 for floats.
    public var itemSize: Int
    /// The byte order of the raw bytes (resolved: `=` and `|` become the host's order).
    public var byteOrder: ByteOrder

    /// A dtype from its parts; sizes numpy does not use are accepted here but never decode.
    public init(kind: Kind, itemSize: Int, byteOrder: ByteOrder) {
        self.kind = kind
        self.itemSize = itemSize
        self.byteOrder = byteOrder
    }

    /// Parses a dtype descriptor such as `i8`, `<i8`, `>u2`, `|u1`, `=f8`; nil if unsupported.
    /// No order character, `=` (native) and `|` (not applicable) all mean the host's order.
    public init?(descriptor: String) {
        var text = Substring(descriptor)
        var order = NumpyDType.hostByteOrder
        if let first = text.first, let parsed = NumpyDType.byteOrder(fromCode: first) {
            order = parsed
            text = text.dropFirst()
        }
        guard let kindChar = text.first, let kind = Kind(rawValue: String(kindChar)),
              let size = Int(text.dropFirst()) else { return nil }
        switch kind {
        case .signedInteger, .unsignedInteger: guard [1, 2, 4, 8].contains(size) else { return nil }
        case .float: guard size == 4 || size == 8 else { return nil }
        }
        self.init(kind: kind, itemSize: size, byteOrder: order)
    }

    /// The order a `=` or order-less descriptor means on this machine.
    static var hostByteOrder: ByteOrder { 1.littleEndian == 1 ? .little : .big }

    /// Maps a numpy byte-order character to an order; `=` and `|` give the host's order.
    static func byteOrder(fromCode code: Character) -> ByteOrder? {
        switch code {
        case "<": return .little
        case ">": return .big
        case "=", "|": return hostByteOrder
        default: return nil
        }
    }

    /// Decodes one value from exactly `itemSize` raw bytes.
    ///
    /// - Parameter raw: the scalar's bytes as pickled.
    /// - Returns: `.int` for integers, `.float` for floats (float32 widened exactly); nil if the
    ///   count is wrong, the size is not one numpy uses, or an unsigned value does not fit in
    ///   Int64.
    public func decode(_ raw: [UInt8]) -> PickleValue? {
        // The memberwise initializer accepts any size; only the sizes numpy uses decode.
        guard raw.count == itemSize, (1...8).contains(itemSize) else { return nil }
        if kind == .float, itemSize != 4, itemSize != 8 { return nil }
        var bits: UInt64 = 0
        switch byteOrder {
        case .little: for byte in raw.reversed() { bits = bits << 8 | UInt64(byte) }
        case .big: for byte in raw { bits = bits << 8 | UInt64(byte) }
        }
        switch kind {
        case .unsignedInteger:
            guard let value = Int64(exactly: bits) else { return nil }
            return .int(value)
        case .signedInteger:
            // Sign-extend from itemSize bytes by shifting the sign bit to the top and back.
            let unused = UInt64(64 - 8 * itemSize)
            return .int(Int64(bitPattern: bits << unused) >> unused)
        case .float:
            if itemSize == 4 { return .float(Double(Float(bitPattern: UInt32(truncatingIfNeeded: bits)))) }
            return .float(Double(bitPattern: bits))
        }
    }

    /// The descriptor numpy would print, e.g. `<i8`.
    public var descriptor: String { "\(byteOrder.rawValue)\(kind.rawValue)\(itemSize)" }
}

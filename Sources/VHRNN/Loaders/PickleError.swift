/// Why `SafePickleReader` refused a stream: the opcode it was reading, where, and what was wrong.
public struct PickleError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The opcode's name (`REDUCE`, `BINUNICODE`, ...), or `unknown` for a byte that is no opcode.
    public var opcode: String
    /// The opcode byte, when one was read.
    public var opcodeByte: UInt8?
    /// Byte offset of the opcode in the stream (for trailing data after STOP: of the first extra
    /// byte; for a stream that ends without STOP: its length).
    public var offset: Int
    /// What was wrong (may quote a global's module and name; cut short in ``description``).
    public var message: String

    /// An error from its parts.
    public init(opcode: String, opcodeByte: UInt8?, offset: Int, message: String) {
        self.opcode = opcode
        self.opcodeByte = opcodeByte
        self.offset = offset
        self.message = message
    }

    /// One line: `pickle byte OFFSET: OPCODE (0xNN): message`.
    public var description: String {
        var text = "pickle byte \(offset): \(opcode)"
        if let opcodeByte {
            let hex = String(opcodeByte, radix: 16, uppercase: true)
            text += " (0x\(hex.count < 2 ? "0" + hex : hex))"
        }
        // The message may quote names from the stream (a global's module and name).
        return text + ": " + DataFileError.excerpt(message, limit: 500)
    }
}

/// The element types of the safetensors format, spelled as in the header (`"F32"`, `"I64"`, …).
///
/// Only types with a whole number of bytes per element are supported (the sub-byte `F4`/`F6`
/// formats of newer writers are rejected as unsupported when read).
public enum SafeTensorsDType: String, Sendable, CaseIterable, Codable {
    /// `BOOL`: one byte per element.
    case bool = "BOOL"
    /// `U8`: unsigned 8-bit integers.
    case u8 = "U8"
    /// `I8`: signed 8-bit integers.
    case i8 = "I8"
    /// `F8_E5M2`: 8-bit floats, 5 exponent and 2 mantissa bits.
    case f8e5m2 = "F8_E5M2"
    /// `F8_E4M3`: 8-bit floats, 4 exponent and 3 mantissa bits.
    case f8e4m3 = "F8_E4M3"
    /// `F8_E8M0`: 8-bit exponent-only scale factors.
    case f8e8m0 = "F8_E8M0"
    /// `I16`: signed 16-bit integers.
    case i16 = "I16"
    /// `U16`: unsigned 16-bit integers.
    case u16 = "U16"
    /// `F16`: IEEE half precision.
    case f16 = "F16"
    /// `BF16`: bfloat16 (float32's exponent, 7 mantissa bits).
    case bf16 = "BF16"
    /// `I32`: signed 32-bit integers.
    case i32 = "I32"
    /// `U32`: unsigned 32-bit integers.
    case u32 = "U32"
    /// `F32`: IEEE single precision; what `Float` checkpoints store.
    case f32 = "F32"
    /// `I64`: signed 64-bit integers.
    case i64 = "I64"
    /// `U64`: unsigned 64-bit integers.
    case u64 = "U64"
    /// `F64`: IEEE double precision; what `Double` checkpoints store.
    case f64 = "F64"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .bool, .u8, .i8, .f8e5m2, .f8e4m3, .f8e8m0: return 1
        case .i16, .u16, .f16, .bf16: return 2
        case .i32, .u32, .f32: return 4
        case .i64, .u64, .f64: return 8
        }
    }

    /// The dtype that stores a ``KernelPrecision``'s scalars.
    public init(_ precision: KernelPrecision) {
        self = precision == .float32 ? .f32 : .f64
    }

    /// The kernel precision this dtype holds, if it is `F32` or `F64`.
    public var kernelPrecision: KernelPrecision? {
        switch self {
        case .f32: return .float32
        case .f64: return .float64
        default: return nil
        }
    }
}

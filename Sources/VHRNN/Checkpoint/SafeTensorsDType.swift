/// The element types of the safetensors format, spelled as in the header (`"F32"`, `"I64"`, …).
///
/// Only types with a whole number of bytes per element are supported (the sub-byte `F4`/`F6`
/// formats of newer writers are rejected as unsupported when read).
public enum SafeTensorsDType: String, Sendable, CaseIterable, Codable {
    case bool = "BOOL"
    case u8 = "U8"
    case i8 = "I8"
    case f8e5m2 = "F8_E5M2"
    case f8e4m3 = "F8_E4M3"
    case f8e8m0 = "F8_E8M0"
    case i16 = "I16"
    case u16 = "U16"
    case f16 = "F16"
    case bf16 = "BF16"
    case i32 = "I32"
    case u32 = "U32"
    case f32 = "F32"
    case i64 = "I64"
    case u64 = "U64"
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

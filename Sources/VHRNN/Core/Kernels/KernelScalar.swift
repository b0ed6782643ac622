/// The two precisions the kernels exist in: `Float` for speed, `Double` for verification and
/// for data at extreme scales. Everything numeric in the library is generic over this.
///
/// Only `Float` and `Double` conform; the library's C bridge provides every kernel for both
/// (`vh_*_f32` and `vh_*_f64`, see <doc:KernelCore>).
public protocol KernelScalar: BinaryFloatingPoint, Sendable, Codable
where Self.RawSignificand: FixedWidthInteger {
    /// Which C kernel family (`_f32` or `_f64`) serves this type.
    static var kernelPrecision: KernelPrecision { get }
}

/// The precision of a kernel family, as recorded in checkpoints (`config.json`'s
/// `precision`, the safetensors dtype).
public enum KernelPrecision: String, Sendable, Codable {
    /// `float32`: `Float`, the `_f32` kernels, safetensors `F32`; `float64`: `Double`, the `_f64`
    /// kernels, safetensors `F64`.
    case float32, float64
}

extension Float: KernelScalar {
    /// `.float32`: `Float` runs the `_f32` kernels.
    public static var kernelPrecision: KernelPrecision { .float32 }
}

extension Double: KernelScalar {
    /// `.float64`: `Double` runs the `_f64` kernels.
    public static var kernelPrecision: KernelPrecision { .float64 }
}

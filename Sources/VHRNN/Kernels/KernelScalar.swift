/// The two precisions the kernels exist in: `Float` for speed, `Double` for verification and
/// for data at extreme scales. Everything numeric in the library is generic over this.
public protocol KernelScalar: BinaryFloatingPoint, Sendable, Codable
where Self.RawSignificand: FixedWidthInteger {
    /// Which C kernel family (`_f32` or `_f64`) serves this type.
    static var kernelPrecision: KernelPrecision { get }
}

public enum KernelPrecision: String, Sendable, Codable {
    case float32, float64
}

extension Float: KernelScalar {
    public static var kernelPrecision: KernelPrecision { .float32 }
}

extension Double: KernelScalar {
    public static var kernelPrecision: KernelPrecision { .float64 }
}

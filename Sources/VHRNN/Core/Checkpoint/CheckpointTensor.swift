import Foundation

/// The scalars of a checkpoint tensor in the precision they were stored in.
public enum CheckpointValues: Sendable, Equatable {
    /// Stored as `F32`.
    case float32([Float])
    /// Stored as `F64`.
    case float64([Double])

    /// The stored precision: `.float32` or `.float64`.
    public var precision: KernelPrecision {
        switch self {
        case .float32: return .float32
        case .float64: return .float64
        }
    }

    /// The index of the first NaN or infinity, or nil.
    public var firstNonFiniteIndex: Int? {
        switch self {
        case .float32(let v): return v.firstIndex { !$0.isFinite }
        case .float64(let v): return v.firstIndex { !$0.isFinite }
        }
    }

    func describe(_ index: Int) -> String {
        switch self {
        case .float32(let v): return "\(v[index])"
        case .float64(let v): return "\(v[index])"
        }
    }

    /// Number of scalars.
    public var count: Int {
        switch self {
        case .float32(let v): return v.count
        case .float64(let v): return v.count
        }
    }

    /// The values as `S`: bit-exact when the precision matches, otherwise converted (Float →
    /// Double is exact; Double → Float rounds to nearest).
    ///
    /// - Complexity: O(count).
    public func converted<S: KernelScalar>(to _: S.Type = S.self) -> [S] {
        switch self {
        case .float32(let v): return (v as? [S]) ?? v.map { S($0) }
        case .float64(let v): return (v as? [S]) ?? v.map { S($0) }
        }
    }

    /// Decodes little-endian `F32`/`F64` bytes; nil for any other dtype.
    init?(dtype: SafeTensorsDType, bytes: Data) {
        switch dtype {
        case .f32:
            let n = bytes.count / 4
            self = .float32(bytes.withUnsafeBytes { raw in
                (0..<n).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
            })
        case .f64:
            let n = bytes.count / 8
            self = .float64(bytes.withUnsafeBytes { raw in
                (0..<n).map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self))) }
            })
        default:
            return nil
        }
    }

    /// Little-endian bytes of `count` scalars at `pointer`, in `S`'s own precision.
    static func littleEndianBytes<S: KernelScalar>(_ pointer: UnsafePointer<S>, count: Int) -> Data {
        #if _endian(little)
        return Data(bytes: pointer, count: count * MemoryLayout<S>.size)
        #else
        var out = Data(capacity: count * MemoryLayout<S>.size)
        switch S.kernelPrecision {
        case .float32:
            pointer.withMemoryRebound(to: Float.self, capacity: count) { p in
                for i in 0..<count { withUnsafeBytes(of: p[i].bitPattern.littleEndian) { out.append(contentsOf: $0) } }
            }
        case .float64:
            pointer.withMemoryRebound(to: Double.self, capacity: count) { p in
                for i in 0..<count { withUnsafeBytes(of: p[i].bitPattern.littleEndian) { out.append(contentsOf: $0) } }
            }
        }
        return out
        #endif
    }
}

/// One named tensor read from a checkpoint: its ``ParameterLayout`` name, shape and values.
public struct CheckpointTensor: Sendable, Equatable {
    /// The tensor's name in the file, e.g. `emission.layer1.bias` (a ``ParameterLayout`` name).
    public var name: String
    /// Row-major shape; weights are `(out, in)`.
    public var shape: [Int]
    /// The scalars, in the precision they were stored in.
    public var values: CheckpointValues

    /// A tensor from its parts (the product of `shape` is expected to equal `values.count`;
    /// not checked here).
    public init(name: String, shape: [Int], values: CheckpointValues) {
        self.name = name
        self.shape = shape
        self.values = values
    }
}

/// A dense, row-major array of scalars with a shape, owning its memory.
///
/// Allocated once and freed in `deinit`; kernels write into tensors the caller already owns,
/// so nothing is allocated per call. `Tensor` is the currency of the public kernel API
/// (``Kernels``); the model's internals use arenas instead (see `ParameterStore`).
public final class Tensor<Scalar: KernelScalar> {
    /// Dimensions, outermost first: `[rows, columns]` for a matrix, `[count]` for a vector.
    public let shape: [Int]
    /// Number of scalars (product of `shape`).
    public let count: Int
    let storage: UnsafeMutablePointer<Scalar>

    /// A zero-filled tensor of `shape` (every dimension non-negative; a precondition).
    ///
    /// - Parameter shape: dimensions, outermost first.
    /// - Complexity: O(count): allocates and zeroes the storage once.
    public init(shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "tensor dimensions must be non-negative")
        self.shape = shape
        count = shape.reduce(1, *)
        storage = .allocate(capacity: max(count, 1))
        storage.initialize(repeating: 0, count: max(count, 1))
    }

    /// A tensor holding `values` (row-major).
    ///
    /// - Parameters:
    ///   - shape: dimensions, outermost first.
    ///   - values: exactly the product of `shape` values, row-major.
    /// - Throws: ``ShapeError`` if `values.count` is not the product of `shape`.
    public convenience init(shape: [Int], values: [Scalar]) throws {
        let expected = shape.reduce(1, *)
        guard values.count == expected else {
            throw ShapeError(kernel: "Tensor.init", argument: "values",
                             expected: "\(expected) values for shape \(shape)",
                             got: "\(values.count)")
        }
        self.init(shape: shape)
        values.withUnsafeBufferPointer { storage.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { storage.deallocate() }

    /// The values, row-major (a copy).
    public var values: [Scalar] { Array(UnsafeBufferPointer(start: storage, count: count)) }

    /// Flat (row-major) element access; `index` must be in `0..<count` (a precondition).
    public subscript(index: Int) -> Scalar {
        get {
            precondition(index >= 0 && index < count, "index \(index) out of range 0..<\(count)")
            return storage[index]
        }
        set {
            precondition(index >= 0 && index < count, "index \(index) out of range 0..<\(count)")
            storage[index] = newValue
        }
    }

    /// Sets every element to `value`.
    ///
    /// - Complexity: O(count).
    public func fill(_ value: Scalar) { storage.update(repeating: value, count: count) }

    /// A copy in another precision (each element converted with rounding to nearest).
    ///
    /// - Parameter to: the scalar type of the copy, e.g. `Double.self`.
    /// - Returns: a new tensor of the same shape.
    /// - Complexity: O(count).
    public func converted<Other: KernelScalar>(to: Other.Type = Other.self) -> Tensor<Other> {
        let other = Tensor<Other>(shape: shape)
        for i in 0..<count { other.storage[i] = Other(storage[i]) }
        return other
    }

    /// A copy with the same shape and values (a new allocation; the tensors share nothing).
    ///
    /// - Complexity: O(count).
    public func copy() -> Tensor<Scalar> {
        let other = Tensor(shape: shape)
        other.storage.update(from: storage, count: count)
        return other
    }

    var pointer: UnsafeMutablePointer<Scalar> { storage }
    var constPointer: UnsafePointer<Scalar> { UnsafePointer(storage) }
}

extension Tensor: CustomStringConvertible {
    /// The scalar type and shape, e.g. `Tensor<Float>[4, 16]` (not the values).
    public var description: String { "Tensor<\(Scalar.self)>\(shape)" }
}

/// A tensor passed to a kernel (or to ``Tensor/init(shape:values:)``) has the wrong shape;
/// names the kernel and the argument.
public struct ShapeError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The kernel that refused the call, e.g. `"linearForward"`.
    public var kernel: String
    /// The argument label of the offending tensor, e.g. `"bias"`.
    public var argument: String
    /// The shape the other arguments imply, e.g. `"[16]"` or `"a matrix (rows, columns)"`.
    public var expected: String
    /// The shape (or count) that was passed.
    public var got: String

    /// One line: `kernel: argument 'name' has shape got, expected expected`.
    public var description: String {
        "\(kernel): argument '\(argument)' has shape \(got), expected \(expected)"
    }
}

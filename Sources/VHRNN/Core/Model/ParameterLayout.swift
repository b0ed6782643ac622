/// How a parameter tensor starts out.
public enum ParameterInitializer: Codable, Sendable, Equatable {
    /// Uniform in [-limit, limit] (Glorot: limit = sqrt(6 / (fanIn + fanOut))).
    case uniform(limit: Double)
    /// Every element 0 (biases, and the hyper heads' weights, so that an untrained VHRNN
    /// computes the VRNN).
    case zeros
    /// Every element set to a value (hyper heads start at scale 1).
    case constant(Double)
    /// Per-element values (e.g. the Bernoulli output bias from the training-frame mean).
    case values([Double])

    static func glorot(fanIn: Int, fanOut: Int) -> ParameterInitializer {
        .uniform(limit: (6.0 / Double(fanIn + fanOut)).squareRoot())
    }
}

/// One named tensor inside the flat parameter arena.
public struct ParameterTensor: Codable, Sendable, Equatable {
    /// Dotted name, e.g. `prior.layer0.weight`; the checkpoint's tensor names.
    public var name: String
    /// Row-major shape; weights are `(out, in)`.
    public var shape: [Int]
    /// Offset of the first element in the arena.
    public var offset: Int
    /// How ``ParameterStore/init(layout:generator:)`` fills the tensor.
    public var initializer: ParameterInitializer
    /// Number of scalars: the product of ``shape``.
    public var count: Int { shape.reduce(1, *) }
}

/// The single source of truth for where every parameter lives in the flat arenas (values,
/// gradients, Adam moments): tensors are appended in construction order and addressed by offset.
public struct ParameterLayout: Codable, Sendable, Equatable {
    /// Every tensor in arena order: phi_x, phi_z, prior, proposal, emission, rnn, then (VHRNN)
    /// theta, theta_head, omega. Contiguous: each starts where the previous one ends. The
    /// order and names are the checkpoint format.
    public private(set) var tensors: [ParameterTensor] = []
    /// Total number of scalars.
    public private(set) var count = 0

    /// Appends a tensor and returns its offset.
    mutating func add(_ name: String, shape: [Int], initializer: ParameterInitializer) -> Int {
        precondition(!tensors.contains { $0.name == name }, "duplicate parameter name \(name)")
        let tensor = ParameterTensor(name: name, shape: shape, offset: count, initializer: initializer)
        tensors.append(tensor)
        count += tensor.count
        return tensor.offset
    }

    /// The tensor with this name, if any.
    public func tensor(named name: String) -> ParameterTensor? { tensors.first { $0.name == name } }

    /// Replaces a tensor's initializer (e.g. the output bias once the data mean is known).
    mutating func setInitializer(_ name: String, _ initializer: ParameterInitializer) {
        guard let i = tensors.firstIndex(where: { $0.name == name }) else {
            preconditionFailure("no parameter named \(name)")
        }
        tensors[i].initializer = initializer
    }
}

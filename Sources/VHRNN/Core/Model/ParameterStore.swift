/// The model's parameters and their training state, as four flat arenas laid out by one
/// ``ParameterLayout``: values, gradients, and Adam's first and second moments.
///
/// Zeroing the gradients is one fill, an optimiser step one C loop, a checkpoint one write per
/// arena. Allocated once; freed in `deinit`.
public final class ParameterStore<Scalar: KernelScalar> {
    /// Where each named tensor lives in the four arenas (the same offsets in each).
    public let layout: ParameterLayout
    let values: UnsafeMutablePointer<Scalar>
    let gradients: UnsafeMutablePointer<Scalar>
    let firstMoment: UnsafeMutablePointer<Scalar>
    let secondMoment: UnsafeMutablePointer<Scalar>
    /// Number of optimiser steps taken (Adam's bias correction uses it).
    public internal(set) var step = 0

    /// Parameters drawn from their initializers with `generator`.
    public init(layout: ParameterLayout, generator: inout some RandomNumberGenerator) {
        self.layout = layout
        let n = max(layout.count, 1)
        values = .allocate(capacity: n)
        gradients = .allocate(capacity: n)
        firstMoment = .allocate(capacity: n)
        secondMoment = .allocate(capacity: n)
        for arena in [values, gradients, firstMoment, secondMoment] { arena.initialize(repeating: 0, count: n) }
        for tensor in layout.tensors {
            let base = values + tensor.offset
            switch tensor.initializer {
            case .uniform(let limit):
                for i in 0..<tensor.count { base[i] = Scalar(limit * (2 * generator.nextUnitDouble() - 1)) }
            case .zeros:
                break
            case .constant(let v):
                base.update(repeating: Scalar(v), count: tensor.count)
            case .values(let vs):
                precondition(vs.count == tensor.count, "initial values for \(tensor.name) have the wrong count")
                for i in 0..<tensor.count { base[i] = Scalar(vs[i]) }
            }
        }
    }

    deinit {
        values.deallocate()
        gradients.deallocate()
        firstMoment.deallocate()
        secondMoment.deallocate()
    }

    /// Scalars per arena: the layout's total, ``ParameterLayout/count``.
    public var count: Int { layout.count }

    /// All parameter values, in layout order (a copy).
    public var parameterValues: [Scalar] {
        get { Array(UnsafeBufferPointer(start: values, count: count)) }
        set {
            precondition(newValue.count == count, "expected \(count) parameter values")
            newValue.withUnsafeBufferPointer { values.update(from: $0.baseAddress!, count: count) }
        }
    }

    /// All gradients, in layout order (a copy).
    public var gradientValues: [Scalar] { Array(UnsafeBufferPointer(start: gradients, count: count)) }

    /// The values of one named tensor (a copy).
    public func values(of name: String) -> [Scalar]? {
        guard let t = layout.tensor(named: name) else { return nil }
        return Array(UnsafeBufferPointer(start: values + t.offset, count: t.count))
    }

    func zeroGradients() { gradients.zero(count: count) }

    /// Global L2 norm of the gradient arena.
    func gradientNorm() -> Double { Scalar.sumSquares(UnsafePointer(gradients), count: count).squareRoot() }

    /// Scales the gradients so their global norm is at most `maxNorm`; returns the norm before.
    @discardableResult
    func clipGradients(maxNorm: Double) -> Double {
        let norm = gradientNorm()
        if norm > maxNorm, norm.isFinite { scaleGradients(by: maxNorm / norm) }
        return norm
    }

    func scaleGradients(by factor: Double) { Scalar.scale(gradients, count: count, alpha: Scalar(factor)) }

    /// The tensor whose gradient has the largest norm, and that norm: where a large step comes
    /// from. One squared-norm kernel call per tensor; nil for an empty layout.
    func largestGradientTensor() -> (name: String, norm: Double)? {
        layout.tensors.map { ($0.name, Scalar.sumSquares(UnsafePointer(gradients + $0.offset), count: $0.count).squareRoot()) }
            .max { $0.1 < $1.1 }
    }

    /// The name of the first tensor of the layout holding a non-finite value in `arena` (the
    /// values, gradients or a moment), or nil: one squared-norm kernel call per tensor, summed
    /// in double, so finite exactly when every element is.
    func firstNonFinite(in arena: UnsafeMutablePointer<Scalar>) -> String? {
        guard !Scalar.sumSquares(UnsafePointer(arena), count: count).isFinite else {
            return layout.tensors.first { !Scalar.sumSquares(UnsafePointer(arena + $0.offset), count: $0.count).isFinite }?.name
        }
        return nil
    }

    /// One Adam update over the whole arena.
    func adamStep(learningRate: Double, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8) {
        step += 1
        Scalar.adamUpdate(values, firstMoment, secondMoment, UnsafePointer(gradients), count: count,
                          lr: Scalar(learningRate), beta1: Scalar(beta1), beta2: Scalar(beta2),
                          eps: Scalar(epsilon), step: step)
    }
}

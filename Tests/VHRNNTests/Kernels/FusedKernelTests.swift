import Foundation
import Testing
@testable import VHRNN

/// The fused forward passes and the shared-frame reads give the same values, bit for bit, as
/// the kernels they replace run one after another on copied frames — in float (the vectorised
/// code paths, with the flat blocks of whole rows) and double, at shapes whose rows straddle
/// the flat blocks (d = 88: 23 rows a block) and with sigma's floor active in part.
@Suite("Fused kernels")
struct FusedKernelTests {
    static let shapes: [(n: Int, d: Int)] = [(1, 1), (7, 3), (61, 88), (300, 32)]

    private static func random<S: KernelScalar>(_ shape: [Int], _ rng: inout SplitMix64, scale: Double = 1,
                                                binary: Bool = false) -> Tensor<S> {
        let t = Tensor<S>(shape: shape)
        for i in 0..<t.count {
            t[i] = binary ? (rng.nextUnitDouble() < 0.3 ? 1 : 0) : S(scale * rng.nextStandardNormal())
        }
        return t
    }

    private static func bits<S: KernelScalar>(_ t: Tensor<S>) -> [UInt64] { t.values.map { Double($0).bitPattern } }

    /// Row i of the result is row index[i] of `frames`.
    private static func expand<S: KernelScalar>(_ frames: Tensor<S>, _ index: [Int32], d: Int) -> Tensor<S> {
        let t = Tensor<S>(shape: [index.count, d])
        for (i, r) in index.enumerated() { for j in 0..<d { t[i * d + j] = frames[Int(r) * d + j] } }
        return t
    }

    private static func particleIndex(rows n: Int, frames: Int) -> [Int32] { (0..<n).map { Int32($0 * frames / n) } }

    func proposal<S: KernelScalar>(_: S.Type, n: Int, d: Int, floor: Double) throws {
        var rng = SplitMix64(seed: UInt64(n * 1000 + d))
        let muP: Tensor<S> = Self.random([n, d], &rng), dmu: Tensor<S> = Self.random([n, d], &rng)
        let raw: Tensor<S> = Self.random([n, d], &rng, scale: 3), eps: Tensor<S> = Self.random([n, d], &rng)
        let mean = Tensor<S>(shape: [n, d]), sigma = Tensor<S>(shape: [n, d]), z = Tensor<S>(shape: [n, d])
        let logq = Tensor<S>(shape: [n])
        try Kernels.gaussianProposalForward(mean: mean, sigma: sigma, sample: z, logDensity: logq, priorMean: muP,
                                            residual: dmu, raw: raw, noise: eps, floor: S(floor))
        // unfused: the addition, sigma, the draw, the density
        let mean0 = Tensor<S>(shape: [n, d]), sigma0 = Tensor<S>(shape: [n, d]), z0 = Tensor<S>(shape: [n, d])
        let logq0 = Tensor<S>(shape: [n])
        S.addForward(mean0.pointer, muP.constPointer, dmu.constPointer, count: n * d)
        try Kernels.gaussianSigmaForward(sigma: sigma0, raw: raw, floor: S(floor))
        try Kernels.gaussianSampleForward(sample: z0, mean: mean0, sigma: sigma0, noise: eps)
        try Kernels.gaussianLogPDFForward(logDensity: logq0, x: z0, mean: mean0, sigma: sigma0)
        let label = "\(S.self) n=\(n) d=\(d) floor=\(floor)"
        #expect(Self.bits(mean) == Self.bits(mean0), "mean \(label)")
        #expect(Self.bits(sigma) == Self.bits(sigma0), "sigma \(label)")
        #expect(Self.bits(z) == Self.bits(z0), "z \(label)")
        #expect(Self.bits(logq) == Self.bits(logq0), "log q \(label)")
    }

    @Test func proposalEqualsTheUnfusedKernels() throws {
        for (n, d) in Self.shapes {
            for floor in [0.0, 0.9] {
                try proposal(Float.self, n: n, d: d, floor: floor)
                try proposal(Double.self, n: n, d: d, floor: floor)
            }
        }
    }

    func headDensity<S: KernelScalar>(_: S.Type, n: Int, d: Int, frames: Int, floor: Double) throws {
        var rng = SplitMix64(seed: UInt64(n * 1000 + d + 7))
        let x: Tensor<S> = Self.random([frames, d], &rng), mu: Tensor<S> = Self.random([n, d], &rng)
        let raw: Tensor<S> = Self.random([n, d], &rng, scale: 3)
        let index = Self.particleIndex(rows: n, frames: frames)
        let sigma = Tensor<S>(shape: [n, d]), lp = Tensor<S>(shape: [n])
        try Kernels.gaussianHeadLogPDFForward(sigma: sigma, logDensity: lp, x: x, xRows: index, mean: mu, raw: raw,
                                              floor: S(floor))
        let sigma0 = Tensor<S>(shape: [n, d]), lp0 = Tensor<S>(shape: [n])
        try Kernels.gaussianSigmaForward(sigma: sigma0, raw: raw, floor: S(floor))
        try Kernels.gaussianLogPDFForward(logDensity: lp0, x: Self.expand(x, index, d: d), mean: mu, sigma: sigma0)
        let label = "\(S.self) n=\(n) d=\(d) frames=\(frames) floor=\(floor)"
        #expect(Self.bits(sigma) == Self.bits(sigma0), "sigma \(label)")
        #expect(Self.bits(lp) == Self.bits(lp0), "log p \(label)")
    }

    @Test func headDensityAtSharedFramesEqualsTheUnfusedKernelsOnCopies() throws {
        for (n, d) in Self.shapes {
            for frames in Set([1, (n + 2) / 3, n]) {
                try headDensity(Float.self, n: n, d: d, frames: frames, floor: 0.9)
                try headDensity(Double.self, n: n, d: d, frames: frames, floor: 0)
            }
        }
    }

    func bernoulli<S: KernelScalar>(_: S.Type, n: Int, d: Int, frames: Int) throws {
        var rng = SplitMix64(seed: UInt64(n * 1000 + d + 13))
        let x: Tensor<S> = Self.random([frames, d], &rng, binary: true)
        let logits: Tensor<S> = Self.random([n, d], &rng, scale: 4), dlp: Tensor<S> = Self.random([n], &rng)
        let index = Self.particleIndex(rows: n, frames: frames), copies = Self.expand(x, index, d: d)
        let lp = Tensor<S>(shape: [n]), lp0 = Tensor<S>(shape: [n])
        try Kernels.bernoulliLogPMFForward(logProbability: lp, x: x, xRows: index, logits: logits)
        try Kernels.bernoulliLogPMFForward(logProbability: lp0, x: copies, logits: logits)
        let dl = Tensor<S>(shape: [n, d]), dl0 = Tensor<S>(shape: [n, d])
        try Kernels.bernoulliLogPMFBackward(logitsGradient: dl, logProbabilityGradient: dlp, x: x, xRows: index,
                                            logits: logits)
        try Kernels.bernoulliLogPMFBackward(logitsGradient: dl0, logProbabilityGradient: dlp, x: copies, logits: logits)
        let label = "\(S.self) n=\(n) d=\(d) frames=\(frames)"
        #expect(Self.bits(lp) == Self.bits(lp0), "log p \(label)")
        #expect(Self.bits(dl) == Self.bits(dl0), "d logits \(label)")
    }

    @Test func bernoulliAtSharedFramesEqualsCopies() throws {
        for (n, d) in Self.shapes {
            for frames in Set([1, (n + 2) / 3, n]) {
                try bernoulli(Float.self, n: n, d: d, frames: frames)
                try bernoulli(Double.self, n: n, d: d, frames: frames)
            }
        }
    }

    /// The emission's mixture moments under weights, against the formulas in double.
    @Test func emissionMomentsAreTheMixtureMoments() {
        func check<S: KernelScalar>(_: S.Type, gaussian: Bool, tolerance: Double) {
            let k = 37, d = 9
            var rng = SplitMix64(seed: gaussian ? 3 : 4)
            let head = (0..<(k * d)).map { _ in S(2 * rng.nextStandardNormal()) }
            let sigma = (0..<(k * d)).map { _ in S(0.1 + rng.nextUnitDouble()) }
            var raw = (0..<k).map { _ in rng.nextUnitDouble() }
            raw[5] = 0  // a particle without weight
            let total = raw.reduce(0, +)
            let w = raw.map { S($0 / total) }
            var mean = [S](repeating: .nan, count: d), variance = [S](repeating: .nan, count: d)
            head.withUnsafeBufferPointer { h in sigma.withUnsafeBufferPointer { s in w.withUnsafeBufferPointer { wp in
                S.emissionMoments(&mean, &variance, h.baseAddress, gaussian ? s.baseAddress : nil, wp.baseAddress, k: k, d: d)
            } } }
            for j in 0..<d {
                var m = 0.0, second = 0.0
                for i in 0..<k {
                    let x = Double(head[i * d + j]), wi = Double(w[i])
                    let mi = gaussian ? x : 1 / (1 + exp(-x))
                    let vi = gaussian ? Double(sigma[i * d + j]) * Double(sigma[i * d + j]) : mi * (1 - mi)
                    m += wi * mi
                    second += wi * (vi + mi * mi)
                }
                #expect(abs(Double(mean[j]) - m) <= tolerance, "\(S.self) gaussian=\(gaussian) mean[\(j)]")
                #expect(abs(Double(variance[j]) - (second - m * m)) <= tolerance * max(1, second), "\(S.self) variance[\(j)]")
            }
        }
        for gaussian in [false, true] {
            check(Double.self, gaussian: gaussian, tolerance: 1e-12)
            check(Float.self, gaussian: gaussian, tolerance: 1e-5)
        }
    }

    @Test func sharedFrameIndicesAreChecked() throws {
        let x = Tensor<Float>(shape: [2, 3]), logits = Tensor<Float>(shape: [4, 3]), lp = Tensor<Float>(shape: [4])
        #expect(throws: ShapeError.self) {
            try Kernels.bernoulliLogPMFForward(logProbability: lp, x: x, xRows: [0, 1, 2, 0], logits: logits)
        }
        #expect(throws: ShapeError.self) {
            try Kernels.bernoulliLogPMFForward(logProbability: lp, x: x, xRows: [0, 1], logits: logits)
        }
    }
}

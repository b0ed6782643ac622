import Foundation
import Testing
@testable import VHRNN

/// Kernels without a backward (ESS, Adam) checked against direct formulas, plus the kernels'
/// behaviour at the edges: accumulation, extreme values, and errors at the Swift boundary.
@Suite("Kernel values and errors")
struct KernelValueTests {
    @Test func logESSMatchesFormula() throws {
        let w = try Tensor<Double>(shape: [3, 4], values: [0, 0, 0, 0, 0, -.infinity, -.infinity, -.infinity,
                                                          1.5, -0.3, 2.0, 0.7])
        let out = Tensor<Double>(shape: [3])
        try Kernels.logEffectiveSampleSize(result: out, weights: w)
        #expect(abs(out[0] - log(4)) < 1e-12)  // equal weights: ESS = K
        #expect(abs(out[1] - 0) < 1e-12)       // one particle holds all mass: ESS = 1
        let ws = [1.5, -0.3, 2.0, 0.7].map(exp)
        let ess = pow(ws.reduce(0, +), 2) / ws.map { $0 * $0 }.reduce(0, +)
        #expect(abs(out[2] - log(ess)) < 1e-12)
    }

    @Test func logSumExpIsStableAndHandlesMinusInfinity() throws {
        let w = try Tensor<Double>(shape: [3, 2], values: [1000, 1000, -.infinity, -.infinity, -1000, 0])
        let out = Tensor<Double>(shape: [3])
        try Kernels.logSumExpForward(result: out, weights: w)
        #expect(abs(out[0] - (1000 + log(2))) < 1e-9)
        #expect(out[1] == -.infinity)
        #expect(abs(out[2]) < 1e-12)
        let dw = Tensor<Double>(shape: [3, 2])
        try Kernels.logSumExpBackward(weightsGradient: dw, resultGradient: try Tensor(shape: [3], values: [1, 1, 1]),
                                      weights: w, result: out)
        #expect(dw.values.allSatisfy { $0.isFinite })
    }

    @Test func bernoulliIsStableForHugeLogits() throws {
        let logits = try Tensor<Float>(shape: [1, 4], values: [1e6, -1e6, 1e6, -1e6])
        let x = try Tensor<Float>(shape: [1, 4], values: [1, 0, 0, 1])
        let lp = Tensor<Float>(shape: [1])
        try Kernels.bernoulliLogPMFForward(logProbability: lp, x: x, logits: logits)
        #expect(lp[0] == -2e6)
    }

    @Test func adamMatchesReference() throws {
        let p = try Tensor<Double>(shape: [3], values: [1, -2, 0.5])
        let m = Tensor<Double>(shape: [3]), v = Tensor<Double>(shape: [3])
        var (rp, rm, rv) = ([1.0, -2, 0.5], [0.0, 0, 0], [0.0, 0, 0])
        for step in 1...3 {
            let grad = try Tensor<Double>(shape: [3], values: [0.1 * Double(step), -0.2, 3])
            try Kernels.adamUpdate(parameters: p, firstMoment: m, secondMoment: v, gradient: grad,
                                   learningRate: 0.01, step: step)
            for i in 0..<3 {  // Kingma & Ba, Algorithm 1
                rm[i] = 0.9 * rm[i] + 0.1 * grad[i]
                rv[i] = 0.999 * rv[i] + 0.001 * grad[i] * grad[i]
                let mHat = rm[i] / (1 - pow(0.9, Double(step))), vHat = rv[i] / (1 - pow(0.999, Double(step)))
                rp[i] -= 0.01 * mHat / (vHat.squareRoot() + 1e-8)
            }
        }
        for i in 0..<3 { #expect(abs(p[i] - rp[i]) < 1e-12) }
    }

    @Test func linearAccumulateAddsToOutput() throws {
        let x = try Tensor<Double>(shape: [2, 2], values: [1, 2, 3, 4])
        let w = try Tensor<Double>(shape: [1, 2], values: [1, 1])
        let y = try Tensor<Double>(shape: [2, 1], values: [10, 20])
        try Kernels.linearForward(output: y, input: x, weight: w, bias: nil, accumulate: true)
        #expect(y.values == [13, 27])
        try Kernels.linearForward(output: y, input: x, weight: w, bias: try Tensor(shape: [1], values: [1]))
        #expect(y.values == [4, 8])
    }

    @Test func gatherCopiesParentsAndScatterAddsGradients() throws {
        let parents = try Tensor<Float>(shape: [3, 2], values: [0, 1, 10, 11, 20, 21])
        let out = Tensor<Float>(shape: [3, 2])
        try Kernels.gatherRowsForward(output: out, input: parents, ancestors: [2, 2, 0])
        #expect(out.values == [20, 21, 20, 21, 0, 1])
        let d = Tensor<Float>(shape: [3, 2])
        try Kernels.gatherRowsBackward(inputGradient: d, outputGradient: try Tensor(shape: [3, 2], values: [1, 1, 1, 1, 1, 1]),
                                       ancestors: [2, 2, 0])
        #expect(d.values == [1, 1, 0, 0, 2, 2])
    }

    @Test func gatherRejectsOutOfRangeAncestor() throws {
        let parents = Tensor<Double>(shape: [3, 2]), out = Tensor<Double>(shape: [2, 2])
        #expect(throws: AncestorIndexError(index: 3, parentRows: 3)) {
            try Kernels.gatherRowsForward(output: out, input: parents, ancestors: [0, 3])
        }
        #expect(throws: AncestorIndexError(index: -1, parentRows: 3)) {
            try Kernels.gatherRowsBackward(inputGradient: parents, outputGradient: out, ancestors: [-1, 0])
        }
    }

    @Test func badShapesThrowNamingKernelAndArgument() throws {
        let x = Tensor<Double>(shape: [4, 3]), w = Tensor<Double>(shape: [5, 3])
        let error = #expect(throws: ShapeError.self) {
            try Kernels.linearForward(output: Tensor(shape: [4, 4]), input: x, weight: w, bias: nil)
        }
        #expect(error?.kernel == "linearForward")
        #expect(error?.argument == "output")
        #expect(error?.description == "linearForward: argument 'output' has shape [4, 4], expected [4, 5]")

        let badBias = #expect(throws: ShapeError.self) {
            try Kernels.linearForward(output: Tensor(shape: [4, 5]), input: x, weight: w, bias: Tensor(shape: [3]))
        }
        #expect(badBias?.argument == "bias")

        let notFour = #expect(throws: ShapeError.self) {
            try Kernels.lstmCellForward(hidden: Tensor<Double>(shape: [2, 1]), cell: Tensor(shape: [2, 1]),
                                        gates: Tensor(shape: [2, 6]), inputPreactivation: Tensor(shape: [2, 6]),
                                        recurrentPreactivation: nil, bias: nil, previousCell: nil)
        }
        #expect(notFour?.argument == "inputPreactivation")

        let hyper = #expect(throws: ShapeError.self) {
            try Kernels.hyperLSTMCellForward(hidden: Tensor<Float>(shape: [2, 2]), cell: Tensor(shape: [2, 2]),
                                             gates: Tensor(shape: [2, 8]), inputPreactivation: Tensor(shape: [2, 8]),
                                             recurrentPreactivation: nil, hyper: Tensor(shape: [2, 16]), bias: nil,
                                             previousCell: nil)
        }
        #expect(hyper?.argument == "hyper")

        #expect(throws: ShapeError.self) {
            try Kernels.gaussianKLForward(kl: Tensor<Double>(shape: [2]), meanQ: Tensor(shape: [2, 3]),
                                          sigmaQ: Tensor(shape: [2, 3]), meanP: Tensor(shape: [3, 2]),
                                          sigmaP: Tensor(shape: [2, 3]))
        }
        #expect(throws: ShapeError.self) {
            try Tensor<Double>(shape: [2, 2], values: [1, 2, 3])
        }
    }

    @Test func parallelHelperReportsBackendAndThreads() {
        #expect(["openmp", "dispatch"].contains(KernelRuntime.parallelBackend))
        #expect(KernelRuntime.threadCount >= 1)
    }

    /// Large row counts go through the parallel-for: results must equal a one-thread run.
    @Test func parallelResultsEqualSerial() throws {
        var rng = SplitMix64(seed: 5)
        let n = 1024, H = 32
        func tensor(_ shape: [Int]) -> Tensor<Float> {
            try! Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in Float(rng.nextStandardNormal()) })
        }
        let wy = tensor([n, 4 * H]), uh = tensor([n, 4 * H]), cp = tensor([n, H]), dh = tensor([n, H])
        let hyper = tensor([n, 12 * H])
        func run() throws -> [Float] {
            let h = Tensor<Float>(shape: [n, H]), c = Tensor<Float>(shape: [n, H]), g = Tensor<Float>(shape: [n, 4 * H])
            try Kernels.hyperLSTMCellForward(hidden: h, cell: c, gates: g, inputPreactivation: wy,
                                             recurrentPreactivation: uh, hyper: hyper, bias: nil, previousCell: cp)
            let dhy = Tensor<Float>(shape: [n, 12 * H])
            try Kernels.hyperLSTMCellBackward(inputPreactivationGradient: nil, recurrentPreactivationGradient: nil,
                                              hyperGradient: dhy, biasGradient: nil, previousCellGradient: nil,
                                              hiddenGradient: dh, cellGradient: nil, gates: g, cell: c,
                                              previousCell: cp, inputPreactivation: wy, recurrentPreactivation: uh,
                                              hyper: hyper)
            return h.values + dhy.values
        }
        let parallel = try run()
        KernelRuntime.threadCount = 1
        defer { KernelRuntime.threadCount = 0 }
        #expect(try run() == parallel)
    }
}

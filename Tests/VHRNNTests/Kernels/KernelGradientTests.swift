import Testing
@testable import VHRNN

/// The gradient-check table: every kernel with a backward, at several small shapes
/// (rows = 1 and odd sizes included), through the one harness in GradientCheck.swift.
let kernelCaseTable: [any KernelCaseBuilder] = [
    LinearCase(n: 1, inDim: 1, outDim: 1), LinearCase(n: 1, inDim: 3, outDim: 2),
    LinearCase(n: 5, inDim: 4, outDim: 7), LinearCase(n: 16, inDim: 9, outDim: 12),
    ReluCase(n: 1, d: 3), ReluCase(n: 7, d: 5),
    LSTMCase(n: 1, hidden: 1, hyper: false), LSTMCase(n: 3, hidden: 5, hyper: false),
    LSTMCase(n: 16, hidden: 4, hyper: false), LSTMCase(n: 5, hidden: 3, hyper: false, recurrent: false),
    LSTMCase(n: 2, hidden: 3, hyper: false, zeroState: true),
    LSTMCase(n: 1, hidden: 2, hyper: true), LSTMCase(n: 3, hidden: 5, hyper: true),
    LSTMCase(n: 16, hidden: 4, hyper: true), LSTMCase(n: 5, hidden: 3, hyper: true, recurrent: false),
    LSTMCase(n: 3, hidden: 2, hyper: true, zeroState: true),
    GRUCase(n: 1, hidden: 1, hyper: false), GRUCase(n: 3, hidden: 5, hyper: false),
    GRUCase(n: 16, hidden: 4, hyper: false), GRUCase(n: 2, hidden: 3, hyper: false, zeroState: true),
    GRUCase(n: 1, hidden: 2, hyper: true), GRUCase(n: 3, hidden: 5, hyper: true),
    GRUCase(n: 16, hidden: 4, hyper: true), GRUCase(n: 3, hidden: 2, hyper: true, zeroState: true),
    HyperScaleCase(n: 1, m: 1), HyperScaleCase(n: 5, m: 7),
    LogAlphaCase(n: 1, klWeight: 1), LogAlphaCase(n: 6, klWeight: 1), LogAlphaCase(n: 6, klWeight: 0.3),
    LogAlphaCase(n: 4, klWeight: 0),
    GaussianSigmaCase(n: 1, d: 1, floor: 0), GaussianSigmaCase(n: 5, d: 3, floor: 0),
    GaussianSigmaCase(n: 7, d: 5, floor: 0.9),
    GaussianLogPDFCase(n: 1, d: 1), GaussianLogPDFCase(n: 5, d: 3), GaussianLogPDFCase(n: 4, d: 88),
    GaussianSampleCase(n: 1, d: 2), GaussianSampleCase(n: 5, d: 3),
    GaussianKLCase(n: 1, d: 1), GaussianKLCase(n: 5, d: 3),
    BernoulliCase(n: 1, d: 1), BernoulliCase(n: 3, d: 88), BernoulliCase(n: 2, d: 5, logitScale: 30),
    SharedFrameBernoulliCase(xRows: [0, 0, 1, 1, 1, 0], frames: 2, d: 5),
    GaussianProposalCase(n: 1, d: 1), GaussianProposalCase(n: 5, d: 3), GaussianProposalCase(n: 4, d: 7, floor: 0.9),
    GaussianHeadLogPDFCase(n: 5, d: 3, xRows: nil, frames: 5),
    GaussianHeadLogPDFCase(n: 6, d: 4, xRows: [1, 1, 0, 2, 2, 2], frames: 3, floor: 0.9),
    GatherCase(ancestors: [0], width: 3), GatherCase(ancestors: [2, 2, 0, 1, 4, 4, 4], width: 3),
    GatherCase(ancestors: [1, 1, 1, 1, 7, 6, 4, 4], width: 2),
    LogSumExpCase(b: 1, k: 1), LogSumExpCase(b: 3, k: 5), LogSumExpCase(b: 2, k: 4, scale: 40),
]

struct TableEntry: CustomStringConvertible, Sendable {
    var builder: any KernelCaseBuilder
    var description: String { builder.description }
}

@Suite("Kernel gradients")
struct KernelGradientTests {
    @Test("finite differences (double)", arguments: kernelCaseTable.map(TableEntry.init))
    func finiteDifferences(_ entry: TableEntry) throws {
        let report = try GradientCheck.run(entry.builder.build(Double.self), seed: 7)
        #expect(report.checked > 0)
        #expect(report.maxError <= GradientCheck.tolerance, "\(entry): \(report)")
    }

    /// Float kernels agree with double ones on the same inputs to 1e-4, relative to
    /// max(|value|, 1) — a few float ulps accumulated over the short reductions here.
    @Test("float agrees with double", arguments: kernelCaseTable.map(TableEntry.init))
    func floatMatchesDouble(_ entry: TableEntry) throws {
        let gap = try GradientCheck.precisionGap(float: entry.builder.build(Float.self),
                                                 double: entry.builder.build(Double.self), seed: 11)
        #expect(gap <= 1e-4, "\(entry): float/double gap \(gap)")
    }

    /// The harness itself must catch a dropped term: a backward that forgets the bias
    /// gradient of the linear layer has to fail.
    @Test func harnessCatchesDroppedTerm() throws {
        var broken = LinearCase(n: 3, inDim: 2, outDim: 2).build(Double.self)
        let correct = broken.backward
        broken.backward = { x, g in
            var grads = try correct(x, g)
            grads[2] = Tensor(shape: [2])  // dropped: db = 0
            return grads
        }
        let report = try GradientCheck.run(broken, seed: 3)
        #expect(report.maxError > 0.1)
    }
}

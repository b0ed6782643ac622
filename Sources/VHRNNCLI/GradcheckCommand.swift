import ArgumentParser
import Foundation
import VHRNN

/// `vhrnn gradcheck`: a float64 finite-difference check of a whole model's bound.
struct GradcheckCommand: VHRNNSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "gradcheck",
        abstract: "Check the whole model's bound gradient against finite differences (float64).",
        discussion: """
            Builds a tiny random model and batch (two sequences of lengths 4 and 3), fixes the noise and \
            the ancestors, and compares the manual backward pass with central differences for every \
            parameter. FIVO resamples at every step so the ancestor scatter-adds are exercised. A parameter \
            whose error exceeds 1e-6 is re-measured (four-point stencil over several step sizes, with an \
            estimate of the finite difference's own error) and passes only if the analytic value is within \
            that error; exits non-zero if any parameter still disagrees. --mutation plants a known defect in \
            the backward pass, to see the check fail.
            """)

    @Option(help: "Model: vrnn or vhrnn.")
    var model: ModelKind = .vhrnn

    @Option(help: "Recurrent cell: lstm or gru.")
    var cell: CellKind = .lstm

    @OptionGroup var boundOption: BoundOption<Self>
    var bound: BoundKind { boundOption.bound }

    @Option(name: .customLong("hyper-input"), help: "What the hyper networks read: both, latent or hidden.")
    var hyperInput: HyperInput = .both

    @Option(help: "Emission: bernoulli or gaussian.")
    var emission: EmissionKind = .gaussian

    @Option(help: "Step semantics: fivo or standard.")
    var semantics: StepSemantics = .fivo

    @Option(help: "Seed for the model, data and noise.")
    var seed: UInt64 = 1

    @Option(help: "Plant a defect in the backward pass: dropped-ancestor-scatter, dropped-residual-mean or dropped-bias.")
    var mutation: GradientMutation?

    @OptionGroup var outputFormat: OutputFormatOptions<Self>

    static let tolerance = ModelGradientCheck.tolerance

    func execute() throws {
        let config = ModelConfiguration(model: model, cell: cell, dataDim: 3, emission: emission, latentDim: 2,
                                        hiddenDim: 3, hyperDim: 2, encodedDim: 2, fcLayers: 1, fcWidth: 3,
                                        omegaHidden: 4, hyperInput: hyperInput, semantics: semantics)
        let settings = FilterSettings(bound: bound, particleCount: bound == .elbo ? 2 : 3,
                                      criterion: .always, scheme: .multinomial)
        let report = try ModelGradientCheck.run(configuration: config, settings: settings, seed: seed, mutation: mutation)
        let passed = report.passed
        if outputFormat.json {
            printJSON(["max_rel_error": report.maxRelativeError, "parameters_checked": report.parametersChecked,
                       "parameters_skipped": report.parametersSkipped, "resampling_events": report.resamplingEvents,
                       "remeasured": report.remeasured, "remeasured_agreed": report.remeasuredAgreed,
                       "failures": report.failures, "passed": passed])
        } else {
            print("gradcheck \(model.rawValue) \(cell.rawValue) \(emission.rawValue) \(bound.rawValue) \(semantics.rawValue)"
                + (model == .vhrnn ? " hyper-input=\(hyperInput.rawValue)" : "") + " seed \(seed)"
                + (mutation.map { " (mutation: \($0.rawValue))" } ?? ""))
            print("  max relative error:   \(report.maxRelativeError)  (tolerance \(Self.tolerance))")
            print("  parameters checked:   \(report.parametersChecked)"
                + (report.parametersSkipped > 0 ? " (\(report.parametersSkipped) skipped at a ReLU kink)" : ""))
            print("  resampling events:    \(report.resamplingEvents)")
            print("  worst:                \(report.worstParameter)")
            if report.remeasured > 0 {
                print("  re-measured:          \(report.remeasured) above the tolerance at h = \(ModelGradientCheck.step), "
                    + "\(report.remeasuredAgreed) within the finite difference's own error")
                print("                        \(report.remeasureDetail)")
            }
            print(passed ? "PASS" : "FAIL (\(report.failures) parameter\(report.failures == 1 ? "" : "s") disagree)")
        }
        if !passed { throw ExitCode(1) }
    }
}

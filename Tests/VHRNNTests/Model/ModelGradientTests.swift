import Testing
@testable import VHRNN

/// Whole-model gradient checks in float64: every model × cell × hyper input × emission ×
/// bound, FIVO with resampling at every step, against central differences with the noise and
/// ancestors fixed (ModelGradientCheck states the error measure).
struct ModelCheckCase: CustomStringConvertible, Sendable {
    var model: ModelKind
    var cell: CellKind
    var hyperInput: HyperInput
    var emission: EmissionKind
    var bound: BoundKind
    var semantics: StepSemantics = .fivo
    var description: String {
        "\(model) \(cell) \(model == .vhrnn ? "u=\(hyperInput) " : "")\(emission) \(bound) \(semantics)"
    }

    var configuration: ModelConfiguration {
        ModelConfiguration(model: model, cell: cell, dataDim: 3, emission: emission, latentDim: 2, hiddenDim: 3,
                           hyperDim: 2, encodedDim: 2, fcLayers: 1, fcWidth: 3, omegaHidden: 4, hyperInput: hyperInput,
                           semantics: semantics)
    }

    var settings: FilterSettings {
        FilterSettings(bound: bound, particleCount: bound == .elbo ? 2 : 3, criterion: .always, scheme: .multinomial)
    }

    /// Every combination under FIVO semantics (the default), and every model × cell × emission
    /// under standard semantics with FIVO (the bound whose backward has every term).
    static let all: [ModelCheckCase] = {
        var cases: [ModelCheckCase] = []
        for model in ModelKind.allCases {
            for cell in CellKind.allCases {
                for emission in EmissionKind.allCases {
                    cases.append(ModelCheckCase(model: model, cell: cell, hyperInput: .both, emission: emission,
                                                bound: .fivo, semantics: .standard))
                }
            }
        }
        for model in ModelKind.allCases {
            for cell in CellKind.allCases {
                for hyperInput in model == .vhrnn ? HyperInput.allCases : [.both] {
                    for emission in EmissionKind.allCases {
                        for bound in BoundKind.allCases {
                            cases.append(ModelCheckCase(model: model, cell: cell, hyperInput: hyperInput,
                                                        emission: emission, bound: bound))
                        }
                    }
                }
            }
        }
        return cases
    }()
}

@Suite("Whole-model gradients")
struct ModelGradientTests {
    @Test("bound gradient matches finite differences", arguments: ModelCheckCase.all)
    func wholeModel(_ c: ModelCheckCase) throws {
        let report = try ModelGradientCheck.run(configuration: c.configuration, settings: c.settings)
        #expect(report.maxRelativeError <= 1e-6, "\(c): \(report.maxRelativeError) at \(report.worstParameter)")
        // Almost every parameter must be compared, not skipped at a ReLU kink.
        #expect(report.parametersChecked > 0)
        #expect(report.parametersSkipped * 20 <= report.parametersChecked + report.parametersSkipped,
                "\(c): \(report.parametersSkipped) of \(report.parametersChecked + report.parametersSkipped) skipped")
        if c.bound == .fivo { #expect(report.resamplingEvents > 0) }
    }
}

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
        #expect(report.passed, "\(c): \(report.failures) disagree; \(report.maxRelativeError) at \(report.worstParameter); \(report.remeasureDetail)")
        // Almost every parameter must be compared, not skipped at a ReLU kink.
        #expect(report.parametersChecked > 0)
        #expect(report.parametersSkipped * 20 <= report.parametersChecked + report.parametersSkipped,
                "\(c): \(report.parametersSkipped) of \(report.parametersChecked + report.parametersSkipped) skipped")
        if c.bound == .fivo { #expect(report.resamplingEvents > 0) }
    }
}

/// The check itself: each planted defect fails it by a wide margin in every case it can
/// affect, and the re-measurement tells finite-difference rounding from a wrong gradient.
@Suite("Gradient check's own tests")
struct GradientCheckTests {
    static let mutationCases: [(ModelCheckCase, GradientMutation)] = GradientMutation.allCases.flatMap { mutation in
        ModelKind.allCases.flatMap { model in
            EmissionKind.allCases.map { emission in
                (ModelCheckCase(model: model, cell: .lstm, hyperInput: .both, emission: emission, bound: .fivo), mutation)
            }
        }
    }

    @Test("a planted backward defect fails the check", arguments: mutationCases)
    func mutationFails(_ c: ModelCheckCase, _ mutation: GradientMutation) throws {
        let report = try ModelGradientCheck.run(configuration: c.configuration, settings: c.settings, mutation: mutation)
        #expect(!report.passed && report.maxRelativeError > 1e-2, "\(c) \(mutation): \(report.maxRelativeError)")
        #expect(report.remeasuredAgreed == 0, "re-measurement excused a planted defect: \(report.remeasureDetail)")
    }

    // f = 1000 + 0.01 e^x: f'(0) = 0.01, and f's rounding (~1e-13) puts the two-point
    // difference at h = 1e-5 about 1e-8 off — 1e-6 relative to the 1e-2 floor.
    static func offset(_ x: Double) -> Double? { 1000 + 0.01 * _exp(x) }

    @Test func remeasurementSeparatesRoundingFromAWrongGradient() throws {
        let right = try #require(ModelGradientCheck.remeasure(analytic: 0.01, at: 0, Self.offset))
        #expect(right.agrees && abs(right.numeric - 0.01) < 1e-9 && right.numericError < 1e-8, "\(right)")
        #expect(right.noise > 0 && right.noise < 1e-11, "\(right)")
        for wrong in [0.0101, 0.01 * (1 + 1e-5), 0, -0.01] {
            let r = try #require(ModelGradientCheck.remeasure(analytic: wrong, at: 0, Self.offset))
            #expect(!r.agrees, "\(wrong): \(r)")
        }
        // A kink inside every stencil: nothing to re-measure with.
        #expect(ModelGradientCheck.remeasure(analytic: 0.01, at: 0) { x in x == 0 ? 1 : nil } == nil)
        // A derivative the stencils cannot pin down (noise far above the signal) vouches for nothing.
        var state: UInt64 = 3
        let noisy = { (x: Double) -> Double? in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return 0.01 * x + Double(state >> 11) * 1e-6 / Double(1 << 53)
        }
        let r = try #require(ModelGradientCheck.remeasure(analytic: 0.01, at: 0, noisy))
        #expect(!r.agrees, "\(r)")
    }
}

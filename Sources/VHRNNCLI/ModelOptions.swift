import ArgumentParser
import VHRNN

extension ModelKind: ExpressibleByArgument {}
extension CellKind: ExpressibleByArgument {}
extension EmissionKind: ExpressibleByArgument {}
extension HyperInput: ExpressibleByArgument {}
extension StepSemantics: ExpressibleByArgument {}
extension GradientMutation: ExpressibleByArgument {}

/// The model flags every subcommand spells the same way.
struct ModelOptions: ParsableArguments {
    @Option(help: "Model: vrnn or vhrnn.")
    var model: ModelKind = .vhrnn

    @Option(help: "Recurrent cell of g (and of theta in a VHRNN): lstm or gru.")
    var cell: CellKind = .lstm

    @Option(help: "Latent size Z.")
    var latent: Int?

    @Option(help: "Hidden size H of the primary recurrence (default Z).")
    var hidden: Int?

    @Option(help: "Hidden size Hh of the hyper network theta (default Z).")
    var hyper: Int?

    @Option(name: .customLong("hyper-input"), help: "What the hyper networks read: both ([z, h]), latent or hidden.")
    var hyperInput: HyperInput = .both

    @Option(help: "Emission distribution: bernoulli or gaussian (default: from the data).")
    var emission: EmissionKind?

    @Option(name: .customLong("fc-layers"), help: "Hidden layers in every MLP (default 1; the synthetic experiments use 2).")
    var fcLayers: Int?

    @Option(name: .customLong("omega-hidden"), help: "Hidden width of the emission hyper network omega (default 64; the built-in default's VHRNN: 11).")
    var omegaHidden: Int?

    @Option(help: """
        Step semantics: fivo (as the FIVO reference code runs it: the first step reads one recurrence \
        step from zero, the proposal encodes the raw frame) or standard (h_0 = 0, the proposal encodes \
        the centred frame). See docs/CHOICES.md.
        """)
    var semantics: StepSemantics = .fivo

    func validateSizes() throws {
        for (value, flag) in [(latent, "--latent"), (hidden, "--hidden"), (hyper, "--hyper"), (fcLayers, "--fc-layers")] {
            if let value, value < (flag == "--fc-layers" ? 0 : 1) {
                throw ValidationError("\(flag) must be \(flag == "--fc-layers" ? "at least 0" : "positive"), got \(value)")
            }
        }
        if let omegaHidden, omegaHidden < 1 { throw ValidationError("--omega-hidden must be positive, got \(omegaHidden)") }
    }

    /// The configuration for data of `dataDim` dimensions.
    func configuration(dataDim: Int, defaultEmission: EmissionKind, defaultLatent: Int, defaultFCLayers: Int = 1)
        -> ModelConfiguration {
        let z = latent ?? defaultLatent
        return ModelConfiguration(model: model, cell: cell, dataDim: dataDim, emission: emission ?? defaultEmission,
                                  latentDim: z, hiddenDim: hidden, hyperDim: hyper,
                                  fcLayers: fcLayers ?? defaultFCLayers, omegaHidden: omegaHidden ?? 64,
                                  hyperInput: hyperInput, semantics: semantics)
    }
}

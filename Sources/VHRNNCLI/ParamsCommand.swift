import ArgumentParser
import VHRNN

/// `vhrnn params`: the parameter report of a configuration.
struct ParamsCommand: VHRNNSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "params",
        abstract: "Report a model's parameter count: trainable, and as the paper counts it.",
        discussion: """
            The paper's counts come from the FIVO code, which also builds a reverse LSTM the filtering \
            proposal never uses; "paper_count" includes it (see docs: VHRNN.docc/ModelArchitecture.md). For a VRNN with two fc layers on \
            the synthetic data this gives the paper's 2612 (Z=8) and 1516 (Z=6); on JSB 23,200 / 30,636 / \
            39,096 (Z=H=24/28/32).
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .customLong("data-dim"), help: "Data dimension D.")
    var dataDim: Int

    @OptionGroup var outputFormat: OutputFormatOptions<Self>

    func validate() throws {
        try modelOptions.validateSizes()
        if dataDim < 1 { throw ValidationError("--data-dim must be positive, got \(dataDim)") }
        if modelOptions.latent == nil { throw ValidationError("--latent is required") }
    }

    func execute() throws {
        let config = modelOptions.configuration(dataDim: dataDim, defaultEmission: .bernoulli, defaultLatent: 1)
        var rng = SplitMix64(seed: 0)
        let model = try SequenceModel<Float>(configuration: config, generator: &rng)
        let flops = model.forwardMatmulFlops
        if outputFormat.json {
            printJSON(["trainable": model.parameterCount, "paper_count": model.paperParameterCount,
                       "model": config.model.rawValue, "cell": config.cell.rawValue,
                       "emission": config.emission.rawValue, "data_dim": config.dataDim, "latent": config.latentDim,
                       "hidden": config.hiddenDim, "hyper": config.model == .vhrnn ? config.hyperDim : 0,
                       "fc_layers": config.fcWidths.count,
                       "forward_matmul_flops_per_particle_step": flops.perParticleStep,
                       "forward_matmul_flops_per_sequence_step": flops.perSequenceStep])
        } else {
            print("\(config.model.rawValue) (\(config.cell.rawValue), \(config.emission.rawValue) emission, D=\(dataDim), "
                + "Z=\(config.latentDim), H=\(config.hiddenDim)"
                + (config.model == .vhrnn ? ", Hh=\(config.hyperDim), omega \(config.omegaHidden)" : "")
                + ", \(config.fcWidths.count) fc layer\(config.fcWidths.count == 1 ? "" : "s"))")
            print("  trainable parameters:           \(model.parameterCount)")
            print("  as counted by the paper:        \(model.paperParameterCount)  (FIVO's unused reverse LSTM included)")
            print("  forward matmul FLOPs:           \(flops.perParticleStep) per particle-step + \(flops.perSequenceStep) per sequence-step")
        }
    }
}

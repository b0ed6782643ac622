import ArgumentParser
import VHRNN

@main
struct VHRNNCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vhrnn",
        abstract: "Variational recurrent sequence models (VRNN, VHRNN) trained and evaluated with ELBO, IWAE and FIVO.",
        discussion: """
            Run with no subcommand to train the built-in default: a VHRNN (Z=4) and a VRNN (Z=8) on the \
            synthetic standard set, compared with the paper's Table 1.
            """,
        subcommands: [TrainCommand.self, EvaluateCommand.self, GenerateSyntheticCommand.self, ParamsCommand.self,
                      GradcheckCommand.self],
        defaultSubcommand: TrainCommand.self
    )
}

import ArgumentParser
import VHRNN

/// The checkpoint and data flags of the commands that read a trained model (evaluate,
/// diagnose), spelled once.
struct CheckpointDataOptions: ParsableArguments {
    @Option(help: "Checkpoint directory, or a training output directory (uses its best/).")
    var checkpoint: String

    @Option(help: "Data (default: the checkpoint's training data source).")
    var data: String?

    @Option(help: "Split: train, valid or test.")
    var split: SplitName = .test

    @Option(help: "Run the model under these step semantics (fivo or standard) instead of the checkpoint's.")
    var semantics: StepSemantics?
}

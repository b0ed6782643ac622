import ArgumentParser
import VHRNN

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Train a model.")
    func run() throws { print("train: not yet") }
}

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "evaluate", abstract: "Evaluate a checkpoint.")
    func run() throws { print("evaluate: not yet") }
}

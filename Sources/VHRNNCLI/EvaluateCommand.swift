import ArgumentParser
import VHRNN

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "evaluate", abstract: "Evaluate a checkpoint.")
    func run() throws { print("evaluate: not yet") }
}

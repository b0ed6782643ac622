import ArgumentParser
import Foundation
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
                      GradcheckCommand.self, DiagnoseCommand.self, LogWeightsCommand.self, SampleCommand.self, ImportFIVOCommand.self,
                      ExperimentCommand.self, OnlineFilterCommand.self, ForecastCommand.self, DetectCommand.self],
        defaultSubcommand: TrainCommand.self
    )

    /// Runs the command line; any error is reported as one line on stderr (with a pointer to the
    /// subcommand's --help for flag problems) and a non-zero exit code. --help and --version
    /// print as usual. What a subcommand throws while it runs has been through
    /// `VHRNNSubcommand.run()` first (VHRNNSubcommand.swift), which prints the line for a
    /// run-time failure and passes the rest on to here.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }
            var text = message(for: error)
                .split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
                .joined(separator: " ")
            if text.lowercased().hasPrefix("error: ") { text.removeFirst(7) }
            if !text.isEmpty {
                // ArgumentParser's full message ends with "See 'vhrnn SUB --help' ..."; keep the pointer.
                let help = fullMessage(for: error).split(whereSeparator: \.isNewline)
                    .compactMap { line -> String? in
                        guard let open = line.firstIndex(of: "'"), let close = line.lastIndex(of: "'"), open < close,
                              line.contains("--help") else { return nil }
                        return String(line[line.index(after: open)..<close])
                    }.first
                let hint = help.flatMap { $0 == "vhrnn --help" ? nil : " (see '\($0)')" } ?? ""
                printError("error: \(text)\(hint)")
            }
            Self.exit(withError: code)  // an ExitCode prints nothing
        }
    }
}

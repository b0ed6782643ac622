import ArgumentParser

/// How a command's help words --json. Every ``VHRNNSubcommand`` has the common wording; a
/// command replaces it by declaring `static let jsonHelp`.
protocol OutputFormatWording {
    static var jsonHelp: String { get }
}

extension OutputFormatWording {
    static var jsonHelp: String { "Print one JSON object." }
}

/// `--json`: one JSON object on stdout (``printJSON(_:)``: sorted keys, non-finite numbers as
/// null through ``jsonNumber(_:)``) instead of the human-readable report.
struct OutputFormatOptions<Command: OutputFormatWording>: ParsableArguments {
    @Flag(help: ArgumentHelp(Command.jsonHelp))
    var json = false
}

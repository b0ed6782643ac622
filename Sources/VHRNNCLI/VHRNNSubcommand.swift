import ArgumentParser

/// A `vhrnn` subcommand: it implements ``execute()``, and the shared ``run()`` reports whatever
/// that throws, the same way for every command. Do not implement `run()` yourself.
///
/// - `ExitCode` and `CleanExit` pass through: the command has already printed what it had to.
/// - `ValidationError` (a flag value found wrong only once the command runs, e.g. a
///   `--checkpoint` that holds no checkpoint) passes through to `VHRNNCommand.main()`, which
///   prints it as `error: MESSAGE` and exits 64, like a flag rejected while parsing; a command
///   whose ``validationErrorWhileRunningExitCode`` is another code prints the same line itself
///   and exits with that code.
/// - Anything else (a library error, a file that cannot be read or written) is printed as
///   `error: DESCRIPTION` on stderr, and the command exits 1.
///
/// Errors found while the flags are parsed or in `validate()` never reach ``run()``:
/// `VHRNNCommand.main()` prints them as one line with a pointer to the subcommand's --help and
/// exits 64.
protocol VHRNNSubcommand: ParsableCommand, FilterFlagWording, OutputFormatWording {
    /// The command's work.
    func execute() throws

    /// The exit code of a `ValidationError` thrown by ``execute()``. Default 64 (EX_USAGE, as
    /// for flags rejected while parsing).
    static var validationErrorWhileRunningExitCode: ExitCode { get }
}

extension VHRNNSubcommand {
    static var validationErrorWhileRunningExitCode: ExitCode { .validationFailure }

    func run() throws {
        do {
            try execute()
        } catch let error as ExitCode {
            throw error
        } catch let error as CleanExit {
            throw error
        } catch let error as ValidationError where Self.validationErrorWhileRunningExitCode == .validationFailure {
            throw error
        } catch let error as ValidationError {
            printError("error: \(error)")
            throw Self.validationErrorWhileRunningExitCode
        } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }
}

import Foundation

/// Set by SIGINT (Ctrl-C) or SIGTERM: training checks it every step, stops cleanly and writes its
/// last checkpoint. A second signal exits at once.
final class InterruptFlag: @unchecked Sendable {
    nonisolated(unsafe) private static var raised: sig_atomic_t = 0

    var isSet: Bool { Self.raised != 0 }

    /// The environment variable `vhrnn experiment run --jobs` sets in its child processes.
    static let childEnvironmentKey = "VHRNN_EXPERIMENT_CHILD"

    /// Installs the handlers. In an experiment's child process a repeated signal does not exit:
    /// the child may get the same Ctrl-C twice (from the terminal's process group and from its
    /// parent passing it on) and must still stop after its step and save `last/`.
    static func install() -> InterruptFlag {
        let child = ProcessInfo.processInfo.environment[childEnvironmentKey] == "1"
        for sig in [SIGINT, SIGTERM] {
            if child {
                signal(sig) { _ in InterruptFlag.raised = 1 }
            } else {
                signal(sig) { _ in
                    if InterruptFlag.raised != 0 { _exit(130) }
                    InterruptFlag.raised = 1
                }
            }
        }
        return InterruptFlag()
    }
}

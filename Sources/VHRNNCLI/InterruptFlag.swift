import Foundation

/// Set by SIGINT (Ctrl-C) or SIGTERM: training checks it every step, stops cleanly and writes its
/// last checkpoint. A second signal exits at once.
final class InterruptFlag: @unchecked Sendable {
    nonisolated(unsafe) private static var raised: sig_atomic_t = 0

    var isSet: Bool { Self.raised != 0 }

    static func install() -> InterruptFlag {
        for sig in [SIGINT, SIGTERM] {
            signal(sig) { _ in
                if InterruptFlag.raised != 0 { _exit(130) }
                InterruptFlag.raised = 1
            }
        }
        return InterruptFlag()
    }
}

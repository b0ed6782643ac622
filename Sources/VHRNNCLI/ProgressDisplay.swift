import Foundation
import VHRNN

/// Training progress: one live, rewritten line on a terminal; plain lines (at validations)
/// when stdout is a file or pipe.
final class ProgressDisplay {
    private let enabled: Bool
    private let live: Bool
    private var lastDraw = Date.distantPast
    private var drewLive = false

    init(enabled: Bool) {
        self.enabled = enabled
        live = isatty(STDOUT_FILENO) != 0
    }

    func update(_ p: TrainingProgress) {
        guard enabled else { return }
        let valid = p.validation.map { String(format: "%.4f", $0) } ?? "-"
        let text = String(format: "step %d/%d  loss %.4f  valid FIVO %@  %.1f steps/s  ETA %@", p.step, p.totalSteps,
                          p.loss, valid, p.stepsPerSecond, Self.duration(p.secondsRemaining))
            + (p.skippedSteps > 0 ? "  skipped \(p.skippedSteps) (not finite)" : "")
        if live {
            let now = Date()
            guard p.validated || p.step == p.totalSteps || now.timeIntervalSince(lastDraw) > 0.2 else { return }
            lastDraw = now
            FileHandle.standardOutput.write(Data(("\r\u{1B}[2K" + text).utf8))
            drewLive = true
        } else if p.validated {
            print(text)
        }
    }

    func finish() {
        if enabled && live && drewLive { print("") }
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "-" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(s % 3600 / 60)m" : (s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s")
    }
}

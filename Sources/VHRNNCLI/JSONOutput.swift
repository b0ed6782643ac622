import Foundation
import VHRNN

/// Prints one JSON object on stdout (sorted keys, so output is stable for scripts).
func printJSON(_ object: [String: Any]) {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    print(String(decoding: data, as: UTF8.self))
}

/// Writes one line to stderr.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// The warning printed under an ELBO carried by a handful of particles (nil otherwise).
func elboTailWarning(_ e: SplitEvaluation) -> String? {
    guard e.elboDominatedByTail, let tail = e.elboWithoutTail, let count = e.elboTailCount else { return nil }
    return String(format: "warning: the ELBO is dominated by %d of %d particles (%.4g per step without them); "
                  + "read IWAE and FIVO, and see `vhrnn log-weights`", count, e.sequences * e.particles, tail)
}

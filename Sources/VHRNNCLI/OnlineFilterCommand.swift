import ArgumentParser
import Foundation
import VHRNN

/// `vhrnn filter`: a checkpoint's online filter over frames read one line at a time (stdin or
/// a file), one JSON line out per frame as soon as it arrives.
struct OnlineFilterCommand: VHRNNSubcommand, ParticleFlagWording {
    static let configuration = CommandConfiguration(
        commandName: "filter",
        abstract: "Filter a stream of frames online: one JSON line per frame (log predictive, ESS, resampling, KL).",
        discussion: """
            Reads CSV rows of D values (a first line without numbers is a header and skipped), from --input or stdin, and writes one JSON line \
            per row as soon as it is read: {"step", "line", "observed", "log_predictive", "ess", "resampled", "kl", \
            "mean", "variance"} (the emission's moments under the filtering weights, in the data's units). \
            The log predictives of a sequence sum to its FIVO bound for the same seed and K. A row whose fields \
            are all empty or NaN is a missing frame: the particles move on with the prior, the weights stay. \
            Real data are normalised as in training and log_predictive is the density of the raw frame. \
            With --state FILE the filter starts from FILE if it exists and saves its particles there at the \
            end of the input, at a bad row and on Ctrl-C, so a stream survives a restart. With --alarms FILE (written by \
            `vhrnn detect`) each line also has "surprise" (−log p̂ in the model's units), "kl_rise", "variance_shift" and \
            "alarm" (the scores above their thresholds).
            """)

    static let defaultParticles = 128
    static let particlesHelp = "Particles K per stream."
    static let boundHelp = "Bound whose weights filter: fivo (resampling) or iwae (none)."

    @Option(help: "Checkpoint directory (or a training output directory: its best/).")
    var checkpoint: String

    @Option(help: "CSV file of frames (default: stdin).")
    var input: String?

    @OptionGroup var filterOptions: OnlineFilterOptions<Self>

    @Option(help: "Seed for the filter's noise.")
    var seed: UInt64 = 0

    @Option(help: "Particle state file: resume from it if it exists, save to it when the stream stops.")
    var state: String?

    @Option(help: "Alarm thresholds from `vhrnn detect --out FILE`: add the surprise scores and the alarms raised to each line.")
    var alarms: String?

    func validate() throws {
        try filterOptions.validateOnline()
    }

    func execute() throws {
        let (_, loaded, model) = try loadInferenceModel(checkpoint)
        let D = model.configuration.dataDim, spec = loaded.config.data
        let offset = spec.kind == .binary ? spec.trainFrameMean : nil
        let normalization = spec.kind == .real ? spec.normalization : nil
        if let n = normalization, n.mean.count != D || n.std.count != D {
            throw CLIError("the checkpoint's normalisation has \(n.mean.count) values, the model \(D) dimensions")
        }
        // The density of the raw frame: the normalised frame's, plus log |d x' / d x|.
        let logJacobian = -(normalization?.std.reduce(0) { $0 + log($1) } ?? 0)

        let filter: OnlineFilter<Float>
        if let state, FileManager.default.fileExists(atPath: state) {
            filter = try OnlineFilter(model: model, restoringFrom: state)
        } else {
            filter = try OnlineFilter(model: model, settings: filterOptions.settings, seed: seed, inputOffset: offset)
        }
        let thresholds = try alarms.map(Self.loadThresholds)
        var tracker = SurpriseTracker(window: thresholds?.window ?? 5)
        let interrupt = InterruptFlag.install()
        var reader = try FrameLineReader(path: input, width: D)
        var observations: [OnlineObservation] = []
        var frame = [[Double]](repeating: [Double](repeating: 0, count: D), count: 1)
        defer { fflush(stdout) }
        do {
            while !interrupt.isSet, let (line, values) = try reader.next() {
                for d in 0..<D {
                    let x = values[d]
                    frame[0][d] = normalization.map { (x - $0.mean[d]) / $0.std[d] } ?? x
                }
                try filter.observe(frame, into: &observations)
                let o = observations[0]
                // The emission's moments in the data's own units (undoing the normalisation).
                let mean = (0..<D).map { d in normalization.map { o.emissionMean[d] * $0.std[d] + $0.mean[d] } ?? o.emissionMean[d] }
                let variance = (0..<D).map { d in normalization.map { o.emissionVariance[d] * $0.std[d] * $0.std[d] } ?? o.emissionVariance[d] }
                var object: [String: Any] = [
                    "step": o.step + 1, "line": line, "observed": o.observed,
                    "log_predictive": jsonNumber(o.observed ? o.logPredictive + logJacobian : 0),
                    "ess": jsonNumber(o.effectiveSampleSize), "resampled": o.resampled, "kl": jsonNumber(o.kl),
                    "mean": jsonNumbers(mean), "variance": jsonNumbers(variance),
                ]
                if let thresholds {
                    let scores = tracker.update(o)
                    object["surprise"] = scores.map { jsonNumber($0.surprise) } ?? NSNull()
                    object["kl_rise"] = scores.map { jsonNumber($0.klRise) } ?? NSNull()
                    object["variance_shift"] = scores.map { jsonNumber($0.varianceShift) } ?? NSNull()
                    object["alarm"] = scores.map { s in
                        SurpriseKind.allCases.filter { thresholds.alarm($0, s, step: o.step) }.map(\.rawValue)
                    } ?? []
                }
                printJSON(object)
                fflush(stdout)
            }
        } catch {
            if let state { try filter.save(to: state) }
            throw error
        }
        if let state { try filter.save(to: state) }
    }
}

extension OnlineFilterCommand {
    /// The `thresholds` object of a `vhrnn detect --out` file.
    static func loadThresholds(_ path: String) throws -> AlarmThresholds {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("--alarms \(path): cannot read") }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let thresholds = object["thresholds"] else {
            throw CLIError("--alarms \(path): not a JSON object with \"thresholds\" (write it with `vhrnn detect --out`)")
        }
        do {
            let decoded = try JSONDecoder().decode(AlarmThresholds.self, from: JSONSerialization.data(withJSONObject: thresholds))
            guard SurpriseKind.allCases.allSatisfy({ decoded.thresholds[$0.rawValue] != nil }), decoded.window >= 1 else {
                throw CLIError("--alarms \(path): thresholds need \(SurpriseKind.allCases.map(\.rawValue).joined(separator: " and ")) and a window ≥ 1")
            }
            return decoded
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError("--alarms \(path): the thresholds do not read: \(error)")
        }
    }
}

/// Frames from CSV text, one per line: D numbers separated by commas (spaces around them are
/// ignored); a first line with no number in it is a header; a line of only empty or NaN fields
/// is a missing frame (D NaNs). Errors name the line (and the column).
struct FrameLineReader {
    let width: Int
    let name: String
    private let handle: FileHandle?
    private var lineNumber = 0

    init(path: String?, width: Int) throws {
        self.width = width
        if let path {
            guard let handle = FileHandle(forReadingAtPath: path) else { throw CLIError("--input \(path): cannot open") }
            self.handle = handle
            name = path
        } else {
            handle = nil
            name = "stdin"
        }
    }

    private var buffer = Data()
    private var ended = false

    /// The next line of the input without its line break (nil at the end).
    private mutating func readLine() -> String? {
        guard let handle else { return Swift.readLine(strippingNewline: true) }
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[buffer.startIndex..<newline]
                buffer.removeSubrange(buffer.startIndex...newline)
                return String(decoding: line, as: UTF8.self)
            }
            if ended {
                guard !buffer.isEmpty else { return nil }
                defer { buffer.removeAll() }
                return String(decoding: buffer, as: UTF8.self)
            }
            let chunk = handle.readData(ofLength: 1 << 16)
            if chunk.isEmpty { ended = true } else { buffer.append(chunk) }
        }
    }

    /// The next frame and its line number, skipping blank lines and a header.
    mutating func next() throws -> (line: Int, values: [Double])? {
        while let raw = readLine() {
            lineNumber += 1
            let text = raw.hasSuffix("\r") ? String(raw.dropLast()) : raw
            if text.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let fields = text.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            let values = fields.map { field -> Double? in
                if field.isEmpty || field.lowercased() == "nan" { return .nan }
                return Double(field)
            }
            if lineNumber == 1 && values.allSatisfy({ $0 == nil }) {
                guard fields.count == width else {
                    throw CLIError("\(name) line 1: a header of \(fields.count) columns, the model's frames have \(width)")
                }
                continue
            }
            guard fields.count == width else {
                throw CLIError("\(name) line \(lineNumber): \(fields.count) values, the model's frames have \(width)")
            }
            if let column = values.firstIndex(where: { $0 == nil }) {
                throw CLIError("\(name) line \(lineNumber), column \(column + 1): '\(fields[column])' is not a number")
            }
            let frame = values.map { $0! }
            if let column = frame.firstIndex(where: { $0.isInfinite }) {
                throw CLIError("\(name) line \(lineNumber), column \(column + 1): '\(fields[column])' is not finite")
            }
            if frame.contains(where: \.isNaN) && !frame.allSatisfy(\.isNaN) {
                let column = frame.firstIndex(where: \.isNaN)!
                throw CLIError("\(name) line \(lineNumber), column \(column + 1): empty or NaN in a frame that is not all missing")
            }
            return (lineNumber, frame)
        }
        return nil
    }
}

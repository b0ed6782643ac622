import ArgumentParser
import Foundation
import VHRNN

/// `vhrnn evaluate`: ELBO, IWAE and FIVO per time step of a checkpoint on a split.
struct EvaluateCommand: VHRNNSubcommand, ParticleFlagWording {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate ELBO, IWAE and FIVO per time step of a checkpoint on a data split.",
        discussion: """
            The metric is the bound summed over the split divided by its total number of steps (see docs: VHRNN.docc/BoundsAndResampling.md). \
            The paper evaluates music with K=128 and stock/sensor data with K=1024. Sequences are batched so \
            that sequences × particles stays under --max-rows, and no training tape is kept, so K=1024 over \
            thousands of steps fits in memory.
            """)

    // How this command's shared flags read (FilterOptions.swift).
    static let defaultParticles = 128
    static let particlesHelp = "Particles K."
    static let resamplingHelp = "Resampling criterion for FIVO: never, always, ess or ess:FRACTION."

    @OptionGroup var input: CheckpointDataOptions
    var checkpoint: String { input.checkpoint }
    var data: String? { input.data }
    var split: SplitName { input.split }

    @OptionGroup var particleOptions: ParticleOptions<Self>
    var particles: Int { particleOptions.particles }

    @Option(help: "Bounds to compute (comma-separated: elbo,iwae,fivo).")
    var bounds: String = "elbo,iwae,fivo"

    @OptionGroup var resamplingOptions: ResamplingOptions<Self>

    @Option(name: .customLong("max-rows"), help: "Cap on sequences × particles per filter pass.")
    var maxRows: Int = 4096

    @Option(help: "Seed for the evaluation noise.")
    var seed: UInt64 = 0

    @Option(help: "Evaluate with this many seeds (seed, seed+1, ...) and report mean and standard error.")
    var repeats: Int = 1

    @OptionGroup var outputFormat: OutputFormatOptions<Self>

    func validate() throws {
        try particleOptions.validateParticles()
        if maxRows < 1 { throw ValidationError("--max-rows must be positive, got \(maxRows)") }
        if repeats < 1 { throw ValidationError("--repeats must be positive, got \(repeats)") }
        _ = try parsedBounds()
    }

    func parsedBounds() throws -> [BoundKind] {
        let names = bounds.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let parsed = names.compactMap(BoundKind.init(rawValue:))
        guard !names.isEmpty, parsed.count == names.count else {
            throw ValidationError("--bounds \(bounds): expected a comma-separated list of elbo, iwae, fivo")
        }
        return parsed
    }

    func execute() throws {
        let (directory, loaded, model) = try loadInferenceModel(checkpoint, semantics: input.semantics)
        let (dataset, source) = try dataset(for: loaded, data: data, seed: 0)
        let splitData = dataset.split(split)
        guard splitData.count > 0 else { throw ValidationError("the \(split.rawValue) split of \(source) is empty") }
        let start = Date()
        var runs: [SplitEvaluation] = []
        for r in 0..<repeats {
            runs.append(try Evaluator.evaluate(model: model, split: splitData, particles: particles,
                                               bounds: try parsedBounds(), criterion: resamplingOptions.resampling,
                                               scheme: resamplingOptions.scheme, seed: seed &+ UInt64(r),
                                               maxRows: maxRows))
        }
        let seconds = Date().timeIntervalSince(start)
        let result = runs[0]
        /// Mean and standard error of the mean over the seeds (nil error for one seed).
        func summary(_ b: BoundKind) -> (mean: Double, se: Double?, values: [Double])? {
            let values = runs.compactMap { $0[b] }
            guard values.count == runs.count, let s = ExperimentReport.Summary(values) else { return nil }
            return (s.mean, s.sd.map { $0 / Double(s.n).squareRoot() }, values)
        }
        if outputFormat.json {
            var object: [String: Any] = ["steps": result.steps, "sequences": result.sequences,
                                         "particles": particles, "split": split.rawValue,
                                         "data": source.description, "checkpoint": directory, "seconds": seconds,
                                         "semantics": model.configuration.semantics.rawValue,
                                         "seeds": (0..<repeats).map { seed &+ UInt64($0) }]
            if let se = result.elboStandardError, let tail = result.elboWithoutTail {
                object["elbo_mc_se"] = jsonNumber(se)
                object["elbo_without_tail"] = jsonNumber(tail)
                object["elbo_dominated_by_tail"] = result.elboDominatedByTail
            }
            for b in BoundKind.allCases {
                guard let s = summary(b) else { continue }
                object[b.rawValue] = jsonNumber(s.mean)
                if repeats > 1 {
                    object[b.rawValue + "_se"] = s.se.map(jsonNumber) ?? NSNull()
                    object[b.rawValue + "_values"] = jsonNumbers(s.values)
                }
            }
            printJSON(object)
        } else {
            print("\(directory) on \(source) \(split.rawValue): \(result.sequences) sequences, \(result.steps) steps, K=\(particles), \(model.configuration.semantics.rawValue) semantics"
                + (repeats > 1 ? ", \(repeats) seeds" : ""))
            for b in BoundKind.allCases {
                guard let s = summary(b) else { continue }
                if let se = s.se {
                    print(String(format: "  %@ per step: %.4f ± %.4f (standard error over seeds)", b.rawValue.uppercased(), s.mean, se))
                } else if b == .elbo, let mcse = result.elboStandardError {
                    print(String(format: "  ELBO per step: %.4f ± %.4g (Monte Carlo standard error)", s.mean, mcse))
                } else {
                    print(String(format: "  %@ per step: %.4f", b.rawValue.uppercased(), s.mean))
                }
            }
            if let warning = elboTailWarning(result) { print("  " + warning) }
            print(String(format: "  (%.1f s)", seconds))
        }
    }
}

import ArgumentParser
import Foundation
import VHRNN

/// `vhrnn log-weights`: where a split's ELBO loses its mass — the particles with the lowest
/// log weights, the step and term that sank each, and how many particle-steps sit at the
/// sigma floor (``LogWeightAnatomy``).
struct LogWeightsCommand: VHRNNSubcommand, ParticleFlagWording {
    static let configuration = CommandConfiguration(
        commandName: "log-weights",
        abstract: "The anatomy of a split's ELBO: its standard error, its tail, and the particles that dominate it.",
        discussion: """
            Runs the ELBO's filter (no resampling, the evaluator's noise) over every sequence of the split and \
            prints the ELBO per step with its Monte Carlo standard error, the ELBO without the lowest 0.1% of \
            particle log weights, how many particle-steps have an emission, prior or proposal sigma at the \
            floor (sigmaMin), and, for the particles with the lowest log weights, their terms and the step \
            that cost them most: which term (emission log p(x|z,h), prior log p(z|h) or proposal log q(z|x,h)) \
            and the standardised errors and sigmas there.
            """)

    /// A `ValidationError` while running (e.g. `--checkpoint` naming no checkpoint) has always
    /// exited 1 here, not 64 as in the other commands.
    static let validationErrorWhileRunningExitCode = ExitCode(1)

    // How this command's shared flags read (FilterOptions.swift).
    static let defaultParticles = 128
    static let particlesHelp = "Particles K per sequence."

    @OptionGroup var input: CheckpointDataOptions

    @OptionGroup var particleOptions: ParticleOptions<Self>
    var particles: Int { particleOptions.particles }

    @Option(help: "How many of the lowest particles to describe.")
    var worst: Int = 10

    @Option(help: "Seed for the data (synthetic generation, as in training) and the filter noise.")
    var seed: UInt64 = 0

    @OptionGroup var outputFormat: OutputFormatOptions<Self>

    func validate() throws {
        try particleOptions.validateParticles()
        if worst < 0 { throw ValidationError("--worst must be at least 0, got \(worst)") }
        if let data = input.data { _ = try DataSource(parsing: data) }
    }

    func execute() throws {
        let (directory, loaded, model) = try loadInferenceModel(input.checkpoint, semantics: input.semantics)
        let (dataset, source) = try dataset(for: loaded, data: input.data, seed: seed)
        let split = dataset.split(input.split)
        guard split.count > 0 else { throw CLIError("the \(input.split.rawValue) split of \(source) is empty") }
        let a = try LogWeightAnatomy.compute(model: model, split: split, particles: particles, seed: seed, keep: worst)
        if outputFormat.json { printJSON(object(a, directory: directory, source: source)) } else { report(a, directory: directory, source: source) }
    }

    private func report(_ a: LogWeightAnatomy, directory: String, source: DataSource) {
        func g(_ v: Double) -> String { String(format: "%.4g", v) }
        func share(_ n: Int) -> String { String(format: "%d (%.2f%%)", n, 100 * Double(n) / Double(max(1, a.particleSteps))) }
        print("\(directory) on \(source) \(input.split.rawValue): \(a.sequences) sequences, \(a.steps) steps, K=\(a.particles)")
        print("ELBO per step \(g(a.elbo)) ± \(g(a.elboStandardError)) (Monte Carlo standard error); "
              + "without the lowest \(a.tailCount) of \(a.sequences * a.particles) particles: \(g(a.elboWithoutTail))")
        print("particle-steps with a sigma at the floor \(g(a.sigmaMin)): emission \(share(a.emissionSigmaAtFloor)), "
              + "prior \(share(a.priorSigmaAtFloor)), proposal \(share(a.proposalSigmaAtFloor)) of \(a.particleSteps)")
        guard !a.worst.isEmpty else { return }
        print("lowest log weights (terms summed over the sequence; then the worst step's terms, smallest sigmas and standardised errors):")
        print("  seq  k      log w   Σlog p(x)   Σlog p(z)   Σlog q(z) | step  term         log p(x)   log p(z)   log q(z)  σx min   σz prior  σz prop  |x−μ|/σx  |z−μ|/σz")
        for p in a.worst {
            print(String(format: "  %3d %2d %10.4g  %10.4g  %10.4g  %10.4g | %4d  %-9@ %10.4g %10.4g %10.4g  %7.2g  %7.2g  %7.2g  %8.3g  %8.3g",
                         p.sequence, p.particle, p.logWeight, p.logLikelihood, p.logPrior, p.logProposal, p.worstStep + 1,
                         p.dominantTerm as NSString, p.worstLogLikelihood, p.worstLogPrior, p.worstLogProposal,
                         p.emissionSigma, p.priorSigma, p.proposalSigma, p.emissionError, p.priorError))
        }
    }

    private func object(_ a: LogWeightAnatomy, directory: String, source: DataSource) -> [String: Any] {
        [
            "checkpoint": directory, "data": source.description, "split": input.split.rawValue,
            "sequences": a.sequences, "steps": a.steps, "particles": a.particles,
            "elbo": jsonNumber(a.elbo), "elboStandardError": jsonNumber(a.elboStandardError),
            "elboWithoutTail": jsonNumber(a.elboWithoutTail), "tailCount": a.tailCount, "sigmaMin": a.sigmaMin,
            "particleSteps": a.particleSteps, "emissionSigmaAtFloor": a.emissionSigmaAtFloor,
            "priorSigmaAtFloor": a.priorSigmaAtFloor, "proposalSigmaAtFloor": a.proposalSigmaAtFloor,
            "worst": a.worst.map { p -> [String: Any] in
                ["sequence": p.sequence, "particle": p.particle, "logWeight": jsonNumber(p.logWeight),
                 "logLikelihood": jsonNumber(p.logLikelihood), "logPrior": jsonNumber(p.logPrior),
                 "logProposal": jsonNumber(p.logProposal), "worstStep": p.worstStep + 1, "dominantTerm": p.dominantTerm,
                 "worstLogLikelihood": jsonNumber(p.worstLogLikelihood), "worstLogPrior": jsonNumber(p.worstLogPrior),
                 "worstLogProposal": jsonNumber(p.worstLogProposal), "emissionSigma": jsonNumber(p.emissionSigma),
                 "priorSigma": jsonNumber(p.priorSigma), "proposalSigma": jsonNumber(p.proposalSigma),
                 "emissionError": jsonNumber(p.emissionError), "priorError": jsonNumber(p.priorError)]
            },
        ]
    }
}

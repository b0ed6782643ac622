import ArgumentParser
import VHRNN

extension BoundKind: ExpressibleByArgument {}
extension ResamplingScheme: ExpressibleByArgument {}
extension ResamplingCriterion: ExpressibleByArgument {}

// The particle-filter flags: --bound, --particles, --resampling and --scheme. Each group below
// spells its flags once, with their type, parsing and validation. How a command's help words
// them, and where --particles starts, are the command's own: the groups take them from the
// command type (`ParticleOptions<EvaluateCommand>`), through the protocols below.

/// How a command's help words --bound and --resampling. Every ``VHRNNSubcommand`` has the
/// common wording; a command replaces it by declaring the static property.
protocol FilterFlagWording {
    static var boundHelp: String { get }
    static var resamplingHelp: String { get }
}

extension FilterFlagWording {
    static var boundHelp: String { "Bound: elbo, iwae or fivo." }
    static var resamplingHelp: String { "Resampling criterion: never, always, ess or ess:FRACTION." }
}

/// What a command that takes --particles gives it: its default and its help (no common
/// default: each command's particles do a different job).
protocol ParticleFlagWording: FilterFlagWording {
    static var defaultParticles: Int { get }
    static var particlesHelp: String { get }
}

/// `--bound elbo|iwae|fivo` (default fivo).
struct BoundOption<Command: FilterFlagWording>: ParsableArguments {
    @Option(help: ArgumentHelp(Command.boundHelp))
    var bound: BoundKind = .fivo
}

/// `--particles K` (default: the command's).
struct ParticleOptions<Command: ParticleFlagWording>: ParsableArguments {
    @Option(help: ArgumentHelp(Command.particlesHelp))
    var particles: Int = Command.defaultParticles

    /// Refuses K < 1, and K above `limit` when the command has one. Call it from the command's
    /// `validate()`, where its other checks are, so that the first error reported stays the same.
    func validateParticles(atMost limit: Int? = nil) throws {
        if particles < 1 { throw ValidationError("--particles must be positive, got \(particles)") }
        if let limit, particles > limit {
            throw ValidationError("--particles must be at most \(limit), got \(particles)")
        }
    }
}

/// `--resampling CRITERION` (default: FIVO's rule, ESS ≤ K/2) and `--scheme SCHEME` (default
/// multinomial): when and how FIVO resamples.
struct ResamplingOptions<Command: FilterFlagWording>: ParsableArguments {
    @Option(help: ArgumentHelp(Command.resamplingHelp))
    var resampling: ResamplingCriterion = .default

    @Option(help: "Resampling scheme: multinomial, systematic or stratified.")
    var scheme: ResamplingScheme = .multinomial
}

/// The online filter's flags for `filter`, `forecast` and `detect`: --bound (iwae or fivo: the
/// ELBO's weights are no filtering distribution), --particles, --resampling and --scheme.
struct OnlineFilterOptions<Command: ParticleFlagWording>: ParsableArguments {
    @OptionGroup var boundOption: BoundOption<Command>
    @OptionGroup var particleOptions: ParticleOptions<Command>
    @OptionGroup var resamplingOptions: ResamplingOptions<Command>

    /// K.
    var particles: Int { particleOptions.particles }

    /// Refuses K < 1 and the ELBO. Call it from the command's `validate()`.
    func validateOnline() throws {
        try particleOptions.validateParticles()
        if boundOption.bound == .elbo { throw ValidationError("--bound elbo: the online filter needs iwae or fivo") }
    }

    /// The filter's settings.
    var settings: FilterSettings {
        FilterSettings(bound: boundOption.bound, particleCount: particleOptions.particles,
                       criterion: resamplingOptions.resampling, scheme: resamplingOptions.scheme)
    }
}

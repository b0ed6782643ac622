/// Runs a model's particle filter over a batch and computes ELBO, IWAE or FIVO
/// (<doc:BoundsAndResampling>); with a tape it can then backpropagate the bound through time.
///
/// The filter is the generic SMC core, `SequentialMonteCarlo` (the SMC work: noise, log
/// weights, resampling, gathers and their backward), over `VariationalParticleModel` (the
/// model's step, forward beside backward, composed of the model's components); see
/// <doc:ModelStep>.
///
/// Rows are laid out sequence-major: row `b·K + k` is particle k of sequence b. Each step
/// runs the whole batch's B·K rows through every layer at once (GEMMs over all rows), with the
/// C kernels parallel inside; this is the parallel grain we chose — see docs/PERFORMANCE.md.
///
/// Randomness: each sequence has its own SplitMix64 noise stream, seeded from the pass's
/// `seed` and the sequence's noise key; per step it draws K·Z normals and then K uniforms,
/// whether or not they are used. So a pass is a deterministic function of (parameters, data,
/// seed), and the same seed gives the same noise to ELBO, IWAE and FIVO, and to a sequence
/// whatever batch it is in.
public final class ParticleFilter<S: KernelScalar> {
    /// The model whose bound the filter computes; ``backward(boundGradients:)`` accumulates
    /// into its parameters' gradients.
    public let model: SequenceModel<S>
    let stepModel: VariationalParticleModel<S>
    let smc: SequentialMonteCarlo<VariationalParticleModel<S>>

    /// A filter for `model`. Allocates nothing yet: the first pass
    /// (``run(batch:settings:seed:keepTape:replay:)``) allocates the buffers for its batch,
    /// and later passes reuse them while they fit.
    public init(model: SequenceModel<S>) {
        self.model = model
        stepModel = VariationalParticleModel(model: model)
        smc = SequentialMonteCarlo(model: stepModel)
    }

    /// A deliberate backward defect for the gradient check's own tests (nil otherwise).
    var mutation: GradientMutation? {
        get { stepModel.mutation }
        set {
            stepModel.mutation = newValue
            smc.dropsAncestorScatter = newValue == .droppedAncestorScatter
        }
    }

    /// beta, the weight of the KL part log p(z) − log q(z) of every particle's log weight, for
    /// the passes that follow: 1 (the default) computes the bound; a value in [0, 1) computes
    /// the KL warm-up's surrogate, log p(x | z) + beta (log p(z) − log q(z)) per step, resampling
    /// included, and ``backward(boundGradients:)`` differentiates that surrogate. A pass
    /// keeps the value it started with. Training only (``TrainingOptions/klWarmupSteps``): the
    /// surrogate is not a bound on log p(x) for beta < 1.
    public var klWeight: Double {
        get { stepModel.klWeight }
        set {
            precondition(newValue >= 0 && newValue <= 1, "klWeight must lie in [0, 1], got \(newValue)")
            stepModel.klWeight = newValue
        }
    }

    /// Bytes held by the filter's buffers.
    public var workspaceBytes: Int { (stepModel.tape?.byteCount ?? 0) + (smc.buffers?.arena.byteCount ?? 0) }

    /// Computes the bound for every sequence of `batch`.
    /// - Parameters:
    ///   - batch: the sequences, their lengths and noise keys.
    ///   - settings: the bound, K and (for FIVO) the resampling criterion and scheme.
    ///   - seed: the pass seed; each sequence's noise stream is derived from it and its key.
    ///   - keepTape: keep every step's activations for ``backward(boundGradients:)``.
    ///   - replay: resampling decisions and ancestors to reuse instead of drawing them.
    /// - Returns: the bound of every sequence and the number of resampling events.
    /// - Complexity: O(T · B · K) model steps; nothing is allocated when the buffers of the
    ///   previous pass fit.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func run(batch: SequenceBatch<S>, settings: FilterSettings, seed: UInt64, keepTape: Bool = false,
                    replay: AncestorPlan? = nil) -> FilterResult {
        smc.run(batch: batch, settings: settings, seed: seed, keepTape: keepTape, replay: replay)
    }

    /// ``run(batch:settings:seed:keepTape:replay:)`` with the pass seed drawn from an injected
    /// generator.
    public func run(batch: SequenceBatch<S>, settings: FilterSettings, using generator: inout some RandomNumberGenerator,
                    keepTape: Bool = false, replay: AncestorPlan? = nil) -> FilterResult {
        run(batch: batch, settings: settings, seed: generator.next(), keepTape: keepTape, replay: replay)
    }

    /// The decisions and ancestors of the last pass (to replay it).
    public var recordedPlan: AncestorPlan { smc.recordedPlan }

    /// Accumulates d(Σ_b g_b · bound_b)/dθ into `model.parameters` gradients, for the pass just
    /// run with `keepTape: true`. The training loss −mean_b(log Ẑ_b / T_b) has
    /// g_b = −1 / (B · T_b).
    /// - Parameter boundGradients: g_b, one per sequence of the last batch.
    public func backward(boundGradients: [Double]) {
        backward(boundGradients: boundGradients, into: model.parameters.gradients)
    }

    /// ``backward(boundGradients:)`` into another gradient arena of the model's layout (data-
    /// parallel training gives each worker its own and sums them).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    func backward(boundGradients: [Double], into g: UnsafeMutablePointer<S>) {
        smc.backward(boundGradients: boundGradients, into: g)
    }

    /// Bytes the buffers of a pass of this capacity would hold, computed from the same layouts
    /// without allocating them (so a request too large for the machine can be refused with an
    /// error instead of a crash).
    static func estimatedBytes(architecture a: ModelArchitecture, steps: Int, sequences: Int, particles: Int,
                               withTape: Bool) -> Double {
        let c = a.configuration, lstm = c.cell == .lstm, vh = c.model == .vhrnn
        let stateWidth = c.hiddenDim * (lstm ? 2 : 1) + (vh ? c.hyperDim * (lstm ? 2 : 1) : 0)
        let tape = VariationalTape<S>.Layout(architecture: a, steps: steps, sequences: sequences, particles: particles,
                                             withTape: withTape)
        let smc = SMCBuffers<S>.Layout(steps: steps, sequences: sequences, particles: particles, withTape: withTape,
                                       stateWidth: stateWidth)
        let initial = c.semantics == .fivo
            ? InitialStateBuffers<S>.Layout(architecture: a, rows: sequences * particles).arena.byteCount : 0
        return Double(tape.arena.byteCount) + Double(smc.arena.byteCount) + Double(initial)
    }
}

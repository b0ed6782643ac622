/// What a particle filter needs of a model: a state per particle row that it can propagate one
/// step — drawing from a proposal with noise the filter supplies and returning the incremental
/// log weight log alpha_t — and whose rows a resampling can replace by their ancestors'.
///
/// ``SequentialMonteCarlo`` drives any conforming model: the VRNN/VHRNN step
/// (``VariationalParticleModel``) and, in the tests, a linear-Gaussian state-space model whose
/// exact likelihood a Kalman filter gives. Rows are sequence-major: row `b·K + k` is particle
/// k of sequence b.
///
/// The filter, not the model, owns the randomness: for every sequence and step it draws
/// `K · noiseWidth` standard normals (into ``noise(step:)``) and then K uniforms for its
/// resampling, from that sequence's stream (see docs: VHRNN.docc/ModelStep.md, The SMC core).
protocol ParticleStepModel: AnyObject {
    associatedtype Scalar: KernelScalar

    /// Standard normals one particle draws per step.
    var noiseWidth: Int { get }

    /// The widths of the per-row state blocks that a resampling copies from the ancestors
    /// (for a VRNN: h and, where present, c and the hyper state).
    var stateBlockWidths: [Int] { get }

    /// Readies the model's buffers for a pass over `batch` with `particles` rows per sequence
    /// and computes what does not depend on the particles (encoders over the data, an initial
    /// state). Called once per pass, before step 0. `rowBlocks`: the blocks of rows the pass's
    /// steps will be called with (a model may prepare per-block views of its buffers).
    func beginPass(batch: SequenceBatch<Scalar>, particles: Int, keepTape: Bool, rowBlocks: ParticleRowBlocks)

    /// Where step t's noise goes, `(rows, noiseWidth)`; the filter fills it before
    /// ``stepForward(_:gathered:isLast:rows:)``.
    func noise(step t: Int) -> UnsafeMutablePointer<Scalar>

    /// Propagates the rows `rows` (one of the pass's row blocks) through step t, reading and
    /// writing only those rows: the filter calls it for every block of a step at once, from
    /// different threads, inside one team region.
    /// - Parameters:
    ///   - gathered: the rows start from the copies a resampling gathered into step t (see
    ///     ``stateBlock(_:step:)``) instead of step t-1's outputs.
    ///   - isLast: no later step reads this step's state.
    func stepForward(_ t: Int, gathered: Bool, isLast: Bool, rows: Range<Int>)

    /// log alpha_t of every row `(rows)`, written by step t's forward, valid until the next step.
    func logAlpha(step t: Int) -> UnsafePointer<Scalar>

    /// State block `index` around a resampling before step t: where step t-1 wrote it and
    /// where step t reads its gathered copy, both `(rows, stateBlockWidths[index])`.
    func stateBlock(_ index: Int, step t: Int) -> (written: UnsafePointer<Scalar>, gathered: UnsafeMutablePointer<Scalar>)
}

/// A ``ParticleStepModel`` the filter can backpropagate through (ancestor indices constant).
///
/// State gradients are exchanged as one buffer per side, the blocks of ``stateBlockWidths``
/// one after another, each `(rows, width)`.
protocol DifferentiableParticleStepModel: ParticleStepModel {
    /// Backward of step t of the last taped pass.
    /// - Parameters:
    ///   - dLogAlpha: d bound / d log alpha_t `(rows)`.
    ///   - dOutput: the gradients of the state step t wrote (read; may be used as scratch).
    ///   - dState: accumulates the gradients of the state step t read (zero on entry).
    ///   - gradients: the parameter gradients to accumulate into.
    func stepBackward(_ t: Int, gathered: Bool, isLast: Bool, dLogAlpha: UnsafePointer<Scalar>,
                      dOutput: UnsafeMutablePointer<Scalar>, dState: UnsafeMutablePointer<Scalar>,
                      gradients: UnsafeMutablePointer<Scalar>)

    /// After step 0's backward: `dInitialState` holds the gradients of the state step 0 read;
    /// backpropagates them (if that state depends on parameters) and the pass-level work of
    /// ``ParticleStepModel/beginPass(batch:particles:keepTape:rowBlocks:)``.
    func endBackward(dInitialState: UnsafeMutablePointer<Scalar>, gradients: UnsafeMutablePointer<Scalar>)
}

/// A ``ParticleStepModel`` that can also run as a stream: one frame at a time, with no end
/// known in advance, in constant memory (two step slabs alternating), each step's frames given
/// just before it (``SequentialMonteCarlo/beginStream(settings:seed:noiseKeys:)``).
protocol StreamingParticleStepModel: ParticleStepModel {
    /// Readies the buffers for `streams` sequences of `particles` rows each (the stream's step 0
    /// starts from the model's initial state).
    func beginStream(streams: Int, particles: Int, rowBlocks: ParticleRowBlocks)

    /// The frames of the next step, each `(streams, D)`: what the encoder reads and what the
    /// likelihood scores (a pass's `inputs` and `targets` at that step); `observed` `(streams)`
    /// false where a stream's frame is missing (its rows then propagate without the frame).
    func setFrames(inputs: UnsafePointer<Scalar>, targets: UnsafePointer<Scalar>, observed: UnsafePointer<Bool>)
}

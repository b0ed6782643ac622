/// What one stream step reports per stream, written in place (sized once, so a step allocates
/// nothing): see ``SequentialMonteCarlo/streamStep(into:)``.
final class StreamStepReport<S: KernelScalar> {
    /// `(streams)` log p̂(x_t | x_<t).
    var logPredictive: [Double]
    /// `(streams)` log ESS of the weights after the step (before any resampling).
    var logESS: [Double]
    /// `(streams)` whether the stream resampled after the step.
    var resampled: [Bool]
    /// `(streams · K)` the log weights after the step, before any resampling reset them: the
    /// step's filtering distribution.
    let weights: UnsafeMutablePointer<S>

    init(streams: Int, particles: Int) {
        logPredictive = [Double](repeating: 0, count: streams)
        logESS = [Double](repeating: 0, count: streams)
        resampled = [Bool](repeating: false, count: streams)
        weights = .allocate(capacity: streams * particles)
    }

    deinit { weights.deallocate() }
}

/// What a stream carries from one step to the next (``SequentialMonteCarlo/streamSnapshot()``):
/// enough to continue it exactly, in this process or another. Scalars are stored as Double
/// (exact for Float).
struct StreamSnapshot: Codable, Equatable, Sendable {
    /// Steps taken.
    var steps: Int
    /// `(streams · K)` the log weights carried into the next step.
    var weights: [Double]
    /// `(streams)` the noise streams' states.
    var noiseStates: [UInt64]
    /// `(streams)` lse of the carried weights, and the bound's closed segments.
    var logSumBefore: [Double]
    var closedSegments: [Double]
    /// Whether the next step starts from gathered ancestors (a resampling after the last step),
    /// and their rows `(streams · K)` (empty otherwise).
    var gatherNext: Bool
    var ancestors: [Int32]
    /// The state the last step wrote, one array per state block (`rows × width`), empty
    /// before the first step.
    var stateBlocks: [[Double]]
}

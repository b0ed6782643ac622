/// An input part that is the same for every particle of a sequence (phi_x of the frame),
/// already multiplied by its column block of a layer's weight — once per (step, sequence), for
/// all steps in one GEMM — and read by the particle rows of one step through their sequence
/// index. The backward sums the particles' gradients per sequence into `gradients`; the weight
/// and input gradients then follow in one GEMM over all (step, sequence) rows.
struct SequenceProjection<S> {
    /// `(sequences, width)` the projections of this step.
    var values: UnsafePointer<S>
    /// `(sequences, width)` their gradients (taped passes; nil otherwise).
    var gradients: UnsafeMutablePointer<S>?
    /// `(rows)` the sequence of each particle row.
    var index: UnsafePointer<Int32>
    var sequences: Int
}

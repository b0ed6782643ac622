/// The frame x_t of every sequence, read by the particle rows of one step through their
/// sequence index instead of being copied to every particle (K copies of D values per step).
struct SequenceFrame<S> {
    /// `(sequences, D)` the frames of this step (or `(rows, D)` when `index` is nil).
    var values: UnsafePointer<S>
    /// `(rows)` the sequence of each particle row; nil: row r reads `values` row r.
    var index: UnsafePointer<Int32>?
}

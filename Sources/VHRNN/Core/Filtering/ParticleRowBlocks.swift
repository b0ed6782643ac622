/// How a filter pass splits its particle rows over the kernel threads: contiguous blocks, each
/// run start to finish by one thread in every step's team region (``TeamRegion``).
///
/// With at least as many sequences as blocks, blocks hold whole sequences (a sequence's rows
/// never straddle two threads, so the per-sequence noise is drawn inside the region too);
/// otherwise the rows of one sequence are split into equal blocks of multiples of 16 rows
/// (64-byte-aligned float rows for every slot width). Below `minimumRows` rows per block the
/// pass runs as one block, whose kernels split their own work as before.
///
/// The split depends only on (sequences, particles, threads), so results are reproducible for
/// a fixed thread count; no reduction crosses a block, so the bounds do not depend on it beyond
/// the GEMM's own row-count-dependent paths.
struct ParticleRowBlocks: Equatable {
    /// `[begin, end)` of each block, in row order, covering every row.
    let ranges: [Range<Int>]
    /// Every block holds whole sequences.
    let wholeSequences: Bool

    /// Rows a block needs before a thread of its own pays for its wake-up and its GEMMs' fixed costs.
    static let minimumRows = 32

    init(sequences B: Int, particles K: Int, threads: Int, blocksPerThread: Int,
         minimumRows: Int = ParticleRowBlocks.minimumRows) {
        let N = B * K
        let wanted = max(1, min(threads * blocksPerThread, N / max(1, minimumRows)))
        if wanted == 1 {
            ranges = [0..<N]
            wholeSequences = true
        } else if B >= wanted {
            ranges = (0..<wanted).map { i in (i * B / wanted) * K..<((i + 1) * B / wanted) * K }
            wholeSequences = true
        } else {
            let unit = 16, units = (N + unit - 1) / unit
            ranges = (0..<wanted).map { i in min(N, i * units / wanted * unit)..<min(N, (i + 1) * units / wanted * unit) }
                .filter { !$0.isEmpty }
            wholeSequences = ranges.count == 1
        }
    }

    var count: Int { ranges.count }
}

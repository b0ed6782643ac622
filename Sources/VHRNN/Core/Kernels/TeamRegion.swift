internal import CVHRNN

/// One parallel region over blocks of work (`vh_parallel_team`): `body(i)` runs once for every
/// block i, the blocks spread over the kernel threads, and every kernel called inside a block
/// runs on that block's thread alone. So a filter step costs one wake-up and one join however
/// many kernels it calls, instead of one per kernel.
enum TeamRegion {
    /// Blocks per thread the backend runs best with: 1 with OpenMP (its workers start together),
    /// 2 with libdispatch (a late worker's block is taken over by another thread).
    static var blocksPerThread: Int { Int(vh_team_blocks_per_thread()) }

    /// Runs independent workers `body(0) … body(workers - 1)` in parallel (`vh_parallel_workers`):
    /// with OpenMP as one team region, with libdispatch as plain concurrent work whose kernels
    /// may still split (measured: inlining them cost the libdispatch build 6–24% of its training
    /// throughput, since a worker that finishes early then idles).
    static func runWorkers(_ workers: Int, _ body: (Int) -> Void) {
        call(vh_parallel_workers, workers, body)
    }

    /// Hands `body` to a C entry point that calls fn(ctx, i, i + 1) for every i < count.
    private static func call(_ entry: (Int, vh_range_fn?, UnsafeMutableRawPointer?) -> Void, _ count: Int,
                             _ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            var closure = body
            withUnsafeMutablePointer(to: &closure) { context in
                entry(count, { context, begin, _ in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(begin)
                }, context)
            }
        }
    }

    /// Runs `body(0) … body(blocks - 1)`, in parallel when `blocks > 1`. With one block `body`
    /// runs on the calling thread and its kernels keep their own parallel-for.
    static func run(blocks: Int, _ body: (Int) -> Void) {
        guard blocks > 1 else {
            if blocks == 1 { body(0) }
            return
        }
        call(vh_parallel_team, blocks, body)
    }
}

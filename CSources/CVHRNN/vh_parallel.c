// vh_parallel.c — the one parallel-for every kernel uses.
//
// OpenMP when built with VH_USE_OPENMP (the Makefile's opt-in build), libdispatch otherwise
// (no compiler flags needed, so the package stays usable as a versioned dependency).
// Swift's clang ships no omp.h, so the few OpenMP entry points used are declared here.
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <cblas.h>

#include "vh_kernels.h"

#ifdef VH_USE_OPENMP
int omp_get_max_threads(void);
#else
// libdispatch ships with Swift (and with macOS), but its header is not on the C include path
// of a SwiftPM C target on Linux; the two entry points used are declared here.
struct dispatch_queue_s;
struct dispatch_queue_s *dispatch_get_global_queue(intptr_t identifier, uintptr_t flags);
void dispatch_apply_f(size_t iterations, struct dispatch_queue_s *queue, void *context,
                      void (*work)(void *context, size_t iteration));
#endif

// Read by every kernel call, from any thread, and set by vh_set_thread_count: relaxed atomics
// (plain loads and stores on x86 and arm64; no data race in the C11 sense, which TSan flagged).
static _Atomic int vh_thread_override = 0;

static int vh_default_threads(void) {
    const char *env = getenv("VHRNN_THREADS");
    if (env && atoi(env) > 0) return atoi(env);
#ifdef VH_USE_OPENMP
    return omp_get_max_threads();
#else
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cores > 0 ? (int)cores : 1;
#endif
}

// The default is computed once: sysconf reads /sys on every call (~7 us), far more than the
// small kernels it would gate. Threads that race to fill it all compute the same value.
static _Atomic int vh_cached_default_threads = 0;

int vh_thread_count(void) {
    int override = atomic_load_explicit(&vh_thread_override, memory_order_relaxed);
    if (override > 0) return override;
    int cached = atomic_load_explicit(&vh_cached_default_threads, memory_order_relaxed);
    if (cached == 0) {
        cached = vh_default_threads();
        atomic_store_explicit(&vh_cached_default_threads, cached, memory_order_relaxed);
    }
    return cached;
}

void vh_set_thread_count(int n) { atomic_store_explicit(&vh_thread_override, n > 0 ? n : 0, memory_order_relaxed); }

const char *vh_parallel_backend(void) {
#ifdef VH_USE_OPENMP
    return "openmp";
#else
    return "dispatch";
#endif
}

int openblas_get_num_threads(void);
void openblas_set_num_threads(int);

// The linear kernels split their GEMMs over vh_parallel_for themselves, so OpenBLAS runs
// single-threaded: its own pool busy-waits (sched_yield) between calls and competes with the
// element-wise kernels for the cores. Set once when the library is loaded;
// KernelRuntime.blasThreadCount can change it.
__attribute__((constructor)) static void vh_single_threaded_blas(void) { openblas_set_num_threads(1); }
int vh_blas_thread_count(void) { return openblas_get_num_threads(); }
void vh_set_blas_threads(int n) { openblas_set_num_threads(n > 0 ? n : 1); }

// OpenMP: one static chunk per thread (its workers spin briefly, so all start together).
// libdispatch: parks idle workers, which take microseconds to wake; with several chunks per
// thread the calling thread takes over the chunks of a late worker instead of waiting for it.
#ifdef VH_USE_OPENMP
#define VH_CHUNKS_PER_THREAD 1
#else
#define VH_CHUNKS_PER_THREAD 8
#endif

typedef struct {
    vh_range_fn fn;
    void *ctx;
    size_t count;
    size_t chunk;
} vh_chunked_call;

#ifndef VH_USE_OPENMP
static void vh_dispatch_trampoline(void *p, size_t i) {
    const vh_chunked_call *call = (const vh_chunked_call *)p;
    size_t begin = i * call->chunk;
    size_t end = begin + call->chunk < call->count ? begin + call->chunk : call->count;
    call->fn(call->ctx, begin, end);
}
#endif

// Set while a thread runs a block of vh_parallel_team: nested parallel-fors run inline.
static _Thread_local int vh_inside_team = 0;

void vh_parallel_for(size_t count, size_t grain, vh_range_fn fn, void *ctx) {
    if (count == 0) return;
    if (vh_inside_team) {
        fn(ctx, 0, count);
        return;
    }
    if (grain == 0) grain = 1;
    size_t threads = (size_t)vh_thread_count();
    size_t chunks = (count + grain - 1) / grain;
    if (chunks > threads * VH_CHUNKS_PER_THREAD) chunks = threads * VH_CHUNKS_PER_THREAD;
    if (threads <= 1 || chunks <= 1) {
        fn(ctx, 0, count);
        return;
    }
    // Equal contiguous ranges, one per thread: the split depends only on count and the thread
    // count, so results are reproducible for a fixed thread count.
    vh_chunked_call call = {fn, ctx, count, (count + chunks - 1) / chunks};
    chunks = (count + call.chunk - 1) / call.chunk;
#ifdef VH_USE_OPENMP
    long nchunks = (long)chunks;
#pragma omp parallel for schedule(static) num_threads(nchunks)
    for (long i = 0; i < nchunks; i++) {
        size_t begin = (size_t)i * call.chunk;
        size_t end = begin + call.chunk < count ? begin + call.chunk : count;
        fn(ctx, begin, end);
    }
#else
    dispatch_apply_f(chunks, dispatch_get_global_queue(0, 0),
                     &call, vh_dispatch_trampoline);
#endif
}

// ---- team regions ---------------------------------------------------------------------------

typedef struct {
    vh_range_fn fn;
    void *ctx;
} vh_team_call;

static void vh_team_block(const vh_team_call *call, size_t i) {
    int outer = vh_inside_team;
    vh_inside_team = 1;
    call->fn(call->ctx, i, i + 1);
    vh_inside_team = outer;
}

#ifndef VH_USE_OPENMP
static void vh_worker_trampoline(void *p, size_t i) {
    const vh_team_call *call = (const vh_team_call *)p;
    call->fn(call->ctx, i, i + 1);
}
#endif

void vh_parallel_workers(size_t workers, vh_range_fn fn, void *ctx) {
#ifdef VH_USE_OPENMP
    vh_parallel_team(workers, fn, ctx);
#else
    if (workers == 0) return;
    vh_team_call call = {fn, ctx};
    dispatch_apply_f(workers, dispatch_get_global_queue(0, 0), &call, vh_worker_trampoline);
#endif
}

#ifndef VH_USE_OPENMP
static void vh_team_trampoline(void *p, size_t i) { vh_team_block((const vh_team_call *)p, i); }
#endif

int vh_team_blocks_per_thread(void) {
#ifdef VH_USE_OPENMP
    return 1;
#else
    return 2;
#endif
}

void vh_parallel_team(size_t blocks, vh_range_fn fn, void *ctx) {
    if (blocks == 0) return;
    vh_team_call call = {fn, ctx};
    if (blocks == 1 || vh_inside_team || vh_thread_count() <= 1) {
        for (size_t i = 0; i < blocks; i++) vh_team_block(&call, i);
        return;
    }
#ifdef VH_USE_OPENMP
    long n = (long)blocks, threads = vh_thread_count();
#pragma omp parallel for schedule(static) num_threads(n < threads ? n : threads)
    for (long i = 0; i < n; i++) vh_team_block(&call, (size_t)i);
#else
    dispatch_apply_f(blocks, dispatch_get_global_queue(0, 0), &call, vh_team_trampoline);
#endif
}

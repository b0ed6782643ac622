// vh_kernels.h — the C kernel core of VHRNN.
//
// Every numerical kernel exists in two precisions written once: the declarations in
// vh_kernels_precision.h are stamped out here for float (suffix _f32, speed) and double
// (suffix _f64, verification). Conventions, after llm.c:
//   - forward:  outputs, caches kept for backward, inputs, parameters, sizes;
//   - backward: input gradients, parameter gradients, dout, forward inputs and caches,
//               parameters, sizes. Backward ACCUMULATES (+=) into every gradient buffer;
//               the caller zeroes the gradient arena once per step. A gradient pointer may be
//               NULL where documented, meaning "not wanted".
//   - matrices are row-major; `n` is the number of rows (sequences x particles);
//     shapes are given in comments as (rows, cols).
#ifndef VH_KERNELS_H
#define VH_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---- parallelism ---------------------------------------------------------------------------
// One parallel-for used by every parallel kernel: OpenMP when built with VH_USE_OPENMP,
// libdispatch otherwise. fn(ctx, begin, end) is called on disjoint ranges covering [0, count).
// Ranges are at least `grain` long (except the last), so small problems run inline.
typedef void (*vh_range_fn)(void *ctx, size_t begin, size_t end);
void vh_parallel_for(size_t count, size_t grain, vh_range_fn fn, void *ctx);
// A team region: fn(ctx, i, i + 1) for every block i < blocks, the blocks spread over the
// threads (one per thread with OpenMP; with libdispatch a late worker's blocks are taken over).
// Inside a block every vh_parallel_for runs inline, so a block runs a whole stage sequence
// (e.g. one filter step over its particle rows) on one thread with one wake-up per region.
void vh_parallel_team(size_t blocks, vh_range_fn fn, void *ctx);
// Independent workers (e.g. data-parallel training shares): fn(ctx, i, i + 1) for every i < workers,
// in parallel. With OpenMP they run as one team region (a parallel-for from a worker outside a
// team would start a second team of spinning threads per worker); with libdispatch their
// parallel-fors still split (the core of a worker that finishes first then helps the other).
void vh_parallel_workers(size_t workers, vh_range_fn fn, void *ctx);
// Blocks per thread that vh_parallel_team runs best with on this backend (1 OpenMP, 2 dispatch).
int vh_team_blocks_per_thread(void);
// Threads the helper uses (OMP_NUM_THREADS / VHRNN_THREADS / online cores).
int vh_thread_count(void);
// Override the thread count (n >= 1); 0 restores the default.
void vh_set_thread_count(int n);
// "openmp" or "dispatch".
const char *vh_parallel_backend(void);
// OpenBLAS threads (for reporting); set with vh_set_blas_threads.
int vh_blas_thread_count(void);
void vh_set_blas_threads(int n);
// The float code path of this machine: the kernels' instruction-set level (4 = x86-64-v4
// AVX-512, 3 = x86-64-v3 AVX2+FMA, 0 = baseline or not x86-64) and OpenBLAS's core name.
int vh_isa_level(void);
const char *vh_blas_core(void);

// Status codes returned by kernels that can fail on bad input.
enum { VH_OK = 0, VH_ERR_INDEX = 1 };

// count uniforms in [0, 1) (53 random bits) from the SplitMix64 stream *state.
void vh_fill_uniform(double *out, size_t count, uint64_t *state);
// One SplitMix64 output (advances *state).
uint64_t vh_splitmix64_next(uint64_t *state);

// ---- self-test of the fast float math used by the float kernels (impl/vh_fastmath.h) ------
// Sweeps float bit patterns 0, stride, 2 stride, ... < 2^32 (every sign, exponent, NaN, inf)
// through exp, log, tanh, sigmoid, softplus (in that order) and writes each function's
// largest error in float ulps against double libm to max_ulp[0..4] (inf if a special value
// is wrong) and the input that gave it to worst_input[0..4] (may be NULL).
// level: 0 = baseline x86-64 / generic code, 3 = x86-64-v3 (AVX2+FMA), 4 = x86-64-v4
// (AVX-512). Returns 0, or -1 if the level is not available on this CPU / platform.
int vh_fastmath_selftest(int level, uint32_t stride, double *max_ulp, float *worst_input);
// One fast-math function (0 exp, 1 log, 2 tanh, 3 sigmoid, 4 softplus) at x, baseline path.
float vh_fastmath_eval(int function, float x);

#define VH_REAL float
#define VH_FN(name) name##_f32
#include "vh_kernels_precision.h"
#undef VH_REAL
#undef VH_FN

#define VH_REAL double
#define VH_FN(name) name##_f64
#include "vh_kernels_precision.h"
#undef VH_REAL
#undef VH_FN

#ifdef __cplusplus
}
#endif
#endif

// vh_internal.h — shared by every kernel family (not public).
#ifndef VH_INTERNAL_H
#define VH_INTERNAL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cblas.h>

#include "vh_kernels.h"
#include "vh_fastmath.h"

// Run-time dispatch of hot loops: clang emits an AVX-512 (x86-64-v4), an AVX2+FMA (v3) and a
// baseline copy and an ifunc picks one at load time (no -march needed). ELF only. See docs:
// VHRNN.docc/KernelCore.md.
// Not under ThreadSanitizer: it instruments the ifunc resolvers, which run during relocation
// before its runtime exists (a segfault at load), so a TSan build has the baseline copy only.
#if defined(__has_feature)
#if __has_feature(thread_sanitizer) && !defined(VH_NO_CLONES)
#define VH_NO_CLONES 1
#endif
#endif
#if defined(__x86_64__) && defined(__clang__) && defined(__ELF__) && !defined(VH_NO_CLONES)
#define VH_TARGET_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define VH_TARGET_CLONES
#endif

// Rows per parallel chunk so that a chunk does at least ~32k flops of work: below that the
// ~0.3 us per-chunk dispatch cost dominates (see docs: VHRNN.docc/KernelCore.md).
static inline size_t vh_grain_rows(size_t flops_per_row) {
    size_t g = 32768 / (flops_per_row ? flops_per_row : 1);
    return g ? g : 1;
}

// Products n·in·out up to this size take the small-GEMM paths in vh_linear_impl.h.
#define VH_SMALL_GEMM_WORK ((size_t)1 << 18)

// Vectorise the next loop, ignoring possible memory dependences: only used on loops whose
// iterations touch disjoint elements (element-wise in-place updates are fine). VH_SIMD_MATH
// (vh_instantiate.h) is the same for loops calling the math functions: float only, since the
// double versions call libm and cannot be vectorised.
#define VH_SIMD _Pragma("clang loop vectorize(assume_safety)")

// SplitMix64 (vh_splitmix64_next): output i >= 1 of a stream whose state is s is
// vh_splitmix64_mix(s + i·VH_SPLITMIX_GAMMA), and the state after it is s + i·gamma — so any
// block of outputs can be computed lane-parallel (vh_fill_standard_normal_f32).
#define VH_SPLITMIX_GAMMA 0x9E3779B97F4A7C15ull
static inline __attribute__((always_inline)) uint64_t vh_splitmix64_mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

#endif

// vh_internal.h — shared by every kernel family (not public).
#ifndef VH_INTERNAL_H
#define VH_INTERNAL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cblas.h>

#include "vh_kernels.h"

// Rows per parallel chunk so that a chunk does at least ~32k flops of work: below that the
// ~0.3 us per-chunk dispatch cost dominates (DESIGN §8).
static inline size_t vh_grain_rows(size_t flops_per_row) {
    size_t g = 32768 / (flops_per_row ? flops_per_row : 1);
    return g ? g : 1;
}

// Products n·in·out up to this size take the small-GEMM paths in vh_linear_impl.h.
#define VH_SMALL_GEMM_WORK ((size_t)1 << 18)

#endif

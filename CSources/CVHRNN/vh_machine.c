// vh_machine.c — which floating-point code path this machine takes.
//
// The float kernels are compiled three times (VH_TARGET_CLONES: x86-64-v4, v3, baseline) and
// OpenBLAS picks GEMM kernels per CPU; each path rounds differently, so a trained model's
// numbers differ slightly between machines. Results files record both, so a difference
// between two runs can be told from a change in the code.
#include <cblas.h>

#include "vh_kernels.h"

int vh_isa_level(void) {
#if defined(__x86_64__) && defined(__clang__) && defined(__ELF__)
    // The same tests the target_clones resolver makes.
    if (__builtin_cpu_supports("x86-64-v4")) return 4;
    if (__builtin_cpu_supports("x86-64-v3")) return 3;
#endif
    return 0;
}

char *openblas_get_corename(void);

const char *vh_blas_core(void) { return openblas_get_corename(); }

// vh_fastmath.c — self-test of the fast float math (impl/vh_fastmath.h) against double libm,
// compiled once per instruction-set level so every target_clones code path is checked.
#include "vh_internal.h"
#include "vh_fastmath.h"

enum { VH_FM_FUNCS = 5, VH_FM_BLOCK = 512 };

// Error of y in units in the last place of the float nearest to the exact value ref.
static double vh_fm_ulp_error(float y, double ref) {
    if (isnan(ref)) return isnan(y) ? 0 : INFINITY;
    if (isinf(ref)) return (double)y == ref ? 0 : INFINITY;
    if (isinf(y)) {  // overflow: fine only if ref is beyond the float range's rounding edge
        if (fabs(ref) < 0x1.fffffep127) return INFINITY;
        return (0x1p128 - fabs(ref)) / 0x1p104;
    }
    double a = fabs(ref);
    int e;
    frexp(a, &e);                                    // a = f 2^e, f in [0.5, 1)
    double ulp = ldexp(1.0, (e - 24) > -149 ? e - 24 : -149);
    if (a > 0x1.fffffep127) ulp = 0x1p104;           // beyond FLT_MAX: the last float's ulp
    return fabs((double)y - ref) / ulp;
}

static double vh_fm_ref(int f, float xf) {
    double x = xf;
    switch (f) {
    case 0: return exp(x);
    case 1: return log(x);
    case 2: return tanh(x);
    case 3: return 1.0 / (1.0 + exp(-x));
    default: return (x > 0 ? x : 0) + log1p(exp(-fabs(x)));
    }
}

// One loop per function over a block so each is vectorised for the function's target.
#define VH_FM_SWEEP_BODY                                                                     \
    for (int f = 0; f < VH_FM_FUNCS; f++) max_ulp[f] = 0;                                   \
    float in[VH_FM_BLOCK], out[VH_FM_FUNCS][VH_FM_BLOCK];                                    \
    uint64_t bits = 0;                                                                       \
    const uint64_t total = (uint64_t)1 << 32;                                                \
    while (bits < total) {                                                                   \
        int m = 0;                                                                           \
        for (; m < VH_FM_BLOCK && bits < total; m++, bits += stride) {                      \
            uint32_t b32 = (uint32_t)bits;                                                   \
            memcpy(&in[m], &b32, 4);                                                         \
        }                                                                                    \
        for (int j = 0; j < m; j++) out[0][j] = vh_fast_expf(in[j]);                         \
        for (int j = 0; j < m; j++) out[1][j] = vh_fast_logf(in[j]);                         \
        for (int j = 0; j < m; j++) out[2][j] = vh_fast_tanhf(in[j]);                        \
        for (int j = 0; j < m; j++) out[3][j] = vh_fast_sigmoidf(in[j]);                     \
        for (int j = 0; j < m; j++) out[4][j] = vh_fast_softplusf(in[j]);                    \
        for (int f = 0; f < VH_FM_FUNCS; f++)                                                \
            for (int j = 0; j < m; j++) {                                                    \
                double err = vh_fm_ulp_error(out[f][j], vh_fm_ref(f, in[j]));                \
                if (!(err <= max_ulp[f])) { max_ulp[f] = err; worst[f] = in[j]; }             \
            }                                                                                \
    }

#if defined(__x86_64__) && defined(__clang__) && defined(__ELF__)
__attribute__((target("arch=x86-64-v4"))) static void
vh_fm_sweep_v4(double *max_ulp, float *worst, uint32_t stride) { VH_FM_SWEEP_BODY }
__attribute__((target("arch=x86-64-v3"))) static void
vh_fm_sweep_v3(double *max_ulp, float *worst, uint32_t stride) { VH_FM_SWEEP_BODY }
#endif
static void vh_fm_sweep_base(double *max_ulp, float *worst, uint32_t stride) { VH_FM_SWEEP_BODY }

int vh_fastmath_selftest(int level, uint32_t stride, double *max_ulp, float *worst_input) {
    if (stride == 0) stride = 1;
    float worst[VH_FM_FUNCS] = {0};
    switch (level) {
#if defined(__x86_64__) && defined(__clang__) && defined(__ELF__)
    case 4:
        if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
            !__builtin_cpu_supports("avx512dq") || !__builtin_cpu_supports("avx512vl"))
            return -1;
        vh_fm_sweep_v4(max_ulp, worst, stride);
        break;
    case 3:
        if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return -1;
        vh_fm_sweep_v3(max_ulp, worst, stride);
        break;
#endif
    case 0: vh_fm_sweep_base(max_ulp, worst, stride); break;
    default: return -1;
    }
    if (worst_input) memcpy(worst_input, worst, sizeof worst);
    return 0;
}

// Scalar entry points (through the baseline code path) for special-value tests.
float vh_fastmath_eval(int function, float x) {
    switch (function) {
    case 0: return vh_fast_expf(x);
    case 1: return vh_fast_logf(x);
    case 2: return vh_fast_tanhf(x);
    case 3: return vh_fast_sigmoidf(x);
    default: return vh_fast_softplusf(x);
    }
}

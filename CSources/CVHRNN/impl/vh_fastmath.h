// vh_fastmath.h — branch-free float exp / log / tanh / sigmoid / softplus that clang
// auto-vectorises inside loops (no libm calls, no -ffast-math).
//
// Cephes-style: range reduction + minimax polynomial, special values by selects at the end.
// Every function is `static inline always_inline` so it is compiled for the target of the
// function it lands in: inside a target_clones kernel (VH_HOT) it becomes AVX-512 / AVX2+FMA
// / SSE2 vector code. Accuracy against double libm over a dense sweep (vh_fastmath_selftest,
// Tests/VHRNNTests/Kernels/FastMathTests.swift): exp <= 1 ulp, log <= 1 ulp, tanh <= 2 ulp,
// sigmoid <= 2 ulp, softplus <= 2 ulp, in every code path (with and without FMA), including
// subnormal results of exp. Special values follow libm: exp(-inf) = 0, exp(+inf) = inf,
// exp(x > 88.73) = inf, log(0) = -inf, log(x < 0) = NaN, log(inf) = inf, tanh(+-inf) = +-1,
// tanh(-0) = -0, sigmoid(+-inf) = 1 / 0, softplus(1e6) = 1e6, softplus(-1e6) = 0, NaN -> NaN.
// Also here for the float normal generator: vh_fast_sqrtf (the sqrt instruction, without libm's
// errno path, which blocks vectorisation) and vh_fast_sincos_quarter (|x| <= pi/4 only).
#ifndef VH_FASTMATH_H
#define VH_FASTMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#define VH_FM static inline __attribute__((always_inline, unused))

VH_FM uint32_t vh_fm_bits(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}
VH_FM float vh_fm_float(uint32_t u) {
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

// e^x. x = n ln2 + r, |r| <= ln2/2; e^r by Cephes' degree-6 polynomial; 2^n applied in two
// halves (each a normal number) so results that overflow become inf and results in the
// subnormal range are rounded once, as libm does.
VH_FM float vh_fast_expf(float x) {
    // NaN-preserving clamp: comparisons with NaN are false, so NaN passes through.
    float xc = x > 89.0f ? 89.0f : x;
    xc = xc < -104.0f ? -104.0f : xc;
    // n = round(x / ln2) by the 1.5 * 2^23 trick (round-to-nearest, no rint libcall on SSE2);
    // its low bits are n as an integer, so no float->int conversion of a NaN can occur.
    float t = xc * 1.44269504088896341f + 12582912.0f;
    int32_t n = (int32_t)vh_fm_bits(t) - 0x4B400000;
    float nf = t - 12582912.0f;
    float r = xc - nf * 0.693359375f;        // ln2 split in two (Cephes C1, C2)
    r = r - nf * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    int32_t n1 = n >> 1, n2 = n - n1;      // n in [-150, 129] -> halves in [-75, 65]
    float s1 = vh_fm_float((uint32_t)(n1 + 127) << 23);
    float s2 = vh_fm_float((uint32_t)(n2 + 127) << 23);
    return (p * s1) * s2;
}

// log x. x = 2^e m, m in [sqrt(1/2), sqrt(2)); log(m) by Cephes' polynomial in m - 1.
// log(x) for a positive normal x, before vh_fast_logf's special cases; `scaled` says x was
// multiplied by 2^23 (a subnormal input brought into range).
VH_FM float vh_fm_log_normal(float x, int scaled) {
    uint32_t u = vh_fm_bits(x);
    int32_t e = (int32_t)((u >> 23) & 0xffu) - 126 - (scaled ? 23 : 0);
    float m = vh_fm_float((u & 0x007fffffu) | 0x3f000000u);  // [0.5, 1)
    int lo = m < 0.707106781186547524f;
    float f = lo ? (m + m) - 1.0f : m - 1.0f;                 // exact
    float fe = (float)(e - lo);
    float z = f * f;
    float p = 7.0376836292e-2f;
    p = p * f - 1.1514610310e-1f;
    p = p * f + 1.1676998740e-1f;
    p = p * f - 1.2420140846e-1f;
    p = p * f + 1.4249322787e-1f;
    p = p * f - 1.6668057665e-1f;
    p = p * f + 2.0000714765e-1f;
    p = p * f - 2.4999993993e-1f;
    p = p * f + 3.3333331174e-1f;
    float y = p * f * z;
    y = y + fe * -2.12194440e-4f;
    y = y - 0.5f * z;
    float res = f + y;
    return res + fe * 0.693359375f;
}

VH_FM float vh_fast_logf(float x) {
    int sub = x < 1.17549435e-38f;  // subnormal (or <= 0): scale up by 2^23 first
    float res = vh_fm_log_normal(sub ? x * 8388608.0f : x, sub);
    res = x == INFINITY ? x : res;
    res = x == 0.0f ? -INFINITY : res;
    res = x < 0.0f ? NAN : res;
    res = x != x ? x : res;
    return res;
}

// log(1 + t) for t in [0, 1] or NaN (what softplus passes): 1 + t lies in [1, 2], where none
// of vh_fast_logf's special cases but NaN can occur, so they are skipped (same bits, fewer
// operations in the softplus of every Bernoulli key and Gaussian sigma).
VH_FM float vh_fast_log1p_unit(float t) {
    float u = 1.0f + t;
    float c = t - (u - 1.0f);
    float res = vh_fm_log_normal(u, 0) + c / u;
    return u != u ? u : res;
}

VH_FM float vh_fast_softplusf(float a) {
    return (a > 0.0f ? a : 0.0f) + vh_fast_log1p_unit(vh_fast_expf(-fabsf(a)));
}

// sigmoid(a) = 1 / (1 + e^-a), from e = e^-|a| so neither branch overflows.
VH_FM float vh_fast_sigmoidf(float a) {
    float e = vh_fast_expf(-fabsf(a));
    return (a >= 0.0f ? 1.0f : e) / (1.0f + e);
}

// tanh x: Cephes' odd polynomial for |x| < 0.625, else 1 - 2 / (e^{2|x|} + 1) with x's sign.
VH_FM float vh_fast_tanhf(float x) {
    float ax = fabsf(x);
    float z = x * x;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    float small = ax + ax * z * p;
    float e = vh_fast_expf(ax + ax);
    float big = 1.0f - 2.0f / (e + 1.0f);
    return copysignf(ax < 0.625f ? small : big, x);  // odd; keeps tanh(-0) = -0
}

// Correctly rounded sqrt without the errno side effect of libm's sqrtf (clang keeps math-errno
// on Linux, which blocks vectorising sqrtf calls): the IEEE square-root instruction.
VH_FM float vh_fast_sqrtf(float x) {
#if __has_builtin(__builtin_elementwise_sqrt)
    return __builtin_elementwise_sqrt(x);
#else
    return sqrtf(x);
#endif
}

// sin and cos of x for |x| <= pi/4 (the reduced argument of a quadrant-reduced angle):
// Cephes' sinf / cosf minimax polynomials, ~1 ulp on that interval. No range reduction and no
// special values: the caller reduces (vh_fill_standard_normal_f32 takes the quadrant from the
// integer bits of its angle, so its reduction is exact).
VH_FM void vh_fast_sincos_quarter(float x, float *s, float *c) {
    float z = x * x;
    float ps = -1.9515295891e-4f;
    ps = ps * z + 8.3321608736e-3f;
    ps = ps * z - 1.6666654611e-1f;
    *s = ps * z * x + x;
    float pc = 2.443315711809948e-5f;
    pc = pc * z - 1.388731625493765e-3f;
    pc = pc * z + 4.166664568298827e-2f;
    *c = pc * z * z - 0.5f * z + 1.0f;
}

#endif

// Particle-filter kernels: decoder hyper-scaling, ancestor gather, log-sum-exp, log weights.
#include "vh_internal.h"

uint64_t vh_splitmix64_next(uint64_t *state) {
    return vh_splitmix64_mix(*state += VH_SPLITMIX_GAMMA);
}

void vh_fill_uniform(double *out, size_t count, uint64_t *state) {
    for (size_t i = 0; i < count; i++) out[i] = (double)(vh_splitmix64_next(state) >> 11) * 0x1.0p-53;
}

// One Box-Muller pair in float from two SplitMix64 outputs a (radius) and b (angle), the same
// uniforms as the double path: u1 = 1 - (a >> 11)·2^-53 in (0, 1] and angle = 2pi·u2 with
// u2 = (b >> 11)·2^-53, here from b's top 32 bits. Everything is lane-wise integer or float
// arithmetic (no int64 -> float conversion, no lookup), so it vectorises on every clone.
static inline __attribute__((always_inline)) void vh_bm_pair(uint64_t a, uint64_t b, float *c,
                                                             float *s) {
    // radius: u1 = 1 - t with t = k·2^-53, k = a >> 11. Two cases so that log(u1) keeps
    // ~24 significant bits everywhere (53-bit integers go to float in two int32 parts, high
    // part < 2^31, so only int32 -> float conversions are needed):
    //  - t < 1/2 (top bit of a clear): u = fl(1 - t) in [1/2, 1], whose rounding error
    //    e = (1 - u) - t is exact (Fast2Sum); log(u1) = log(u) + e/u to first order. Without
    //    the correction u1 near 1 would be quantised to 2^-24 and small radii badly off.
    //  - t >= 1/2: 2^53·u1 = m + 1 with m = (~a) >> 11 < 2^52, converted directly (relative
    //    precision, down to u1 = 2^-53: |x| <= 8.57, as in double).
    uint64_t k = a >> 11, m = (~a) >> 11;
    float t = (float)(int32_t)(k >> 22) * 0x1p-31f + (float)(int32_t)(k & 0x3FFFFFu) * 0x1p-53f;
    float u = 1.0f - t;
    float e = (1.0f - u) - t;
    float u_far = (float)(int32_t)(m >> 22) * 0x1p-31f + (float)((int32_t)(m & 0x3FFFFFu) + 1) * 0x1p-53f;
    int far = (int)(a >> 63);
    float lg = vh_fast_logf(far ? u_far : u) + (far ? 0.0f : e / u);
    float r = vh_fast_sqrtf(-2.0f * lg);
    // angle = 2pi·w·2^-32 with w = b >> 32: quadrant q = round(w / 2^30) mod 4, and the rest,
    // f = w / 2^30 - q in [-1/2, 1/2), is the low 30 bits of w as a signed 32-bit number
    // (w << 2) over 2^32; the reduced angle is f·pi/2 in [-pi/4, pi/4).
    uint32_t w = (uint32_t)(b >> 32);
    uint32_t q = (w + 0x20000000u) >> 30;
    float x = (float)(int32_t)(w << 2) * (float)(1.57079632679489661923 * 0x1p-32);
    float sx, cx;
    vh_fast_sincos_quarter(x, &sx, &cx);
    // cos(q·pi/2 + x), sin(q·pi/2 + x): odd quadrants swap, q = 1, 2 negate cos, q = 2, 3 sin
    float cq = (q & 1) ? sx : cx, sq = (q & 1) ? cx : sx;
    cq = ((q + 1) & 2) ? -cq : cq;
    sq = (q & 2) ? -sq : sq;
    *c = r * cq;
    *s = r * sq;
}

#define VH_TEMPLATE "vh_particles_impl.h"
#include "vh_instantiate.h"

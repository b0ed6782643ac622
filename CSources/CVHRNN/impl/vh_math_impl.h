// Scalar helpers for one precision; included at the top of each kernel template (no include
// guard on purpose: it is stamped out once per precision). Float uses the vectorisable
// functions of vh_fastmath.h, double keeps libm.
static inline __attribute__((always_inline, unused)) VH_REAL VH_FN(vh_sigmoid)(VH_REAL a) {
#if VH_FASTMATH
    return vh_fast_sigmoidf(a);
#else
    return (VH_REAL)1 / ((VH_REAL)1 + exp(-a));
#endif
}

// softplus(a) = log(1 + e^a), stable for any magnitude: max(a, 0) + log1p(e^-|a|).
static inline __attribute__((always_inline, unused)) VH_REAL VH_FN(vh_softplus)(VH_REAL a) {
#if VH_FASTMATH
    return vh_fast_softplusf(a);
#else
    return (a > 0 ? a : (VH_REAL)0) + log1p(exp(-fabs(a)));
#endif
}

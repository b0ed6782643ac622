// Scalar helpers for one precision; included at the top of each kernel template (no include
// guard on purpose: it is stamped out once per precision).
static inline __attribute__((always_inline, unused)) VH_REAL VH_FN(vh_sigmoid)(VH_REAL a) {
    return (VH_REAL)1 / ((VH_REAL)1 + VH_EXP(-a));
}

// softplus(a) = log(1 + e^a), stable for any magnitude: max(a, 0) + log1p(e^-|a|).
static inline __attribute__((always_inline, unused)) VH_REAL VH_FN(vh_softplus)(VH_REAL a) {
    return (a > 0 ? a : (VH_REAL)0) + VH_LOG1P(VH_EXP(-VH_FABS(a)));
}

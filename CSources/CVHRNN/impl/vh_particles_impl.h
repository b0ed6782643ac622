// Decoder hyper-scaling, ancestor gather/scatter and particle-weight reductions, one
// precision (see vh_instantiate.h).
#define R VH_REAL

void VH_FN(vh_hyper_scale_forward)(R *out, const R *vv, const R *s, const R *r, const R *b,
                                   int n, int m) {
    // out, vv, s, r are (n, m); b is (m)
    for (int i = 0; i < n; i++) {
        size_t o = (size_t)i * m;
        for (int j = 0; j < m; j++)
            out[o + j] = s[o + j] * vv[o + j] + r[o + j] + (b ? b[j] : (R)0);
    }
}

void VH_FN(vh_hyper_scale_backward)(R *dvv, R *ds, R *dr, R *db, const R *dout, const R *vv,
                                    const R *s, int n, int m) {
    // forward: out = s . vv + r + b
    for (int i = 0; i < n; i++) {
        size_t o = (size_t)i * m;
        for (int j = 0; j < m; j++) {
            R g = dout[o + j];
            if (dvv) dvv[o + j] += g * s[o + j];
            if (ds) ds[o + j] += g * vv[o + j];
            if (dr) dr[o + j] += g;
            if (db) db[j] += g;
        }
    }
}

static int VH_FN(vh_check_index)(const int32_t *index, int n, int in_rows) {
    for (int i = 0; i < n; i++)
        if (index[i] < 0 || index[i] >= in_rows) return VH_ERR_INDEX;
    return VH_OK;
}

// Rows of 16..128 values (ancestor states, per-sequence projections): copied by a loop over
// the rows, not a memcpy call per row.
__attribute__((no_builtin("memcpy"))) int
VH_FN(vh_gather_rows_forward)(R *restrict out, const R *restrict input, const int32_t *index, int n,
                              int in_rows, int width) {
    if (VH_FN(vh_check_index)(index, n, in_rows) != VH_OK) return VH_ERR_INDEX;
    for (int i = 0; i < n; i++) {
        R *restrict o = out + (size_t)i * width;
        const R *restrict x = input + (size_t)index[i] * width;
        for (int j = 0; j < width; j++) o[j] = x[j];
    }
    return VH_OK;
}

int VH_FN(vh_gather_rows_backward)(R *din, const R *dout, const int32_t *index, int n,
                                   int in_rows, int width) {
    // forward: out[i] = in[index[i]]; a parent chosen several times collects every child's grad
    if (VH_FN(vh_check_index)(index, n, in_rows) != VH_OK) return VH_ERR_INDEX;
    for (int i = 0; i < n; i++) {
        R *d_parent = din + (size_t)index[i] * width;
        const R *d_child = dout + (size_t)i * width;
        for (int j = 0; j < width; j++) d_parent[j] += d_child[j];
    }
    return VH_OK;
}

#pragma clang fp reassociate(on)
static inline __attribute__((always_inline)) R VH_FN(vh_lse_row)(const R *w, int k, R scale) {
    R mx = -INFINITY;
    for (int j = 0; j < k; j++) mx = scale * w[j] > mx ? scale * w[j] : mx;
    if (mx == -INFINITY || mx == INFINITY) return mx;
    R acc = 0;
    for (int j = 0; j < k; j++) acc += VH_EXP(scale * w[j] - mx);
    return mx + VH_LOG(acc);
}
#pragma clang fp reassociate(off)

VH_HOT void VH_FN(vh_logsumexp_forward)(R *lse, const R *w, int b, int k) {
    for (int i = 0; i < b; i++) lse[i] = VH_FN(vh_lse_row)(w + (size_t)i * k, k, (R)1);
}

VH_HOT void VH_FN(vh_logsumexp_backward)(R *dw, const R *dlse, const R *w, const R *lse, int b, int k) {
    // forward: lse = log sum_k exp(w_k), so dw_k = dlse * exp(w_k - lse) (softmax weights)
    for (int i = 0; i < b; i++) {
        if (!isfinite(lse[i])) continue;
        for (int j = 0; j < k; j++) {
            size_t ij = (size_t)i * k + j;
            dw[ij] += dlse[i] * VH_EXP(w[ij] - lse[i]);
        }
    }
}

void VH_FN(vh_log_alpha_forward)(R *log_alpha, const R *log_prior, const R *log_lik, const R *log_q, int n) {
    for (int row = 0; row < n; row++) log_alpha[row] = log_prior[row] + log_lik[row] - log_q[row];
}

void VH_FN(vh_log_alpha_backward)(R *dlog_prior, R *dlog_lik, R *dlog_q, const R *dlog_alpha, int n) {
    // forward: log_alpha = log_prior + log_lik - log_q
    for (int row = 0; row < n; row++) {
        if (dlog_prior) dlog_prior[row] += dlog_alpha[row];
        if (dlog_lik) dlog_lik[row] += dlog_alpha[row];
        if (dlog_q) dlog_q[row] -= dlog_alpha[row];
    }
}

// KL warm-up's surrogate (training only): the KL part log p(z) - log q(z) weighted by beta.
// beta = 1 is vh_log_alpha_forward up to the order of the additions (that kernel stays the
// bound's, so the bound's float path is unchanged).
void VH_FN(vh_log_alpha_weighted_forward)(R *log_alpha, const R *log_prior, const R *log_lik, const R *log_q,
                                          R beta, int n) {
    for (int row = 0; row < n; row++) log_alpha[row] = log_lik[row] + beta * (log_prior[row] - log_q[row]);
}

void VH_FN(vh_log_alpha_weighted_backward)(R *dlog_prior, R *dlog_lik, R *dlog_q, const R *dlog_alpha, R beta,
                                           int n) {
    // forward: log_alpha = log_lik + beta * (log_prior - log_q)
    for (int row = 0; row < n; row++) {
        if (dlog_prior) dlog_prior[row] += beta * dlog_alpha[row];
        if (dlog_lik) dlog_lik[row] += dlog_alpha[row];
        if (dlog_q) dlog_q[row] -= beta * dlog_alpha[row];
    }
}

void VH_FN(vh_log_weights_accumulate)(R *w, const R *log_alpha, const R *mask, int b, int k) {
    for (int s = 0; s < b; s++) {
        if (mask[s] == 0) continue;
        for (int p = 0; p < k; p++) w[(size_t)s * k + p] += log_alpha[(size_t)s * k + p];
    }
}

#if VH_FASTMATH
// Float: the same pairs of stream outputs and the same uniforms as the double path below, but
// vectorised (all three clones: 16 / 8 / 4 pairs per vector). SplitMix64 is counter-based
// (output i of state s is mix(s + i·gamma), vh_internal.h), so every lane computes its own
// pair's outputs; vh_bm_pair (vh_particles.c) turns them into two normals with vh_fast_logf
// and a quadrant-reduced polynomial sin/cos. One loop straight into `out`: nothing is staged
// (all intermediates are registers), so no stack block is needed; the last pair of an odd
// count is computed after the loop and only its cosine stored. The state is read once and
// written once: *state + 2·ceil(count/2)·gamma (vh_kernels_precision.h).
VH_HOT void VH_FN(vh_fill_standard_normal)(R *out, size_t count, uint64_t *state) {
    const size_t pairs = count / 2;
    const uint64_t s0 = *state;
    VH_SIMD_MATH
    for (size_t j = 0; j < pairs; j++) {
        uint64_t base = s0 + (uint64_t)j * (2 * VH_SPLITMIX_GAMMA);
        float c, sn;
        vh_bm_pair(vh_splitmix64_mix(base + VH_SPLITMIX_GAMMA),
                   vh_splitmix64_mix(base + 2 * VH_SPLITMIX_GAMMA), &c, &sn);
        out[2 * j] = c;
        out[2 * j + 1] = sn;
    }
    size_t used = 2 * pairs;
    if (count & 1) {  // odd: one more pair, its sine dropped
        uint64_t base = s0 + (uint64_t)pairs * (2 * VH_SPLITMIX_GAMMA);
        float c, sn;
        vh_bm_pair(vh_splitmix64_mix(base + VH_SPLITMIX_GAMMA),
                   vh_splitmix64_mix(base + 2 * VH_SPLITMIX_GAMMA), &c, &sn);
        out[2 * pairs] = c;
        used += 2;
    }
    *state = s0 + (uint64_t)used * VH_SPLITMIX_GAMMA;
}
#else
void VH_FN(vh_fill_standard_normal)(R *out, size_t count, uint64_t *state) {
    // Box-Muller: each pair of uniforms gives two normals (r cos, r sin); an odd count drops
    // the last sine, so the stream position depends only on `count`.
    const double two_pi = 2.0 * 3.14159265358979323846;
    for (size_t i = 0; i < count; i += 2) {
        double u1 = 1.0 - (double)(vh_splitmix64_next(state) >> 11) * 0x1.0p-53;
        double u2 = (double)(vh_splitmix64_next(state) >> 11) * 0x1.0p-53;
        double r = sqrt(-2.0 * log(u1)), angle = two_pi * u2;
        out[i] = (R)(r * cos(angle));
        if (i + 1 < count) out[i + 1] = (R)(r * sin(angle));
    }
}
#endif

#undef R

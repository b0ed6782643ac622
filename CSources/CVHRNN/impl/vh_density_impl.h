// Diagonal Gaussian (sigma head, log-density, reparameterised sample, KL) and Bernoulli
// log-likelihood, one precision (see vh_instantiate.h).
#define R VH_REAL
#include "vh_math_impl.h"

// Row reductions with few columns (d = 2 .. 88) vectorise badly row by row (short loops,
// scalar remainders), so the row kernels below compute the per-element terms of a block of
// whole rows as one flat contiguous loop into t, then sum each row of t.
#ifndef VH_FLAT_BLOCK
#define VH_FLAT_BLOCK 2048
#endif
#pragma clang fp reassociate(on)
static inline __attribute__((always_inline)) void
VH_FN(vh_flat_row_sums)(R *out, const R *t, size_t rows, int d, R add) {
    for (size_t r = 0; r < rows; r++) {
        R acc = 0;
        for (int j = 0; j < d; j++) acc += t[r * (size_t)d + (size_t)j];
        out[r] = acc + add;
    }
}
#pragma clang fp reassociate(off)

// The `rows` rows from row i of a per-row input x as one contiguous block: x itself when
// row r reads x row r (x_row NULL), else the rows x_row[i..] gathered into t (the particles
// of a sequence share its frame, which is then read through their sequence index rather than
// copied to every particle; the caller overwrites t element by element).
static inline __attribute__((always_inline)) const R *
VH_FN(vh_flat_rows)(R *t, const R *x, const int32_t *x_row, size_t i, size_t rows, int d) {
    if (!x_row) return x + i * (size_t)d;
    for (size_t r = 0; r < rows; r++)
        memcpy(t + r * (size_t)d, x + (size_t)x_row[i + r] * (size_t)d, sizeof(R) * (size_t)d);
    return t;
}

// z = mu + sigma . eps rounded twice (multiply, then add), as the unfused sample kernel does
// at every instruction-set level: a fused multiply-add here would change the bits.
static inline __attribute__((always_inline)) R VH_FN(vh_sample_unfused)(R mu, R sigma, R eps) {
#pragma clang fp contract(off)
    return mu + sigma * eps;
}

VH_HOT void VH_FN(vh_gaussian_sigma_forward)(R *sigma, const R *raw, size_t count, R sigma_min) {
    for (size_t i = 0; i < count; i++) {
        R s = VH_FN(vh_softplus)(raw[i] + (R)0.5);
        sigma[i] = s > sigma_min ? s : sigma_min;
    }
}

VH_HOT void VH_FN(vh_gaussian_sigma_backward)(R *draw, const R *dsigma, const R *raw, size_t count,
                                       R sigma_min) {
    // forward: sigma = max(softplus(raw + 0.5), sigma_min); softplus' = sigmoid
    // Branch-free so it vectorises: where the floor is active draw keeps its value.
    if (sigma_min > 0) {
        for (size_t i = 0; i < count; i++) {
            R a = raw[i] + (R)0.5;
            R d = draw[i];
            R g = d + dsigma[i] * VH_FN(vh_sigmoid)(a);
            draw[i] = VH_FN(vh_softplus)(a) > sigma_min ? g : d;  // else floor active
        }
    } else {
        for (size_t i = 0; i < count; i++)
            draw[i] += dsigma[i] * VH_FN(vh_sigmoid)(raw[i] + (R)0.5);
    }
}

typedef struct {
    R *out, *dx, *dmu, *dsigma;
    const R *dlogp, *x, *mu, *sigma;
    const int32_t *x_row;  // row i reads x row x_row[i] (NULL: row i)
    int d;
} VH_FN(vh_gauss_ctx);

VH_HOT static void VH_FN(vh_gaussian_logpdf_rows)(void *ctx, size_t begin, size_t end) {
    const VH_FN(vh_gauss_ctx) *k = ctx;
    const int d = k->d;
    const R add = -(R)0.5 * (R)d * VH_LOG_2PI;
    if (d > VH_FLAT_BLOCK) {
        for (size_t i = begin; i < end; i++) {
#pragma clang fp reassociate(on)
            const R *x_i = k->x + i * d, *mu_i = k->mu + i * d, *s_i = k->sigma + i * d;
            R acc = 0;
            for (int j = 0; j < d; j++) {
                R e = (x_i[j] - mu_i[j]) / s_i[j];
                acc += (R)-0.5 * e * e - VH_LOG(s_i[j]);
            }
            k->out[i] = acc + add;
        }
        return;
    }
    R t[VH_FLAT_BLOCK];
    const size_t rows_per = (size_t)(VH_FLAT_BLOCK / d);
    for (size_t i = begin; i < end; i += rows_per) {
        const size_t rows = end - i < rows_per ? end - i : rows_per, m = rows * (size_t)d;
        const R *x = k->x + i * d, *mu = k->mu + i * d, *s = k->sigma + i * d;
        VH_SIMD_MATH
        for (size_t j = 0; j < m; j++) {
            R e = (x[j] - mu[j]) / s[j];
            t[j] = (R)-0.5 * e * e - VH_LOG(s[j]);
        }
        VH_FN(vh_flat_row_sums)(k->out + i, t, rows, d, add);
    }
}

void VH_FN(vh_gaussian_logpdf_forward)(R *logp, const R *x, const R *mu, const R *sigma,
                                       int n, int d) {
    VH_FN(vh_gauss_ctx) k = {logp, NULL, NULL, NULL, NULL, x, mu, sigma, NULL, d};
    vh_parallel_for((size_t)n, vh_grain_rows((size_t)d * 30), VH_FN(vh_gaussian_logpdf_rows), &k);
}

// ---- Fused forward passes: one pass over a block of rows where the kernels above take two
// to four, each element computed by the same expressions in the same order (the same bits).

typedef struct {
    R *mu, *sigma, *z, *logp;
    const R *mean, *mu_p, *dmu, *raw, *eps, *x;
    const int32_t *x_row;
    R sigma_min;
    int d;
} VH_FN(vh_head_ctx);

// mu = mu_p + dmu; sigma = max(softplus(raw + 0.5), sigma_min); z = mu + sigma . eps;
// logp = sum_d log N(z | mu, sigma).
VH_HOT static void VH_FN(vh_gaussian_proposal_rows)(void *ctx, size_t begin, size_t end) {
    const VH_FN(vh_head_ctx) *k = ctx;
    const int d = k->d;
    const R add = -(R)0.5 * (R)d * VH_LOG_2PI, sigma_min = k->sigma_min;
    if (d > VH_FLAT_BLOCK) {
        for (size_t i = begin; i < end; i++) {
#pragma clang fp reassociate(on)
            const size_t o = i * (size_t)d;
            R acc = 0;
            for (int j = 0; j < d; j++) {
                R mean = k->mu_p[o + j] + k->dmu[o + j];
                R s = VH_FN(vh_softplus)(k->raw[o + j] + (R)0.5);
                s = s > sigma_min ? s : sigma_min;
                R sample = VH_FN(vh_sample_unfused)(mean, s, k->eps[o + j]);
                k->mu[o + j] = mean;
                k->sigma[o + j] = s;
                k->z[o + j] = sample;
                R e = (sample - mean) / s;
                acc += (R)-0.5 * e * e - VH_LOG(s);
            }
            k->logp[i] = acc + add;
        }
        return;
    }
    R t[VH_FLAT_BLOCK];
    const size_t rows_per = (size_t)(VH_FLAT_BLOCK / d);
    for (size_t i = begin; i < end; i += rows_per) {
        const size_t rows = end - i < rows_per ? end - i : rows_per, m = rows * (size_t)d, o = i * (size_t)d;
        R *mu = k->mu + o, *sigma = k->sigma + o, *z = k->z + o;
        const R *mu_p = k->mu_p + o, *dmu = k->dmu + o, *raw = k->raw + o, *eps = k->eps + o;
        VH_SIMD_MATH
        for (size_t j = 0; j < m; j++) {
            R mean = mu_p[j] + dmu[j];
            R s = VH_FN(vh_softplus)(raw[j] + (R)0.5);
            s = s > sigma_min ? s : sigma_min;
            R sample = VH_FN(vh_sample_unfused)(mean, s, eps[j]);
            mu[j] = mean;
            sigma[j] = s;
            z[j] = sample;
            R e = (sample - mean) / s;
            t[j] = (R)-0.5 * e * e - VH_LOG(s);
        }
        VH_FN(vh_flat_row_sums)(k->logp + i, t, rows, d, add);
    }
}

void VH_FN(vh_gaussian_proposal_forward)(R *mu, R *sigma, R *z, R *logq, const R *mu_p, const R *dmu,
                                         const R *raw, const R *eps, R sigma_min, int n, int d) {
    VH_FN(vh_head_ctx) k = {mu, sigma, z, logq, NULL, mu_p, dmu, raw, eps, NULL, NULL, sigma_min, d};
    vh_parallel_for((size_t)n, vh_grain_rows((size_t)d * 60), VH_FN(vh_gaussian_proposal_rows), &k);
}

// sigma = max(softplus(raw + 0.5), sigma_min); logp = sum_d log N(x | mu, sigma).
VH_HOT static void VH_FN(vh_gaussian_head_logpdf_rows)(void *ctx, size_t begin, size_t end) {
    const VH_FN(vh_head_ctx) *k = ctx;
    const int d = k->d;
    const R add = -(R)0.5 * (R)d * VH_LOG_2PI, sigma_min = k->sigma_min;
    if (d > VH_FLAT_BLOCK) {
        for (size_t i = begin; i < end; i++) {
#pragma clang fp reassociate(on)
            const R *x_i = k->x + (k->x_row ? (size_t)k->x_row[i] : i) * d;
            const R *mu_i = k->mean + i * d, *raw_i = k->raw + i * d;
            R *s_i = k->sigma + i * d;
            R acc = 0;
            for (int j = 0; j < d; j++) {
                R s = VH_FN(vh_softplus)(raw_i[j] + (R)0.5);
                s = s > sigma_min ? s : sigma_min;
                s_i[j] = s;
                R e = (x_i[j] - mu_i[j]) / s;
                acc += (R)-0.5 * e * e - VH_LOG(s);
            }
            k->logp[i] = acc + add;
        }
        return;
    }
    R t[VH_FLAT_BLOCK];
    const size_t rows_per = (size_t)(VH_FLAT_BLOCK / d);
    for (size_t i = begin; i < end; i += rows_per) {
        const size_t rows = end - i < rows_per ? end - i : rows_per, m = rows * (size_t)d;
        const R *x = VH_FN(vh_flat_rows)(t, k->x, k->x_row, i, rows, d);
        const R *mu = k->mean + i * d, *raw = k->raw + i * d;
        R *sigma = k->sigma + i * d;
        VH_SIMD_MATH
        for (size_t j = 0; j < m; j++) {
            R s = VH_FN(vh_softplus)(raw[j] + (R)0.5);
            s = s > sigma_min ? s : sigma_min;
            sigma[j] = s;
            R e = (x[j] - mu[j]) / s;
            t[j] = (R)-0.5 * e * e - VH_LOG(s);
        }
        VH_FN(vh_flat_row_sums)(k->logp + i, t, rows, d, add);
    }
}

void VH_FN(vh_gaussian_head_logpdf_forward)(R *sigma, R *logp, const R *x, const int32_t *x_row,
                                            const R *mu, const R *raw, R sigma_min, int n, int d) {
    VH_FN(vh_head_ctx) k = {NULL, sigma, NULL, logp, mu, NULL, NULL, raw, NULL, x, x_row, sigma_min, d};
    vh_parallel_for((size_t)n, vh_grain_rows((size_t)d * 50), VH_FN(vh_gaussian_head_logpdf_rows), &k);
}

VH_HOT static void VH_FN(vh_gaussian_logpdf_bwd_rows)(void *ctx, size_t begin, size_t end) {
    const VH_FN(vh_gauss_ctx) *k = ctx;
    const int d = k->d;
    for (size_t i = begin; i < end; i++) {
        R g = k->dlogp[i];
        const R *x_i = k->x + (k->x_row ? (size_t)k->x_row[i] : i) * (size_t)d;
        for (int j = 0; j < d; j++) {
            size_t ij = i * d + j;
            // forward: logp = -0.5 e^2 - log sigma - 0.5 log 2pi, e = (x - mu) / sigma
            R s = k->sigma[ij];
            R e = (x_i[j] - k->mu[ij]) / s;
            if (k->dx) k->dx[ij] -= g * e / s;
            if (k->dmu) k->dmu[ij] += g * e / s;
            if (k->dsigma) k->dsigma[ij] += g * (e * e - (R)1) / s;
        }
    }
}

void VH_FN(vh_gaussian_logpdf_backward)(R *dx, R *dmu, R *dsigma, const R *dlogp, const R *x,
                                        const int32_t *x_row, const R *mu, const R *sigma, int n,
                                        int d) {
    VH_FN(vh_gauss_ctx) k = {NULL, dx, dmu, dsigma, dlogp, x, mu, sigma, x_row, d};
    vh_parallel_for((size_t)n, vh_grain_rows((size_t)d * 20), VH_FN(vh_gaussian_logpdf_bwd_rows),
                    &k);
}

void VH_FN(vh_gaussian_sample_forward)(R *z, const R *mu, const R *sigma, const R *eps,
                                       size_t count) {
    for (size_t i = 0; i < count; i++) z[i] = mu[i] + sigma[i] * eps[i];
}

void VH_FN(vh_gaussian_sample_backward)(R *dmu, R *dsigma, const R *dz, const R *eps,
                                        size_t count) {
    // forward: z = mu + sigma . eps
    for (size_t i = 0; i < count; i++) {
        if (dmu) dmu[i] += dz[i];
        if (dsigma) dsigma[i] += dz[i] * eps[i];
    }
}

VH_HOT void VH_FN(vh_gaussian_kl_forward)(R *kl, const R *mu_q, const R *sigma_q, const R *mu_p,
                                   const R *sigma_p, int n, int d) {
    // Flat blocks of whole rows (see vh_flat_row_sums); a row wider than a block is summed
    // block by block.
    R t[VH_FLAT_BLOCK];
    const size_t rows_per = d <= VH_FLAT_BLOCK ? (size_t)(VH_FLAT_BLOCK / d) : 1;
    for (size_t i = 0; i < (size_t)n; i += rows_per) {
        const size_t rows = (size_t)n - i < rows_per ? (size_t)n - i : rows_per;
        const size_t total = rows * (size_t)d;
        R wide = 0;  // running sum of a row wider than a block
        for (size_t b0 = 0; b0 < total; b0 += VH_FLAT_BLOCK) {
            const size_t m = total - b0 < VH_FLAT_BLOCK ? total - b0 : VH_FLAT_BLOCK;
            const size_t o = i * (size_t)d + b0;
            const R *mq = mu_q + o, *sq_ = sigma_q + o, *mp = mu_p + o, *sp_ = sigma_p + o;
            VH_SIMD_MATH
            for (size_t j = 0; j < m; j++) {
                R sq = sq_[j], sp = sp_[j], dm = mq[j] - mp[j];
                t[j] = VH_LOG(sp / sq) + (sq * sq + dm * dm) / ((R)2 * sp * sp) - (R)0.5;
            }
            if (d <= VH_FLAT_BLOCK) {
                VH_FN(vh_flat_row_sums)(kl + i, t, rows, d, (R)0);
            } else {
                R part[1];
                VH_FN(vh_flat_row_sums)(part, t, 1, (int)m, (R)0);
                wide += part[0];
            }
        }
        if (d > VH_FLAT_BLOCK) kl[i] = wide;
    }
}

VH_HOT void VH_FN(vh_gaussian_kl_backward)(R *dmu_q, R *dsigma_q, R *dmu_p, R *dsigma_p,
                                    const R *dkl, const R *mu_q, const R *sigma_q,
                                    const R *mu_p, const R *sigma_p, int n, int d) {
    // forward: kl = log(sp / sq) + (sq^2 + (mq - mp)^2) / (2 sp^2) - 1/2
    for (int i = 0; i < n; i++) {
        R g = dkl[i];
        for (int j = 0; j < d; j++) {
            size_t ij = (size_t)i * d + j;
            R sq = sigma_q[ij], sp = sigma_p[ij], dm = mu_q[ij] - mu_p[ij];
            R inv_sp2 = (R)1 / (sp * sp);
            if (dmu_q) dmu_q[ij] += g * dm * inv_sp2;
            if (dmu_p) dmu_p[ij] -= g * dm * inv_sp2;
            if (dsigma_q) dsigma_q[ij] += g * (sq * inv_sp2 - (R)1 / sq);
            if (dsigma_p) dsigma_p[ij] += g * ((R)1 / sp - (sq * sq + dm * dm) * inv_sp2 / sp);
        }
    }
}

VH_HOT void VH_FN(vh_emission_moments)(R *mean, R *variance, const R *head, const R *sigma, const R *w,
                                       int k, int d) {
    for (int j = 0; j < d; j++) mean[j] = variance[j] = 0;  // variance holds the second moment until the end
    for (int i = 0; i < k; i++) {
        const R wi = w[i], *h = head + (size_t)i * d;
        if (wi == 0) continue;
        if (sigma) {
            const R *s = sigma + (size_t)i * d;
            VH_SIMD_MATH
            for (int j = 0; j < d; j++) {
                mean[j] += wi * h[j];
                variance[j] += wi * (s[j] * s[j] + h[j] * h[j]);
            }
        } else {
            VH_SIMD_MATH
            for (int j = 0; j < d; j++) {
                R m = VH_FN(vh_sigmoid)(h[j]);
                mean[j] += wi * m;
                variance[j] += wi * m;  // E[x^2] = E[x] for 0/1 frames: v + m^2 = m
            }
        }
    }
    for (int j = 0; j < d; j++) {
        R v = variance[j] - mean[j] * mean[j];
        variance[j] = v > 0 ? v : 0;
    }
}

typedef struct {
    R *out, *dlogits;
    const R *dlogp, *x, *logits;
    const int32_t *x_row;  // row i reads x row x_row[i] (NULL: row i)
    int d;
} VH_FN(vh_bern_ctx);

VH_HOT static void VH_FN(vh_bernoulli_rows)(void *ctx, size_t begin, size_t end) {
    const VH_FN(vh_bern_ctx) *k = ctx;
    const int d = k->d;
    if (d > VH_FLAT_BLOCK) {
        for (size_t i = begin; i < end; i++) {
#pragma clang fp reassociate(on)
            const R *x_i = k->x + (k->x_row ? (size_t)k->x_row[i] : i) * d, *l_i = k->logits + i * d;
            R acc = 0;
            for (int j = 0; j < d; j++) acc += x_i[j] * l_i[j] - VH_FN(vh_softplus)(l_i[j]);
            k->out[i] = acc;
        }
        return;
    }
    R t[VH_FLAT_BLOCK];
    const size_t rows_per = (size_t)(VH_FLAT_BLOCK / d);
    for (size_t i = begin; i < end; i += rows_per) {
        const size_t rows = end - i < rows_per ? end - i : rows_per, m = rows * (size_t)d;
        const R *x = VH_FN(vh_flat_rows)(t, k->x, k->x_row, i, rows, d), *l = k->logits + i * d;
        VH_SIMD_MATH
        for (size_t j = 0; j < m; j++) t[j] = x[j] * l[j] - VH_FN(vh_softplus)(l[j]);
        VH_FN(vh_flat_row_sums)(k->out + i, t, rows, d, (R)0);
    }
}

void VH_FN(vh_bernoulli_logpmf_forward)(R *logp, const R *x, const int32_t *x_row, const R *logits,
                                        int n, int d) {
    VH_FN(vh_bern_ctx) k = {logp, NULL, NULL, x, logits, x_row, d};
    vh_parallel_for((size_t)n, vh_grain_rows((size_t)d * 30), VH_FN(vh_bernoulli_rows), &k);
}

VH_HOT static void VH_FN(vh_bernoulli_bwd_rows)(void *ctx, size_t begin, size_t end) {
    const VH_FN(vh_bern_ctx) *k = ctx;
    const int d = k->d;
    for (size_t i = begin; i < end; i++) {
        R g = k->dlogp[i];
        const R *x_i = k->x + (k->x_row ? (size_t)k->x_row[i] : i) * d;
        R *dl_i = k->dlogits + i * d;
        const R *l_i = k->logits + i * d;
        // forward: logp = x l - softplus(l), so dl = x - sigmoid(l)
        for (int j = 0; j < d; j++) dl_i[j] += g * (x_i[j] - VH_FN(vh_sigmoid)(l_i[j]));
    }
}

void VH_FN(vh_bernoulli_logpmf_backward)(R *dlogits, const R *dlogp, const R *x, const int32_t *x_row,
                                         const R *logits, int n, int d) {
    VH_FN(vh_bern_ctx) k = {NULL, dlogits, dlogp, x, logits, x_row, d};
    vh_parallel_for((size_t)n, vh_grain_rows((size_t)d * 20), VH_FN(vh_bernoulli_bwd_rows), &k);
}

#undef R

// GRU cell and Hadamard-scaled (hyper) GRU cell, one precision (see vh_instantiate.h).
// Gate order r (reset), u (update), n (candidate); the reset gate multiplies U h (cuDNN form).
#define R VH_REAL
#include "vh_math_impl.h"

typedef struct {
    R *h, *gates;
    const R *wx, *uh, *hyper, *b, *h_prev;
    int hidden;
} VH_FN(vh_gru_fwd_ctx);

// One row; the gate blocks r, u, n are contiguous streams over the H units and the flags are
// compile-time constants at every call site, so the loop vectorises (fast math for float).
static inline __attribute__((always_inline)) void
VH_FN(vh_gru_fwd_row)(const VH_FN(vh_gru_fwd_ctx) *k, size_t i, int has_hyper, int has_b,
                      int has_hp) {
    const int H = k->hidden, G = 3 * H;
    // wx_i, uh_i, gates_i are (3H); hyper_i is (9H) = [scale_x | scale_h | bias_dyn]
    const R *wx_i = k->wx + i * G, *uh_i = k->uh + i * G;
    const R *sx_i = has_hyper ? k->hyper + i * 3 * G : NULL;
    const R *hp_i = has_hp ? k->h_prev + i * H : NULL;
    const R *b = k->b;
    R *h_i = k->h + i * H, *g_i = k->gates + i * G;
    VH_SIMD_MATH
    for (int u = 0; u < H; u++) {
        R xs[3], hs[3];  // scaled input and recurrent pre-activations, bias folded into xs
        for (int g = 0; g < 3; g++) {
            int col = g * H + u;
            xs[g] = has_hyper ? sx_i[col] * wx_i[col] + sx_i[2 * G + col] : wx_i[col];
            if (has_b) xs[g] += b[col];
            hs[g] = has_hyper ? sx_i[G + col] * uh_i[col] : uh_i[col];
        }
        R r = VH_FN(vh_sigmoid)(xs[0] + hs[0]);
        R z = VH_FN(vh_sigmoid)(xs[1] + hs[1]);
        R m = VH_TANH(xs[2] + r * hs[2]);
        R hp = has_hp ? hp_i[u] : (R)0;
        h_i[u] = ((R)1 - z) * m + z * hp;
        g_i[u] = r;
        g_i[H + u] = z;
        g_i[2 * H + u] = m;
    }
}

static inline __attribute__((always_inline)) void
VH_FN(vh_gru_fwd_rows)(const VH_FN(vh_gru_fwd_ctx) *k, size_t begin, size_t end, int has_hyper) {
    const int has_b = k->b != NULL, has_hp = k->h_prev != NULL;
    for (size_t i = begin; i < end; i++) {
        if (has_b && has_hp) VH_FN(vh_gru_fwd_row)(k, i, has_hyper, 1, 1);
        else if (has_b) VH_FN(vh_gru_fwd_row)(k, i, has_hyper, 1, 0);
        else if (has_hp) VH_FN(vh_gru_fwd_row)(k, i, has_hyper, 0, 1);
        else VH_FN(vh_gru_fwd_row)(k, i, has_hyper, 0, 0);
    }
}

VH_HOT static void VH_FN(vh_gru_fwd_plain)(void *ctx, size_t begin, size_t end) {
    VH_FN(vh_gru_fwd_rows)((const VH_FN(vh_gru_fwd_ctx) *)ctx, begin, end, 0);
}
VH_HOT static void VH_FN(vh_gru_fwd_hyper)(void *ctx, size_t begin, size_t end) {
    VH_FN(vh_gru_fwd_rows)((const VH_FN(vh_gru_fwd_ctx) *)ctx, begin, end, 1);
}

void VH_FN(vh_gru_cell_forward)(R *h, R *gates, const R *wx, const R *uh, const R *b,
                                const R *h_prev, int n, int hidden) {
    VH_FN(vh_gru_fwd_ctx) k = {h, gates, wx, uh, NULL, b, h_prev, hidden};
    vh_parallel_for((size_t)n, vh_grain_rows((size_t)hidden * 50), VH_FN(vh_gru_fwd_plain), &k);
}

void VH_FN(vh_hyper_gru_cell_forward)(R *h, R *gates, const R *wx, const R *uh,
                                      const R *hyper, const R *b, const R *h_prev,
                                      int n, int hidden) {
    VH_FN(vh_gru_fwd_ctx) k = {h, gates, wx, uh, hyper, b, h_prev, hidden};
    vh_parallel_for((size_t)n, vh_grain_rows((size_t)hidden * 60), VH_FN(vh_gru_fwd_hyper), &k);
}

typedef struct {
    R *dwx, *duh, *dhyper, *db, *dh_prev;
    const R *dh, *gates, *wx, *uh, *hyper, *h_prev;
    int n, hidden;
} VH_FN(vh_gru_bwd_ctx);

// Split over hidden units so each thread owns whole columns of db (see the LSTM backward);
// per row, one vector loop computes the gate gradients into a small buffer, then one simple
// loop per output and gate block accumulates them.
#ifndef VH_GRU_UBLOCK
#define VH_GRU_UBLOCK 64
#endif
static inline __attribute__((always_inline)) void
VH_FN(vh_gru_bwd_units)(const VH_FN(vh_gru_bwd_ctx) *k, size_t u_begin, size_t u_end,
                        int has_hyper) {
    const int H = k->hidden, G = 3 * H, n = k->n;
    R dxs[3][VH_GRU_UBLOCK];  // gradient of each scaled input term (r, u, n)
    R dhn[VH_GRU_UBLOCK];     // gradient of the scaled recurrent n term (dan . r); r, u as dxs
    for (size_t ub = u_begin; ub < u_end; ub += VH_GRU_UBLOCK) {
        const int u0 = (int)ub;
        const int w = (int)(u_end - ub < VH_GRU_UBLOCK ? u_end - ub : VH_GRU_UBLOCK);
        for (int i = 0; i < n; i++) {
            const R *g_i = k->gates + (size_t)i * G + u0;
            const R *gr = g_i, *gz = g_i + H, *gm = g_i + 2 * H;
            const R *uhn = k->uh + (size_t)i * G + 2 * H + u0;
            const R *shn = has_hyper ? k->hyper + (size_t)i * 3 * G + G + 2 * H + u0 : NULL;
            const R *hp_i = k->h_prev ? k->h_prev + (size_t)i * H + u0 : NULL;
            const R *dh_i = k->dh + (size_t)i * H + u0;
            R *dhp_i = k->dh_prev ? k->dh_prev + (size_t)i * H + u0 : NULL;
            R *d0 = dxs[0], *d1 = dxs[1], *d2 = dxs[2], *dn = dhn;
            VH_SIMD
            for (int u = 0; u < w; u++) {
                R r = gr[u], z = gz[u], m = gm[u];
                R hp = hp_i ? hp_i[u] : (R)0;
                R dhv = dh_i[u];
                // forward: h = (1 - u) . m + u . h_prev
                if (dhp_i) dhp_i[u] += dhv * z;
                R dm = dhv * ((R)1 - z);
                R dz = dhv * (hp - m);
                // forward: m = tanh(xs_n + r . hs_n), r = sigmoid(xs_r + hs_r),
                //          u = sigmoid(xs_u + hs_u)
                R hs_n = has_hyper ? shn[u] * uhn[u] : uhn[u];
                R dan = dm * ((R)1 - m * m);
                d0[u] = dan * hs_n * r * ((R)1 - r);
                d1[u] = dz * z * ((R)1 - z);
                d2[u] = dan;
                dn[u] = dan * r;
            }
            // forward: xs = scale_x . wx + bias_dyn + b, hs = scale_h . uh
            const size_t row = (size_t)i * G + (size_t)u0;
            for (int g = 0; g < 3; g++) {
                const R *dx = dxs[g], *dhs = g == 2 ? dhn : dxs[g];
                const size_t off = row + (size_t)g * H;
                if (has_hyper) {
                    const R *sx = k->hyper + (size_t)i * 3 * G + (size_t)g * H + u0;
                    const R *sh = sx + G;
                    if (k->dwx) {
                        R *o = k->dwx + off;
                        VH_SIMD
                        for (int u = 0; u < w; u++) o[u] += dx[u] * sx[u];
                    }
                    if (k->duh) {
                        R *o = k->duh + off;
                        VH_SIMD
                        for (int u = 0; u < w; u++) o[u] += dhs[u] * sh[u];
                    }
                    if (k->dhyper) {
                        R *ox = k->dhyper + (size_t)i * 3 * G + (size_t)g * H + u0;
                        R *oh = ox + G, *ob = ox + 2 * G;
                        const R *wx = k->wx + off, *uh = k->uh + off;
                        VH_SIMD
                        for (int u = 0; u < w; u++) ox[u] += dx[u] * wx[u];
                        VH_SIMD
                        for (int u = 0; u < w; u++) oh[u] += dhs[u] * uh[u];
                        VH_SIMD
                        for (int u = 0; u < w; u++) ob[u] += dx[u];
                    }
                } else {
                    if (k->dwx) {
                        R *o = k->dwx + off;
                        VH_SIMD
                        for (int u = 0; u < w; u++) o[u] += dx[u];
                    }
                    if (k->duh) {
                        R *o = k->duh + off;
                        VH_SIMD
                        for (int u = 0; u < w; u++) o[u] += dhs[u];
                    }
                }
                if (k->db) {
                    R *o = k->db + (size_t)g * H + u0;
                    VH_SIMD
                    for (int u = 0; u < w; u++) o[u] += dx[u];
                }
            }
        }
    }
}

VH_HOT static void VH_FN(vh_gru_bwd_plain)(void *ctx, size_t begin, size_t end) {
    VH_FN(vh_gru_bwd_units)((const VH_FN(vh_gru_bwd_ctx) *)ctx, begin, end, 0);
}
VH_HOT static void VH_FN(vh_gru_bwd_hyper)(void *ctx, size_t begin, size_t end) {
    VH_FN(vh_gru_bwd_units)((const VH_FN(vh_gru_bwd_ctx) *)ctx, begin, end, 1);
}

void VH_FN(vh_gru_cell_backward)(R *dwx, R *duh, R *db, R *dh_prev, const R *dh,
                                 const R *gates, const R *uh, const R *h_prev,
                                 int n, int hidden) {
    VH_FN(vh_gru_bwd_ctx) k = {dwx, duh, NULL, db, dh_prev, dh, gates, NULL, uh, NULL, h_prev,
                               n, hidden};
    vh_parallel_for((size_t)hidden, vh_grain_rows((size_t)n * 40), VH_FN(vh_gru_bwd_plain), &k);
}

void VH_FN(vh_hyper_gru_cell_backward)(R *dwx, R *duh, R *dhyper, R *db, R *dh_prev,
                                       const R *dh, const R *gates, const R *wx, const R *uh,
                                       const R *hyper, const R *h_prev, int n, int hidden) {
    VH_FN(vh_gru_bwd_ctx) k = {dwx, duh, dhyper, db, dh_prev, dh, gates, wx, uh, hyper, h_prev,
                               n, hidden};
    vh_parallel_for((size_t)hidden, vh_grain_rows((size_t)n * 60), VH_FN(vh_gru_bwd_hyper), &k);
}

#undef R

// LSTM cell and Hadamard-scaled (hyper) LSTM cell, one precision (see vh_instantiate.h).
// One body serves both: `has_hyper` is a compile-time constant at each call site, so the
// plain cell pays nothing for the scaling.
#define R VH_REAL
#include "vh_math_impl.h"

typedef struct {
    R *h, *c, *gates;
    const R *wy, *uh, *hyper, *b, *c_prev;
    int hidden;
} VH_FN(vh_lstm_fwd_ctx);

// Per row: the pre-activations are assembled in gates_i (contiguous 4H, simple vector loops),
// then one loop over the H units applies the nonlinearities with the gate blocks as four
// contiguous streams, so each loop vectorises (fast math for float, vh_fastmath.h).
static inline __attribute__((always_inline)) void
VH_FN(vh_lstm_fwd_rows)(const VH_FN(vh_lstm_fwd_ctx) *k, size_t begin, size_t end, int has_hyper) {
    const int H = k->hidden, G = 4 * H;
    for (size_t i = begin; i < end; i++) {
        // wy_i, uh_i, gates_i are (4H); hyper_i is (12H) = [scale_x | scale_h | bias_dyn]
        const R *wy_i = k->wy + i * G;
        const R *uh_i = k->uh ? k->uh + i * G : NULL;
        const R *sx_i = has_hyper ? k->hyper + i * 3 * G : NULL;
        const R *sh_i = has_hyper ? sx_i + G : NULL;
        const R *bd_i = has_hyper ? sx_i + 2 * G : NULL;
        const R *cp_i = k->c_prev ? k->c_prev + i * H : NULL;
        R *h_i = k->h + i * H, *c_i = k->c + i * H, *g_i = k->gates + i * G;
        // a = scale_x . wy + scale_h . uh + bias_dyn + b (plain: wy + uh + b)
        if (has_hyper) {
            VH_SIMD
            for (int col = 0; col < G; col++) g_i[col] = sx_i[col] * wy_i[col];
            if (uh_i) {
                VH_SIMD
                for (int col = 0; col < G; col++) g_i[col] += sh_i[col] * uh_i[col];
            }
            VH_SIMD
            for (int col = 0; col < G; col++) g_i[col] += bd_i[col];
        } else {
            VH_SIMD
            for (int col = 0; col < G; col++) g_i[col] = wy_i[col];
            if (uh_i) {
                VH_SIMD
                for (int col = 0; col < G; col++) g_i[col] += uh_i[col];
            }
        }
        if (k->b) {
            const R *b = k->b;
            VH_SIMD
            for (int col = 0; col < G; col++) g_i[col] += b[col];
        }
        R *gi = g_i, *gj = g_i + H, *gf = g_i + 2 * H, *go = g_i + 3 * H;
        if (cp_i) {
            VH_SIMD_MATH
            for (int u = 0; u < H; u++) {
                R ig = VH_FN(vh_sigmoid)(gi[u]);
                R jg = VH_TANH(gj[u]);
                R fg = VH_FN(vh_sigmoid)(gf[u] + (R)1);  // forget bias +1, added at run time
                R og = VH_FN(vh_sigmoid)(go[u]);
                R c = ig * jg + fg * cp_i[u];
                c_i[u] = c;
                h_i[u] = og * VH_TANH(c);
                gi[u] = ig;
                gj[u] = jg;
                gf[u] = fg;
                go[u] = og;
            }
        } else {
            VH_SIMD_MATH
            for (int u = 0; u < H; u++) {
                R ig = VH_FN(vh_sigmoid)(gi[u]);
                R jg = VH_TANH(gj[u]);
                R fg = VH_FN(vh_sigmoid)(gf[u] + (R)1);
                R og = VH_FN(vh_sigmoid)(go[u]);
                R c = ig * jg + (R)0;
                c_i[u] = c;
                h_i[u] = og * VH_TANH(c);
                gi[u] = ig;
                gj[u] = jg;
                gf[u] = fg;
                go[u] = og;
            }
        }
    }
}

VH_HOT static void VH_FN(vh_lstm_fwd_plain)(void *ctx, size_t begin, size_t end) {
    VH_FN(vh_lstm_fwd_rows)((const VH_FN(vh_lstm_fwd_ctx) *)ctx, begin, end, 0);
}
VH_HOT static void VH_FN(vh_lstm_fwd_hyper)(void *ctx, size_t begin, size_t end) {
    VH_FN(vh_lstm_fwd_rows)((const VH_FN(vh_lstm_fwd_ctx) *)ctx, begin, end, 1);
}

void VH_FN(vh_lstm_cell_forward)(R *h, R *c, R *gates, const R *wy, const R *uh, const R *b,
                                 const R *c_prev, int n, int hidden) {
    VH_FN(vh_lstm_fwd_ctx) k = {h, c, gates, wy, uh, NULL, b, c_prev, hidden};
    vh_parallel_for((size_t)n, vh_grain_rows((size_t)hidden * 60), VH_FN(vh_lstm_fwd_plain), &k);
}

void VH_FN(vh_hyper_lstm_cell_forward)(R *h, R *c, R *gates, const R *wy, const R *uh,
                                       const R *hyper, const R *b, const R *c_prev,
                                       int n, int hidden) {
    VH_FN(vh_lstm_fwd_ctx) k = {h, c, gates, wy, uh, hyper, b, c_prev, hidden};
    vh_parallel_for((size_t)n, vh_grain_rows((size_t)hidden * 70), VH_FN(vh_lstm_fwd_hyper), &k);
}

typedef struct {
    R *dwy, *duh, *dhyper, *db, *dc_prev;
    const R *dh, *dc, *gates, *c, *c_prev, *wy, *uh, *hyper;
    int n, hidden;
} VH_FN(vh_lstm_bwd_ctx);

// The backward is split over hidden units, not rows: each thread then owns whole columns of
// db (a sum over rows), so no two threads write the same value and the result does not depend
// on the thread count. Per row, a thread's unit range is done in blocks: one vector loop
// computes the four gate gradients da into a small buffer, then one simple loop per output
// and gate block accumulates them (all contiguous in the unit index).
#ifndef VH_LSTM_UBLOCK
#define VH_LSTM_UBLOCK 64  // units per block of the backward's gate-gradient buffer
#endif
static inline __attribute__((always_inline)) void
VH_FN(vh_lstm_bwd_units)(const VH_FN(vh_lstm_bwd_ctx) *k, size_t u_begin, size_t u_end,
                         int has_hyper) {
    const int H = k->hidden, G = 4 * H, n = k->n;
    R da[4][VH_LSTM_UBLOCK];
    for (size_t ub = u_begin; ub < u_end; ub += VH_LSTM_UBLOCK) {
        const int u0 = (int)ub;
        const int w = (int)(u_end - ub < VH_LSTM_UBLOCK ? u_end - ub : VH_LSTM_UBLOCK);
        for (int i = 0; i < n; i++) {
            const R *g_i = k->gates + (size_t)i * G + u0;
            const R *gi = g_i, *gj = g_i + H, *gf = g_i + 2 * H, *go = g_i + 3 * H;
            const R *c_i = k->c + (size_t)i * H + u0;
            const R *cp_i = k->c_prev ? k->c_prev + (size_t)i * H + u0 : NULL;
            const R *dh_i = k->dh + (size_t)i * H + u0;
            const R *dc_i = k->dc ? k->dc + (size_t)i * H + u0 : NULL;
            R *dcp_i = k->dc_prev ? k->dc_prev + (size_t)i * H + u0 : NULL;
            R *d0 = da[0], *d1 = da[1], *d2 = da[2], *d3 = da[3];
            // forward: h = o . tanh(c), c = f . c_prev + i . j
            VH_SIMD_MATH
            for (int u = 0; u < w; u++) {
                R ig = gi[u], jg = gj[u], fg = gf[u], og = go[u];
                R cp = cp_i ? cp_i[u] : (R)0;
                R tc = VH_TANH(c_i[u]);
                R dhv = dh_i[u];
                R dct = (dc_i ? dc_i[u] : (R)0) + dhv * og * ((R)1 - tc * tc);
                if (dcp_i) dcp_i[u] += dct * fg;
                d0[u] = dct * jg * ig * ((R)1 - ig);        // i = sigmoid(a_i)
                d1[u] = dct * ig * ((R)1 - jg * jg);        // j = tanh(a_j)
                d2[u] = dct * cp * fg * ((R)1 - fg);        // f = sigmoid(a_f + 1)
                d3[u] = dhv * tc * og * ((R)1 - og);        // o = sigmoid(a_o)
            }
            // forward: a = scale_x . wy + scale_h . uh + bias_dyn + b
            const size_t row = (size_t)i * G + (size_t)u0;
            for (int g = 0; g < 4; g++) {
                const R *dg = da[g];
                const size_t off = row + (size_t)g * H;
                if (has_hyper) {
                    const R *sx = k->hyper + (size_t)i * 3 * G + (size_t)g * H + u0;
                    const R *sh = sx + G;
                    if (k->dwy) {
                        R *o = k->dwy + off;
                        VH_SIMD
                        for (int u = 0; u < w; u++) o[u] += dg[u] * sx[u];
                    }
                    if (k->duh) {
                        R *o = k->duh + off;
                        VH_SIMD
                        for (int u = 0; u < w; u++) o[u] += dg[u] * sh[u];
                    }
                    if (k->dhyper) {
                        R *ox = k->dhyper + (size_t)i * 3 * G + (size_t)g * H + u0;
                        R *oh = ox + G, *ob = ox + 2 * G;
                        const R *wy = k->wy + off;
                        VH_SIMD
                        for (int u = 0; u < w; u++) ox[u] += dg[u] * wy[u];
                        if (k->uh) {
                            const R *uh = k->uh + off;
                            VH_SIMD
                            for (int u = 0; u < w; u++) oh[u] += dg[u] * uh[u];
                        }
                        VH_SIMD
                        for (int u = 0; u < w; u++) ob[u] += dg[u];
                    }
                } else {
                    if (k->dwy) {
                        R *o = k->dwy + off;
                        VH_SIMD
                        for (int u = 0; u < w; u++) o[u] += dg[u];
                    }
                    if (k->duh) {
                        R *o = k->duh + off;
                        VH_SIMD
                        for (int u = 0; u < w; u++) o[u] += dg[u];
                    }
                }
                if (k->db) {
                    R *o = k->db + (size_t)g * H + u0;
                    VH_SIMD
                    for (int u = 0; u < w; u++) o[u] += dg[u];
                }
            }
        }
    }
}

VH_HOT static void VH_FN(vh_lstm_bwd_plain)(void *ctx, size_t begin, size_t end) {
    VH_FN(vh_lstm_bwd_units)((const VH_FN(vh_lstm_bwd_ctx) *)ctx, begin, end, 0);
}
VH_HOT static void VH_FN(vh_lstm_bwd_hyper)(void *ctx, size_t begin, size_t end) {
    VH_FN(vh_lstm_bwd_units)((const VH_FN(vh_lstm_bwd_ctx) *)ctx, begin, end, 1);
}

void VH_FN(vh_lstm_cell_backward)(R *dwy, R *duh, R *db, R *dc_prev,
                                  const R *dh, const R *dc, const R *gates, const R *c,
                                  const R *c_prev, int n, int hidden) {
    VH_FN(vh_lstm_bwd_ctx) k = {dwy, duh, NULL, db, dc_prev, dh, dc, gates, c, c_prev,
                                NULL, NULL, NULL, n, hidden};
    size_t grain = vh_grain_rows((size_t)n * 40);
    vh_parallel_for((size_t)hidden, grain, VH_FN(vh_lstm_bwd_plain), &k);
}

void VH_FN(vh_hyper_lstm_cell_backward)(R *dwy, R *duh, R *dhyper, R *db, R *dc_prev,
                                        const R *dh, const R *dc, const R *gates, const R *c,
                                        const R *c_prev, const R *wy, const R *uh,
                                        const R *hyper, int n, int hidden) {
    VH_FN(vh_lstm_bwd_ctx) k = {dwy, duh, dhyper, db, dc_prev, dh, dc, gates, c, c_prev,
                                wy, uh, hyper, n, hidden};
    size_t grain = vh_grain_rows((size_t)n * 60);
    vh_parallel_for((size_t)hidden, grain, VH_FN(vh_lstm_bwd_hyper), &k);
}

#undef R

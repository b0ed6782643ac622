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
        for (int u = 0; u < H; u++) {
            R a[4];
            for (int g = 0; g < 4; g++) {
                int col = g * H + u;
                R x = has_hyper ? sx_i[col] * wy_i[col] : wy_i[col];
                if (uh_i) x += has_hyper ? sh_i[col] * uh_i[col] : uh_i[col];
                if (has_hyper) x += bd_i[col];
                if (k->b) x += k->b[col];
                a[g] = x;
            }
            R ig = VH_FN(vh_sigmoid)(a[0]);
            R jg = VH_TANH(a[1]);
            R fg = VH_FN(vh_sigmoid)(a[2] + (R)1);  // forget bias +1, added at run time
            R og = VH_FN(vh_sigmoid)(a[3]);
            R c = ig * jg + (cp_i ? fg * cp_i[u] : (R)0);
            c_i[u] = c;
            h_i[u] = og * VH_TANH(c);
            g_i[u] = ig;
            g_i[H + u] = jg;
            g_i[2 * H + u] = fg;
            g_i[3 * H + u] = og;
        }
    }
}

static void VH_FN(vh_lstm_fwd_plain)(void *ctx, size_t begin, size_t end) {
    VH_FN(vh_lstm_fwd_rows)((const VH_FN(vh_lstm_fwd_ctx) *)ctx, begin, end, 0);
}
static void VH_FN(vh_lstm_fwd_hyper)(void *ctx, size_t begin, size_t end) {
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
// on the thread count.
static inline __attribute__((always_inline)) void
VH_FN(vh_lstm_bwd_units)(const VH_FN(vh_lstm_bwd_ctx) *k, size_t u_begin, size_t u_end,
                         int has_hyper) {
    const int H = k->hidden, G = 4 * H, n = k->n;
    for (int i = 0; i < n; i++) {
        const R *g_i = k->gates + (size_t)i * G;
        const R *c_i = k->c + (size_t)i * H;
        const R *cp_i = k->c_prev ? k->c_prev + (size_t)i * H : NULL;
        const R *dh_i = k->dh + (size_t)i * H;
        const R *dc_i = k->dc ? k->dc + (size_t)i * H : NULL;
        const R *wy_i = k->wy ? k->wy + (size_t)i * G : NULL;
        const R *uh_i = k->uh ? k->uh + (size_t)i * G : NULL;
        const R *sx_i = has_hyper ? k->hyper + (size_t)i * 3 * G : NULL;
        R *dwy_i = k->dwy ? k->dwy + (size_t)i * G : NULL;
        R *duh_i = k->duh ? k->duh + (size_t)i * G : NULL;
        R *dhy_i = (has_hyper && k->dhyper) ? k->dhyper + (size_t)i * 3 * G : NULL;
        R *dcp_i = k->dc_prev ? k->dc_prev + (size_t)i * H : NULL;
        for (size_t uu = u_begin; uu < u_end; uu++) {
            int u = (int)uu;
            R ig = g_i[u], jg = g_i[H + u], fg = g_i[2 * H + u], og = g_i[3 * H + u];
            R cp = cp_i ? cp_i[u] : (R)0;
            R tc = VH_TANH(c_i[u]);
            // forward: h = o . tanh(c), c = f . c_prev + i . j
            R dhv = dh_i[u];
            R dct = (dc_i ? dc_i[u] : (R)0) + dhv * og * ((R)1 - tc * tc);
            if (dcp_i) dcp_i[u] += dct * fg;
            R da[4];
            da[0] = dct * jg * ig * ((R)1 - ig);        // i = sigmoid(a_i)
            da[1] = dct * ig * ((R)1 - jg * jg);        // j = tanh(a_j)
            da[2] = dct * cp * fg * ((R)1 - fg);        // f = sigmoid(a_f + 1)
            da[3] = dhv * tc * og * ((R)1 - og);        // o = sigmoid(a_o)
            for (int g = 0; g < 4; g++) {
                int col = g * H + u;
                // forward: a = scale_x . wy + scale_h . uh + bias_dyn + b
                if (has_hyper) {
                    if (dwy_i) dwy_i[col] += da[g] * sx_i[col];
                    if (duh_i) duh_i[col] += da[g] * sx_i[G + col];
                    if (dhy_i) {
                        dhy_i[col] += da[g] * wy_i[col];
                        if (uh_i) dhy_i[G + col] += da[g] * uh_i[col];
                        dhy_i[2 * G + col] += da[g];
                    }
                } else {
                    if (dwy_i) dwy_i[col] += da[g];
                    if (duh_i) duh_i[col] += da[g];
                }
                if (k->db) k->db[col] += da[g];
            }
        }
    }
}

static void VH_FN(vh_lstm_bwd_plain)(void *ctx, size_t begin, size_t end) {
    VH_FN(vh_lstm_bwd_units)((const VH_FN(vh_lstm_bwd_ctx) *)ctx, begin, end, 0);
}
static void VH_FN(vh_lstm_bwd_hyper)(void *ctx, size_t begin, size_t end) {
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

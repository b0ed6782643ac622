// GRU cell and Hadamard-scaled (hyper) GRU cell, one precision (see vh_instantiate.h).
// Gate order r (reset), u (update), n (candidate); the reset gate multiplies U h (cuDNN form).
#define R VH_REAL
#include "vh_math_impl.h"

typedef struct {
    R *h, *gates;
    const R *wx, *uh, *hyper, *b, *h_prev;
    int hidden;
} VH_FN(vh_gru_fwd_ctx);

static inline __attribute__((always_inline)) void
VH_FN(vh_gru_fwd_rows)(const VH_FN(vh_gru_fwd_ctx) *k, size_t begin, size_t end, int has_hyper) {
    const int H = k->hidden, G = 3 * H;
    for (size_t i = begin; i < end; i++) {
        // wx_i, uh_i, gates_i are (3H); hyper_i is (9H) = [scale_x | scale_h | bias_dyn]
        const R *wx_i = k->wx + i * G, *uh_i = k->uh + i * G;
        const R *sx_i = has_hyper ? k->hyper + i * 3 * G : NULL;
        const R *hp_i = k->h_prev ? k->h_prev + i * H : NULL;
        R *h_i = k->h + i * H, *g_i = k->gates + i * G;
        for (int u = 0; u < H; u++) {
            R xs[3], hs[3];  // scaled input and recurrent pre-activations, bias folded into xs
            for (int g = 0; g < 3; g++) {
                int col = g * H + u;
                xs[g] = has_hyper ? sx_i[col] * wx_i[col] + sx_i[2 * G + col] : wx_i[col];
                if (k->b) xs[g] += k->b[col];
                hs[g] = has_hyper ? sx_i[G + col] * uh_i[col] : uh_i[col];
            }
            R r = VH_FN(vh_sigmoid)(xs[0] + hs[0]);
            R z = VH_FN(vh_sigmoid)(xs[1] + hs[1]);
            R m = VH_TANH(xs[2] + r * hs[2]);
            R hp = hp_i ? hp_i[u] : (R)0;
            h_i[u] = ((R)1 - z) * m + z * hp;
            g_i[u] = r;
            g_i[H + u] = z;
            g_i[2 * H + u] = m;
        }
    }
}

static void VH_FN(vh_gru_fwd_plain)(void *ctx, size_t begin, size_t end) {
    VH_FN(vh_gru_fwd_rows)((const VH_FN(vh_gru_fwd_ctx) *)ctx, begin, end, 0);
}
static void VH_FN(vh_gru_fwd_hyper)(void *ctx, size_t begin, size_t end) {
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

// Split over hidden units so each thread owns whole columns of db (see the LSTM backward).
static inline __attribute__((always_inline)) void
VH_FN(vh_gru_bwd_units)(const VH_FN(vh_gru_bwd_ctx) *k, size_t u_begin, size_t u_end,
                        int has_hyper) {
    const int H = k->hidden, G = 3 * H, n = k->n;
    for (int i = 0; i < n; i++) {
        const R *g_i = k->gates + (size_t)i * G;
        const R *uh_i = k->uh + (size_t)i * G;
        const R *wx_i = k->wx ? k->wx + (size_t)i * G : NULL;
        const R *sx_i = has_hyper ? k->hyper + (size_t)i * 3 * G : NULL;
        const R *hp_i = k->h_prev ? k->h_prev + (size_t)i * H : NULL;
        const R *dh_i = k->dh + (size_t)i * H;
        R *dwx_i = k->dwx ? k->dwx + (size_t)i * G : NULL;
        R *duh_i = k->duh ? k->duh + (size_t)i * G : NULL;
        R *dhy_i = (has_hyper && k->dhyper) ? k->dhyper + (size_t)i * 3 * G : NULL;
        R *dhp_i = k->dh_prev ? k->dh_prev + (size_t)i * H : NULL;
        for (size_t uu = u_begin; uu < u_end; uu++) {
            int u = (int)uu;
            R r = g_i[u], z = g_i[H + u], m = g_i[2 * H + u];
            R hp = hp_i ? hp_i[u] : (R)0;
            R dhv = dh_i[u];
            // forward: h = (1 - u) . m + u . h_prev
            if (dhp_i) dhp_i[u] += dhv * z;
            R dm = dhv * ((R)1 - z);
            R dz = dhv * (hp - m);
            // forward: m = tanh(xs_n + r . hs_n), r = sigmoid(xs_r + hs_r), u = sigmoid(xs_u + hs_u)
            int cn = 2 * H + u;
            R hs_n = has_hyper ? sx_i[G + cn] * uh_i[cn] : uh_i[cn];
            R dan = dm * ((R)1 - m * m);
            R dar = dan * hs_n * r * ((R)1 - r);
            R dau = dz * z * ((R)1 - z);
            R dxs[3] = {dar, dau, dan};           // gradient of each scaled input term
            R dhs[3] = {dar, dau, dan * r};       // gradient of each scaled recurrent term
            for (int g = 0; g < 3; g++) {
                int col = g * H + u;
                // forward: xs = scale_x . wx + bias_dyn + b, hs = scale_h . uh
                if (has_hyper) {
                    if (dwx_i) dwx_i[col] += dxs[g] * sx_i[col];
                    if (duh_i) duh_i[col] += dhs[g] * sx_i[G + col];
                    if (dhy_i) {
                        dhy_i[col] += dxs[g] * wx_i[col];
                        dhy_i[G + col] += dhs[g] * uh_i[col];
                        dhy_i[2 * G + col] += dxs[g];
                    }
                } else {
                    if (dwx_i) dwx_i[col] += dxs[g];
                    if (duh_i) duh_i[col] += dhs[g];
                }
                if (k->db) k->db[col] += dxs[g];
            }
        }
    }
}

static void VH_FN(vh_gru_bwd_plain)(void *ctx, size_t begin, size_t end) {
    VH_FN(vh_gru_bwd_units)((const VH_FN(vh_gru_bwd_ctx) *)ctx, begin, end, 0);
}
static void VH_FN(vh_gru_bwd_hyper)(void *ctx, size_t begin, size_t end) {
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

// Linear layer and elementwise helpers, one precision (see vh_instantiate.h).
#define R VH_REAL
#include "vh_math_impl.h"

// The GEMMs are parallelised here, not inside OpenBLAS (which runs single-threaded; see
// vh_parallel.c): rows (or, for dW, output units) are split over the one parallel-for, each
// share a single-threaded GEMM. OpenBLAS's own thread pool spins in sched_yield between calls
// and stole a core from the element-wise kernels in between (perf: ~30% of evaluation time).
typedef struct {
    R *y, *dx, *dw, *db;
    const R *x, *w, *b, *dy;
    int n, in_dim, out_dim, w_stride, accumulate;
} VH_FN(vh_linear_ctx);

// y (n, m) = b (m) in every row.
__attribute__((no_builtin("memcpy"))) static void
VH_FN(vh_broadcast_rows)(R *restrict y, const R *restrict b, int n, int m) {
    for (int i = 0; i < n; i++) {
        R *restrict y_i = y + (size_t)i * m;
        for (int o = 0; o < m; o++) y_i[o] = b[o];
    }
}

static void VH_FN(vh_linear_forward_rows)(void *ctx, size_t begin, size_t end) {
    const VH_FN(vh_linear_ctx) *k = ctx;
    const int in_dim = k->in_dim, out_dim = k->out_dim, n = (int)(end - begin);
    R *y = k->y + begin * (size_t)out_dim;
    const R *x = k->x + begin * (size_t)in_dim;
    if (!k->accumulate) {
        // The bias broadcast to every row as one loop over the block rather than a memcpy call
        // per row of 16..128 values. (At K = 1024 this is ~6% of evaluation either way: the
        // time is the stores of the output rows, which the GEMM then reads back.)
        if (k->b) VH_FN(vh_broadcast_rows)(y, k->b, n, out_dim);
        else memset(y, 0, sizeof(R) * (size_t)n * (size_t)out_dim);
    } else if (k->b) {
        for (int i = 0; i < n; i++) {
            R *y_i = y + (size_t)i * out_dim;
            for (int o = 0; o < out_dim; o++) y_i[o] += k->b[o];
        }
    }
    if (in_dim <= 0) return;
    VH_GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, n, out_dim, in_dim,
            (R)1, x, in_dim, k->w, k->w_stride, (R)1, y, out_dim);
}

// Rows per GEMM share: at least ~1 MFLOP, below which a second thread does not pay.
static inline size_t VH_FN(vh_gemm_grain)(size_t flops_per_unit) {
    size_t g = ((size_t)1 << 20) / (flops_per_unit ? flops_per_unit : 1);
    return g ? g : 1;
}

void VH_FN(vh_linear_forward)(R *y, const R *x, const R *w, const R *b,
                              int n, int in_dim, int out_dim, int w_stride, int accumulate) {
    // y is (n, out), x is (n, in), w is (out, in) with row stride w_stride, b is (out)
    if (n <= 0 || out_dim <= 0) return;
    VH_FN(vh_linear_ctx) k = {y, NULL, NULL, NULL, x, w, b, NULL, n, in_dim, out_dim, w_stride, accumulate};
    vh_parallel_for((size_t)n, VH_FN(vh_gemm_grain)((size_t)2 * in_dim * out_dim),
                    VH_FN(vh_linear_forward_rows), &k);
}

// dx (n, in) += dy (n, out) W (out, in; row stride ws), for small products. OpenBLAS 0.3.21's
// small-matrix NoTrans/NoTrans kernel mallocs a scratch buffer on every call, which would put
// an allocation in the training time loop. Here each row's dx is built in tiles of
// VH_NN_TILE columns held in registers across the whole sum over `out` (a plain axpy per
// (row, out) would reload and store dx_i out times).
#define VH_NN_TILE 32
VH_HOT static void VH_FN(vh_gemm_nn_small)(R *dx, const R *dy, const R *w, int n, int in_dim, int out_dim,
                                           int ws) {
    for (int i = 0; i < n; i++) {
        R *dx_i = dx + (size_t)i * in_dim;
        const R *dy_i = dy + (size_t)i * out_dim;
        for (int j0 = 0; j0 < in_dim; j0 += VH_NN_TILE) {
            const int width = in_dim - j0 < VH_NN_TILE ? in_dim - j0 : VH_NN_TILE;
            R acc[VH_NN_TILE];
            if (width == VH_NN_TILE) {
                for (int j = 0; j < VH_NN_TILE; j++) acc[j] = dx_i[j0 + j];
                for (int o = 0; o < out_dim; o++) {
                    const R a = dy_i[o];
                    const R *w_o = w + (size_t)o * ws + j0;
                    for (int j = 0; j < VH_NN_TILE; j++) acc[j] += a * w_o[j];
                }
                for (int j = 0; j < VH_NN_TILE; j++) dx_i[j0 + j] = acc[j];
            } else {
                for (int j = 0; j < width; j++) acc[j] = dx_i[j0 + j];
                for (int o = 0; o < out_dim; o++) {
                    const R a = dy_i[o];
                    const R *w_o = w + (size_t)o * ws + j0;
                    for (int j = 0; j < width; j++) acc[j] += a * w_o[j];
                }
                for (int j = 0; j < width; j++) dx_i[j0 + j] = acc[j];
            }
        }
    }
}

static void VH_FN(vh_linear_backward_input_rows)(void *ctx, size_t begin, size_t end) {
    // dx (rows, in) += dy (rows, out) W
    const VH_FN(vh_linear_ctx) *k = ctx;
    const int in_dim = k->in_dim, out_dim = k->out_dim, n = (int)(end - begin);
    R *dx = k->dx + begin * (size_t)in_dim;
    const R *dy = k->dy + begin * (size_t)out_dim;
    if ((size_t)n * (size_t)in_dim * (size_t)out_dim <= VH_SMALL_GEMM_WORK)
        VH_FN(vh_gemm_nn_small)(dx, dy, k->w, n, in_dim, out_dim, k->w_stride);
    else
        VH_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, in_dim, out_dim,
                (R)1, dy, out_dim, k->w, k->w_stride, (R)1, dx, in_dim);
}

static void VH_FN(vh_linear_backward_weight_units)(void *ctx, size_t begin, size_t end) {
    // dW[units] += dy[:, units]^T x and db[units] += column sums of dy[:, units]: each share owns
    // whole rows of dW, so the sum over the n rows of the batch has one fixed order.
    const VH_FN(vh_linear_ctx) *k = ctx;
    const int in_dim = k->in_dim, out_dim = k->out_dim, units = (int)(end - begin), n = k->n;
    if (k->dw && in_dim > 0)
        VH_GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, units, in_dim, n,
                (R)1, k->dy + begin, out_dim, k->x, in_dim, (R)1, k->dw + begin * (size_t)k->w_stride,
                k->w_stride);
    if (k->db) {
        for (int i = 0; i < n; i++) {
            const R *dy_i = k->dy + (size_t)i * out_dim;
            for (size_t o = begin; o < end; o++) k->db[o] += dy_i[o];
        }
    }
}

void VH_FN(vh_linear_backward)(R *dx, R *dw, R *db, const R *dy, const R *x, const R *w,
                               int n, int in_dim, int out_dim, int w_stride) {
    // forward was y = x W^T + b, so dx = dy W, dW = dy^T x, db = sum over rows of dy
    if (n <= 0 || out_dim <= 0) return;
    const size_t work = (size_t)2 * in_dim * out_dim;
    VH_FN(vh_linear_ctx) k = {NULL, dx, dw, db, x, w, NULL, dy, n, in_dim, out_dim, w_stride, 0};
    if (dx && in_dim > 0)
        vh_parallel_for((size_t)n, VH_FN(vh_gemm_grain)(work), VH_FN(vh_linear_backward_input_rows), &k);
    if (dw || db)
        vh_parallel_for((size_t)out_dim, VH_FN(vh_gemm_grain)((size_t)2 * in_dim * n),
                        VH_FN(vh_linear_backward_weight_units), &k);
}

void VH_FN(vh_relu_forward)(R *out, const R *input, size_t count) {
    for (size_t i = 0; i < count; i++) out[i] = input[i] > 0 ? input[i] : (R)0;
}

void VH_FN(vh_relu_backward)(R *din, const R *dout, const R *out, size_t count) {
    // forward was out = max(in, 0): the gradient passes where the unit was active
    for (size_t i = 0; i < count; i++) din[i] += out[i] > 0 ? dout[i] : (R)0;
}

VH_HOT void VH_FN(vh_relu_backward_inplace)(R *d, const R *out, size_t count) {
    VH_SIMD
    for (size_t i = 0; i < count; i++) d[i] = out[i] > 0 ? d[i] : (R)0;
}

void VH_FN(vh_add_forward)(R *out, const R *a, const R *b, size_t count) {
    for (size_t i = 0; i < count; i++) out[i] = a[i] + b[i];
}

VH_HOT void VH_FN(vh_sigmoid_forward)(R *out, const R *x, size_t count) {
    VH_SIMD_MATH
    for (size_t i = 0; i < count; i++) out[i] = VH_FN(vh_sigmoid)(x[i]);
}

void VH_FN(vh_accumulate)(R *dst, const R *src, size_t count) {
    for (size_t i = 0; i < count; i++) dst[i] += src[i];
}

void VH_FN(vh_scale)(R *x, size_t count, R alpha) {
    for (size_t i = 0; i < count; i++) x[i] *= alpha;
}

#pragma clang fp reassociate(on)
double VH_FN(vh_sum_squares)(const R *x, size_t count) {
    double s = 0;
    for (size_t i = 0; i < count; i++) s += (double)x[i] * (double)x[i];
    return s;
}
#pragma clang fp reassociate(off)

VH_HOT void VH_FN(vh_adam_update)(R *param, R *m, R *v, const R *grad, size_t count, R lr, R beta1,
                           R beta2, R eps, int step) {
    // bias-corrected step size, as in Kingma & Ba (Algorithm 1, efficient form)
    double c1 = 1.0 - pow((double)beta1, (double)step);
    double c2 = 1.0 - pow((double)beta2, (double)step);
    R alpha = (R)((double)lr * sqrt(c2) / c1);
    R eps_hat = (R)((double)eps * sqrt(c2));
    VH_SIMD
    for (size_t i = 0; i < count; i++) {
        R g = grad[i];
        m[i] = beta1 * m[i] + (1 - beta1) * g;
        v[i] = beta2 * v[i] + (1 - beta2) * g * g;
        param[i] -= alpha * m[i] / (VH_SQRT(v[i]) + eps_hat);
    }
}

#undef R

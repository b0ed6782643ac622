// vh_kernels_precision.h — kernel declarations for one precision. Included twice by
// vh_kernels.h with VH_REAL = float / double and VH_FN(name) = name##_f32 / name##_f64.
// Not a standalone header (textual in the module map).
#define R VH_REAL

// ---- linear layer (BLAS) ------------------------------------------------------------------
// y (n, out) = x (n, in) W^T + b, W is (out, in) with row stride w_stride >= in (so a
// column block of a wider weight can be used), b (out) may be NULL.
// accumulate != 0 adds into y instead of overwriting (for inputs that are concatenations:
// y = x1 W[:, :in1]^T + x2 W[:, in1:]^T + b without copying).
void VH_FN(vh_linear_forward)(R *y, const R *x, const R *w, const R *b,
                              int n, int in_dim, int out_dim, int w_stride, int accumulate);
// dx (n, in) += dy W;  dw (out, in; stride w_stride) += dy^T x;  db (out) += sum_rows dy.
// dx, db may be NULL.
void VH_FN(vh_linear_backward)(R *dx, R *dw, R *db, const R *dy, const R *x, const R *w,
                               int n, int in_dim, int out_dim, int w_stride);

// ---- activations (elementwise over `count` values) ----------------------------------------
// out = max(input, 0). In place (out == input) is allowed.
void VH_FN(vh_relu_forward)(R *out, const R *input, size_t count);
// din += dout * [out > 0]
void VH_FN(vh_relu_backward)(R *din, const R *dout, const R *out, size_t count);

// In-place form for a gradient buffer that held d out: d = d . [out > 0].
void VH_FN(vh_relu_backward_inplace)(R *d, const R *out, size_t count);

// ---- elementwise helpers ----------------------------------------------------------------
// out = a + b (out may alias a or b).
void VH_FN(vh_add_forward)(R *out, const R *a, const R *b, size_t count);
// out = sigmoid(x) = 1 / (1 + e^-x), elementwise (a Bernoulli emission's mean frame).
void VH_FN(vh_sigmoid_forward)(R *out, const R *x, size_t count);
// dst += src.
void VH_FN(vh_accumulate)(R *dst, const R *src, size_t count);

// ---- LSTM cells (TF gate order i, j, f, o; forget bias +1 added at run time) --------------
// Pre-activations come from the caller's GEMMs: wy = y W^T (n, 4H), uh = h_prev U^T (n, 4H).
// Plain cell:   a = wy + uh + b
// Hyper cell:   a = scale_x . wy + scale_h . uh + bias_dyn + b   ('.' Hadamard)
//   (see docs: VHRNN.docc/ModelArchitecture.md)
//   hyper (n, 12H) holds per row [scale_x (4H) | scale_h (4H) | bias_dyn (4H)], each block in
//   gate order i, j, f, o.
// i = sig(a_i), j = tanh(a_j), f = sig(a_f + 1), o = sig(a_o)
// c = f . c_prev + i . j,  h = o . tanh(c)
// uh may be NULL (then a = wy + b: the caller accumulated both GEMMs into wy); b may be NULL.
// gates (n, 4H) caches i, j, f, o after their nonlinearities.
void VH_FN(vh_lstm_cell_forward)(R *h, R *c, R *gates, const R *wy, const R *uh, const R *b,
                                 const R *c_prev, int n, int hidden);
// dwy, duh (n, 4H) += da; db (4H) += sum_rows da; dc_prev (n, H) += dc_total . f.
// dh (n, H) is required; dc (n, H) may be NULL (no gradient from the future cell state).
// duh, db, dc_prev may be NULL.
void VH_FN(vh_lstm_cell_backward)(R *dwy, R *duh, R *db, R *dc_prev,
                                  const R *dh, const R *dc, const R *gates, const R *c,
                                  const R *c_prev, int n, int hidden);
void VH_FN(vh_hyper_lstm_cell_forward)(R *h, R *c, R *gates, const R *wy, const R *uh,
                                       const R *hyper, const R *b, const R *c_prev,
                                       int n, int hidden);
// dwy, duh (n, 4H); dhyper (n, 12H); db (4H); dc_prev (n, H). Any gradient may be NULL
// except dh.
void VH_FN(vh_hyper_lstm_cell_backward)(R *dwy, R *duh, R *dhyper, R *db, R *dc_prev,
                                        const R *dh, const R *dc, const R *gates, const R *c,
                                        const R *c_prev, const R *wy, const R *uh,
                                        const R *hyper, int n, int hidden);

// ---- GRU cells (gate order r, u, n; reset applied to U h, as cuDNN / PyTorch) --------------
// wx = x W^T (n, 3H), uh = h_prev U^T (n, 3H), b (3H) static bias (may be NULL).
// Plain:  r = sig(wx_r + uh_r + b_r), u = sig(wx_u + uh_u + b_u),
//         m = tanh(wx_n + b_n + r . uh_n),  h = (1 - u) . m + u . h_prev
// Hyper:  every wx block is scaled by scale_x, every uh block by scale_h, bias_dyn is added
//         next to b:  m = tanh(sx_n . wx_n + bd_n + b_n + r . (sh_n . uh_n)).
//   hyper (n, 9H) holds per row [scale_x (3H) | scale_h (3H) | bias_dyn (3H)].
// gates (n, 3H) caches r, u, m.
void VH_FN(vh_gru_cell_forward)(R *h, R *gates, const R *wx, const R *uh, const R *b,
                                const R *h_prev, int n, int hidden);
// dwx, duh (n, 3H); db (3H); dh_prev (n, H) += the direct path u . dh (the path through U is
// the caller's GEMM backward). Any gradient may be NULL except dh.
void VH_FN(vh_gru_cell_backward)(R *dwx, R *duh, R *db, R *dh_prev, const R *dh,
                                 const R *gates, const R *uh, const R *h_prev,
                                 int n, int hidden);
void VH_FN(vh_hyper_gru_cell_forward)(R *h, R *gates, const R *wx, const R *uh,
                                      const R *hyper, const R *b, const R *h_prev,
                                      int n, int hidden);
void VH_FN(vh_hyper_gru_cell_backward)(R *dwx, R *duh, R *dhyper, R *db, R *dh_prev,
                                       const R *dh, const R *gates, const R *wx, const R *uh,
                                       const R *hyper, const R *h_prev, int n, int hidden);

// ---- decoder hyper-scaling (omega; see docs: VHRNN.docc/ModelArchitecture.md) --------------
// out (n, m) = s (n, m) . vv (n, m) + r (n, m) + b (m);  vv = v V^T from the caller's GEMM.
// b may be NULL.
void VH_FN(vh_hyper_scale_forward)(R *out, const R *vv, const R *s, const R *r, const R *b,
                                   int n, int m);
// dvv += dout . s; ds += dout . vv; dr += dout; db += sum_rows dout. Any may be NULL.
void VH_FN(vh_hyper_scale_backward)(R *dvv, R *ds, R *dr, R *db, const R *dout, const R *vv,
                                    const R *s, int n, int m);

// ---- diagonal Gaussian -------------------------------------------------------------------
// sigma = max(softplus(raw + 0.5), sigma_min)   (FIVO's raw_sigma_bias = 0.5)
void VH_FN(vh_gaussian_sigma_forward)(R *sigma, const R *raw, size_t count, R sigma_min);
// draw += dsigma . sigmoid(raw + 0.5) where the floor is not active.
void VH_FN(vh_gaussian_sigma_backward)(R *draw, const R *dsigma, const R *raw, size_t count,
                                       R sigma_min);
// logp (n) = sum_d log N(x | mu, sigma) over d columns.
void VH_FN(vh_gaussian_logpdf_forward)(R *logp, const R *x, const R *mu, const R *sigma,
                                       int n, int d);
// dx, dmu, dsigma (n, d) += dlogp (n) * partials. Any may be NULL. x_row: row i reads x row
// x_row[i] (the frame a sequence's particles share; dx must then be NULL); NULL: row i.
void VH_FN(vh_gaussian_logpdf_backward)(R *dx, R *dmu, R *dsigma, const R *dlogp, const R *x,
                                        const int32_t *x_row, const R *mu, const R *sigma, int n,
                                        int d);
// z = mu + sigma . eps   (reparameterised sample; eps drawn by the caller)
void VH_FN(vh_gaussian_sample_forward)(R *z, const R *mu, const R *sigma, const R *eps,
                                       size_t count);
// dmu += dz; dsigma += dz . eps. Either may be NULL.
void VH_FN(vh_gaussian_sample_backward)(R *dmu, R *dsigma, const R *dz, const R *eps,
                                        size_t count);
// kl (n) = sum_d KL(N(mu_q, sigma_q) || N(mu_p, sigma_p))
void VH_FN(vh_gaussian_kl_forward)(R *kl, const R *mu_q, const R *sigma_q, const R *mu_p,
                                   const R *sigma_p, int n, int d);
// Any gradient may be NULL.
void VH_FN(vh_gaussian_kl_backward)(R *dmu_q, R *dsigma_q, R *dmu_p, R *dsigma_p,
                                    const R *dkl, const R *mu_q, const R *sigma_q,
                                    const R *mu_p, const R *sigma_p, int n, int d);

// Fused forward passes, each one pass where the kernels above take two to four, the same
// values bit for bit:
// mu = mu_p + dmu; sigma = max(softplus(raw + 0.5), sigma_min); z = mu + sigma . eps;
// logq (n) = sum_d log N(z | mu, sigma)   (the proposal head, its draw and its density).
void VH_FN(vh_gaussian_proposal_forward)(R *mu, R *sigma, R *z, R *logq, const R *mu_p,
                                         const R *dmu, const R *raw, const R *eps, R sigma_min,
                                         int n, int d);
// sigma = max(softplus(raw + 0.5), sigma_min); logp (n) = sum_d log N(x | mu, sigma)
// (a head's sigma and its density at x; x_row as in vh_gaussian_logpdf_backward).
void VH_FN(vh_gaussian_head_logpdf_forward)(R *sigma, R *logp, const R *x, const int32_t *x_row,
                                            const R *mu, const R *raw, R sigma_min, int n, int d);

// The emission's moments under normalised particle weights w (k): per dimension (d columns),
// mean = sum_k w_k m_k and variance = sum_k w_k (v_k + m_k^2) - mean^2, with m_k, v_k particle k's
// mean and variance: sigmoid(head) and m (1 - m) when sigma is NULL (Bernoulli logits), else
// head and sigma^2 (Gaussian).
void VH_FN(vh_emission_moments)(R *mean, R *variance, const R *head, const R *sigma, const R *w, int k,
                                int d);

// ---- Bernoulli emission -------------------------------------------------------------------
// logp (n) = sum_d [x . l - softplus(l)], stable for any logit magnitude. x_row: row i reads x
// row x_row[i] (NULL: row i).
void VH_FN(vh_bernoulli_logpmf_forward)(R *logp, const R *x, const int32_t *x_row,
                                        const R *logits, int n, int d);
// dlogits += dlogp * (x - sigmoid(l)).
void VH_FN(vh_bernoulli_logpmf_backward)(R *dlogits, const R *dlogp, const R *x,
                                         const int32_t *x_row, const R *logits, int n, int d);

// ---- ancestor gather ----------------------------------------------------------------------
// out[i, :] = input[index[i], :] for i < n; width columns. out must not alias input.
// Returns VH_ERR_INDEX (and writes nothing) if an index is outside [0, in_rows).
int VH_FN(vh_gather_rows_forward)(R *out, const R *input, const int32_t *index, int n,
                                  int in_rows, int width);
// din[index[i], :] += dout[i, :]  (scatter-add; several i may share a parent).
int VH_FN(vh_gather_rows_backward)(R *din, const R *dout, const int32_t *index, int n,
                                   int in_rows, int width);

// ---- particle weights ---------------------------------------------------------------------
// lse (b) = log sum_k exp(w[b, k]) over k particles; -inf rows give -inf.
void VH_FN(vh_logsumexp_forward)(R *lse, const R *w, int b, int k);
// dw (b, k) += dlse (b) * softmax(w[b, :]).
void VH_FN(vh_logsumexp_backward)(R *dw, const R *dlse, const R *w, const R *lse, int b, int k);

// log_alpha (n) = log_prior + log_lik - log_q: each particle row's incremental log weight.
void VH_FN(vh_log_alpha_forward)(R *log_alpha, const R *log_prior, const R *log_lik, const R *log_q, int n);
// dlog_prior += dlog_alpha, dlog_lik += dlog_alpha, dlog_q -= dlog_alpha (null: not wanted).
void VH_FN(vh_log_alpha_backward)(R *dlog_prior, R *dlog_lik, R *dlog_q, const R *dlog_alpha, int n);
// log_alpha (n) = log_lik + beta * (log_prior - log_q): KL warm-up's surrogate weight (training only).
void VH_FN(vh_log_alpha_weighted_forward)(R *log_alpha, const R *log_prior, const R *log_lik, const R *log_q,
                                          R beta, int n);
// dlog_prior += beta dlog_alpha, dlog_lik += dlog_alpha, dlog_q -= beta dlog_alpha (null: not wanted).
void VH_FN(vh_log_alpha_weighted_backward)(R *dlog_prior, R *dlog_lik, R *dlog_q, const R *dlog_alpha, R beta,
                                           int n);
// w (b, k) += log_alpha (b, k) where mask[seq] != 0: steps past a sequence's end add nothing,
// even if log_alpha is not finite there. Its backward is dlog_alpha = [mask != 0]·dw, which
// the filter's dw already is (no event sets it past a sequence's end), so it has no kernel.
void VH_FN(vh_log_weights_accumulate)(R *w, const R *log_alpha, const R *mask, int b, int k);

// ---- noise ---------------------------------------------------------------------------------
// count standard normals from the SplitMix64 stream *state (advanced in place): Box-Muller on
// pairs of uniforms, both values used. Pair j (j = 0 .. ceil(count/2) - 1) takes stream
// outputs 2j+1 and 2j+2 (a, b; output i of state s is the i-th vh_splitmix64_next) and
// writes out[2j] = r cos(theta), out[2j+1] = r sin(theta), with r = sqrt(-2 log u1),
// u1 = 1 - (a >> 11)·2^-53 in (0, 1], theta = 2pi·u2, u2 = (b >> 11)·2^-53 in [0, 1). An odd
// count computes its last pair and drops the sine. Either way the stream advances by exactly
// 2·ceil(count/2) outputs, whatever the precision: *state becomes
// *state + 2·ceil(count/2)·0x9E3779B97F4A7C15 (mod 2^64), the same as that many calls of
// vh_splitmix64_next. count = 0 writes nothing and leaves *state unchanged.
// double: libm log / sqrt / cos / sin. float: the same uniforms and pairs, vectorised
// (lane-parallel SplitMix64, vh_fast_logf, quadrant reduction from the angle's top 32 bits and
// minimax sin / cos); each value is within ~4 ulp of max(|x|, 1) of the double result for the
// same state, so the two precisions draw the same normals up to float rounding.
void VH_FN(vh_fill_standard_normal)(R *out, size_t count, uint64_t *state);

// ---- optimiser ----------------------------------------------------------------------------
// Adam over a flat arena of `count` parameters; step >= 1 is the 1-based update count
// (bias correction). m, v are the first and second moment arenas.
void VH_FN(vh_adam_update)(R *param, R *m, R *v, const R *grad, size_t count, R lr, R beta1,
                           R beta2, R eps, int step);
// sum of squares of `count` values (for gradient-norm clipping), accumulated in double.
double VH_FN(vh_sum_squares)(const R *x, size_t count);
// x *= alpha
void VH_FN(vh_scale)(R *x, size_t count, R alpha);

#undef R

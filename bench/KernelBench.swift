// KernelBench.swift — the benchmark cases: every float32 kernel forward/backward pair at the
// paper's sizes, with an analytic flop and byte count per call.
//
// Flop convention (also printed in the header): 1 flop per +, -, *, /, max, compare; each
// transcendental (exp, log, log1p, tanh, sigmoid, softplus, sqrt) also counts as 1 flop, even
// though it costs ~10-20 instructions — so GFLOP/s of transcendental-heavy kernels understates
// the work done. Counts are taken from the formulas in vh_kernels_precision.h, not from the
// implementation; small per-row or per-column terms (bias adds of linear, the final log of
// logsumexp) are included only where noted.
//
// Byte convention: 4 bytes per float (and per int32 index) read or written, once per call;
// a buffer that is accumulated into (+=) counts as read + write. It is the minimum traffic, not
// what the caches see; at these sizes everything lives in L1/L2, so GB/s is a "touched bytes
// per second" figure, not DRAM bandwidth.
import CVHRNN

/// One direction (forward or backward) of a case: `run(reps)` calls the kernel `reps` times.
struct Direction {
    let run: (Int) -> Void
    let flops: Double
    let bytes: Double
}

/// One kernel at one shape. Holds its buffers (the pool) for as long as it is alive.
struct BenchCase {
    let kernel: String
    let n: Int?        // rows (sequences x particles); nil where rows do not apply (optimiser)
    let dims: String   // the other sizes, e.g. "in=88 out=32"
    let fwd: Direction
    let bwd: Direction?
    let pool: BufferPool
}

/// A kernel family: its name (what --filter matches), the flop counts in words, and the shapes.
struct KernelSpec {
    let name: String
    let fwdFlops: String
    let bwdFlops: String
    let cases: [() -> BenchCase]  // built lazily, so a filtered-out kernel allocates nothing
}

private let rowCounts = [16, 1024]  // training: 4 seqs x 4 particles; eval: 1 seq x 1024
private let hiddenSizes = [8, 32]   // synthetic-shaped (H=8) and JSB-shaped (H=32)

private func f(_ x: Int) -> Double { Double(x) }
private func seed(_ name: String, _ a: Int, _ b: Int) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in name.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return h ^ (UInt64(a) << 32) ^ UInt64(b)
}

// ---- linear ---------------------------------------------------------------------------------

private func linearCase(n: Int, inDim: Int, outDim: Int) -> BenchCase {
    let p = BufferPool(seed: seed("linear", n, inDim * 1000 + outDim))
    let x = p.uniform(n * inDim, -1, 1)
    let w = p.uniform(outDim * inDim, -0.3, 0.3)
    let b = p.uniform(outDim, -0.1, 0.1)
    let dy = p.uniform(n * outDim, -1, 1)
    let y = p.output(n * outDim)
    let dx = p.output(n * inDim), dw = p.output(outDim * inDim), db = p.output(outDim)
    let N = Int32(n), I = Int32(inDim), O = Int32(outDim)
    let nio = f(n) * f(inDim) * f(outDim)
    return BenchCase(
        kernel: "linear", n: n, dims: "in=\(inDim) out=\(outDim)",
        fwd: Direction(
            run: { reps in repeatCalls(reps) { vh_linear_forward_f32(y, x, w, b, N, I, O, I, 0) } },
            flops: 2 * nio,
            bytes: 4 * (f(n * inDim) + f(inDim * outDim) + f(outDim) + f(n * outDim))),
        bwd: Direction(
            run: { reps in repeatCalls(reps) { vh_linear_backward_f32(dx, dw, db, dy, x, w, N, I, O, I) } },
            flops: 4 * nio,
            bytes: 4 * (f(n * outDim) + f(n * inDim) + f(inDim * outDim)  // dy, x, w
                        + 2 * f(n * inDim) + 2 * f(inDim * outDim) + 2 * f(outDim))),
        pool: p)
}

// ---- relu / add -----------------------------------------------------------------------------

private func reluCase(n: Int, h: Int) -> BenchCase {
    let p = BufferPool(seed: seed("relu", n, h))
    let count = n * h
    let x = p.uniform(count, -1, 1), dout = p.uniform(count, -1, 1)
    let out = p.output(count), din = p.output(count)
    vh_relu_forward_f32(out, x, count)
    return BenchCase(
        kernel: "relu", n: n, dims: "H=\(h)",
        fwd: Direction(run: { reps in repeatCalls(reps) { vh_relu_forward_f32(out, x, count) } },
                       flops: f(count), bytes: 4 * 2 * f(count)),
        bwd: Direction(run: { reps in repeatCalls(reps) { vh_relu_backward_f32(din, dout, out, count) } },
                       flops: 2 * f(count), bytes: 4 * 4 * f(count)),
        pool: p)
}

private func addCase(n: Int, h: Int) -> BenchCase {
    let p = BufferPool(seed: seed("add", n, h))
    let count = n * h
    let a = p.uniform(count, -1, 1), b = p.uniform(count, -1, 1)
    let out = p.output(count), acc = p.output(count)
    return BenchCase(
        kernel: "add", n: n, dims: "H=\(h)",
        fwd: Direction(run: { reps in repeatCalls(reps) { vh_add_forward_f32(out, a, b, count) } },
                       flops: f(count), bytes: 4 * 3 * f(count)),
        bwd: Direction(run: { reps in repeatCalls(reps) { vh_accumulate_f32(acc, a, count) } },
                       flops: f(count), bytes: 4 * 3 * f(count)),
        pool: p)
}

// ---- LSTM cells -----------------------------------------------------------------------------

private func lstmCase(n: Int, h: Int, hyper useHyper: Bool) -> BenchCase {
    let name = useHyper ? "hyper_lstm_cell" : "lstm_cell"
    let p = BufferPool(seed: seed(name, n, h))
    let g = 4 * h
    let wy = p.uniform(n * g, -1, 1), uh = p.uniform(n * g, -1, 1)
    let b = p.uniform(g, -0.1, 0.1), cPrev = p.uniform(n * h, -1, 1)
    let hyper = p.uniform(n * 12 * h, 0.5, 1.5)  // scales around 1 ...
    for r in 0..<n {                              // ... and small generated biases
        for j in 8 * h..<12 * h { hyper[r * 12 * h + j] = 0.2 * (hyper[r * 12 * h + j] - 1) }
    }
    let dh = p.uniform(n * h, -1, 1), dc = p.uniform(n * h, -1, 1)
    let hOut = p.output(n * h), c = p.output(n * h), gates = p.output(n * g)
    let dwy = p.output(n * g), duh = p.output(n * g), db = p.output(g), dcPrev = p.output(n * h)
    let dhyper = p.output(n * 12 * h)
    let N = Int32(n), H = Int32(h)
    let nh = f(n) * f(h)
    // Forward once so the caches read by backward (gates, c) hold real values.
    if useHyper {
        vh_hyper_lstm_cell_forward_f32(hOut, c, gates, wy, uh, hyper, b, cPrev, N, H)
    } else {
        vh_lstm_cell_forward_f32(hOut, c, gates, wy, uh, b, cPrev, N, H)
    }
    if !useHyper {
        return BenchCase(
            kernel: name, n: n, dims: "H=\(h)",
            fwd: Direction(
                run: { reps in repeatCalls(reps) { vh_lstm_cell_forward_f32(hOut, c, gates, wy, uh, b, cPrev, N, H) } },
                flops: 18 * nh, bytes: 4 * (15 * nh + f(g))),
            bwd: Direction(
                run: { reps in repeatCalls(reps) {
                    vh_lstm_cell_backward_f32(dwy, duh, db, dcPrev, dh, dc, gates, c, cPrev, N, H) } },
                flops: 35 * nh, bytes: 4 * (26 * nh + 2 * f(g))),
            pool: p)
    }
    return BenchCase(
        kernel: name, n: n, dims: "H=\(h)",
        fwd: Direction(
            run: { reps in repeatCalls(reps) {
                vh_hyper_lstm_cell_forward_f32(hOut, c, gates, wy, uh, hyper, b, cPrev, N, H) } },
            flops: 30 * nh, bytes: 4 * (27 * nh + f(g))),
        bwd: Direction(
            run: { reps in repeatCalls(reps) {
                vh_hyper_lstm_cell_backward_f32(dwy, duh, dhyper, db, dcPrev, dh, dc, gates, c, cPrev,
                                                wy, uh, hyper, N, H) } },
            flops: 63 * nh, bytes: 4 * (70 * nh + 2 * f(g))),
        pool: p)
}

// ---- GRU cells ------------------------------------------------------------------------------

private func gruCase(n: Int, h: Int, hyper useHyper: Bool) -> BenchCase {
    let name = useHyper ? "hyper_gru_cell" : "gru_cell"
    let p = BufferPool(seed: seed(name, n, h))
    let g = 3 * h
    let wx = p.uniform(n * g, -1, 1), uh = p.uniform(n * g, -1, 1)
    let b = p.uniform(g, -0.1, 0.1), hPrev = p.uniform(n * h, -1, 1)
    let hyper = p.uniform(n * 9 * h, 0.5, 1.5)
    for r in 0..<n {
        for j in 6 * h..<9 * h { hyper[r * 9 * h + j] = 0.2 * (hyper[r * 9 * h + j] - 1) }
    }
    let dh = p.uniform(n * h, -1, 1)
    let hOut = p.output(n * h), gates = p.output(n * g)
    let dwx = p.output(n * g), duh = p.output(n * g), db = p.output(g), dhPrev = p.output(n * h)
    let dhyper = p.output(n * 9 * h)
    let N = Int32(n), H = Int32(h)
    let nh = f(n) * f(h)
    if useHyper {
        vh_hyper_gru_cell_forward_f32(hOut, gates, wx, uh, hyper, b, hPrev, N, H)
    } else {
        vh_gru_cell_forward_f32(hOut, gates, wx, uh, b, hPrev, N, H)
    }
    if !useHyper {
        return BenchCase(
            kernel: name, n: n, dims: "H=\(h)",
            fwd: Direction(
                run: { reps in repeatCalls(reps) { vh_gru_cell_forward_f32(hOut, gates, wx, uh, b, hPrev, N, H) } },
                flops: 14 * nh, bytes: 4 * (11 * nh + f(g))),
            bwd: Direction(
                run: { reps in repeatCalls(reps) {
                    vh_gru_cell_backward_f32(dwx, duh, db, dhPrev, dh, gates, uh, hPrev, N, H) } },
                flops: 26 * nh, bytes: 4 * (22 * nh + 2 * f(g))),
            pool: p)
    }
    return BenchCase(
        kernel: name, n: n, dims: "H=\(h)",
        fwd: Direction(
            run: { reps in repeatCalls(reps) {
                vh_hyper_gru_cell_forward_f32(hOut, gates, wx, uh, hyper, b, hPrev, N, H) } },
            flops: 23 * nh, bytes: 4 * (20 * nh + f(g))),
        bwd: Direction(
            run: { reps in repeatCalls(reps) {
                vh_hyper_gru_cell_backward_f32(dwx, duh, dhyper, db, dhPrev, dh, gates, wx, uh, hyper,
                                               hPrev, N, H) } },
            flops: 48 * nh, bytes: 4 * (52 * nh + 2 * f(g))),
        pool: p)
}

// ---- decoder hyper-scaling ------------------------------------------------------------------

private func hyperScaleCase(n: Int, m: Int) -> BenchCase {
    let p = BufferPool(seed: seed("hyper_scale", n, m))
    let vv = p.uniform(n * m, -1, 1), s = p.uniform(n * m, 0.5, 1.5), r = p.uniform(n * m, -0.1, 0.1)
    let b = p.uniform(m, -0.1, 0.1), dout = p.uniform(n * m, -1, 1)
    let out = p.output(n * m), dvv = p.output(n * m), ds = p.output(n * m), dr = p.output(n * m)
    let db = p.output(m)
    let N = Int32(n), M = Int32(m)
    let nm = f(n) * f(m)
    return BenchCase(
        kernel: "hyper_scale", n: n, dims: "m=\(m)",
        fwd: Direction(run: { reps in repeatCalls(reps) { vh_hyper_scale_forward_f32(out, vv, s, r, b, N, M) } },
                       flops: 3 * nm, bytes: 4 * (4 * nm + f(m))),
        bwd: Direction(run: { reps in repeatCalls(reps) { vh_hyper_scale_backward_f32(dvv, ds, dr, db, dout, vv, s, N, M) } },
                       flops: 6 * nm, bytes: 4 * (9 * nm + 2 * f(m))),
        pool: p)
}

// ---- Gaussian -------------------------------------------------------------------------------

private func gaussianSigmaCase(n: Int, d: Int) -> BenchCase {
    let p = BufferPool(seed: seed("gaussian_sigma", n, d))
    let count = n * d
    let raw = p.uniform(count, -2, 2), dsigma = p.uniform(count, -1, 1)
    let sigma = p.output(count), draw = p.output(count)
    let floor: Float = 1e-4
    return BenchCase(
        kernel: "gaussian_sigma", n: n, dims: "d=\(d)",
        fwd: Direction(run: { reps in repeatCalls(reps) { vh_gaussian_sigma_forward_f32(sigma, raw, count, floor) } },
                       flops: 3 * f(count), bytes: 4 * 2 * f(count)),
        bwd: Direction(run: { reps in repeatCalls(reps) { vh_gaussian_sigma_backward_f32(draw, dsigma, raw, count, floor) } },
                       flops: 5 * f(count), bytes: 4 * 4 * f(count)),
        pool: p)
}

private func gaussianLogpdfCase(n: Int, d: Int) -> BenchCase {
    let p = BufferPool(seed: seed("gaussian_logpdf", n, d))
    let x = p.uniform(n * d, -1, 1), mu = p.uniform(n * d, -1, 1), sigma = p.uniform(n * d, 0.1, 2)
    let dlogp = p.uniform(n, -1, 1)
    let logp = p.output(n), dx = p.output(n * d), dmu = p.output(n * d), dsigma = p.output(n * d)
    let N = Int32(n), D = Int32(d)
    let nd = f(n) * f(d)
    return BenchCase(
        kernel: "gaussian_logpdf", n: n, dims: "d=\(d)",
        fwd: Direction(run: { reps in repeatCalls(reps) { vh_gaussian_logpdf_forward_f32(logp, x, mu, sigma, N, D) } },
                       flops: 8 * nd, bytes: 4 * (3 * nd + f(n))),
        bwd: Direction(run: { reps in repeatCalls(reps) {
                           vh_gaussian_logpdf_backward_f32(dx, dmu, dsigma, dlogp, x, nil, mu, sigma, N, D) } },
                       flops: 11 * nd, bytes: 4 * (9 * nd + f(n))),
        pool: p)
}

private func gaussianSampleCase(n: Int, d: Int) -> BenchCase {
    let p = BufferPool(seed: seed("gaussian_sample", n, d))
    let count = n * d
    let mu = p.uniform(count, -1, 1), sigma = p.uniform(count, 0.1, 2), eps = p.uniform(count, -2, 2)
    let dz = p.uniform(count, -1, 1)
    let z = p.output(count), dmu = p.output(count), dsigma = p.output(count)
    return BenchCase(
        kernel: "gaussian_sample", n: n, dims: "d=\(d)",
        fwd: Direction(run: { reps in repeatCalls(reps) { vh_gaussian_sample_forward_f32(z, mu, sigma, eps, count) } },
                       flops: 2 * f(count), bytes: 4 * 4 * f(count)),
        bwd: Direction(run: { reps in repeatCalls(reps) { vh_gaussian_sample_backward_f32(dmu, dsigma, dz, eps, count) } },
                       flops: 3 * f(count), bytes: 4 * 6 * f(count)),
        pool: p)
}

private func gaussianKLCase(n: Int, d: Int) -> BenchCase {
    let p = BufferPool(seed: seed("gaussian_kl", n, d))
    let muQ = p.uniform(n * d, -1, 1), sigmaQ = p.uniform(n * d, 0.1, 2)
    let muP = p.uniform(n * d, -1, 1), sigmaP = p.uniform(n * d, 0.1, 2)
    let dkl = p.uniform(n, -1, 1)
    let kl = p.output(n)
    let dmuQ = p.output(n * d), dsigmaQ = p.output(n * d), dmuP = p.output(n * d), dsigmaP = p.output(n * d)
    let N = Int32(n), D = Int32(d)
    let nd = f(n) * f(d)
    return BenchCase(
        kernel: "gaussian_kl", n: n, dims: "d=\(d)",
        fwd: Direction(run: { reps in repeatCalls(reps) { vh_gaussian_kl_forward_f32(kl, muQ, sigmaQ, muP, sigmaP, N, D) } },
                       flops: 12 * nd, bytes: 4 * (4 * nd + f(n))),
        bwd: Direction(run: { reps in repeatCalls(reps) {
                           vh_gaussian_kl_backward_f32(dmuQ, dsigmaQ, dmuP, dsigmaP, dkl, muQ, sigmaQ, muP, sigmaP, N, D) } },
                       flops: 20 * nd, bytes: 4 * (12 * nd + f(n))),
        pool: p)
}

// ---- Bernoulli ------------------------------------------------------------------------------

private func bernoulliCase(n: Int, d: Int) -> BenchCase {
    let p = BufferPool(seed: seed("bernoulli_logpmf", n, d))
    let x = p.bits(n * d), logits = p.uniform(n * d, -4, 4), dlogp = p.uniform(n, -1, 1)
    let logp = p.output(n), dlogits = p.output(n * d)
    let N = Int32(n), D = Int32(d)
    let nd = f(n) * f(d)
    return BenchCase(
        kernel: "bernoulli_logpmf", n: n, dims: "d=\(d)",
        fwd: Direction(run: { reps in repeatCalls(reps) { vh_bernoulli_logpmf_forward_f32(logp, x, nil, logits, N, D) } },
                       flops: 4 * nd, bytes: 4 * (2 * nd + f(n))),
        bwd: Direction(run: { reps in repeatCalls(reps) { vh_bernoulli_logpmf_backward_f32(dlogits, dlogp, x, nil, logits, N, D) } },
                       flops: 4 * nd, bytes: 4 * (4 * nd + f(n))),
        pool: p)
}

// ---- ancestor gather ------------------------------------------------------------------------

private func gatherCase(n: Int, width: Int) -> BenchCase {
    let p = BufferPool(seed: seed("gather_rows", n, width))
    let k = n == 16 ? 4 : n  // 4 seqs x 4 particles, or 1 seq x 1024 particles
    let input = p.uniform(n * width, -1, 1), dout = p.uniform(n * width, -1, 1)
    let index = p.ancestors(n: n, k: k)
    let out = p.output(n * width), din = p.output(n * width)
    let N = Int32(n), W = Int32(width)
    precondition(vh_gather_rows_forward_f32(out, input, index, N, N, W) == Int32(VH_OK))
    let nw = f(n) * f(width)
    return BenchCase(
        kernel: "gather_rows", n: n, dims: "w=\(width) K=\(k)",
        fwd: Direction(run: { reps in repeatCalls(reps) { _ = vh_gather_rows_forward_f32(out, input, index, N, N, W) } },
                       flops: 0, bytes: 4 * (2 * nw + f(n))),
        bwd: Direction(run: { reps in repeatCalls(reps) { _ = vh_gather_rows_backward_f32(din, dout, index, N, N, W) } },
                       flops: nw, bytes: 4 * (3 * nw + f(n))),
        pool: p)
}

// ---- particle weights -----------------------------------------------------------------------

private let weightShapes = [(b: 4, k: 4), (b: 1, k: 1024)]

private func logsumexpCase(b: Int, k: Int) -> BenchCase {
    let p = BufferPool(seed: seed("logsumexp", b, k))
    let w = p.uniform(b * k, -10, 0), dlse = p.uniform(b, -1, 1)
    let lse = p.output(b), dw = p.output(b * k)
    let B = Int32(b), K = Int32(k)
    vh_logsumexp_forward_f32(lse, w, B, K)
    let bk = f(b) * f(k)
    return BenchCase(
        kernel: "logsumexp", n: b * k, dims: "B=\(b) K=\(k)",
        fwd: Direction(run: { reps in repeatCalls(reps) { vh_logsumexp_forward_f32(lse, w, B, K) } },
                       flops: 4 * bk + 2 * f(b), bytes: 4 * (bk + f(b))),
        bwd: Direction(run: { reps in repeatCalls(reps) { vh_logsumexp_backward_f32(dw, dlse, w, lse, B, K) } },
                       flops: 4 * bk, bytes: 4 * (3 * bk + 2 * f(b))),
        pool: p)
}

// ---- optimiser ------------------------------------------------------------------------------

private let paramCount = 40_000  // ~ the paper's JSB VHRNN sizes (24k-39k parameters)

private func adamCase(count: Int) -> BenchCase {
    let p = BufferPool(seed: seed("adam_update", count, 0))
    let grad = p.uniform(count, -1, 1)
    let param = p.output(count), m = p.output(count), v = p.output(count)
    for i in 0..<count { param[i] = 0.1 * grad[(i * 7919) % count] }
    return BenchCase(
        kernel: "adam_update", n: nil, dims: "P=\(count)",
        fwd: Direction(run: { reps in repeatCalls(reps) {
                           vh_adam_update_f32(param, m, v, grad, count, 1e-3, 0.9, 0.999, 1e-8, 10) } },
                       flops: 14 * f(count), bytes: 4 * 7 * f(count)),
        bwd: nil, pool: p)
}

private func sumSquaresCase(count: Int) -> BenchCase {
    let p = BufferPool(seed: seed("sum_squares", count, 0))
    let x = p.uniform(count, -1, 1)
    let sink = p.output(1)
    return BenchCase(
        kernel: "sum_squares", n: nil, dims: "P=\(count)",
        fwd: Direction(run: { reps in repeatCalls(reps) { sink[0] += Float(vh_sum_squares_f32(x, count)) } },
                       flops: 2 * f(count), bytes: 4 * f(count)),
        bwd: nil, pool: p)
}

private func scaleCase(count: Int) -> BenchCase {
    let p = BufferPool(seed: seed("scale", count, 0))
    let x = p.output(count)
    for i in 0..<count { x[i] = Float(i % 17) - 8 }
    // alpha = 1 keeps the values fixed however many times the loop runs; the kernel does the
    // same multiply either way.
    return BenchCase(
        kernel: "scale", n: nil, dims: "P=\(count)",
        fwd: Direction(run: { reps in repeatCalls(reps) { vh_scale_f32(x, count, 1) } },
                       flops: f(count), bytes: 4 * 2 * f(count)),
        bwd: nil, pool: p)
}

// ---- noise ----------------------------------------------------------------------------------

private func normalFillCase(count: Int) -> BenchCase {
    let p = BufferPool(seed: seed("normal_fill", count, 0))
    let out = p.output(count)
    let state = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
    state.initialize(to: 0x1234_5678_9ABC_DEF0)
    // ~30 flops per Box-Muller pair (SplitMix64 mixing, log, sqrt, sin, cos) is not a useful
    // figure: count one flop per normal written, so GFLOP/s reads as "billions of normals / s".
    return BenchCase(
        kernel: "normal_fill", n: nil, dims: "count=\(count)",
        fwd: Direction(run: { reps in repeatCalls(reps) { vh_fill_standard_normal_f32(out, count, state) } },
                       flops: f(count), bytes: 4 * f(count)),
        bwd: nil, pool: p)
}

// ---- the list -------------------------------------------------------------------------------

/// Real layer shapes (in -> out): JSB phi_x 88->32, LSTM W 2E=64 -> 4H=128, U 32->128,
/// prior/proposal head 32 -> 2Z=64, emission 64->88, and the synthetic phi_x 2->8.
private let linearShapes = [(88, 32), (64, 128), (32, 128), (32, 64), (64, 88), (2, 8)]

func allKernels() -> [KernelSpec] {
    func perRows(_ sizes: [Int], _ make: @escaping (Int, Int) -> BenchCase) -> [() -> BenchCase] {
        rowCounts.flatMap { n in sizes.map { s in { make(n, s) } } }
    }
    return [
        KernelSpec(name: "linear", fwdFlops: "2·n·in·out (no bias)", bwdFlops: "4·n·in·out (dx+dW; db ignored)",
                   cases: rowCounts.flatMap { n in
                       linearShapes.map { s in { linearCase(n: n, inDim: s.0, outDim: s.1) } } }),
        KernelSpec(name: "relu", fwdFlops: "1·n·H", bwdFlops: "2·n·H",
                   cases: perRows(hiddenSizes) { reluCase(n: $0, h: $1) }),
        KernelSpec(name: "add", fwdFlops: "1·n·H", bwdFlops: "1·n·H (accumulate)",
                   cases: perRows(hiddenSizes) { addCase(n: $0, h: $1) }),
        KernelSpec(name: "lstm_cell", fwdFlops: "18·n·H", bwdFlops: "35·n·H",
                   cases: perRows(hiddenSizes) { lstmCase(n: $0, h: $1, hyper: false) }),
        KernelSpec(name: "hyper_lstm_cell", fwdFlops: "30·n·H", bwdFlops: "63·n·H",
                   cases: perRows(hiddenSizes) { lstmCase(n: $0, h: $1, hyper: true) }),
        KernelSpec(name: "gru_cell", fwdFlops: "14·n·H", bwdFlops: "26·n·H",
                   cases: perRows(hiddenSizes) { gruCase(n: $0, h: $1, hyper: false) }),
        KernelSpec(name: "hyper_gru_cell", fwdFlops: "23·n·H", bwdFlops: "48·n·H",
                   cases: perRows(hiddenSizes) { gruCase(n: $0, h: $1, hyper: true) }),
        KernelSpec(name: "hyper_scale", fwdFlops: "3·n·m", bwdFlops: "6·n·m",
                   cases: perRows([32, 88]) { hyperScaleCase(n: $0, m: $1) }),
        KernelSpec(name: "gaussian_sigma", fwdFlops: "3·n·d", bwdFlops: "5·n·d",
                   cases: perRows([4, 32]) { gaussianSigmaCase(n: $0, d: $1) }),
        KernelSpec(name: "gaussian_logpdf", fwdFlops: "8·n·d", bwdFlops: "11·n·d",
                   cases: perRows([2, 32]) { gaussianLogpdfCase(n: $0, d: $1) }),
        KernelSpec(name: "gaussian_sample", fwdFlops: "2·n·d", bwdFlops: "3·n·d",
                   cases: perRows([4, 32]) { gaussianSampleCase(n: $0, d: $1) }),
        KernelSpec(name: "gaussian_kl", fwdFlops: "12·n·d", bwdFlops: "20·n·d",
                   cases: perRows([4, 32]) { gaussianKLCase(n: $0, d: $1) }),
        KernelSpec(name: "bernoulli_logpmf", fwdFlops: "4·n·d", bwdFlops: "4·n·d",
                   cases: perRows([88]) { bernoulliCase(n: $0, d: $1) }),
        KernelSpec(name: "gather_rows", fwdFlops: "0 (copy: see GB/s)", bwdFlops: "1·n·w (scatter-add)",
                   cases: perRows(hiddenSizes) { gatherCase(n: $0, width: $1) }),
        KernelSpec(name: "logsumexp", fwdFlops: "B·(4K+2)", bwdFlops: "4·B·K",
                   cases: weightShapes.map { s in { logsumexpCase(b: s.b, k: s.k) } }),
        KernelSpec(name: "adam_update", fwdFlops: "14·P", bwdFlops: "-",
                   cases: [{ adamCase(count: paramCount) }]),
        KernelSpec(name: "sum_squares", fwdFlops: "2·P", bwdFlops: "-",
                   cases: [{ sumSquaresCase(count: paramCount) }]),
        KernelSpec(name: "scale", fwdFlops: "1·P", bwdFlops: "-",
                   cases: [{ scaleCase(count: paramCount) }]),
        KernelSpec(name: "normal_fill", fwdFlops: "1·count (normals written)", bwdFlops: "-",
                   cases: [{ normalFillCase(count: 32 * 1024) }]),
    ]
}

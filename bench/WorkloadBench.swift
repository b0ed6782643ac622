// WorkloadBench.swift — the real workloads: FIVO training steps and FIVO evaluation passes of
// whole models at the paper's configurations, one row per (task, configuration, B, K, T).
//
// Each row runs in a fresh child process (`bench --one ROW`), so its peak RSS (a process-wide
// high-water mark) is its own and no row inherits another's caches or allocator state.
//
// Timing per row: one untimed first call, `warmup` untimed calls (the last one estimates the
// cost), then `repeats` timed repeats of n back-to-back calls with n chosen so that a repeat
// lasts >= `minRun` seconds; the figure reported is the median over repeats of time / n.
//
// Flop count (the PyTorch peer's convention, so GFLOP/s compare): matrix-multiply work only,
// 2·in·out per linear layer per row, from SequenceModel.forwardMatmulFlops:
//     forward = T · B · (K · F_particle + F_sequence)
// with F_particle the per-particle-step work (prior, proposal, phi_z, emission, recurrence and,
// for a VHRNN, theta, its head and omega) and F_sequence = phi_x's work, done once per
// sequence-step; training counts 3 × forward (backward ≈ 2 × forward matmul flops).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import VHRNN

// ---- configurations ---------------------------------------------------------------------------

/// A named model configuration: the peer's five (`jsb-vrnn32`, `jsb-vhrnn32-16-20`,
/// `jsb-vhrnn14`, `syn-vrnn8`, `syn-vhrnn4`) and, for the hidden-size scaling, `jsb-vrnnN`
/// (VRNN with Z = H = N on JSB-shaped data).
func workloadConfiguration(_ cfg: String) -> ModelConfiguration? {
    switch cfg {
    case "jsb-vhrnn32-16-20":
        return ModelConfiguration(model: .vhrnn, dataDim: 88, emission: .bernoulli, latentDim: 32, hiddenDim: 16,
                                  hyperDim: 20)
    case "jsb-vhrnn14":
        return ModelConfiguration(model: .vhrnn, dataDim: 88, emission: .bernoulli, latentDim: 14)
    case "syn-vrnn8":  // two fc layers: the paper's 2612-parameter count (Table 1)
        return ModelConfiguration(model: .vrnn, dataDim: 2, emission: .gaussian, latentDim: 8, fcLayers: 2)
    case "syn-vhrnn4":
        return ModelConfiguration(model: .vhrnn, dataDim: 2, emission: .gaussian, latentDim: 4, fcLayers: 2)
    default:
        if cfg.hasPrefix("jsb-vrnn"), let n = Int(cfg.dropFirst("jsb-vrnn".count)), n >= 1 {
            return ModelConfiguration(model: .vrnn, dataDim: 88, emission: .bernoulli, latentDim: n)
        }
        return nil
    }
}

/// train: one training step; eval: one offline filter pass; online: T frames through an
/// `OnlineFilter`, one `observe` call per frame (the per-step latency of a live stream).
enum WorkloadTask: String, Codable { case train, eval, online }

/// One row: what to run. Written `task:cfg:B:K:T` on the `--one` command line.
struct WorkloadSpec: Equatable {
    var task: WorkloadTask
    var cfg: String
    var B: Int
    var K: Int
    var T: Int

    var label: String { "\(task.rawValue)/\(cfg)/B\(B)/K\(K)/T\(T)" }
    var argument: String { "\(task.rawValue):\(cfg):\(B):\(K):\(T)" }

    init(_ task: WorkloadTask, _ cfg: String, B: Int, K: Int, T: Int = 100) {
        (self.task, self.cfg, self.B, self.K, self.T) = (task, cfg, B, K, T)
    }

    init?(argument: String) {
        let p = argument.split(separator: ":").map(String.init)
        guard p.count == 5, let task = WorkloadTask(rawValue: p[0]), workloadConfiguration(p[1]) != nil,
              let b = Int(p[2]), let k = Int(p[3]), let t = Int(p[4]), b >= 1, k >= 1, t >= 1 else { return nil }
        self.init(task, p[1], B: b, K: k, T: t)
    }
}

/// Online filtering latency: one stream, K = 128 and 1024, at the paper's JSB and synthetic sizes.
let onlineWorkloads: [WorkloadSpec] =
    [128, 1024].flatMap { k in ["jsb-vrnn32", "jsb-vhrnn14", "syn-vrnn8", "syn-vhrnn4"].map { WorkloadSpec(.online, $0, B: 1, K: k) } }

/// The rows: training (B = 4, K = 4) on all five configurations, evaluation (one
/// sequence, K = 128 and 1024) on the three JSB ones; T = 100 throughout.
let mainWorkloads: [WorkloadSpec] =
    ["jsb-vrnn32", "jsb-vhrnn32-16-20", "jsb-vhrnn14", "syn-vrnn8", "syn-vhrnn4"].map { WorkloadSpec(.train, $0, B: 4, K: 4) }
    + [128, 1024].flatMap { k in ["jsb-vrnn32", "jsb-vhrnn32-16-20", "jsb-vhrnn14"].map { WorkloadSpec(.eval, $0, B: 1, K: k) } }

struct WorkloadTiming: Codable {
    var minRunSeconds: Double
    var repeats: Int
    var warmup: Int

    static let full = WorkloadTiming(minRunSeconds: 0.3, repeats: 7, warmup: 3)
    static let quick = WorkloadTiming(minRunSeconds: 0.1, repeats: 5, warmup: 1)
    /// The scaling sweep: short, so the whole sweep stays under ~30 s.
    static let scaling = WorkloadTiming(minRunSeconds: 0.05, repeats: 5, warmup: 1)
    static let scalingQuick = WorkloadTiming(minRunSeconds: 0.02, repeats: 3, warmup: 1)
}

/// One measured row; the field names are the PyTorch peer's where it has them.
struct WorkloadResult: Codable {
    var task: String
    var cfg: String
    var B: Int
    var K: Int
    var T: Int
    var seq_per_s: Double
    var particle_steps_per_s: Double
    var gflops: Double
    var peak_frac: Double
    var peak_rss_mb: Double
    // beyond the peer's common fields
    var median_s: Double
    var min_s: Double
    var max_s: Double
    var iters_per_repeat: Int
    var repeats: Int
    var setup_s: Double
    var flops_per_iter: Double
    var flops_per_particle_step: Int
    var flops_per_sequence_step: Int
    var params: Int
    var hidden: Int
    var threads: Int
    var blas_threads: Int
    var backend: String
    /// Bytes held by the particle filter's buffers (training: with the tape), in MiB.
    var workspace_mb: Double
    /// Evaluation: resampling events per (sequence, step) during the timed calls.
    var resample_frac: Double?
    /// −bound / T of the last call (training: the loss trainStep returned).
    var last_loss: Double?
    var error: String?

    var label: String { "\(task)/\(cfg)/B\(B)/K\(K)/T\(T)" }
}

// ---- data -------------------------------------------------------------------------------------

/// B random sequences of length T: JSB-shaped = 0/1 frames with ~5% ones (inputs centred by the
/// frame mean, as the piano-roll pipeline does); synthetic-shaped = standard normal frames.
func randomSplit(_ c: ModelConfiguration, count: Int, length: Int, seed: UInt64) -> (SequenceSplit, Double) {
    var rng = SplitMix64(seed: seed)
    let d = c.dataDim, density = 0.05
    var inputs: [[Double]] = [], targets: [[Double]] = []
    for _ in 0..<count {
        if c.emission == .bernoulli {
            let y = (0..<(length * d)).map { _ in rng.nextUnitDouble() < density ? 1.0 : 0.0 }
            targets.append(y)
            inputs.append(y.map { $0 - density })
        } else {
            let x = (0..<(length * d)).map { _ in rng.nextStandardNormal() }
            inputs.append(x)
            targets.append(x)
        }
    }
    return (SequenceSplit(dataDim: d, inputs: inputs, targets: targets), density)
}

// ---- one row (runs inside the child process) --------------------------------------------------

func seconds(_ t0: UInt64) -> Double { Double(nowNanos() - t0) * 1e-9 }

func runWorkload(_ spec: WorkloadSpec, timing: WorkloadTiming, peak: MachinePeak) throws -> WorkloadResult {
    let setupStart = nowNanos()
    let c = workloadConfiguration(spec.cfg)!
    try c.validate()
    let (split, density) = randomSplit(c, count: spec.B, length: spec.T, seed: 0xDA7A)
    var rng = SplitMix64(seed: 0)  // the model is initialised from seed 0
    let bias = c.emission == .bernoulli
        ? SequenceModel<Float>.bernoulliOutputBias(frameMean: Array(repeating: density, count: c.dataDim)) : nil
    let model = try SequenceModel<Float>(configuration: c, outputBias: bias, generator: &rng)
    let indices = Array(0..<spec.B)

    var call: () throws -> Void
    var trainer: Trainer<Float>?
    var filter: ParticleFilter<Float>?
    var online: OnlineFilter<Float>?
    var lastLoss: Double?
    var events = 0, passes = 0
    switch spec.task {
    case .train:
        let dataset = SequenceDataset(name: "bench", kind: c.emission == .bernoulli ? .binary : .real, train: split,
                                      valid: SequenceSplit(dataDim: c.dataDim, sequences: []),
                                      test: SequenceSplit(dataDim: c.dataDim, sequences: []))
        var o = TrainingOptions()
        o.bound = .fivo
        o.batchSize = spec.B
        o.particles = spec.K
        o.seed = 1
        let t = try Trainer(model: model, dataset: dataset, options: o, dataSource: "bench")
        trainer = t
        call = { lastLoss = try t.trainStep(indices: indices) }
    case .eval:
        let batch = try SequenceBatch<Float>(split: split, indices: indices)
        let settings = FilterSettings(bound: .fivo, particleCount: spec.K)
        let f = ParticleFilter(model: model)
        filter = f
        call = {
            let r = f.run(batch: batch, settings: settings, seed: 1, keepTape: false)
            events += r.resamplingEvents
            passes += 1
            lastLoss = -r.bounds[0] / Double(spec.T)
        }
    case .online:
        // The frames of each step, built once; the stream runs on across calls (no reset).
        let D = c.dataDim
        let frames: [[[Double]]] = (0..<spec.T).map { t in
            (0..<spec.B).map { b in Array(split.targets[b][(t * D)..<((t + 1) * D)]) }
        }
        let f = try OnlineFilter(model: model, settings: FilterSettings(bound: .fivo, particleCount: spec.K),
                                 streams: spec.B, seed: 1)
        online = f
        var observations: [OnlineObservation] = []
        call = {
            var total = 0.0
            for frame in frames {
                try f.observe(frame, into: &observations)
                total += observations[0].logPredictive
                if observations[0].resampled { events += 1 }
            }
            passes += 1
            lastLoss = -total / Double(spec.T)
        }
    }

    // first call, warm-up (the last warm-up call, or the first call, is the cost estimate),
    // then timed repeats
    var t0 = nowNanos()
    try call()
    var estimate = seconds(t0)
    let setup = seconds(setupStart)
    for _ in 0..<timing.warmup {
        t0 = nowNanos()
        try call()
        estimate = seconds(t0)
    }
    estimate = max(estimate, 1e-7)
    let n = max(1, Int((timing.minRunSeconds / estimate).rounded(.up)))
    var perCall: [Double] = []
    events = 0
    passes = 0
    for _ in 0..<timing.repeats {
        t0 = nowNanos()
        for _ in 0..<n { try call() }
        perCall.append(seconds(t0) / Double(n))
    }
    perCall.sort()
    let m = perCall.count / 2
    let median = perCall.count % 2 == 1 ? perCall[m] : 0.5 * (perCall[m - 1] + perCall[m])
    let rss = peakRSSMegabytes()

    // Workspace size: the eval filter's own; for training, a probe filter with a tape of the
    // same shape (after the RSS reading, so the probe does not inflate it).
    var workspace = filter?.workspaceBytes ?? online?.workspaceBytes ?? 0
    if spec.task == .train {
        let probe = ParticleFilter(model: model)
        _ = probe.run(batch: try SequenceBatch<Float>(split: split, indices: indices),
                      settings: FilterSettings(bound: .fivo, particleCount: spec.K), seed: 1, keepTape: true)
        workspace = probe.workspaceBytes
    }
    _ = trainer

    let fl = model.forwardMatmulFlops
    let forward = Double(spec.T * spec.B) * Double(spec.K * fl.perParticleStep + fl.perSequenceStep)
    let flops = spec.task == .train ? 3 * forward : forward
    return WorkloadResult(
        task: spec.task.rawValue, cfg: spec.cfg, B: spec.B, K: spec.K, T: spec.T,
        seq_per_s: Double(spec.B) / median, particle_steps_per_s: Double(spec.T * spec.B * spec.K) / median,
        gflops: flops / median / 1e9, peak_frac: flops / median / peak.peakFlops, peak_rss_mb: rss,
        median_s: median, min_s: perCall.first!, max_s: perCall.last!, iters_per_repeat: n, repeats: timing.repeats,
        setup_s: setup, flops_per_iter: flops, flops_per_particle_step: fl.perParticleStep,
        flops_per_sequence_step: fl.perSequenceStep, params: model.parameterCount, hidden: c.hiddenDim,
        threads: KernelRuntime.threadCount, blas_threads: KernelRuntime.blasThreadCount,
        backend: KernelRuntime.parallelBackend, workspace_mb: Double(workspace) / (1024 * 1024),
        resample_frac: spec.task != .train && passes > 0 ? Double(events) / Double(passes * spec.T * spec.B) : nil,
        last_loss: lastLoss, error: nil)
}

// ---- the parent: one child process per row ----------------------------------------------------

func errorRow(_ spec: WorkloadSpec, _ message: String) -> WorkloadResult {
    WorkloadResult(task: spec.task.rawValue, cfg: spec.cfg, B: spec.B, K: spec.K, T: spec.T, seq_per_s: 0,
                   particle_steps_per_s: 0, gflops: 0, peak_frac: 0, peak_rss_mb: 0, median_s: 0, min_s: 0,
                   max_s: 0, iters_per_repeat: 0, repeats: 0, setup_s: 0, flops_per_iter: 0,
                   flops_per_particle_step: 0, flops_per_sequence_step: 0, params: 0, hidden: 0, threads: 0,
                   blas_threads: 0, backend: "", workspace_mb: 0, resample_frac: nil, last_loss: nil, error: message)
}

/// The path of this executable (to re-run it for each row).
func selfExecutable() -> String {
    #if os(Linux)
    if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return p }
    #endif
    return CommandLine.arguments[0]
}

/// Runs `spec` in a fresh child process (`bench --one ROW ...`) and decodes its JSON line.
func runInChild(_ spec: WorkloadSpec, timingFlag: String, threads: Int?) -> WorkloadResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: selfExecutable())
    var args = ["--one", spec.argument, "--timing", timingFlag]
    if let threads { args += ["--threads", "\(threads)"] }
    p.arguments = args
    let out = Pipe()
    p.standardOutput = out
    do {
        try p.run()
    } catch {
        return errorRow(spec, "cannot start child: \(error)")
    }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    guard let line = text.split(separator: "\n").last,
          let row = try? JSONDecoder().decode(WorkloadResult.self, from: Data(line.utf8)) else {
        return errorRow(spec, "child exited with status \(p.terminationStatus) and no result line")
    }
    return row
}

// ---- printing ---------------------------------------------------------------------------------

func workloadHeader() -> String {
    pad("task", 6) + pad("cfg", 19) + pad("B", 3, right: true) + pad("K", 6, right: true) + pad("T", 5, right: true)
        + pad("ms/iter", 10, right: true) + pad("seq/s", 9, right: true) + pad("particle-steps/s", 18, right: true)
        + pad("GFLOP/s", 9, right: true) + pad("% peak", 8, right: true) + pad("% attain", 10, right: true)
        + pad("thr", 5, right: true)
        + pad("RSS MB", 8, right: true) + pad("work MB", 9, right: true)
}

/// One row; `attainable` (GFLOP/s of the run's square SGEMM) adds the "% attain" column.
func workloadLine(_ r: WorkloadResult, attainable: Double? = nil) -> String {
    let head = pad(r.task, 6) + pad(r.cfg, 19) + pad("\(r.B)", 3, right: true) + pad("\(r.K)", 6, right: true)
        + pad("\(r.T)", 5, right: true)
    if let e = r.error { return head + "  FAILED: \(e)" }
    let spread = (r.max_s - r.min_s) / r.median_s > 0.10 ? "~" : " "
    return head + pad(fmt(r.median_s * 1e3, 2) + spread, 10, right: true) + pad(fmt(r.seq_per_s, 1), 9, right: true)
        + pad(String(format: "%.0f", r.particle_steps_per_s), 18, right: true) + pad(fmt(r.gflops, 2), 9, right: true)
        + pad(fmt(100 * r.peak_frac, 2), 8, right: true)
        + pad(attainable.map { fmt(100 * r.gflops / $0, 1) } ?? "-", 10, right: true) + pad("\(r.threads)", 5, right: true)
        + pad(fmt(r.peak_rss_mb, 1), 8, right: true) + pad(fmt(r.workspace_mb, 2), 9, right: true)
}

// ---- scaling ----------------------------------------------------------------------------------

struct ScalingSweep {
    var name: String      // "K", "T", "H"
    var title: String
    var rows: [(x: Int, spec: WorkloadSpec)]
}

let scalingSweeps: [ScalingSweep] = [
    ScalingSweep(name: "K", title: "evaluation time vs particles K (jsb-vrnn32, B = 1, T = 100)",
                 rows: [1, 4, 16, 64, 256, 1024].map { ($0, WorkloadSpec(.eval, "jsb-vrnn32", B: 1, K: $0)) }),
    ScalingSweep(name: "T", title: "training step time vs sequence length T (jsb-vrnn32, B = 4, K = 4)",
                 rows: [25, 50, 100, 200].map { ($0, WorkloadSpec(.train, "jsb-vrnn32", B: 4, K: 4, T: $0)) }),
    ScalingSweep(name: "H", title: "training step time vs hidden size H (JSB VRNN, Z = H, B = 4, K = 4, T = 100)",
                 rows: [8, 16, 32, 64].map { ($0, WorkloadSpec(.train, "jsb-vrnn\($0)", B: 4, K: 4)) }),
]

struct ScalingRow: Codable {
    var sweep: String
    var x: Int
    var result: WorkloadResult
}

/// Least-squares slope of log y against log x.
func fittedExponent(_ xs: [Double], _ ys: [Double]) -> Double {
    let lx = xs.map { Foundation.log($0) }, ly = ys.map { Foundation.log($0) }
    let n = Double(lx.count)
    let mx = lx.reduce(0, +) / n, my = ly.reduce(0, +) / n
    var sxy = 0.0, sxx = 0.0
    for (a, b) in zip(lx, ly) {
        sxy += (a - mx) * (b - my)
        sxx += (a - mx) * (a - mx)
    }
    return sxx > 0 ? sxy / sxx : .nan
}

func printScalingTable(_ sweep: ScalingSweep, _ rows: [ScalingRow]) {
    print("")
    print("scaling: \(sweep.title)")
    let header = pad(sweep.name, 6, right: true) + pad("ms/iter", 10, right: true) + pad("× prev", 8, right: true)
        + pad("\(sweep.name) × prev", 10, right: true) + pad("flops × prev", 13, right: true)
        + pad("particle-steps/s", 18, right: true) + pad("GFLOP/s", 9, right: true) + pad("RSS MB", 8, right: true)
        + pad("work MB", 9, right: true)
    print(header)
    print(String(repeating: "-", count: header.count))
    var prev: ScalingRow?
    for row in rows {
        let r = row.result
        guard r.error == nil else {
            print(pad("\(row.x)", 6, right: true) + "  FAILED: \(r.error!)")
            continue
        }
        var ratio = "", xr = "", fr = ""
        if let p = prev {
            ratio = fmt(r.median_s / p.result.median_s, 2)
            xr = fmt(Double(row.x) / Double(p.x), 2)
            fr = fmt(r.flops_per_iter / p.result.flops_per_iter, 2)
        }
        print(pad("\(row.x)", 6, right: true) + pad(fmt(r.median_s * 1e3, 2), 10, right: true) + pad(ratio, 8, right: true)
              + pad(xr, 10, right: true) + pad(fr, 13, right: true)
              + pad(String(format: "%.0f", r.particle_steps_per_s), 18, right: true) + pad(fmt(r.gflops, 2), 9, right: true)
              + pad(fmt(r.peak_rss_mb, 1), 8, right: true) + pad(fmt(r.workspace_mb, 2), 9, right: true))
        prev = row
    }
    let ok = rows.filter { $0.result.error == nil }
    if ok.count >= 2 {
        let xs = ok.map { Double($0.x) }
        let tExp = fittedExponent(xs, ok.map { $0.result.median_s })
        let fExp = fittedExponent(xs, ok.map { $0.result.flops_per_iter })
        let wExp = fittedExponent(xs, ok.map { max($0.result.workspace_mb, 1e-9) })
        print("fitted: time ∝ \(sweep.name)^\(fmt(tExp, 2))   (matrix flops ∝ \(sweep.name)^\(fmt(fExp, 2)), "
              + "filter workspace ∝ \(sweep.name)^\(fmt(wExp, 2)))")
    }
}

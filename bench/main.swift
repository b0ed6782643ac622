// main.swift — `swift run -c release bench [options]`
//
// Three sections, all run by default, in this order:
//   1. workloads (WorkloadBench.swift): FIVO training steps and evaluation passes of whole models
//      at the paper's configurations, each row in a fresh child process (`--one ROW`), then the
//      online filter's latency per frame;
//   2. scaling: time vs particles K, sequence length T and hidden size H (short, < ~30 s);
//   3. kernels (KernelBench.swift / KernelMain.swift): every C kernel forward/backward pair.
// The machine's nominal fp32 peak (MachinePeak.swift) is printed first.
import CVHRNN
import Foundation
import VHRNN

// ---- options (hand-parsed: the bench target has no dependencies beyond the package) -------

struct Options {
    var filter: String?
    var quick = false
    var jsonPath: String?
    var threads: Int?
    var workloadsOnly = false
    var kernelsOnly = false
    var scalingOnly = false
    var noScaling = false
    var one: String?
    var timing: String?
}

func usage() -> String {
    """
    usage: bench [--filter SUBSTR] [--quick] [--json PATH] [--threads N]
                 [--workloads-only] [--kernels-only] [--scaling] [--no-scaling]
      (default)        workloads, then the scaling sweep, then the kernel micro-benchmark
      --workloads-only the workload rows only (training, evaluation and online filtering at the paper's sizes)
      --kernels-only   the kernel micro-benchmark only
      --scaling        the scaling sweep (K, T, H); alone, or with --workloads-only / --kernels-only
      --no-scaling     the default run without the scaling sweep
      --filter SUBSTR  only rows whose label contains SUBSTR: workload labels are task/cfg/B/K/T
                       (e.g. train/jsb-vrnn32/B4/K4/T100, so "eval", "vhrnn14", "K1024" work),
                       scaling labels scaling-X/<workload label>, kernels their name
                       (e.g. lstm, gaussian, linear)
      --quick          shorter samples (workloads: repeats >= 0.1 s, median of 5;
                       kernels: >= 0.5 ms, median of 7)
      --json PATH      also write one JSON document to PATH: `results` (workload rows, the
                       PyTorch peer's field names), `scaling`, `kernels`, machine and peak
      --threads N      set the kernel thread count and OpenBLAS threads to N (default: as found)
      --one ROW        (internal) measure one workload task:cfg:B:K:T and print one JSON line
    """
}

func fail(_ message: String, code: Int32 = 2) -> Never {
    FileHandle.standardError.write("bench: \(message)\n".data(using: .utf8)!)
    exit(code)
}

func parseOptions(_ args: [String]) -> Options {
    var o = Options()
    var i = 1
    func value(_ flag: String) -> String {
        i += 1
        guard i < args.count else { fail("\(flag) needs a value\n\(usage())") }
        return args[i]
    }
    func threads(_ s: String) -> Int {
        guard let t = Int(s), t >= 1 else { fail("--threads needs an integer >= 1") }
        return t
    }
    while i < args.count {
        let a = args[i]
        switch a {
        case "--filter": o.filter = value(a)
        case "--quick": o.quick = true
        case "--json": o.jsonPath = value(a)
        case "--threads": o.threads = threads(value(a))
        case "--workloads-only": o.workloadsOnly = true
        case "--kernels-only": o.kernelsOnly = true
        case "--scaling": o.scalingOnly = true
        case "--no-scaling": o.noScaling = true
        case "--one": o.one = value(a)
        case "--timing": o.timing = value(a)
        case "-h", "--help":
            print(usage())
            exit(0)
        default:
            if a.hasPrefix("--filter=") { o.filter = String(a.dropFirst("--filter=".count)) }
            else if a.hasPrefix("--json=") { o.jsonPath = String(a.dropFirst("--json=".count)) }
            else if a.hasPrefix("--threads=") { o.threads = threads(String(a.dropFirst("--threads=".count))) }
            else { fail("unknown argument '\(a)'\n\(usage())") }
        }
        i += 1
    }
    return o
}

func timingNamed(_ name: String) -> WorkloadTiming {
    switch name {
    case "full": return .full
    case "quick": return .quick
    case "scaling": return .scaling
    case "scaling-quick": return .scalingQuick
    default: fail("unknown --timing '\(name)' (full, quick, scaling, scaling-quick)")
    }
}

func makeEncoder(pretty: Bool) -> JSONEncoder {
    let e = JSONEncoder()
    e.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys]
    e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return e
}

let options = parseOptions(CommandLine.arguments)
if let t = options.threads {
    vh_set_thread_count(Int32(t))
    vh_set_blas_threads(Int32(t))
}

// ---- child mode: one workload row, one JSON line --------------------------------------------

if let arg = options.one {
    guard let spec = WorkloadSpec(argument: arg) else { fail("--one needs task:cfg:B:K:T, got '\(arg)'") }
    do {
        let r = try runWorkload(spec, timing: timingNamed(options.timing ?? "full"), peak: MachinePeak.detect())
        print(String(decoding: try makeEncoder(pretty: false).encode(r), as: UTF8.self))
        exit(0)
    } catch {
        fail("\(spec.label): \(error)", code: 1)
    }
}

// ---- sections --------------------------------------------------------------------------------

let explicitSections = options.workloadsOnly || options.kernelsOnly || options.scalingOnly
let runWorkloads = explicitSections ? options.workloadsOnly : true
let runScaling = explicitSections ? options.scalingOnly : !options.noScaling
let runKernels = explicitSections ? options.kernelsOnly : true

func matches(_ label: String) -> Bool { options.filter.map { label.contains($0) } ?? true }
let workloads = runWorkloads ? mainWorkloads.filter { matches($0.label) } : []
let onlineSelected = runWorkloads && onlineWorkloads.contains { matches($0.label) }
let sweeps: [ScalingSweep] = runScaling ? scalingSweeps.compactMap { s in
    var s = s
    s.rows = s.rows.filter { matches("scaling-\(s.name)/\($0.spec.label)") }
    return s.rows.isEmpty ? nil : s
} : []
let kernels = runKernels ? allKernels().filter { matches($0.name) } : []
if workloads.isEmpty && !onlineSelected && sweeps.isEmpty && kernels.isEmpty {
    fail("nothing matches '\(options.filter ?? "")' in the selected sections", code: 1)
}

// ---- environment -----------------------------------------------------------------------------

let dateString: String = {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime]
    return f.string(from: Date())
}()
func loadAverage() -> [Double] {
    var l = [0.0, 0.0, 0.0]
    _ = getloadavg(&l, 3)
    return l
}
let peak = MachinePeak.detect()
let loadBefore = loadAverage()

#if DEBUG
print("WARNING: debug build — run `swift run -c release bench` for meaningful numbers\n")
#endif
print("VHRNN benchmark — float32")
print("date:     \(dateString)")
print("cpu:      \(peak.cpu) (\(ProcessInfo.processInfo.activeProcessorCount) logical CPUs online)")
print("threads:  vh_thread_count=\(vh_thread_count())  backend=\(String(cString: vh_parallel_backend()))  "
      + "blas_threads=\(vh_blas_thread_count())")
peak.printSummary()
print("load:     \(loadBefore.map { fmt($0, 2) }.joined(separator: " ")) (1/5/15 min) — cores may be shared; "
      + "treat differences under ~10% as noise")

// The ceiling the workload rows are measured against, in this run (AttainableRate.swift).
let attainable = workloads.isEmpty && sweeps.isEmpty ? nil : AttainableRate.measure(quick: options.quick)
attainable?.printSummary(peak: peak)

// ---- 1. workloads ----------------------------------------------------------------------------

let childTiming = options.quick ? "quick" : "full"
var workloadResults: [WorkloadResult] = []
if !workloads.isEmpty {
    let t = timingNamed(childTiming)
    print("")
    print("workloads: FIVO, T = 100 unless noted; training = forward + backward + Adam (Trainer.trainStep), "
          + "evaluation = forward only (ParticleFilter.run, no tape)")
    print("timing:    each row in a fresh process; first call + \(t.warmup) warm-up calls, then median of "
          + "\(t.repeats) repeats of n calls, each repeat >= \(fmt(t.minRunSeconds, 2)) s"
          + (options.quick ? " (--quick)" : ""))
    print("flops:     matrix work only, 2·in·out per linear layer per row: "
          + "forward = T·B·(K·F_particle + F_sequence), training = 3 × forward")
    print("           (F_particle: prior, proposal, phi_z, emission, recurrence [+ theta, its head, omega]; "
          + "F_sequence: phi_x)")
    print("RSS MB:    peak resident set of the row's process (getrusage ru_maxrss); "
          + "work MB: particle-filter buffers (training: with the tape)")
    print("")
    let header = workloadHeader()
    print(header)
    print(String(repeating: "-", count: header.count))
    for spec in workloads {
        let r = runInChild(spec, timingFlag: childTiming, threads: options.threads)
        workloadResults.append(r)
        print(workloadLine(r, attainable: attainable?.squareGFlops))
        fflush(stdout)
    }
    print("~ = max − min of the repeats > 10% of the median (shared cores?); "
          + "% attain = GFLOP/s / the square SGEMM's rate above")
    print("")
    print("flops per iteration (F_particle + F_sequence per step):")
    var seen = Set<String>()
    for r in workloadResults where r.error == nil && seen.insert(r.cfg).inserted {
        print("  \(pad(r.cfg, 19)) F_particle = \(r.flops_per_particle_step)  F_sequence = \(r.flops_per_sequence_step)"
              + "  params = \(r.params)")
    }
}

// ---- 1b. online filtering latency ------------------------------------------------------------

let onlineRows = runWorkloads ? onlineWorkloads.filter { matches($0.label) } : []
var onlineResults: [WorkloadResult] = []
if !onlineRows.isEmpty {
    print("")
    print("online filtering: OnlineFilter.observe, one frame per call, one stream, FIVO; a row = T = 100 frames")
    print("(µs/step: the median time per frame; vs pass: that over the offline pass's time per step, same cfg and K,")
    print(" where this run measured the pass)")
    let header = pad("task", 7) + pad("cfg", 19) + pad("K", 6, right: true) + pad("µs/step", 11, right: true)
        + pad("steps/s", 10, right: true) + pad("GFLOP/s", 9, right: true) + pad("vs pass", 9, right: true)
        + pad("work MB", 9, right: true)
    print(header)
    print(String(repeating: "-", count: header.count))
    for spec in onlineRows {
        let r = runInChild(spec, timingFlag: childTiming, threads: options.threads)
        onlineResults.append(r)
        let head = pad(r.task, 7) + pad(r.cfg, 19) + pad("\(r.K)", 6, right: true)
        guard r.error == nil else {
            print(head + "  FAILED: \(r.error!)")
            continue
        }
        let perStep = r.median_s / Double(r.T)
        let pass = workloadResults.first { $0.task == "eval" && $0.cfg == r.cfg && $0.K == r.K && $0.error == nil }
        let spread = (r.max_s - r.min_s) / r.median_s > 0.10 ? "~" : " "
        print(head + pad(fmt(perStep * 1e6, 1) + spread, 11, right: true) + pad(String(format: "%.0f", 1 / perStep), 10, right: true)
              + pad(fmt(r.gflops, 2), 9, right: true)
              + pad(pass.map { fmt(perStep / ($0.median_s / Double($0.T)), 2) } ?? "-", 9, right: true)
              + pad(fmt(r.workspace_mb, 2), 9, right: true))
        fflush(stdout)
    }
}

// ---- 2. scaling ------------------------------------------------------------------------------

var scalingResults: [ScalingRow] = []
if !sweeps.isEmpty {
    let started = nowNanos()
    print("")
    let st = timingNamed(options.quick ? "scaling-quick" : "scaling")
    print("scaling sweep (short timing: first call + \(st.warmup) warm-up, median of \(st.repeats) repeats "
          + ">= \(fmt(st.minRunSeconds, 2)) s; each row in a fresh process)")
    for sweep in sweeps {
        var rows: [ScalingRow] = []
        for (x, spec) in sweep.rows {
            let r = runInChild(spec, timingFlag: options.quick ? "scaling-quick" : "scaling", threads: options.threads)
            rows.append(ScalingRow(sweep: sweep.name, x: x, result: r))
        }
        printScalingTable(sweep, rows)
        fflush(stdout)
        scalingResults += rows
    }
    print("")
    print("complexity: time ∝ T · K · B · F_particle (training and evaluation alike; + T · B · F_sequence for phi_x);")
    print("            memory: training tape ∝ T · B · K, evaluation O(B · K) (no tape).  scaling total: "
          + "\(fmt(seconds(started), 1)) s")
}

// ---- 3. kernels ------------------------------------------------------------------------------

var kernelOutput: (settings: KernelSettings, results: [CaseResult])?
if !kernels.isEmpty {
    print("")
    kernelOutput = runKernelBench(kernels, quick: options.quick)
}

// ---- load check ------------------------------------------------------------------------------

// Trusted when nothing else ran: the 1-minute load was at most 1 before the run and at most the
// bench's own threads + 1 after it (the 1-minute average decays slowly, so a busy minute before
// the run still shows). Ratios from an untrusted run are refused by scripts/compare-with-peer.sh.
let loadAfter = loadAverage()
let ownThreads = Double(max(Int(vh_thread_count()), Int(vh_blas_thread_count())))
let loadTrusted = loadBefore[0] <= 1.0 && loadAfter[0] <= ownThreads + 1.0
print("")
print("load check: 1-min load \(fmt(loadBefore[0], 2)) before, \(fmt(loadAfter[0], 2)) after — "
      + (loadTrusted ? "quiet enough to trust" : "TOO HIGH: other work shared the cores; do not report these figures"))

// ---- JSON ------------------------------------------------------------------------------------

struct MachineInfo: Codable {
    var cpu: String
    var logical_cpus: Int
    var threads: Int
    var blas_threads: Int
    var backend: String
    var loadavg_before: [Double]
    var loadavg_after: [Double]
    /// The load check above: false when other work shared the cores.
    var load_trusted: Bool
    var kernel: String
}

struct BenchDocument: Codable {
    var date: String
    var machine: MachineInfo
    var peak: MachinePeak
    /// The rates measured in this run that the rows are compared with (nil: no workload rows).
    var attainable: AttainableRate?
    var flop_formula: String
    var workload_timing: WorkloadTiming?
    var results: [WorkloadResult]
    /// The online filtering rows (task "online"; not in `results`, which the peer's rows join).
    var online: [WorkloadResult]
    var scaling: [ScalingRow]
    var kernel_settings: KernelSettings?
    var kernels: [CaseResult]
}

if let path = options.jsonPath {
    var uts = utsname()
    uname(&uts)
    let release = withUnsafeBytes(of: &uts.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    let doc = BenchDocument(
        date: dateString,
        machine: MachineInfo(cpu: peak.cpu, logical_cpus: ProcessInfo.processInfo.activeProcessorCount,
                             threads: Int(vh_thread_count()), blas_threads: Int(vh_blas_thread_count()),
                             backend: String(cString: vh_parallel_backend()), loadavg_before: loadBefore,
                             loadavg_after: loadAfter, load_trusted: loadTrusted, kernel: release),
        peak: peak, attainable: attainable,
        flop_formula: "forward = T*B*(K*F_particle + F_sequence) with 2*in*out per linear layer per row; train = 3*forward",
        workload_timing: workloads.isEmpty ? nil : timingNamed(childTiming),
        results: workloadResults, online: onlineResults, scaling: scalingResults,
        kernel_settings: kernelOutput?.settings, kernels: kernelOutput?.results ?? [])
    do {
        try makeEncoder(pretty: true).encode(doc).write(to: URL(fileURLWithPath: path))
        print("wrote \(path)")
    } catch {
        fail("cannot write \(path): \(error)", code: 1)
    }
}

// main.swift — `swift run -c release bench [--filter SUBSTR] [--quick] [--json PATH] [--threads N]`
//
// Times every float32 kernel forward/backward pair of the C core at the paper's sizes and
// prints one line per kernel x shape: median time per call (µs), GFLOP/s from an analytic flop
// count and GB/s from an analytic byte count (conventions in KernelBench.swift and the header).
import CVHRNN
import Foundation

// ---- options (hand-parsed: the bench target has no dependencies beyond the package) -------

struct Options {
    var filter: String?
    var quick = false
    var jsonPath: String?
    var threads: Int?
}

func usage() -> String {
    """
    usage: bench [--filter SUBSTR] [--quick] [--json PATH] [--threads N]
      --filter SUBSTR  only kernels whose name contains SUBSTR (e.g. lstm, gaussian, linear)
      --quick          shorter samples (>= 0.5 ms, median of 7) instead of >= 2 ms, median of 11
      --json PATH      also write the results as JSON to PATH
      --threads N      set the kernel thread count and OpenBLAS threads to N (default: as found)
    """
}

func parseOptions(_ args: [String]) -> Options {
    var o = Options()
    var i = 1
    func value(_ flag: String) -> String {
        i += 1
        guard i < args.count else {
            FileHandle.standardError.write("bench: \(flag) needs a value\n\(usage())\n".data(using: .utf8)!)
            exit(2)
        }
        return args[i]
    }
    while i < args.count {
        let a = args[i]
        switch a {
        case "--filter": o.filter = value(a)
        case "--quick": o.quick = true
        case "--json": o.jsonPath = value(a)
        case "--threads":
            guard let t = Int(value(a)), t >= 1 else {
                FileHandle.standardError.write("bench: --threads needs an integer >= 1\n".data(using: .utf8)!)
                exit(2)
            }
            o.threads = t
        case "-h", "--help":
            print(usage())
            exit(0)
        default:
            if a.hasPrefix("--filter=") { o.filter = String(a.dropFirst("--filter=".count)) }
            else if a.hasPrefix("--json=") { o.jsonPath = String(a.dropFirst("--json=".count)) }
            else if a.hasPrefix("--threads="), let t = Int(a.dropFirst("--threads=".count)), t >= 1 { o.threads = t }
            else {
                FileHandle.standardError.write("bench: unknown argument '\(a)'\n\(usage())\n".data(using: .utf8)!)
                exit(2)
            }
        }
        i += 1
    }
    return o
}

// ---- environment ----------------------------------------------------------------------------

func cpuModel() -> String {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else {
        return "unknown"
    }
    for line in text.split(separator: "\n") where line.hasPrefix("model name") {
        if let colon = line.firstIndex(of: ":") {
            return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
    }
    return "unknown"
}

// ---- output helpers -------------------------------------------------------------------------

func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
    if s.count >= width { return s }
    let fill = String(repeating: " ", count: width - s.count)
    return right ? fill + s : s + fill
}

func fmt(_ x: Double, _ decimals: Int) -> String { String(format: "%.\(decimals)f", x) }

/// Time per call in µs with ~3 significant digits.
func fmtMicros(_ seconds: Double) -> String {
    let us = seconds * 1e6
    if us < 1 { return fmt(us, 3) }
    if us < 10 { return fmt(us, 2) }
    if us < 100 { return fmt(us, 1) }
    return fmt(us, 0)
}

func fmtRate(_ perSecond: Double) -> String {
    if perSecond == 0 { return "-" }
    let g = perSecond / 1e9
    return g < 10 ? fmt(g, 2) : fmt(g, 1)
}

struct DirectionResult: Codable {
    var medianMicros: Double
    var minMicros: Double
    var maxMicros: Double
    var relativeIQR: Double
    var repsPerSample: Int
    var samples: Int
    var flopsPerCall: Double
    var bytesPerCall: Double
    var gflops: Double
    var gbytesPerSecond: Double

    init(_ m: Measurement, _ d: Direction) {
        medianMicros = m.median * 1e6
        minMicros = m.min * 1e6
        maxMicros = m.max * 1e6
        relativeIQR = m.relativeIQR
        repsPerSample = m.repsPerSample
        samples = m.perCallSeconds.count
        flopsPerCall = d.flops
        bytesPerCall = d.bytes
        gflops = d.flops / m.median / 1e9
        gbytesPerSecond = d.bytes / m.median / 1e9
    }
}

struct CaseResult: Codable {
    var kernel: String
    var n: Int?
    var dims: String
    var forward: DirectionResult
    var backward: DirectionResult?
}

struct Report: Codable {
    var date: String
    var cpu: String
    var logicalCPUs: Int
    var threads: Int
    var parallelBackend: String
    var blasThreads: Int
    var precision: String
    var quick: Bool
    var targetSampleMillis: Double
    var samplesPerMeasurement: Int
    var flopConvention: String
    var results: [CaseResult]
}

// ---- run ------------------------------------------------------------------------------------

let options = parseOptions(CommandLine.arguments)
if let t = options.threads {
    vh_set_thread_count(Int32(t))
    vh_set_blas_threads(Int32(t))
}
let timing = options.quick ? TimingConfig.quick : TimingConfig.full
let kernels = allKernels().filter { k in options.filter.map { k.name.contains($0) } ?? true }
if kernels.isEmpty {
    FileHandle.standardError.write("bench: no kernel name contains '\(options.filter ?? "")'\n".data(using: .utf8)!)
    exit(1)
}

let dateString: String = {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime]
    return f.string(from: Date())
}()
let cpu = cpuModel()
let logicalCPUs = ProcessInfo.processInfo.activeProcessorCount
let threads = Int(vh_thread_count())
let backend = String(cString: vh_parallel_backend())
let blasThreads = Int(vh_blas_thread_count())
let flopConvention = "1 flop per +,-,*,/,max,compare; exp/log/tanh/sigmoid/softplus/sqrt count 1 each"

#if DEBUG
print("WARNING: debug build — run `swift run -c release bench` for meaningful numbers\n")
#endif
print("VHRNN kernel benchmark — float32 (speed precision)")
print("date:     \(dateString)")
print("cpu:      \(cpu) (\(logicalCPUs) logical CPUs online)")
print("threads:  vh_thread_count=\(threads)  backend=\(backend)  blas_threads=\(blasThreads)")
print("timing:   warm-up, then median of \(timing.samples) samples, each >= "
      + "\(fmt(Double(timing.targetSampleNanos) / 1e6, 1)) ms of back-to-back calls\(options.quick ? " (--quick)" : "")")
print("flops:    \(flopConvention)")
print("bytes:    4 per float/index touched per call; += outputs count read+write (L1/L2-resident, not DRAM)")
print("")
print("flop count per call (n rows, H hidden, d/m/w columns, B sequences x K particles, P params):")
for k in kernels {
    print("  \(pad(k.name, 18)) fwd \(pad(k.fwdFlops, 22)) bwd \(k.bwdFlops)")
}
print("")

let header = pad("kernel", 18) + pad("n", 6, right: true) + "  " + pad("dims", 14)
    + pad("fwd µs", 10, right: true) + pad("GFLOP/s", 9, right: true) + pad("GB/s", 8, right: true)
    + pad("bwd µs", 10, right: true) + pad("GFLOP/s", 9, right: true) + pad("GB/s", 8, right: true)
print(header)
print(String(repeating: "-", count: header.count))

var results: [CaseResult] = []
var blackhole = 0.0
var noisy = false
let started = nowNanos()

for spec in kernels {
    for make in spec.cases {
        let c = make()
        let mf = measure(timing, c.fwd.run)
        let fwd = DirectionResult(mf, c.fwd)
        var bwd: DirectionResult?
        if let b = c.bwd {
            bwd = DirectionResult(measure(timing, b.run), b)
        }
        blackhole += c.pool.checksum()
        results.append(CaseResult(kernel: c.kernel, n: c.n, dims: c.dims, forward: fwd, backward: bwd))

        // A trailing '~' marks a measurement whose interquartile range exceeds 10% of its median.
        func cols(_ r: DirectionResult?) -> String {
            guard let r else {
                return pad("-", 10, right: true) + pad("", 9) + pad("", 8)
            }
            let mark = r.relativeIQR > 0.10 ? "~" : " "
            if mark == "~" { noisy = true }
            return pad(fmtMicros(r.medianMicros * 1e-6) + mark, 10, right: true)
                + pad(fmtRate(r.gflops * 1e9), 9, right: true)
                + pad(fmtRate(r.gbytesPerSecond * 1e9), 8, right: true)
        }
        let nCol = c.n.map { String($0) } ?? "-"
        print(pad(c.kernel, 18) + pad(nCol, 6, right: true) + "  " + pad(c.dims, 14) + cols(fwd) + cols(bwd))
        fflush(stdout)
    }
}

let elapsed = Double(nowNanos() - started) * 1e-9
print("")
if noisy { print("~ = noisy: interquartile range of the samples > 10% of the median (shared cores?)") }
print("checksum: \(blackhole.isFinite ? String(format: "%.6e", blackhole) : "\(blackhole)")   total: \(fmt(elapsed, 1)) s")

if let path = options.jsonPath {
    let report = Report(
        date: dateString, cpu: cpu, logicalCPUs: logicalCPUs, threads: threads,
        parallelBackend: backend, blasThreads: blasThreads, precision: "float32",
        quick: options.quick, targetSampleMillis: Double(timing.targetSampleNanos) / 1e6,
        samplesPerMeasurement: timing.samples, flopConvention: flopConvention, results: results)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    do {
        try encoder.encode(report).write(to: URL(fileURLWithPath: path))
        print("wrote \(path)")
    } catch {
        FileHandle.standardError.write("bench: cannot write \(path): \(error)\n".data(using: .utf8)!)
        exit(1)
    }
}

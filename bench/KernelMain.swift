// KernelMain.swift — the kernel micro-benchmark's run loop and output (moved here unchanged
// from main.swift when the workload benchmark was added; main.swift now only dispatches).
//
// Times every float32 kernel forward/backward pair of the C core at the paper's sizes and
// prints one line per kernel x shape: median time per call (µs), GFLOP/s from an analytic flop
// count and GB/s from an analytic byte count (conventions in KernelBench.swift and the header).
import CVHRNN
import Foundation

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

// ---- results --------------------------------------------------------------------------------

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

/// The kernel section's settings (the JSON document's `kernel_settings`).
struct KernelSettings: Codable {
    var precision: String
    var quick: Bool
    var targetSampleMillis: Double
    var samplesPerMeasurement: Int
    var flopConvention: String
    var byteConvention: String
}

let kernelFlopConvention = "1 flop per +,-,*,/,max,compare; exp/log/tanh/sigmoid/softplus/sqrt count 1 each"
let kernelByteConvention = "4 per float/index touched per call; += outputs count read+write (L1/L2-resident, not DRAM)"

/// Runs the kernel micro-benchmark on `kernels`, printing as it goes.
func runKernelBench(_ kernels: [KernelSpec], quick: Bool) -> (settings: KernelSettings, results: [CaseResult]) {
    let timing = quick ? TimingConfig.quick : TimingConfig.full
    print("VHRNN kernel benchmark — float32 (speed precision)")
    print("timing:   warm-up, then median of \(timing.samples) samples, each >= "
          + "\(fmt(Double(timing.targetSampleNanos) / 1e6, 1)) ms of back-to-back calls\(quick ? " (--quick)" : "")")
    print("flops:    \(kernelFlopConvention)")
    print("bytes:    \(kernelByteConvention)")
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
    let settings = KernelSettings(precision: "float32", quick: quick,
                                  targetSampleMillis: Double(timing.targetSampleNanos) / 1e6,
                                  samplesPerMeasurement: timing.samples, flopConvention: kernelFlopConvention,
                                  byteConvention: kernelByteConvention)
    return (settings, results)
}

// MachinePeak.swift — this machine's nominal fp32 peak, derived from what the OS reports.
//
//   peak = cores × FMA units per core × fp32 lanes per vector × 2 flops per FMA × clock
//
// * lanes: from the /proc/cpuinfo flags — avx512f → 16, avx2 (or avx) → 8, else 4 (SSE);
// * FMA units per core: assumed 2 (two FMA pipes, as on every recent x86 server core; the
//   OS does not report it);
// * cores: online CPUs (sysconf(_SC_NPROCESSORS_ONLN)) — in a VM these are vCPUs, which may be
//   hyperthreads sharing one core's FMA pipes;
// * clock: /sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq when the kernel exposes it,
//   else the first "cpu MHz" of /proc/cpuinfo (what the PyTorch peer uses; in a VM it is the
//   host's nominal clock).
//
// It is a nominal ceiling for the % of peak column, not an attainable figure: e.g. AMD Zen 4
// executes a 512-bit FMA as two 256-bit halves, so its attainable FMA rate is half of this.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import VHRNN

struct MachinePeak: Codable {
    var cpu: String
    var vendor: String
    var family: Int?
    var model: Int?
    var isa: String
    var lanes: Int
    var fmaUnitsPerCore: Int
    var cores: Int
    var clockMHz: Double
    var clockSource: String
    var peakGFlops: Double
    var formula: String
    var note: String?

    var peakFlops: Double { peakGFlops * 1e9 }

    static func detect() -> MachinePeak {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        func field(_ name: String) -> String? {
            for line in info.split(separator: "\n") where line.hasPrefix(name) {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let key = line[..<colon].trimmingCharacters(in: .whitespaces)
                if key == name { return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) }
            }
            return nil
        }
        let flags = Set((field("flags") ?? "").split(separator: " ").map(String.init))
        let (isa, lanes): (String, Int)
        if flags.contains("avx512f") { (isa, lanes) = ("AVX-512", 16) }
        else if flags.contains("avx2") { (isa, lanes) = ("AVX2", 8) }
        else if flags.contains("avx") { (isa, lanes) = ("AVX", 8) }
        else { (isa, lanes) = ("SSE", 4) }
        let fmaUnits = 2
        let cores = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

        var clockMHz = Double.nan, source = "unknown"
        if let text = try? String(contentsOfFile: "/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", encoding: .utf8),
           let khz = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)), khz > 0 {
            clockMHz = khz / 1000
            source = "/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq"
        } else if let mhz = field("cpu MHz").flatMap(Double.init) {
            clockMHz = mhz
            source = "/proc/cpuinfo \"cpu MHz\" (no cpufreq in /sys)"
        }
        let peak = Double(cores * fmaUnits * lanes * 2) * clockMHz * 1e6
        let vendor = field("vendor_id") ?? "unknown"
        let family = field("cpu family").flatMap { Int($0) }
        let model = field("model").flatMap { Int($0) }
        var note: String?
        if vendor == "AuthenticAMD", family == 25, lanes == 16 {
            note = "AMD family 25 with AVX-512 is Zen 4: 512-bit FMAs issue as two 256-bit halves, "
                + "so the attainable FMA peak is half the nominal figure"
        }
        let formula = "\(cores) cores × \(fmaUnits) FMA units (assumed) × \(lanes) fp32 lanes (\(isa)) × 2 flop/FMA × "
            + String(format: "%.0f", clockMHz) + " MHz"
        return MachinePeak(cpu: field("model name") ?? "unknown", vendor: vendor, family: family, model: model,
                           isa: isa, lanes: lanes, fmaUnitsPerCore: fmaUnits, cores: cores, clockMHz: clockMHz,
                           clockSource: source, peakGFlops: peak / 1e9, formula: formula, note: note)
    }

    func printSummary() {
        print("peak:     \(formula) = \(fmt(peakGFlops, 1)) GFLOP/s fp32 (nominal)")
        print("          clock from \(clockSource); lanes from /proc/cpuinfo flags; cores = online CPUs")
        if let note { print("          note: \(note)") }
        print("float path: \(KernelRuntime.floatPath)")
    }
}

/// Process-wide peak resident set size in MiB (getrusage's ru_maxrss is in KiB on Linux).
func peakRSSMegabytes() -> Double {
    var usage = rusage()
    #if os(Linux)
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_maxrss) / 1024
    #else
    getrusage(RUSAGE_SELF, &usage)
    return Double(usage.ru_maxrss) / (1024 * 1024)  // bytes on Darwin
    #endif
}

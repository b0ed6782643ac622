// Timing.swift — monotonic clock, repetition calibration and median-of-samples measurement.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Monotonic time in nanoseconds.
@inline(__always)
func nowNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Run `body` `reps` times; the body is inlined into the loop, so the only per-call overhead
/// measured is the C call itself.
@inline(__always)
func repeatCalls(_ reps: Int, _ body: () -> Void) {
    var i = 0
    while i < reps {
        body()
        i += 1
    }
}

struct TimingConfig {
    /// Each timed sample runs the kernel enough times to take at least this long.
    var targetSampleNanos: UInt64
    /// Number of timed samples; the reported figure is their median.
    var samples: Int

    static let full = TimingConfig(targetSampleNanos: 2_000_000, samples: 11)
    static let quick = TimingConfig(targetSampleNanos: 500_000, samples: 7)
}

/// Per-call statistics (seconds per call) over the timed samples.
struct Measurement {
    var repsPerSample: Int
    var perCallSeconds: [Double]  // one entry per sample, sorted ascending

    var median: Double {
        let s = perCallSeconds
        let m = s.count / 2
        return s.count % 2 == 1 ? s[m] : 0.5 * (s[m - 1] + s[m])
    }
    var min: Double { perCallSeconds.first ?? .nan }
    var max: Double { perCallSeconds.last ?? .nan }
    /// Interquartile range relative to the median: a noise indicator (cores are shared).
    var relativeIQR: Double {
        let s = perCallSeconds
        guard s.count >= 4 else { return 0 }
        let q1 = s[s.count / 4], q3 = s[(3 * s.count) / 4]
        return (q3 - q1) / median
    }
}

/// Measure `run(reps)` (which must call the kernel exactly `reps` times).
///
/// 1. Calibration doubles as warm-up: grow `reps` until one batch takes >= the target
///    (caches, page faults, thread-pool start-up, lazy binding all happen here).
/// 2. One more untimed batch at the final repetition count.
/// 3. `samples` timed batches; per-call time = batch time / reps; report the median.
func measure(_ config: TimingConfig, _ run: (Int) -> Void) -> Measurement {
    var reps = 1
    while true {
        let t0 = nowNanos()
        run(reps)
        let dt = nowNanos() - t0
        if dt >= config.targetSampleNanos { break }
        // Aim ~20% past the target, but never more than 100x at a time (a first call can be
        // anomalously slow or fast).
        let scale: Double
        if dt == 0 {
            scale = 100
        } else {
            scale = Swift.min(100, Swift.max(2, 1.2 * Double(config.targetSampleNanos) / Double(dt)))
        }
        reps = Int((Double(reps) * scale).rounded(.up))
    }
    run(reps)  // warm-up at the final size
    var perCall: [Double] = []
    perCall.reserveCapacity(config.samples)
    for _ in 0..<config.samples {
        let t0 = nowNanos()
        run(reps)
        let dt = nowNanos() - t0
        perCall.append(Double(dt) * 1e-9 / Double(reps))
    }
    perCall.sort()
    return Measurement(repsPerSample: reps, perCallSeconds: perCall)
}

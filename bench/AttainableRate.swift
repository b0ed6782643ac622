// AttainableRate.swift — the fp32 matrix rate this machine actually delivers, measured in the
// same run as the workloads, through the same kernel (vh_linear_forward_f32 on OpenBLAS) and the
// same thread settings: a large square SGEMM (the ceiling) and the GEMM shapes the models run
// (particle rows × layer widths). Each workload row's GFLOP/s is reported as a fraction of the
// square rate, next to the nominal peak, which no machine reaches (MachinePeak.swift).
import CVHRNN
import Foundation

struct AttainableShape: Codable {
    var label: String
    var rows: Int
    var inDim: Int
    var outDim: Int
    var gflops: Double
}

struct AttainableRate: Codable {
    /// GFLOP/s of y = x Wᵀ with x (2048, 2048), W (2048, 2048): the machine's ceiling for the kernel.
    var squareGFlops: Double
    var shapes: [AttainableShape]

    /// The model shapes: the widest layers of the JSB models at the evaluation and training row counts.
    static let modelShapes: [(String, Int, Int, Int)] = [
        ("eval K=1024, LSTM input [E,E]->4H", 1024, 64, 128),
        ("eval K=1024, proposal [H,E]->fc", 1024, 64, 32),
        ("eval K=1024, 1024x96·96x128", 1024, 96, 128),
        ("eval K=128, LSTM input [E,E]->4H", 128, 64, 128),
        ("train B4 K4, LSTM input [E,E]->4H", 16, 64, 128),
    ]

    /// Median GFLOP/s of `vh_linear_forward_f32` at one shape over repeats of at least `minSeconds`.
    static func measure(rows: Int, inDim: Int, outDim: Int, minSeconds: Double) -> Double {
        let p = BufferPool(seed: UInt64(rows &* 31 &+ inDim &* 7 &+ outDim))
        let x = p.uniform(rows * inDim, -1, 1), w = p.uniform(outDim * inDim, -1, 1), b = p.uniform(outDim, -1, 1)
        let y = p.output(rows * outDim)
        let n = Int32(rows), i = Int32(inDim), o = Int32(outDim)
        func call() { vh_linear_forward_f32(y, x, w, b, n, i, o, i, 0) }
        call()  // warm-up: BLAS thread start, pages
        var calls = 1
        while true {  // calls per repeat so that a repeat lasts at least minSeconds
            let start = nowNanos()
            for _ in 0..<calls { call() }
            if seconds(start) >= minSeconds { break }
            calls *= 2
        }
        var rates: [Double] = []
        for _ in 0..<5 {
            let start = nowNanos()
            for _ in 0..<calls { call() }
            rates.append(2 * Double(rows) * Double(inDim) * Double(outDim) * Double(calls) / seconds(start) / 1e9)
        }
        return rates.sorted()[2]
    }

    static func measure(quick: Bool) -> AttainableRate {
        let minSeconds = quick ? 0.05 : 0.2
        let square = measure(rows: 2048, inDim: 2048, outDim: 2048, minSeconds: minSeconds)
        let shapes = modelShapes.map { label, rows, inDim, outDim in
            AttainableShape(label: label, rows: rows, inDim: inDim, outDim: outDim,
                            gflops: measure(rows: rows, inDim: inDim, outDim: outDim, minSeconds: minSeconds))
        }
        return AttainableRate(squareGFlops: square, shapes: shapes)
    }

    func printSummary(peak: MachinePeak) {
        print("attainable: 2048³ SGEMM through vh_linear_forward_f32 = \(fmt(squareGFlops, 1)) GFLOP/s "
              + "(\(fmt(100 * squareGFlops / peak.peakGFlops, 1))% of nominal); model shapes:")
        for s in shapes {
            print("            \(pad(s.label, 36)) \(s.rows)×\(s.inDim)·\(s.inDim)×\(s.outDim)  \(fmt(s.gflops, 1)) GFLOP/s")
        }
    }
}

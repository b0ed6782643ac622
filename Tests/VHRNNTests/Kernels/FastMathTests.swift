import CVHRNN
import Foundation
import Testing

/// The float kernels use branch-free exp/log/tanh/sigmoid/softplus (CSources/CVHRNN/impl/
/// vh_fastmath.h) instead of libm. Checked here against double libm over a dense sweep of
/// float bit patterns (all signs and exponents: zeros, subnormals, huge values, inf, NaN) in
/// every code path the kernels can dispatch to, plus the special values one by one.
@Suite("Fast float math")
struct FastMathTests {
    static let names = ["exp", "log", "tanh", "sigmoid", "softplus"]
    /// Largest error allowed, in float ulps (measured: exp 1.0, log 0.8, tanh 1.3,
    /// sigmoid 2.3, softplus 1.9).
    static let bounds: [Double] = [1.5, 1.5, 2, 3, 2.5]

    @Test(arguments: [0, 3, 4])
    func denseSweepWithinUlpBounds(level: Int32) {
        var maxUlp = [Double](repeating: .nan, count: 5)
        var worst = [Float](repeating: 0, count: 5)
        // stride 997: ~4.3 million inputs spread over every sign and exponent
        let status = vh_fastmath_selftest(level, 997, &maxUlp, &worst)
        if status != 0 { return }  // level not available on this CPU
        for f in 0..<5 {
            #expect(maxUlp[f] <= Self.bounds[f],
                    "level \(level) \(Self.names[f]): \(maxUlp[f]) ulp at \(worst[f])")
        }
    }

    func eval(_ f: Int32, _ x: Float) -> Float { vh_fastmath_eval(f, x) }

    @Test func specialValues() {
        let inf = Float.infinity
        // exp
        #expect(eval(0, -inf) == 0)
        #expect(eval(0, inf) == inf)
        #expect(eval(0, 0) == 1 && eval(0, -0.0) == 1)
        #expect(eval(0, 89) == inf && eval(0, 1e6) == inf)
        #expect(eval(0, -1e6) == 0 && eval(0, -104) == 0)
        #expect(eval(0, 88) == Float(exp(88.0)))
        #expect(eval(0, -100).isSubnormal)
        #expect(eval(0, .nan).isNaN)
        // log
        #expect(eval(1, 0) == -inf && eval(1, -0.0) == -inf)
        #expect(eval(1, -1).isNaN && eval(1, -inf).isNaN && eval(1, .nan).isNaN)
        #expect(eval(1, inf) == inf)
        #expect(eval(1, 1) == 0)
        #expect(abs(Double(eval(1, .leastNonzeroMagnitude)) - log(Double(Float.leastNonzeroMagnitude))) < 1e-4)
        #expect(abs(Double(eval(1, .greatestFiniteMagnitude)) - log(Double(Float.greatestFiniteMagnitude))) < 1e-4)
        // tanh
        #expect(eval(2, inf) == 1 && eval(2, -inf) == -1)
        #expect(eval(2, 1e6) == 1 && eval(2, -1e6) == -1)
        #expect(eval(2, 0) == 0 && eval(2, -0.0).sign == .minus)
        #expect(eval(2, 1e-30) == 1e-30)
        #expect(eval(2, .nan).isNaN)
        // sigmoid
        #expect(eval(3, inf) == 1 && eval(3, -inf) == 0)
        #expect(eval(3, 0) == 0.5)
        #expect(eval(3, -1e6) == 0 && eval(3, 1e6) == 1)
        #expect(eval(3, .nan).isNaN)
        // softplus
        #expect(eval(4, 1e6) == 1e6)
        #expect(eval(4, -1e6) == 0)
        #expect(eval(4, inf) == inf && eval(4, -inf) == 0)
        #expect(abs(eval(4, 0) - Float(log(2.0))) <= Float(log(2.0)).ulp)
        #expect(eval(4, -90) > 0 && eval(4, -90).isFinite)
        #expect(eval(4, .nan).isNaN)
    }
}

// Uses the VHRNN library from another package: one LSTM step for a batch of particles, a
// reparameterised Gaussian sample, and the particles' log-weights reduced to log Z-hat.
import Foundation
import VHRNN

let particles = 4, hidden = 3

// One LSTM step from a zero state, with pre-activations W y given directly.
let preactivation = try Tensor<Double>(shape: [particles, 4 * hidden],
                                       values: (0..<(particles * 4 * hidden)).map { Double($0 % 7) / 7 - 0.4 })
let h = Tensor<Double>(shape: [particles, hidden]), c = Tensor<Double>(shape: [particles, hidden])
let gates = Tensor<Double>(shape: [particles, 4 * hidden])
try Kernels.lstmCellForward(hidden: h, cell: c, gates: gates, inputPreactivation: preactivation,
                            recurrentPreactivation: nil, bias: nil, previousCell: nil)

// z = mu + sigma * eps, scored under the proposal and a standard-normal prior.
var rng = SplitMix64(seed: 1)
let mu = h, raw = c
let sigma = Tensor<Double>(shape: [particles, hidden])
try Kernels.gaussianSigmaForward(sigma: sigma, raw: raw)
let eps = try Tensor<Double>(shape: [particles, hidden],
                             values: (0..<(particles * hidden)).map { _ in rng.nextStandardNormal() })
let z = Tensor<Double>(shape: [particles, hidden])
try Kernels.gaussianSampleForward(sample: z, mean: mu, sigma: sigma, noise: eps)
let logQ = Tensor<Double>(shape: [particles]), logP = Tensor<Double>(shape: [particles])
try Kernels.gaussianLogPDFForward(logDensity: logQ, x: z, mean: mu, sigma: sigma)
let zeros = Tensor<Double>(shape: [particles, hidden])
let ones = try Tensor<Double>(shape: [particles, hidden], values: Array(repeating: 1, count: particles * hidden))
try Kernels.gaussianLogPDFForward(logDensity: logP, x: z, mean: zeros, sigma: ones)

// log weights -> log Z-hat = logsumexp(w) - log K, and the effective sample size.
let logWeights = try Tensor<Double>(shape: [1, particles], values: (0..<particles).map { logP[$0] - logQ[$0] })
let lse = Tensor<Double>(shape: [1]), logESS = Tensor<Double>(shape: [1])
try Kernels.logSumExpForward(result: lse, weights: logWeights)
try Kernels.logEffectiveSampleSize(result: logESS, weights: logWeights)
let logZ = lse[0] - log(Double(particles))
print("FilterDemo: h[0] = \(h.values.prefix(hidden).map { ($0 * 1e4).rounded() / 1e4 })")
print("FilterDemo: log Z-hat = \(logZ), ESS = \(exp(logESS[0])) of \(particles) particles")
print("FilterDemo: kernels on \(KernelRuntime.parallelBackend), \(KernelRuntime.threadCount) threads")

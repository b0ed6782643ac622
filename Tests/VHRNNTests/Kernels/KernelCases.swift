@testable import VHRNN

// One builder per kernel family; the table in KernelGradientTests lists them at several small
// shapes (rows = 1 and odd sizes included). Each forward returns exactly the outputs the
// loss sees; caches (gates) are recomputed inside backward.

private func zeros<S>(_ shape: [Int]) -> Tensor<S> { Tensor(shape: shape) }

struct LinearCase: KernelCaseBuilder {
    var n: Int, inDim: Int, outDim: Int
    var description: String { "linear n=\(n) in=\(inDim) out=\(outDim)" }
    func build<S: KernelScalar>(_: S.Type) -> KernelCase<S> {
        KernelCase(
            inputs: [InputSpec(name: "x", shape: [n, inDim]), InputSpec(name: "W", shape: [outDim, inDim]),
                     InputSpec(name: "b", shape: [outDim])],
            forward: { x in
                let y: Tensor<S> = zeros([n, outDim])
                try Kernels.linearForward(output: y, input: x[0], weight: x[1], bias: x[2])
                return [y]
            },
            backward: { x, g in
                let dx: Tensor<S> = zeros([n, inDim]), dw: Tensor<S> = zeros([outDim, inDim])
                let db: Tensor<S> = zeros([outDim])
                try Kernels.linearBackward(inputGradient: dx, weightGradient: dw, biasGradient: db,
                                           outputGradient: g[0], input: x[0], weight: x[1])
                return [dx, dw, db]
            })
    }
}

struct ReluCase: KernelCaseBuilder {
    var n: Int, d: Int
    var description: String { "relu n=\(n) d=\(d)" }
    func build<S: KernelScalar>(_: S.Type) -> KernelCase<S> {
        KernelCase(
            inputs: [InputSpec(name: "x", shape: [n, d], domain: .awayFromZero)],
            forward: { x in
                let y: Tensor<S> = zeros([n, d])
                try Kernels.reluForward(output: y, input: x[0])
                return [y]
            },
            backward: { x, g in
                let y: Tensor<S> = zeros([n, d]), dx: Tensor<S> = zeros([n, d])
                try Kernels.reluForward(output: y, input: x[0])
                try Kernels.reluBackward(inputGradient: dx, outputGradient: g[0], output: y)
                return [dx]
            })
    }
}

/// Plain or Hadamard-scaled LSTM cell; `recurrent` false passes no `U h` term, `zeroState`
/// passes no previous cell.
struct LSTMCase: KernelCaseBuilder {
    var n: Int, hidden: Int, hyper: Bool, recurrent = true, zeroState = false
    var description: String {
        "\(hyper ? "hyper " : "")lstm n=\(n) H=\(hidden)\(recurrent ? "" : " no-Uh")\(zeroState ? " c0=0" : "")"
    }
    func build<S: KernelScalar>(_: S.Type) -> KernelCase<S> {
        let H = hidden, G = 4 * hidden
        var specs = [InputSpec(name: "wy", shape: [n, G]), InputSpec(name: "b", shape: [G])]
        if recurrent { specs.append(InputSpec(name: "uh", shape: [n, G])) }
        if !zeroState { specs.append(InputSpec(name: "c_prev", shape: [n, H])) }
        if hyper { specs.append(InputSpec(name: "hyper", shape: [n, 3 * G], domain: .positive)) }
        let names = specs.map(\.name)
        func pick(_ x: [Tensor<S>], _ name: String) -> Tensor<S>? { names.firstIndex(of: name).map { x[$0] } }
        func forward(_ x: [Tensor<S>]) throws -> (h: Tensor<S>, c: Tensor<S>, gates: Tensor<S>) {
            let h: Tensor<S> = zeros([n, H]), c: Tensor<S> = zeros([n, H]), gates: Tensor<S> = zeros([n, G])
            if let hy = pick(x, "hyper") {
                try Kernels.hyperLSTMCellForward(hidden: h, cell: c, gates: gates, inputPreactivation: x[0],
                                                 recurrentPreactivation: pick(x, "uh"), hyper: hy,
                                                 bias: x[1], previousCell: pick(x, "c_prev"))
            } else {
                try Kernels.lstmCellForward(hidden: h, cell: c, gates: gates, inputPreactivation: x[0],
                                            recurrentPreactivation: pick(x, "uh"), bias: x[1],
                                            previousCell: pick(x, "c_prev"))
            }
            return (h, c, gates)
        }
        return KernelCase(
            inputs: specs,
            forward: { x in
                let r = try forward(x)
                return [r.h, r.c]
            },
            backward: { x, g in
                let r = try forward(x)
                let grads: [Tensor<S>] = specs.map { zeros($0.shape) }
                func grad(_ name: String) -> Tensor<S>? { names.firstIndex(of: name).map { grads[$0] } }
                if let hy = pick(x, "hyper") {
                    try Kernels.hyperLSTMCellBackward(
                        inputPreactivationGradient: grads[0], recurrentPreactivationGradient: grad("uh"),
                        hyperGradient: grad("hyper"), biasGradient: grads[1], previousCellGradient: grad("c_prev"),
                        hiddenGradient: g[0], cellGradient: g[1], gates: r.gates, cell: r.c,
                        previousCell: pick(x, "c_prev"), inputPreactivation: x[0],
                        recurrentPreactivation: pick(x, "uh"), hyper: hy)
                } else {
                    try Kernels.lstmCellBackward(
                        inputPreactivationGradient: grads[0], recurrentPreactivationGradient: grad("uh"),
                        biasGradient: grads[1], previousCellGradient: grad("c_prev"), hiddenGradient: g[0],
                        cellGradient: g[1], gates: r.gates, cell: r.c, previousCell: pick(x, "c_prev"))
                }
                return grads
            })
    }
}

struct GRUCase: KernelCaseBuilder {
    var n: Int, hidden: Int, hyper: Bool, zeroState = false
    var description: String { "\(hyper ? "hyper " : "")gru n=\(n) H=\(hidden)\(zeroState ? " h0=0" : "")" }
    func build<S: KernelScalar>(_: S.Type) -> KernelCase<S> {
        let H = hidden, G = 3 * hidden
        var specs = [InputSpec(name: "wx", shape: [n, G]), InputSpec(name: "uh", shape: [n, G]),
                     InputSpec(name: "b", shape: [G])]
        if !zeroState { specs.append(InputSpec(name: "h_prev", shape: [n, H])) }
        if hyper { specs.append(InputSpec(name: "hyper", shape: [n, 3 * G], domain: .positive)) }
        let names = specs.map(\.name)
        func pick(_ x: [Tensor<S>], _ name: String) -> Tensor<S>? { names.firstIndex(of: name).map { x[$0] } }
        func forward(_ x: [Tensor<S>]) throws -> (h: Tensor<S>, gates: Tensor<S>) {
            let h: Tensor<S> = zeros([n, H]), gates: Tensor<S> = zeros([n, G])
            if let hy = pick(x, "hyper") {
                try Kernels.hyperGRUCellForward(hidden: h, gates: gates, inputPreactivation: x[0],
                                                recurrentPreactivation: x[1], hyper: hy, bias: x[2],
                                                previousHidden: pick(x, "h_prev"))
            } else {
                try Kernels.gruCellForward(hidden: h, gates: gates, inputPreactivation: x[0],
                                           recurrentPreactivation: x[1], bias: x[2],
                                           previousHidden: pick(x, "h_prev"))
            }
            return (h, gates)
        }
        return KernelCase(
            inputs: specs,
            forward: { x in [try forward(x).h] },
            backward: { x, g in
                let r = try forward(x)
                let grads: [Tensor<S>] = specs.map { zeros($0.shape) }
                func grad(_ name: String) -> Tensor<S>? { names.firstIndex(of: name).map { grads[$0] } }
                if let hy = pick(x, "hyper") {
                    try Kernels.hyperGRUCellBackward(
                        inputPreactivationGradient: grads[0], recurrentPreactivationGradient: grads[1],
                        hyperGradient: grad("hyper"), biasGradient: grads[2],
                        previousHiddenGradient: grad("h_prev"), hiddenGradient: g[0], gates: r.gates,
                        inputPreactivation: x[0], recurrentPreactivation: x[1], hyper: hy,
                        previousHidden: pick(x, "h_prev"))
                } else {
                    try Kernels.gruCellBackward(
                        inputPreactivationGradient: grads[0], recurrentPreactivationGradient: grads[1],
                        biasGradient: grads[2], previousHiddenGradient: grad("h_prev"), hiddenGradient: g[0],
                        gates: r.gates, recurrentPreactivation: x[1], previousHidden: pick(x, "h_prev"))
                }
                return grads
            })
    }
}

struct HyperScaleCase: KernelCaseBuilder {
    var n: Int, m: Int
    var description: String { "hyper scale n=\(n) m=\(m)" }
    func build<S: KernelScalar>(_: S.Type) -> KernelCase<S> {
        KernelCase(
            inputs: [InputSpec(name: "vv", shape: [n, m]), InputSpec(name: "s", shape: [n, m]),
                     InputSpec(name: "r", shape: [n, m]), InputSpec(name: "b", shape: [m])],
            forward: { x in
                let y: Tensor<S> = zeros([n, m])
                try Kernels.hyperScaleForward(output: y, product: x[0], scale: x[1], shift: x[2], bias: x[3])
                return [y]
            },
            backward: { x, g in
                let grads: [Tensor<S>] = [zeros([n, m]), zeros([n, m]), zeros([n, m]), zeros([m])]
                try Kernels.hyperScaleBackward(productGradient: grads[0], scaleGradient: grads[1],
                                               shiftGradient: grads[2], biasGradient: grads[3],
                                               outputGradient: g[0], product: x[0], scale: x[1])
                return grads
            })
    }
}

/// A particle's incremental log weight from its three densities; `klWeight` below 1 is the KL
/// warm-up's surrogate (the weighted kernels), 1 the bound's own kernels.
struct LogAlphaCase: KernelCaseBuilder {
    var n: Int, klWeight: Double
    var description: String { "log alpha n=\(n) klWeight=\(klWeight)" }
    func build<S: KernelScalar>(_: S.Type) -> KernelCase<S> {
        KernelCase(
            inputs: [InputSpec(name: "log_prior", shape: [n]), InputSpec(name: "log_lik", shape: [n]),
                     InputSpec(name: "log_q", shape: [n])],
            forward: { x in
                let y: Tensor<S> = zeros([n])
                try Kernels.logAlphaForward(logAlpha: y, logPrior: x[0], logLikelihood: x[1], logProposal: x[2],
                                            klWeight: S(klWeight))
                return [y]
            },
            backward: { _, g in
                let grads: [Tensor<S>] = [zeros([n]), zeros([n]), zeros([n])]
                try Kernels.logAlphaBackward(logPriorGradient: grads[0], logLikelihoodGradient: grads[1],
                                             logProposalGradient: grads[2], logAlphaGradient: g[0],
                                             klWeight: S(klWeight))
                return grads
            })
    }
}

/// The sigma head; with a floor, raw values are spread so that some sit well below it (the
/// floor is active there, gradient 0) and some well above.
struct GaussianSigmaCase: KernelCaseBuilder {
    var n: Int, d: Int, floor: Double
    var description: String { "gaussian sigma n=\(n) d=\(d) floor=\(floor)" }
    func build<S: KernelScalar>(_: S.Type) -> KernelCase<S> {
        KernelCase(
            inputs: [InputSpec(name: "raw", shape: [n, d], domain: .scaled(3))],
            forward: { x in
                let s: Tensor<S> = zeros([n, d])
                try Kernels.gaussianSigmaForward(sigma: s, raw: x[0], floor: S(floor))
                return [s]
            },
            backward: { x, g in
                let dr: Tensor<S> = zeros([n, d])
                try Kernels.gaussianSigmaBackward(rawGradient: dr, sigmaGradient: g[0], raw: x[0], floor: S(floor))
                return [dr]
            })
    }
}

struct GaussianLogPDFCase: KernelCaseBuilder {
    var n: Int, d: Int
    var description: String { "gaussian logpdf n=\(n) d=\(d)" }
    func build<S: KernelScalar>(_: S.Type) -> KernelCase<S> {
        KernelCase(
            inputs: [InputSpec(name: "x", shape: [n, d]), InputSpec(name: "mu", shape: [n, d]),
                     InputSpec(name: "sigma", shape: [n, d], domain: .positive)],
            forward: { x in
                let lp: Tensor<S> = zeros([n])
                try Kernels.gaussianLogPDFForward(logDensity: lp, x: x[0], mean: x[1], sigma: x[2])
                return [lp]
            },
            backward: { x, g in
                let grads: [Tensor<S>] = [zeros([n, d]), zeros([n, d]), zeros([n, d])]
                try Kernels.gaussianLogPDFBackward(xGradient: grads[0], meanGradient: grads[1],
                                                   sigmaGradient: grads[2], logDensityGradient: g[0],
                                                   x: x[0], mean: x[1], sigma: x[2])
                return grads
            })
    }
}

struct GaussianSampleCase: KernelCaseBuilder {
    var n: Int, d: Int
    var description: String { "gaussian sample n=\(n) d=\(d)" }
    func build<S: KernelScalar>(_: S.Type) -> KernelCase<S> {
        KernelCase(
            inputs: [InputSpec(name: "mu", shape: [n, d]), InputSpec(name: "sigma", shape: [n, d], domain: .positive),
                     InputSpec(name: "eps", shape: [n, d], differentiable: false)],
            forward: { x in
                let z: Tensor<S> = zeros([n, d])
                try Kernels.gaussianSampleForward(sample: z, mean: x[0], sigma: x[1], noise: x[2])
                return [z]
            },
            backward: { x, g in
                let dmu: Tensor<S> = zeros([n, d]), ds: Tensor<S> = zeros([n, d])
                try Kernels.gaussianSampleBackward(meanGradient: dmu, sigmaGradient: ds, sampleGradient: g[0],
                                                   noise: x[2])
                return [dmu, ds, nil]
            })
    }
}

struct GaussianKLCase: KernelCaseBuilder {
    var n: Int, d: Int
    var description: String { "gaussian kl n=\(n) d=\(d)" }
    func build<S: KernelScalar>(_: S.Type) -> KernelCase<S> {
        KernelCase(
            inputs: [InputSpec(name: "mu_q", shape: [n, d]), InputSpec(name: "sigma_q", shape: [n, d], domain: .positive),
                     InputSpec(name: "mu_p", shape: [n, d]), InputSpec(name: "sigma_p", shape: [n, d], domain: .positive)],
            forward: { x in
                let kl: Tensor<S> = zeros([n])
                try Kernels.gaussianKLForward(kl: kl, meanQ: x[0], sigmaQ: x[1], meanP: x[2], sigmaP: x[3])
                return [kl]
            },
            backward: { x, g in
                let grads: [Tensor<S>] = (0..<4).map { _ in zeros([n, d]) }
                try Kernels.gaussianKLBackward(meanQGradient: grads[0], sigmaQGradient: grads[1],
                                               meanPGradient: grads[2], sigmaPGradient: grads[3], klGradient: g[0],
                                               meanQ: x[0], sigmaQ: x[1], meanP: x[2], sigmaP: x[3])
                return grads
            })
    }
}

struct BernoulliCase: KernelCaseBuilder {
    var n: Int, d: Int, logitScale: Double = 2
    var description: String { "bernoulli n=\(n) d=\(d) logit scale=\(logitScale)" }
    func build<S: KernelScalar>(_: S.Type) -> KernelCase<S> {
        KernelCase(
            inputs: [InputSpec(name: "x", shape: [n, d], domain: .binary, differentiable: false),
                     InputSpec(name: "logits", shape: [n, d], domain: .scaled(logitScale))],
            forward: { x in
                let lp: Tensor<S> = zeros([n])
                try Kernels.bernoulliLogPMFForward(logProbability: lp, x: x[0], logits: x[1])
                return [lp]
            },
            backward: { x, g in
                let dl: Tensor<S> = zeros([n, d])
                try Kernels.bernoulliLogPMFBackward(logitsGradient: dl, logProbabilityGradient: g[0], x: x[0],
                                                    logits: x[1])
                return [nil, dl]
            })
    }
}

/// Gather with fixed ancestors (some parents chosen several times, some never), as after a
/// resampling of `blocks` sequences with `particles` each.
struct GatherCase: KernelCaseBuilder {
    var ancestors: [Int32], width: Int
    var description: String { "gather rows \(ancestors) width=\(width)" }
    func build<S: KernelScalar>(_: S.Type) -> KernelCase<S> {
        let n = ancestors.count
        return KernelCase(
            inputs: [InputSpec(name: "parents", shape: [n, width])],
            forward: { x in
                let y: Tensor<S> = zeros([n, width])
                try Kernels.gatherRowsForward(output: y, input: x[0], ancestors: ancestors)
                return [y]
            },
            backward: { x, g in
                let dx: Tensor<S> = zeros([n, width])
                try Kernels.gatherRowsBackward(inputGradient: dx, outputGradient: g[0], ancestors: ancestors)
                return [dx]
            })
    }
}

struct LogSumExpCase: KernelCaseBuilder {
    var b: Int, k: Int, scale: Double = 3
    var description: String { "logsumexp b=\(b) k=\(k) scale=\(scale)" }
    func build<S: KernelScalar>(_: S.Type) -> KernelCase<S> {
        KernelCase(
            inputs: [InputSpec(name: "w", shape: [b, k], domain: .scaled(scale))],
            forward: { x in
                let l: Tensor<S> = zeros([b])
                try Kernels.logSumExpForward(result: l, weights: x[0])
                return [l]
            },
            backward: { x, g in
                let l: Tensor<S> = zeros([b]), dw: Tensor<S> = zeros([b, k])
                try Kernels.logSumExpForward(result: l, weights: x[0])
                try Kernels.logSumExpBackward(weightsGradient: dw, resultGradient: g[0], weights: x[0], result: l)
                return [dw]
            })
    }
}

/// The fused proposal pass (mean, sigma, draw and density at once), checked against the
/// unfused kernels' backward chain: d log q through its partials, then the draw, then sigma.
struct GaussianProposalCase: KernelCaseBuilder {
    var n: Int, d: Int, floor: Double = 0
    var description: String { "gaussian proposal n=\(n) d=\(d) floor=\(floor)" }
    func build<S: KernelScalar>(_: S.Type) -> KernelCase<S> {
        KernelCase(
            inputs: [InputSpec(name: "mu_p", shape: [n, d]), InputSpec(name: "dmu", shape: [n, d]),
                     InputSpec(name: "raw", shape: [n, d], domain: floor > 0 ? .scaled(3) : .normal),
                     InputSpec(name: "eps", shape: [n, d], differentiable: false)],
            forward: { x in
                let mean: Tensor<S> = zeros([n, d]), sigma: Tensor<S> = zeros([n, d]), z: Tensor<S> = zeros([n, d])
                let logq: Tensor<S> = zeros([n])
                try Kernels.gaussianProposalForward(mean: mean, sigma: sigma, sample: z, logDensity: logq,
                                                    priorMean: x[0], residual: x[1], raw: x[2], noise: x[3],
                                                    floor: S(floor))
                return [mean, sigma, z, logq]
            },
            backward: { x, g in
                let mean: Tensor<S> = zeros([n, d]), sigma: Tensor<S> = zeros([n, d]), z: Tensor<S> = zeros([n, d])
                try Kernels.gaussianProposalForward(mean: mean, sigma: sigma, sample: z, logDensity: zeros([n]),
                                                    priorMean: x[0], residual: x[1], raw: x[2], noise: x[3],
                                                    floor: S(floor))
                // d mean, d sigma and d z start from the outputs' own gradients
                let dMean = try Tensor<S>(shape: [n, d], values: g[0].values)
                let dSigma = try Tensor<S>(shape: [n, d], values: g[1].values)
                let dz = try Tensor<S>(shape: [n, d], values: g[2].values)
                try Kernels.gaussianLogPDFBackward(xGradient: dz, meanGradient: dMean, sigmaGradient: dSigma,
                                                   logDensityGradient: g[3], x: z, mean: mean, sigma: sigma)
                try Kernels.gaussianSampleBackward(meanGradient: dMean, sigmaGradient: dSigma, sampleGradient: dz,
                                                   noise: x[3])
                let dRaw: Tensor<S> = zeros([n, d])
                try Kernels.gaussianSigmaBackward(rawGradient: dRaw, sigmaGradient: dSigma, raw: x[2], floor: S(floor))
                return [dMean, try Tensor(shape: [n, d], values: dMean.values), dRaw, nil]
            })
    }
}

/// A head's fused sigma and density at a shared frame (`xRows`: row i reads frame xRows[i]),
/// checked against the unfused backward (density partials, then sigma).
struct GaussianHeadLogPDFCase: KernelCaseBuilder {
    var n: Int, d: Int, xRows: [Int32]?, frames: Int, floor: Double = 0
    var description: String { "gaussian head logpdf n=\(n) d=\(d) rows=\(xRows.map { "\($0)" } ?? "own") floor=\(floor)" }
    func build<S: KernelScalar>(_: S.Type) -> KernelCase<S> {
        KernelCase(
            inputs: [InputSpec(name: "x", shape: [xRows == nil ? n : frames, d], differentiable: false),
                     InputSpec(name: "mu", shape: [n, d]),
                     // without a floor, raw ~ N(0, 1) keeps sigma away from 0 (finite differences)
                     InputSpec(name: "raw", shape: [n, d], domain: floor > 0 ? .scaled(3) : .normal)],
            forward: { x in
                let sigma: Tensor<S> = zeros([n, d]), lp: Tensor<S> = zeros([n])
                try Kernels.gaussianHeadLogPDFForward(sigma: sigma, logDensity: lp, x: x[0], xRows: xRows, mean: x[1],
                                                      raw: x[2], floor: S(floor))
                return [sigma, lp]
            },
            backward: { x, g in
                let sigma: Tensor<S> = zeros([n, d])
                try Kernels.gaussianHeadLogPDFForward(sigma: sigma, logDensity: zeros([n]), x: x[0], xRows: xRows,
                                                      mean: x[1], raw: x[2], floor: S(floor))
                // the frame each row read, as its own row (the unfused backward reads row i)
                let rowsRead: Tensor<S> = zeros([n, d])
                for i in 0..<n { for j in 0..<d { rowsRead[i * d + j] = x[0][Int(xRows?[i] ?? Int32(i)) * d + j] } }
                let dMu: Tensor<S> = zeros([n, d]), dRaw: Tensor<S> = zeros([n, d])
                let dSigma = try Tensor<S>(shape: [n, d], values: g[0].values)
                try Kernels.gaussianLogPDFBackward(xGradient: nil, meanGradient: dMu, sigmaGradient: dSigma,
                                                   logDensityGradient: g[1], x: rowsRead, mean: x[1], sigma: sigma)
                try Kernels.gaussianSigmaBackward(rawGradient: dRaw, sigmaGradient: dSigma, raw: x[2], floor: S(floor))
                return [nil, dMu, dRaw]
            })
    }
}

/// The Bernoulli likelihood of frames shared by several rows (row i reads frame xRows[i]).
struct SharedFrameBernoulliCase: KernelCaseBuilder {
    var xRows: [Int32], frames: Int, d: Int
    var description: String { "bernoulli shared frames rows=\(xRows) d=\(d)" }
    func build<S: KernelScalar>(_: S.Type) -> KernelCase<S> {
        let n = xRows.count
        return KernelCase(
            inputs: [InputSpec(name: "x", shape: [frames, d], domain: .binary, differentiable: false),
                     InputSpec(name: "logits", shape: [n, d])],
            forward: { x in
                let lp: Tensor<S> = zeros([n])
                try Kernels.bernoulliLogPMFForward(logProbability: lp, x: x[0], xRows: xRows, logits: x[1])
                return [lp]
            },
            backward: { x, g in
                let dl: Tensor<S> = zeros([n, d])
                try Kernels.bernoulliLogPMFBackward(logitsGradient: dl, logProbabilityGradient: g[0], x: x[0],
                                                    xRows: xRows, logits: x[1])
                return [nil, dl]
            })
    }
}

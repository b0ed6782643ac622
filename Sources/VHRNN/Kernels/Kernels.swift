/// The public, shape-checked face of the C kernel core.
///
/// Each function checks every tensor's shape against the others and throws a ``ShapeError``
/// naming the kernel and argument on a mismatch, then calls the C kernel of the scalar's
/// precision. Conventions follow the C core (vh_kernels.h): `n` rows (sequences × particles);
/// backward functions **accumulate** into the gradient tensors they are given (zero them
/// first); an optional gradient left `nil` is not computed.
///
/// These entry points serve tests, benchmarks and users who want single kernels; the model's
/// time loop calls the same C kernels through pointers into preallocated arenas.
public enum Kernels {}

/// Shape validation for one kernel call.
private struct Check {
    let kernel: String

    func shape<S>(_ t: Tensor<S>?, _ name: String, _ expected: [Int]) throws {
        guard let t else { return }
        guard t.shape == expected else {
            throw ShapeError(kernel: kernel, argument: name, expected: "\(expected)", got: "\(t.shape)")
        }
    }

    /// (rows, columns) of a matrix argument that defines the sizes of the others.
    func matrix<S>(_ t: Tensor<S>, _ name: String) throws -> (Int, Int) {
        guard t.shape.count == 2 else {
            throw ShapeError(kernel: kernel, argument: name, expected: "a matrix (rows, columns)",
                             got: "\(t.shape)")
        }
        return (t.shape[0], t.shape[1])
    }

    func divisible(_ columns: Int, by parts: Int, _ name: String) throws -> Int {
        guard columns % parts == 0, columns > 0 else {
            throw ShapeError(kernel: kernel, argument: name,
                             expected: "a positive multiple of \(parts) columns", got: "\(columns)")
        }
        return columns / parts
    }
}

// MARK: - Linear layer and activations

extension Kernels {
    /// `output (n, out) = input (n, in) · weightᵀ + bias`, with `weight` `(out, in)`.
    /// With `accumulate`, adds into `output` instead of overwriting it.
    public static func linearForward<S: KernelScalar>(
        output: Tensor<S>, input: Tensor<S>, weight: Tensor<S>, bias: Tensor<S>?,
        accumulate: Bool = false
    ) throws {
        let c = Check(kernel: "linearForward")
        let (n, inDim) = try c.matrix(input, "input")
        let (outDim, _) = try c.matrix(weight, "weight")
        try c.shape(weight, "weight", [outDim, inDim])
        try c.shape(bias, "bias", [outDim])
        try c.shape(output, "output", [n, outDim])
        S.linearForward(output.pointer, input.constPointer, weight.constPointer, bias?.constPointer,
                        n: n, inDim: inDim, outDim: outDim, wStride: inDim, accumulate: accumulate)
    }

    /// Accumulates `dInput += dOutput · W`, `dWeight += dOutputᵀ · input`, `dBias += Σ dOutput`.
    public static func linearBackward<S: KernelScalar>(
        inputGradient: Tensor<S>?, weightGradient: Tensor<S>?, biasGradient: Tensor<S>?,
        outputGradient: Tensor<S>, input: Tensor<S>, weight: Tensor<S>
    ) throws {
        let c = Check(kernel: "linearBackward")
        let (n, inDim) = try c.matrix(input, "input")
        let (outDim, _) = try c.matrix(weight, "weight")
        try c.shape(weight, "weight", [outDim, inDim])
        try c.shape(outputGradient, "outputGradient", [n, outDim])
        try c.shape(inputGradient, "inputGradient", [n, inDim])
        try c.shape(weightGradient, "weightGradient", [outDim, inDim])
        try c.shape(biasGradient, "biasGradient", [outDim])
        S.linearBackward(inputGradient?.pointer, weightGradient?.pointer, biasGradient?.pointer,
                         outputGradient.constPointer, input.constPointer, weight.constPointer,
                         n: n, inDim: inDim, outDim: outDim, wStride: inDim)
    }

    /// `output = max(input, 0)` elementwise.
    public static func reluForward<S: KernelScalar>(output: Tensor<S>, input: Tensor<S>) throws {
        try Check(kernel: "reluForward").shape(output, "output", input.shape)
        S.reluForward(output.pointer, input.constPointer, count: input.count)
    }

    /// `inputGradient += outputGradient · [output > 0]`.
    public static func reluBackward<S: KernelScalar>(
        inputGradient: Tensor<S>, outputGradient: Tensor<S>, output: Tensor<S>
    ) throws {
        let c = Check(kernel: "reluBackward")
        try c.shape(outputGradient, "outputGradient", output.shape)
        try c.shape(inputGradient, "inputGradient", output.shape)
        S.reluBackward(inputGradient.pointer, outputGradient.constPointer, output.constPointer,
                       count: output.count)
    }
}

// MARK: - Recurrent cells

extension Kernels {
    /// LSTM cell (TF gate order i, j, f, o; forget bias +1 at run time):
    /// `a = Wy + Uh + b`, `c = f·c_prev + i·j`, `h = o·tanh(c)`.
    /// - Parameters:
    ///   - hidden, cell: `(n, H)` outputs.
    ///   - gates: `(n, 4H)` cache for the backward pass.
    ///   - inputPreactivation: `W y`, `(n, 4H)`.
    ///   - recurrentPreactivation: `U h_prev`, `(n, 4H)`, or nil if already added to the first.
    ///   - bias: `(4H)` or nil. previousCell: `(n, H)` or nil for a zero state.
    public static func lstmCellForward<S: KernelScalar>(
        hidden: Tensor<S>, cell: Tensor<S>, gates: Tensor<S>, inputPreactivation: Tensor<S>,
        recurrentPreactivation: Tensor<S>?, bias: Tensor<S>?, previousCell: Tensor<S>?
    ) throws {
        let c = Check(kernel: "lstmCellForward")
        let (n, g) = try c.matrix(inputPreactivation, "inputPreactivation")
        let h = try c.divisible(g, by: 4, "inputPreactivation")
        try c.shape(recurrentPreactivation, "recurrentPreactivation", [n, g])
        try c.shape(bias, "bias", [g])
        try c.shape(previousCell, "previousCell", [n, h])
        try c.shape(hidden, "hidden", [n, h])
        try c.shape(cell, "cell", [n, h])
        try c.shape(gates, "gates", [n, g])
        S.lstmCellForward(hidden.pointer, cell.pointer, gates.pointer, inputPreactivation.constPointer,
                          recurrentPreactivation?.constPointer, bias?.constPointer,
                          previousCell?.constPointer, n: n, hidden: h)
    }

    /// Backward of ``lstmCellForward``: accumulates into the pre-activation, bias and
    /// previous-cell gradients given `hiddenGradient` (and `cellGradient` from the future).
    public static func lstmCellBackward<S: KernelScalar>(
        inputPreactivationGradient: Tensor<S>?, recurrentPreactivationGradient: Tensor<S>?,
        biasGradient: Tensor<S>?, previousCellGradient: Tensor<S>?,
        hiddenGradient: Tensor<S>, cellGradient: Tensor<S>?, gates: Tensor<S>, cell: Tensor<S>,
        previousCell: Tensor<S>?
    ) throws {
        let c = Check(kernel: "lstmCellBackward")
        let (n, g) = try c.matrix(gates, "gates")
        let h = try c.divisible(g, by: 4, "gates")
        for (t, name) in [(hiddenGradient, "hiddenGradient"), (cell, "cell")] { try c.shape(t, name, [n, h]) }
        try c.shape(cellGradient, "cellGradient", [n, h])
        try c.shape(previousCell, "previousCell", [n, h])
        try c.shape(previousCellGradient, "previousCellGradient", [n, h])
        try c.shape(inputPreactivationGradient, "inputPreactivationGradient", [n, g])
        try c.shape(recurrentPreactivationGradient, "recurrentPreactivationGradient", [n, g])
        try c.shape(biasGradient, "biasGradient", [g])
        S.lstmCellBackward(inputPreactivationGradient?.pointer, recurrentPreactivationGradient?.pointer,
                           biasGradient?.pointer, previousCellGradient?.pointer,
                           hiddenGradient.constPointer, cellGradient?.constPointer, gates.constPointer,
                           cell.constPointer, previousCell?.constPointer, n: n, hidden: h)
    }

    /// Hadamard-scaled LSTM cell (VHRNN's g, DESIGN §3):
    /// `a = d_x·(Wy) + d_h·(Uh) + b_dyn + b`, then as ``lstmCellForward``.
    /// `hyper` is `(n, 12H)`: per row `[d_x (4H) | d_h (4H) | b_dyn (4H)]`.
    public static func hyperLSTMCellForward<S: KernelScalar>(
        hidden: Tensor<S>, cell: Tensor<S>, gates: Tensor<S>, inputPreactivation: Tensor<S>,
        recurrentPreactivation: Tensor<S>?, hyper: Tensor<S>, bias: Tensor<S>?,
        previousCell: Tensor<S>?
    ) throws {
        let c = Check(kernel: "hyperLSTMCellForward")
        let (n, g) = try c.matrix(inputPreactivation, "inputPreactivation")
        let h = try c.divisible(g, by: 4, "inputPreactivation")
        try c.shape(recurrentPreactivation, "recurrentPreactivation", [n, g])
        try c.shape(hyper, "hyper", [n, 3 * g])
        try c.shape(bias, "bias", [g])
        try c.shape(previousCell, "previousCell", [n, h])
        try c.shape(hidden, "hidden", [n, h])
        try c.shape(cell, "cell", [n, h])
        try c.shape(gates, "gates", [n, g])
        S.hyperLstmCellForward(hidden.pointer, cell.pointer, gates.pointer,
                               inputPreactivation.constPointer, recurrentPreactivation?.constPointer,
                               hyper.constPointer, bias?.constPointer, previousCell?.constPointer,
                               n: n, hidden: h)
    }

    /// Backward of ``hyperLSTMCellForward``, to `Wy`, `Uh`, the hyper outputs, `b` and `c_prev`.
    public static func hyperLSTMCellBackward<S: KernelScalar>(
        inputPreactivationGradient: Tensor<S>?, recurrentPreactivationGradient: Tensor<S>?,
        hyperGradient: Tensor<S>?, biasGradient: Tensor<S>?, previousCellGradient: Tensor<S>?,
        hiddenGradient: Tensor<S>, cellGradient: Tensor<S>?, gates: Tensor<S>, cell: Tensor<S>,
        previousCell: Tensor<S>?, inputPreactivation: Tensor<S>, recurrentPreactivation: Tensor<S>?,
        hyper: Tensor<S>
    ) throws {
        let c = Check(kernel: "hyperLSTMCellBackward")
        let (n, g) = try c.matrix(gates, "gates")
        let h = try c.divisible(g, by: 4, "gates")
        try c.shape(hiddenGradient, "hiddenGradient", [n, h])
        try c.shape(cell, "cell", [n, h])
        try c.shape(cellGradient, "cellGradient", [n, h])
        try c.shape(previousCell, "previousCell", [n, h])
        try c.shape(previousCellGradient, "previousCellGradient", [n, h])
        try c.shape(inputPreactivation, "inputPreactivation", [n, g])
        try c.shape(recurrentPreactivation, "recurrentPreactivation", [n, g])
        try c.shape(inputPreactivationGradient, "inputPreactivationGradient", [n, g])
        try c.shape(recurrentPreactivationGradient, "recurrentPreactivationGradient", [n, g])
        try c.shape(hyper, "hyper", [n, 3 * g])
        try c.shape(hyperGradient, "hyperGradient", [n, 3 * g])
        try c.shape(biasGradient, "biasGradient", [g])
        S.hyperLstmCellBackward(inputPreactivationGradient?.pointer,
                                recurrentPreactivationGradient?.pointer, hyperGradient?.pointer,
                                biasGradient?.pointer, previousCellGradient?.pointer,
                                hiddenGradient.constPointer, cellGradient?.constPointer,
                                gates.constPointer, cell.constPointer, previousCell?.constPointer,
                                inputPreactivation.constPointer, recurrentPreactivation?.constPointer,
                                hyper.constPointer, n: n, hidden: h)
    }

    /// GRU cell (gates r, u, n; reset applied to `U h`):
    /// `h = (1 - u)·tanh(Wx_n + b_n + r·Uh_n) + u·h_prev`.
    /// `inputPreactivation` `W x` and `recurrentPreactivation` `U h_prev` are `(n, 3H)`.
    public static func gruCellForward<S: KernelScalar>(
        hidden: Tensor<S>, gates: Tensor<S>, inputPreactivation: Tensor<S>,
        recurrentPreactivation: Tensor<S>, bias: Tensor<S>?, previousHidden: Tensor<S>?
    ) throws {
        let c = Check(kernel: "gruCellForward")
        let (n, g) = try c.matrix(inputPreactivation, "inputPreactivation")
        let h = try c.divisible(g, by: 3, "inputPreactivation")
        try c.shape(recurrentPreactivation, "recurrentPreactivation", [n, g])
        try c.shape(bias, "bias", [g])
        try c.shape(previousHidden, "previousHidden", [n, h])
        try c.shape(hidden, "hidden", [n, h])
        try c.shape(gates, "gates", [n, g])
        S.gruCellForward(hidden.pointer, gates.pointer, inputPreactivation.constPointer,
                         recurrentPreactivation.constPointer, bias?.constPointer,
                         previousHidden?.constPointer, n: n, hidden: h)
    }

    /// Backward of ``gruCellForward``; `previousHiddenGradient` receives the direct path
    /// `u·dh` (the path through `U` is the caller's linear backward).
    public static func gruCellBackward<S: KernelScalar>(
        inputPreactivationGradient: Tensor<S>?, recurrentPreactivationGradient: Tensor<S>?,
        biasGradient: Tensor<S>?, previousHiddenGradient: Tensor<S>?, hiddenGradient: Tensor<S>,
        gates: Tensor<S>, recurrentPreactivation: Tensor<S>, previousHidden: Tensor<S>?
    ) throws {
        let c = Check(kernel: "gruCellBackward")
        let (n, g) = try c.matrix(gates, "gates")
        let h = try c.divisible(g, by: 3, "gates")
        try c.shape(hiddenGradient, "hiddenGradient", [n, h])
        try c.shape(previousHidden, "previousHidden", [n, h])
        try c.shape(previousHiddenGradient, "previousHiddenGradient", [n, h])
        try c.shape(recurrentPreactivation, "recurrentPreactivation", [n, g])
        try c.shape(inputPreactivationGradient, "inputPreactivationGradient", [n, g])
        try c.shape(recurrentPreactivationGradient, "recurrentPreactivationGradient", [n, g])
        try c.shape(biasGradient, "biasGradient", [g])
        S.gruCellBackward(inputPreactivationGradient?.pointer, recurrentPreactivationGradient?.pointer,
                          biasGradient?.pointer, previousHiddenGradient?.pointer,
                          hiddenGradient.constPointer, gates.constPointer,
                          recurrentPreactivation.constPointer, previousHidden?.constPointer,
                          n: n, hidden: h)
    }

    /// Hadamard-scaled GRU cell (VHRNN's GRU variant): every `W x` block scaled by `d_x`,
    /// every `U h` block by `d_h`, `b_dyn` added next to `b`. `hyper` is `(n, 9H)`:
    /// `[d_x (3H) | d_h (3H) | b_dyn (3H)]`.
    public static func hyperGRUCellForward<S: KernelScalar>(
        hidden: Tensor<S>, gates: Tensor<S>, inputPreactivation: Tensor<S>,
        recurrentPreactivation: Tensor<S>, hyper: Tensor<S>, bias: Tensor<S>?,
        previousHidden: Tensor<S>?
    ) throws {
        let c = Check(kernel: "hyperGRUCellForward")
        let (n, g) = try c.matrix(inputPreactivation, "inputPreactivation")
        let h = try c.divisible(g, by: 3, "inputPreactivation")
        try c.shape(recurrentPreactivation, "recurrentPreactivation", [n, g])
        try c.shape(hyper, "hyper", [n, 3 * g])
        try c.shape(bias, "bias", [g])
        try c.shape(previousHidden, "previousHidden", [n, h])
        try c.shape(hidden, "hidden", [n, h])
        try c.shape(gates, "gates", [n, g])
        S.hyperGruCellForward(hidden.pointer, gates.pointer, inputPreactivation.constPointer,
                              recurrentPreactivation.constPointer, hyper.constPointer,
                              bias?.constPointer, previousHidden?.constPointer, n: n, hidden: h)
    }

    /// Backward of ``hyperGRUCellForward``.
    public static func hyperGRUCellBackward<S: KernelScalar>(
        inputPreactivationGradient: Tensor<S>?, recurrentPreactivationGradient: Tensor<S>?,
        hyperGradient: Tensor<S>?, biasGradient: Tensor<S>?, previousHiddenGradient: Tensor<S>?,
        hiddenGradient: Tensor<S>, gates: Tensor<S>, inputPreactivation: Tensor<S>,
        recurrentPreactivation: Tensor<S>, hyper: Tensor<S>, previousHidden: Tensor<S>?
    ) throws {
        let c = Check(kernel: "hyperGRUCellBackward")
        let (n, g) = try c.matrix(gates, "gates")
        let h = try c.divisible(g, by: 3, "gates")
        try c.shape(hiddenGradient, "hiddenGradient", [n, h])
        try c.shape(previousHidden, "previousHidden", [n, h])
        try c.shape(previousHiddenGradient, "previousHiddenGradient", [n, h])
        try c.shape(inputPreactivation, "inputPreactivation", [n, g])
        try c.shape(recurrentPreactivation, "recurrentPreactivation", [n, g])
        try c.shape(inputPreactivationGradient, "inputPreactivationGradient", [n, g])
        try c.shape(recurrentPreactivationGradient, "recurrentPreactivationGradient", [n, g])
        try c.shape(hyper, "hyper", [n, 3 * g])
        try c.shape(hyperGradient, "hyperGradient", [n, 3 * g])
        try c.shape(biasGradient, "biasGradient", [g])
        S.hyperGruCellBackward(inputPreactivationGradient?.pointer,
                               recurrentPreactivationGradient?.pointer, hyperGradient?.pointer,
                               biasGradient?.pointer, previousHiddenGradient?.pointer,
                               hiddenGradient.constPointer, gates.constPointer,
                               inputPreactivation.constPointer, recurrentPreactivation.constPointer,
                               hyper.constPointer, previousHidden?.constPointer, n: n, hidden: h)
    }
}

// MARK: - Decoder hyper-scaling

extension Kernels {
    /// `output = scale · product + shift + bias` with `product = V v` (omega's per-layer
    /// modulation of an emission layer). All `(n, m)` except `bias` `(m)`.
    public static func hyperScaleForward<S: KernelScalar>(
        output: Tensor<S>, product: Tensor<S>, scale: Tensor<S>, shift: Tensor<S>, bias: Tensor<S>?
    ) throws {
        let c = Check(kernel: "hyperScaleForward")
        let (n, m) = try c.matrix(product, "product")
        for (t, name) in [(output, "output"), (scale, "scale"), (shift, "shift")] { try c.shape(t, name, [n, m]) }
        try c.shape(bias, "bias", [m])
        S.hyperScaleForward(output.pointer, product.constPointer, scale.constPointer, shift.constPointer,
                            bias?.constPointer, n: n, m: m)
    }

    /// Backward of ``hyperScaleForward`` to all four inputs.
    public static func hyperScaleBackward<S: KernelScalar>(
        productGradient: Tensor<S>?, scaleGradient: Tensor<S>?, shiftGradient: Tensor<S>?,
        biasGradient: Tensor<S>?, outputGradient: Tensor<S>, product: Tensor<S>, scale: Tensor<S>
    ) throws {
        let c = Check(kernel: "hyperScaleBackward")
        let (n, m) = try c.matrix(product, "product")
        try c.shape(scale, "scale", [n, m])
        try c.shape(outputGradient, "outputGradient", [n, m])
        try c.shape(productGradient, "productGradient", [n, m])
        try c.shape(scaleGradient, "scaleGradient", [n, m])
        try c.shape(shiftGradient, "shiftGradient", [n, m])
        try c.shape(biasGradient, "biasGradient", [m])
        S.hyperScaleBackward(productGradient?.pointer, scaleGradient?.pointer, shiftGradient?.pointer,
                             biasGradient?.pointer, outputGradient.constPointer, product.constPointer,
                             scale.constPointer, n: n, m: m)
    }
}

// MARK: - Densities

extension Kernels {
    /// `sigma = max(softplus(raw + 0.5), floor)`, elementwise.
    public static func gaussianSigmaForward<S: KernelScalar>(
        sigma: Tensor<S>, raw: Tensor<S>, floor: S = 0
    ) throws {
        try Check(kernel: "gaussianSigmaForward").shape(sigma, "sigma", raw.shape)
        S.gaussianSigmaForward(sigma.pointer, raw.constPointer, count: raw.count, sigmaMin: floor)
    }

    public static func gaussianSigmaBackward<S: KernelScalar>(
        rawGradient: Tensor<S>, sigmaGradient: Tensor<S>, raw: Tensor<S>, floor: S = 0
    ) throws {
        let c = Check(kernel: "gaussianSigmaBackward")
        try c.shape(rawGradient, "rawGradient", raw.shape)
        try c.shape(sigmaGradient, "sigmaGradient", raw.shape)
        S.gaussianSigmaBackward(rawGradient.pointer, sigmaGradient.constPointer, raw.constPointer,
                                count: raw.count, sigmaMin: floor)
    }

    /// `logDensity (n) = Σ_d log N(x | mean, sigma)` for `(n, d)` inputs.
    public static func gaussianLogPDFForward<S: KernelScalar>(
        logDensity: Tensor<S>, x: Tensor<S>, mean: Tensor<S>, sigma: Tensor<S>
    ) throws {
        let c = Check(kernel: "gaussianLogPDFForward")
        let (n, d) = try c.matrix(x, "x")
        try c.shape(mean, "mean", [n, d])
        try c.shape(sigma, "sigma", [n, d])
        try c.shape(logDensity, "logDensity", [n])
        S.gaussianLogpdfForward(logDensity.pointer, x.constPointer, mean.constPointer,
                                sigma.constPointer, n: n, d: d)
    }

    public static func gaussianLogPDFBackward<S: KernelScalar>(
        xGradient: Tensor<S>?, meanGradient: Tensor<S>?, sigmaGradient: Tensor<S>?,
        logDensityGradient: Tensor<S>, x: Tensor<S>, mean: Tensor<S>, sigma: Tensor<S>
    ) throws {
        let c = Check(kernel: "gaussianLogPDFBackward")
        let (n, d) = try c.matrix(x, "x")
        try c.shape(mean, "mean", [n, d])
        try c.shape(sigma, "sigma", [n, d])
        try c.shape(logDensityGradient, "logDensityGradient", [n])
        try c.shape(xGradient, "xGradient", [n, d])
        try c.shape(meanGradient, "meanGradient", [n, d])
        try c.shape(sigmaGradient, "sigmaGradient", [n, d])
        S.gaussianLogpdfBackward(xGradient?.pointer, meanGradient?.pointer, sigmaGradient?.pointer,
                                 logDensityGradient.constPointer, x.constPointer, mean.constPointer,
                                 sigma.constPointer, n: n, d: d)
    }

    /// Reparameterised sample `z = mean + sigma · noise`.
    public static func gaussianSampleForward<S: KernelScalar>(
        sample: Tensor<S>, mean: Tensor<S>, sigma: Tensor<S>, noise: Tensor<S>
    ) throws {
        let c = Check(kernel: "gaussianSampleForward")
        for (t, name) in [(sample, "sample"), (sigma, "sigma"), (noise, "noise")] { try c.shape(t, name, mean.shape) }
        S.gaussianSampleForward(sample.pointer, mean.constPointer, sigma.constPointer,
                                noise.constPointer, count: mean.count)
    }

    public static func gaussianSampleBackward<S: KernelScalar>(
        meanGradient: Tensor<S>?, sigmaGradient: Tensor<S>?, sampleGradient: Tensor<S>,
        noise: Tensor<S>
    ) throws {
        let c = Check(kernel: "gaussianSampleBackward")
        try c.shape(sampleGradient, "sampleGradient", noise.shape)
        try c.shape(meanGradient, "meanGradient", noise.shape)
        try c.shape(sigmaGradient, "sigmaGradient", noise.shape)
        S.gaussianSampleBackward(meanGradient?.pointer, sigmaGradient?.pointer,
                                 sampleGradient.constPointer, noise.constPointer, count: noise.count)
    }

    /// `kl (n) = Σ_d KL(N(meanQ, sigmaQ) ‖ N(meanP, sigmaP))`.
    public static func gaussianKLForward<S: KernelScalar>(
        kl: Tensor<S>, meanQ: Tensor<S>, sigmaQ: Tensor<S>, meanP: Tensor<S>, sigmaP: Tensor<S>
    ) throws {
        let c = Check(kernel: "gaussianKLForward")
        let (n, d) = try c.matrix(meanQ, "meanQ")
        for (t, name) in [(sigmaQ, "sigmaQ"), (meanP, "meanP"), (sigmaP, "sigmaP")] { try c.shape(t, name, [n, d]) }
        try c.shape(kl, "kl", [n])
        S.gaussianKlForward(kl.pointer, meanQ.constPointer, sigmaQ.constPointer, meanP.constPointer,
                            sigmaP.constPointer, n: n, d: d)
    }

    public static func gaussianKLBackward<S: KernelScalar>(
        meanQGradient: Tensor<S>?, sigmaQGradient: Tensor<S>?, meanPGradient: Tensor<S>?,
        sigmaPGradient: Tensor<S>?, klGradient: Tensor<S>, meanQ: Tensor<S>, sigmaQ: Tensor<S>,
        meanP: Tensor<S>, sigmaP: Tensor<S>
    ) throws {
        let c = Check(kernel: "gaussianKLBackward")
        let (n, d) = try c.matrix(meanQ, "meanQ")
        for (t, name) in [(sigmaQ, "sigmaQ"), (meanP, "meanP"), (sigmaP, "sigmaP")] { try c.shape(t, name, [n, d]) }
        for (t, name) in [(meanQGradient, "meanQGradient"), (sigmaQGradient, "sigmaQGradient"),
                          (meanPGradient, "meanPGradient"), (sigmaPGradient, "sigmaPGradient")] {
            try c.shape(t, name, [n, d])
        }
        try c.shape(klGradient, "klGradient", [n])
        S.gaussianKlBackward(meanQGradient?.pointer, sigmaQGradient?.pointer, meanPGradient?.pointer,
                             sigmaPGradient?.pointer, klGradient.constPointer, meanQ.constPointer,
                             sigmaQ.constPointer, meanP.constPointer, sigmaP.constPointer, n: n, d: d)
    }

    /// `logProbability (n) = Σ_d [x·l − softplus(l)]` for 0/1 targets `x` and logits `l`.
    public static func bernoulliLogPMFForward<S: KernelScalar>(
        logProbability: Tensor<S>, x: Tensor<S>, logits: Tensor<S>
    ) throws {
        let c = Check(kernel: "bernoulliLogPMFForward")
        let (n, d) = try c.matrix(logits, "logits")
        try c.shape(x, "x", [n, d])
        try c.shape(logProbability, "logProbability", [n])
        S.bernoulliLogpmfForward(logProbability.pointer, x.constPointer, logits.constPointer, n: n, d: d)
    }

    public static func bernoulliLogPMFBackward<S: KernelScalar>(
        logitsGradient: Tensor<S>, logProbabilityGradient: Tensor<S>, x: Tensor<S>, logits: Tensor<S>
    ) throws {
        let c = Check(kernel: "bernoulliLogPMFBackward")
        let (n, d) = try c.matrix(logits, "logits")
        try c.shape(x, "x", [n, d])
        try c.shape(logitsGradient, "logitsGradient", [n, d])
        try c.shape(logProbabilityGradient, "logProbabilityGradient", [n])
        S.bernoulliLogpmfBackward(logitsGradient.pointer, logProbabilityGradient.constPointer,
                                  x.constPointer, logits.constPointer, n: n, d: d)
    }
}

// MARK: - Particles

/// An ancestor index outside the parent rows was passed to a gather.
public struct AncestorIndexError: Error, CustomStringConvertible, Equatable, Sendable {
    public var index: Int32
    public var parentRows: Int
    public var description: String {
        "gatherRows: ancestor index \(index) is outside the \(parentRows) parent rows"
    }
}

extension Kernels {
    /// `output[i] = input[ancestors[i]]` row by row (`output` `(n, w)`, `input` `(m, w)`).
    public static func gatherRowsForward<S: KernelScalar>(
        output: Tensor<S>, input: Tensor<S>, ancestors: [Int32]
    ) throws {
        let c = Check(kernel: "gatherRowsForward")
        let (m, w) = try c.matrix(input, "input")
        try c.shape(output, "output", [ancestors.count, w])
        try checkAncestors(ancestors, parentRows: m)
        _ = ancestors.withUnsafeBufferPointer {
            S.gatherRowsForward(output.pointer, input.constPointer, $0.baseAddress, n: ancestors.count,
                                inRows: m, width: w)
        }
    }

    /// Scatter-add: `inputGradient[ancestors[i]] += outputGradient[i]`.
    public static func gatherRowsBackward<S: KernelScalar>(
        inputGradient: Tensor<S>, outputGradient: Tensor<S>, ancestors: [Int32]
    ) throws {
        let c = Check(kernel: "gatherRowsBackward")
        let (m, w) = try c.matrix(inputGradient, "inputGradient")
        try c.shape(outputGradient, "outputGradient", [ancestors.count, w])
        try checkAncestors(ancestors, parentRows: m)
        _ = ancestors.withUnsafeBufferPointer {
            S.gatherRowsBackward(inputGradient.pointer, outputGradient.constPointer, $0.baseAddress,
                                 n: ancestors.count, inRows: m, width: w)
        }
    }

    private static func checkAncestors(_ ancestors: [Int32], parentRows: Int) throws {
        if let bad = ancestors.first(where: { $0 < 0 || Int($0) >= parentRows }) {
            throw AncestorIndexError(index: bad, parentRows: parentRows)
        }
    }

    /// `result (b) = log Σ_k exp(weights[b, k])`.
    public static func logSumExpForward<S: KernelScalar>(result: Tensor<S>, weights: Tensor<S>) throws {
        let c = Check(kernel: "logSumExpForward")
        let (b, k) = try c.matrix(weights, "weights")
        try c.shape(result, "result", [b])
        S.logsumexpForward(result.pointer, weights.constPointer, b: b, k: k)
    }

    /// `weightsGradient += resultGradient · softmax(weights)` per row.
    public static func logSumExpBackward<S: KernelScalar>(
        weightsGradient: Tensor<S>, resultGradient: Tensor<S>, weights: Tensor<S>, result: Tensor<S>
    ) throws {
        let c = Check(kernel: "logSumExpBackward")
        let (b, k) = try c.matrix(weights, "weights")
        try c.shape(weightsGradient, "weightsGradient", [b, k])
        try c.shape(resultGradient, "resultGradient", [b])
        try c.shape(result, "result", [b])
        S.logsumexpBackward(weightsGradient.pointer, resultGradient.constPointer, weights.constPointer,
                            result.constPointer, b: b, k: k)
    }

    /// Log effective sample size per row: `2·lse(w) − lse(2w)`, computed by the filter's own
    /// ``ResamplingCriterion/logEffectiveSampleSize(logWeights:)`` (in `Double`, with its
    /// conventions for `-inf` and NaN weights).
    public static func logEffectiveSampleSize<S: KernelScalar>(result: Tensor<S>, weights: Tensor<S>) throws {
        let c = Check(kernel: "logEffectiveSampleSize")
        let (b, k) = try c.matrix(weights, "weights")
        try c.shape(result, "result", [b])
        for row in 0..<b {
            let logESS = ResamplingCriterion.logEffectiveSampleSize(
                logWeights: UnsafeBufferPointer(start: weights.constPointer + row * k, count: k))
            result.pointer[row] = S(logESS)
        }
    }
}

// MARK: - Optimiser

extension Kernels {
    /// One Adam step over equally shaped parameter, moment and gradient tensors.
    /// - Parameter step: the 1-based update count (for bias correction).
    public static func adamUpdate<S: KernelScalar>(
        parameters: Tensor<S>, firstMoment: Tensor<S>, secondMoment: Tensor<S>, gradient: Tensor<S>,
        learningRate: S, beta1: S = 0.9, beta2: S = 0.999, epsilon: S = 1e-8, step: Int
    ) throws {
        let c = Check(kernel: "adamUpdate")
        for (t, name) in [(firstMoment, "firstMoment"), (secondMoment, "secondMoment"), (gradient, "gradient")] {
            try c.shape(t, name, parameters.shape)
        }
        precondition(step >= 1, "Adam step count is 1-based")
        S.adamUpdate(parameters.pointer, firstMoment.pointer, secondMoment.pointer, gradient.constPointer,
                     count: parameters.count, lr: learningRate, beta1: beta1, beta2: beta2, eps: epsilon,
                     step: step)
    }
}

/// The public, shape-checked face of the C kernel core.
///
/// Each function checks every tensor's shape against the others and throws a ``ShapeError``
/// naming the kernel and argument on a mismatch, then calls the C kernel of the scalar's
/// precision (the C kernel named in each function's documentation, with the suffix `_f32` or
/// `_f64`; see <doc:KernelCore>). Conventions follow the C core (vh_kernels.h): `n` rows
/// (sequences × particles); backward functions **accumulate** into the gradient tensors they
/// are given (zero them first); an optional gradient left `nil` is not computed.
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

    /// A per-row input read through `index` (row i reads row `index[i]`; nil: row i): `(·, columns)`
    /// with every index a row of it, or `(rows, columns)` without an index.
    func rows<S>(_ t: Tensor<S>, _ name: String, _ index: [Int32]?, rows: Int, columns: Int) throws {
        guard let index else { return try shape(t, name, [rows, columns]) }
        guard t.shape.count == 2, t.shape[1] == columns else {
            throw ShapeError(kernel: kernel, argument: name, expected: "(rows, \(columns))", got: "\(t.shape)")
        }
        guard index.count == rows else {
            throw ShapeError(kernel: kernel, argument: "\(name)Rows", expected: "\(rows) indices", got: "\(index.count)")
        }
        if let bad = index.first(where: { $0 < 0 || Int($0) >= t.shape[0] }) {
            throw ShapeError(kernel: kernel, argument: "\(name)Rows", expected: "indices in 0..<\(t.shape[0])",
                             got: "\(bad)")
        }
    }

    func divisible(_ columns: Int, by parts: Int, _ name: String) throws -> Int {
        guard columns % parts == 0, columns > 0 else {
            throw ShapeError(kernel: kernel, argument: name,
                             expected: "a positive multiple of \(parts) columns", got: "\(columns)")
        }
        return columns / parts
    }
}

/// `body` with a pointer to `index`'s elements (nil for a nil index).
private func withRowIndex<R>(_ index: [Int32]?, _ body: (UnsafePointer<Int32>?) -> R) -> R {
    guard let index else { return body(nil) }
    return index.withUnsafeBufferPointer { body($0.baseAddress) }
}

// MARK: - Linear layer and activations

extension Kernels {
    /// `output (n, out) = input (n, in) · weightᵀ + bias`, with `weight` `(out, in)`.
    /// With `accumulate`, adds into `output` instead of overwriting it.
    /// C kernel: `vh_linear_forward`.
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others.
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
    /// C kernel: `vh_linear_backward`.
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others.
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
    /// C kernel: `vh_relu_forward`.
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others.
    public static func reluForward<S: KernelScalar>(output: Tensor<S>, input: Tensor<S>) throws {
        try Check(kernel: "reluForward").shape(output, "output", input.shape)
        S.reluForward(output.pointer, input.constPointer, count: input.count)
    }

    /// `inputGradient += outputGradient · [output > 0]`.
    /// C kernel: `vh_relu_backward`.
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others.
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
    /// `a = Wy + Uh + b`, `c = f·c_prev + i·j`, `h = o·tanh(c)`. C kernel:
    /// `vh_lstm_cell_forward`.
    ///
    /// - Parameters:
    ///   - hidden: `(n, H)` output h.
    ///   - cell: `(n, H)` output c.
    ///   - gates: `(n, 4H)` cache for the backward pass: i, j, f, o after their nonlinearities.
    ///   - inputPreactivation: `W y`, `(n, 4H)`; its width defines H.
    ///   - recurrentPreactivation: `U h_prev`, `(n, 4H)`, or nil if already added to the first.
    ///   - bias: `(4H)`, or nil for none.
    ///   - previousCell: `(n, H)`, or nil for a zero state.
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others.
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

    /// Backward of ``lstmCellForward(hidden:cell:gates:inputPreactivation:recurrentPreactivation:bias:previousCell:)``:
    /// accumulates into the pre-activation, bias and previous-cell gradients given
    /// `hiddenGradient` (and `cellGradient` from the future). C kernel: `vh_lstm_cell_backward`.
    ///
    /// The same pre-activation gradient is added to both `inputPreactivationGradient` and
    /// `recurrentPreactivationGradient` (they are the same sum); pass one of them to get it once.
    /// Any gradient may be nil (not wanted).
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others.
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

    /// Hadamard-scaled LSTM cell (VHRNN's primary recurrence g, paper Eq. 1; see
    /// <doc:ModelArchitecture>): `a = d_x·(Wy) + d_h·(Uh) + b_dyn + b`, then as
    /// ``lstmCellForward(hidden:cell:gates:inputPreactivation:recurrentPreactivation:bias:previousCell:)``.
    /// `hyper` is `(n, 12H)`: per row `[d_x (4H) | d_h (4H) | b_dyn (4H)]`, each block in gate
    /// order i, j, f, o. C kernel: `vh_hyper_lstm_cell_forward`.
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others.
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

    /// Backward of ``hyperLSTMCellForward(hidden:cell:gates:inputPreactivation:recurrentPreactivation:hyper:bias:previousCell:)``,
    /// to `Wy`, `Uh`, the hyper outputs, `b` and `c_prev` (each may be nil). C kernel:
    /// `vh_hyper_lstm_cell_backward`.
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others.
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

    /// GRU cell (gates r, u, n; reset applied to `U h`, as cuDNN and PyTorch):
    /// `h = (1 - u)·tanh(Wx_n + b_n + r·Uh_n) + u·h_prev`.
    /// `inputPreactivation` `W x` and `recurrentPreactivation` `U h_prev` are `(n, 3H)`; `gates`
    /// `(n, 3H)` caches r, u and the candidate. C kernel: `vh_gru_cell_forward`.
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others.
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

    /// Backward of ``gruCellForward(hidden:gates:inputPreactivation:recurrentPreactivation:bias:previousHidden:)``;
    /// `previousHiddenGradient` receives the direct path `u·dh` (the path through `U` is the
    /// caller's ``linearBackward(inputGradient:weightGradient:biasGradient:outputGradient:input:weight:)``).
    /// C kernel: `vh_gru_cell_backward`.
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others.
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
    /// `[d_x (3H) | d_h (3H) | b_dyn (3H)]`. C kernel: `vh_hyper_gru_cell_forward`.
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others.
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

    /// Backward of ``hyperGRUCellForward(hidden:gates:inputPreactivation:recurrentPreactivation:hyper:bias:previousHidden:)``
    /// to `W x`, `U h`, the hyper outputs, `b` and the direct path to `h_prev` (each may be
    /// nil). C kernel: `vh_hyper_gru_cell_backward`.
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others.
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
    /// C kernel: `vh_hyper_scale_forward`.
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others.
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

    /// Backward of ``hyperScaleForward(output:product:scale:shift:bias:)`` to all four inputs
    /// (each gradient may be nil).
    /// C kernel: `vh_hyper_scale_backward`.
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others.
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
    /// C kernel: `vh_gaussian_sigma_forward`.
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others.
    public static func gaussianSigmaForward<S: KernelScalar>(
        sigma: Tensor<S>, raw: Tensor<S>, floor: S = 0
    ) throws {
        try Check(kernel: "gaussianSigmaForward").shape(sigma, "sigma", raw.shape)
        S.gaussianSigmaForward(sigma.pointer, raw.constPointer, count: raw.count, sigmaMin: floor)
    }

    /// Backward of ``gaussianSigmaForward(sigma:raw:floor:)``:
    /// `rawGradient += sigmaGradient · sigmoid(raw + 0.5)` where the floor is not active (no
    /// gradient where it is). C kernel: `vh_gaussian_sigma_backward`.
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others.
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
    /// C kernel: `vh_gaussian_logpdf_forward`.
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others.
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

    /// Backward of ``gaussianLogPDFForward(logDensity:x:mean:sigma:)``: accumulates
    /// `logDensityGradient` (per row) times the partial derivatives into the `x`, mean and sigma
    /// gradients (each may be nil). C kernel: `vh_gaussian_logpdf_backward`.
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others.
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
                                 logDensityGradient.constPointer, x.constPointer, nil, mean.constPointer,
                                 sigma.constPointer, n: n, d: d)
    }

    /// Reparameterised sample `z = mean + sigma · noise`.
    /// C kernel: `vh_gaussian_sample_forward`.
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others.
    public static func gaussianSampleForward<S: KernelScalar>(
        sample: Tensor<S>, mean: Tensor<S>, sigma: Tensor<S>, noise: Tensor<S>
    ) throws {
        let c = Check(kernel: "gaussianSampleForward")
        for (t, name) in [(sample, "sample"), (sigma, "sigma"), (noise, "noise")] { try c.shape(t, name, mean.shape) }
        S.gaussianSampleForward(sample.pointer, mean.constPointer, sigma.constPointer,
                                noise.constPointer, count: mean.count)
    }

    /// Backward of ``gaussianSampleForward(sample:mean:sigma:noise:)``:
    /// `meanGradient += sampleGradient`, `sigmaGradient += sampleGradient · noise` (either may be
    /// nil; the noise is a constant). C kernel: `vh_gaussian_sample_backward`.
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others.
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

    /// The proposal head, its reparameterised draw and its density in one pass:
    /// `mean = priorMean + residual`, `sigma = max(softplus(raw + 0.5), floor)`,
    /// `sample = mean + sigma · noise`, `logDensity (n) = Σ_d log N(sample | mean, sigma)` —
    /// the same values, bit for bit, as the addition, ``gaussianSigmaForward(sigma:raw:floor:)``,
    /// ``gaussianSampleForward(sample:mean:sigma:noise:)`` and ``gaussianLogPDFForward(logDensity:x:mean:sigma:)``
    /// in turn. C kernel: `vh_gaussian_proposal_forward`.
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others.
    public static func gaussianProposalForward<S: KernelScalar>(
        mean: Tensor<S>, sigma: Tensor<S>, sample: Tensor<S>, logDensity: Tensor<S>,
        priorMean: Tensor<S>, residual: Tensor<S>, raw: Tensor<S>, noise: Tensor<S>, floor: S = 0
    ) throws {
        let c = Check(kernel: "gaussianProposalForward")
        let (n, d) = try c.matrix(priorMean, "priorMean")
        for (t, name) in [(residual, "residual"), (raw, "raw"), (noise, "noise"), (mean, "mean"), (sigma, "sigma"),
                          (sample, "sample")] { try c.shape(t, name, [n, d]) }
        try c.shape(logDensity, "logDensity", [n])
        S.gaussianProposalForward(mean.pointer, sigma.pointer, sample.pointer, logDensity.pointer,
                                  priorMean.constPointer, residual.constPointer, raw.constPointer, noise.constPointer,
                                  sigmaMin: floor, n: n, d: d)
    }

    /// A Gaussian head's sigma and its density at `x` in one pass: `sigma = max(softplus(raw + 0.5), floor)`,
    /// `logDensity (n) = Σ_d log N(x | mean, sigma)`; with `xRows`, row i reads `x` row `xRows[i]`
    /// (a frame shared by several rows). The same values, bit for bit, as
    /// ``gaussianSigmaForward(sigma:raw:floor:)`` then ``gaussianLogPDFForward(logDensity:x:mean:sigma:)``.
    /// C kernel: `vh_gaussian_head_logpdf_forward`.
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others.
    public static func gaussianHeadLogPDFForward<S: KernelScalar>(
        sigma: Tensor<S>, logDensity: Tensor<S>, x: Tensor<S>, xRows: [Int32]? = nil, mean: Tensor<S>,
        raw: Tensor<S>, floor: S = 0
    ) throws {
        let c = Check(kernel: "gaussianHeadLogPDFForward")
        let (n, d) = try c.matrix(mean, "mean")
        try c.shape(raw, "raw", [n, d])
        try c.shape(sigma, "sigma", [n, d])
        try c.shape(logDensity, "logDensity", [n])
        try c.rows(x, "x", xRows, rows: n, columns: d)
        withRowIndex(xRows) { index in
            S.gaussianHeadLogpdfForward(sigma.pointer, logDensity.pointer, x.constPointer, index, mean.constPointer,
                                        raw.constPointer, sigmaMin: floor, n: n, d: d)
        }
    }

    /// `kl (n) = Σ_d KL(N(meanQ, sigmaQ) ‖ N(meanP, sigmaP))`.
    /// C kernel: `vh_gaussian_kl_forward`.
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others.
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

    /// Backward of ``gaussianKLForward(kl:meanQ:sigmaQ:meanP:sigmaP:)`` to both Gaussians'
    /// means and sigmas (each may be nil). C kernel: `vh_gaussian_kl_backward`.
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others.
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
    /// C kernel: `vh_bernoulli_logpmf_forward`.
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others.
    /// With `xRows`, row i reads `x` row `xRows[i]` (a frame shared by several rows).
    public static func bernoulliLogPMFForward<S: KernelScalar>(
        logProbability: Tensor<S>, x: Tensor<S>, xRows: [Int32]? = nil, logits: Tensor<S>
    ) throws {
        let c = Check(kernel: "bernoulliLogPMFForward")
        let (n, d) = try c.matrix(logits, "logits")
        try c.rows(x, "x", xRows, rows: n, columns: d)
        try c.shape(logProbability, "logProbability", [n])
        withRowIndex(xRows) { index in
            S.bernoulliLogpmfForward(logProbability.pointer, x.constPointer, index, logits.constPointer, n: n, d: d)
        }
    }

    /// Backward of ``bernoulliLogPMFForward(logProbability:x:xRows:logits:)``:
    /// `logitsGradient += logProbabilityGradient · (x − sigmoid(logits))`. C kernel:
    /// `vh_bernoulli_logpmf_backward`.
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others.
    public static func bernoulliLogPMFBackward<S: KernelScalar>(
        logitsGradient: Tensor<S>, logProbabilityGradient: Tensor<S>, x: Tensor<S>, xRows: [Int32]? = nil,
        logits: Tensor<S>
    ) throws {
        let c = Check(kernel: "bernoulliLogPMFBackward")
        let (n, d) = try c.matrix(logits, "logits")
        try c.rows(x, "x", xRows, rows: n, columns: d)
        try c.shape(logitsGradient, "logitsGradient", [n, d])
        try c.shape(logProbabilityGradient, "logProbabilityGradient", [n])
        withRowIndex(xRows) { index in
            S.bernoulliLogpmfBackward(logitsGradient.pointer, logProbabilityGradient.constPointer,
                                      x.constPointer, index, logits.constPointer, n: n, d: d)
        }
    }
}

// MARK: - Particles

/// An ancestor index outside the parent rows was passed to
/// ``Kernels/gatherRowsForward(output:input:ancestors:)`` or
/// ``Kernels/gatherRowsBackward(inputGradient:outputGradient:ancestors:)``; nothing was
/// written.
public struct AncestorIndexError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The first offending index.
    public var index: Int32
    /// How many parent rows there are (valid indices are `0..<parentRows`).
    public var parentRows: Int
    /// One line naming the index and the row count.
    public var description: String {
        "gatherRows: ancestor index \(index) is outside the \(parentRows) parent rows"
    }
}

extension Kernels {
    /// `output[i] = input[ancestors[i]]` row by row (`output` `(n, w)`, `input` `(m, w)`).
    /// C kernel: `vh_gather_rows_forward`.
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others;
    ///   ``AncestorIndexError`` for an index outside the parent rows (checked before anything
    ///   is written).
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
    /// C kernel: `vh_gather_rows_backward`.
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others;
    ///   ``AncestorIndexError`` for an index outside the parent rows (checked before anything
    ///   is written).
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

    /// Each particle row's incremental log weight, `logAlpha = logLikelihood + klWeight ·
    /// (logPrior − logProposal)` (all `(n)`). With `klWeight` 1 this is the bound's weight
    /// (C kernel `vh_log_alpha_forward`); below 1 it is the KL warm-up's surrogate
    /// (`vh_log_alpha_weighted_forward`; ``TrainingOptions/klWarmupSteps``).
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others.
    public static func logAlphaForward<S: KernelScalar>(
        logAlpha: Tensor<S>, logPrior: Tensor<S>, logLikelihood: Tensor<S>, logProposal: Tensor<S>,
        klWeight: S = 1
    ) throws {
        let c = Check(kernel: "logAlphaForward")
        let n = logAlpha.count
        for (t, name) in [(logAlpha, "logAlpha"), (logPrior, "logPrior"), (logLikelihood, "logLikelihood"),
                          (logProposal, "logProposal")] { try c.shape(t, name, [n]) }
        if klWeight == 1 {
            S.logAlphaForward(logAlpha.pointer, logPrior.constPointer, logLikelihood.constPointer,
                              logProposal.constPointer, n: n)
        } else {
            S.logAlphaWeightedForward(logAlpha.pointer, logPrior.constPointer, logLikelihood.constPointer,
                                      logProposal.constPointer, beta: klWeight, n: n)
        }
    }

    /// Backward of ``logAlphaForward(logAlpha:logPrior:logLikelihood:logProposal:klWeight:)``,
    /// accumulated into each gradient that is not nil.
    /// C kernels: `vh_log_alpha_backward`, `vh_log_alpha_weighted_backward`.
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others.
    public static func logAlphaBackward<S: KernelScalar>(
        logPriorGradient: Tensor<S>?, logLikelihoodGradient: Tensor<S>?, logProposalGradient: Tensor<S>?,
        logAlphaGradient: Tensor<S>, klWeight: S = 1
    ) throws {
        let c = Check(kernel: "logAlphaBackward")
        let n = logAlphaGradient.count
        for (t, name) in [(logAlphaGradient, "logAlphaGradient"), (logPriorGradient, "logPriorGradient"),
                          (logLikelihoodGradient, "logLikelihoodGradient"),
                          (logProposalGradient, "logProposalGradient")] { try c.shape(t, name, [n]) }
        if klWeight == 1 {
            S.logAlphaBackward(logPriorGradient?.pointer, logLikelihoodGradient?.pointer, logProposalGradient?.pointer,
                               logAlphaGradient.constPointer, n: n)
        } else {
            S.logAlphaWeightedBackward(logPriorGradient?.pointer, logLikelihoodGradient?.pointer,
                                       logProposalGradient?.pointer, logAlphaGradient.constPointer, beta: klWeight,
                                       n: n)
        }
    }

    /// `result (b) = log Σ_k exp(weights[b, k])`.
    /// C kernel: `vh_logsumexp_forward`.
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others.
    public static func logSumExpForward<S: KernelScalar>(result: Tensor<S>, weights: Tensor<S>) throws {
        let c = Check(kernel: "logSumExpForward")
        let (b, k) = try c.matrix(weights, "weights")
        try c.shape(result, "result", [b])
        S.logsumexpForward(result.pointer, weights.constPointer, b: b, k: k)
    }

    /// `weightsGradient += resultGradient · softmax(weights)` per row.
    /// C kernel: `vh_logsumexp_backward`.
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others.
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
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others.
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
    /// One Adam step over equally shaped parameter, moment and gradient tensors, in place:
    /// `m = β1·m + (1 − β1)·g`, `v = β2·v + (1 − β2)·g²`, then the parameters move by
    /// `−lr · m̂ / (sqrt(v̂) + ε)` with the bias-corrected moments m̂, v̂. C kernel:
    /// `vh_adam_update`.
    ///
    /// - Parameters:
    ///   - parameters: the values to update.
    ///   - firstMoment: Adam's m, updated in place.
    ///   - secondMoment: Adam's v, updated in place.
    ///   - gradient: the gradient of the loss.
    ///   - learningRate: the step size lr.
    ///   - beta1: decay of the first moment.
    ///   - beta2: decay of the second moment.
    ///   - epsilon: added to sqrt(v̂).
    ///   - step: the 1-based update count (for bias correction; a precondition).
    ///
    /// - Throws: ``ShapeError`` naming the first argument whose shape does not fit the others.
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

/// One output block of a dense layer: a contiguous group of the layer's output units with its
/// own destination buffer (e.g. a Gaussian head's means and its raw scales).
struct DenseHead: Sendable {
    var outDim: Int
    /// First output unit of this head within the layer (row of the layer's weight).
    var firstUnit: Int
}

/// A dense layer `y = x Wᵀ + b` whose input may be the concatenation of two parts (read in
/// place through column blocks of W, so nothing is copied) and whose output may be split into
/// heads. W is one `(Σ out, in)` tensor and b one `(Σ out)` tensor in the parameter arena.
struct DenseLayer: Sendable {
    var inputDims: [Int]
    var heads: [DenseHead]
    var weight: Int
    var bias: Int
    var inDim: Int { inputDims.reduce(0, +) }
    var outDim: Int { heads.reduce(0) { $0 + $1.outDim } }
}

/// An MLP as FIVO builds it: ReLU hidden layers, linear output layer (no final activation).
///
/// With `hyperScaled`, every layer's output is modulated per row by a scale and a shift from
/// the emission hyper network omega: `s ∘ (V v) + r + b` (see docs:
/// VHRNN.docc/ModelArchitecture.md, The emission and omega).
struct DenseStack: Sendable {
    var name: String
    var layers: [DenseLayer]
    var hyperScaled: Bool

    /// Builds the layers' parameters in `layout`: Glorot-uniform weights (fan-in, total
    /// fan-out of the layer), zero biases.
    init(name: String, inputDims: [Int], hidden: [Int], outputHeads: [Int], hyperScaled: Bool = false,
         layout: inout ParameterLayout) {
        self.name = name
        self.hyperScaled = hyperScaled
        var layers: [DenseLayer] = []
        var inDims = inputDims
        let widths = hidden + [outputHeads.reduce(0, +)]
        for (i, width) in widths.enumerated() {
            let isLast = i == widths.count - 1
            let inDim = inDims.reduce(0, +)
            let w = layout.add("\(name).layer\(i).weight", shape: [width, inDim],
                               initializer: .glorot(fanIn: inDim, fanOut: width))
            let b = layout.add("\(name).layer\(i).bias", shape: [width], initializer: .zeros)
            var heads: [DenseHead] = []
            if isLast {
                var first = 0
                for h in outputHeads {
                    heads.append(DenseHead(outDim: h, firstUnit: first))
                    first += h
                }
            } else {
                heads = [DenseHead(outDim: width, firstUnit: 0)]
            }
            layers.append(DenseLayer(inputDims: inDims, heads: heads, weight: w, bias: b))
            inDims = [width]
        }
        self.layers = layers
    }

    var parameterCount: Int { layers.reduce(0) { $0 + $1.inDim * $1.outDim + $1.outDim } }
    var outputHeadDims: [Int] { layers.last!.heads.map(\.outDim) }
    /// Every (layer, head) output block in order: what omega must modulate.
    var allHeadDims: [Int] { layers.flatMap { $0.heads.map(\.outDim) } }

    /// Matrix-multiply FLOPs of one forward pass per row (2·in·out per layer).
    var forwardFlopsPerRow: Int { layers.reduce(0) { $0 + 2 * $1.inDim * $1.outDim } }

    /// Activation slots of one forward pass.
    struct Slots {
        /// Post-ReLU output of each hidden layer.
        var hidden: [Slot]
        /// Output of each head of the last layer.
        var outputs: [Slot]
        /// For hyper-scaled stacks: `V v` of every (layer, head), before modulation.
        var products: [Slot]

        /// These slots for the block of rows from `row` on.
        func fromRow(_ row: Int) -> Slots {
            Slots(hidden: hidden.map { $0.fromRow(row) }, outputs: outputs.map { $0.fromRow(row) },
                  products: products.map { $0.fromRow(row) })
        }
    }

    func makeSlots(_ layout: inout SlabLayout) -> Slots {
        let hidden = layers.dropLast().map { layout.add(width: $0.outDim) }
        let outputs = layers.last!.heads.map { layout.add(width: $0.outDim) }
        let products = hyperScaled ? allHeadDims.map { layout.add(width: $0) } : []
        return Slots(hidden: hidden, outputs: outputs, products: products)
    }

    /// Forward pass over `rows` rows.
    /// - Parameters:
    ///   - input0, input1: the input parts (input1 only for two-part inputs).
    ///   - modulation: for hyper-scaled stacks, omega's output slots in `slab`, ordered
    ///     [scale, shift] per (layer, head).
    func forward<S: KernelScalar>(
        parameters p: UnsafePointer<S>, slab: UnsafeMutablePointer<S>, slots: Slots,
        input0: UnsafePointer<S>, input1: UnsafePointer<S>?, modulation: [Slot], rows: Int,
        projectedInput1: SequenceProjection<S>? = nil
    ) {
        precondition(projectedInput1 == nil || layers[0].heads.count == 1, "a projected input needs one first-layer head")
        var block = 0
        for (li, layer) in layers.enumerated() {
            let isLast = li == layers.count - 1
            let x0 = li == 0 ? input0 : UnsafePointer(slab.at(slots.hidden[li - 1]))
            let x1 = li == 0 ? input1 : nil
            let inDim = layer.inDim
            for (hi, head) in layer.heads.enumerated() {
                let out = isLast ? slab.at(slots.outputs[hi]) : slab.at(slots.hidden[li])
                let w = p + layer.weight + head.firstUnit * inDim
                let b = p + layer.bias + head.firstUnit
                let target = hyperScaled ? slab.at(slots.products[block]) : out
                let d0 = layer.inputDims[0]
                if li == 0, let projected = projectedInput1 {
                    // x1's part, once per sequence, copied to its particles; then x0's part on top
                    S.gatherRowsForward(target, projected.values, projected.index, n: rows, inRows: projected.sequences,
                                        width: head.outDim)
                    S.linearForward(target, x0, w, hyperScaled ? nil : b, n: rows, inDim: d0, outDim: head.outDim,
                                    wStride: inDim, accumulate: true)
                } else {
                    S.linearForward(target, x0, w, hyperScaled ? nil : b, n: rows, inDim: d0, outDim: head.outDim,
                                    wStride: inDim, accumulate: false)
                }
                if let x1, !(li == 0 && projectedInput1 != nil) {
                    S.linearForward(target, x1, w + d0, nil, n: rows, inDim: layer.inputDims[1],
                                    outDim: head.outDim, wStride: inDim, accumulate: true)
                }
                if hyperScaled {
                    S.hyperScaleForward(out, UnsafePointer(target), UnsafePointer(slab.at(modulation[2 * block])),
                                        UnsafePointer(slab.at(modulation[2 * block + 1])), b, n: rows,
                                        m: head.outDim)
                }
                if !isLast { S.reluForward(out, UnsafePointer(out), count: rows * head.outDim) }
                block += 1
            }
        }
    }

    /// Backward pass: reads d(outputs) from `gradSlab`, accumulates parameter gradients into
    /// `gradients`, input gradients into `dInput0`/`dInput1` (nil: not wanted) and, for
    /// hyper-scaled stacks, d(scale), d(shift) into the modulation slots of `gradSlab`.
    /// Hidden-layer gradient slots in `gradSlab` are used as scratch (must start at zero).
    func backward<S: KernelScalar>(
        parameters p: UnsafePointer<S>, gradients g: UnsafeMutablePointer<S>,
        slab: UnsafeMutablePointer<S>, gradSlab: UnsafeMutablePointer<S>, slots: Slots,
        input0: UnsafePointer<S>, input1: UnsafePointer<S>?,
        dInput0: UnsafeMutablePointer<S>?, dInput1: UnsafeMutablePointer<S>?,
        modulation: [Slot], rows: Int, projectedInput1: SequenceProjection<S>? = nil
    ) {
        var block = layers.reduce(0) { $0 + $1.heads.count }
        for li in stride(from: layers.count - 1, through: 0, by: -1) {
            let layer = layers[li]
            let isLast = li == layers.count - 1
            let x0 = li == 0 ? input0 : UnsafePointer(slab.at(slots.hidden[li - 1]))
            let x1 = li == 0 ? input1 : nil
            let dx0 = li == 0 ? dInput0 : gradSlab.at(slots.hidden[li - 1])
            let dx1 = li == 0 ? dInput1 : nil
            let inDim = layer.inDim
            for hi in stride(from: layer.heads.count - 1, through: 0, by: -1) {
                let head = layer.heads[hi]
                block -= 1
                let outSlot = isLast ? slots.outputs[hi] : slots.hidden[li]
                let dOut = gradSlab.at(outSlot)
                // forward: out = relu(pre) for hidden layers, so d pre = d out . [out > 0]
                if !isLast { S.reluBackwardInplace(dOut, UnsafePointer(slab.at(outSlot)), count: rows * head.outDim) }
                let w = p + layer.weight + head.firstUnit * inDim
                let dw = g + layer.weight + head.firstUnit * inDim
                let db = g + layer.bias + head.firstUnit
                var dY = UnsafePointer(dOut)
                if hyperScaled {
                    // forward: out = s . (V v) + r + b
                    let product = slots.products[block]
                    S.hyperScaleBackward(gradSlab.at(product), gradSlab.at(modulation[2 * block]),
                                         gradSlab.at(modulation[2 * block + 1]), db, dY,
                                         UnsafePointer(slab.at(product)), UnsafePointer(slab.at(modulation[2 * block])),
                                         n: rows, m: head.outDim)
                    dY = UnsafePointer(gradSlab.at(product))
                }
                let d0 = layer.inputDims[0]
                S.linearBackward(dx0, dw, hyperScaled ? nil : db, dY, x0, w, n: rows, inDim: d0,
                                 outDim: head.outDim, wStride: inDim)
                if li == 0, let projected = projectedInput1 {
                    // forward: x1's part was the sequence's projection: its gradient sums over particles
                    S.gatherRowsBackward(projected.gradients!, dY, projected.index, n: rows, inRows: projected.sequences,
                                         width: head.outDim)
                } else if let x1 {
                    S.linearBackward(dx1, dw + d0, nil, dY, x1, w + d0, n: rows, inDim: layer.inputDims[1],
                                     outDim: head.outDim, wStride: inDim)
                }
            }
        }
    }
}

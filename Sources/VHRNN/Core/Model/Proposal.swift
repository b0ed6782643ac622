/// The proposal q(z_t | x_t, h_{t-1}) = N(mu_q, diag sigma_q²) and its reparameterised draw,
/// forward beside backward.
///
///     (dmu, raw_q) = proposal([h_{t-1}, phi_x(x_t)])     DenseStack [H, E] -> (Z, Z)
///     mu_q         = mu_p + dmu                           residual on the prior mean (FIVO)
///     sigma_q      = max(softplus(raw_q + 0.5), sigmaMin)
///     z_t          = mu_q + sigma_q · eps,  eps ~ N(0, I) (the filter fills `noise`)
///     log q(z_t)   = Σ log N(z_t; mu_q, sigma_q)
///
/// All rows at once; every pointer is `(rows, ·)`.
struct Proposal: Sendable {
    /// [H, E] -> fc -> (dmu, raw sigma_q).
    let network: DenseStack
    let latentDim: Int
    let sigmaMin: Double

    struct Slots {
        var network: DenseStack.Slots
        /// mu_q `(rows, Z)`.
        var mean: Slot
        /// sigma_q `(rows, Z)`.
        var sigma: Slot
        /// eps `(rows, Z)`, written by the filter before ``forward``.
        var noise: Slot
        /// z_t `(rows, Z)`.
        var z: Slot
        /// dmu `(rows, Z)`: the network's first head.
        var residual: Slot { network.outputs[0] }
        /// raw sigma_q `(rows, Z)`: the network's second head.
        var rawSigma: Slot { network.outputs[1] }

        /// These slots for the block of rows from `row` on.
        func fromRow(_ row: Int) -> Slots {
            Slots(network: network.fromRow(row), mean: mean.fromRow(row), sigma: sigma.fromRow(row),
                  noise: noise.fromRow(row), z: z.fromRow(row))
        }
    }

    func makeSlots(_ layout: inout SlabLayout) -> Slots {
        let network = self.network.makeSlots(&layout)
        let z = latentDim
        return Slots(network: network, mean: layout.add(width: z), sigma: layout.add(width: z),
                     noise: layout.add(width: z), z: layout.add(width: z))
    }

    /// mu_q and sigma_q from h_{t-1}, the encoded frame and the prior mean; the draw
    /// z_t = mu_q + sigma_q · eps (eps read from the `noise` slot) and log N(z_t; mu_q, sigma_q)
    /// per row into `logDensity` `(rows)`. Everything after the network is one fused pass.
    func forward<S: KernelScalar>(parameters p: UnsafePointer<S>, slab: UnsafeMutablePointer<S>, slots: Slots,
                                  hPrev: UnsafePointer<S>, encodedData: UnsafePointer<S>, priorMean: UnsafePointer<S>,
                                  logDensity: UnsafeMutablePointer<S>, rows: Int,
                                  projectedData: SequenceProjection<S>? = nil) {
        network.forward(parameters: p, slab: slab, slots: slots.network, input0: hPrev, input1: encodedData,
                        modulation: [], rows: rows, projectedInput1: projectedData)
        S.gaussianProposalForward(slab.at(slots.mean), slab.at(slots.sigma), slab.at(slots.z), logDensity, priorMean,
                                  UnsafePointer(slab.at(slots.residual)), UnsafePointer(slab.at(slots.rawSigma)),
                                  UnsafePointer(slab.at(slots.noise)), sigmaMin: S(sigmaMin), n: rows, d: latentDim)
    }

    /// Given d log q(z) per row, accumulates d z (its slot in `gradSlab`) and d mu_q, d sigma_q.
    func logDensityBackward<S: KernelScalar>(slab: UnsafeMutablePointer<S>, gradSlab: UnsafeMutablePointer<S>,
                                             slots: Slots, dLogDensity: UnsafePointer<S>, rows: Int) {
        S.gaussianLogpdfBackward(gradSlab.at(slots.z), gradSlab.at(slots.mean), gradSlab.at(slots.sigma), dLogDensity,
                                 UnsafePointer(slab.at(slots.z)), nil, UnsafePointer(slab.at(slots.mean)),
                                 UnsafePointer(slab.at(slots.sigma)), n: rows, d: latentDim)
    }

    /// Backward of the draw and of ``forward``, once d z is complete in `gradSlab`: accumulates
    /// the parameter gradients, d h_{t-1} into `dhPrev`, d phi_x(x_t) into `dEncodedData` and
    /// d mu_p into `dPriorMean`.
    /// - Parameter dropResidualMean: a deliberate defect for the gradient check's own tests
    ///   (``GradientMutation/droppedResidualMean``): mu_q's gradient does not reach mu_p.
    func backward<S: KernelScalar>(parameters p: UnsafePointer<S>, gradients g: UnsafeMutablePointer<S>,
                                   slab: UnsafeMutablePointer<S>, gradSlab: UnsafeMutablePointer<S>, slots: Slots,
                                   hPrev: UnsafePointer<S>, encodedData: UnsafePointer<S>,
                                   dhPrev: UnsafeMutablePointer<S>, dEncodedData: UnsafeMutablePointer<S>,
                                   dPriorMean: UnsafeMutablePointer<S>, rows: Int, dropResidualMean: Bool = false,
                                   projectedData: SequenceProjection<S>? = nil) {
        let count = rows * latentDim
        // forward: z = mu_q + sigma_q . eps
        S.gaussianSampleBackward(gradSlab.at(slots.mean), gradSlab.at(slots.sigma), UnsafePointer(gradSlab.at(slots.z)),
                                 UnsafePointer(slab.at(slots.noise)), count: count)
        // forward: sigma_q = softplus(raw_q + 0.5); mu_q = mu_p + dmu
        S.gaussianSigmaBackward(gradSlab.at(slots.rawSigma), UnsafePointer(gradSlab.at(slots.sigma)),
                                UnsafePointer(slab.at(slots.rawSigma)), count: count, sigmaMin: S(sigmaMin))
        if !dropResidualMean { S.accumulate(dPriorMean, UnsafePointer(gradSlab.at(slots.mean)), count: count) }
        S.accumulate(gradSlab.at(slots.residual), UnsafePointer(gradSlab.at(slots.mean)), count: count)
        // forward: (dmu, raw_q) = proposal([h_{t-1}, phi_x(x_t)])
        network.backward(parameters: p, gradients: g, slab: slab, gradSlab: gradSlab, slots: slots.network,
                         input0: hPrev, input1: encodedData, dInput0: dhPrev, dInput1: dEncodedData, modulation: [],
                         rows: rows, projectedInput1: projectedData)
    }
}

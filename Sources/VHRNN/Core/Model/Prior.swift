/// The prior p(z_t | h_{t-1}) = N(mu_p, diag sigma_p²), forward beside backward.
///
///     (mu_p, raw_p) = prior(h_{t-1})                     DenseStack H -> (Z, Z)
///     sigma_p       = max(softplus(raw_p + 0.5), sigmaMin)
///
/// All rows at once; every pointer is `(rows, ·)`.
struct Prior: Sendable {
    /// H -> fc -> (mu_p, raw sigma_p).
    let network: DenseStack
    let latentDim: Int
    let sigmaMin: Double

    struct Slots {
        var network: DenseStack.Slots
        /// sigma_p `(rows, Z)`.
        var sigma: Slot
        /// mu_p `(rows, Z)`: the network's first head.
        var mean: Slot { network.outputs[0] }
        /// raw sigma_p `(rows, Z)`: the network's second head.
        var rawSigma: Slot { network.outputs[1] }

        /// These slots for the block of rows from `row` on.
        func fromRow(_ row: Int) -> Slots { Slots(network: network.fromRow(row), sigma: sigma.fromRow(row)) }
    }

    func makeSlots(_ layout: inout SlabLayout) -> Slots {
        Slots(network: network.makeSlots(&layout), sigma: layout.add(width: latentDim))
    }

    /// mu_p and raw sigma_p from h_{t-1}. sigma_p follows in ``logDensityForward(slab:slots:z:logDensity:rows:)``
    /// (the model step, fused with the density) or ``sigmaForward(slab:slots:rows:)`` (generation).
    func forward<S: KernelScalar>(parameters p: UnsafePointer<S>, slab: UnsafeMutablePointer<S>, slots: Slots,
                                  hPrev: UnsafePointer<S>, rows: Int) {
        network.forward(parameters: p, slab: slab, slots: slots.network, input0: hPrev, input1: nil, modulation: [],
                        rows: rows)
    }

    /// sigma_p from raw sigma_p, alone (when no density is computed).
    func sigmaForward<S: KernelScalar>(slab: UnsafeMutablePointer<S>, slots: Slots, rows: Int) {
        S.gaussianSigmaForward(slab.at(slots.sigma), UnsafePointer(slab.at(slots.rawSigma)), count: rows * latentDim,
                               sigmaMin: S(sigmaMin))
    }

    /// Reads d mu_p and d sigma_p from `gradSlab`; accumulates the parameter gradients and
    /// d h_{t-1} into `dhPrev`.
    func backward<S: KernelScalar>(parameters p: UnsafePointer<S>, gradients g: UnsafeMutablePointer<S>,
                                   slab: UnsafeMutablePointer<S>, gradSlab: UnsafeMutablePointer<S>, slots: Slots,
                                   hPrev: UnsafePointer<S>, dhPrev: UnsafeMutablePointer<S>, rows: Int) {
        // forward: sigma_p = max(softplus(raw_p + 0.5), sigmaMin)
        S.gaussianSigmaBackward(gradSlab.at(slots.rawSigma), UnsafePointer(gradSlab.at(slots.sigma)),
                                UnsafePointer(slab.at(slots.rawSigma)), count: rows * latentDim, sigmaMin: S(sigmaMin))
        // forward: (mu_p, raw_p) = prior(h_{t-1})
        network.backward(parameters: p, gradients: g, slab: slab, gradSlab: gradSlab, slots: slots.network,
                         input0: hPrev, input1: nil, dInput0: dhPrev, dInput1: nil, modulation: [], rows: rows)
    }

    /// sigma_p, and log N(z; mu_p, sigma_p) per row into `logDensity` `(rows)`: one fused pass.
    func logDensityForward<S: KernelScalar>(slab: UnsafeMutablePointer<S>, slots: Slots, z: UnsafePointer<S>,
                                            logDensity: UnsafeMutablePointer<S>, rows: Int) {
        S.gaussianHeadLogpdfForward(slab.at(slots.sigma), logDensity, z, nil, UnsafePointer(slab.at(slots.mean)),
                                    UnsafePointer(slab.at(slots.rawSigma)), sigmaMin: S(sigmaMin), n: rows,
                                    d: latentDim)
    }

    /// Given d log p(z) per row, accumulates d z into `dz` and d mu_p, d sigma_p into `gradSlab`.
    func logDensityBackward<S: KernelScalar>(slab: UnsafeMutablePointer<S>, gradSlab: UnsafeMutablePointer<S>,
                                             slots: Slots, z: UnsafePointer<S>, dz: UnsafeMutablePointer<S>,
                                             dLogDensity: UnsafePointer<S>, rows: Int) {
        S.gaussianLogpdfBackward(dz, gradSlab.at(slots.mean), gradSlab.at(slots.sigma), dLogDensity, z, nil,
                                 UnsafePointer(slab.at(slots.mean)), UnsafePointer(slab.at(slots.sigma)), n: rows,
                                 d: latentDim)
    }
}

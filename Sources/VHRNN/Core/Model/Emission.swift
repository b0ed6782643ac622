/// The emission p(x_t | z_t, h_{t-1}) with, in a VHRNN, omega's scaling of every decoder
/// layer, forward beside backward.
///
///     (s_i, r_i)   = omega(u_t)                             VHRNN: u_t -> omegaHidden (ReLU) -> per block
///     head         = emission([phi_z(z_t), h_{t-1}])        every layer s_i ∘ (V_i v) + r_i + b_i (VHRNN)
///     Bernoulli:   head = logits;          log p(x) = Σ x·l − softplus(l)
///     Gaussian:    head = (mu_x, raw_x);   sigma_x = max(softplus(raw_x + 0.5), sigmaMin)
///
/// All rows at once; every pointer is `(rows, ·)`.
struct Emission: Sendable {
    /// [E, H] -> fc -> logits | (mu_x, raw sigma_x), hyper-scaled in a VHRNN.
    let network: DenseStack
    /// u_t -> (scale, shift) for every block of `network` (VHRNN only).
    let omega: DenseStack?
    let kind: EmissionKind
    let dataDim: Int
    let sigmaMin: Double

    struct Slots {
        var omega: DenseStack.Slots?
        var network: DenseStack.Slots
        /// sigma_x `(rows, D)` (Gaussian only).
        var sigma: Slot?
        /// Logits (Bernoulli) or mu_x (Gaussian), `(rows, D)`.
        var head: Slot { network.outputs[0] }
        /// raw sigma_x (Gaussian only).
        var rawSigma: Slot? { network.outputs.count > 1 ? network.outputs[1] : nil }

        /// These slots for the block of rows from `row` on.
        func fromRow(_ row: Int) -> Slots {
            Slots(omega: omega?.fromRow(row), network: network.fromRow(row), sigma: sigma?.fromRow(row))
        }
    }

    func makeSlots(_ layout: inout SlabLayout) -> Slots {
        let omega = self.omega?.makeSlots(&layout)
        let network = self.network.makeSlots(&layout)
        return Slots(omega: omega, network: network, sigma: kind == .gaussian ? layout.add(width: dataDim) : nil)
    }

    /// omega(u_t) (VHRNN), then the emission network on [phi_z(z_t), h_{t-1}] modulated by it.
    /// - Parameter hyperInput: u_t's parts, read in place (``ModelArchitecture/hyperInputParts(z:h:)``).
    func forward<S: KernelScalar>(parameters p: UnsafePointer<S>, slab: UnsafeMutablePointer<S>, slots: Slots,
                                  encodedLatent ez: UnsafePointer<S>, hPrev: UnsafePointer<S>,
                                  hyperInput u: (UnsafePointer<S>, UnsafePointer<S>?), rows: Int) {
        if let omega, let omegaSlots = slots.omega {
            omega.forward(parameters: p, slab: slab, slots: omegaSlots, input0: u.0, input1: u.1, modulation: [],
                          rows: rows)
        }
        network.forward(parameters: p, slab: slab, slots: slots.network, input0: ez, input1: hPrev,
                        modulation: slots.omega?.outputs ?? [], rows: rows)
    }

    /// Backward of ``forward`` once d head (and d raw sigma) are in `gradSlab`: accumulates the
    /// parameter gradients, d phi_z(z_t) into `dEncodedLatent`, d h_{t-1} into `dhPrev` and
    /// d u_t into `dHyperInput`'s parts.
    func backward<S: KernelScalar>(parameters p: UnsafePointer<S>, gradients g: UnsafeMutablePointer<S>,
                                   slab: UnsafeMutablePointer<S>, gradSlab: UnsafeMutablePointer<S>, slots: Slots,
                                   encodedLatent ez: UnsafePointer<S>, hPrev: UnsafePointer<S>,
                                   hyperInput u: (UnsafePointer<S>, UnsafePointer<S>?),
                                   dEncodedLatent: UnsafeMutablePointer<S>, dhPrev: UnsafeMutablePointer<S>,
                                   dHyperInput du: (UnsafeMutablePointer<S>, UnsafeMutablePointer<S>?), rows: Int) {
        // forward: head = emission([ez, h_{t-1}]) modulated by omega's (scale, shift)
        network.backward(parameters: p, gradients: g, slab: slab, gradSlab: gradSlab, slots: slots.network,
                         input0: ez, input1: hPrev, dInput0: dEncodedLatent, dInput1: dhPrev,
                         modulation: slots.omega?.outputs ?? [], rows: rows)
        // forward: (scale, shift) = omega(u_t)
        if let omega, let omegaSlots = slots.omega {
            omega.backward(parameters: p, gradients: g, slab: slab, gradSlab: gradSlab, slots: omegaSlots,
                           input0: u.0, input1: u.1, dInput0: du.0, dInput1: du.1, modulation: [], rows: rows)
        }
    }

    /// sigma_x from the raw head alone (generation; Gaussian only, a no-op for Bernoulli).
    func sigmaForward<S: KernelScalar>(slab: UnsafeMutablePointer<S>, slots: Slots, rows: Int) {
        guard let sigma = slots.sigma, let raw = slots.rawSigma else { return }
        S.gaussianSigmaForward(slab.at(sigma), UnsafePointer(slab.at(raw)), count: rows * dataDim, sigmaMin: S(sigmaMin))
    }

    /// log p(x_t | head) per row into `logLikelihood` `(rows)`; a Gaussian's sigma_x in the same
    /// fused pass. The target is read through its sequence index.
    func logLikelihoodForward<S: KernelScalar>(slab: UnsafeMutablePointer<S>, slots: Slots, target: SequenceFrame<S>,
                                               logLikelihood: UnsafeMutablePointer<S>, rows: Int) {
        let head = UnsafePointer(slab.at(slots.head))
        switch kind {
        case .bernoulli:
            S.bernoulliLogpmfForward(logLikelihood, target.values, target.index, head, n: rows, d: dataDim)
        case .gaussian:
            S.gaussianHeadLogpdfForward(slab.at(slots.sigma!), logLikelihood, target.values, target.index, head,
                                        UnsafePointer(slab.at(slots.rawSigma!)), sigmaMin: S(sigmaMin), n: rows,
                                        d: dataDim)
        }
    }

    /// Given d log p(x_t) per row, accumulates d head (and d raw sigma_x) into `gradSlab`.
    func logLikelihoodBackward<S: KernelScalar>(slab: UnsafeMutablePointer<S>, gradSlab: UnsafeMutablePointer<S>,
                                                slots: Slots, target: SequenceFrame<S>,
                                                dLogLikelihood: UnsafePointer<S>, rows: Int) {
        let head = UnsafePointer(slab.at(slots.head))
        switch kind {
        case .bernoulli:
            S.bernoulliLogpmfBackward(gradSlab.at(slots.head), dLogLikelihood, target.values, target.index, head,
                                      n: rows, d: dataDim)
        case .gaussian:
            let sigma = slots.sigma!, raw = slots.rawSigma!
            S.gaussianLogpdfBackward(nil, gradSlab.at(slots.head), gradSlab.at(sigma), dLogLikelihood, target.values,
                                     target.index, head, UnsafePointer(slab.at(sigma)), n: rows, d: dataDim)
            // forward: sigma_x = max(softplus(raw_x + 0.5), sigmaMin)
            S.gaussianSigmaBackward(gradSlab.at(raw), UnsafePointer(gradSlab.at(sigma)), UnsafePointer(slab.at(raw)),
                                    count: rows * dataDim, sigmaMin: S(sigmaMin))
        }
    }
}

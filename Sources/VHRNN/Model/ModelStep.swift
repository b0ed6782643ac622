/// The parts of one model step that filtering (ParticleFilter) and generation
/// (SequenceSampler) compute alike, written once. All rows at once; every pointer is `(rows, ·)`.
extension ModelArchitecture {
    /// The hyper networks' input parts u_t, read in place: [z_t, h_{t-1}], z_t or h_{t-1}.
    /// Generic over the pointer type so the backward pass can ask for the matching gradients.
    func hyperInputParts<P>(z: P, h: P) -> (P, P?) {
        switch configuration.hyperInput {
        case .both: return (z, h)
        case .latent: return (z, nil)
        case .hidden: return (h, nil)
        }
    }

    /// omega(u_t) (VHRNN), then the emission p(x_t | z_t, h_{t-1}) on [phi_z(z_t), h_{t-1}],
    /// modulated by omega's outputs.
    func emissionForward<S: KernelScalar>(
        parameters p: UnsafePointer<S>, slab: UnsafeMutablePointer<S>, omegaSlots: DenseStack.Slots?,
        emissionSlots: DenseStack.Slots, encodedLatent ez: UnsafePointer<S>, hPrev: UnsafePointer<S>,
        hyperInput u: (UnsafePointer<S>, UnsafePointer<S>?), rows: Int
    ) {
        if let omega, let omegaSlots {
            omega.forward(parameters: p, slab: slab, slots: omegaSlots, input0: u.0, input1: u.1, modulation: [],
                          rows: rows)
        }
        emission.forward(parameters: p, slab: slab, slots: emissionSlots, input0: ez, input1: hPrev,
                         modulation: omegaSlots?.outputs ?? [], rows: rows)
    }

    /// theta and its head (VHRNN), then the primary recurrence h_t, c_t = g([ex, ez], h_{t-1},
    /// c_{t-1}; hyper).
    func recurrenceForward<S: KernelScalar>(
        parameters p: UnsafePointer<S>, slab: UnsafeMutablePointer<S>, thetaSlots: RecurrentCell.Slots?,
        headSlots: DenseStack.Slots?, rnnSlots: RecurrentCell.Slots, encodedData ex: UnsafePointer<S>,
        encodedLatent ez: UnsafePointer<S>, hyperInput u: (UnsafePointer<S>, UnsafePointer<S>?),
        hPrev: UnsafePointer<S>, cPrev: UnsafePointer<S>, hyperHPrev: UnsafePointer<S>, hyperCPrev: UnsafePointer<S>,
        rows: Int
    ) {
        var hyper: UnsafePointer<S>? = nil
        if let theta, let thetaSlots, let thetaHead, let headSlots {
            theta.forward(parameters: p, slab: slab, slots: thetaSlots, input0: u.0, input1: u.1, hPrev: hyperHPrev,
                          cPrev: hyperCPrev, hyper: nil, rows: rows)
            thetaHead.forward(parameters: p, slab: slab, slots: headSlots, input0: UnsafePointer(slab.at(thetaSlots.h)),
                              input1: nil, modulation: [], rows: rows)
            hyper = UnsafePointer(slab.at(headSlots.outputs[0]))
        }
        rnn.forward(parameters: p, slab: slab, slots: rnnSlots, input0: ex, input1: ez, hPrev: hPrev, cPrev: cPrev,
                    hyper: hyper, rows: rows)
    }
}

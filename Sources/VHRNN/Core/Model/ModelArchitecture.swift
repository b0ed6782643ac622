/// The components of a VRNN or VHRNN and where their parameters live (see docs:
/// VHRNN.docc/ModelArchitecture.md; the step they compose: VHRNN.docc/ModelStep.md).
///
///     phi_x     D -> fc -> E                      data encoder
///     phi_z     Z -> fc -> E                      latent encoder
///     prior     H -> fc -> (mu_p, raw sigma_p)     p(z_t | h_{t-1})
///     proposal  [H, E] -> fc -> (dmu, raw sigma_q) q(z_t | x_t, h_{t-1}); mu_q = mu_p + dmu
///     emission  [E, H] -> fc -> logits | (mu_x, raw sigma_x)
///     rnn       g([phi_x, phi_z], h): LSTM/GRU, Hadamard-scaled in a VHRNN
///   VHRNN only:
///     theta     LSTM/GRU over u_t with hidden Hh, then theta_head Hh -> 3·G·H = [d_x | d_h | b_dyn]
///     omega     u_t -> omegaHidden (ReLU) -> (scale, shift) for every emission layer block
struct ModelArchitecture: Sendable {
    let configuration: ModelConfiguration
    private(set) var layout = ParameterLayout()
    /// The data encoder phi_x and the latent encoder phi_z.
    let phiX: DenseStack
    let phiZ: DenseStack
    let prior: Prior
    let proposal: Proposal
    /// The emission network with omega (VHRNN).
    let emission: Emission
    /// g with theta and its head (VHRNN).
    let recurrence: Recurrence

    /// - Parameter outputBias: initial emission output bias (Bernoulli: logit of the clipped
    ///   training-frame mean; see docs: VHRNN.docc/ModelArchitecture.md, Initialisation). Nil:
    ///   zeros.
    init(_ c: ModelConfiguration, outputBias: [Double]? = nil) throws {
        try c.validate()
        configuration = c
        var layout = ParameterLayout()
        let (d, z, h, e) = (c.dataDim, c.latentDim, c.hiddenDim, c.encodedDim)
        let vh = c.model == .vhrnn
        // The parameter arena's order (checkpoints depend on it): phi_x, phi_z, prior,
        // proposal, emission, rnn, then theta, theta_head, omega.
        phiX = DenseStack(name: "phi_x", inputDims: [d], hidden: c.fcWidths, outputHeads: [e], layout: &layout)
        phiZ = DenseStack(name: "phi_z", inputDims: [z], hidden: c.fcWidths, outputHeads: [e], layout: &layout)
        let priorNetwork = DenseStack(name: "prior", inputDims: [h], hidden: c.fcWidths, outputHeads: [z, z],
                                      layout: &layout)
        let proposalNetwork = DenseStack(name: "proposal", inputDims: [h, e], hidden: c.fcWidths, outputHeads: [z, z],
                                         layout: &layout)
        let emissionHeads = c.emission == .bernoulli ? [d] : [d, d]
        let emissionNetwork = DenseStack(name: "emission", inputDims: [e, h], hidden: c.fcWidths,
                                         outputHeads: emissionHeads, hyperScaled: vh, layout: &layout)
        let rnn = RecurrentCell(name: "rnn", kind: c.cell, inputDims: [e, e], hidden: h, hyperScaled: vh,
                                layout: &layout)
        var theta: RecurrentCell? = nil, thetaHead: DenseStack? = nil, omega: DenseStack? = nil
        if vh {
            let u = Self.hyperInputDims(c)
            theta = RecurrentCell(name: "theta", kind: c.cell, inputDims: u, hidden: c.hyperDim, hyperScaled: false,
                                  layout: &layout)
            thetaHead = DenseStack(name: "theta_head", inputDims: [c.hyperDim], hidden: [],
                                  outputHeads: [rnn.hyperWidth], layout: &layout)
            // Start as the VRNN cell: zero weights, scales 1, generated biases 0 (see docs:
            // VHRNN.docc/ModelArchitecture.md, Initialisation).
            let g = rnn.gateWidth
            layout.setInitializer("theta_head.layer0.weight", .zeros)
            layout.setInitializer("theta_head.layer0.bias",
                                  .values(Array(repeating: 1, count: 2 * g) + Array(repeating: 0, count: g)))
            let blocks = emissionNetwork.allHeadDims
            omega = DenseStack(name: "omega", inputDims: u, hidden: [c.omegaHidden],
                                   outputHeads: blocks.flatMap { [$0, $0] }, layout: &layout)
            layout.setInitializer("omega.layer1.weight", .zeros)
            layout.setInitializer("omega.layer1.bias",
                                  .values(blocks.flatMap { Array(repeating: 1.0, count: $0) + Array(repeating: 0.0, count: $0) }))
        }
        prior = Prior(network: priorNetwork, latentDim: z, sigmaMin: c.sigmaMin)
        proposal = Proposal(network: proposalNetwork, latentDim: z, sigmaMin: c.sigmaMin)
        emission = Emission(network: emissionNetwork, omega: omega, kind: c.emission, dataDim: d, sigmaMin: c.sigmaMin)
        recurrence = Recurrence(cell: rnn, theta: theta, thetaHead: thetaHead)
        if let outputBias {
            guard outputBias.count == emissionHeads[0] else {
                throw ConfigurationError(field: "outputBias", message: "has \(outputBias.count) values, expected \(emissionHeads[0])")
            }
            let name = "emission.layer\(c.fcWidths.count).bias"
            let rest = c.emission == .gaussian ? Array(repeating: 0.0, count: d) : []
            layout.setInitializer(name, .values(outputBias + rest))
        }
        self.layout = layout
    }

    static func hyperInputDims(_ c: ModelConfiguration) -> [Int] {
        switch c.hyperInput {
        case .both: return [c.latentDim, c.hiddenDim]
        case .latent: return [c.latentDim]
        case .hidden: return [c.hiddenDim]
        }
    }

    /// Parameters as the paper counts them: FIVO also builds a reverse LSTM over the encoded
    /// data (input E, hidden H) that the filtering proposal never uses (see docs:
    /// VHRNN.docc/ModelArchitecture.md, Parameter counts).
    var paperParameterCount: Int {
        let g = configuration.cell.gateCount, h = configuration.hiddenDim, e = configuration.encodedDim
        return layout.count + g * h * (e + h) + g * h
    }

    /// Forward matrix-multiply FLOPs per particle-step (everything but phi_x) and per
    /// sequence-step (phi_x), counting 2·in·out per linear map.
    var forwardFlops: (perParticleStep: Int, perSequenceStep: Int) {
        var perParticle = phiZ.forwardFlopsPerRow + prior.network.forwardFlopsPerRow
            + proposal.network.forwardFlopsPerRow + emission.network.forwardFlopsPerRow
            + recurrence.cell.forwardFlopsPerRow
        if let theta = recurrence.theta, let thetaHead = recurrence.thetaHead, let omega = emission.omega {
            perParticle += theta.forwardFlopsPerRow + thetaHead.forwardFlopsPerRow + omega.forwardFlopsPerRow
        }
        return (perParticle, phiX.forwardFlopsPerRow)
    }
}

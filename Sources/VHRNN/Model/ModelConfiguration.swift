/// Which sequence model: the VRNN baseline or the VHRNN with its two hyper networks.
public enum ModelKind: String, Codable, Sendable, CaseIterable {
    case vrnn, vhrnn
}

/// The recurrent cell of the primary recurrence g (and of theta in a VHRNN).
public enum CellKind: String, Codable, Sendable, CaseIterable {
    case lstm, gru
    /// Gates per hidden unit: LSTM i, j, f, o; GRU r, u, n.
    var gateCount: Int { self == .lstm ? 4 : 3 }
}

/// The emission distribution p(x_t | z_t, h_{t-1}).
public enum EmissionKind: String, Codable, Sendable, CaseIterable {
    /// Independent Bernoulli per dimension (piano rolls); the emission outputs logits.
    case bernoulli
    /// Diagonal Gaussian; the emission outputs a mean and a raw scale per dimension.
    case gaussian
}

/// What the VHRNN hyper networks read (paper Table 3).
public enum HyperInput: String, Codable, Sendable, CaseIterable {
    /// u_t = [z_t, h_{t-1}] (the default).
    case both
    /// u_t = z_t.
    case latent
    /// u_t = h_{t-1}.
    case hidden
}

/// Every size and choice that defines a model's parameters and computation.
///
/// Names map to DESIGN §1–3: `latentDim` Z, `hiddenDim` H, `hyperDim` Hh, `encodedDim` E,
/// `fcWidths` the hidden layers of every MLP (phi_x, phi_z, prior, proposal, emission),
/// `omegaHidden` the emission hyper network's hidden width.
public struct ModelConfiguration: Codable, Sendable, Equatable {
    public var model: ModelKind
    public var cell: CellKind
    public var dataDim: Int
    public var emission: EmissionKind
    public var latentDim: Int
    public var hiddenDim: Int
    public var hyperDim: Int
    public var encodedDim: Int
    public var fcWidths: [Int]
    public var omegaHidden: Int
    public var hyperInput: HyperInput
    /// Floor on every predicted standard deviation (FIVO's sigma_min).
    ///
    /// Our choice: 1e-5 by default where FIVO uses 0. With no floor, softplus(raw + 0.5)
    /// underflows to exactly 0 for raw ≲ −745 (double) or −104 (float) — which large-magnitude
    /// data reach in the first steps — and the log densities become −inf or NaN.
    public static let defaultSigmaMin = 1e-5
    public var sigmaMin: Double

    /// A configuration with FIVO's defaults for what is not given: H = Z, Hh = Z, E = Z, one
    /// fc hidden layer of width Z, omega 64 wide, hyper input [z, h].
    public init(model: ModelKind, cell: CellKind = .lstm, dataDim: Int, emission: EmissionKind,
                latentDim: Int, hiddenDim: Int? = nil, hyperDim: Int? = nil, encodedDim: Int? = nil,
                fcLayers: Int = 1, fcWidth: Int? = nil, omegaHidden: Int = 64,
                hyperInput: HyperInput = .both, sigmaMin: Double = ModelConfiguration.defaultSigmaMin) {
        self.model = model
        self.cell = cell
        self.dataDim = dataDim
        self.emission = emission
        self.latentDim = latentDim
        self.hiddenDim = hiddenDim ?? latentDim
        self.hyperDim = hyperDim ?? latentDim
        self.encodedDim = encodedDim ?? latentDim
        self.fcWidths = Array(repeating: fcWidth ?? latentDim, count: fcLayers)
        self.omegaHidden = omegaHidden
        self.hyperInput = hyperInput
        self.sigmaMin = sigmaMin
    }

    /// Checks every size; the message names the offending field.
    public func validate() throws {
        func positive(_ value: Int, _ name: String) throws {
            guard value > 0 else { throw ConfigurationError(field: name, message: "must be positive, got \(value)") }
        }
        try positive(dataDim, "dataDim")
        try positive(latentDim, "latentDim")
        try positive(hiddenDim, "hiddenDim")
        try positive(encodedDim, "encodedDim")
        if model == .vhrnn {
            try positive(hyperDim, "hyperDim")
            try positive(omegaHidden, "omegaHidden")
        }
        for (i, w) in fcWidths.enumerated() { try positive(w, "fcWidths[\(i)]") }
        guard sigmaMin >= 0, sigmaMin.isFinite else {
            throw ConfigurationError(field: "sigmaMin", message: "must be a finite value >= 0, got \(sigmaMin)")
        }
        let limit = 1 << 16
        for (value, name) in [(dataDim, "dataDim"), (latentDim, "latentDim"), (hiddenDim, "hiddenDim"),
                              (hyperDim, "hyperDim"), (encodedDim, "encodedDim")] where value > limit {
            throw ConfigurationError(field: name, message: "\(value) exceeds the supported maximum \(limit)")
        }
    }

    /// Width of the hyper networks' input u_t.
    var hyperInputDim: Int {
        switch hyperInput {
        case .both: return latentDim + hiddenDim
        case .latent: return latentDim
        case .hidden: return hiddenDim
        }
    }

    /// Width of the emission's output layer: D logits, or D means and D raw scales.
    var emissionOutputDim: Int { emission == .bernoulli ? dataDim : 2 * dataDim }
}

/// A configuration value is invalid; names the field.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable, Sendable {
    public var field: String
    public var message: String
    public var description: String { "invalid model configuration: \(field) \(message)" }
}

/// Which sequence model: the VRNN baseline or the VHRNN with its two hyper networks.
public enum ModelKind: String, Codable, Sendable, CaseIterable {
    /// The VRNN baseline: fixed weights in the recurrence g and the emission.
    case vrnn
    /// The VHRNN: the VRNN plus the recurrent hyper network theta (with its head), which
    /// scales g's gates per step and particle, and the hyper network omega, which scales and
    /// shifts every emission layer.
    case vhrnn
}

/// The recurrent cell of the primary recurrence g (and of theta in a VHRNN).
public enum CellKind: String, Codable, Sendable, CaseIterable {
    /// An LSTM: gates i, j, f, o (TensorFlow's `LSTMCell` order, forget bias +1 at run time)
    /// and a cell state c beside h.
    case lstm
    /// A GRU: gates r, u, n with the reset gate applied to U h (the cuDNN / PyTorch form);
    /// its state is h alone.
    case gru
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

/// How a step is arranged at the start of a sequence and which frame the proposal encodes.
///
/// The two differ only in the first step's state and in the proposal's data input; parameters
/// are the same, so a model can be scored under either (docs/CHOICES.md says which is used
/// where and why).
public enum StepSemantics: String, Codable, Sendable, CaseIterable {
    /// As the VRNN equations are usually written: the first step's heads read h_0 = c_0 = 0
    /// (and a zero hyper state), and the proposal q(z_t | x_t, h_{t-1}) encodes the same
    /// (mean-centred) frame phi_x(x_t - m) that the recurrence reads.
    case standard
    /// As the FIVO reference code (which the paper's experiments ran on) computes it. FIVO runs
    /// its recurrence *before* the heads of each step, starting from a zero frame and a zero
    /// latent encoding, so the state the first step's heads read is one recurrence step from
    /// zero: h'_0 = g([phi_x(0), 0], h = c = 0) (for a VHRNN with theta reading u = 0 from a
    /// zero hyper state); after that the recursion is the standard one. And its proposal
    /// encodes the raw target frame, phi_x(x_t), while the recurrence reads phi_x(x_t - m).
    case fivo
}

/// Every size and choice that defines a model's parameters and computation.
///
/// Names map to the symbols of <doc:ModelArchitecture#Notation>: `latentDim` Z, `hiddenDim` H,
/// `hyperDim` Hh, `encodedDim` E, `fcWidths` the hidden layers of every MLP (phi_x, phi_z,
/// prior, proposal, emission), `omegaHidden` the emission hyper network's hidden width.
///
/// The configuration fixes the parameter layout (``SequenceModel/parameters``) and is stored in
/// every checkpoint; ``validate()`` checks it before anything of its size is allocated.
public struct ModelConfiguration: Codable, Sendable, Equatable {
    /// VRNN or VHRNN; a VHRNN adds the tensors of theta, theta_head and omega.
    public var model: ModelKind
    /// The cell of the primary recurrence g and, in a VHRNN, of theta.
    public var cell: CellKind
    /// D: values per frame. The width of phi_x's input and of the emission's output (D logits,
    /// or D means and D raw scales).
    public var dataDim: Int
    /// The emission distribution: Bernoulli (binary frames) or diagonal Gaussian.
    public var emission: EmissionKind
    /// Z: the size of the latent z_t, of each of the prior's and the proposal's two heads
    /// (mean, raw scale) and of phi_z's input; also the standard normals a particle draws per
    /// step.
    public var latentDim: Int
    /// H: the state size of g (h_t, and c_t for an LSTM), read by the prior, the proposal and
    /// the emission.
    public var hiddenDim: Int
    /// Hh: the state size of theta, the recurrent hyper network (VHRNN only; a VRNN ignores it).
    public var hyperDim: Int
    /// E: the output width of both encoders, phi_x and phi_z; g reads their concatenation (2E).
    public var encodedDim: Int
    /// The hidden-layer widths shared by every MLP (phi_x, phi_z, prior, proposal, emission),
    /// input side first; empty makes each a single linear layer. At most ``maximumFCLayers``.
    public var fcWidths: [Int]
    /// The hidden width of omega, the emission hyper network (VHRNN only); the paper's Table 2
    /// "Hyper size" as read in <doc:ModelArchitecture#Parameter-counts>.
    public var omegaHidden: Int
    /// What theta and omega read: u_t = [z_t, h_{t-1}], z_t or h_{t-1} (VHRNN only).
    public var hyperInput: HyperInput
    /// The default ``sigmaMin``: 1e-5, where FIVO uses 0 (FIVO's sigma_min).
    ///
    /// Our choice. With no floor, softplus(raw + 0.5) underflows to exactly 0 for raw ≲ −745
    /// (double) or −104 (float) — which large-magnitude data reach in the first steps — and the
    /// log densities become −inf or NaN.
    public static let defaultSigmaMin = 1e-5
    /// Floor on every predicted standard deviation: the prior's, the proposal's and a Gaussian
    /// emission's scales are max(softplus(raw + 0.5), sigmaMin). Finite and ≥ 0; models
    /// imported from FIVO checkpoints use FIVO's 0.
    public var sigmaMin: Double
    /// The first step's state and the proposal's input (see ``StepSemantics``). Configurations
    /// stored before this field existed decode as `.standard`, the semantics they were run with.
    public var semantics: StepSemantics

    /// A configuration with FIVO's defaults for what is not given: H = Z, Hh = Z, E = Z, one
    /// fc hidden layer of width Z, omega 64 wide, hyper input [z, h].
    public init(model: ModelKind, cell: CellKind = .lstm, dataDim: Int, emission: EmissionKind,
                latentDim: Int, hiddenDim: Int? = nil, hyperDim: Int? = nil, encodedDim: Int? = nil,
                fcLayers: Int = 1, fcWidth: Int? = nil, omegaHidden: Int = 64,
                hyperInput: HyperInput = .both, sigmaMin: Double = ModelConfiguration.defaultSigmaMin,
                semantics: StepSemantics = .fivo) {
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
        self.semantics = semantics
    }

    enum CodingKeys: String, CodingKey {
        case model, cell, dataDim, emission, latentDim, hiddenDim, hyperDim, encodedDim, fcWidths, omegaHidden
        case hyperInput, sigmaMin, semantics
    }

    /// Decodes a configuration as stored in a checkpoint's `config.json`. Every field is
    /// required except ``semantics``, which checkpoints written before it existed lack: they
    /// decode as ``StepSemantics/standard``, the semantics they were trained with.
    ///
    /// Decoding does not validate; call ``validate()`` (building a model does).
    /// - Parameter decoder: the decoder to read from.
    /// - Throws: `DecodingError` when a required field is missing or has the wrong type.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decode(ModelKind.self, forKey: .model)
        cell = try c.decode(CellKind.self, forKey: .cell)
        dataDim = try c.decode(Int.self, forKey: .dataDim)
        emission = try c.decode(EmissionKind.self, forKey: .emission)
        latentDim = try c.decode(Int.self, forKey: .latentDim)
        hiddenDim = try c.decode(Int.self, forKey: .hiddenDim)
        hyperDim = try c.decode(Int.self, forKey: .hyperDim)
        encodedDim = try c.decode(Int.self, forKey: .encodedDim)
        fcWidths = try c.decode([Int].self, forKey: .fcWidths)
        omegaHidden = try c.decode(Int.self, forKey: .omegaHidden)
        hyperInput = try c.decode(HyperInput.self, forKey: .hyperInput)
        sigmaMin = try c.decode(Double.self, forKey: .sigmaMin)
        // Absent in checkpoints written before the FIVO semantics existed: those ran `.standard`.
        semantics = try c.decodeIfPresent(StepSemantics.self, forKey: .semantics) ?? .standard
    }

    /// Checks every size; the message names the offending field.
    ///
    /// Every width must be positive (``hyperDim`` and ``omegaHidden`` only in a VHRNN) and at
    /// most 2^16, there may be at most ``maximumFCLayers`` fc layers, and ``sigmaMin`` must be
    /// finite and ≥ 0.
    /// - Throws: ``ConfigurationError`` naming the first offending field.
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
        // Bounded so that no layer's element count can overflow (2^16 × 2^16 per matrix) and a
        // hostile config.json cannot ask for billions of layers.
        let limit = 1 << 16
        let widths = [(dataDim, "dataDim"), (latentDim, "latentDim"), (hiddenDim, "hiddenDim"), (hyperDim, "hyperDim"),
                      (encodedDim, "encodedDim"), (omegaHidden, "omegaHidden")]
            + fcWidths.enumerated().map { ($1, "fcWidths[\($0)]") }
        for (value, name) in widths where value > limit {
            throw ConfigurationError(field: name, message: "\(value) exceeds the supported maximum \(limit)")
        }
        guard fcWidths.count <= Self.maximumFCLayers else {
            throw ConfigurationError(field: "fcWidths", message: "has \(fcWidths.count) layers, more than the supported \(Self.maximumFCLayers)")
        }
    }

    /// The most hidden layers a fully connected network may have.
    public static let maximumFCLayers = 64

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
    /// The offending field as ``ModelConfiguration`` spells it (`latentDim`, `fcWidths[1]`),
    /// or `outputBias` (a bias of the wrong length) or `sizes` (too many parameters in all).
    public var field: String
    /// What is wrong with it, e.g. `must be positive, got 0`.
    public var message: String
    /// `invalid model configuration: <field> <message>`, each part shortened to an excerpt if
    /// it is very long.
    public var description: String {
        "invalid model configuration: \(DataFileError.excerpt(field, limit: 100)) \(DataFileError.excerpt(message, limit: 500))"
    }
}

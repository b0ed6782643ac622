/// A VRNN or VHRNN with its parameters: the object users build, train, evaluate and save.
public final class SequenceModel<Scalar: KernelScalar> {
    /// The sizes and choices the model was built from (validated); fixed for its lifetime.
    public let configuration: ModelConfiguration
    let architecture: ModelArchitecture
    /// Values, gradients and Adam moments in flat arenas.
    public let parameters: ParameterStore<Scalar>

    /// A freshly initialised model (<doc:ModelArchitecture#Initialisation>: Glorot-uniform
    /// weights, zero biases, hyper heads at scale 1 / bias 0).
    /// - Parameters:
    ///   - configuration: the sizes and choices; validated here.
    ///   - outputBias: the emission's initial output bias, e.g. ``bernoulliOutputBias(frameMean:)``
    ///     (D values; nil: zeros).
    ///   - generator: draws the initial weights.
    /// - Throws: ``ConfigurationError`` when the configuration is invalid
    ///   (``ModelConfiguration/validate()``), `outputBias` does not have D values, or the model
    ///   would have more than ``maximumParameterCount`` parameters.
    public convenience init(configuration: ModelConfiguration, outputBias: [Double]? = nil,
                generator: inout some RandomNumberGenerator) throws {
        try self.init(architecture: ModelArchitecture(configuration, outputBias: outputBias), generator: &generator)
    }

    init(architecture: ModelArchitecture, generator: inout some RandomNumberGenerator) throws {
        self.configuration = architecture.configuration
        self.architecture = architecture
        guard architecture.layout.count <= Self.maximumParameterCount else {
            throw ConfigurationError(field: "sizes", message: "give \(architecture.layout.count) parameters, more than the supported \(Self.maximumParameterCount)")
        }
        parameters = ParameterStore(layout: architecture.layout, generator: &generator)
    }

    /// Models above this size are refused (four arenas of this many scalars are allocated).
    public static var maximumParameterCount: Int { 250_000_000 }

    /// Trainable parameters.
    public var parameterCount: Int { parameters.count }

    /// The paper's count: trainable plus FIVO's unused reverse LSTM
    /// (<doc:ModelArchitecture#Parameter-counts>).
    public var paperParameterCount: Int { architecture.paperParameterCount }

    /// Forward matrix-multiply FLOPs per particle-step and per sequence-step (phi_x).
    public var forwardMatmulFlops: (perParticleStep: Int, perSequenceStep: Int) { architecture.forwardFlops }

    /// The Bernoulli output bias FIVO starts from: logit(clip(m, 1e-4, 0.9999)) per key.
    public static func bernoulliOutputBias(frameMean: [Double]) -> [Double] {
        frameMean.map { m in
            let p = min(max(m, 1e-4), 0.9999)
            return _logDouble(p / (1 - p))
        }
    }
}

extension SequenceModel {
    /// The model saved in a checkpoint directory, with its Adam moments and step when
    /// `includeTrainingState`. Returns the model and any conversion notes (e.g. a float64
    /// checkpoint loaded into float32).
    public static func load(checkpoint: LoadedCheckpoint, includeTrainingState: Bool = true) throws
        -> (model: SequenceModel<Scalar>, notes: [String]) {
        // The config must describe the weights file before anything of its size is allocated: a
        // config.json that contradicts model.safetensors is refused here, naming config.json.
        let configPath = checkpoint.directory + "/" + Checkpoint.configFile
        let architecture: ModelArchitecture
        do { architecture = try ModelArchitecture(checkpoint.config.model) } catch let error as ConfigurationError {
            throw DataFileError(path: configPath, location: "model.\(error.field)", message: error.message)
        }
        let stored = checkpoint.parameters.reduce(0) { $0 + $1.values.count }
        guard architecture.layout.count == stored else {
            throw DataFileError(path: configPath, location: "model",
                                message: "describes a model of \(architecture.layout.count) parameters, but \(Checkpoint.modelFile) holds \(stored)")
        }
        var unused = SplitMix64(seed: 0)
        let model = try SequenceModel(architecture: architecture, generator: &unused)
        let notes = try checkpoint.restore(into: model.parameters, includeTrainingState: includeTrainingState)
        return (model, notes)
    }
}

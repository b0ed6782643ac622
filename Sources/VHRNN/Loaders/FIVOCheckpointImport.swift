import Foundation

/// Converts a VRNN trained by the FIVO reference code (a TF1 `Saver` checkpoint, read by
/// ``TensorFlowCheckpoint``) into this library's model, in ``StepSemantics/fivo``.
///
/// FIVO's variables (`models/vrnn.py`, Sonnet modules; a Sonnet `Linear` stores `w` as
/// `(in, out)`, ours are `(out, in)`, so every weight is transposed):
///
///     data_encoder/linear_i/{w,b}                phi_x layer i
///     latent_encoder/linear_i/{w,b}              phi_z layer i
///     prior_fcnet/linear_i/{w,b}                 prior layer i (last layer: [mu | raw sigma])
///     approximate_posterior_fcnet/linear_i/{w,b} proposal layer i (input [h, phi_x(x)])
///     generative_fcnet/linear_i/{w,b}            emission layer i (input [phi_z(z), h])
///     lstm_cell/kernel (2E + H, 4H), bias (4H)   rnn: rows [0, 2E) the input weight (input
///                                                [phi_x, phi_z]), rows [2E, 2E + H) the
///                                                recurrent weight; gates i, j, f, o as ours
///     rnn/lstm_cell/{kernel,bias}                the reverse LSTM of FIVO's smoothing proposal,
///                                                unused by the filtering proposal: dropped
///     global_step, beta1_power, beta2_power, */Adam, */Adam_1   training state: ignored
///
/// FIVO adds the Bernoulli bias logit(clip(m, 1e-4, 0.9999)) of the training-frame mean m to
/// the emission logits as a run-time constant; here it is folded into the stored output bias
/// (exact up to one float rounding). FIVO's sigma floor is 0, and so is the imported model's.
public enum FIVOCheckpointImport {
    /// What the conversion produced.
    public struct Result {
        /// The VRNN the variables describe (sizes from their shapes, FIVO step semantics, no sigma
        /// floor).
        public var configuration: ModelConfiguration
        /// Our tensors by name, row-major as ``ParameterLayout`` lays them out.
        public var tensors: [String: [Float]]
        /// Scalars in the dropped reverse LSTM (counted by the paper, unused here).
        public var droppedReverseLSTMCount: Int
        /// FIVO's `global_step`, if stored.
        public var globalStep: Int64?
        /// One line per thing worth telling the user (dropped and ignored variables).
        public var notes: [String]
    }

    static let networks: [(fivo: String, ours: String)] = [
        ("data_encoder", "phi_x"), ("latent_encoder", "phi_z"), ("prior_fcnet", "prior"),
        ("approximate_posterior_fcnet", "proposal"), ("generative_fcnet", "emission"),
    ]

    /// Converts the checkpoint at `prefix` (the path without `.index`).
    ///
    /// - Parameters:
    ///   - prefix: the TF1 checkpoint prefix, e.g. `runs/fivo/model.ckpt-100000` (its `.index`
    ///     and `.data-*` files are read, checksums verified).
    ///   - trainFrameMean: the per-key mean of the training frames (Bernoulli emission: needed,
    ///     FIVO keeps it outside the checkpoint). Ignored for a Gaussian emission.
    ///   - latentSize: if given, must equal the latent size the shapes imply.
    /// - Returns: the configuration, our tensors and notes on what was dropped or ignored.
    /// - Throws: ``TensorFlowCheckpointError`` for unreadable files, ``FIVOImportError`` naming
    ///   the variable for anything unexpected.
    public static func convert(prefix: String, trainFrameMean: [Double]?, latentSize: Int? = nil) throws -> Result {
        let checkpoint = try TensorFlowCheckpoint(prefix: prefix)
        let file = (prefix as NSString).lastPathComponent
        func fail(_ variable: String, _ message: String) -> FIVOImportError {
            FIVOImportError(checkpoint: file, variable: variable, message: message)
        }

        // Sort every variable into model, reverse LSTM, or training state.
        var used = Set<String>()
        var notes: [String] = []
        let names = Set(checkpoint.entries.map(\.name))
        func entry(_ name: String) throws -> TensorFlowCheckpoint.Entry {
            guard let e = checkpoint.entry(named: name) else { throw fail(name, "missing") }
            guard e.dtype == .float else { throw fail(name, "has dtype \(e.dtype), expected float32") }
            used.insert(name)
            return e
        }

        // Each network's layers: linear_0, linear_1, … with w (in, out) and b (out).
        var layers: [String: [(w: TensorFlowCheckpoint.Entry, b: TensorFlowCheckpoint.Entry)]] = [:]
        for (fivo, _) in networks {
            var list: [(TensorFlowCheckpoint.Entry, TensorFlowCheckpoint.Entry)] = []
            while names.contains("\(fivo)/linear_\(list.count)/w") {
                let w = try entry("\(fivo)/linear_\(list.count)/w"), b = try entry("\(fivo)/linear_\(list.count)/b")
                guard w.shape.count == 2, b.shape == [w.shape[1]] else {
                    throw fail(b.name, "has shape \(b.shape), expected [\(w.shape.last ?? 0)] to match \(w.name) \(w.shape)")
                }
                if let previous = list.last, previous.0.shape[1] != w.shape[0] {
                    throw fail(w.name, "has shape \(w.shape) but the previous layer outputs \(previous.0.shape[1])")
                }
                list.append((w, b))
            }
            guard !list.isEmpty else { throw fail("\(fivo)/linear_0/w", "missing") }
            layers[fivo] = list
        }
        let kernel = try entry("lstm_cell/kernel"), bias = try entry("lstm_cell/bias")

        // Sizes from the shapes.
        let dataEncoder = layers["data_encoder"]!, latentEncoder = layers["latent_encoder"]!
        let generative = layers["generative_fcnet"]!
        let D = dataEncoder[0].w.shape[0], E = dataEncoder.last!.w.shape[1]
        let Z = latentEncoder[0].w.shape[0]
        let fc = dataEncoder.dropLast().map { $0.w.shape[1] }
        guard kernel.shape.count == 2, kernel.shape[1] % 4 == 0 else {
            throw fail(kernel.name, "has shape \(kernel.shape), expected (2E + H, 4H)")
        }
        let H = kernel.shape[1] / 4
        guard kernel.shape[0] == 2 * E + H, bias.shape == [4 * H] else {
            throw fail(kernel.name, "has shape \(kernel.shape) (bias \(bias.shape)); with E = \(E), H = \(H) expected [\(2 * E + H), \(4 * H)] and [\(4 * H)]")
        }
        if let latentSize, latentSize != Z {
            throw fail(latentEncoder[0].w.name, "implies latent size \(Z), but --latent \(latentSize) was given")
        }
        let outD = generative.last!.w.shape[1]
        guard outD == D || outD == 2 * D else {
            throw fail(generative.last!.w.name, "outputs \(outD) values; a Bernoulli emission has \(D), a Gaussian \(2 * D)")
        }
        let emission: EmissionKind = outD == D ? .bernoulli : .gaussian

        var config = ModelConfiguration(model: .vrnn, cell: .lstm, dataDim: D, emission: emission, latentDim: Z,
                                        hiddenDim: H, encodedDim: E, fcLayers: fc.count, sigmaMin: 0,
                                        semantics: .fivo)
        config.fcWidths = fc
        let layout = try ModelArchitecture(config).layout

        // Copy every network, checking each shape against our layout.
        var tensors: [String: [Float]] = [:]
        for (fivo, ours) in networks {
            let list = layers[fivo]!
            let expectedLayers = fc.count + 1
            guard list.count == expectedLayers else {
                throw fail("\(fivo)/linear_\(list.count - 1)/w",
                           "\(fivo) has \(list.count) layers but data_encoder has \(expectedLayers); one hidden-layer list for every network is supported")
            }
            for (i, layer) in list.enumerated() {
                let name = "\(ours).layer\(i)"
                guard let wt = layout.tensor(named: name + ".weight"), let bt = layout.tensor(named: name + ".bias") else {
                    throw fail(layer.w.name, "has no counterpart \(name) in the model")
                }
                guard wt.shape == [layer.w.shape[1], layer.w.shape[0]] else {
                    throw fail(layer.w.name, "has shape \(layer.w.shape); the model (D=\(D), Z=\(Z), H=\(H), E=\(E), fc=\(fc)) expects \([wt.shape[1], wt.shape[0]])")
                }
                let (rows, cols) = (layer.w.shape[0], layer.w.shape[1])
                let w = try checkpoint.floatValues(layer.w.name)
                var transposed = [Float](repeating: 0, count: w.count)
                for r in 0..<rows { for c in 0..<cols { transposed[c * rows + r] = w[r * cols + c] } }
                tensors[wt.name] = transposed
                tensors[bt.name] = try checkpoint.floatValues(layer.b.name)
            }
        }
        // The LSTM: kernel rows are [phi_x | phi_z | h] inputs, columns the 4H gates.
        let k = try checkpoint.floatValues(kernel.name)
        let G = 4 * H
        var inputWeight = [Float](repeating: 0, count: G * 2 * E), recurrentWeight = [Float](repeating: 0, count: G * H)
        for r in 0..<(2 * E + H) {
            for g in 0..<G {
                if r < 2 * E { inputWeight[g * 2 * E + r] = k[r * G + g] } else { recurrentWeight[g * H + r - 2 * E] = k[r * G + g] }
            }
        }
        tensors["rnn.input_weight"] = inputWeight
        tensors["rnn.recurrent_weight"] = recurrentWeight
        tensors["rnn.bias"] = try checkpoint.floatValues(bias.name)

        // FIVO's run-time Bernoulli bias, folded into the stored one.
        let outputBias = "emission.layer\(fc.count).bias"
        if emission == .bernoulli {
            guard let trainFrameMean else {
                var error = fail("generative_fcnet", "a Bernoulli emission needs the training-frame mean (FIVO keeps it outside the checkpoint): give the training data")
                error.needsTrainingData = true
                throw error
            }
            guard trainFrameMean.count == D else {
                throw fail("generative_fcnet", "the training-frame mean has \(trainFrameMean.count) values, the model \(D) keys")
            }
            let offset = SequenceModel<Float>.bernoulliOutputBias(frameMean: trainFrameMean)
            tensors[outputBias] = zip(tensors[outputBias]!, offset).map { Float(Double($0) + $1) }
        }
        for t in layout.tensors where tensors[t.name]?.count != t.count {
            throw fail(t.name, "was not filled (internal mapping error)")
        }

        // What is left must be the reverse LSTM or training state.
        var dropped = 0
        var globalStep: Int64?
        let reverse = ["rnn/lstm_cell/kernel", "rnn/lstm_cell/bias"]
        for name in reverse where names.contains(name) {
            dropped += checkpoint.entry(named: name)!.shape.reduce(1, *)
            used.insert(name)
        }
        if dropped > 0 {
            notes.append("dropped rnn/lstm_cell/{kernel,bias} (\(dropped) values): the reverse LSTM of FIVO's smoothing proposal, unused by the filtering proposal")
        }
        if names.contains("global_step") {
            globalStep = try checkpoint.int64Values("global_step").first
            used.insert("global_step")
        }
        let modelVariables = used
        var ignored = 0
        for name in names.sorted() where !used.contains(name) {
            let isSlot = (name.hasSuffix("/Adam") || name.hasSuffix("/Adam_1"))
                && modelVariables.contains(String(name[..<name.lastIndex(of: "/")!]))
            guard isSlot || name == "beta1_power" || name == "beta2_power" else {
                throw fail(name, "unexpected variable (not part of FIVO's VRNN with a filtering proposal)")
            }
            ignored += 1
        }
        if ignored > 0 { notes.append("ignored \(ignored) optimizer variables (Adam slots, beta powers)") }
        return Result(configuration: config, tensors: tensors, droppedReverseLSTMCount: dropped,
                      globalStep: globalStep, notes: notes)
    }

    /// Converts and saves as one of our checkpoints in `directory` (float32, no training state).
    ///
    /// - Parameters:
    ///   - prefix: the TF1 checkpoint prefix (see ``convert(prefix:trainFrameMean:latentSize:)``).
    ///   - data: the data the model was trained on; its `trainFrameMean` supplies FIVO's
    ///     Bernoulli bias and it is recorded in `config.json`.
    ///   - latentSize: if given, must equal the latent size the shapes imply.
    ///   - directory: the checkpoint directory to write.
    /// - Returns: the conversion and the model built from it.
    /// - Throws: the errors of ``convert(prefix:trainFrameMean:latentSize:)`` and
    ///   ``save(_:data:to:)``.
    @discardableResult
    public static func importCheckpoint(prefix: String, data: DataSpec, latentSize: Int? = nil,
                                        to directory: String) throws -> (result: Result, model: SequenceModel<Float>) {
        let result = try convert(prefix: prefix, trainFrameMean: data.trainFrameMean, latentSize: latentSize)
        return (result, try save(result, data: data, to: directory))
    }

    /// Saves a converted checkpoint as one of ours in `directory`.
    ///
    /// - Parameters:
    ///   - result: what ``convert(prefix:trainFrameMean:latentSize:)`` produced.
    ///   - data: the training data's description (its dimension must match the model's).
    ///   - directory: the checkpoint directory to write.
    /// - Returns: the model holding the converted parameters.
    /// - Throws: ``FIVOImportError`` for a data dimension that does not match;
    ///   ``DataFileError`` when the checkpoint cannot be written.
    @discardableResult
    public static func save(_ result: Result, data: DataSpec, to directory: String) throws -> SequenceModel<Float> {
        guard data.dataDim == result.configuration.dataDim else {
            throw FIVOImportError(checkpoint: directory, variable: "data_encoder/linear_0/w",
                                  message: "the model reads \(result.configuration.dataDim) dimensions, the data has \(data.dataDim)")
        }
        var unused = SplitMix64(seed: 0)
        let model = try SequenceModel<Float>(configuration: result.configuration, generator: &unused)
        for t in model.parameters.layout.tensors {
            result.tensors[t.name]!.withUnsafeBufferPointer {
                (model.parameters.values + t.offset).update(from: $0.baseAddress!, count: t.count)
            }
        }
        try Checkpoint.save(model.parameters, model: result.configuration, data: data, to: directory)
        return model
    }
}

/// A FIVO checkpoint does not hold the VRNN the importer expects; names the variable.
public struct FIVOImportError: Error, CustomStringConvertible, Sendable {
    /// The checkpoint prefix (or output directory) concerned.
    public var checkpoint: String
    /// The TensorFlow variable name, e.g. `lstm_cell/kernel`.
    public var variable: String
    /// What is wrong with it (missing, unexpected, mis-shaped, mis-typed).
    public var message: String
    /// The checkpoint is fine but its Bernoulli emission needs the training-frame mean.
    public var needsTrainingData = false
    /// One line: `checkpoint: variable: message`, with the variable and message cut short when
    /// long.
    public var description: String {
        "\(checkpoint): \(DataFileError.excerpt(variable, limit: 200)): \(DataFileError.excerpt(message, limit: 500))"
    }
}

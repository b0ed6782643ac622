import ArgumentParser
import Foundation
import VHRNN

/// `vhrnn import-fivo`: converts a VRNN checkpoint written by the FIVO reference code.
struct ImportFIVOCommand: VHRNNSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "import-fivo",
        abstract: "Convert a FIVO (TensorFlow 1) VRNN checkpoint into one of ours, in FIVO semantics.",
        discussion: """
            CHECKPOINT is the checkpoint prefix (model.ckpt-N), its .index file, or a folder holding a \
            TensorFlow `checkpoint` file (its newest entry is used). The .index table and .data shards \
            are read without TensorFlow and every checksum is verified. Sizes are inferred from the \
            shapes; a Bernoulli model needs --data, whose training-frame mean FIVO adds to the \
            emission logits at run time. The reverse LSTM (unused by the filtering proposal) is \
            dropped and the optimizer slots are ignored. See docs/CHECKPOINTS.md.
            """)

    @Argument(help: "Checkpoint prefix, .index file, or folder with a `checkpoint` file.")
    var checkpoint: String

    @Option(help: "Output checkpoint directory.")
    var out: String

    @Option(help: "Training data (for the Bernoulli bias and the checkpoint's data source), e.g. pianoroll-chunks:100:PATH.")
    var data: String?

    @Option(help: "Expected latent size (checked against the shapes; inferred when omitted).")
    var latent: Int?

    @OptionGroup var outputFormat: OutputFormatOptions<Self>

    func execute() throws {
        let prefix = try Self.resolvePrefix(checkpoint)
        var spec: DataSpec?
        if let data {
            let source = try DataSource(parsing: data)
            spec = DataSpec(source: source.description, dataset: try source.load(seed: 0))
        }
        let result: FIVOCheckpointImport.Result
        do {
            result = try FIVOCheckpointImport.convert(prefix: prefix, trainFrameMean: spec?.trainFrameMean,
                                                      latentSize: latent)
        } catch let error as FIVOImportError where error.needsTrainingData {
            throw CLIError("\(prefix): a Bernoulli VRNN needs --data (FIVO keeps its training-frame mean outside the checkpoint)")
        }
        let dataSpec = spec ?? DataSpec(source: "unknown", kind: .real, dataDim: result.configuration.dataDim)
        let model = try FIVOCheckpointImport.save(result, data: dataSpec, to: out)
        let c = result.configuration
        if outputFormat.json {
            var object: [String: Any] = [
                "out": out, "checkpoint": prefix, "latent": c.latentDim, "hidden": c.hiddenDim,
                "encoded": c.encodedDim, "fc_widths": c.fcWidths, "emission": c.emission.rawValue,
                "data_dim": c.dataDim, "trainable": model.parameterCount, "paper_count": model.paperParameterCount,
                "dropped_reverse_lstm": result.droppedReverseLSTMCount, "notes": result.notes,
                "semantics": c.semantics.rawValue,
            ]
            if let step = result.globalStep { object["global_step"] = step }
            printJSON(object)
        } else {
            print("imported \(prefix)\(result.globalStep.map { " (global step \($0))" } ?? "")")
            print("  VRNN: Z=\(c.latentDim) H=\(c.hiddenDim) E=\(c.encodedDim) fc=\(c.fcWidths) D=\(c.dataDim) \(c.emission.rawValue), \(c.semantics.rawValue) semantics")
            print("  parameters: \(model.parameterCount) trainable, \(model.paperParameterCount) as the paper counts them (with the reverse LSTM)")
            for note in result.notes { print("  \(note)") }
            print("  wrote \(out)")
        }
    }

    /// The checkpoint prefix for a prefix, an `.index` path, or a folder with a `checkpoint` file.
    static func resolvePrefix(_ path: String) throws -> String {
        var isDirectory: ObjCBool = false
        let fm = FileManager.default
        if fm.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            let stateFile = (path as NSString).appendingPathComponent("checkpoint")
            guard let text = try? String(contentsOfFile: stateFile, encoding: .utf8) else {
                throw CLIError("\(path): a folder without a TensorFlow `checkpoint` file; give the checkpoint prefix (model.ckpt-N)")
            }
            // model_checkpoint_path: "/their/path/model.ckpt-N" — the authors' path; keep the name.
            guard let line = text.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("model_checkpoint_path:") }),
                  let open = line.firstIndex(of: "\""), let close = line.lastIndex(of: "\""), open < close else {
                throw CLIError("\(stateFile): no model_checkpoint_path line")
            }
            let name = (String(line[line.index(after: open)..<close]) as NSString).lastPathComponent
            return (path as NSString).appendingPathComponent(name)
        }
        if path.hasSuffix(".index") { return String(path.dropLast(".index".count)) }
        return path
    }
}

import ArgumentParser
import Foundation
import VHRNN

/// `vhrnn sample`: sequences drawn from a checkpoint's generative model, optionally continuing
/// an observed prefix, written in the dataset's own format.
struct SampleCommand: VHRNNSubcommand, ParticleFlagWording {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Draw sequences from a checkpoint's model, from scratch or continuing a data prefix.",
        discussion: """
            Without a prefix, draws --count sequences of --steps frames from the prior. With \
            --prefix-sequence I, takes the first --prefix-steps frames (default: all) of sequence I of \
            --prefix-split (default test), filters them with --particles particles (FIVO), and continues each \
            sample from a posterior particle for --steps frames; the written sequences are the prefix followed \
            by the continuation. --mean writes (and feeds back) the emission means instead of draws.

            Piano-roll checkpoints (binary data) write, per sample, a MIDI note list PREFIX-I.txt (one line of \
            note numbers per step) and a Standard MIDI File PREFIX-I.mid; real-valued checkpoints write one CSV \
            table PREFIX.csv (sequence,step,x0,...), in the data's own units when the training data was \
            normalised. --out is that file prefix or a directory (default: "sample" in the current directory).
            """)

    /// A `ValidationError` while running (e.g. `--checkpoint` naming no checkpoint) has always
    /// exited 1 here, not 64 as in the other commands.
    static let validationErrorWhileRunningExitCode = ExitCode(1)

    // How this command's shared flags read (FilterOptions.swift).
    static let defaultParticles = 32
    static let particlesHelp = "Particles K of the filter over the prefix."

    @Option(help: "Checkpoint directory, or a training output directory (uses its best/).")
    var checkpoint: String

    @Option(help: "Run the model under these step semantics (fivo or standard) instead of the checkpoint's.")
    var semantics: StepSemantics?

    @Option(help: "Number of sequences to draw.")
    var count: Int = 4

    @Option(help: "Frames to generate per sequence (after the prefix, if any).")
    var steps: Int = 100

    @Option(help: "Data for the prefix (default: the checkpoint's training data source).")
    var data: String?

    @Option(name: .customLong("prefix-split"), help: "Split of the prefix sequence: train, valid or test.")
    var prefixSplit: SplitName?

    @Option(name: .customLong("prefix-sequence"), help: "Index (0-based) of the sequence whose start is the prefix.")
    var prefixSequence: Int?

    @Option(name: .customLong("prefix-steps"), help: "Frames of the prefix (default: the whole sequence).")
    var prefixSteps: Int?

    @OptionGroup var particleOptions: ParticleOptions<Self>
    var particles: Int { particleOptions.particles }

    @Flag(help: "Write the emission means instead of draws.")
    var mean = false

    @Option(help: "Output file prefix or directory.")
    var out: String?

    @Option(help: "Seed for the draws (and for regenerating synthetic prefix data, as in training).")
    var seed: UInt64 = 0

    @OptionGroup var outputFormat: OutputFormatOptions<Self>

    func validate() throws {
        if count < 1 { throw ValidationError("--count must be positive, got \(count)") }
        if steps < 1 { throw ValidationError("--steps must be positive, got \(steps)") }
        try particleOptions.validateParticles(atMost: Limits.sampleParticles)
        if let prefixSequence, prefixSequence < 0 {
            throw ValidationError("--prefix-sequence must be at least 0, got \(prefixSequence)")
        }
        if let prefixSteps, prefixSteps < 1 { throw ValidationError("--prefix-steps must be positive, got \(prefixSteps)") }
        if prefixSequence == nil {
            if prefixSplit != nil { throw ValidationError("--prefix-split needs --prefix-sequence") }
            if prefixSteps != nil { throw ValidationError("--prefix-steps needs --prefix-sequence") }
            if data != nil { throw ValidationError("--data is only used for a prefix; add --prefix-sequence") }
        }
        if let data { _ = try DataSource(parsing: data) }
    }

    /// Refuses outputs too large to hold in memory.
    private func checkSize(totalSteps: Int, dataDim: Int) throws {
        let (perSample, o1) = totalSteps.multipliedReportingOverflow(by: dataDim)
        let (values, o2) = perSample.multipliedReportingOverflow(by: count)
        guard !o1, !o2, values <= Limits.sampleValues else {
            throw CLIError("--count \(count) × \(totalSteps) steps × \(dataDim) dimensions is too large "
                + "(at most \(Limits.sampleValues) values)")
        }
    }

    func execute() throws {
        let (directory, loaded, model) = try loadInferenceModel(checkpoint, semantics: semantics)
        let spec = loaded.config.data, D = loaded.config.model.dataDim
        let binary = spec.kind == .binary
        let offset = binary ? spec.trainFrameMean : nil
        if let offset, offset.count != D {
            throw CLIError("the checkpoint's trainFrameMean has \(offset.count) values, the model \(D) dimensions")
        }
        if binary && PianoRollWriter.lowestNote + D > 128 {
            throw CLIError("the checkpoint's \(D) binary dimensions do not fit MIDI notes \(PianoRollWriter.lowestNote)...127")
        }
        let output: EmissionOutput = mean ? .mean : .sample
        let sampler = SequenceSampler(model: model)

        var prefix: [Double] = []
        var normalization = spec.normalization
        var prefixDescription: String?
        let sequences: [[Double]]
        if let prefixSequence {
            let split = prefixSplit ?? .test
            let (dataset, source) = try dataset(for: loaded, data: data, seed: seed)
            let frames = try sequenceFrames(of: split, in: dataset, index: prefixSequence, source: source)
            let length = frames.count / D
            let P = prefixSteps ?? length
            guard P <= length else {
                throw CLIError("--prefix-steps \(P): \(split.rawValue) sequence \(prefixSequence) of \(source) has only \(length) steps")
            }
            try checkSize(totalSteps: P + steps, dataDim: D)
            prefix = Array(frames.prefix(P * D))
            if let n = dataset.normalization { normalization = n }
            prefixDescription = "\(P) steps of \(source) \(split.rawValue) sequence \(prefixSequence)"
            let continuations = try sampler.continue(prefix: prefix, steps: steps, count: count, seed: seed,
                                                     particles: particles, output: output, inputOffset: offset)
            sequences = continuations.map { prefix + $0 }
        } else {
            try checkSize(totalSteps: steps, dataDim: D)
            sequences = sampler.sample(count: count, steps: steps, seed: seed, output: output, inputOffset: offset)
        }
        let prefixLength = prefix.count / D

        var files: [String] = []
        if binary {
            let base = try outputPrefix(out, defaultName: "sample", strip: ["txt", "mid"])
            for (i, s) in sequences.enumerated() {
                let txt = "\(base)-\(i).txt", mid = "\(base)-\(i).mid"
                try writeFile(Data(PianoRollWriter.noteList(flat: s, keys: D).utf8), to: txt)
                try writeFile(Data(PianoRollWriter.midiFile(flat: s, keys: D)), to: mid)
                files += [txt, mid]
            }
        } else {
            let base = try outputPrefix(out, defaultName: "sample", strip: ["csv"])
            let path = base + ".csv"
            if let n = normalization, n.mean.count != D || n.std.count != D {
                throw CLIError("the normalisation has \(n.mean.count) dimensions, the model \(D)")
            }
            try SeriesCSVWriter.write(sequences: sequences, dataDim: D, denormalizing: normalization, to: path)
            files = [path]
        }

        if outputFormat.json {
            var object: [String: Any] = ["checkpoint": directory, "count": count, "steps": steps,
                                         "prefix_steps": prefixLength, "mean": mean, "seed": seed,
                                         "format": binary ? "midi" : "csv", "files": files,
                                         "denormalized": !binary && normalization != nil]
            if prefixLength > 0 { object["particles"] = particles }
            printJSON(object)
        } else {
            print("\(directory): \(count) sequence\(count == 1 ? "" : "s") of \(steps) \(mean ? "mean" : "sampled") steps"
                + (prefixDescription.map { " after \($0) (K=\(particles)); the files start with the prefix" } ?? " from the prior"))
            for f in files { print("wrote \(f)") }
        }
    }
}

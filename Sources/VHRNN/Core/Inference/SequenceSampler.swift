internal import CVHRNN
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

/// Generates sequences from a model's generative process (<doc:ModelArchitecture>), from
/// scratch or as the continuation of an observed prefix.
///
/// One generation step for every row (sample) at once, through the same kernels as the filter:
///
///     z_t ~ N(mu_p, sigma_p)              prior(h_{t-1}); sigma_p = max(softplus(raw + 0.5), sigmaMin)
///     ez  = phi_z(z_t)
///     u_t = [z_t, h_{t-1}] (or one part)  VHRNN only; omega(u_t) modulates the emission
///     x_t ~ emission(ez, h_{t-1})         Bernoulli(sigmoid(l)) or N(mu_x, sigma_x); or its mean
///     ex  = phi_x(x_t - inputOffset)
///     h_t = g(h_{t-1}, [ex, ez])          theta(u_t) scales g in a VHRNN
///
/// starting from h_0 = c_0 = 0 and a zero hyper state (``StepSemantics/standard``) or from
/// FIVO's initial state h'_0 (`.fivo`).
///
/// Randomness: every row has its own SplitMix64 stream seeded from `seed` and the row index;
/// per step it draws Z normals for z_t and then D values for the emission (normals for a
/// Gaussian, uniforms for a Bernoulli) whatever the ``EmissionOutput``. So the result is a
/// deterministic function of (parameters, seed, row), sample i is the same whether 1 or 100
/// samples are drawn beside it, and `.mean` sees the same latent path as `.sample`.
///
/// Buffers are allocated once per sample count (in one workspace, `SamplerWorkspace`) and
/// reused; the time loop allocates nothing.
public final class SequenceSampler<S: KernelScalar> {
    /// The model whose generative process is sampled; its parameters are only read.
    public let model: SequenceModel<S>
    var workspace: SamplerWorkspace<S>?
    /// Created on first use by a continuation, then reused with its buffers.
    private var filter: ParticleFilter<S>?

    /// A sampler for `model`. Allocates nothing yet: buffers come with the first call for a
    /// given sample count.
    public init(model: SequenceModel<S>) { self.model = model }

    /// Draws `count` sequences of `steps` frames from the prior.
    /// - Parameters:
    ///   - count: the number of sequences, all generated at once as rows (at least 1).
    ///   - steps: frames per sequence (0 gives empty sequences).
    ///   - seed: row i's noise stream is derived from `seed` and i, so a sample does not
    ///     depend on how many are drawn beside it.
    ///   - output: write (and feed back) emission draws or emission means.
    ///   - inputOffset: subtracted from each generated frame before phi_x reads it. For binary
    ///     data pass the dataset's `trainFrameMean`: the model was trained on mean-centred
    ///     inputs (<doc:ModelArchitecture#Data-inputs-and-targets>) and scores the raw 0/1
    ///     frames, which is what comes out here.
    /// - Returns: `count` arrays, each a flat `(steps, D)` sequence.
    /// - Complexity: O(count · steps) model steps; the workspace is reallocated only when
    ///   `count` differs from the previous call's.
    public func sample(count: Int, steps: Int, seed: UInt64, output: EmissionOutput = .sample,
                       inputOffset: [Double]? = nil) -> [[Double]] {
        precondition(count >= 1, "sample at least one sequence")
        precondition(steps >= 0, "steps must be non-negative")
        let w = prepare(rows: count, seed: seed, inputOffset: inputOffset)
        let fromInitialState = startFromInitialState(w)
        return generateSequences(w, steps: steps, fromInitialState: fromInitialState, output: output,
                                 centred: inputOffset != nil)
    }

    /// FIVO semantics: step 0 reads h'_0, put where it reads "the previous step's" state.
    /// - Returns: whether there is such a state (false: step 0 starts from zeros).
    private func startFromInitialState(_ w: SamplerWorkspace<S>) -> Bool {
        guard let initial = w.initialState else { return false }
        let a = model.architecture
        initial.forward(architecture: a, parameters: UnsafePointer(model.parameters.values), n: w.rows,
                        into: a.recurrence.outputState(slab: w.slab(-1), slots: w.slots.recurrence, zeros: w.zeroState))
        return true
    }

    /// Continues an observed prefix: filters the prefix with `particles` particles (FIVO by
    /// default) to get a weighted set of posterior states, draws one particle per sample in
    /// proportion to its final normalised weight, and generates `steps` frames from each
    /// drawn particle's state.
    ///
    /// The filter stops short of the recurrence at its last step, so the state after the
    /// prefix, h_{T}, is computed here: the drawn particles' z, phi_x(x), phi_z(z) and
    /// previous state at the last prefix step are gathered from the filter's final slab and
    /// put through theta and g once (the "less invasive" option: the filter is unchanged).
    /// - Parameters:
    ///   - prefix: flat `(T0, D)` raw frames (T0 >= 1), the filter's targets; its inputs are
    ///     `prefix - inputOffset`, the same centring the generated frames get.
    ///   - steps: frames to generate after the prefix.
    ///   - count: number of continuations.
    ///   - seed: derives three independent streams: the filter's pass seed, the generation's row
    ///     streams and the draw of the particles to continue from.
    ///   - particles: K for the filter (ignored when `filterSettings` is given).
    ///   - filterSettings: bound, K, criterion and scheme of the filter (default FIVO with K
    ///     particles, ESS criterion, multinomial).
    ///   - output: write (and feed back) emission draws or emission means.
    ///   - inputOffset: subtracted from the prefix and from each generated frame before phi_x
    ///     reads it (binary data: the dataset's `trainFrameMean`, as for
    ///     ``sample(count:steps:seed:output:inputOffset:)``).
    /// - Returns: `count` arrays, each a flat `(steps, D)` continuation (the prefix is not
    ///   repeated).
    /// - Throws: ``BatchError`` when the prefix has non-finite values.
    public func `continue`(prefix: [Double], steps: Int, count: Int, seed: UInt64, particles: Int = 32,
                           filterSettings: FilterSettings? = nil, output: EmissionOutput = .sample,
                           inputOffset: [Double]? = nil) throws -> [[Double]] {
        let c = model.configuration, D = c.dataDim
        precondition(count >= 1, "continue at least one sequence")
        precondition(steps >= 0, "steps must be non-negative")
        precondition(!prefix.isEmpty && prefix.count % D == 0,
                     "the prefix must be a non-empty flat (T, \(D)) sequence, got \(prefix.count) values")
        let settings = filterSettings ?? FilterSettings(bound: .fivo, particleCount: particles)
        let K = settings.particleCount

        // 1. Posterior over the state after the prefix: one sequence, K particles.
        let inputs = inputOffset.map { offset in
            precondition(offset.count == D, "inputOffset has \(offset.count) values, expected \(D)")
            return prefix.enumerated().map { $0.element - offset[$0.offset % D] }
        } ?? prefix
        let batch = try SequenceBatch<S>(split: SequenceSplit(dataDim: D, inputs: [inputs], targets: [prefix]),
                                         indices: [0], noiseKeys: [0])
        let filter = self.filter ?? ParticleFilter(model: model)
        self.filter = filter
        _ = filter.run(batch: batch, settings: settings, seed: Self.derive(seed, stream: 1))
        let last = filter.finalStep()

        // 2. One particle per continuation, drawn by the final normalised weights.
        let w = prepare(rows: count, seed: Self.derive(seed, stream: 2), inputOffset: inputOffset)
        var chooser = SplitMix64(seed: Self.derive(seed, stream: 3))
        Self.drawParticles(logWeights: last.logWeights, particles: K, draws: count, generator: &chooser,
                           into: w.particleIndex)

        // 3. The state after the last prefix step, for the drawn particles only, in slab 1
        //    (= "step -1", where step 0 reads its previous state).
        let s = w.slots, fs = last.slots, slab = w.slab(-1), N = count
        let idx = UnsafePointer(w.particleIndex)
        func gather(_ dst: UnsafeMutablePointer<S>, _ src: UnsafePointer<S>, _ width: Int) {
            S.gatherRowsForward(dst, src, idx, n: N, inRows: K, width: width)
        }
        gather(slab.at(s.z), last.slab.at(fs.proposal.z), c.latentDim)
        // phi_x(x_{T0-1}) is the prefix's own frame, the same for every particle.
        for row in 0..<N { (slab.at(s.phiX.outputs[0]) + row * c.encodedDim).update(from: last.encodedFrames, count: c.encodedDim) }
        gather(slab.at(s.phiZ.outputs[0]), last.slab.at(fs.phiZ.outputs[0]), c.encodedDim)
        let initial = s.initialState(slab: slab, zeros: w.zeroState)
        gather(initial.h, last.state.h, c.hiddenDim)
        if s.initialC != nil { gather(initial.c, last.state.c, c.hiddenDim) }
        if s.initialHyperH != nil { gather(initial.hyperH, last.state.hyperH, c.hyperDim) }
        if s.initialHyperC != nil { gather(initial.hyperC, last.state.hyperC, c.hyperDim) }
        recurrence(w, slab: slab, state: initial)

        // 4. Generate from there.
        return generateSequences(w, steps: steps, fromInitialState: true, output: output, centred: inputOffset != nil)
    }

    /// Generates `steps` frames for `rows` rows, each starting from a state `start` writes.
    ///
    /// `start` gets the state pointers step 0 reads as its previous state (`(rows, width)`
    /// each; parts the model lacks point at shared zeros and must not be written) and returns
    /// false to start from the model's initial state instead. The row streams derive from
    /// `seed` as ``sample(count:steps:seed:output:inputOffset:)``'s do. Writes `(rows, steps, D)`
    /// frames (draws), emission means (Bernoulli: the note probabilities, Gaussian: mu_x) and,
    /// for a Gaussian emission, sigma_x.
    func generate(rows: Int, steps: Int, seed: UInt64, inputOffset: [Double]?,
                  start: (RecurrentStatePointers<S>) -> Bool, into out: GenerationOutput) {
        let w = prepare(rows: rows, seed: seed, inputOffset: inputOffset)
        let a = model.architecture
        var fromInitialState = start(a.recurrence.outputState(slab: w.slab(-1), slots: w.slots.recurrence,
                                                              zeros: w.zeroState))
        if !fromInitialState { fromInitialState = startFromInitialState(w) }
        generate(w, steps: steps, fromInitialState: fromInitialState, output: .sample, centred: inputOffset != nil,
                 into: out)
    }

    // MARK: - Internals

    /// The recurrent state one step reads.
    typealias StatePointers = RecurrentStatePointers<S>

    /// A seed for an independent stream of one use (filter, generation, particle draws).
    static func derive(_ seed: UInt64, stream: UInt64) -> UInt64 {
        SeedDerivation.samplerStream(seed: seed, stream: stream)
    }

    /// Makes (or reuses) the workspace for `rows`, seeds the row streams and stores the offset.
    private func prepare(rows: Int, seed: UInt64, inputOffset: [Double]?) -> SamplerWorkspace<S> {
        let c = model.configuration, D = c.dataDim
        if workspace?.rows != rows { workspace = SamplerWorkspace(architecture: model.architecture, rows: rows) }
        let w = workspace!
        for r in 0..<rows {
            // Same construction as the filter's per-sequence streams.
            w.noiseStates[r] = SeedDerivation.sequenceStream(seed: seed, key: UInt64(r))
        }
        if let inputOffset {
            precondition(inputOffset.count == D, "inputOffset has \(inputOffset.count) values, expected \(D)")
            for r in 0..<rows {
                for d in 0..<D { w.negativeOffset[r * D + d] = S(-inputOffset[d]) }
            }
        }
        return w
    }

    /// `draws` independent particle indices in [0, K) by inverse CDF of softmax(logWeights)
    /// (``LogWeights/independentDraws(logWeights:draws:generator:into:)``): draw i depends only
    /// on the i-th uniform, so continuation i does not depend on how many are drawn.
    static func drawParticles(logWeights: UnsafePointer<S>, particles K: Int, draws: Int,
                              generator: inout SplitMix64, into index: UnsafeMutablePointer<Int32>) {
        LogWeights.independentDraws(logWeights: UnsafeBufferPointer(start: logWeights, count: K), draws: draws,
                                    generator: &generator, into: index)
    }

    /// The state step t reads: zeros at the very start, else the outputs of the previous slab
    /// (for a continuation, slab 1 holds the state after the prefix at t = 0).
    private func state(_ w: SamplerWorkspace<S>, step t: Int, fromInitialState: Bool) -> StatePointers {
        if t == 0 && !fromInitialState { return StatePointers(zeros: w.zeroState) }
        return model.architecture.recurrence.outputState(slab: w.slab(t - 1), slots: w.slots.recurrence,
                                                         zeros: w.zeroState)
    }

    /// theta (VHRNN) and g for the rows of `slab`, reading z, phi_x and phi_z from its slots.
    private func recurrence(_ w: SamplerWorkspace<S>, slab: UnsafeMutablePointer<S>, state: StatePointers) {
        let a = model.architecture, s = w.slots
        let z = UnsafePointer(slab.at(s.z))
        a.recurrence.forward(parameters: UnsafePointer(model.parameters.values), slab: slab, slots: s.recurrence,
                             encodedData: UnsafePointer(slab.at(s.phiX.outputs[0])),
                             encodedLatent: UnsafePointer(slab.at(s.phiZ.outputs[0])),
                             hyperInput: a.hyperInputParts(z: z, h: UnsafePointer(state.h)), state: state, rows: w.rows)
    }

    /// ``generate(_:steps:fromInitialState:output:centred:into:)`` returning each row's frames.
    private func generateSequences(_ w: SamplerWorkspace<S>, steps T: Int, fromInitialState: Bool,
                                   output: EmissionOutput, centred: Bool) -> [[Double]] {
        let N = w.rows, D = model.configuration.dataDim
        // Output (row, step, dim), allocated once before the loop.
        let frames = UnsafeMutablePointer<Double>.allocate(capacity: max(N * T * D, 1))
        defer { frames.deallocate() }
        generate(w, steps: T, fromInitialState: fromInitialState, output: output, centred: centred,
                 into: GenerationOutput(frames: frames))
        return (0..<N).map { r in Array(UnsafeBufferPointer(start: frames + r * T * D, count: T * D)) }
    }

    /// The time loop: `steps` generation steps for all rows, written into `out` (`(rows, steps, D)`).
    private func generate(_ w: SamplerWorkspace<S>, steps T: Int, fromInitialState: Bool, output: EmissionOutput,
                          centred: Bool, into out: GenerationOutput) {
        let a = model.architecture, c = a.configuration, s = w.slots
        let p = UnsafePointer(model.parameters.values)
        let N = w.rows, Z = c.latentDim, D = c.dataDim
        let frames = out.frames
        let needSigma = c.emission == .gaussian && (output == .sample || out.sigmas != nil)

        for t in 0..<T {
            let slab = w.slab(t)
            let state = self.state(w, step: t, fromInitialState: fromInitialState)
            let hIn = UnsafePointer(state.h)

            // prior p(z_t | h_{t-1})
            a.prior.forward(parameters: p, slab: slab, slots: s.prior, hPrev: hIn, rows: N)
            a.prior.sigmaForward(slab: slab, slots: s.prior, rows: N)

            // noise: per row Z normals, then D emission draws (always, so modes share z)
            for r in 0..<N {
                S.fillStandardNormal(slab.at(s.noise) + r * Z, count: Z, w.noiseStates + r)
                switch c.emission {
                case .gaussian: S.fillStandardNormal(slab.at(s.emissionNoise!) + r * D, count: D, w.noiseStates + r)
                case .bernoulli: vh_fill_uniform(w.uniforms + r * D, D, w.noiseStates + r)
                }
            }
            S.gaussianSampleForward(slab.at(s.z), UnsafePointer(slab.at(s.prior.mean)),
                                    UnsafePointer(slab.at(s.prior.sigma)), UnsafePointer(slab.at(s.noise)),
                                    count: N * Z)
            a.phiZ.forward(parameters: p, slab: slab, slots: s.phiZ, input0: UnsafePointer(slab.at(s.z)), input1: nil,
                           modulation: [], rows: N)

            // emission p(x_t | z_t, h_{t-1}), modulated by omega(u_t) in a VHRNN
            let z = UnsafePointer(slab.at(s.z))
            a.emission.forward(parameters: p, slab: slab, slots: s.emission,
                               encodedLatent: UnsafePointer(slab.at(s.phiZ.outputs[0])), hPrev: hIn,
                               hyperInput: a.hyperInputParts(z: z, h: hIn), rows: N)

            // the frame x_t
            let frame = slab.at(s.frame)
            let head0 = slab.at(s.emission.head)
            if needSigma { a.emission.sigmaForward(slab: slab, slots: s.emission, rows: N) }
            switch (c.emission, output) {
            case (.bernoulli, .sample):
                for i in 0..<(N * D) { frame[i] = w.uniforms[i] < stableSigmoid(Double(head0[i])) ? 1 : 0 }
            case (.bernoulli, .mean):
                for i in 0..<(N * D) { frame[i] = S(stableSigmoid(Double(head0[i]))) }
            case (.gaussian, .sample):
                S.gaussianSampleForward(frame, UnsafePointer(head0), UnsafePointer(slab.at(s.emission.sigma!)),
                                        UnsafePointer(slab.at(s.emissionNoise!)), count: N * D)
            case (.gaussian, .mean):
                frame.update(from: head0, count: N * D)
            }
            for r in 0..<N {
                let at = (r * T + t) * D, src = frame + r * D
                for d in 0..<D { frames[at + d] = Double(src[d]) }
                if let means = out.means {
                    let head = head0 + r * D
                    switch c.emission {
                    case .bernoulli: for d in 0..<D { means[at + d] = stableSigmoid(Double(head[d])) }
                    case .gaussian: for d in 0..<D { means[at + d] = Double(head[d]) }
                    }
                }
                if let sigmas = out.sigmas, let sigma = s.emission.sigma.map({ slab.at($0) + r * D }) {
                    for d in 0..<D { sigmas[at + d] = Double(sigma[d]) }
                }
            }

            // recurrence (not needed after the last step)
            guard t < T - 1 else { break }
            var encoderInput = UnsafePointer(frame)
            if centred {
                S.addForward(slab.at(s.encoderInput), UnsafePointer(frame), UnsafePointer(w.negativeOffset),
                             count: N * D)
                encoderInput = UnsafePointer(slab.at(s.encoderInput))
            }
            a.phiX.forward(parameters: p, slab: slab, slots: s.phiX, input0: encoderInput, input1: nil,
                           modulation: [], rows: N)
            recurrence(w, slab: slab, state: state)
        }
    }
}

/// Where a generation writes, `(rows, steps, D)` each: the frames, and optionally the
/// emission's means (Bernoulli: probabilities) and sigmas (Gaussian only).
struct GenerationOutput {
    var frames: UnsafeMutablePointer<Double>
    var means: UnsafeMutablePointer<Double>? = nil
    var sigmas: UnsafeMutablePointer<Double>? = nil
}

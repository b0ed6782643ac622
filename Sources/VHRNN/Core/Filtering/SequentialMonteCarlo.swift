internal import CVHRNN

/// The SMC core of every bound: a particle filter over any ``ParticleStepModel``, forward and
/// (for a ``DifferentiableParticleStepModel``) backward. It owns only the SMC work — the noise
/// streams, the log-weight bookkeeping, resampling, the ancestor gather and its scatter-add,
/// and the log-weight gradients; the model owns its step (see <doc:BoundsAndResampling>).
///
/// Randomness: each sequence has its own SplitMix64 noise stream, seeded from the pass's
/// `seed` and the sequence's noise key (``SeedDerivation``); per step it draws
/// K·``ParticleStepModel/noiseWidth`` normals and then K uniforms, whether or not they are
/// used. So a pass is a deterministic function of (model, data, seed), and the same seed gives
/// the same noise to ELBO, IWAE and FIVO, and to a sequence whatever batch it is in.
final class SequentialMonteCarlo<Model: ParticleStepModel> {
    typealias S = Model.Scalar
    let model: Model
    private(set) var buffers: SMCBuffers<S>?
    /// The settings of the last taped pass (nil after an untaped one).
    private(set) var lastSettings: FilterSettings?
    /// Steps and sequences of the last pass.
    private(set) var lastSteps = 0
    private(set) var lastLengths: [Int] = []
    /// A deliberate backward defect for the gradient check's own tests: the state gradients
    /// skip the scatter-add into the ancestors (``GradientMutation/droppedAncestorScatter``).
    var dropsAncestorScatter = false
    /// How passes split their rows into team blocks (``ParticleRowBlocks``): the thread count
    /// to plan for (nil: the kernels' own) and the fewest rows per block. Tests plan for more
    /// threads than the machine has to run the blocked path anywhere.
    var rowBlockThreads: Int?
    var rowBlockMinimum = ParticleRowBlocks.minimumRows

    init(model: Model) { self.model = model }

    /// Computes the bound of every sequence of `batch`.
    /// - Parameters:
    ///   - keepTape: keep what ``backward(boundGradients:into:)`` needs.
    ///   - replay: resampling decisions and ancestors to reuse instead of drawing them.
    /// - Complexity: O(T · B · K) besides the model's steps; no allocation when the buffers fit.
    func run(batch: SequenceBatch<S>, settings: FilterSettings, seed: UInt64, keepTape: Bool,
             replay: AncestorPlan?) -> FilterResult {
        let B = batch.count, K = settings.particleCount, T = batch.maxLength, N = B * K
        stream = nil
        if let replay {
            precondition(replay.sequences == B && replay.particles == K && replay.steps >= T,
                         "the ancestor plan was recorded for another batch shape")
        }
        if buffers?.fits(steps: T, sequences: B, particles: K, withTape: keepTape) != true {
            buffers = SMCBuffers(steps: T, sequences: B, particles: K, withTape: keepTape,
                                 stateWidth: model.stateBlockWidths.reduce(0, +))
        }
        let w = buffers!
        w.sequences = B
        lastSettings = keepTape ? settings : nil
        lastSteps = T
        lastLengths = batch.lengths
        var logZ = [Double](repeating: 0, count: B)
        let blocks = ParticleRowBlocks(sequences: B, particles: K, threads: rowBlockThreads ?? KernelRuntime.threadCount,
                                       blocksPerThread: TeamRegion.blocksPerThread, minimumRows: rowBlockMinimum)

        batch.mask.withUnsafeBufferPointer { w.mask.update(from: $0.baseAddress!, count: $0.count) }
        model.beginPass(batch: batch, particles: K, keepTape: keepTape, rowBlocks: blocks)
        for b in 0..<B { w.noiseStates[b] = SeedDerivation.sequenceStream(seed: seed, key: batch.noiseKeys[b]) }
        w.weights.zero(count: N)
        w.resampled.update(repeating: 0, count: T * B)
        w.gathered.update(repeating: false, count: T)
        var events = 0

        for t in 0..<T {
            forwardStep(t, slot: t, isLast: t == T - 1, blocks: blocks)
            // Bookkeeping after step t (where the rows of a sequence meet); a resampling makes
            // step t+1 gather the ancestors' state.
            let outcome = ParticleBookkeeping.afterStep(
                t: t, lengths: batch.lengths, settings: settings, weights: w.weights, mask: UnsafePointer(w.mask + t * B),
                uniforms: UnsafePointer(w.uniforms), replay: replay, logZ: &logZ, resampled: w.resampled + t * B,
                nextAncestors: w.ancestors + min(t + 1, T - 1) * N, scratch: w.scratch)
            events += outcome.events
            if outcome.anyResampled && t + 1 < T { w.gathered[t + 1] = true }
        }
        return FilterResult(bounds: logZ, lengths: batch.lengths, resamplingEvents: events)
    }

    /// Step t up to its bookkeeping, in one team region: each block of rows draws its noise,
    /// gathers its ancestors' state, runs the model's step and accumulates its log weights,
    /// without synchronising; then every stream moves past the step's normals and draws its K
    /// uniforms. `slot`: step t's place in the per-step buffers (t in a pass; t mod 2 in a
    /// stream, whose buffers hold two steps).
    private func forwardStep(_ t: Int, slot: Int, isLast: Bool, blocks: ParticleRowBlocks) {
        let w = buffers!, K = w.particles
        let gathered = w.gathered[slot]
        TeamRegion.run(blocks: blocks.count) { i in
            let rows = blocks.ranges[i]
            self.drawNormals(step: t, rows: rows)
            if gathered { self.gatherState(into: t, slot: slot, rows: rows) }
            self.model.stepForward(t, gathered: gathered, isLast: isLast, rows: rows)
            self.accumulateWeights(step: t, slot: slot, rows: rows)
        }
        for b in 0..<w.sequences {
            w.noiseStates[b] = NoiseStream.advanced(w.noiseStates[b], pastNormals: K * model.noiseWidth)
            vh_fill_uniform(w.uniforms + b * K, K, w.noiseStates + b)
        }
    }

    /// Step t's normals of `rows`: each sequence's K·noiseWidth normals come from its own
    /// stream (read here, advanced after the region), a block taking its rows' part of them.
    private func drawNormals(step t: Int, rows: Range<Int>) {
        let w = buffers!, K = w.particles, width = model.noiseWidth
        let noise = model.noise(step: t)
        forEachSequencePart(of: rows, particles: K) { b, part in
            NoiseStream.normals(into: noise + part.lowerBound * width, count: part.count * width, state: w.noiseStates[b],
                                from: (part.lowerBound - b * K) * width)
        }
    }

    /// Calls `body(b, part)` for each sequence b whose rows meet `rows`, with `part` its rows in `rows`.
    @inline(__always)
    private func forEachSequencePart(of rows: Range<Int>, particles K: Int, _ body: (Int, Range<Int>) -> Void) {
        var row = rows.lowerBound
        while row < rows.upperBound {
            let b = row / K, end = min(rows.upperBound, (b + 1) * K)
            body(b, row..<end)
            row = end
        }
    }

    /// w += log alpha_t over `rows`, inside each sequence (masked past its end); the weights
    /// after step t into the tape.
    private func accumulateWeights(step t: Int, slot: Int, rows: Range<Int>) {
        let w = buffers!, K = w.particles, B = w.sequences
        let logAlpha = model.logAlpha(step: t)
        forEachSequencePart(of: rows, particles: K) { b, part in
            S.logWeightsAccumulate(w.weights + part.lowerBound, logAlpha + part.lowerBound,
                                   UnsafePointer(w.mask + slot * B + b), b: 1, k: part.count)
        }
        if w.withTape { (w.weightTape(t) + rows.lowerBound).update(from: w.weights + rows.lowerBound, count: rows.count) }
    }

    /// Copies every state block of the ancestors of `rows` (after step t-1) into step t's gathered copy.
    private func gatherState(into t: Int, slot: Int, rows: Range<Int>) {
        let w = buffers!, N = w.rows, r0 = rows.lowerBound
        let ancestors = UnsafePointer(w.ancestors + slot * N + r0)
        for (i, width) in model.stateBlockWidths.enumerated() {
            let block = model.stateBlock(i, step: t)
            S.gatherRowsForward(block.gathered + r0 * width, block.written, ancestors, n: rows.count, inRows: N, width: width)
        }
    }

    // MARK: - Streams

    /// A stream in progress (nil while passes run): its settings, step count, bound so far and
    /// the row blocks of its steps.
    private(set) var stream: StreamState?

    /// A class, so that a step updates its arrays in place (no copy, no allocation).
    final class StreamState {
        let settings: FilterSettings
        let blocks: ParticleRowBlocks
        /// Steps taken.
        var steps = 0
        /// `(streams)` the segments closed at resamplings so far (as a pass's bound accumulates them).
        var closedSegments: [Double]
        /// `(streams)` lse of the carried weights before the next step (log K after a reset).
        var logSumBefore: [Double]
        /// Lengths that never end: the bookkeeping then never closes a stream's last segment.
        let unending: [Int]

        init(settings: FilterSettings, blocks: ParticleRowBlocks, streams B: Int) {
            self.settings = settings
            self.blocks = blocks
            closedSegments = [Double](repeating: 0, count: B)
            logSumBefore = [Double](repeating: _logDouble(Double(settings.particleCount)), count: B)
            unending = [Int](repeating: .max, count: B)
        }
    }

    /// Starts a stream: `noiseKeys.count` sequences of `settings.particleCount` particles that
    /// take one frame per ``streamStep(into:)``, for ever, in constant memory. The noise is that
    /// of a pass with the same seed and keys, step for step, so a stream's summed log
    /// predictives equal that pass's FIVO (or IWAE) bound over the same frames.
    func beginStream(settings: FilterSettings, seed: UInt64, noiseKeys: [UInt64]) where Model: StreamingParticleStepModel {
        precondition(settings.bound != .elbo, "a stream's log predictive needs IWAE or FIVO weights")
        let B = noiseKeys.count, K = settings.particleCount
        if buffers?.fits(steps: 2, sequences: B, particles: K, withTape: false) != true || buffers!.steps != 2 {
            buffers = SMCBuffers(steps: 2, sequences: B, particles: K, withTape: false,
                                 stateWidth: model.stateBlockWidths.reduce(0, +))
        }
        let w = buffers!
        w.sequences = B
        lastSettings = nil
        lastSteps = 0
        lastLengths = []
        let blocks = ParticleRowBlocks(sequences: B, particles: K, threads: rowBlockThreads ?? KernelRuntime.threadCount,
                                       blocksPerThread: TeamRegion.blocksPerThread, minimumRows: rowBlockMinimum)
        model.beginStream(streams: B, particles: K, rowBlocks: blocks)
        for b in 0..<B { w.noiseStates[b] = SeedDerivation.sequenceStream(seed: seed, key: noiseKeys[b]) }
        w.weights.zero(count: B * K)
        w.mask.update(repeating: 1, count: 2 * B)
        w.resampled.update(repeating: 0, count: 2 * B)
        w.gathered.update(repeating: false, count: 2)
        stream = StreamState(settings: settings, blocks: blocks, streams: B)
    }

    /// One step of the stream on the frames the model was given (``StreamingParticleStepModel/setFrames(inputs:targets:)``).
    /// Writes per stream, into `report`: log p̂(x_t | x_<t) (the log-sum-exp of the weights
    /// after the step minus that before it), the log ESS after the step and whether it
    /// resampled, and the weights before any resampling. Nothing is allocated.
    /// `observed` `(streams)`: false where the stream's frame is missing — its weights are
    /// masked at this step (no update, no resampling; log predictive 0).
    func streamStep(into report: StreamStepReport<S>, observed: UnsafePointer<Bool>) where Model: StreamingParticleStepModel {
        guard let state = stream, let w = buffers else { preconditionFailure("streamStep needs beginStream first") }
        let t = state.steps, slot = t & 1, next = (t + 1) & 1, B = w.sequences, K = w.particles
        for b in 0..<B { w.mask[slot * B + b] = observed[b] ? 1 : 0 }
        forwardStep(t, slot: slot, isLast: false, blocks: state.blocks)
        for b in 0..<B {
            let wb = UnsafePointer(w.weights + b * K)
            report.logESS[b] = ResamplingCriterion.logEffectiveSampleSize(logWeights: UnsafeBufferPointer(start: wb, count: K))
            guard observed[b] else {
                report.logPredictive[b] = 0
                continue
            }
            S.logsumexpForward(w.scratch, wb, b: 1, k: K)
            let after = Double(w.scratch[0])
            report.logPredictive[b] = after - state.logSumBefore[b]
            state.logSumBefore[b] = after
        }
        report.weights.update(from: w.weights, count: B * K)
        w.gathered[next] = false
        let outcome = ParticleBookkeeping.afterStep(
            t: t, lengths: state.unending, settings: state.settings, weights: w.weights, mask: UnsafePointer(w.mask + slot * B),
            uniforms: UnsafePointer(w.uniforms), replay: nil, logZ: &state.closedSegments, resampled: w.resampled + slot * B,
            nextAncestors: w.ancestors + next * w.rows, scratch: w.scratch)
        for b in 0..<B {
            report.resampled[b] = w.resampled[slot * B + b] != 0
            if report.resampled[b] { state.logSumBefore[b] = _logDouble(Double(K)) }
        }
        if outcome.anyResampled { w.gathered[next] = true }
        state.steps += 1
    }

    /// Everything the stream carries into its next step: what ``restoreStream(_:)`` needs to
    /// continue it exactly (in another process too).
    func streamSnapshot() -> StreamSnapshot {
        guard let state = stream, let w = buffers else { preconditionFailure("no stream to snapshot") }
        let t = state.steps, N = w.rows, slot = t & 1
        var blocks: [[Double]] = []
        if t > 0 {
            for (i, width) in model.stateBlockWidths.enumerated() {
                let written = model.stateBlock(i, step: t).written
                blocks.append((0..<(N * width)).map { Double(written[$0]) })
            }
        }
        return StreamSnapshot(steps: t, weights: (0..<N).map { Double(w.weights[$0]) },
                              noiseStates: Array(UnsafeBufferPointer(start: w.noiseStates, count: w.sequences)),
                              logSumBefore: state.logSumBefore, closedSegments: state.closedSegments,
                              gatherNext: w.gathered[slot],
                              ancestors: w.gathered[slot] ? Array(UnsafeBufferPointer(start: w.ancestors + slot * N, count: N)) : [],
                              stateBlocks: blocks)
    }

    /// Puts a stream begun with the same settings and streams back where `snapshot` was taken.
    /// - Returns: nil, or what does not fit (a count), in words.
    func restoreStream(_ snapshot: StreamSnapshot) -> String? {
        guard let state = stream, let w = buffers else { preconditionFailure("restoreStream needs beginStream first") }
        let N = w.rows, B = w.sequences, widths = model.stateBlockWidths, t = snapshot.steps
        guard t >= 0 else { return "steps is \(t)" }
        guard snapshot.weights.count == N else { return "\(snapshot.weights.count) weights for \(N) particles" }
        guard snapshot.noiseStates.count == B, snapshot.logSumBefore.count == B, snapshot.closedSegments.count == B else {
            return "per-stream values for \(snapshot.noiseStates.count) streams, the filter has \(B)"
        }
        guard t == 0 ? snapshot.stateBlocks.isEmpty
                     : snapshot.stateBlocks.map(\.count) == widths.map({ $0 * N }) else {
            return "state blocks of \(snapshot.stateBlocks.map(\.count)) values, the model's are \(widths.map { $0 * N })"
        }
        guard snapshot.ancestors.count == (snapshot.gatherNext ? N : 0),
              snapshot.ancestors.allSatisfy({ $0 >= 0 && Int($0) < N }) else { return "bad ancestors" }
        guard snapshot.weights.allSatisfy({ !$0.isNaN }), snapshot.stateBlocks.allSatisfy({ $0.allSatisfy(\.isFinite) }) else {
            return "non-finite values"
        }
        state.steps = t
        state.logSumBefore = snapshot.logSumBefore
        state.closedSegments = snapshot.closedSegments
        for r in 0..<N { w.weights[r] = S(snapshot.weights[r]) }
        for b in 0..<B { w.noiseStates[b] = snapshot.noiseStates[b] }
        let slot = t & 1
        w.gathered.update(repeating: false, count: 2)
        w.gathered[slot] = snapshot.gatherNext
        for (r, a) in snapshot.ancestors.enumerated() { w.ancestors[slot * N + r] = a }
        if t > 0 {
            for (i, values) in snapshot.stateBlocks.enumerated() {
                let written = UnsafeMutablePointer(mutating: model.stateBlock(i, step: t).written)
                for (j, v) in values.enumerated() { written[j] = S(v) }
            }
        }
        return nil
    }

    /// The decisions and ancestors of the last pass (to replay it).
    var recordedPlan: AncestorPlan {
        let w = buffers!, T = lastSteps, N = w.rows
        return AncestorPlan(steps: T, sequences: w.sequences, particles: w.particles,
                            resampled: Array(UnsafeBufferPointer(start: w.resampled, count: T * w.sequences)),
                            ancestors: Array(UnsafeBufferPointer(start: w.ancestors, count: T * N)))
    }

    /// Whether step t of the last pass started from gathered ancestor states.
    func gathered(step t: Int) -> Bool { buffers.map { t >= 0 && t < lastSteps && $0.gathered[t] } ?? false }

    /// Whether sequence b resampled after step t in the last pass.
    func resampled(afterStep t: Int, sequence b: Int) -> Bool {
        guard let w = buffers, t >= 0, t < lastSteps, b >= 0, b < w.sequences else { return false }
        return w.resampled[t * w.sequences + b] != 0
    }

    /// The accumulated log weights after step t of the last taped pass (before any reset),
    /// `(rows)`.
    func weights(afterStep t: Int) -> UnsafeMutablePointer<S> {
        guard let w = buffers, w.withTape, t >= 0, t < lastSteps else {
            preconditionFailure("weights(afterStep: \(t)) needs a taped pass of more than \(t) steps")
        }
        return w.weightTape(t)
    }

    /// The current log weights: after the last pass, those accumulated since the last
    /// resampling of each sequence (the filter never resamples at a sequence's last step).
    var currentWeights: UnsafeMutablePointer<S> { buffers!.weights }
}

extension SequentialMonteCarlo where Model: DifferentiableParticleStepModel {
    /// Accumulates d(Σ_b g_b · bound_b)/dθ into `gradients`, for the pass just run with
    /// `keepTape: true`.
    ///
    /// Walks the steps in reverse. Ancestor indices are constants: every gather of the forward
    /// becomes a scatter-add of the children's state gradients into their parents. Log-weight
    /// gradients come from the events that consumed them: at a resampling or a sequence's last
    /// step, d lse(w)/dw = softmax(w) (IWAE, FIVO) or 1/K (ELBO); weights reset after a
    /// resampling, so earlier steps only feed the earlier event.
    func backward(boundGradients: [Double], into gradients: UnsafeMutablePointer<S>) {
        guard let settings = lastSettings, let w = buffers, w.withTape else {
            preconditionFailure("backward needs a pass run with keepTape: true")
        }
        let B = w.sequences, K = w.particles, N = w.rows, T = lastSteps
        precondition(boundGradients.count == B, "one bound gradient per sequence")
        let widths = model.stateBlockWidths
        w.stateGradOut.zero(count: w.stateGradientCount)
        w.weightGrad.zero(count: N)

        for t in stride(from: T - 1, through: 0, by: -1) {
            let mask = UnsafePointer(w.mask + t * B)
            // Events after step t set the weight gradient of the segment that ends here.
            for b in 0..<B where mask[b] != 0 && (t == lastLengths[b] - 1 || w.resampled[t * B + b] != 0) {
                // forward: bound_b += value of the segment that closes here
                settings.bound.segmentBackward(dw: w.weightGrad + b * K, logWeights: UnsafePointer(w.weightTape(t) + b * K),
                                               particles: K, boundGradient: boundGradients[b], scratch: w.scratch)
            }
            // forward: w += log alpha inside the sequence. Past a sequence's end no event has set
            // its weight gradient, so d log alpha = dw as it stands.
            w.stateGradIn.zero(count: w.stateGradientCount)
            model.stepBackward(t, gathered: w.gathered[t], isLast: t == T - 1, dLogAlpha: UnsafePointer(w.weightGrad),
                               dOutput: w.stateGradOut, dState: w.stateGradIn, gradients: gradients)

            // State gradients of step t-1's outputs: through the gather if step t followed a
            // resampling (scatter-add into the parents), else directly.
            guard t > 0 else { continue }
            if w.gathered[t] && !dropsAncestorScatter {
                w.stateGradOut.zero(count: w.stateGradientCount)
                let ancestors = UnsafePointer(w.ancestors + t * N)
                var offset = 0
                for width in widths {
                    S.gatherRowsBackward(w.stateGradOut + offset, UnsafePointer(w.stateGradIn + offset), ancestors,
                                         n: N, inRows: N, width: width)
                    offset += N * width
                }
            } else {
                swap(&w.stateGradOut, &w.stateGradIn)
            }
        }
        model.endBackward(dInitialState: w.stateGradIn, gradients: gradients)
    }
}

/// The SMC core's buffers in one ``Arena``, for a capacity (steps, sequences, particles); a
/// pass may use fewer steps and sequences.
final class SMCBuffers<S: KernelScalar> {
    let steps: Int, sequenceCapacity: Int, particles: Int, withTape: Bool
    /// Sequences in the current pass (≤ `sequenceCapacity`).
    var sequences: Int
    var rows: Int { sequences * particles }
    let arena: Arena
    /// `(rows)` accumulated log weights and their gradient.
    let weights: UnsafeMutablePointer<S>
    let weightGrad: UnsafeMutablePointer<S>
    /// `(steps, rows)` the weights after every step (taped passes only).
    private let weightHistory: UnsafeMutablePointer<S>
    /// `(steps, rows)` the parent row of each particle at the start of each step.
    let ancestors: UnsafeMutablePointer<Int32>
    /// `(steps, sequences)` 1 where the sequence resampled after that step.
    let resampled: UnsafeMutablePointer<UInt8>
    /// `(steps)` whether a step starts from gathered ancestor states.
    let gathered: UnsafeMutablePointer<Bool>
    /// `(sequences)` noise stream states; `(rows)` this step's resampling uniforms.
    let noiseStates: UnsafeMutablePointer<UInt64>
    let uniforms: UnsafeMutablePointer<Double>
    /// `(2 · sequences)` log-sum-exp scratch.
    let scratch: UnsafeMutablePointer<S>
    /// `(steps, sequences)` the batch's step mask.
    let mask: UnsafeMutablePointer<S>
    /// Two state-gradient buffers swapped between steps (outputs of step t / inputs of step t),
    /// `stateGradientCount` scalars each.
    var stateGradOut: UnsafeMutablePointer<S>
    var stateGradIn: UnsafeMutablePointer<S>
    let stateGradientCount: Int

    struct Layout {
        var arena = ArenaLayout()
        let weights, weightGrad, weightHistory: ArenaSlot<S>
        let ancestors: ArenaSlot<Int32>
        let resampled: ArenaSlot<UInt8>
        let gathered: ArenaSlot<Bool>
        let noiseStates: ArenaSlot<UInt64>
        let uniforms: ArenaSlot<Double>
        let scratch, mask, stateGradOut, stateGradIn: ArenaSlot<S>

        init(steps T: Int, sequences B: Int, particles K: Int, withTape: Bool, stateWidth: Int) {
            let N = B * K
            weights = arena.reserve(S.self, count: N)
            weightGrad = arena.reserve(S.self, count: N)
            weightHistory = arena.reserve(S.self, count: withTape ? T * N : 0)
            ancestors = arena.reserve(Int32.self, count: T * N)
            resampled = arena.reserve(UInt8.self, count: T * B)
            gathered = arena.reserve(Bool.self, count: T)
            noiseStates = arena.reserve(UInt64.self, count: B)
            uniforms = arena.reserve(Double.self, count: N)
            scratch = arena.reserve(S.self, count: 2 * B)
            mask = arena.reserve(S.self, count: T * B)
            stateGradOut = arena.reserve(S.self, count: withTape ? N * stateWidth : 0)
            stateGradIn = arena.reserve(S.self, count: withTape ? N * stateWidth : 0)
        }
    }

    init(steps: Int, sequences: Int, particles: Int, withTape: Bool, stateWidth: Int) {
        self.steps = steps
        self.sequences = sequences
        sequenceCapacity = sequences
        self.particles = particles
        self.withTape = withTape
        let layout = Layout(steps: steps, sequences: sequences, particles: particles, withTape: withTape,
                            stateWidth: stateWidth)
        arena = Arena(layout.arena)
        weights = arena.pointer(layout.weights)
        weightGrad = arena.pointer(layout.weightGrad)
        weightHistory = arena.pointer(layout.weightHistory)
        ancestors = arena.pointer(layout.ancestors)
        resampled = arena.pointer(layout.resampled)
        gathered = arena.pointer(layout.gathered)
        noiseStates = arena.pointer(layout.noiseStates)
        uniforms = arena.pointer(layout.uniforms)
        scratch = arena.pointer(layout.scratch)
        mask = arena.pointer(layout.mask)
        stateGradOut = arena.pointer(layout.stateGradOut)
        stateGradIn = arena.pointer(layout.stateGradIn)
        stateGradientCount = layout.stateGradOut.count
    }

    func fits(steps: Int, sequences: Int, particles: Int, withTape: Bool) -> Bool {
        sequences <= sequenceCapacity && self.particles == particles && self.steps >= steps
            && (self.withTape || !withTape)
    }

    /// The weights after step t (taped passes).
    @inline(__always) func weightTape(_ t: Int) -> UnsafeMutablePointer<S> { weightHistory + t * sequenceCapacity * particles }
}

extension OnlineFilter {
    /// Forecasts every stream `horizon` frames ahead from its current filtering distribution.
    ///
    /// Per stream, `paths` particles are drawn independently in proportion to their filtering
    /// weights (after any resampling of the last step: the particle set the next frame would
    /// extend), and each drawn particle's state h_t (with c_t and the hyper state) starts one
    /// path of the model's generative process (<doc:ModelArchitecture>):
    ///
    ///     z ~ p(z | h),  x ~ p(x | z, h),  h ← g(h, [phi_x(x − offset), phi_z(z)])
    ///
    /// so a path is a draw from p(x_{t+1..t+H} | x_≤t) as the filter approximates it. Before
    /// the first frame every path starts from the model's initial state. The filter itself is
    /// unchanged: its next ``observe(_:into:)`` continues as if no forecast had been made.
    ///
    /// Randomness: stream b's particle draws come from a stream derived from `seed` and b; path
    /// m of stream b generates with row b · paths + m of a sampler seeded with `seed`. Same
    /// filter state and seed: the same forecast.
    /// - Parameters:
    ///   - horizon: frames ahead (H ≥ 1).
    ///   - paths: sample paths per stream (M ≥ 1).
    ///   - seed: the forecast's randomness (independent of the filter's own noise).
    /// - Returns: one ``Forecast`` per stream, in the units of the frames the filter observes.
    /// - Complexity: `streams · paths · horizon` generation steps; the forecast allocates its
    ///   result and, on first use or a new `streams · paths`, the sampler's workspace.
    public func forecast(horizon: Int, paths: Int, seed: UInt64) throws -> [Forecast] {
        guard horizon >= 1 else { throw OnlineFilterError("the horizon must be at least 1, got \(horizon)") }
        guard paths >= 1 else { throw OnlineFilterError("paths must be at least 1, got \(paths)") }
        let c = model.configuration, D = c.dataDim, K = settings.particleCount
        let rows = streams * paths, size = rows * horizon * D
        let sampler = forecaster ?? SequenceSampler(model: model)
        forecaster = sampler

        // The particle each path starts from, as a row of the filter's state blocks.
        let source = UnsafeMutablePointer<Int32>.allocate(capacity: rows)
        defer { source.deallocate() }
        if steps > 0, let w = smc.buffers {
            let slot = steps & 1, pendingGather = w.gathered[slot]
            for b in 0..<streams {
                var generator = SplitMix64(seed: SeedDerivation.sequenceStream(seed: SequenceSampler<S>.derive(seed, stream: 3),
                                                                               key: UInt64(b)))
                LogWeights.independentDraws(logWeights: UnsafeBufferPointer(start: w.weights + b * K, count: K),
                                            draws: paths, generator: &generator, into: source + b * paths)
                for m in 0..<paths {
                    let j = b * K + Int(source[b * paths + m])
                    // After a resampling the weights are those of the particles the next step
                    // gathers: position j's state is its ancestor's row.
                    source[b * paths + m] = pendingGather ? w.ancestors[slot * w.rows + j] : Int32(j)
                }
            }
        }

        var samples = [Double](repeating: 0, count: size), means = samples
        var sigmas = [Double](repeating: 0, count: c.emission == .gaussian ? size : 0)
        samples.withUnsafeMutableBufferPointer { x in
            means.withUnsafeMutableBufferPointer { mu in
                sigmas.withUnsafeMutableBufferPointer { sigma in
                    let out = GenerationOutput(frames: x.baseAddress!, means: mu.baseAddress!,
                                               sigmas: c.emission == .gaussian ? sigma.baseAddress! : nil)
                    sampler.generate(rows: rows, steps: horizon, seed: seed, inputOffset: inputOffset,
                                     start: { state in self.gatherStates(into: state, from: UnsafePointer(source), rows: rows) },
                                     into: out)
                }
            }
        }
        let perStream = paths * horizon * D
        return (0..<streams).map { b in
            let range = (b * perStream)..<((b + 1) * perStream)
            return Forecast(horizon: horizon, paths: paths, dataDim: D, emission: c.emission,
                            samples: Array(samples[range]), means: Array(means[range]),
                            sigmas: c.emission == .gaussian ? Array(sigmas[range]) : [])
        }
    }

    /// Writes the recurrent state of particle rows `source` into `state` (the state the first
    /// forecast step reads); false before the first frame (start from the initial state).
    private func gatherStates(into state: RecurrentStatePointers<S>, from source: UnsafePointer<Int32>,
                              rows: Int) -> Bool {
        guard steps > 0, let w = smc.buffers else { return false }
        let c = model.configuration
        // The state blocks in ``VariationalParticleModel/stateBlockWidths`` order.
        var parts = [state.h]
        if c.cell == .lstm { parts.append(state.c) }
        if c.model == .vhrnn { parts.append(state.hyperH) }
        if c.model == .vhrnn && c.cell == .lstm { parts.append(state.hyperC) }
        for (i, width) in stepModel.stateBlockWidths.enumerated() {
            S.gatherRowsForward(parts[i], stepModel.stateBlock(i, step: steps).written, source, n: rows,
                                inRows: w.rows, width: width)
        }
        return true
    }
}

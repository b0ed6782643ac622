import Testing
@testable import VHRNN

/// The team regions' split of a pass into blocks of particle rows (``ParticleRowBlocks``) and
/// what it must not change: a pass run as several blocks gives the bounds, resampling plan and
/// gradients of the same pass run as one block.
@Suite("Row blocks of a filter pass")
struct RowBlockTests {
    @Test func blocksCoverTheRowsAndKeepSequencesWholeWhenThereAreEnough() {
        for (B, K) in [(1, 1024), (1, 128), (4, 1024), (7, 20), (3, 40), (32, 128), (4, 4), (1, 60)] {
            for threads in [1, 2, 3, 8] {
                let blocks = ParticleRowBlocks(sequences: B, particles: K, threads: threads, blocksPerThread: 2,
                                               minimumRows: 16)
                let N = B * K
                #expect(blocks.ranges.first?.lowerBound == 0 && blocks.ranges.last?.upperBound == N)
                for (a, b) in zip(blocks.ranges, blocks.ranges.dropFirst()) { #expect(a.upperBound == b.lowerBound) }
                #expect(blocks.ranges.allSatisfy { !$0.isEmpty })
                #expect(blocks.count <= max(1, min(2 * threads, N / 16)))
                if blocks.wholeSequences {
                    #expect(blocks.ranges.allSatisfy { $0.lowerBound % K == 0 && $0.upperBound % K == 0 })
                } else {
                    #expect(blocks.ranges.dropLast().allSatisfy { $0.upperBound % 16 == 0 })
                }
                if B >= blocks.count { #expect(blocks.wholeSequences) }
            }
        }
        // Too few rows for a second block: one block, the kernels split their own work.
        #expect(ParticleRowBlocks(sequences: 4, particles: 4, threads: 2, blocksPerThread: 2).count == 1)
        #expect(ParticleRowBlocks(sequences: 1, particles: 1024, threads: 2, blocksPerThread: 1).count == 2)
    }

    /// A step's normals drawn in pieces (odd and even starts and lengths) are one fill's.
    @Test func noiseDrawnInPiecesIsOneFill() {
        func check<S: KernelScalar>(_: S.Type) {
            let count = 101, state: UInt64 = 0x1234_5678_9ABC_DEF0
            var whole = [S](repeating: 0, count: count), pieces = [S](repeating: .nan, count: count)
            var s = state
            whole.withUnsafeMutableBufferPointer { S.fillStandardNormal($0.baseAddress!, count: count, &s) }
            #expect(s == NoiseStream.advanced(state, pastNormals: count))
            let cuts = [0, 1, 4, 7, 8, 33, 34, 60, 99, 101]
            pieces.withUnsafeMutableBufferPointer { p in
                for (a, b) in zip(cuts, cuts.dropFirst()) {
                    NoiseStream.normals(into: p.baseAddress! + a, count: b - a, state: state, from: a)
                }
            }
            #expect(pieces == whole)
        }
        check(Float.self)
        check(Double.self)
    }

    private static func model(_ config: ModelConfiguration) throws -> SequenceModel<Double> {
        var rng = SplitMix64(seed: 11)
        return try SequenceModel(configuration: config, generator: &rng)
    }

    /// Bounds, plan and gradients of one pass with the rows as one block and as many.
    private static func pass(_ model: SequenceModel<Double>, batch: SequenceBatch<Double>, settings: FilterSettings,
                             blocked: Bool) -> (bounds: [Double], plan: AncestorPlan, gradients: [Double]) {
        let filter = ParticleFilter(model: model)
        if blocked {
            filter.smc.rowBlockThreads = 3
            filter.smc.rowBlockMinimum = 16
        } else {
            filter.smc.rowBlockMinimum = .max
        }
        let result = filter.run(batch: batch, settings: settings, seed: 7, keepTape: true)
        let g = model.parameters.gradients
        g.zero(count: model.parameters.count)
        filter.backward(boundGradients: result.bounds.map { _ in 1.0 })
        return (result.bounds, filter.recordedPlan, Array(UnsafeBufferPointer(start: g, count: model.parameters.count)))
    }

    @Test(arguments: [(1, 96), (7, 20), (3, 40)])
    func blockedPassesMatchOneBlock(shape: (sequences: Int, particles: Int)) throws {
        let configs = [
            ModelConfiguration(model: .vhrnn, dataDim: 3, emission: .gaussian, latentDim: 3, hiddenDim: 5, hyperDim: 4,
                               fcLayers: 1, omegaHidden: 6, semantics: .fivo),
            ModelConfiguration(model: .vrnn, cell: .gru, dataDim: 4, emission: .bernoulli, latentDim: 2, hiddenDim: 6,
                               fcLayers: 0, semantics: .standard),
        ]
        for config in configs {
            let model = try Self.model(config)
            var rng = SplitMix64(seed: 5)
            let D = config.dataDim
            let split = SequenceSplit(dataDim: D, sequences: (0..<shape.sequences).map { b in
                (0..<((6 + b % 3) * D)).map { _ in
                    config.emission == .bernoulli ? (rng.nextUnitDouble() < 0.3 ? 1 : 0) : rng.nextStandardNormal()
                }
            })
            let batch = try SequenceBatch<Double>(split: split, indices: Array(0..<shape.sequences))
            let blocks = ParticleRowBlocks(sequences: shape.sequences, particles: shape.particles, threads: 3,
                                           blocksPerThread: TeamRegion.blocksPerThread, minimumRows: 16)
            #expect(blocks.count > 1)
            for settings in [FilterSettings(bound: .fivo, particleCount: shape.particles, criterion: .always),
                             FilterSettings(bound: .iwae, particleCount: shape.particles)] {
                let one = Self.pass(model, batch: batch, settings: settings, blocked: false)
                let many = Self.pass(model, batch: batch, settings: settings, blocked: true)
                #expect(one.plan.ancestors == many.plan.ancestors && one.plan.resampled == many.plan.resampled)
                for (a, b) in zip(one.bounds, many.bounds) { #expect(abs(a - b) <= 1e-12 * max(1, abs(a))) }
                let scale = one.gradients.map(abs).max() ?? 1
                for (a, b) in zip(one.gradients, many.gradients) { #expect(abs(a - b) <= 1e-11 * max(1, scale)) }
            }
        }
    }
}

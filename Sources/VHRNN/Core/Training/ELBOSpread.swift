/// The spread of an ELBO estimate over its particles: its Monte Carlo standard error, and how
/// much of it the lowest few particle log weights carry.
///
/// The ELBO of a split is Σ_s mean_k W_{s,k} / T, W_{s,k} = Σ_t log α_t of particle k of
/// sequence s. Its standard error is sqrt(Σ_s var_k(W_{s,·}) / K) / T (sample variance over
/// the K particles of each sequence). Unlike IWAE and FIVO, which average the weights
/// themselves, the ELBO averages their logs, so one particle whose emission sigma sits at the
/// floor under a frame far from its mean (log weight −1e12; see ``LogWeightAnatomy``) can
/// carry the whole estimate. ``withoutTail`` is the ELBO with the lowest 0.1% of the split's
/// particle log weights (at least one) left out; when those few move the estimate by more than
/// half, ``dominatedByTail`` says so and the CLI warns.
struct ELBOSpread {
    private(set) var particles = 0
    private var total = 0.0
    private var varianceOfTotal = 0.0
    /// (sequence, weight) of every particle, for the tail.
    private var weights: [(sequence: Int, weight: Double)] = []
    private var sequences = 0

    /// One sequence's K particle log weights.
    mutating func add(_ particleWeights: UnsafeBufferPointer<Double>) {
        let K = particleWeights.count
        precondition(K > 0 && (particles == 0 || particles == K))
        particles = K
        let mean = particleWeights.reduce(0, +) / Double(K)
        total += mean
        if K > 1 {
            let v = particleWeights.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(K - 1)
            varianceOfTotal += v / Double(K)
        }
        for w in particleWeights { weights.append((sequences, w)) }
        sequences += 1
    }

    /// Per step over `steps` time steps.
    func elbo(steps: Int) -> Double { total / Double(steps) }
    func standardError(steps: Int) -> Double { varianceOfTotal.squareRoot() / Double(steps) }

    /// How many particles ``withoutTail(steps:)`` leaves out.
    var tailCount: Int { max(1, weights.count / 1000) }

    /// The ELBO per step with the ``tailCount`` lowest particle log weights left out (each
    /// sequence's mean over its remaining particles; a sequence that loses all is dropped).
    func withoutTail(steps: Int) -> Double {
        guard !weights.isEmpty else { return .nan }
        let order = weights.indices.sorted { weights[$0].weight < weights[$1].weight }
        var dropped = [Bool](repeating: false, count: weights.count)
        for i in order.prefix(tailCount) { dropped[i] = true }
        var sum = [Double](repeating: 0, count: sequences), kept = [Int](repeating: 0, count: sequences)
        for (i, entry) in weights.enumerated() where !dropped[i] {
            sum[entry.sequence] += entry.weight
            kept[entry.sequence] += 1
        }
        var result = 0.0
        for s in 0..<sequences where kept[s] > 0 { result += sum[s] / Double(kept[s]) }
        return result / Double(steps)
    }

    /// The `n` lowest particle log weights, lowest first, with their sequence and particle.
    func lowest(_ n: Int) -> [(sequence: Int, particle: Int, weight: Double)] {
        weights.indices.sorted { weights[$0].weight < weights[$1].weight }.prefix(n).map { i in
            (weights[i].sequence, i - weights[i].sequence * particles, weights[i].weight)
        }
    }

    /// True when the lowest few particles carry more than half of the estimate.
    static func dominatedByTail(elbo: Double, withoutTail: Double) -> Bool {
        guard elbo.isFinite, withoutTail.isFinite else { return elbo.isFinite != withoutTail.isFinite }
        return abs(elbo - withoutTail) > 0.5 * abs(elbo)
    }
}

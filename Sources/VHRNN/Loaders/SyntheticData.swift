#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

/// The synthetic test settings of the paper (Table 1). Models are trained on `standard`; every
/// other setting only replaces the test split.
public enum SyntheticSetting: String, CaseIterable, Sendable, Codable {
    /// Eq. 6: random W from `SyntheticData.matrices`, noise level switching exactly twice.
    case standard
    /// As standard with sigma = 0.
    case noiseless
    /// Three NOISELESS sequences with three different W, concatenated (length 3T).
    case `switch`
    /// W = I, noise level switching 0 to 3 times.
    case rand
    /// NOISELESS with 2T steps.
    case long
    /// NOISELESS with W from `SyntheticData.zeroShotMatrices` (never seen in training).
    case zeroShot = "zero-shot"
    /// x_t = x_{t-1} + b with b, x_0 ~ U[0, 1]^2.
    case add
}

/// Which table of transition matrices the synthetic data use (docs/DATA.md lists both).
public enum SyntheticFamily: String, CaseIterable, Sendable, Codable {
    /// Spectral radii 0.80 … 1.02: sequences decay or grow slowly (1.02^100 ≈ 7). The default.
    case contracting
    /// Spectral radii 0.90 … 1.06: the top matrices grow exponentially (1.06^100 ≈ 340,
    /// 1.06^200 ≈ 1.2e5), so NOISELESS and LONG leave the range of the training data, as the
    /// paper's settings do ("exponential growth could happen when the singular values of the
    /// underlying weight matrix are greater than 1").
    case expanding

    /// Spectral radius of matrix k (k = 0 … 9, evenly spaced).
    public func radius(_ k: Int) -> Double {
        switch self {
        case .contracting: return 0.80 + 0.22 * Double(k) / 9
        case .expanding: return 0.90 + 0.16 * Double(k) / 9
        }
    }

    /// Seeds of the training/testing table and of the zero-shot table.
    var seeds: (matrices: UInt64, zeroShot: UInt64) {
        switch self {
        case .contracting: return (0x5EED_0001, 0x5EED_0002)
        case .expanding: return (0x5EED_0003, 0x5EED_0004)
        }
    }
}

/// A 2x2 matrix `[[m00, m01], [m10, m11]]` (row-major), applied as `W x` to a column vector.
public struct Matrix2: Sendable, Equatable, Codable {
    /// The entries, row-major: `m00 m01` is the first row, `m10 m11` the second.
    public var m00: Double, m01: Double, m10: Double, m11: Double

    /// The matrix `[[m00, m01], [m10, m11]]`.
    public init(_ m00: Double, _ m01: Double, _ m10: Double, _ m11: Double) {
        self.m00 = m00; self.m01 = m01; self.m10 = m10; self.m11 = m11
    }

    /// The 2x2 identity (RAND's W).
    public static let identity = Matrix2(1, 0, 0, 1)

    /// The matrix product `a · b`.
    public static func * (a: Matrix2, b: Matrix2) -> Matrix2 {
        Matrix2(a.m00 * b.m00 + a.m01 * b.m10, a.m00 * b.m01 + a.m01 * b.m11,
                a.m10 * b.m00 + a.m11 * b.m10, a.m10 * b.m01 + a.m11 * b.m11)
    }

    /// Largest eigenvalue modulus.
    public var spectralRadius: Double {
        let tr = m00 + m11, det = m00 * m11 - m01 * m10
        let disc = tr * tr / 4 - det
        if disc >= 0 {
            let r = disc.squareRoot()
            return max(abs(tr / 2 + r), abs(tr / 2 - r))
        }
        return det.squareRoot()  // complex pair: |lambda|^2 = det
    }

    /// Decodes the JSON form `[[m00, m01], [m10, m11]]`, the way a reader would write a matrix.
    ///
    /// - Throws: `DecodingError` unless the value is two rows of two numbers.
    public init(from decoder: Decoder) throws {
        let rows = try [[Double]](from: decoder)
        guard rows.count == 2, rows[0].count == 2, rows[1].count == 2 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "expected a 2x2 matrix"))
        }
        self.init(rows[0][0], rows[0][1], rows[1][0], rows[1][1])
    }

    /// Encodes the JSON form `[[m00, m01], [m10, m11]]`.
    public func encode(to encoder: Encoder) throws {
        try [[m00, m01], [m10, m11]].encode(to: encoder)
    }
}

/// What generated one synthetic sequence, for diagnostics (e.g. plotting KL against the switch
/// points). The sequence is divided into regimes by `switchSteps`; regime `r` runs from frame
/// `switchSteps[r-1]` (or 0) up to, not including, `switchSteps[r]` (or the end).
public struct SyntheticSequenceInfo: Sendable, Equatable, Codable {
    /// Frame indices at which a new regime starts (sigma and/or W changes there). Frame `s` is
    /// the first frame generated with the new regime's W and sigma.
    public var switchSteps: [Int]
    /// Per regime (`switchSteps.count + 1` entries): index into the matrix table the setting
    /// uses (`SyntheticData.zeroShotMatrices` for zero-shot, else `SyntheticData.matrices`),
    /// or -1 where W is not from a table (identity in RAND, none in ADD).
    public var matrixIndices: [Int]
    /// Per regime noise standard deviation sigma.
    public var sigmas: [Double]
    /// ADD only: the drift b.
    public var drift: [Double]?

    /// A description from its parts.
    public init(switchSteps: [Int], matrixIndices: [Int], sigmas: [Double], drift: [Double]? = nil) {
        self.switchSteps = switchSteps
        self.matrixIndices = matrixIndices
        self.sigmas = sigmas
        self.drift = drift
    }
}

/// Everything needed to describe a generated synthetic dataset; written as `info.json`.
public struct SyntheticInfo: Sendable, Equatable, Codable {
    /// The setting whose test split this is (train and valid are always standard).
    public var setting: SyntheticSetting
    /// The seed the data were generated from.
    public var seed: UInt64
    /// T, the length of a standard sequence (SWITCH test sequences are 3T, LONG 2T).
    public var sequenceLength: Int
    /// The transition matrices of the train, valid and (except ZERO-SHOT) test sequences.
    public var matrices: [Matrix2]
    /// The ZERO-SHOT setting's matrices (never used in training).
    public var zeroShotMatrices: [Matrix2]
    /// Per training sequence, what generated it.
    public var train: [SyntheticSequenceInfo]
    /// Per validation sequence, what generated it.
    public var valid: [SyntheticSequenceInfo]
    /// Per test sequence, what generated it.
    public var test: [SyntheticSequenceInfo]

    enum CodingKeys: String, CodingKey {
        case setting, seed, sequenceLength = "T", matrices, zeroShotMatrices, train, valid, test
    }

    /// The descriptions of one split's sequences, in order.
    public func split(_ which: SplitName) -> [SyntheticSequenceInfo] {
        switch which {
        case .train: return train
        case .valid: return valid
        case .test: return test
        }
    }
}

/// The synthetic dataset of the paper's Eq. 6:
///
///     x_t = W x_{t-1} + sigma_t eps_t,   eps_t ~ N(0, I_2),   x_0 ~ U[-1, 1]^2.
///
/// Our choices where the paper is silent (also in docs/DATA.md):
///
/// - **Length.** T = 100 frames per sequence, frame 0 being x_0 itself (the model sees the
///   starting point), frames 1..<T from the recursion.
/// - **Matrices.** `matrices` are 10 fixed 2x2 matrices `W_k = S_k (r_k R(theta_k)) S_k^-1`,
///   `R` a rotation, `S_k = [[1, s_k], [0, 1]]` a shear. The similarity keeps the eigenvalues
///   `r_k e^{±i theta_k}`, so the spectral radius is exactly r_k, while the shear makes W
///   non-normal (not just a scaled rotation). `r_k` runs linearly from 0.80 (k = 0) to 1.02
///   (k = 9): the low ones decay, the top ones (1.0, 1.02) hold or grow slowly (1.02^100 ~ 7).
///   `theta_k ~ U[0.1, 1.2]` rad and `s_k ~ U[-0.5, 0.5]` are drawn in that order, per k, from
///   `SplitMix64(seed: 0x5EED_0001)`. `zeroShotMatrices` are built the same way from seed
///   0x5EED_0002 (same radii, different angles and shears). Each sequence picks W uniformly.
/// - **Noise switching.** sigma takes values in {0.25, 1, 4}. The first level is uniform over
///   the three; each switch moves to one of the two *other* levels uniformly (so a switch always
///   changes sigma; the third regime may return to the first level). The two switch frames are
///   uniform in [20, 80) and at least 10 frames apart (redrawn until they are).
/// - **Splits.** One `SplitMix64(seed)` stream generates 1000 standard sequences in order:
///   the first 800 are train, then 100 valid, then 100 test. The other settings keep that train
///   and valid and replace the test split by 100 sequences from their own stream
///   `SplitMix64(seed: seed ^ salt)` with a fixed salt per setting.
/// - **SWITCH**: three independent NOISELESS sequences of length T, each with its own x_0,
///   with three *different* W (drawn without replacement), concatenated to 3T = 300 frames;
///   switches at frames 100 and 200 (x jumps there, as literal concatenation implies).
/// - **RAND**: W = I; the number of switches is uniform in {0, 1, 2, 3}; switch frames are
///   uniform in [10, 90), at least 10 apart; levels as in standard.
/// - **LONG**: NOISELESS with 2T = 200 frames. **ZERO-SHOT**: NOISELESS with `zeroShotMatrices`.
/// - **ADD**: x_t = x_{t-1} + b, with b and x_0 ~ U[0, 1]^2, T frames, no noise.
///
/// Random draws use only `nextUnitDouble()` / `nextStandardNormal()`, so the same seed gives
/// the same Double bits. (The matrices use `cos`/`sin` from the C library; they agree to the
/// last bit on any correctly rounded libm and are also printed in docs/DATA.md.)
/// Data are not normalised: `normalization` is nil, kind `.real`, dataDim 2.
public enum SyntheticData {
    /// T: frames in a standard sequence.
    public static let sequenceLength = 100
    /// The three noise levels.
    public static let noiseLevels: [Double] = [0.25, 1, 4]
    /// Sequences per split: 800 / 100 / 100, as in the paper.
    public static let trainCount = 800, validCount = 100, testCount = 100

    /// The 10 matrices of the standard setting (contracting family; see the type's documentation).
    public static let matrices: [Matrix2] = matrices(.contracting)
    /// The 10 different matrices of the ZERO-SHOT setting (contracting family).
    public static let zeroShotMatrices: [Matrix2] = zeroShotMatrices(.contracting)

    /// The training/testing table of a family.
    public static func matrices(_ family: SyntheticFamily) -> [Matrix2] {
        makeMatrices(seed: family.seeds.matrices, family: family)
    }

    /// The ZERO-SHOT table of a family.
    public static func zeroShotMatrices(_ family: SyntheticFamily) -> [Matrix2] {
        makeMatrices(seed: family.seeds.zeroShot, family: family)
    }

    /// Spectral radii r_k of the contracting tables: 0.80 ... 1.02 in 10 even steps.
    public static func radius(_ k: Int) -> Double { SyntheticFamily.contracting.radius(k) }

    static func makeMatrices(seed: UInt64, family: SyntheticFamily = .contracting) -> [Matrix2] {
        var rng = SplitMix64(seed: seed)
        return (0..<10).map { k in
            let theta = 0.1 + 1.1 * rng.nextUnitDouble()
            let s = rng.nextUnitDouble() - 0.5
            let r = family.radius(k)
            let rot = Matrix2(r * cos(theta), -r * sin(theta), r * sin(theta), r * cos(theta))
            return Matrix2(1, s, 0, 1) * rot * Matrix2(1, -s, 0, 1)
        }
    }

    /// The dataset for `setting`. Same seed, same Double bits.
    ///
    /// - Parameters:
    ///   - setting: which test split (train and valid are always the standard setting's).
    ///   - seed: the generator's seed.
    ///   - family: the matrix tables (default contracting).
    /// - Returns: 800 / 100 / 100 two-dimensional sequences, kind `.real`, not normalised.
    public static func make(setting: SyntheticSetting = .standard, seed: UInt64 = 0,
                            family: SyntheticFamily = .contracting) -> SequenceDataset {
        makeWithInfo(setting: setting, seed: seed, family: family).dataset
    }

    /// The dataset and, per sequence, what generated it (matrix, switch frames, noise levels).
    /// The family only changes the matrix tables; every draw is the same, so the two families'
    /// datasets have the same x_0, switch frames and noise levels sequence by sequence.
    ///
    /// - Parameters:
    ///   - setting: which test split.
    ///   - seed: the generator's seed.
    ///   - family: the matrix tables.
    /// - Returns: the dataset, as ``make(setting:seed:family:)``, and its ``SyntheticInfo``.
    public static func makeWithInfo(setting: SyntheticSetting = .standard, seed: UInt64 = 0,
                                    family: SyntheticFamily = .contracting)
        -> (dataset: SequenceDataset, info: SyntheticInfo)
    {
        let T = sequenceLength
        let tables = (family == .contracting ? matrices : matrices(family),
                      family == .contracting ? zeroShotMatrices : zeroShotMatrices(family))
        var rng = SplitMix64(seed: seed)
        var standard: [(seq: [Double], info: SyntheticSequenceInfo)] = []
        standard.reserveCapacity(trainCount + validCount + testCount)
        for _ in 0..<(trainCount + validCount + testCount) {
            standard.append(standardSequence(length: T, table: tables.0, rng: &rng))
        }
        let train = Array(standard[0..<trainCount])
        let valid = Array(standard[trainCount..<(trainCount + validCount)])
        var test = Array(standard[(trainCount + validCount)...])
        if setting != .standard {
            var testRNG = SplitMix64(seed: seed ^ salt(setting))
            test = (0..<testCount).map { _ in
                generalisationSequence(setting, length: T, tables: tables, rng: &testRNG)
            }
        }
        func split(_ items: [(seq: [Double], info: SyntheticSequenceInfo)]) -> SequenceSplit {
            SequenceSplit(dataDim: 2, sequences: items.map(\.seq))
        }
        let name = "synthetic-\(setting.rawValue)" + (family == .contracting ? "" : "-\(family.rawValue)")
        let dataset = SequenceDataset(name: name, kind: .real,
                                      train: split(train), valid: split(valid), test: split(test))
        let info = SyntheticInfo(setting: setting, seed: seed, sequenceLength: T,
                                 matrices: tables.0, zeroShotMatrices: tables.1,
                                 train: train.map(\.info), valid: valid.map(\.info),
                                 test: test.map(\.info))
        return (dataset, info)
    }

    /// Distinct fixed salts so each setting's test stream is independent of the standard one.
    static func salt(_ setting: SyntheticSetting) -> UInt64 {
        let index = UInt64(SyntheticSetting.allCases.firstIndex(of: setting)!)
        return 0xD1B5_4A32_D192_ED03 &* (index + 1)
    }

    // MARK: - Draws (the order of draws is part of the format: do not reorder)

    /// Uniform integer in 0..<n.
    static func drawIndex(_ n: Int, _ rng: inout SplitMix64) -> Int {
        min(Int(rng.nextUnitDouble() * Double(n)), n - 1)
    }

    static func drawUniform(_ lo: Double, _ hi: Double, _ rng: inout SplitMix64) -> Double {
        lo + (hi - lo) * rng.nextUnitDouble()
    }

    /// `count` sorted switch frames, uniform in `lo..<hi`, pairwise at least `gap` apart
    /// (the whole set is redrawn until it qualifies).
    static func drawSwitches(count: Int, lo: Int, hi: Int, gap: Int, _ rng: inout SplitMix64) -> [Int] {
        while true {
            let s = (0..<count).map { _ in lo + drawIndex(hi - lo, &rng) }.sorted()
            if zip(s, s.dropFirst()).allSatisfy({ $1 - $0 >= gap }) { return s }
        }
    }

    /// Noise levels for `regimes` regimes: first uniform, then each one of the two others.
    static func drawLevels(regimes: Int, _ rng: inout SplitMix64) -> [Double] {
        var level = drawIndex(3, &rng)
        var out = [noiseLevels[level]]
        for _ in 1..<max(regimes, 1) {
            level = (level + 1 + drawIndex(2, &rng)) % 3
            out.append(noiseLevels[level])
        }
        return Array(out.prefix(regimes))
    }

    /// Runs x_t = W_r x_{t-1} + sigma_r eps_t for frames 1..<length from `x0`, with the
    /// regime r given by `switches`. No normals are drawn where sigma is 0.
    static func simulate(x0: (Double, Double), length: Int, switches: [Int], ws: [Matrix2],
                         sigmas: [Double], _ rng: inout SplitMix64) -> [Double] {
        var out = [Double](repeating: 0, count: 2 * length)
        var (a, b) = x0
        out[0] = a; out[1] = b
        var regime = 0
        for t in 1..<length {
            while regime < switches.count && t >= switches[regime] { regime += 1 }
            let w = ws[regime], sigma = sigmas[regime]
            var na = w.m00 * a + w.m01 * b
            var nb = w.m10 * a + w.m11 * b
            if sigma != 0 {
                na += sigma * rng.nextStandardNormal()
                nb += sigma * rng.nextStandardNormal()
            }
            a = na; b = nb
            out[2 * t] = a; out[2 * t + 1] = b
        }
        return out
    }

    static func standardSequence(length: Int, table matrices: [Matrix2], rng: inout SplitMix64)
        -> (seq: [Double], info: SyntheticSequenceInfo)
    {
        let k = drawIndex(matrices.count, &rng)
        let x0 = (drawUniform(-1, 1, &rng), drawUniform(-1, 1, &rng))
        let switches = drawSwitches(count: 2, lo: 20, hi: 80, gap: 10, &rng)
        let sigmas = drawLevels(regimes: 3, &rng)
        let w = matrices[k]
        let seq = simulate(x0: x0, length: length, switches: switches, ws: [w, w, w],
                           sigmas: sigmas, &rng)
        return (seq, SyntheticSequenceInfo(switchSteps: switches, matrixIndices: [k, k, k], sigmas: sigmas))
    }

    /// A noiseless sequence from the given table: W picked uniformly (or `index` if given).
    static func noiselessSequence(length: Int, table: [Matrix2], index: Int? = nil,
                                  rng: inout SplitMix64) -> (seq: [Double], info: SyntheticSequenceInfo) {
        let k = index ?? drawIndex(table.count, &rng)
        let x0 = (drawUniform(-1, 1, &rng), drawUniform(-1, 1, &rng))
        let seq = simulate(x0: x0, length: length, switches: [], ws: [table[k]], sigmas: [0], &rng)
        return (seq, SyntheticSequenceInfo(switchSteps: [], matrixIndices: [k], sigmas: [0]))
    }

    static func generalisationSequence(_ setting: SyntheticSetting, length T: Int,
                                       tables: (matrices: [Matrix2], zeroShot: [Matrix2]),
                                       rng: inout SplitMix64) -> (seq: [Double], info: SyntheticSequenceInfo) {
        let (matrices, zeroShotMatrices) = tables
        switch setting {
        case .standard:
            return standardSequence(length: T, table: matrices, rng: &rng)
        case .noiseless:
            return noiselessSequence(length: T, table: matrices, rng: &rng)
        case .long:
            return noiselessSequence(length: 2 * T, table: matrices, rng: &rng)
        case .zeroShot:
            return noiselessSequence(length: T, table: zeroShotMatrices, rng: &rng)
        case .switch:
            // Three different matrices: the first three of a seeded shuffle of the indices.
            let ks = Array(SeededShuffle.shuffled(Array(matrices.indices), using: &rng).prefix(3))
            var seq: [Double] = []
            for k in ks {
                seq += noiselessSequence(length: T, table: matrices, index: k, rng: &rng).seq
            }
            return (seq, SyntheticSequenceInfo(switchSteps: [T, 2 * T], matrixIndices: ks, sigmas: [0, 0, 0]))
        case .rand:
            let count = drawIndex(4, &rng)
            let x0 = (drawUniform(-1, 1, &rng), drawUniform(-1, 1, &rng))
            let switches = drawSwitches(count: count, lo: 10, hi: 90, gap: 10, &rng)
            let sigmas = drawLevels(regimes: count + 1, &rng)
            let ws = [Matrix2](repeating: .identity, count: count + 1)
            let seq = simulate(x0: x0, length: T, switches: switches, ws: ws, sigmas: sigmas, &rng)
            return (seq, SyntheticSequenceInfo(switchSteps: switches,
                                               matrixIndices: [Int](repeating: -1, count: count + 1),
                                               sigmas: sigmas))
        case .add:
            let b = [rng.nextUnitDouble(), rng.nextUnitDouble()]
            var a = rng.nextUnitDouble(), c = rng.nextUnitDouble()
            var seq = [Double](repeating: 0, count: 2 * T)
            seq[0] = a; seq[1] = c
            for t in 1..<T {
                a += b[0]; c += b[1]
                seq[2 * t] = a; seq[2 * t + 1] = c
            }
            return (seq, SyntheticSequenceInfo(switchSteps: [], matrixIndices: [-1], sigmas: [0], drift: b))
        }
    }
}

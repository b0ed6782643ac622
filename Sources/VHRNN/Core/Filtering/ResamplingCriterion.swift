#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

/// When a particle filter resamples ("when to resample"; *how* is ``ResamplingScheme``).
///
/// - ``never``: never resample. The filter then computes the IWAE bound.
/// - ``always``: resample at every step (the bootstrap-filter habit; more variance than
///   needed, since resampling itself adds noise).
/// - ``essBelow(fraction:)``: resample when the effective sample size
///   ESS = (Σ w)² / Σ w² of the accumulated weights is at most `fraction · K`. FIVO's
///   default is `fraction = 0.5` (``default``).
///
/// On the command line a criterion is written `never`, `always`, `ess` (fraction 0.5) or
/// `ess:<fraction>` with the fraction in [0, 1], e.g. `ess:0.3`; ``description`` writes the
/// same form, and `Codable` stores it as that one string.
public enum ResamplingCriterion: Sendable, Equatable {
    /// Never resample: the filter computes the IWAE bound.
    case never
    /// Resample after every step (but a sequence's last).
    case always
    /// Resample when ESS ≤ `fraction · K`; `fraction` in [0, 1] (0.5: ``default``).
    case essBelow(fraction: Double)

    /// FIVO's rule: resample when ESS ≤ K/2.
    public static let `default` = ResamplingCriterion.essBelow(fraction: 0.5)

    /// Whether to resample now, given the log effective sample size of the current weights.
    ///
    /// - Parameters:
    ///   - logESS: log ESS, e.g. from ``logEffectiveSampleSize(logWeights:)``; `-inf` (no
    ///     particle has weight) counts as ESS 0. NaN never triggers a resampling.
    ///   - particleCount: K.
    /// - Returns: `false` for ``never``, `true` for ``always``, and ESS ≤ fraction · K for
    ///   ``essBelow(fraction:)``.
    /// - Complexity: O(1).
    public func shouldResample(logESS: Double, particleCount: Int) -> Bool {
        switch self {
        case .never: return false
        case .always: return true
        case .essBelow(let fraction):
            // Compared in log space. The slack of 1e-12 (a relative ESS error, far below any
            // meaningful threshold difference) absorbs the round-off of 2·lse(w) - lse(2w), so
            // that e.g. equal weights (ESS exactly K) with fraction 1 do resample.
            return logESS <= log(fraction * Double(particleCount)) + 1e-12
        }
    }

    /// log ESS = 2·lse(w) - lse(2w) of K unnormalised log weights, in [0, log K] (ESS in
    /// [1, K]); `-inf` if no particle has positive weight (all `-inf`/`NaN`, or K = 0).
    ///
    /// NaN log weights count as zero weights, as in ``ResamplingScheme``. Allocation-free.
    ///
    /// - Complexity: O(K).
    static func logEffectiveSampleSize<W: BinaryFloatingPoint>(
        logWeights: UnsafeBufferPointer<W>
    ) -> Double {
        let maxLogWeight = LogWeights.maximum(logWeights)
        guard maxLogWeight > -.infinity else { return -.infinity }
        // Shifted by the maximum, so every term is in [0, 1] and the largest is 1: the sums
        // are at least 1 and neither overflows nor underflows.
        var sum = 0.0
        var sumOfSquares = 0.0
        for w in logWeights {
            let p = LogWeights.relativeWeight(w, maximum: maxLogWeight)
            sum += p
            sumOfSquares += p * p
        }
        return 2 * log(sum) - log(sumOfSquares)
    }

    /// log ESS = 2·lse(w) - lse(2w) of K unnormalised log weights; see
    /// ``shouldResample(logESS:particleCount:)``.
    ///
    /// - Returns: a value in [0, log K], or `-inf` if no particle has positive weight.
    /// - Complexity: O(K).
    public static func logEffectiveSampleSize<W: BinaryFloatingPoint>(logWeights: [W]) -> Double {
        logWeights.withUnsafeBufferPointer { logEffectiveSampleSize(logWeights: $0) }
    }
}

// MARK: - Parsing and printing

extension ResamplingCriterion: CustomStringConvertible {
    /// A criterion spelt wrongly on the command line or in a stored configuration.
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        /// The text as given (before trimming).
        public var argument: String
        /// What is wrong with it, e.g. `unknown criterion` or `'x' is not a number`.
        public var reason: String
        /// One line naming the argument and the reason, and listing the accepted forms.
        public var description: String {
            "invalid resampling criterion '\(argument)': \(reason) "
                + "(expected never, always, ess, or ess:<fraction> with the fraction in [0, 1], e.g. ess:0.3)"
        }
    }

    /// Parses `never`, `always`, `ess` (fraction 0.5) or `ess:<fraction>` (fraction in
    /// [0, 1]). Case and surrounding spaces are ignored.
    ///
    /// - Throws: ``ParseError`` saying what is wrong and what is accepted.
    public init(parsing argument: String) throws {
        var trimmed = Substring(argument)
        while trimmed.first?.isWhitespace == true { trimmed.removeFirst() }
        while trimmed.last?.isWhitespace == true { trimmed.removeLast() }
        let text = trimmed.lowercased()
        switch text {
        case "never": self = .never
        case "always": self = .always
        case "ess": self = .default
        default:
            guard text.hasPrefix("ess:") else {
                throw ParseError(argument: argument, reason: "unknown criterion")
            }
            let number = text.dropFirst("ess:".count)
            guard let fraction = Double(number) else {
                throw ParseError(argument: argument, reason: "'\(number)' is not a number")
            }
            // ESS is in [1, K]: a fraction above 1 would mean "always", below 1/K "never";
            // anything outside [0, 1] (or NaN) is more likely a typo than intent.
            guard fraction >= 0, fraction <= 1 else {
                throw ParseError(argument: argument, reason: "the fraction \(number) is outside [0, 1]")
            }
            self = .essBelow(fraction: fraction)
        }
    }

    /// Parses like ``init(parsing:)``, returning nil on error; the shape ArgumentParser's
    /// `ExpressibleByArgument` asks for.
    public init?(argument: String) {
        guard let value = try? ResamplingCriterion(parsing: argument) else { return nil }
        self = value
    }

    /// `never`, `always` or `ess:<fraction>`; ``init(parsing:)`` reads it back.
    public var description: String {
        switch self {
        case .never: return "never"
        case .always: return "always"
        case .essBelow(let fraction): return "ess:\(fraction)"
        }
    }
}

extension ResamplingCriterion: Codable {
    /// Stored as its command-line spelling (e.g. `"ess:0.5"`), so configurations and
    /// checkpoints read the same as the command that produced them.
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            self = try ResamplingCriterion(parsing: text)
        } catch let error as ParseError {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    /// Encodes the criterion as one string, its ``description`` (`never`, `always`,
    /// `ess:<fraction>`).
    /// - Parameter encoder: the encoder to write to.
    /// - Throws: what the encoder's single-value container throws.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

import Foundation

/// Where a dataset comes from, as spelled on the command line (`--data`) and recorded in
/// checkpoints:
///
///     synthetic[:SETTING[:FAMILY]]   the paper's synthetic data (generated; SETTING as
///                           SyntheticSetting, FAMILY contracting (default) or expanding)
///     pianoroll:PATH        a Boulanger-Lewandowski pickle (JSB_Chorales.pickle, ...)
///     pianoroll-chunks:N:PATH   the same, every song cut into consecutive chunks of at most N
///                           steps (the FIVO reference's "trunc_" datasets, N = 100)
///     stock:PATH            sp500_2008_ohlcv.csv
///     stock-repaired:PATH   the same with its bad ticks set to the row's close
///                           (StockLoader.badTicks)
///     ht-sensor:DIR         the UCI HT Sensor files (HT_Sensor_dataset.dat + metadata)
///     csv:PATH              your own series: a long CSV table or a folder of CSVs
///     synthetic-dir:DIR     synthetic data written by `vhrnn generate-synthetic`
public enum DataSource: Equatable, Sendable, CustomStringConvertible {
    /// `synthetic[:SETTING[:FAMILY]]`: the paper's synthetic data, generated from the load seed.
    case synthetic(SyntheticSetting, SyntheticFamily = .contracting)
    /// `synthetic-dir:DIR`: synthetic data written by `vhrnn generate-synthetic`
    /// (``SyntheticData/read(directory:)``).
    case syntheticDirectory(String)
    /// `pianoroll:PATH`: a Boulanger-Lewandowski piano-roll pickle (``PianoRollLoader``).
    case pianoRoll(String)
    /// `pianoroll-chunks:N:PATH`: the same pickle with every song cut into consecutive chunks of
    /// at most N steps.
    case pianoRollChunks(String, maxLength: Int)
    /// `stock:PATH`: the S&P 500 2008 daily OHLCV file (``StockLoader``).
    case stock(String)
    /// `stock-repaired:PATH`: the same file with every bad tick (an open, high or low more
    /// than a factor 5 from the row's and the previous row's close; ``StockLoader/badTicks(path:)``)
    /// set to the row's close.
    case stockRepaired(String)
    /// `ht-sensor:DIR`: the UCI HT Sensor files (``HTSensorLoader``).
    case htSensor(String)
    /// `csv:PATH`: a long CSV table or a directory of CSV files (``CSVSequenceLoader``).
    case csv(String)

    /// Parses a `--data` value.
    ///
    /// - Parameter text: e.g. `synthetic`, `synthetic:switch`, `pianoroll:JSB_Chorales.pickle`,
    ///   `pianoroll-chunks:100:JSB_Chorales.pickle`.
    /// - Throws: ``DataSourceError`` naming what is wrong and listing the accepted forms.
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let kind = parts.first ?? "", argument = parts.count > 1 ? parts[1] : nil
        func path() throws -> String {
            guard let argument, !argument.isEmpty else {
                throw DataSourceError(message: "--data \(kind) needs a path: \(kind):PATH")
            }
            return argument
        }
        switch kind {
        case "synthetic":
            guard let argument else { self = .synthetic(.standard); return }
            let parts = argument.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard let setting = SyntheticSetting(rawValue: parts[0]) else {
                throw DataSourceError(message: "unknown synthetic setting '\(parts[0])'; expected one of "
                    + SyntheticSetting.allCases.map(\.rawValue).joined(separator: ", "))
            }
            var family = SyntheticFamily.contracting
            if parts.count > 1 {
                guard let f = SyntheticFamily(rawValue: parts[1]) else {
                    throw DataSourceError(message: "unknown synthetic matrix family '\(parts[1])'; expected "
                        + SyntheticFamily.allCases.map(\.rawValue).joined(separator: " or "))
                }
                family = f
            }
            self = .synthetic(setting, family)
        case "synthetic-dir": self = .syntheticDirectory(try path())
        case "pianoroll": self = .pianoRoll(try path())
        case "pianoroll-chunks":
            let rest = try path().split(separator: ":", maxSplits: 1).map(String.init)
            guard rest.count == 2, let n = Int(rest[0]), n >= 1, !rest[1].isEmpty else {
                throw DataSourceError(message: "--data \(text): expected pianoroll-chunks:N:PATH with N a positive chunk length")
            }
            self = .pianoRollChunks(rest[1], maxLength: n)
        case "stock": self = .stock(try path())
        case "stock-repaired": self = .stockRepaired(try path())
        case "ht-sensor": self = .htSensor(try path())
        case "csv": self = .csv(try path())
        default:
            throw DataSourceError(message: "unknown data source '\(text)'; expected synthetic[:SETTING[:FAMILY]], "
                + "synthetic-dir:DIR, pianoroll:PATH, pianoroll-chunks:N:PATH, stock:PATH, stock-repaired:PATH, ht-sensor:DIR or csv:PATH")
        }
    }

    /// The `--data` spelling, which ``init(parsing:)`` reads back (the default family is left
    /// out).
    public var description: String {
        switch self {
        case .synthetic(let s, let f): return "synthetic:\(s.rawValue)" + (f == .contracting ? "" : ":\(f.rawValue)")
        case .syntheticDirectory(let p): return "synthetic-dir:\(p)"
        case .pianoRoll(let p): return "pianoroll:\(p)"
        case .pianoRollChunks(let p, let n): return "pianoroll-chunks:\(n):\(p)"
        case .stock(let p): return "stock:\(p)"
        case .stockRepaired(let p): return "stock-repaired:\(p)"
        case .htSensor(let p): return "ht-sensor:\(p)"
        case .csv(let p): return "csv:\(p)"
        }
    }

    /// Loads the dataset (train, valid, test) with the loader's default options.
    ///
    /// - Parameter seed: generates the synthetic data and shuffles the stock tickers into
    ///   splits; the other sources ignore it.
    /// - Returns: the three splits with their frame mean (binary data) or normalisation (real
    ///   data).
    /// - Throws: ``DataFileError`` naming the file and, where known, the line, field or byte.
    public func load(seed: UInt64 = 0) throws -> SequenceDataset {
        switch self {
        case .synthetic(let setting, let family): return SyntheticData.make(setting: setting, seed: seed, family: family)
        case .syntheticDirectory(let dir): return try SyntheticData.read(directory: dir)
        case .pianoRoll(let path): return try PianoRollLoader.load(path: path)
        case .pianoRollChunks(let path, let n): return try PianoRollLoader.load(path: path).chunked(maxLength: n)
        case .stock(let path): return try StockLoader.load(path: path, seed: seed)
        case .stockRepaired(let path): return try StockLoader.load(path: path, seed: seed, repairBadTicks: true)
        case .htSensor(let dir): return try HTSensorLoader.load(directory: dir)
        case .csv(let path): return try CSVSequenceLoader.load(path: path)
        }
    }

    /// The emission that fits the data: Bernoulli for 0/1 frames, Gaussian otherwise.
    ///
    /// - Parameter kind: the dataset's ``SequenceDataset/kind``.
    /// - Returns: `.bernoulli` for `.binary`, `.gaussian` for `.real`.
    public static func emission(for kind: ObservationKind) -> EmissionKind {
        kind == .binary ? .bernoulli : .gaussian
    }
}

/// A `--data` value that does not parse; the message lists the accepted forms.
public struct DataSourceError: Error, CustomStringConvertible, Sendable {
    /// What is wrong, at most 500 characters, on one line.
    public var message: String
    /// The message itself.
    public var description: String { message }

    /// An error with `message`, cut to 500 characters with control characters escaped.
    public init(message: String) { self.message = DataFileError.excerpt(message, limit: 500) }
}

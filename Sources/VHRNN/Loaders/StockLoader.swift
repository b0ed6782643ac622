#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

/// S&P 500 daily prices of 2008 as 5-dimensional log-ratio sequences of length 125
/// (`sp500_2008_ohlcv.csv`: columns `ticker,date,open,high,low,close,adj_close,volume`,
/// 458 tickers x 254 rows: 2007-12-31, 125 days January–June, 128 days July–December).
///
/// - **Features** (D = 5): `log(v_i / v_{i-1})` between consecutive rows of open, high, low,
///   close and volume (adj_close is not used).
/// - **First half**: the 125 ratios of rows 0...125 (2007-12-31 .. 2008-06-30).
/// - **Second half**: the 125 ratios of rows 125...250, i.e. starting from the last first-half
///   day 2008-06-30 through 2008-12-26. The last three ratios of December (rows 251...253,
///   2008-12-29 .. 12-31) are dropped so both halves have length 125.
/// - **Splits**: tickers sorted by name, shuffled with a Fisher–Yates shuffle driven by
///   `SplitMix64(seed)` (default 0), then taken in order: 345 train (first half), 50 valid
///   (second half), 50 test (second half). The 13 left over are **unused**, to keep the
///   paper's split sizes.
/// - **Normalisation**: per-feature mean and (population) std of all training frames, applied
///   to all three splits; stored in `normalization`.
/// - **Undefined ratios**: a price or volume <= 0 makes the log ratio undefined; the loader
///   fails naming the ticker, date and line rather than skipping silently. (The shared file has
///   no such rows: checked when the loader was written.)
/// - **Checks**: header exactly as above; each ticker's rows contiguous, 254 of them, dates
///   strictly increasing and the same dates as the first ticker.
/// - **Bad ticks** (``badTicks(path:)``, repaired only when asked): an open, high or low more
///   than a factor ``badTickFactor`` away from both that row's close and the previous row's
///   close. The shared file has 12, all WBA (open = low ≈ 2 while WBA closes near 34 on six
///   days); each becomes a ±2.7 log ratio, about 70 training standard deviations, on the day
///   and the day after. ``load(path:seed:repairBadTicks:)`` with `repairBadTicks` sets such a
///   field to the row's close (the `stock-repaired:PATH` data source); the default keeps the
///   file as published, which is what the paper's Fig. 5c runs and ours before this option used.
public enum StockLoader {
    /// The file's header columns, exactly and in order.
    public static let expectedHeader = ["ticker", "date", "open", "high", "low", "close", "adj_close", "volume"]
    /// Rows per ticker: 2007-12-31 and the 253 trading days of 2008.
    public static let rowsPerTicker = 254
    /// Ratios per sequence (one half-year).
    public static let sequenceLength = 125
    /// Tickers per split (the paper's sizes): train on the first half-year, valid and test on
    /// the second.
    public static let trainCount = 345, validCount = 50, testCount = 50
    /// Row index of the first day each half's ratios start from.
    public static let firstHalfStartRow = 0, secondHalfStartRow = 125
    /// Column names of the five features, in order.
    public static let featureNames = ["open", "high", "low", "close", "volume"]
    /// How far (as a price ratio) an open, high or low must be from both its row's close and
    /// the previous row's close to count as a bad tick. In the shared file 5 flags every one of
    /// WBA's recording errors (factors 13–17) and no genuine move of 2008 (the farthest is UAL's
    /// intraday crash on 2008-09-08, low 3 against close 10.92, a factor 3.6).
    public static let badTickFactor = 5.0

    /// An open, high or low the loader takes for a recording error (see ``badTickFactor``).
    public struct BadTick: Equatable, Sendable, CustomStringConvertible {
        /// The ticker's name, e.g. `WBA`.
        public var ticker: String
        /// The row's date as the file spells it.
        public var date: String
        /// The file's line of the row.
        public var line: Int
        /// `open`, `high` or `low`.
        public var field: String
        /// The recorded price.
        public var value: Double
        /// The same row's close, which a repair puts in its place.
        public var close: Double
        /// `WBA 2008-02-19 (line 110271): open 2.4, close 35.419998`.
        public var description: String { "\(ticker) \(date) (line \(line)): \(field) \(value), close \(close)" }
    }

    struct Ticker {
        var name: String
        var dates: [String] = []
        var firstLine: Int
        /// Row-major (rows, 5) values of open, high, low, close, volume.
        var values: [Double] = []
        var lines: [Int] = []
    }

    /// Loads the file at `path` and builds the three splits described above.
    ///
    /// - Parameters:
    ///   - path: `sp500_2008_ohlcv.csv` or a file of the same format.
    ///   - seed: the ticker shuffle's seed.
    ///   - repairBadTicks: set every ``badTicks(path:)`` field to its row's close before the
    ///     log ratios are taken (and so before the normalisation is fitted).
    /// - Returns: 345 / 50 / 50 sequences of 125 five-dimensional frames, z-normalised with the
    ///   training statistics, kind `.real`.
    /// - Throws: ``DataFileError`` naming the line (and ticker and date): a wrong header, a
    ///   malformed or non-positive value, non-contiguous or misdated rows, or fewer than 445
    ///   tickers.
    public static func load(path: String, seed: UInt64 = 0, repairBadTicks: Bool = false) throws -> SequenceDataset {
        var tickers = try readTickers(path: path)
        if repairBadTicks { for i in tickers.indices { Self.repairBadTicks(&tickers[i]) } }
        let needed = trainCount + validCount + testCount
        guard tickers.count >= needed else {
            throw DataFileError(path: path, message: "\(tickers.count) tickers, need at least \(needed)")
        }
        let order = SeededShuffle.shuffled(tickers.map(\.name).sorted(), seed: seed)
        let byName = Dictionary(uniqueKeysWithValues: tickers.map { ($0.name, $0) })
        func sequences(_ names: ArraySlice<String>, startRow: Int) throws -> [[Double]] {
            try names.map { try logRatios(byName[$0]!, startRow: startRow, path: path) }
        }
        let train = try sequences(order[0..<trainCount], startRow: firstHalfStartRow)
        let valid = try sequences(order[trainCount..<(trainCount + validCount)], startRow: secondHalfStartRow)
        let test = try sequences(order[(trainCount + validCount)..<needed], startRow: secondHalfStartRow)
        let rawTrain = SequenceSplit(dataDim: 5, sequences: train)
        let norm = Normalization.fitted(on: rawTrain)
        return SequenceDataset(name: repairBadTicks ? "stock-repaired" : "stock", kind: .real, train: norm.apply(to: rawTrain),
                               valid: norm.apply(to: SequenceSplit(dataDim: 5, sequences: valid)),
                               test: norm.apply(to: SequenceSplit(dataDim: 5, sequences: test)),
                               normalization: norm)
    }

    /// The tickers chosen for each split with `seed` (useful for reports; same order as the
    /// sequences in the dataset).
    ///
    /// - Parameters:
    ///   - path: the prices file.
    ///   - seed: the ticker shuffle's seed, as given to ``load(path:seed:repairBadTicks:)``.
    /// - Returns: the ticker names of each split; the left-over tickers are in none.
    /// - Throws: ``DataFileError`` for a malformed file, as ``load(path:seed:repairBadTicks:)``.
    public static func tickerAssignment(path: String, seed: UInt64 = 0) throws -> [SplitName: [String]] {
        let names = try readTickers(path: path).map(\.name).sorted()
        let order = SeededShuffle.shuffled(names, seed: seed)
        return [.train: Array(order[0..<trainCount]),
                .valid: Array(order[trainCount..<(trainCount + validCount)]),
                .test: Array(order[(trainCount + validCount)..<(trainCount + validCount + testCount)])]
    }

    /// The bad ticks of the file at `path`, in file order.
    ///
    /// - Parameter path: the prices file.
    /// - Returns: every open, high or low more than ``badTickFactor`` from both its row's
    ///   close and the previous row's close.
    /// - Throws: ``DataFileError`` for a malformed file, as ``load(path:seed:repairBadTicks:)``.
    public static func badTicks(path: String) throws -> [BadTick] {
        try readTickers(path: path).flatMap { t in
            badTickPositions(t).map { row, j in
                BadTick(ticker: t.name, date: t.dates[row], line: t.lines[row], field: featureNames[j],
                        value: t.values[row * 5 + j], close: t.values[row * 5 + 3])
            }
        }
    }

    /// (row, feature) of the bad ticks of one ticker: open, high or low (features 0–2) with
    /// a ratio beyond ``badTickFactor`` to the row's close and to the previous row's close
    /// (the first row has only its own). Non-positive values are left to the log-ratio check.
    static func badTickPositions(_ t: Ticker) -> [(row: Int, feature: Int)] {
        func far(_ a: Double, _ b: Double) -> Bool {
            a > 0 && b > 0 && Swift.max(a / b, b / a) > badTickFactor
        }
        var out: [(row: Int, feature: Int)] = []
        for row in 0..<(t.values.count / 5) {
            let close = t.values[row * 5 + 3]
            for j in 0..<3 {
                let v = t.values[row * 5 + j]
                if far(v, close) && (row == 0 || far(v, t.values[(row - 1) * 5 + 3])) { out.append((row, j)) }
            }
        }
        return out
    }

    /// Sets each of the ticker's bad ticks (``badTickPositions(_:)``) to its row's close.
    static func repairBadTicks(_ t: inout Ticker) {
        for (row, j) in badTickPositions(t) { t.values[row * 5 + j] = t.values[row * 5 + 3] }
    }

    static func readTickers(path: String) throws -> [Ticker] {
        var sawHeader = false
        var tickers: [Ticker] = []
        var seen = Set<String>()
        func finish(_ t: Ticker) throws {
            guard t.dates.count == rowsPerTicker else {
                throw DataFileError(path: path, location: "line \(t.firstLine)",
                                    message: "ticker \(t.name) has \(t.dates.count) rows, expected \(rowsPerTicker)")
            }
            if let first = tickers.first, first.dates != t.dates {
                let i = first.dates.indices.first { first.dates[$0] != t.dates[$0] } ?? 0
                throw DataFileError(path: path, location: "line \(t.lines[i])",
                                    message: "ticker \(t.name) has date \(t.dates[i]) where \(first.name) has \(first.dates[i])")
            }
            tickers.append(t)
        }
        var current: Ticker?
        try DelimitedText.forEachRow(path: path, separator: .comma) { line, fields in
            guard sawHeader else {
                guard fields == expectedHeader else {
                    throw DataFileError(path: path, location: "line \(line)",
                                        message: "expected header \(expectedHeader.joined(separator: ",")), found \(fields.joined(separator: ","))")
                }
                sawHeader = true
                return
            }
            guard fields.count == expectedHeader.count else {
                throw DataFileError(path: path, location: "line \(line)",
                                    message: "expected \(expectedHeader.count) fields, found \(fields.count)")
            }
            let name = fields[0], date = fields[1]
            if current?.name != name {
                if let c = current { try finish(c) }
                guard !name.isEmpty else {
                    throw DataFileError(path: path, location: "line \(line), column ticker", message: "empty ticker")
                }
                guard seen.insert(name).inserted else {
                    throw DataFileError(path: path, location: "line \(line)",
                                        message: "rows of ticker \(name) are not contiguous")
                }
                current = Ticker(name: name, firstLine: line)
            }
            if let last = current!.dates.last, !(last < date) {
                throw DataFileError(path: path, location: "line \(line), column date",
                                    message: "ticker \(name): date \(date) does not follow \(last)")
            }
            current!.dates.append(date)
            current!.lines.append(line)
            for column in [2, 3, 4, 5, 7] {
                current!.values.append(try DelimitedText.number(fields[column], path: path, line: line,
                                                                column: expectedHeader[column]))
            }
        }
        guard sawHeader else { throw DataFileError(path: path, message: "empty file") }
        if let c = current { try finish(c) }
        guard !tickers.isEmpty else { throw DataFileError(path: path, message: "no data rows") }
        return tickers
    }

    /// The `sequenceLength` log ratios of rows `startRow ... startRow + sequenceLength`.
    static func logRatios(_ t: Ticker, startRow: Int, path: String) throws -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(sequenceLength * 5)
        for row in startRow..<(startRow + sequenceLength + 1) {
            for j in 0..<5 where t.values[row * 5 + j] <= 0 {
                throw DataFileError(path: path, location: "line \(t.lines[row]), column \(featureNames[j])",
                                    message: "ticker \(t.name) on \(t.dates[row]): \(featureNames[j]) is \(t.values[row * 5 + j]); log ratio undefined")
            }
        }
        for row in (startRow + 1)..<(startRow + sequenceLength + 1) {
            for j in 0..<5 {
                out.append(log(t.values[row * 5 + j] / t.values[(row - 1) * 5 + j]))
            }
        }
        return out
    }
}

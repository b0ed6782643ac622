import Foundation

/// UCI "Gas sensors for home activity monitoring" (Huerta et al. 2016) as fixed-length windows.
///
/// Files (whitespace-separated, header line first):
/// - `HT_Sensor_metadata.dat`: `id date class t0 dt` — one induction per line; t0 = stimulus
///   start in hours of the day, dt = stimulus duration in hours.
/// - `HT_Sensor_dataset.dat`: `id time R1 R2 R3 R4 R5 R6 R7 R8 Temp. Humidity` — `time` in
///   hours relative to the induction's t0 (negative before the stimulus; each induction has
///   about one hour before and after), about one sample per second.
///
/// Preprocessing (our choices where the paper is silent; also in docs/DATA.md):
/// - **Channels.** By default the 11 non-id columns in file order: time (hours from t0), R1..R8,
///   Temp., Humidity — the file has 10 sensor readings, so the paper's 11 channels must include
///   the time column. `includeTime: false` gives the 10 readings only.
/// - **Resampling.** Samples are not exactly 1 s apart (wireless dropouts), so no 1 Hz grid is
///   built explicitly: each output frame takes the reading *nearest in time* to its target
///   instant (ties go to the earlier reading). That is the same as resampling to 1 Hz by
///   nearest neighbour and then keeping every 30th sample.
/// - **Windows.** Per induction, with s0 = its first timestamp (seconds): window w starts at
///   `s0 + 1000 w` and covers 3000 s; it exists when `start + 2999 <= last timestamp + 0.5`.
///   Its 100 frames are the target instants `start + 30 j`, j = 0..<100 (downsampling by
///   taking every 30th second, not by averaging). A window with any target farther than
///   `maxGapSeconds` (default 30) from every reading is dropped, so a long dropout never
///   becomes a flat run of repeated values.
/// - **Splits.** By default whole inductions go to one split, because windows overlap by
///   2000 s and would otherwise leak test data into training. Inductions (sorted by id) are
///   shuffled by `SplitMix64(seed)`; the shuffled list fills test until it holds at least
///   `round(N * 74 / 674)` of the N windows, then valid up to `round(N * 68 / 674)`, and the
///   rest is train — the paper's 532/68/74 proportions, exact only up to one induction's
///   windows. `splitUnit: .window` instead shuffles the windows themselves and takes exactly
///   those counts (532/68/74 when N = 674).
/// - **Normalisation.** Per-channel z-score with the mean and std of all training frames
///   (std 0 -> 1), applied to all splits; stored in `normalization`.
public enum HTSensorLoader {
    /// The metadata file's name inside the directory: one line per induction.
    public static let metadataFile = "HT_Sensor_metadata.dat"
    /// The readings file's name inside the directory: one line per sample.
    public static let datasetFile = "HT_Sensor_dataset.dat"
    /// The readings file's header columns, in order (checked when read).
    public static let datasetHeader = ["id", "time", "R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "Temp.", "Humidity"]
    /// The metadata file's header columns, in order (checked when read).
    public static let metadataHeader = ["id", "date", "class", "t0", "dt"]
    /// The paper's split sizes; only their proportions are used with `.induction` splitting.
    public static let paperSplitCounts = (train: 532, valid: 68, test: 74)

    /// What is assigned to a split as a whole.
    public enum SplitUnit: String, Sendable {
        /// Whole inductions (the default): overlapping windows of one recording never straddle
        /// two splits; the split sizes match the paper's proportions only roughly.
        case induction
        /// Single windows: exactly the paper's counts, but neighbouring windows (which overlap
        /// by 2000 s) may land in different splits.
        case window
    }

    /// Windowing, channels, gap tolerance and splitting; the defaults are the paper's
    /// preprocessing (3000-s windows every 1000 s, downsampled by 30 to 100 frames).
    public struct Options: Sendable {
        /// Length of a window in seconds.
        public var windowSeconds = 3000
        /// Seconds between the starts of consecutive windows of one induction.
        public var strideSeconds = 1000
        /// Seconds between frames: a window has `windowSeconds / downsample` frames.
        public var downsample = 30
        /// Include the time column as a channel (11 channels); false: the 10 readings only.
        public var includeTime = true
        /// A window whose target instant is farther than this from every reading is dropped.
        public var maxGapSeconds = 30.0
        /// Whether inductions or single windows are shuffled into splits.
        public var splitUnit = SplitUnit.induction
        /// Seed of the split shuffle.
        public var seed: UInt64 = 0
        /// The paper's preprocessing (the defaults listed on each property).
        public init() {}
    }

    /// One line of the metadata file.
    public struct Induction: Sendable, Equatable {
        /// The induction's id, shared with its readings in the dataset file.
        public var id: Int
        /// The recording date, as written in the file.
        public var date: String
        /// The stimulus class (e.g. `banana`, `wine`, `background`).
        public var label: String
        /// Stimulus start, hours of the day.
        public var t0: Double
        /// Stimulus duration, hours.
        public var dt: Double
    }

    /// Where a window came from.
    public struct Window: Sendable, Equatable {
        /// The induction the window was cut from.
        public var inductionID: Int
        /// Time of the window's first frame, hours relative to the induction's t0 (the file's
        /// time axis).
        public var startHours: Double
    }

    /// Loads `HT_Sensor_metadata.dat` and `HT_Sensor_dataset.dat` from `directory`.
    ///
    /// - Parameters:
    ///   - directory: the folder holding both files.
    ///   - options: windowing, channels and splitting (default: the paper's).
    /// - Returns: the windows as three z-normalised splits, kind `.real`.
    /// - Throws: ``DataFileError`` naming the file and, where known, the line: a missing file,
    ///   a wrong header, a malformed or non-finite value, readings of an unknown induction or
    ///   an induction without readings, no recording long enough for one window, or too few
    ///   windows to leave any for training.
    public static func load(directory: String, options: Options = Options()) throws -> SequenceDataset {
        try loadWithWindows(directory: directory, options: options).dataset
    }

    /// As ``load(directory:options:)``, also returning, per split, where each window came from
    /// (same order as the split's sequences).
    ///
    /// - Parameters:
    ///   - directory: the folder holding both files.
    ///   - options: windowing, channels and splitting.
    /// - Returns: the dataset and each split's window origins.
    /// - Throws: ``DataFileError``, as ``load(directory:options:)``.
    public static func loadWithWindows(directory: String, options: Options = Options()) throws
        -> (dataset: SequenceDataset, windows: [SplitName: [Window]])
    {
        let dir = URL(fileURLWithPath: directory)
        let metaPath = dir.appendingPathComponent(metadataFile).path
        let dataPath = dir.appendingPathComponent(datasetFile).path
        let inductions = try readMetadata(path: metaPath)
        let recordings = try readRecordings(path: dataPath, knownIDs: Set(inductions.map(\.id)),
                                            metadataPath: metaPath)
        let d = options.includeTime ? 11 : 10
        var perInduction: [(id: Int, windows: [(Window, [Double])])] = []
        for ind in inductions.sorted(by: { $0.id < $1.id }) {
            guard let rec = recordings[ind.id] else {
                throw DataFileError(path: dataPath, message: "induction \(ind.id) listed in \(metadataFile) has no readings")
            }
            perInduction.append((ind.id, windows(of: rec, id: ind.id, options: options)))
        }
        let total = perInduction.reduce(0) { $0 + $1.windows.count }
        guard total > 0 else {
            throw DataFileError(path: dataPath, message: "no recording is long enough for one \(options.windowSeconds)-s window")
        }
        let p = paperSplitCounts
        let paperTotal = Double(p.train + p.valid + p.test)
        let testTarget = Int((Double(total) * Double(p.test) / paperTotal).rounded())
        let validTarget = Int((Double(total) * Double(p.valid) / paperTotal).rounded())
        var assigned: [SplitName: [(Window, [Double])]] = [.train: [], .valid: [], .test: []]
        switch options.splitUnit {
        case .induction:
            for item in SeededShuffle.shuffled(perInduction.map { $0 }, seed: options.seed) {
                let which: SplitName = assigned[.test]!.count < testTarget ? .test
                    : assigned[.valid]!.count < validTarget ? .valid : .train
                assigned[which]! += item.windows
            }
        case .window:
            let all = SeededShuffle.shuffled(perInduction.flatMap(\.windows), seed: options.seed)
            assigned[.test] = Array(all[0..<testTarget])
            assigned[.valid] = Array(all[testTarget..<(testTarget + validTarget)])
            assigned[.train] = Array(all[(testTarget + validTarget)...])
        }
        guard !assigned[.train]!.isEmpty else {
            throw DataFileError(path: dataPath, message: "only \(total) windows: nothing left for training")
        }
        let raw = assigned.mapValues { SequenceSplit(dataDim: d, sequences: $0.map(\.1)) }
        let norm = Normalization.fitted(on: raw[.train]!)
        let dataset = SequenceDataset(name: "ht-sensor", kind: .real, train: norm.apply(to: raw[.train]!),
                                      valid: norm.apply(to: raw[.valid]!), test: norm.apply(to: raw[.test]!),
                                      normalization: norm)
        return (dataset, assigned.mapValues { $0.map(\.0) })
    }

    /// Parses `HT_Sensor_metadata.dat`.
    ///
    /// - Parameter path: the metadata file.
    /// - Returns: one ``Induction`` per line, in file order.
    /// - Throws: ``DataFileError`` naming the line of a malformed field or a duplicate id.
    public static func readMetadata(path: String) throws -> [Induction] {
        var sawHeader = false
        var out: [Induction] = []
        var ids = Set<Int>()
        try DelimitedText.forEachRow(path: path, separator: .whitespace) { line, f in
            guard sawHeader else {
                guard f == metadataHeader else {
                    throw DataFileError(path: path, location: "line \(line)",
                                        message: "expected header \(metadataHeader.joined(separator: " ")), found \(f.joined(separator: " "))")
                }
                sawHeader = true
                return
            }
            guard f.count == 5 else {
                throw DataFileError(path: path, location: "line \(line)", message: "expected 5 fields, found \(f.count)")
            }
            let id = try DelimitedText.integer(f[0], path: path, line: line, column: "id")
            guard ids.insert(id).inserted else {
                throw DataFileError(path: path, location: "line \(line)", message: "duplicate induction id \(id)")
            }
            out.append(Induction(id: id, date: f[1], label: f[2],
                                 t0: try DelimitedText.number(f[3], path: path, line: line, column: "t0"),
                                 dt: try DelimitedText.number(f[4], path: path, line: line, column: "dt")))
        }
        guard sawHeader else { throw DataFileError(path: path, message: "empty file") }
        guard !out.isEmpty else { throw DataFileError(path: path, message: "no inductions") }
        return out
    }

    /// One induction's readings: times in seconds (sorted) and rows of the 11 channels
    /// (time in hours, R1..R8, Temp., Humidity).
    struct Recording {
        var seconds: [Double] = []
        var rows: [Double] = []
    }

    /// The largest |time| in hours a reading may have.
    static let maximumHours = 1e6

    static func readRecordings(path: String, knownIDs: Set<Int>, metadataPath: String) throws -> [Int: Recording] {
        var sawHeader = false
        var recs: [Int: Recording] = [:]
        try DelimitedText.forEachRow(path: path, separator: .whitespace) { line, f in
            guard sawHeader else {
                guard f == datasetHeader else {
                    throw DataFileError(path: path, location: "line \(line)",
                                        message: "expected header \(datasetHeader.joined(separator: " ")), found \(f.joined(separator: " "))")
                }
                sawHeader = true
                return
            }
            guard f.count == datasetHeader.count else {
                throw DataFileError(path: path, location: "line \(line)",
                                    message: "expected \(datasetHeader.count) fields, found \(f.count)")
            }
            // Ids are integers; accept "7.0" too, since some re-exports write every column as float.
            let idValue = try DelimitedText.number(f[0], path: path, line: line, column: "id")
            guard idValue == idValue.rounded(), let id = Int(exactly: idValue) else {
                throw DataFileError(path: path, location: "line \(line), column id", message: "not an integer id: \"\(f[0])\"")
            }
            guard knownIDs.contains(id) else {
                throw DataFileError(path: path, location: "line \(line), column id",
                                    message: "induction \(id) is not in \(metadataPath)")
            }
            var rec = recs[id] ?? Recording()
            recs[id] = nil  // keep the arrays uniquely referenced while appending
            for j in 1..<f.count {
                rec.rows.append(try DelimitedText.number(f[j], path: path, line: line, column: datasetHeader[j]))
            }
            let hours = rec.rows[rec.rows.count - 11]
            // Hours from the induction's t0 (the real file spans about −1…+3). Beyond ±1e6 h
            // adding a stride of seconds no longer moves a window start in Double — the
            // windowing would repeat one window forever (found by fuzzing: −1e122 h).
            guard abs(hours) <= maximumHours else {
                throw DataFileError(path: path, location: "line \(line), column time",
                                    message: "\(hours) h is outside ±\(Int(maximumHours)) h of the induction's start")
            }
            rec.seconds.append(hours * 3600)
            recs[id] = rec
        }
        guard sawHeader else { throw DataFileError(path: path, message: "empty file") }
        // Sort by time if a file is not already in order (stable, so equal times keep file order).
        for (id, rec) in recs where zip(rec.seconds, rec.seconds.dropFirst()).contains(where: { $0 > $1 }) {
            let order = rec.seconds.indices.sorted { (rec.seconds[$0], $0) < (rec.seconds[$1], $1) }
            recs[id] = Recording(seconds: order.map { rec.seconds[$0] },
                                 rows: order.flatMap { rec.rows[($0 * 11)..<($0 * 11 + 11)] })
        }
        return recs
    }

    /// The windows of one recording (unnormalised), per the rules in the type's documentation.
    static func windows(of rec: Recording, id: Int, options: Options) -> [(Window, [Double])] {
        guard let first = rec.seconds.first, let last = rec.seconds.last else { return [] }
        let frames = options.windowSeconds / options.downsample
        let stride = Double(options.strideSeconds), gap = options.maxGapSeconds
        var out: [(Window, [Double])] = []
        // Window starts are first + w·stride, in Double: a hostile file's timestamps can span
        // 1e300 s. After a frame target with no reading within the gap, every window starting
        // inside that gap fails at its first frame, so the loop jumps past them: its work is
        // bounded by the readings, not by the time span (found by fuzzing: a timestamp of
        // −99861111 h made 1.8e10 windows).
        var w = 0.0
        var deadZone: (from: Double, to: Double)?
        while first + w * stride + Double(options.windowSeconds - 1) <= last + 0.5 {
            let start = first + w * stride
            if let zone = deadZone, start > zone.from, start < zone.to {
                w = max(w + 1, ((zone.to - first) / stride).rounded(.up))
                continue
            }
            var seq: [Double] = []
            seq.reserveCapacity(frames * 11)
            var ok = true
            for j in 0..<frames {
                let target = start + Double(j * options.downsample)
                let k = nearest(rec.seconds, target)
                if abs(rec.seconds[k] - target) > gap {
                    ok = false
                    // The first reading after the target; none: no later window can succeed.
                    let next = rec.seconds[k] > target ? k : k + 1
                    guard next < rec.seconds.count else { return out }
                    deadZone = (target, rec.seconds[next] - gap)
                    break
                }
                let row = rec.rows[(k * 11)..<(k * 11 + 11)]
                seq += options.includeTime ? row : row.dropFirst()
            }
            if ok { out.append((Window(inductionID: id, startHours: start / 3600), seq)) }
            w += 1
        }
        return out
    }

    /// Index of the element of sorted `times` nearest to `target` (earlier one on a tie).
    static func nearest(_ times: [Double], _ target: Double) -> Int {
        var lo = 0, hi = times.count  // first index with times[i] >= target
        while lo < hi {
            let mid = (lo + hi) / 2
            if times[mid] < target { lo = mid + 1 } else { hi = mid }
        }
        if lo == times.count { return times.count - 1 }
        if lo == 0 { return 0 }
        return target - times[lo - 1] <= times[lo] - target ? lo - 1 : lo
    }
}

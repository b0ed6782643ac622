import Foundation

/// Writes piano rolls — `frames × keys` 0/1 grids, key index 0 = MIDI note 21 (A0), 88 keys up
/// to MIDI 108 (C8) — as a plain-text note list or as a Standard MIDI File.
///
/// **MIDI note list** (`noteList`): one line per time step, in order. A line holds the MIDI note
/// numbers sounding in that step, ascending, separated by single spaces; a silent step is an
/// empty line. Every line, the last included, ends with `\n`, so a roll of T steps is exactly T
/// lines (trailing silent steps are kept as trailing empty lines). Example, three steps (C major
/// triad, silence, A4):
///
///     60 64 67
///
///     69
///
/// This is the per-step note-number form the Boulanger-Lewandowski piano-roll datasets use;
/// `parseNoteList` reads it back.
///
/// **Standard MIDI File** (`midiFile`): format 0, one track, no running status. The track holds
/// a Set Tempo meta event, then note-on / note-off events on one channel derived from the
/// frames — a key sounding in consecutive frames is one held note, sounding again after a
/// silent frame is a new note — and an End of Track meta event at the end of the last frame.
/// At each tick, note-offs come before note-ons. The datasets carry no timing of their own;
/// by default one frame is one eighth note at 120 bpm (0.25 s): 480 ticks per quarter note, 240
/// ticks per frame. All three are configurable in `MIDIOptions`.
public enum PianoRollWriter {
    /// MIDI number of key index 0 (A0).
    public static let lowestNote = 21
    /// Keys of a full piano roll (MIDI 21...108).
    public static let keyCount = 88

    /// Timing and voice of a MIDI file.
    public struct MIDIOptions: Sendable, Equatable {
        /// Division field of the header: ticks per quarter note (1...32767).
        public var ticksPerQuarter: Int = 480
        /// Duration of one frame in ticks (>= 1). Default: an eighth note.
        public var ticksPerFrame: Int = 240
        /// Tempo in quarter notes per minute (written as microseconds per quarter, rounded).
        public var beatsPerMinute: Double = 120
        /// Note-on velocity (1...127); note-offs use velocity 0x40.
        public var velocity: Int = 80
        /// MIDI channel, 0...15.
        public var channel: Int = 0

        /// Options with the given timing; the defaults are one eighth note per frame at 120 bpm,
        /// velocity 80 on channel 0. Ranges are checked when a file is written.
        public init(ticksPerQuarter: Int = 480, ticksPerFrame: Int = 240, beatsPerMinute: Double = 120,
                    velocity: Int = 80, channel: Int = 0) {
            self.ticksPerQuarter = ticksPerQuarter
            self.ticksPerFrame = ticksPerFrame
            self.beatsPerMinute = beatsPerMinute
            self.velocity = velocity
            self.channel = channel
        }
    }

    // MARK: - Frames

    /// Splits a flat row-major roll (`keys` values per frame, e.g. a model's Bernoulli means or
    /// samples) into frames; a key sounds when its value is `>= threshold`.
    ///
    /// - Parameters:
    ///   - flat: `(frames, keys)` values, row-major; a whole number of frames (a precondition).
    ///   - keys: values per frame (88 for a full piano roll).
    ///   - threshold: the value at and above which a key sounds.
    /// - Returns: one `[Bool]` of `keys` values per frame.
    public static func frames(flat: [Double], keys: Int = keyCount, threshold: Double = 0.5) -> [[Bool]] {
        precondition(keys > 0 && flat.count % keys == 0, "flat roll of \(flat.count) values is not a whole number of \(keys)-key frames")
        return stride(from: 0, to: flat.count, by: keys).map { start in
            flat[start..<(start + keys)].map { $0 >= threshold }
        }
    }

    /// The MIDI note numbers sounding in one frame, ascending.
    static func notes(in frame: [Bool]) -> [Int] {
        precondition(frame.count <= 128 - lowestNote, "a frame has at most \(128 - lowestNote) keys, found \(frame.count)")
        return frame.indices.filter { frame[$0] }.map { $0 + lowestNote }
    }

    // MARK: - Note list

    /// The note-list text of a roll (format in the type's documentation).
    ///
    /// - Parameter frames: one `[Bool]` per time step, key index 0 = MIDI 21; at most 107 keys.
    /// - Returns: one line per frame, each ending with a newline.
    public static func noteList(frames: [[Bool]]) -> String {
        var text = ""
        for frame in frames {
            text += notes(in: frame).map(String.init).joined(separator: " ")
            text += "\n"
        }
        return text
    }

    /// The note-list text of a flat row-major roll thresholded as in
    /// ``frames(flat:keys:threshold:)``.
    public static func noteList(flat: [Double], keys: Int = keyCount, threshold: Double = 0.5) -> String {
        noteList(frames: frames(flat: flat, keys: keys, threshold: threshold))
    }

    /// Reads a note-list text back: the sounding MIDI numbers of each step. A text holds one
    /// sequence (a blank line is silence, so it cannot also separate sequences: write one file
    /// per sequence). Lines ending in `\r\n` are accepted.
    ///
    /// - Parameter text: the note list, one line per step.
    /// - Returns: the MIDI numbers of each step, as written.
    /// - Throws: ``DataFileError`` (path "note list") naming the line of a field that is not an
    ///   integer MIDI number 0...127.
    public static func parseNoteList(_ text: String) throws -> [[Int]] {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        if lines.last == "" { lines.removeLast() }  // the terminator of the last line
        return try lines.enumerated().map { index, line in
            try line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map { field in
                guard let n = Int(field), (0...127).contains(n) else {
                    throw DataFileError(path: "note list", location: "line \(index + 1)",
                                        message: "not a MIDI note number: \"\(field)\"")
                }
                return n
            }
        }
    }

    // MARK: - MIDI file

    /// A Standard MIDI File (format 0) of the roll (layout in the type's documentation).
    ///
    /// - Parameters:
    ///   - frames: one `[Bool]` per time step, key index 0 = MIDI 21.
    ///   - options: timing, velocity and channel (ranges checked by preconditions).
    /// - Returns: the file's bytes (`MThd` header and one `MTrk` track).
    public static func midiFile(frames: [[Bool]], options: MIDIOptions = MIDIOptions()) -> [UInt8] {
        precondition((1...0x7FFF).contains(options.ticksPerQuarter), "ticksPerQuarter must be 1...32767")
        precondition(options.ticksPerFrame >= 1, "ticksPerFrame must be positive")
        precondition((1...127).contains(options.velocity), "velocity must be 1...127")
        precondition((0...15).contains(options.channel), "channel must be 0...15")
        let microsPerQuarter = Int((60_000_000 / options.beatsPerMinute).rounded())
        precondition(options.beatsPerMinute > 0 && (1...0xFF_FFFF).contains(microsPerQuarter),
                     "tempo out of range for a MIDI file")

        var track: [UInt8] = []
        // Set Tempo at tick 0.
        track += [0x00, 0xFF, 0x51, 0x03,
                  UInt8(microsPerQuarter >> 16 & 0xFF), UInt8(microsPerQuarter >> 8 & 0xFF), UInt8(microsPerQuarter & 0xFF)]

        let channel = UInt8(options.channel)
        var lastTick = 0
        func event(at tick: Int, _ bytes: [UInt8]) {
            track += variableLengthQuantity(tick - lastTick)
            track += bytes
            lastTick = tick
        }
        var sounding: [Int] = []
        for t in 0...frames.count {
            let now = t < frames.count ? notes(in: frames[t]) : []
            let tick = t * options.ticksPerFrame
            let nowSet = Set(now), wasSet = Set(sounding)
            for note in sounding where !nowSet.contains(note) {
                event(at: tick, [0x80 | channel, UInt8(note), 0x40])
            }
            for note in now where !wasSet.contains(note) {
                event(at: tick, [0x90 | channel, UInt8(note), UInt8(options.velocity)])
            }
            sounding = now
        }
        // End of Track at the end of the last frame.
        event(at: frames.count * options.ticksPerFrame, [0xFF, 0x2F, 0x00])

        var file: [UInt8] = Array("MThd".utf8) + bigEndian(6, bytes: 4)
        file += bigEndian(0, bytes: 2)                          // format 0
        file += bigEndian(1, bytes: 2)                          // one track
        file += bigEndian(options.ticksPerQuarter, bytes: 2)    // division
        file += Array("MTrk".utf8) + bigEndian(track.count, bytes: 4)
        file += track
        return file
    }

    /// The MIDI file of a flat row-major roll thresholded as in
    /// ``frames(flat:keys:threshold:)``.
    public static func midiFile(flat: [Double], keys: Int = keyCount, threshold: Double = 0.5,
                                options: MIDIOptions = MIDIOptions()) -> [UInt8] {
        midiFile(frames: frames(flat: flat, keys: keys, threshold: threshold), options: options)
    }

    /// A MIDI variable-length quantity: 7-bit groups, most significant first, the high bit set
    /// on every byte but the last (0 -> 00, 127 -> 7F, 128 -> 81 00, 0x0FFFFFFF -> FF FF FF 7F).
    static func variableLengthQuantity(_ value: Int) -> [UInt8] {
        precondition((0...0x0FFF_FFFF).contains(value), "variable-length quantity out of range: \(value)")
        var bytes = [UInt8(value & 0x7F)]
        var v = value >> 7
        while v > 0 {
            bytes.insert(UInt8(v & 0x7F) | 0x80, at: 0)
            v >>= 7
        }
        return bytes
    }

    static func bigEndian(_ value: Int, bytes: Int) -> [UInt8] {
        (0..<bytes).reversed().map { UInt8(value >> (8 * $0) & 0xFF) }
    }
}

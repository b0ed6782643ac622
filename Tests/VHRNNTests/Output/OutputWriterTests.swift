import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import VHRNN

/// A parsed SVG: every element with its attributes and text, in document order.
private final class SVGDocument: NSObject, XMLParserDelegate {
    struct Element {
        var name: String
        var attributes: [String: String]
        var text = ""
    }
    var elements: [Element] = []
    private var open: [Int] = []
    var error: Error?

    /// Parses `svg`; nil when it is not well-formed XML.
    static func parse(_ svg: String) -> SVGDocument? {
        let doc = SVGDocument()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = doc
        guard parser.parse(), doc.error == nil else { return nil }
        return doc
    }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        elements.append(Element(name: elementName, attributes: attributeDict))
        open.append(elements.count - 1)
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?) {
        open.removeLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let i = open.last { elements[i].text += string }
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) { error = parseError }

    func all(_ name: String) -> [Element] { elements.filter { $0.name == name } }
    var texts: [String] { all("text").map(\.text) }
}

@Suite struct LineChartTests {
    static func chart(markers: [Double] = [25, 60]) -> LineChart {
        let t = 101
        return LineChart(
            title: "Diagnostics",
            xLabel: "time step",
            panels: [
                .init(yLabel: "KL(q||p)", series: [.init(name: "VHRNN", values: (0..<t).map { Double($0 % 7) }),
                                                   .init(name: "VRNN", values: (0..<t).map { 0.5 * Double($0 % 5) })]),
                .init(yLabel: "log-variance", series: [.init(name: "x0", values: (0..<t).map { -Double($0) / 50 })]),
                .init(yLabel: "L2 distance", series: [.init(name: "dist", values: (0..<t).map { 0.01 + Double($0) })],
                      logScale: true),
            ],
            markers: markers)
    }

    @Test func isWellFormedStandaloneSVGWithLabelsAndLegend() throws {
        let svg = Self.chart().svg()
        let doc = try #require(SVGDocument.parse(svg))
        let root = try #require(doc.elements.first)
        #expect(root.name == "svg")
        #expect(root.attributes["xmlns"] == "http://www.w3.org/2000/svg")
        let height = 40 + 3 * 180 + 2 * 14 + 50
        #expect(root.attributes["viewBox"] == "0 0 720 \(height)")
        #expect(root.attributes["font-family"] == "sans-serif")
        let texts = doc.texts
        for expected in ["Diagnostics", "time step", "KL(q||p)", "log-variance", "L2 distance",
                         "VHRNN", "VRNN", "x0", "dist", "switch"] {
            #expect(texts.contains(expected), "missing text \(expected)")
        }
        // "switch" appears once (top panel's legend), one legend box per panel.
        #expect(texts.filter { $0 == "switch" }.count == 1)
        #expect(doc.all("g").filter { $0.attributes["class"] == "legend" }.count == 3)
        // x tick labels under the bottom panel: 0, 20, ..., 100 with the default width.
        for label in ["0", "20", "40", "60", "80", "100"] { #expect(texts.contains(label)) }
        // Log panel labels decades.
        #expect(texts.contains("0.01") && texts.contains("1") && texts.contains("100"))
        #expect(!svg.contains("nan") && !svg.contains("inf"))
    }

    @Test func markersAreDashedVerticalLinesAtTheirX() throws {
        let doc = try #require(SVGDocument.parse(Self.chart().svg(width: 720, panelHeight: 180)))
        let markers = doc.all("path").filter { $0.attributes["class"] == "marker" }
        #expect(markers.count == 3)  // one per panel
        // Plot area x from 76 to 702 over x in [0, 100]: x = 25 -> 232.5, x = 60 -> 451.6.
        let d = try #require(markers.first?.attributes["d"])
        #expect(d == "M232.5 40V220M451.6 40V220")
        #expect(markers.allSatisfy { $0.attributes["stroke-dasharray"] != nil })
        #expect(markers[1].attributes["d"] == "M232.5 234V414M451.6 234V414")
    }

    /// Series with explicit x (parameter counts): the x axis spans their range, points sit at them.
    @Test func explicitXPositionsSetTheAxisAndThePoints() throws {
        let chart = LineChart(title: "params", xLabel: "parameters", panels: [
            .init(yLabel: "FIVO", series: [.init(name: "VRNN", values: [-7, -6.9], x: [1000, 3000]),
                                           .init(name: "VHRNN", values: [-6.8], x: [2000])])])
        let doc = try #require(SVGDocument.parse(chart.svg(width: 720, panelHeight: 180)))
        let line = try #require(doc.all("path").first { $0.attributes["class"] == "series" })
        // Plot area x from 76 to 702 over x in [1000, 3000]: the two ends.
        #expect(line.attributes["d"]?.hasPrefix("M76 ") == true && line.attributes["d"]?.contains("L702 ") == true,
                "\(line.attributes["d"] ?? "")")
        let dot = try #require(doc.all("circle").first)
        #expect(dot.attributes["cx"] == "389")
    }

    /// A band is one closed region per run of finite points (upper edge forward, lower edge
    /// back), drawn before the lines, widening the y range, with a filled legend swatch.
    @Test func bandsAreClosedRegionsUnderTheLinesWithASwatch() throws {
        let chart = LineChart(title: "fan", xLabel: "frame", panels: [
            .init(yLabel: "x", series: [.init(name: "median", values: [0, 0, 0, 0, 0])],
                  bands: [.init(name: "5–95%", lower: [-1, -2, .nan, -3, -4], upper: [1, 2, 2, 3, 40], opacity: 0.3)])])
        let svg = chart.svg(width: 720, panelHeight: 180)
        let doc = try #require(SVGDocument.parse(svg))
        let paths = doc.all("path")
        let band = try #require(paths.first { $0.attributes["class"] == "band" })
        let d = try #require(band.attributes["d"])
        // Two runs ([0, 1] and [3, 4]), each closed.
        #expect(d.filter { $0 == "M" }.count == 2 && d.filter { $0 == "Z" }.count == 2)
        #expect(band.attributes["fill-opacity"] == "0.3" && band.attributes["stroke"] == "none")
        // Under the line: the band comes first in the document.
        let order = paths.compactMap { $0.attributes["class"] }.filter { $0 == "band" || $0 == "series" }
        #expect(order == ["band", "series"])
        // The y axis reaches the band's top (40), which no series has.
        #expect(doc.texts.contains("40"))
        // The legend shows the band as a filled rectangle beside its name.
        #expect(doc.all("rect").filter { $0.attributes["fill-opacity"] == "0.3" }.count == 1)
        #expect(doc.texts.contains("5–95%"))
        #expect(!svg.lowercased().contains("nan"))
    }

    @Test func nonFiniteValuesLeaveGapsAndIsolatedPointsAreDots() throws {
        let values: [Double] = [1, 2, .nan, 3, 4, .infinity, 5, -.infinity, 6, 7]
        let chart = LineChart(title: "gaps", xLabel: "t",
                              panels: [.init(yLabel: "y", series: [.init(name: "s", values: values)])])
        let svg = chart.svg()
        let doc = try #require(SVGDocument.parse(svg))
        let line = try #require(doc.all("path").first { $0.attributes["class"] == "series" })
        let d = try #require(line.attributes["d"])
        // Runs [1,2], [3,4], [6,7] drawn as lines; the lone 5 as a dot.
        #expect(d.filter { $0 == "M" }.count == 3)
        #expect(d.filter { $0 == "L" }.count == 3)
        #expect(doc.all("circle").count == 1)
        #expect(!svg.lowercased().contains("nan") && !svg.contains("inf"))
    }

    @Test func labelsAreXMLEscaped() throws {
        let nasty = "a<b & c>d \"q\" 'p'"
        let chart = LineChart(title: nasty, xLabel: "<x>", panels: [
            .init(yLabel: "&y", series: [.init(name: "<s>&", values: [1, 2, 3])]),
        ], markers: [1], markerLabel: "sw<i>tch")
        let svg = chart.svg()
        #expect(!svg.contains("a<b") && !svg.contains("<x>") && !svg.contains("<s>"))
        #expect(svg.contains("a&lt;b &amp; c&gt;d &quot;q&quot; &apos;p&apos;"))
        let doc = try #require(SVGDocument.parse(svg))
        let texts = doc.texts
        for expected in [nasty, "<x>", "&y", "<s>&", "sw<i>tch"] { #expect(texts.contains(expected)) }
        #expect(doc.all("title").first?.text == nasty)
    }

    @Test func constantEmptyAndDegenerateInputsStillRender() throws {
        let cases: [LineChart] = [
            LineChart(title: "constant", xLabel: "t", panels: [.init(yLabel: "y", series: [.init(name: "c", values: [3, 3, 3])])]),
            LineChart(title: "zero", xLabel: "t", panels: [.init(yLabel: "y", series: [.init(name: "z", values: [0, 0])])]),
            LineChart(title: "one point", xLabel: "t", panels: [.init(yLabel: "y", series: [.init(name: "p", values: [2])])]),
            LineChart(title: "empty series", xLabel: "t", panels: [.init(yLabel: "y", series: [.init(name: "e", values: [])])]),
            LineChart(title: "all missing", xLabel: "t", panels: [.init(yLabel: "y", series: [.init(name: "n", values: [.nan, .nan])],
                                                                   logScale: true)]),
            LineChart(title: "log constant", xLabel: "t", panels: [.init(yLabel: "y", series: [.init(name: "l", values: [10, 10, -1, 0])],
                                                                        logScale: true)]),
            LineChart(title: "no panels", xLabel: "t", panels: [], markers: [3]),
            LineChart(title: "no series", xLabel: "t", panels: [.init(yLabel: "y", series: [])]),
            LineChart(title: "huge", xLabel: "t", panels: [.init(yLabel: "y", series: [.init(name: "h", values: [1e12, 3e12, -2e12])])]),
        ]
        for chart in cases {
            let svg = chart.svg(width: 400, panelHeight: 120)
            #expect(SVGDocument.parse(svg) != nil, "\(chart.title) is not well-formed")
            #expect(!svg.lowercased().contains("nan") && !svg.contains("inf"), "\(chart.title) has non-finite numbers")
        }
    }

    @Test func niceTicksAndCompactLabels() {
        #expect(LineChart.niceStep(0.37) == 0.5)
        #expect(LineChart.niceStep(1.2) == 1)
        #expect(LineChart.niceStep(2.9) == 2)
        #expect(LineChart.niceStep(14) == 10)
        #expect(LineChart.niceStep(40) == 50)
        #expect(LineChart.ticks(from: -0.3, to: 1.05, step: 0.5) == [0, 0.5, 1])
        #expect(LineChart.ticks(from: 0, to: 100, step: 20) == [0, 20, 40, 60, 80, 100])
        #expect(LineChart.tickLabel(0.5, step: 0.5) == "0.5")
        #expect(LineChart.tickLabel(0.30000000000000004, step: 0.1) == "0.3")
        #expect(LineChart.tickLabel(40, step: 20) == "40")
        #expect(LineChart.tickLabel(-1.25, step: 0.05) == "-1.25")
        #expect(LineChart.tickLabel(2e5, step: 1e5) == "2e5")
        #expect(LineChart.tickLabel(1.5e-4, step: 5e-5) == "1.5e-4")
        #expect(LineChart.tickLabel(-1e-17, step: 0.2) == "0")
    }

    /// Writes a Figs. 2–4 style example to `$VHRNN_CHART_EXAMPLE` when that is set (for looking
    /// at the rendering); otherwise only checks it renders.
    @Test func exampleDiagnosticChart() throws {
        let t = 200
        let switches = [50.0, 125.0]
        var rng = SplitMix64(seed: 7)
        func noise() -> Double { Double(rng.next() % 1000) / 1000 - 0.5 }
        func bump(_ i: Int) -> Double { switches.map { exp(-abs(Double(i) - $0) / 3) }.reduce(0, +) }
        let klH = (0..<t).map { 0.4 + 6 * bump($0) + 0.2 * noise() }
        let klV = (0..<t).map { 0.6 + 2.5 * bump($0) + 0.3 * noise() }
        let logVar = (0..<t).map { -2.2 + 2.5 * bump($0) + 0.15 * noise() }
        var l2 = (0..<t).map { 0.05 + 1.5 * bump($0) + 0.05 * abs(noise()) }
        l2[90] = .nan
        let x0 = (0..<t).map { sin(Double($0) / (Double($0) < 50 ? 6 : Double($0) < 125 ? 3 : 9)) }
        let chart = LineChart(
            title: "Synthetic sequence 0: per-step diagnostics",
            xLabel: "time step t",
            panels: [
                .init(yLabel: "x_t", series: [.init(name: "x0", values: x0, color: "#000000")]),
                .init(yLabel: "KL(q || p)", series: [.init(name: "VHRNN", values: klH), .init(name: "VRNN", values: klV)]),
                .init(yLabel: "log σ²", series: [.init(name: "VHRNN", values: logVar)]),
                .init(yLabel: "‖μ − x‖₂", series: [.init(name: "VHRNN", values: l2)], logScale: true),
            ],
            markers: switches)
        let svg = chart.svg()
        #expect(SVGDocument.parse(svg) != nil)
        if let path = ProcessInfo.processInfo.environment["VHRNN_CHART_EXAMPLE"] {
            try Data(svg.utf8).write(to: URL(fileURLWithPath: path))
        }
    }
}

@Suite struct PianoRollWriterTests {
    /// A frame with the given MIDI notes sounding.
    static func frame(_ notes: [Int]) -> [Bool] {
        var f = [Bool](repeating: false, count: 88)
        for n in notes { f[n - 21] = true }
        return f
    }

    @Test func noteListHasOneLinePerStep() throws {
        let frames = [Self.frame([64, 60, 67]), Self.frame([]), Self.frame([21, 108]), Self.frame([])]
        let text = PianoRollWriter.noteList(frames: frames)
        #expect(text == "60 64 67\n\n21 108\n\n")
        #expect(try PianoRollWriter.parseNoteList(text) == [[60, 64, 67], [], [21, 108], []])
        #expect(try PianoRollWriter.parseNoteList("60\r\n\r\n") == [[60], []])
        #expect(PianoRollWriter.noteList(frames: []) == "")
        #expect(throws: DataFileError.self) { try PianoRollWriter.parseNoteList("60\nC4\n") }
    }

    @Test func flatRollsAreThresholded() {
        var flat = [Double](repeating: 0, count: 2 * 88)
        flat[39] = 0.7         // MIDI 60 in frame 0
        flat[43] = 0.49        // below threshold
        flat[88 + 0] = 0.5     // MIDI 21 in frame 1 (>= threshold)
        #expect(PianoRollWriter.noteList(flat: flat) == "60\n21\n")
        #expect(PianoRollWriter.noteList(flat: flat, threshold: 0.4) == "60 64\n21\n")
        #expect(PianoRollWriter.frames(flat: flat).map { $0.filter { $0 }.count } == [1, 1])
    }

    @Test func variableLengthQuantities() {
        let cases: [(Int, [UInt8])] = [
            (0, [0x00]), (0x40, [0x40]), (0x7F, [0x7F]), (0x80, [0x81, 0x00]), (240, [0x81, 0x70]),
            (0x2000, [0xC0, 0x00]), (0x3FFF, [0xFF, 0x7F]), (0x4000, [0x81, 0x80, 0x00]),
            (0x1F_FFFF, [0xFF, 0xFF, 0x7F]), (0x20_0000, [0x81, 0x80, 0x80, 0x00]),
            (0x0FFF_FFFF, [0xFF, 0xFF, 0xFF, 0x7F]),
        ]
        for (value, bytes) in cases { #expect(PianoRollWriter.variableLengthQuantity(value) == bytes, "\(value)") }
    }

    @Test func midiFileOfATinyRollMatchesHandComputedBytes() {
        // C4 alone, then C4 held with E4 added, then silence.
        let frames = [Self.frame([60]), Self.frame([60, 64]), Self.frame([])]
        let options = PianoRollWriter.MIDIOptions(ticksPerQuarter: 96, ticksPerFrame: 48, beatsPerMinute: 120, velocity: 100)
        let expected: [UInt8] = [
            0x4D, 0x54, 0x68, 0x64, 0x00, 0x00, 0x00, 0x06,  // "MThd", length 6
            0x00, 0x00, 0x00, 0x01, 0x00, 0x60,              // format 0, 1 track, 96 ticks/quarter
            0x4D, 0x54, 0x72, 0x6B, 0x00, 0x00, 0x00, 0x1B,  // "MTrk", 27 bytes
            0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20,        // tempo 500000 us/quarter
            0x00, 0x90, 0x3C, 0x64,                          // t=0: C4 on
            0x30, 0x90, 0x40, 0x64,                          // t=48: E4 on (C4 held: no event)
            0x30, 0x80, 0x3C, 0x40,                          // t=96: C4 off
            0x00, 0x80, 0x40, 0x40,                          //        E4 off
            0x30, 0xFF, 0x2F, 0x00,                          // t=144: end of track
        ]
        #expect(PianoRollWriter.midiFile(frames: frames, options: options) == expected)
    }

    @Test func midiFileDefaultsRetriggerAndTrailingNotes() {
        // Default: 480 ticks/quarter, 240 ticks per frame (eighth note), 120 bpm, channel 0.
        // A4 sounds, rests one frame, sounds again to the end (closed at the end of the last frame).
        let frames = [Self.frame([69]), Self.frame([]), Self.frame([69]), Self.frame([69])]
        let bytes = PianoRollWriter.midiFile(frames: frames)
        let track: [UInt8] = [
            0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20,
            0x00, 0x90, 0x45, 0x50,          // t=0 on
            0x81, 0x70, 0x80, 0x45, 0x40,    // t=240 off
            0x81, 0x70, 0x90, 0x45, 0x50,    // t=480 on again
            0x83, 0x60, 0x80, 0x45, 0x40,    // t=960 off (end of frame 3)
            0x00, 0xFF, 0x2F, 0x00,
        ]
        #expect(Array(bytes[8..<14]) == [0x00, 0x00, 0x00, 0x01, 0x01, 0xE0])
        #expect(Array(bytes[14..<22]) == [0x4D, 0x54, 0x72, 0x6B] + PianoRollWriter.bigEndian(track.count, bytes: 4))
        #expect(Array(bytes[22...]) == track)

        // Silence only: the end-of-track event still lands at the end of the roll.
        let silent = PianoRollWriter.midiFile(frames: [Self.frame([]), Self.frame([])])
        #expect(Array(silent.suffix(5)) == [0x83, 0x60, 0xFF, 0x2F, 0x00])
    }
}

@Suite struct SeriesCSVWriterTests {
    static let sequences: [[Double]] = [
        [0.1, -2.5, .pi, 1e-300, -0.0, 123456789.125],   // 3 frames of 2
        [Double.ulpOfOne, 7],                             // 1 frame
        [1.0 / 3, -1.0 / 3, 2, 4],                        // 2 frames
    ]

    @Test func writesTheSyntheticLongTable() {
        let text = SeriesCSVWriter.csv(sequences: [[1, 2, 3.5, 4]], dataDim: 2)
        #expect(text == "sequence,step,x0,x1\n0,0,1.0,2.0\n0,1,3.5,4.0\n")
        #expect(SeriesCSVWriter.header(dataDim: 2, featureNames: ["a", "b"]) == "sequence,step,a,b")
        let denorm = SeriesCSVWriter.csv(sequences: [[1, -1]], dataDim: 2,
                                         denormalizing: Normalization(mean: [10, 0], std: [2, 0.5]))
        #expect(denorm == "sequence,step,x0,x1\n0,0,12.0,-0.5\n")
    }

    @Test func roundTripsThroughTheCSVLoaderBitExactly() throws {
        let dir = try TemporaryDirectory("series-csv")
        defer { dir.remove() }
        let path = dir.file("samples.csv")
        try SeriesCSVWriter.write(sequences: Self.sequences, dataDim: 2, to: path)

        var options = CSVSequenceLoader.Options()
        options.normalize = false
        options.trainFraction = 1
        options.validFraction = 0
        options.testFraction = 0
        let (dataset, ids) = try CSVSequenceLoader.loadWithIDs(path: path, options: options)
        #expect(dataset.dataDim == 2)
        #expect(ids[.train] == ["0", "1", "2"])
        #expect(dataset.train.inputs.count == 3)
        for (read, written) in zip(dataset.train.inputs, Self.sequences) {
            #expect(read.map(\.bitPattern) == written.map(\.bitPattern))
        }
        // The strict reader of the synthetic files accepts it too.
        let split = try SyntheticData.readSplit(path: path)
        #expect(split.inputs.map { $0.map(\.bitPattern) } == Self.sequences.map { $0.map(\.bitPattern) })
    }
}

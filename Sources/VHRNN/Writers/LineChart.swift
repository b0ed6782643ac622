import Foundation

/// A small SVG line chart in the style of a paper figure: one or more vertically stacked
/// panels sharing one x axis (as in the VHRNN paper's Figs. 2–4: KL divergence, predicted
/// log-variance and L2 distance per time step, one panel each), with vertical dashed
/// "switch" markers drawn across every panel.
///
/// Layout and style:
/// - x of `values[i]` is `xStart + i` (time steps). The x range is the longest series' range,
///   widened to include the markers; the y range of each panel is widened to "nice" 1-2-5
///   tick bounds (for a log-scale panel, to whole decades).
/// - Axis frame, tick marks and compact tick labels (`0.5`, `20`, `1000`; `2e5`, `1e-4` for
///   magnitudes from 1e5 up or below 1e-3), a light grid, a rotated y-axis label per panel,
///   the x-axis label under the bottom panel, a centred title.
/// - Each panel has a legend box in a corner of its plot (top right unless another corner
///   covers fewer data points); the "switch" marker entry appears in the top panel's legend when there are
///   markers.
/// - Colours: the Okabe–Ito colour-blind-safe palette, in order, unless a series gives its own.
/// - Non-finite values (and non-positive ones on a log scale) are skipped, leaving a gap in
///   the line; an isolated point is drawn as a dot. Constant series get a unit-wide (or one
///   decade) range, so nothing divides by zero; empty series and panels draw axes only.
/// - All text is XML-escaped; the output is a standalone SVG 1.1 document with `xmlns` and
///   `viewBox`, `font-family="sans-serif"`.
public struct LineChart: Sendable, Equatable {
    /// One line of a panel.
    public struct Series: Sendable, Equatable {
        /// Legend text.
        public var name: String
        /// y values at x = `xStart`, `xStart + 1`, ...; non-finite values leave gaps.
        public var values: [Double]
        /// Any SVG colour (e.g. `#0072B2`); nil picks the next palette colour.
        public var color: String?
        /// Explicit x of each value (e.g. parameter counts), instead of `xStart + i`; as many
        /// as `values`, increasing.
        public var x: [Double]?

        /// A series; `x`, if given, must have one value per element of `values` (a precondition).
        public init(name: String, values: [Double], color: String? = nil, x: [Double]? = nil) {
            precondition(x == nil || x!.count == values.count, "one x per value")
            self.name = name
            self.values = values
            self.color = color
            self.x = x
        }

        /// The x of value i.
        func xPosition(_ i: Int, start: Double) -> Double { x?[i] ?? start + Double(i) }
    }

    /// A shaded region between two curves (e.g. a forecast's 5–95% predictive interval),
    /// drawn under the panel's lines.
    public struct Band: Sendable, Equatable {
        /// Legend text.
        public var name: String
        /// The region's lower edge at each x; points where it or ``upper`` is non-finite split
        /// the region.
        public var lower: [Double]
        /// The region's upper edge at each x.
        public var upper: [Double]
        /// Explicit x of each point (increasing); nil: `xStart + i`.
        public var x: [Double]?
        /// Any SVG colour; nil: the palette's first.
        public var color: String?
        /// Fill opacity in (0, 1].
        public var opacity: Double

        /// A band; `lower`, `upper` and `x` (if given) have one value per point (a precondition).
        public init(name: String, lower: [Double], upper: [Double], x: [Double]? = nil, color: String? = nil,
                    opacity: Double = 0.25) {
            precondition(lower.count == upper.count && (x == nil || x!.count == lower.count), "one lower, upper and x per point")
            (self.name, self.lower, self.upper, self.x, self.color, self.opacity) = (name, lower, upper, x, color, opacity)
        }

        /// The x of point i.
        func xPosition(_ i: Int, start: Double) -> Double { x?[i] ?? start + Double(i) }
    }

    /// One stacked panel with its own y axis.
    public struct Panel: Sendable, Equatable {
        /// The panel's y-axis label (drawn rotated at its left).
        public var yLabel: String
        /// The lines drawn in this panel, in legend order.
        public var series: [Series]
        /// Logarithmic y axis (base 10); non-positive values are skipped.
        public var logScale: Bool
        /// Shaded regions drawn under the lines, listed in the legend before them.
        public var bands: [Band]

        /// A panel with a linear y axis unless `logScale`, and optional shaded bands.
        public init(yLabel: String, series: [Series], logScale: Bool = false, bands: [Band] = []) {
            self.yLabel = yLabel
            self.series = series
            self.logScale = logScale
            self.bands = bands
        }
    }

    /// The title centred above the top panel.
    public var title: String
    /// The x-axis label under the bottom panel.
    public var xLabel: String
    /// The panels, top to bottom.
    public var panels: [Panel]
    /// x positions of vertical dashed lines drawn across all panels (e.g. switch points).
    public var markers: [Double]
    /// Legend text of the markers.
    public var markerLabel: String
    /// x of the first value of every series.
    public var xStart: Double

    /// A chart; markers are optional and series start at `xStart` unless they give their own x.
    public init(title: String, xLabel: String, panels: [Panel], markers: [Double] = [],
                markerLabel: String = "switch", xStart: Double = 0) {
        self.title = title
        self.xLabel = xLabel
        self.panels = panels
        self.markers = markers
        self.markerLabel = markerLabel
        self.xStart = xStart
    }

    /// The Okabe–Ito palette (without its yellow, which is too light on white, and with black
    /// last, since black is the marker colour).
    public static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]

    /// Geometry constants, in SVG user units (px).
    enum Layout {
        static let left = 76.0, right = 18.0, top = 40.0, bottom = 50.0, gap = 14.0
        static let fontSize = 11.0, titleSize = 14.0, labelSize = 12.0
        static let charWidth = 6.2  // average glyph width at fontSize, for legend sizing
    }

    /// Renders the chart as a standalone SVG document (layout and style in the type's
    /// documentation).
    ///
    /// - Parameters:
    ///   - width: the document's width in px.
    ///   - panelHeight: the height of each panel in px; the document adds margins for the title
    ///     and the x axis.
    /// - Returns: the SVG text.
    public func svg(width: Int = 720, panelHeight: Int = 180) -> String {
        let w = Double(max(width, 200)), ph = Double(max(panelHeight, 60))
        let n = max(panels.count, 1)
        let height = Layout.top + Double(n) * ph + Double(n - 1) * Layout.gap + Layout.bottom
        let plotLeft = Layout.left, plotRight = w - Layout.right
        let xAxis = xScale(plotLeft: plotLeft, plotRight: plotRight)

        var out = SVGText()
        out.line(##"<?xml version="1.0" encoding="UTF-8"?>"##)
        out.line(##"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\##(Int(w))" height="\##(Int(height))" "##
            + ##"viewBox="0 0 \##(Int(w)) \##(Int(height))" font-family="sans-serif" font-size="\##(svgNumber(Layout.fontSize))">"##)
        out.line("<title>\(xmlEscaped(title))</title>")
        out.line(##"<rect x="0" y="0" width="\##(Int(w))" height="\##(Int(height))" fill="#ffffff"/>"##)
        out.line(##"<text x="\##(svgNumber((plotLeft + plotRight) / 2))" y="\##(svgNumber(Layout.top / 2 + 5))" text-anchor="middle" "##
            + ##"font-size="\##(svgNumber(Layout.titleSize))" font-weight="bold">\##(xmlEscaped(title))</text>"##)

        let drawn = panels.isEmpty ? [Panel(yLabel: "", series: [])] : panels
        for (p, panel) in drawn.enumerated() {
            let top = Layout.top + Double(p) * (ph + Layout.gap)
            let bottom = top + ph
            renderPanel(panel, index: p, isBottom: p == drawn.count - 1, box: (plotLeft, top, plotRight, bottom),
                        xAxis: xAxis, into: &out)
        }
        // x-axis label under the bottom panel.
        out.line(##"<text x="\##(svgNumber((plotLeft + plotRight) / 2))" y="\##(svgNumber(height - 10))" text-anchor="middle" "##
            + ##"font-size="\##(svgNumber(Layout.labelSize))">\##(xmlEscaped(xLabel))</text>"##)
        out.line("</svg>")
        return out.text
    }

    // MARK: - Scales

    /// A linear or log10 map from data to pixels, with its tick positions.
    struct Scale {
        var lo: Double, hi: Double        // domain (log10 of the data when log)
        var pixelLo: Double, pixelHi: Double
        var log: Bool
        var ticks: [Double]               // in data units
        var tickStep: Double              // linear: data step; log: decades per tick

        /// Pixel of a data value, or nil when it cannot be drawn (non-finite, or <= 0 on log).
        func pixel(_ v: Double) -> Double? {
            guard v.isFinite, !log || v > 0 else { return nil }
            let u = log ? Foundation.log10(v) : v
            return pixelLo + (u - lo) / (hi - lo) * (pixelHi - pixelLo)
        }
    }

    /// The number of values of the longest series.
    var maxCount: Int { panels.flatMap(\.series).map(\.values.count).max() ?? 0 }

    func xScale(plotLeft: Double, plotRight: Double) -> Scale {
        let bands = panels.flatMap(\.bands)
        let implicitCounts = panels.flatMap(\.series).filter { $0.x == nil }.map(\.values.count)
            + bands.filter { $0.x == nil }.map(\.lower.count)
        let explicit = (panels.flatMap(\.series).compactMap(\.x) + bands.compactMap(\.x)).joined().filter(\.isFinite)
        var lo = implicitCounts.isEmpty && !explicit.isEmpty ? Double.infinity : xStart
        var hi = implicitCounts.isEmpty && !explicit.isEmpty ? -Double.infinity
            : xStart + Double(max((implicitCounts.max() ?? 0) - 1, 0))
        for v in explicit {
            lo = min(lo, v)
            hi = max(hi, v)
        }
        for m in markers where m.isFinite {
            lo = min(lo, m)
            hi = max(hi, m)
        }
        if !lo.isFinite || !hi.isFinite { (lo, hi) = (xStart, xStart + 1) }
        if hi <= lo { hi = lo + 1 }
        let target = max(2, Int((plotRight - plotLeft) / 80))
        let step = LineChart.niceStep((hi - lo) / Double(target))
        let ticks = LineChart.ticks(from: lo, to: hi, step: step)
        return Scale(lo: lo, hi: hi, pixelLo: plotLeft, pixelHi: plotRight, log: false, ticks: ticks, tickStep: step)
    }

    static func yScale(for panel: Panel, top: Double, bottom: Double) -> Scale {
        let values = (panel.series.flatMap(\.values) + panel.bands.flatMap { $0.lower + $0.upper })
            .filter { $0.isFinite && (!panel.logScale || $0 > 0) }
        let target = max(2, Int((bottom - top) / 40))
        if panel.logScale {
            var lo = 0.0, hi = 1.0
            if let mn = values.min(), let mx = values.max() {
                lo = Foundation.log10(mn).rounded(.down)
                hi = Foundation.log10(mx).rounded(.up)
                if hi <= lo { hi = lo + 1 }
            }
            let decades = hi - lo
            let every = max(1, (decades / Double(target)).rounded(.up))
            var ticks: [Double] = []
            var e = lo
            while e <= hi + 1e-9 {
                ticks.append(pow(10, e))
                e += every
            }
            return Scale(lo: lo, hi: hi, pixelLo: bottom, pixelHi: top, log: true, ticks: ticks, tickStep: every)
        }
        var lo = values.min() ?? 0, hi = values.max() ?? 1
        if hi <= lo {
            let pad = Swift.max(abs(lo) * 0.1, 1)
            lo -= pad
            hi += pad
        }
        let step = niceStep((hi - lo) / Double(target))
        lo = (lo / step).rounded(.down) * step
        hi = (hi / step).rounded(.up) * step
        return Scale(lo: lo, hi: hi, pixelLo: bottom, pixelHi: top, log: false,
                     ticks: ticks(from: lo, to: hi, step: step), tickStep: step)
    }

    /// The 1-2-5 step nearest above `raw` (e.g. 0.37 -> 0.5, 1.2 -> 2... via thresholds
    /// 1.5, 3.5, 7.5 on the mantissa).
    static func niceStep(_ raw: Double) -> Double {
        guard raw.isFinite, raw > 0 else { return 1 }
        let magnitude = pow(10, Foundation.log10(raw).rounded(.down))
        let m = raw / magnitude
        let nice: Double = m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10
        return nice * magnitude
    }

    /// Multiples of `step` within [lo, hi] (with a little tolerance for rounding).
    static func ticks(from lo: Double, to hi: Double, step: Double) -> [Double] {
        let eps = step * 1e-9
        var k = (lo / step - 1e-9).rounded(.up)
        var out: [Double] = []
        while k * step <= hi + eps, out.count < 1000 {
            let v = k * step
            out.append(abs(v) < eps ? 0 : v)
            k += 1
        }
        return out
    }

    /// A compact tick label: as few decimals as the step needs, exponent form for very large
    /// or very small magnitudes, never "-0".
    static func tickLabel(_ v: Double, step: Double) -> String {
        if v == 0 || abs(v) < abs(step) * 1e-6 { return "0" }
        let a = abs(v)
        if a >= 1e5 || a < 1e-3 {
            // e.g. 2.000e+05, 1.500e-04 -> "2e5", "1.5e-4"
            var s = String(format: "%.3e", v)
            if let eIndex = s.firstIndex(of: "e") {
                var mantissa = String(s[..<eIndex])
                var exponent = String(s[s.index(after: eIndex)...])
                if mantissa.contains(".") {
                    while mantissa.hasSuffix("0") { mantissa.removeLast() }
                    if mantissa.hasSuffix(".") { mantissa.removeLast() }
                }
                let negative = exponent.hasPrefix("-")
                exponent = String(exponent.drop { $0 == "+" || $0 == "-" || $0 == "0" })
                s = mantissa + "e" + (negative ? "-" : "") + (exponent.isEmpty ? "0" : exponent)
            }
            return s
        }
        let decimals = max(0, min(6, Int((-Foundation.log10(step) - 1e-9).rounded(.up))))
        let s = String(format: "%.\(decimals)f", v)
        return s == "-0" || s.allSatisfy({ "-0.".contains($0) }) ? "0" : s
    }

    // MARK: - Drawing

    private func renderPanel(_ panel: Panel, index: Int, isBottom: Bool,
                             box: (left: Double, top: Double, right: Double, bottom: Double),
                             xAxis: Scale, into out: inout SVGText) {
        let y = LineChart.yScale(for: panel, top: box.top, bottom: box.bottom)
        let clipID = "plot\(index)"
        out.line("<g>")
        out.line(##"<clipPath id="\##(clipID)"><rect x="\##(svgNumber(box.left))" y="\##(svgNumber(box.top))" "##
            + ##"width="\##(svgNumber(box.right - box.left))" height="\##(svgNumber(box.bottom - box.top))"/></clipPath>"##)

        // Grid.
        var grid = ""
        for t in xAxis.ticks {
            if let px = xAxis.pixel(t) { grid += "M\(svgNumber(px)) \(svgNumber(box.top))V\(svgNumber(box.bottom))" }
        }
        for t in y.ticks {
            if let py = y.pixel(t) { grid += "M\(svgNumber(box.left)) \(svgNumber(py))H\(svgNumber(box.right))" }
        }
        if !grid.isEmpty {
            out.line(##"<path d="\##(grid)" stroke="#e3e3e3" stroke-width="0.8" fill="none"/>"##)
        }

        // Markers.
        var markerPath = ""
        for m in markers {
            if let px = xAxis.pixel(m), px >= box.left - 0.5, px <= box.right + 0.5 {
                markerPath += "M\(svgNumber(px)) \(svgNumber(box.top))V\(svgNumber(box.bottom))"
            }
        }
        if !markerPath.isEmpty {
            out.line(##"<path class="marker" d="\##(markerPath)" stroke="#444444" stroke-width="1" "##
                + ##"stroke-dasharray="5 4" fill="none"/>"##)
        }

        // Bands, under the series: one closed region per run of drawable points.
        var legend: [(name: String, color: String, style: LegendStyle)] = []
        var points: [(Double, Double)] = []
        for band in panel.bands {
            let color = band.color ?? LineChart.palette[0]
            legend.append((band.name, color, .band(band.opacity)))
            var d = ""
            var run: [(x: Double, lower: Double, upper: Double)] = []
            func flush() {
                if run.count > 1 {
                    d += "M" + run.map { "\(svgNumber($0.x)) \(svgNumber($0.upper))" }.joined(separator: "L")
                        + "L" + run.reversed().map { "\(svgNumber($0.x)) \(svgNumber($0.lower))" }.joined(separator: "L") + "Z"
                }
                run.removeAll()
            }
            for i in band.lower.indices {
                if let px = xAxis.pixel(band.xPosition(i, start: xStart)), let lo = y.pixel(band.lower[i]),
                   let hi = y.pixel(band.upper[i]) {
                    run.append((px, lo, hi))
                    points.append((px, lo))
                    points.append((px, hi))
                } else {
                    flush()
                }
            }
            flush()
            if !d.isEmpty {
                out.line(##"<path class="band" data-name="\##(xmlEscaped(band.name))" d="\##(d)" fill="\##(xmlEscaped(color))" "##
                    + ##"fill-opacity="\##(svgNumber(band.opacity))" stroke="none" clip-path="url(#\##(clipID))"/>"##)
            }
        }

        // Series.
        for (s, series) in panel.series.enumerated() {
            let color = series.color ?? LineChart.palette[s % LineChart.palette.count]
            legend.append((series.name, color, .line))
            var d = ""
            var run: [(Double, Double)] = []
            var dots: [(Double, Double)] = []
            func flush() {
                if run.count == 1 { dots.append(run[0]) }
                if run.count > 1 {
                    d += "M" + run.map { "\(svgNumber($0.0)) \(svgNumber($0.1))" }.joined(separator: "L")
                }
                run.removeAll()
            }
            for (i, v) in series.values.enumerated() {
                if let px = xAxis.pixel(series.xPosition(i, start: xStart)), let py = y.pixel(v) {
                    run.append((px, py))
                    points.append((px, py))
                } else {
                    flush()
                }
            }
            flush()
            let name = xmlEscaped(series.name)
            if !d.isEmpty {
                out.line(##"<path class="series" data-name="\##(name)" d="\##(d)" stroke="\##(xmlEscaped(color))" "##
                    + ##"stroke-width="1.6" stroke-linejoin="round" stroke-linecap="round" fill="none" clip-path="url(#\##(clipID))"/>"##)
            }
            for (px, py) in dots {
                out.line(##"<circle class="series-dot" data-name="\##(name)" cx="\##(svgNumber(px))" cy="\##(svgNumber(py))" r="1.8" "##
                    + ##"fill="\##(xmlEscaped(color))" clip-path="url(#\##(clipID))"/>"##)
            }
        }
        if index == 0 && !markers.isEmpty && markers.contains(where: { xAxis.pixel($0) != nil }) {
            legend.append((markerLabel, "#444444", .dashed))
        }

        // Frame, ticks and tick labels.
        out.line(##"<rect x="\##(svgNumber(box.left))" y="\##(svgNumber(box.top))" width="\##(svgNumber(box.right - box.left))" "##
            + ##"height="\##(svgNumber(box.bottom - box.top))" fill="none" stroke="#000000" stroke-width="1"/>"##)
        var tickPath = ""
        for t in xAxis.ticks {
            if let px = xAxis.pixel(t) { tickPath += "M\(svgNumber(px)) \(svgNumber(box.bottom))v4" }
        }
        for t in y.ticks {
            if let py = y.pixel(t) { tickPath += "M\(svgNumber(box.left)) \(svgNumber(py))h-4" }
        }
        if !tickPath.isEmpty {
            out.line(##"<path d="\##(tickPath)" stroke="#000000" stroke-width="1" fill="none"/>"##)
        }
        for t in y.ticks {
            guard let py = y.pixel(t) else { continue }
            let label = y.log ? LineChart.tickLabel(t, step: t) : LineChart.tickLabel(t, step: y.tickStep)
            out.line(##"<text x="\##(svgNumber(box.left - 7))" y="\##(svgNumber(py + 3.8))" text-anchor="end">\##(xmlEscaped(label))</text>"##)
        }
        if isBottom {
            for t in xAxis.ticks {
                guard let px = xAxis.pixel(t) else { continue }
                let label = LineChart.tickLabel(t, step: xAxis.tickStep)
                out.line(##"<text x="\##(svgNumber(px))" y="\##(svgNumber(box.bottom + 17))" text-anchor="middle">\##(xmlEscaped(label))</text>"##)
            }
        }
        // y-axis label, rotated, centred on the panel.
        let cy = (box.top + box.bottom) / 2
        out.line(##"<text x="16" y="\##(svgNumber(cy))" text-anchor="middle" font-size="\##(svgNumber(Layout.labelSize))" "##
            + ##"transform="rotate(-90 16 \##(svgNumber(cy)))">\##(xmlEscaped(panel.yLabel))</text>"##)

        // Legend.
        if !legend.isEmpty {
            let rowHeight = 15.0, sample = 22.0, pad = 6.0
            let textWidth = legend.map { Double($0.name.count) * Layout.charWidth }.max() ?? 0
            let lw = pad + sample + 6 + textWidth + pad
            let lh = pad + Double(legend.count) * rowHeight + pad - 3
            // The corner whose box covers the fewest data points; ties go to top right, top
            // left, bottom right, bottom left, in that order.
            func covered(_ corner: (x: Double, y: Double)) -> Int {
                points.filter { $0.0 >= corner.x - 2 && $0.0 <= corner.x + lw + 2
                    && $0.1 >= corner.y - 2 && $0.1 <= corner.y + lh + 2 }.count
            }
            let rightX = box.right - 8 - lw, leftX = box.left + 8
            let topY = box.top + 6, bottomY = box.bottom - 6 - lh
            let corners = [(rightX, topY), (leftX, topY), (rightX, bottomY), (leftX, bottomY)]
            var (lx, ly) = corners[0]
            var best = covered(corners[0])
            for c in corners.dropFirst() where best > 0 {
                let n = covered(c)
                if n < best { (lx, ly, best) = (c.0, c.1, n) }
            }
            out.line(##"<g class="legend">"##)
            out.line(##"<rect x="\##(svgNumber(lx))" y="\##(svgNumber(ly))" width="\##(svgNumber(lw))" height="\##(svgNumber(lh))" "##
                + ##"fill="#ffffff" fill-opacity="0.88" stroke="#9a9a9a" stroke-width="0.8"/>"##)
            for (k, entry) in legend.enumerated() {
                let ry = ly + pad + Double(k) * rowHeight + 5.5
                switch entry.style {
                case .band(let opacity):
                    out.line(##"<rect x="\##(svgNumber(lx + pad))" y="\##(svgNumber(ry - 5))" width="\##(svgNumber(sample))" height="10" "##
                        + ##"fill="\##(xmlEscaped(entry.color))" fill-opacity="\##(svgNumber(opacity))"/>"##)
                case .line, .dashed:
                    let dashed = entry.style == .dashed
                    let dash = dashed ? ##" stroke-dasharray="5 4""## : ""
                    let strokeWidth = dashed ? "1" : "1.6"
                    out.line(##"<path d="M\##(svgNumber(lx + pad)) \##(svgNumber(ry))h\##(svgNumber(sample))" stroke="\##(xmlEscaped(entry.color))" "##
                        + ##"stroke-width="\##(strokeWidth)"\##(dash) fill="none"/>"##)
                }
                out.line(##"<text x="\##(svgNumber(lx + pad + sample + 6))" y="\##(svgNumber(ry + 3.8))">\##(xmlEscaped(entry.name))</text>"##)
            }
            out.line("</g>")
        }
        out.line("</g>")
    }
}

/// How a legend entry shows its item: a line, the dashed marker line, or a filled swatch.
fileprivate enum LegendStyle: Equatable {
    case line, dashed
    case band(Double)
}

/// Accumulates SVG lines.
fileprivate struct SVGText {
    var text = ""
    mutating func line(_ s: String) {
        text += s
        text += "\n"
    }
}

/// A coordinate with at most two decimals, trailing zeros dropped ("12", "12.5", "12.25").
fileprivate func svgNumber(_ v: Double) -> String {
    var s = String(format: "%.2f", v)
    if s.contains(".") {
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
    }
    return s == "-0" ? "0" : s
}

/// Escapes the five XML special characters, for text content and attribute values.
func xmlEscaped(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.count)
    for c in s {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        default: out.append(c)
        }
    }
    return out
}

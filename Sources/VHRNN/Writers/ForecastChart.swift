/// A forecast fan chart: one panel per chosen dimension, the observed history as a line, the
/// forecast's central intervals as shaded bands (outermost quantile pair lightest), its median
/// (or mean) as a line, the truth after the origin when known, and a dashed marker at the
/// forecast origin. Frames are numbered from 1, as in `vhrnn filter`'s output.
public enum ForecastChart {
    /// The chart.
    /// - Parameters:
    ///   - title: the chart's title.
    ///   - history: `(T, D)` flat observed frames (the last `historyShown` are drawn).
    ///   - forecast: the forecast made after frame T (in the units of `history`).
    ///   - levels: quantile levels to draw, ascending (pairs from the outside in become
    ///     bands; 0.5, if present, the central line — else the predictive mean).
    ///   - truth: `(≤ H, D)` flat frames that followed, if known.
    ///   - dims: the dimensions to draw, one panel each.
    ///   - names: a label per dimension (default `x0`, `x1`, ...).
    ///   - historyShown: history frames drawn before the origin.
    /// - Returns: the chart (render it with ``LineChart/svg(width:panelHeight:)``).
    public static func make(title: String, history: [Double], forecast: Forecast, levels: [Double], truth: [Double]?,
                            dims: [Int], names: [String]? = nil, historyShown: Int = 50) -> LineChart {
        let D = forecast.dataDim, H = forecast.horizon, T = history.count / D
        let start = max(0, T - historyShown)
        let quantiles = forecast.quantiles(levels)
        let mean = forecast.predictiveMean
        let median = levels.firstIndex(of: 0.5)
        let binary = forecast.emission == .bernoulli
        // The fan starts at the last observed frame so that it joins the history.
        let fanX = [Double(T)] + (0..<H).map { Double(T + 1 + $0) }
        let panels = dims.map { d -> LineChart.Panel in
            let last = T > 0 ? history[(T - 1) * D + d] : Double.nan
            var bands: [LineChart.Band] = []
            if !binary {
                for pair in 0..<(levels.count / 2) {
                    let lo = pair, hi = levels.count - 1 - pair
                    let percent = { (level: Double) in "\(Int((level * 100).rounded()))" }
                    bands.append(LineChart.Band(name: "\(percent(levels[lo]))–\(percent(levels[hi]))%",
                                                lower: [last] + (0..<H).map { quantiles[lo][$0 * D + d] },
                                                upper: [last] + (0..<H).map { quantiles[hi][$0 * D + d] },
                                                x: fanX, color: LineChart.palette[0],
                                                opacity: 0.18 + 0.2 * Double(pair)))
                }
            }
            let centre = binary || median == nil ? (0..<H).map { mean[$0 * D + d] } : (0..<H).map { quantiles[median!][$0 * D + d] }
            var series = [LineChart.Series(name: "observed", values: (start..<T).map { history[$0 * D + d] }, color: "#000000",
                                           x: (start..<T).map { Double($0 + 1) }),
                          LineChart.Series(name: binary ? "note probability" : (median == nil ? "mean" : "median"),
                                           values: [binary ? Double.nan : last] + centre, color: LineChart.palette[0], x: fanX)]
            if let truth, truth.count >= D {
                let count = min(H, truth.count / D)
                series.append(LineChart.Series(name: "truth", values: (0..<count).map { truth[$0 * D + d] },
                                               color: LineChart.palette[1], x: (0..<count).map { Double(T + 1 + $0) }))
            }
            return LineChart.Panel(yLabel: names?[d] ?? "x\(d)", series: series, bands: bands)
        }
        return LineChart(title: title, xLabel: "frame", panels: panels, markers: [Double(T) + 0.5],
                         markerLabel: "forecast origin", xStart: 1)
    }
}

import Foundation
@testable import VHRNN

/// Writes `HT_Sensor_dataset.dat` in the published UCI format — header
/// `id time R1 R2 R3 R4 R5 R6 R7 R8 Temp. Humidity`, then rows of the id and 11 numbers
/// separated by two spaces, time in hours relative to the induction's t0 starting one hour
/// before it — with synthetic readings, so the loader can be tested without the real file.
enum HTSensorFixture {
    static let header = "id time R1 R2 R3 R4 R5 R6 R7 R8 Temp. Humidity"

    /// One row's reading of channel `c` (0 = R1 ... 9 = Humidity) at sample `k`: smooth,
    /// different per induction and channel, with offsets like real resistances.
    static func reading(id: Int, channel c: Int, sample k: Int, seconds: Double) -> Double {
        10 + Double(c) + 0.1 * Double(id % 7) + sin(seconds / 600 + Double(id) + Double(c))
    }

    /// `samples[id]` = the times (seconds from the first sample) at which induction `id` has a
    /// reading; `value` gives the 10 readings of a sample (default `reading`).
    static func datasetText(samples: [(id: Int, seconds: [Double])],
                            value: ((Int, Int, Int, Double) -> Double)? = nil) -> String {
        var lines = [header]
        for (id, secs) in samples {
            for (k, s) in secs.enumerated() {
                let hours = (s - 3600) / 3600  // one hour of background before t0
                var fields = ["\(id)", String(format: "%.8f", hours)]
                for c in 0..<10 {
                    let v = value?(id, c, k, s) ?? reading(id: id, channel: c, sample: k, seconds: s)
                    fields.append(String(format: "%.5f", v))
                }
                lines.append(fields.joined(separator: "  "))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A metadata file in the published format (tab-separated, "id\tdate\t\tclass\tt0\tdt").
    static func metadataText(ids: [Int]) -> String {
        var s = "id\tdate\t\tclass\tt0\tdt\n"
        for id in ids { s += "\(id)\t07-04-15\tbanana\t13.49\t1.64 \n" }
        return s
    }
}

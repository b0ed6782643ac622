import Foundation
import Testing
@testable import VHRNN

@Suite struct SyntheticDataTests {
    static func bits(_ split: SequenceSplit) -> [[UInt64]] {
        split.inputs.map { $0.map(\.bitPattern) }
    }

    /// The tables as printed in docs/DATA.md (rounded to 6 decimals): catches any drift of the
    /// generator (or of libm) from the documented matrices.
    static let documented: [[Double]] = [
        [0.827501, -0.102537, 0.090781, 0.762164], [0.529496, -0.515614, 0.468048, 0.827912],
        [0.799933, -0.369366, 0.366192, 0.731753], [0.882204, -0.654139, 0.569219, 0.442486],
        [0.886481, -0.339035, 0.330893, 0.782668], [0.251238, -0.857454, 0.755923, 0.805312],
        [0.788268, -0.756051, 0.716116, 0.450047], [0.889590, -0.375666, 0.375571, 0.901502],
        [0.756374, -0.438706, 0.351538, 1.106475], [0.919253, -1.101504, 0.894968, 0.059384],
    ]
    static let documentedZeroShot: [[Double]] = [
        [0.456511, -0.562881, 0.517036, 0.764429], [0.894666, -0.559070, 0.461961, 0.471059],
        [0.154941, -0.851741, 0.698974, 0.808486], [0.175745, -0.862490, 0.716810, 0.822042],
        [0.894504, -0.221647, 0.219048, 0.846786], [1.015152, -0.670291, 0.538448, 0.482270],
        [0.867913, -0.434982, 0.433389, 0.815361], [1.044411, -0.233643, 0.188987, 0.860678],
        [0.924160, -0.341599, 0.341238, 0.946334], [0.881745, -0.848011, 0.782124, 0.427732],
    ]

    @Test func matricesMatchDocumentation() {
        for (table, doc) in [(SyntheticData.matrices, Self.documented), (SyntheticData.zeroShotMatrices, Self.documentedZeroShot)] {
            #expect(table.count == 10)
            for (k, w) in table.enumerated() {
                let got = [w.m00, w.m01, w.m10, w.m11]
                for i in 0..<4 { #expect(abs(got[i] - doc[k][i]) < 1e-6, "matrix \(k) entry \(i)") }
                #expect(abs(w.spectralRadius - SyntheticData.radius(k)) < 1e-12)
            }
        }
        #expect(abs(SyntheticData.radius(0) - 0.8) < 1e-15 && abs(SyntheticData.radius(9) - 1.02) < 1e-15)
        #expect(SyntheticData.matrices != SyntheticData.zeroShotMatrices)
    }

    /// The expanding family's tables as printed in docs/DATA.md.
    static let documentedExpanding: [[Double]] = [
        [0.573065, -0.671520, 0.670400, 0.627874], [0.696157, -0.423982, 0.366305, 0.986860],
        [0.889897, -0.544412, 0.520175, 0.665329], [0.494971, -0.776976, 0.771487, 0.625121],
        [0.597189, -0.714510, 0.708098, 0.731953], [0.918058, -0.473774, 0.468974, 0.823166],
        [0.848573, -0.566099, 0.565655, 0.816855], [0.764361, -0.952786, 0.883984, 0.271127],
        [0.696132, -0.851472, 0.843193, 0.529026], [0.696786, -0.749848, 0.745532, 0.810239],
    ]
    static let documentedExpandingZeroShot: [[Double]] = [
        [0.749397, -0.795266, 0.728369, 0.307918], [0.836399, -0.902569, 0.762990, 0.183722],
        [0.655605, -0.610370, 0.604769, 0.772006], [0.793491, -0.461172, 0.457107, 0.879707],
        [0.309946, -0.878569, 0.844679, 0.648331], [0.937462, -0.379948, 0.378444, 0.889756],
        [1.059929, -0.284234, 0.255157, 0.887657], [0.364067, -0.896918, 0.762129, 1.005088],
        [0.053668, -1.100870, 0.946848, 0.817436], [1.079345, -0.256907, 0.247354, 0.982126],
    ]

    @Test func expandingFamilyMatchesDocumentationAndGrowsBeyondTraining() throws {
        for (table, doc) in [(SyntheticData.matrices(.expanding), Self.documentedExpanding),
                             (SyntheticData.zeroShotMatrices(.expanding), Self.documentedExpandingZeroShot)] {
            for (k, w) in table.enumerated() {
                let got = [w.m00, w.m01, w.m10, w.m11]
                for i in 0..<4 { #expect(abs(got[i] - doc[k][i]) < 1e-6, "expanding matrix \(k) entry \(i)") }
                #expect(abs(w.spectralRadius - SyntheticFamily.expanding.radius(k)) < 1e-12)
            }
        }
        #expect(SyntheticData.matrices(.contracting) == SyntheticData.matrices)
        func maxAbs(_ split: SequenceSplit) -> Double { split.inputs.joined().map(abs).max() ?? 0 }
        let train = SyntheticData.make(setting: .standard, seed: 0, family: .expanding).train
        let long = SyntheticData.make(setting: .long, seed: 0, family: .expanding).test
        let contractingLong = SyntheticData.make(setting: .long, seed: 0).test
        // LONG leaves the training range far behind only in the expanding family.
        #expect(maxAbs(long) > 10 * maxAbs(train), "LONG max \(maxAbs(long)), training max \(maxAbs(train))")
        #expect(maxAbs(contractingLong) < maxAbs(SyntheticData.make(setting: .standard, seed: 0).train))
        // The same draws: switch frames and noise levels agree sequence by sequence.
        let a = SyntheticData.makeWithInfo(setting: .standard, seed: 5).info
        let b = SyntheticData.makeWithInfo(setting: .standard, seed: 5, family: .expanding).info
        #expect(a.train.map(\.switchSteps) == b.train.map(\.switchSteps) && a.train.map(\.sigmas) == b.train.map(\.sigmas))
        let source = try DataSource(parsing: "synthetic:long:expanding")
        let loaded = try source.load()
        #expect(source.description == "synthetic:long:expanding" && loaded.test == long)
        #expect(try DataSource(parsing: "synthetic:long").description == "synthetic:long")
        #expect(throws: DataSourceError.self) { try DataSource(parsing: "synthetic:long:nope") }
    }

    @Test func sameSeedSameBitsDifferentSeedDiffers() {
        let a = SyntheticData.makeWithInfo(setting: .standard, seed: 7)
        let b = SyntheticData.makeWithInfo(setting: .standard, seed: 7)
        let c = SyntheticData.make(setting: .standard, seed: 8)
        for s in SplitName.allCases {
            #expect(Self.bits(a.dataset.split(s)) == Self.bits(b.dataset.split(s)))
            #expect(Self.bits(a.dataset.split(s)) != Self.bits(c.split(s)))
        }
        #expect(a.info == b.info)
        // A generalisation setting keeps the standard train/valid and has its own test split.
        let r1 = SyntheticData.make(setting: .rand, seed: 7), r2 = SyntheticData.make(setting: .rand, seed: 7)
        #expect(Self.bits(r1.test) == Self.bits(r2.test))
        #expect(Self.bits(r1.train) == Self.bits(a.dataset.train))
        #expect(Self.bits(r1.valid) == Self.bits(a.dataset.valid))
    }

    @Test(arguments: SyntheticSetting.allCases)
    func shapesAndSplitSizes(setting: SyntheticSetting) {
        let (ds, info) = SyntheticData.makeWithInfo(setting: setting, seed: 3)
        #expect(ds.kind == .real && ds.dataDim == 2 && ds.normalization == nil)
        #expect(ds.name == "synthetic-\(setting.rawValue)")
        #expect(ds.train.count == 800 && ds.valid.count == 100 && ds.test.count == 100)
        #expect(info.train.count == 800 && info.valid.count == 100 && info.test.count == 100)
        #expect((0..<800).allSatisfy { ds.train.length(of: $0) == 100 })
        #expect((0..<100).allSatisfy { ds.valid.length(of: $0) == 100 })
        let testLength = setting == .switch ? 300 : setting == .long ? 200 : 100
        #expect((0..<100).allSatisfy { ds.test.length(of: $0) == testLength })
        #expect(ds.test.inputs.allSatisfy { $0.allSatisfy(\.isFinite) })
        for i in info.test {
            #expect(i.matrixIndices.count == i.switchSteps.count + 1 && i.sigmas.count == i.switchSteps.count + 1)
        }
    }

    /// Every standard sequence switches exactly twice, at documented places, to a new level;
    /// and the recorded regimes explain the data: residual / sigma is standard normal overall.
    @Test func standardSequencesSwitchExactlyTwice() {
        let (ds, info) = SyntheticData.makeWithInfo(setting: .standard, seed: 0)
        var sumSq = 0.0, n = 0.0
        for (seq, inf) in zip(ds.train.inputs, info.train) {
            #expect(inf.switchSteps.count == 2)
            let s = inf.switchSteps
            #expect(s[0] >= 20 && s[1] < 80 && s[1] - s[0] >= 10)
            #expect(inf.sigmas[0] != inf.sigmas[1] && inf.sigmas[1] != inf.sigmas[2])
            #expect(inf.sigmas.allSatisfy { SyntheticData.noiseLevels.contains($0) })
            #expect(Set(inf.matrixIndices).count == 1)
            #expect(seq[0] >= -1 && seq[0] < 1 && seq[1] >= -1 && seq[1] < 1)
            let w = SyntheticData.matrices[inf.matrixIndices[0]]
            for t in 1..<100 {
                let regime = t < s[0] ? 0 : t < s[1] ? 1 : 2
                let r0 = seq[2 * t] - (w.m00 * seq[2 * t - 2] + w.m01 * seq[2 * t - 1])
                let r1 = seq[2 * t + 1] - (w.m10 * seq[2 * t - 2] + w.m11 * seq[2 * t - 1])
                let sg = inf.sigmas[regime]
                sumSq += (r0 * r0 + r1 * r1) / (sg * sg)
                n += 2
            }
        }
        #expect(abs(sumSq / n - 1) < 0.02, "normalised residual variance \(sumSq / n)")
        // All three levels and all ten matrices are used.
        #expect(Set(info.train.flatMap(\.sigmas)).count == 3)
        #expect(Set(info.train.map { $0.matrixIndices[0] }).count == 10)
    }

    @Test func generalisationSettingsFollowTheirRules() {
        func maxResidual(_ seq: [Double], _ w: Matrix2, from: Int, to: Int) -> Double {
            var m = 0.0
            for t in (from + 1)..<to {
                m = max(m, abs(seq[2 * t] - (w.m00 * seq[2 * t - 2] + w.m01 * seq[2 * t - 1])),
                        abs(seq[2 * t + 1] - (w.m10 * seq[2 * t - 2] + w.m11 * seq[2 * t - 1])))
            }
            return m
        }
        for setting in [SyntheticSetting.noiseless, .long, .zeroShot] {
            let (ds, info) = SyntheticData.makeWithInfo(setting: setting, seed: 1)
            let table = setting == .zeroShot ? SyntheticData.zeroShotMatrices : SyntheticData.matrices
            for (seq, i) in zip(ds.test.inputs, info.test) {
                #expect(i.switchSteps.isEmpty && i.sigmas == [0])
                #expect(maxResidual(seq, table[i.matrixIndices[0]], from: 0, to: seq.count / 2) == 0)
            }
        }
        let (sw, swInfo) = SyntheticData.makeWithInfo(setting: .switch, seed: 1)
        for (seq, i) in zip(sw.test.inputs, swInfo.test) {
            #expect(i.switchSteps == [100, 200] && Set(i.matrixIndices).count == 3)
            for r in 0..<3 {
                #expect(maxResidual(seq, SyntheticData.matrices[i.matrixIndices[r]], from: 100 * r, to: 100 * r + 100) == 0)
            }
        }
        let (rand, randInfo) = SyntheticData.makeWithInfo(setting: .rand, seed: 1)
        #expect(Set(randInfo.test.map(\.switchSteps.count)) == [0, 1, 2, 3])
        for (seq, i) in zip(rand.test.inputs, randInfo.test) {
            #expect(i.matrixIndices.allSatisfy { $0 == -1 })
            #expect(zip(i.sigmas, i.sigmas.dropFirst()).allSatisfy { $0 != $1 })
            #expect(seq.count == 200)
        }
        let (add, addInfo) = SyntheticData.makeWithInfo(setting: .add, seed: 1)
        for (seq, i) in zip(add.test.inputs, addInfo.test) {
            let b = i.drift!
            #expect(b.allSatisfy { $0 >= 0 && $0 < 1 } && seq[0] >= 0 && seq[0] < 1)
            var x = [seq[0], seq[1]]
            for t in 1..<100 {
                x[0] += b[0]; x[1] += b[1]
                #expect(seq[2 * t] == x[0] && seq[2 * t + 1] == x[1])
            }
        }
    }

    @Test func writeReadRoundTripIsBitExact() throws {
        let dir = try TemporaryDirectory("synthetic")
        defer { dir.remove() }
        let (ds, info) = SyntheticData.makeWithInfo(setting: .switch, seed: 11)
        try SyntheticData.write(ds, info: info, to: dir.path)
        let back = try SyntheticData.read(directory: dir.path)
        #expect(back.name == ds.name && back.kind == .real && back.normalization == nil)
        for s in SplitName.allCases { #expect(Self.bits(back.split(s)) == Self.bits(ds.split(s))) }
        #expect(try SyntheticData.readInfo(directory: dir.path) == info)
        let header = try String(contentsOfFile: dir.file("train.csv"), encoding: .utf8).prefix(30)
        #expect(header.hasPrefix("sequence,step,x0,x1\n0,0,"))
        // The synthetic CSV is also a valid long table for the generic CSV loader.
        var options = CSVSequenceLoader.Options()
        options.normalize = false
        options.trainFraction = 1; options.validFraction = 0; options.testFraction = 0
        let generic = try CSVSequenceLoader.load(path: dir.file("valid.csv"), options: options)
        #expect(Self.bits(generic.train) == Self.bits(ds.valid))
    }

    @Test(arguments: [
        ("seq,step,x0,x1\n0,0,1,2\n", "line 1", "expected header"),
        ("sequence,step,x0,x1\n0,0,1,2\n0,1,1\n", "line 3", "expected 4 fields"),
        ("sequence,step,x0,x1\n0,0,1,2\n0,1,abc,2\n", "line 3, column x0", "not a number"),
        ("sequence,step,x0,x1\n0,0,1,2\n2,0,1,2\n", "line 3, column sequence", "expected sequence 1"),
        ("sequence,step,x0,x1\n0,0,1,2\n0,2,1,2\n", "line 3, column step", "expected step 1"),
        ("sequence,step,x0,x1\n0,0,1,nan\n", "line 2, column x1", "non-finite"),
        ("", nil, "empty file"),
    ] as [(String, String?, String)])
    func readerErrorsNameFileAndLine(text: String, location: String?, message: String) throws {
        let dir = try TemporaryDirectory("synthetic-bad")
        defer { dir.remove() }
        let good = "sequence,step,x0,x1\n0,0,1,2\n"
        try dir.write("train.csv", good)
        try dir.write("valid.csv", text)
        try dir.write("test.csv", good)
        let error = #expect(throws: DataFileError.self) { try SyntheticData.read(directory: dir.path) }
        #expect(error?.path == dir.file("valid.csv"))
        #expect(error?.location == location)
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }

    @Test func missingSplitFileIsAnError() throws {
        let dir = try TemporaryDirectory("synthetic-missing")
        defer { dir.remove() }
        let error = #expect(throws: DataFileError.self) { try SyntheticData.read(directory: dir.path) }
        #expect(error?.path == dir.file("train.csv") && error?.message == "file not found")
    }
}

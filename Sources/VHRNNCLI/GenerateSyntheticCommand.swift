import ArgumentParser
import VHRNN

extension SyntheticSetting: ExpressibleByArgument {}
extension SyntheticFamily: ExpressibleByArgument {}

/// `vhrnn generate-synthetic`: writes a synthetic setting's splits as plain CSV files.
struct GenerateSyntheticCommand: VHRNNSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "generate-synthetic",
        abstract: "Write the synthetic data (paper Eq. 6) of a setting to a directory.",
        discussion: """
            Writes train.csv, valid.csv and test.csv (long tables: sequence,step,x0,x1) and info.json \
            (setting, seed, matrices, per-sequence switch steps). Train and valid are the standard set; \
            the generalisation settings replace the test split. Read back with --data synthetic-dir:DIR. \
            The format and every choice are in docs/DATA.md.
            """)

    @Option(help: "Setting: standard, noiseless, switch, rand, long, zero-shot or add.")
    var setting: SyntheticSetting = .standard

    @Option(help: "Matrix family: contracting (spectral radii 0.80-1.02) or expanding (0.90-1.06).")
    var family: SyntheticFamily = .contracting

    @Option(help: "Output directory.")
    var out: String

    @Option(help: "Seed (the same seed gives bit-identical data).")
    var seed: UInt64 = 0

    func execute() throws {
        let (dataset, info) = SyntheticData.makeWithInfo(setting: setting, seed: seed, family: family)
        try SyntheticData.write(dataset, info: info, to: out)
        print("wrote \(setting.rawValue) (\(family.rawValue) matrices, seed \(seed)): \(dataset.train.count)/\(dataset.valid.count)/\(dataset.test.count) sequences to \(out)")
    }
}

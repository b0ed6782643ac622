// swift-tools-version:5.9
// Coverage-guided fuzz targets for every reader of outside bytes (libFuzzer through
// `swift build --sanitize=fuzzer --sanitize=address`). A separate package so that the main
// one's products are never built with fuzzer instrumentation; it depends on VHRNN by path and
// drives the readers through their public API, exactly as a user's file reaches them.
// Run through `make fuzz` (scripts/fuzz.sh), which builds, writes the seed corpora and runs
// each target for FUZZ_SECONDS.
import PackageDescription

let package = Package(
    name: "VHRNNFuzz",
    dependencies: [
        .package(name: "VHRNN", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "VHRNNFuzz",
            dependencies: [.product(name: "VHRNN", package: "VHRNN")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
    ]
)

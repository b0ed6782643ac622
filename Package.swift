// swift-tools-version:5.9
//
// VHRNN: variational recurrent sequence models (VRNN, VHRNN) with ELBO/IWAE/FIVO,
// a C kernel core and a thin Swift API.
//
// Parallelism: the C kernels share one parallel-for helper (CSources/CVHRNN/vh_parallel.c).
// By default it runs on libdispatch, which needs no compiler flags, so this package can be
// depended on by version. Building with VHRNN_OPENMP=1 in the environment switches the helper
// to OpenMP; that needs `-fopenmp`, which SwiftPM only accepts as an unsafe flag, so it is
// opt-in (the Makefile sets it for the CLI, bench and tests).
import Foundation
import PackageDescription

let useOpenMP = ProcessInfo.processInfo.environment["VHRNN_OPENMP"] == "1"

var kernelCSettings: [CSetting] = [.headerSearchPath("impl")]
var kernelLinkerSettings: [LinkerSetting] = [.linkedLibrary("openblas"), .linkedLibrary("m")]
if useOpenMP {
    kernelCSettings += [.define("VH_USE_OPENMP"), .unsafeFlags(["-fopenmp"])]
    // Swift's clang ships no libomp of its own; Debian's libomp-dev provides libomp5.so.
    kernelLinkerSettings += [.linkedLibrary("omp5")]
} else {
    kernelLinkerSettings += [.linkedLibrary("dispatch", .when(platforms: [.linux]))]
}

let package = Package(
    name: "VHRNN",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "VHRNN", targets: ["VHRNN"]),
        .executable(name: "vhrnn", targets: ["VHRNNCLI"]),
        .executable(name: "bench", targets: ["VHRNNBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // `swift package generate-documentation` (the DocC catalog in Sources/VHRNN/VHRNN.docc;
        // `make docs`). A command plugin only: nothing of it is linked into any product.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .target(
            name: "CVHRNN",
            path: "CSources/CVHRNN",
            cSettings: kernelCSettings,
            linkerSettings: kernelLinkerSettings
        ),
        .target(
            name: "VHRNN",
            dependencies: ["CVHRNN"],
            path: "Sources/VHRNN"
        ),
        .executableTarget(
            name: "VHRNNCLI",
            dependencies: [
                "VHRNN",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/VHRNNCLI"
        ),
        .executableTarget(
            name: "VHRNNBench",
            dependencies: ["VHRNN", "CVHRNN"],
            path: "bench"
        ),
        .testTarget(
            name: "VHRNNTests",
            dependencies: ["VHRNN", "CVHRNN"],
            path: "Tests/VHRNNTests"
        ),
    ]
)

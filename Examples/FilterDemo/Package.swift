// swift-tools-version:5.9
// A downstream package: depends on VHRNN the way another project would (here by path; from
// elsewhere, `.package(url: "<repository>", from: "0.1.0")`), and calls its public API.
import PackageDescription

let package = Package(
    name: "FilterDemo",
    dependencies: [
        .package(name: "VHRNN", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "FilterDemo",
            dependencies: [.product(name: "VHRNN", package: "VHRNN")]
        ),
    ]
)

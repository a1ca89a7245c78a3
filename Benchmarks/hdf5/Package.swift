// swift-tools-version:6.0
// Writes and reads the full-MNIST data-set file with ACOLHDF5 (see README.md, run.sh).
import PackageDescription

let package = Package(
    name: "hdf5-bench",
    dependencies: [.package(name: "acol", path: "../..")],
    targets: [
        .executableTarget(name: "hdf5-bench",
                          dependencies: [.product(name: "ACOLHDF5", package: "acol"), .product(name: "ACOL", package: "acol")],
                          swiftSettings: [.swiftLanguageMode(.v5)]),
    ]
)

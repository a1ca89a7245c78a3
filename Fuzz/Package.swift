// swift-tools-version:6.0
// libFuzzer harnesses for the importers (docs/fuzzing.md). A separate package, so that the
// main build never needs -sanitize=fuzzer. Build and run one target with
//   Scripts/fuzz.sh TARGET SECONDS
// which runs `swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library`
// in this folder. Each target is an executable whose main is libFuzzer's.
import PackageDescription

let targets = ["fuzz-idx", "fuzz-cifar", "fuzz-mat", "fuzz-png", "fuzz-parentspec", "fuzz-mapping",
               "fuzz-dataset-h5", "fuzz-model-h5"]

let package = Package(
    name: "acol-fuzz",
    platforms: [.macOS(.v13)],
    dependencies: [.package(name: "acol", path: "..")],
    targets: [
        .target(name: "FuzzSupport", dependencies: [.product(name: "ACOLDatasets", package: "acol"),
                                                    .product(name: "ACOL", package: "acol")],
                swiftSettings: [.swiftLanguageMode(.v5)]),
    ] + targets.map { name in
        .executableTarget(name: name, dependencies: ["FuzzSupport", .product(name: "ACOLDatasets", package: "acol"),
                                                     .product(name: "ACOLHDF5", package: "acol"),
                                                     .product(name: "ACOL", package: "acol")],
                          swiftSettings: [.swiftLanguageMode(.v5)])
    }
)

// swift-tools-version:6.0
// acol: ACOL (auto-clustering output layer) networks in Swift, on the CPU.
//
// Layers, from the bottom up (see docs/architecture.md):
//   CBLAS, CHDF5, CPNG, CZlib,  system-library shims (module map + shim header only)
//   CNettle
//   CDNNL                        oneDNN convolutions and sgemm behind a C interface (a C target)
//   ACOLData                     data types (images, labels, sinks), parent specs and relabelling,
//                                input checks and the one atomic output helper
//   ACOL                         tensors, layers, ACOL head, GAR, optimisers, training, metrics
//   ACOLHDF5                     safe HDF5 wrapper and the model / data-set file formats
//   ACOLDatasets                 importers: IDX, CIFAR, SVHN .mat, PNG folders (no network code)
//   ACOLONNX                     ONNX export of a model (protobuf through swift-protobuf; the
//                                generated onnx.pb.swift is committed, Scripts/generate_onnx_proto.sh)
//   ACOLCLI                      the `acol` commands (a library so tests can parse them)
//   acol                         the executable: a thin main over ACOLCLI
// acol-mpi, data-parallel training over MPI, is the nested package MPI/ (only it needs Open MPI).
import PackageDescription

let package = Package(
    name: "acol",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "ACOLData", targets: ["ACOLData"]),
        .library(name: "ACOL", targets: ["ACOL"]),
        .library(name: "ACOLHDF5", targets: ["ACOLHDF5"]),
        .library(name: "ACOLDatasets", targets: ["ACOLDatasets"]),
        .library(name: "ACOLONNX", targets: ["ACOLONNX"]),
        // For acol-mpi (the nested package MPI/), which runs the same `train` command.
        .library(name: "ACOLCLI", targets: ["ACOLCLI"]),
        .executable(name: "acol", targets: ["acol"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"]), .brew(["openblas"])]),
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5-serial",
                       providers: [.apt(["libhdf5-dev"]), .brew(["hdf5"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng16",
                       providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        .systemLibrary(name: "CNettle", path: "Sources/CNettle", pkgConfig: "nettle",
                       providers: [.apt(["nettle-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),

        // oneDNN 2.x (libdnnl-dev) behind a small C interface: convolutions and sgemm.
        .target(name: "CDNNL", path: "Sources/CDNNL",
                linkerSettings: [.linkedLibrary("dnnl"), .linkedLibrary("gomp")]),

        .target(name: "ACOLData",
                swiftSettings: [.swiftLanguageMode(.v5)]),
        .target(name: "ACOL", dependencies: ["ACOLData", "CBLAS", "CDNNL"],
                swiftSettings: [.swiftLanguageMode(.v5)]),
        .target(name: "ACOLHDF5", dependencies: ["ACOLData", "ACOL", "CHDF5", "CZlib", "CNettle"],
                swiftSettings: [.swiftLanguageMode(.v5)]),
        .target(name: "ACOLDatasets", dependencies: ["ACOLData", "CPNG", "CZlib"],
                swiftSettings: [.swiftLanguageMode(.v5)]),
        .target(name: "ACOLONNX",
                dependencies: ["ACOL", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                exclude: ["README.md"],
                swiftSettings: [.swiftLanguageMode(.v5)]),
        .target(name: "ACOLCLI",
                dependencies: ["ACOLData", "ACOL", "ACOLHDF5", "ACOLDatasets", "ACOLONNX",
                               .product(name: "ArgumentParser", package: "swift-argument-parser")],
                swiftSettings: [.swiftLanguageMode(.v5)]),
        .executableTarget(name: "acol", dependencies: ["ACOL", "ACOLCLI"],
                          swiftSettings: [.swiftLanguageMode(.v5)]),

        .executableTarget(name: "acol-bench", dependencies: ["ACOL", "ACOLHDF5"], path: "Benchmarks/ACOLBench",
                          swiftSettings: [.swiftLanguageMode(.v5)]),

        .testTarget(name: "ACOLDataTests", dependencies: ["ACOLData"],
                    swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "ACOLTests", dependencies: ["ACOL", "ACOLDatasets"],
                    swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "ACOLHDF5Tests", dependencies: ["ACOL", "ACOLHDF5"],
                    swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "ACOLDatasetsTests", dependencies: ["ACOL", "ACOLHDF5", "ACOLDatasets"],
                    swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "ACOLONNXTests",
                    dependencies: ["ACOL", "ACOLONNX", "ACOLDatasets",
                                   .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                    swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "ACOLCLITests", dependencies: ["ACOLCLI", "acol"], exclude: ["Snapshots"],
                    swiftSettings: [.swiftLanguageMode(.v5)]),
    ]
)

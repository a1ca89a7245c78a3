// swift-tools-version:6.0
// acol-mpi: data-parallel training over MPI (Open MPI, `libopenmpi-dev`; docs/scaling.md).
// A separate package, so that the main build never needs MPI: it depends on the main package by
// path and adds
//   CMPI        the system-library shim over Open MPI (pkg-config ompi-c)
//   ACOLMPI     `MPIReduction`: the core library's `BatchReduction` over MPI_Allreduce
//   acol-mpi    the executable: `mpirun -np N acol-mpi train ...`, the options of `acol train`
//   acol-weights-diff  compares the weights of two model files (the 2-rank test)
// Build: `swift build -c release` in this folder (Scripts/test_mpi.sh does it).
import PackageDescription

let package = Package(
    name: "acol-mpi",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "acol-mpi", targets: ["acol-mpi"]),
        .executable(name: "acol-weights-diff", targets: ["acol-weights-diff"]),
    ],
    dependencies: [.package(name: "acol", path: "..")],
    targets: [
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev"]), .brew(["open-mpi"])]),
        .target(name: "ACOLMPI", dependencies: ["CMPI", .product(name: "ACOL", package: "acol")],
                swiftSettings: [.swiftLanguageMode(.v5)]),
        .executableTarget(name: "acol-mpi",
                          dependencies: ["ACOLMPI", .product(name: "ACOL", package: "acol"),
                                         .product(name: "ACOLCLI", package: "acol")],
                          swiftSettings: [.swiftLanguageMode(.v5)]),
        .executableTarget(name: "acol-weights-diff",
                          dependencies: [.product(name: "ACOL", package: "acol"),
                                         .product(name: "ACOLHDF5", package: "acol")],
                          swiftSettings: [.swiftLanguageMode(.v5)]),
    ]
)

import ACOL
import Foundation
@testable import ACOLHDF5
import Testing

/// Hostile files for the tests: a good model (from `makeModel`) edited in place, with its
/// checksum block zeroed as the docs tell h5py users to do, so it is read unchecked.
func craftedModel(_ dir: TempDir, _ name: String, _ edit: (H5ID) throws -> Void) throws -> String {
    let good = dir.file(".good-model.h5")
    if !FileManager.default.fileExists(atPath: good) { try ModelFile.save(try makeModel(), to: good) }
    let p = dir.file(name)
    try FileManager.default.copyItem(atPath: good, toPath: p)
    try H5Session.run {
        let f = try H5ID.openFileForWriting(p)
        defer { f.close() }
        try edit(f)
    }
    try zeroChecksumBlock(p)
    return p
}

func zeroChecksumBlock(_ path: String) throws {
    let h = FileHandle(forUpdatingAtPath: path)!
    try h.write(contentsOf: Data(count: 512))
    try h.close()
}

/// The architecture of `makeModel` as JSON, with `layers` and `head` replaceable.
func architectureJSON(inputShape: String = "[8,8,1]",
                      layers: String = #"[{"type":"conv2d","filters":4,"kernel":[3,3],"padding":"same"},{"type":"relu"},{"type":"max_pool2d","pool":2},{"type":"flatten"},{"type":"dense","units":16},{"type":"relu"}]"#,
                      parents: String = "2", k: String = "3") -> String {
    #"{"inputShape":\#(inputShape),"layers":\#(layers),"head":{"parents":\#(parents),"k":\#(k),"batchNormBeforeZ":true}}"#
}

/// A minimal data-set file written from scratch (the header attributes, then `body`).
func craftedDataset(_ path: String, height: Int64 = 2, width: Int64 = 2, channels: Int64 = 1,
                    fineNames: [String]? = nil, _ body: (H5ID) throws -> Void) throws {
    try writeFile(path) { root in
        try root.setAttribute("format", string: "acol-dataset")
        try root.setAttribute("format_version", Int64(1))
        try root.setAttribute("height", height)
        try root.setAttribute("width", width)
        try root.setAttribute("channels", channels)
        if let fineNames { try root.setAttribute("fine_names", strings: fineNames) }
        try body(root)
    }
}

/// The error's message (failing the test when nothing or something else is thrown).
func hdf5Message(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> String {
    expectHDF5Error(body, sourceLocation: sourceLocation)?.errorDescription ?? ""
}

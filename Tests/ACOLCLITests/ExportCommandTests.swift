import Foundation
import Testing

@Suite struct ExportCommandTests {
    @Test func exportWritesAnONNXFileThroughOutputFile() throws {
        let f = SharedFixture.shared
        try #require(f.setupError == nil, "\(f.setupError ?? "")")
        let dir = try TempDir()
        let r = try CLI.run(["export", f.model, "-o", "model.onnx"], in: dir.url)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("wrote model.onnx: ONNX opset 13, input pixels [N, 28, 28, 1], outputs clusters [N, 10], parents [N, 2]"))
        let bytes = try #require(FileManager.default.contents(atPath: dir.path("model.onnx")))
        #expect(bytes.count > 64 * 784 * 4)   // the first Dense kernel alone
        #expect(String(decoding: bytes, as: UTF8.self).contains("acol.nodes"))
        #expect(dir.files == ["model.onnx"])   // no temporary file left

        // The model itself is never overwritten; a missing model is one line naming it.
        let same = try CLI.run(["export", f.model, "-o", f.model], in: dir.url)
        #expect(same.status == 1)
        #expect(same.stderr.contains(f.model))
        let missing = try CLI.run(["export", "nope.h5", "-o", "x.onnx"], in: dir.url)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("nope.h5"))
        #expect(!FileManager.default.fileExists(atPath: dir.path("x.onnx")))
    }
}

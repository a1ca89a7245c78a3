import Foundation
import Testing

@Suite struct ImportCommandTests {
    static let keras: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("Fixtures/keras").path
    }()

    @Test func importsAKerasFileAndTheModelRuns() throws {
        let dir = try TempDir()
        let r = try CLI.run(["import", "keras", Self.keras + "/k3/mlp_grouped.keras", "-o", "m.h5",
                             "--parents-names", "a,b,c"], in: dir.url)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Keras 3 .keras"))
        #expect(r.stdout.contains("head 3 parents x 2"))
        #expect(r.stdout.contains("node order: acol node i is Keras node [0, 2, 4, 1, 3, 5][i]"))
        #expect(r.stdout.contains("wrote m.h5"))
        #expect(dir.files == ["m.h5"])
        let inspect = try CLI.run(["inspect", "m.h5"], in: dir.url)
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("input 6x6x1"))

        let weightsOnly = try CLI.run(["import", "keras", Self.keras + "/k2/cnn_interleaved_weights.h5", "-o", "w.h5",
                                       "--config", Self.keras + "/k2/cnn_interleaved.json", "--quiet"], in: dir.url)
        #expect(weightsOnly.status == 0, "\(weightsOnly.stderr)")
        #expect(weightsOnly.stdout.isEmpty)
    }

    @Test func refusalsAreOneLine() throws {
        let dir = try TempDir()
        let gap = try CLI.run(["import", "keras", Self.keras + "/k2/unsupported_gap.h5", "-o", "m.h5"], in: dir.url)
        #expect(gap.status == 1)
        #expect(gap.stderr.contains("layer 'gap' (GlobalAveragePooling2D) is not supported"))
        #expect(gap.stderr.split(separator: "\n").count == 1)
        let noConfig = try CLI.run(["import", "keras", Self.keras + "/k3/mlp_uneven.weights.h5", "-o", "m.h5"], in: dir.url)
        #expect(noConfig.status == 1)
        #expect(noConfig.stderr.contains("--config"))
        let names = try CLI.run(["import", "keras", Self.keras + "/k3/mlp_uneven.keras", "-o", "m.h5",
                                 "--parents-names", "a,b,c"], in: dir.url)
        #expect(names.status == 1)
        #expect(names.stderr.contains("2 parent names"))
        #expect(dir.files.isEmpty)
    }
}

import ACOL
import Foundation
@testable import ACOLHDF5
import Testing

extension HDF5Tests {
    @Suite struct ModelFileTests {
        @Test func roundTripIsBitForBit() throws {
            let dir = TempDir()
            let model = try makeModel()
            let images = makeImages(count: 20)
            let before = model.logits(images).data
            let path = dir.file("model.h5")
            try ModelFile.save(model, to: path)
            #expect(dir.contents() == ["model.h5"])
            let loaded = try ModelFile.load(path)
            let after = loaded.logits(images).data
            #expect(before.count == 20 * 6)
            #expect(before.map(\.bitPattern) == after.map(\.bitPattern))
            #expect(loaded.network.spec == model.network.spec)
            #expect(loaded.network.stateTensors() == model.network.stateTensors())
            #expect(dir.openObjects().isEmpty)
        }

        @Test func roundTripKeepsMetadata() throws {
            let dir = TempDir()
            let model = try makeModel()
            let path = dir.file("model.h5")
            try ModelFile.save(model, to: path, creator: "acol 9.9.9")
            let loaded = try ModelFile.load(path)
            #expect(loaded.gar == model.gar)
            #expect(loaded.preprocessing == model.preprocessing)
            #expect(loaded.parentNames == model.parentNames)
            #expect(loaded.fineNames == model.fineNames)
            #expect(loaded.clusters == model.clusters)
            #expect(loaded.settings == model.settings)
            #expect(loaded.history == model.history)
            let s = try ModelFile.summary(path)
            #expect(s.creator == "acol 9.9.9")
            #expect(s.formatVersion == 1)
            #expect(s.created.hasSuffix("Z") && s.created.count == 20)
            #expect(s.tensors.map(\.name) == model.network.stateTensors().map(\.name))
            #expect(s.tensors.map(\.shape) == model.network.stateTensors().map(\.shape))
            #expect(try HDF5Inspector.classify(path) == .model(version: 1))
            #expect(dir.openObjects().isEmpty)
        }

        /// The head's BatchNorm epsilon is stored in the architecture and used after loading;
        /// a file that does not give one (every file before it was stored) means 1e-3.
        @Test func headNormEpsilonIsStoredAndUsed() throws {
            let dir = TempDir()
            let model = try makeModel()
            #expect(model.head.batchNormEpsilon == nil && model.head.normEpsilon == 1e-3)
            var spec = model.network.spec
            spec.head.batchNormEpsilon = 1e-5
            let small = try Network(spec: spec, seed: 7)
            try small.loadState(model.network.stateTensors())
            // Running variances of 1e-4: 1e-3 and 1e-5 give visibly different Z.
            try small.loadState(small.stateTensors().map { t in
                t.name == "head/batch_norm/running_var" ? NamedTensor(name: t.name, shape: t.shape, values: t.values.map { _ in 1e-4 }) : t
            })
            let reference = try Network(spec: model.network.spec, seed: 7)
            try reference.loadState(small.stateTensors())
            let images = makeImages(count: 10)
            let m5 = ACOLModel(network: small, gar: .reference, preprocessing: model.preprocessing)
            let m3 = ACOLModel(network: reference, gar: .reference, preprocessing: model.preprocessing)
            let z5 = m5.logits(images).data, z3 = m3.logits(images).data
            #expect(zip(z5, z3).map { abs($0 - $1) }.max()! > 0.1, "the epsilon changes Z")
            let path = dir.file("eps.h5")
            try ModelFile.save(m5, to: path)
            let loaded = try ModelFile.load(path)
            #expect(loaded.head.batchNormEpsilon == 1e-5)
            #expect(loaded.network.headNorm?.spec.epsilon == 1e-5)
            #expect(loaded.logits(images).data.map(\.bitPattern) == z5.map(\.bitPattern))
            let old = dir.file("old.h5")
            try ModelFile.save(m3, to: old)
            #expect(try ModelFile.load(old).logits(images).data.map(\.bitPattern) == z3.map(\.bitPattern))
        }

        @Test func minimalModelWithoutSettingsOrHistory() throws {
            let dir = TempDir()
            let model = try makeModel(withMetadata: false)
            let path = dir.file("m.h5")
            try ModelFile.save(model, to: path)
            let loaded = try ModelFile.load(path)
            #expect(loaded.settings == nil)
            #expect(loaded.history.isEmpty)
            #expect(loaded.clusters.isEmpty)
            #expect(loaded.fineNames.isEmpty)
            #expect(loaded.parentNames == ["parent 0", "parent 1"])
        }

        @Test func saveReplacesAnExistingFileAndLeavesNoTemporary() throws {
            let dir = TempDir()
            let path = dir.file("model.h5")
            try ModelFile.save(try makeModel(seed: 1), to: path)
            try ModelFile.save(try makeModel(seed: 2), to: path)
            #expect(dir.contents() == ["model.h5"])
            let loaded = try ModelFile.load(path)
            #expect(loaded.network.stateTensors() == (try makeModel(seed: 2)).network.stateTensors())
        }

        @Test func failedSaveLeavesNoFileAndExistingTargetUntouched() throws {
            let dir = TempDir()
            // The target's folder does not exist: nothing may appear anywhere.
            let missing = dir.file("no-such-folder/model.h5")
            let e = #expect(throws: DataError.self) { try ModelFile.save(try makeModel(), to: missing) }
            #expect(e?.errorDescription?.contains("no-such-folder") == true)
            #expect(dir.contents().isEmpty)

            // A target that is a folder is refused before anything is written, and touches
            // nothing else. (DatasetWriter's tests cover a failure over an existing target file.)
            let path = dir.file("model.h5")
            try ModelFile.save(try makeModel(seed: 1), to: path)
            let old = try Data(contentsOf: URL(fileURLWithPath: path))
            let folderTarget = dir.file("taken")
            try FileManager.default.createDirectory(atPath: folderTarget + "/inside", withIntermediateDirectories: true)
            let e2 = #expect(throws: DataError.self) { try ModelFile.save(try makeModel(seed: 2), to: folderTarget) }
            #expect(e2?.errorDescription?.contains("a folder, not a regular file") == true)
            // The model is one of its inputs: refused, the file stays as it was.
            #expect(throws: DataError.self) { try ModelFile.save(try makeModel(seed: 2), to: path, inputs: [path]) }
            #expect(dir.contents() == ["model.h5", "taken"])
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == old)
            #expect(dir.openObjects().isEmpty)
        }

        @Test func h5pyFixtureLoadsAndMatchesNumpyLogits() throws {
            let ref = Fixture.reference["model"] as! [String: Any]
            let model = try ModelFile.load(Fixture.path("model-h5py.h5"))
            let pixels = (ref["images"] as! [Int]).map { UInt8($0) }
            let images = ImageSet(count: ref["count"] as! Int, height: 8, width: 8, channels: 1, pixels: pixels)
            let expected = (ref["logits"] as! [Double]).map { Float($0) }
            let got = model.logits(images).data
            #expect(got.count == expected.count)
            for (g, e) in zip(got, expected) { #expect(abs(g - e) <= 1e-4 * max(1, abs(e)), "\(g) vs \(e)") }
            #expect(model.parentNames == ["small", "large"])
            #expect(model.fineNames.count == 6)
            #expect(model.clusters[1].fineLabel == nil && model.clusters[1].fineName == nil)
            #expect(model.clusters[2].fineName == "two")
            #expect(model.gar == GARConfig(scope: .perParent, symmetric: true, cA: 0.5, cB: 2, cF: 1e-6, frobenius: .mean, epsilon: 1e-7))
            #expect(model.preprocessing.offset == -0.5)
            #expect(model.settings?.optimizer.kind == .adam)
            #expect(model.settings?.seed == 42)
            #expect(model.settings?.heads == 1)   // no 'heads' attribute: one head
            #expect(model.history.count == 2)
            #expect(model.history[0].purity == nil && model.history[1].purity == 0.5)
            #expect(model.history[0].clustersUsed == nil && model.history[1].clustersUsed == 5)
        }
    }
}

@Suite struct DigestTests {
    @Test func sha256MatchesTheStandardVectors() throws {
        var d = SHA256Digest()
        #expect(d.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        var e = SHA256Digest()
        e.update(Data("abc".utf8))
        #expect(e.hex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // Fed in pieces across a block boundary.
        let text = Data(String(repeating: "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", count: 3).utf8)
        var f = SHA256Digest(), g = SHA256Digest()
        f.update(text)
        g.update(text.prefix(61)); g.update(text.dropFirst(61))
        #expect(f.hex() == g.hex())
    }
}

@Suite struct FileDigestTests {
    @Test func theChecksumPassGivesTheFilesSHA256() throws {
        let dir = TempDir()
        let path = dir.file("m.h5")
        try ModelFile.save(try makeModel(), to: path)
        _ = try ModelFile.load(path)                      // verifies the checksum, remembers the digest
        let direct = try SHA256Digest.hex(ofFile: path)
        #expect(try FileDigest.sha256(ofFile: path) == direct)
        // A changed file is read again, not served from memory.
        try ModelFile.save(try makeModel(seed: 9), to: path)
        #expect(try FileDigest.sha256(ofFile: path) == (try SHA256Digest.hex(ofFile: path)))
        #expect(try FileDigest.sha256(ofFile: path) != direct)
    }
}

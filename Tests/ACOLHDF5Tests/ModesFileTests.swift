import ACOL
import Foundation
@testable import ACOLHDF5
import Testing

/// The model file of the two other modes: an unsupervised model's k-means centroids
/// (/feature_clusters) and settings, a semi-supervised model's classes; written, read back the
/// same, and refused with a clear message when crafted wrong.
extension HDF5Tests {
    @Suite struct ModesFileTests {
        /// makeModel's network (F has 16 features, 2 parents) as an unsupervised model of 4 clusters.
        static func unsupervisedModel() throws -> ACOLModel {
            let m = try makeModel()
            m.featureClusters = KMeans(centroids: (0..<(4 * 16)).map { Float($0 % 7) - 3 }, k: 4, dimension: 16, inertia: 12.5)
            m.parentNames = ["rot0", "rot180"]
            m.clusters = (0..<4).map { ClusterInfo(node: $0, parent: 0, duplicate: $0, count: 3, fineLabel: $0, fineName: "fine \($0) é", majorityCount: 2, share: 2.0 / 3) }
            m.settings?.pseudoParents = PseudoParentConfig(transforms: [PseudoTransform(quarterTurns: 0, flip: false), PseudoTransform(quarterTurns: 2, flip: false)], clusters: 4, restarts: 3)
            return m
        }

        @Test func unsupervisedRoundTrip() throws {
            let dir = TempDir()
            let m = try Self.unsupervisedModel()
            let path = dir.file("u.h5")
            try ModelFile.save(m, to: path)
            let back = try ModelFile.load(path)
            #expect(back.featureClusters?.centroids == m.featureClusters?.centroids)
            #expect(back.featureClusters?.k == 4 && back.featureClusters?.dimension == 16 && back.featureClusters?.inertia == 12.5)
            #expect(back.settings?.pseudoParents == m.settings?.pseudoParents)
            #expect(back.clusters == m.clusters)
            let images = makeImages(count: 20)
            #expect(back.predict(images) == m.predict(images))
            #expect(back.predict(images).allSatisfy { (0..<4).contains($0.cluster) && $0.parent == 0 })
            #expect(try ModelFile.summary(path).featureClusters?.k == 4)
            #expect(dir.openObjects().isEmpty)
        }

        @Test func semiSupervisedRoundTrip() throws {
            let dir = TempDir()
            let spec = NetworkSpec(inputShape: [8, 8, 1], layers: [.flatten, .dense(8), .relu], head: ACOLHeadSpec(parents: 1, k: 3))
            let m = ACOLModel(network: try Network(spec: spec, seed: 3), gar: Recipe.semiSupervised.gar,
                              preprocessing: Preprocessing(height: 8, width: 8, channels: 1),
                              settings: TrainingSettings(optimizer: .sgdReference, batchSize: 128, epochs: 1, seed: 1, heads: 3,
                                                         semiSupervised: SemiSupervisedConfig(labelled: 30, classes: [2, 5, 7], pretrainSteps: 10)))
            let path = dir.file("s.h5")
            try ModelFile.save(m, to: path)
            #expect(try ModelFile.load(path).settings == m.settings)
            // Classes that do not fit the head are refused.
            let bad = try craftedModel(dir, "bad-semi.h5") { f in
                try closing(f.openGroup("training")) { g in
                    try g.setAttribute("semi_supervised", string: #"{"labelled":3,"classes":[1,2],"pretrainSteps":1,"pretrainBatch":16,"labelledPerBatch":16,"labelledWeight":1}"#)
                }
            }
            #expect(hdf5Message { _ = try ModelFile.load(bad) }.contains("/training attribute 'semi_supervised': expected one parent and one class per node (6), found n_p = 2 and 2 classes"))
        }

        /// The k-means start is kept in /training@kmeans_start (JSON); files without it had none;
        /// crafted values out of range or that do not decode are refused, naming the attribute.
        @Test func kmeansStartRoundTrip() throws {
            let dir = TempDir()
            let spec = NetworkSpec(inputShape: [8, 8, 1], layers: [.flatten, .dense(8), .relu], head: ACOLHeadSpec(parents: 2, k: 3))
            var settings = TrainingSettings(optimizer: .sgdReference, batchSize: 128, epochs: 3, seed: 1)
            settings.kmeansStart = KMeansStart(steps: 300, weight: 0.5, maxFitImages: 1_000, parents: [1])
            let m = ACOLModel(network: try Network(spec: spec, seed: 3), gar: GARConfig(),
                              preprocessing: Preprocessing(height: 8, width: 8, channels: 1), settings: settings)
            let path = dir.file("k.h5")
            try ModelFile.save(m, to: path)
            #expect(try ModelFile.load(path).settings?.kmeansStart == KMeansStart(steps: 300, weight: 0.5, maxFitImages: 1_000, parents: [1]))
            settings.kmeansStart?.trainsBody = true
            try ModelFile.save(ACOLModel(network: try Network(spec: spec, seed: 3), gar: GARConfig(),
                                         preprocessing: Preprocessing(height: 8, width: 8, channels: 1), settings: settings), to: path)
            #expect(try ModelFile.load(path).settings?.kmeansStart?.trainsBody == true)
            // A record written before trainsBody existed: the term had trained the body.
            let old = try craftedModel(dir, "old.h5") { f in
                try closing(f.openGroup("training")) { try $0.setAttribute("kmeans_start", string: #"{"steps":5,"weight":1,"maxFitImages":20000}"#) }
            }
            #expect(try ModelFile.load(old).settings?.kmeansStart == KMeansStart(steps: 5, trainsBody: true))
            let without = try craftedModel(dir, "none.h5") { _ in }
            #expect(try ModelFile.load(without).settings != nil && ModelFile.load(without).settings?.kmeansStart == nil)
            let zero = try craftedModel(dir, "zero.h5") { f in
                try closing(f.openGroup("training")) { try $0.setAttribute("kmeans_start", string: #"{"steps":0,"weight":1,"maxFitImages":20000}"#) }
            }
            #expect(hdf5Message { _ = try ModelFile.load(zero) }.contains("/training attribute 'kmeans_start': expected steps >= 1, a finite weight > 0, maxFitImages >= 1 and different parents 0..<2 (or none), found 0 steps"))
            let parent = try craftedModel(dir, "parent.h5") { f in
                try closing(f.openGroup("training")) { try $0.setAttribute("kmeans_start", string: #"{"steps":5,"weight":1,"maxFitImages":20000,"parents":[2]}"#) }
            }
            #expect(hdf5Message { _ = try ModelFile.load(parent) }.contains("parents [2]"))
            let text = try craftedModel(dir, "text.h5") { f in
                try closing(f.openGroup("training")) { try $0.setAttribute("kmeans_start", string: "{steps") }
            }
            #expect(hdf5Message { _ = try ModelFile.load(text) }.contains("/training attribute 'kmeans_start'"))
            #expect(dir.openObjects().isEmpty)
        }

        /// Centroids of the wrong shape, with NaN, an absurd k, or settings that do not decode.
        @Test func craftedCentroidsAreRefused() throws {
            let dir = TempDir()
            let good = dir.file("u.h5")
            try ModelFile.save(try Self.unsupervisedModel(), to: good)
            func crafted(_ name: String, _ edit: (H5ID) throws -> Void) throws -> String {
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
            let shape = try crafted("shape.h5") { f in
                try f.deleteLink("feature_clusters/centroids")
                try f.writeDataset("feature_clusters/centroids", [Float](repeating: 0, count: 4 * 15), shape: [4, 15])
            }
            #expect(hdf5Message { _ = try ModelFile.load(shape) } == "\(shape): /feature_clusters/centroids: expected shape [4, 16] (k, dimension), found [4, 15]")
            let nan = try crafted("nan.h5") { f in
                try f.deleteLink("feature_clusters/centroids")
                try f.writeDataset("feature_clusters/centroids", [Float](repeating: .nan, count: 64), shape: [4, 16])
            }
            #expect(hdf5Message { _ = try ModelFile.load(nan) }.contains("expected finite values, found NaN or infinity"))
            let k = try crafted("k.h5") { f in
                try closing(f.openGroup("feature_clusters")) { try $0.setAttribute("k", Int64(1) << 40) }
            }
            #expect(hdf5Message { _ = try ModelFile.summary(k) }.contains("/feature_clusters: expected k in 1...4000 and dimension 16"))
            let dim = try crafted("dim.h5") { f in
                try closing(f.openGroup("feature_clusters")) { try $0.setAttribute("dimension", Int64(17)) }
            }
            #expect(hdf5Message { _ = try ModelFile.load(dim) }.contains("found k = 4, dimension = 17"))
            let json = try crafted("json.h5") { f in
                try closing(f.openGroup("training")) { try $0.setAttribute("unsupervised", string: "{not json") }
            }
            #expect(hdf5Message { _ = try ModelFile.load(json) }.contains("/training attribute 'unsupervised': expected the JSON of the unsupervised settings"))
            let transforms = try crafted("transforms.h5") { f in
                try closing(f.openGroup("training")) { try $0.setAttribute("unsupervised", string: #"{"transforms":[{"quarterTurns":9,"flip":false},{"quarterTurns":0,"flip":true}],"clusters":4,"restarts":1}"#) }
            }
            #expect(hdf5Message { _ = try ModelFile.load(transforms) }.contains("expected 2 transforms (n_p) of 0-3 quarter turns"))
            let projection = try crafted("projection.h5") { f in
                try closing(f.openGroup("training")) { try $0.setAttribute("unsupervised", string: #"{"transforms":[{"quarterTurns":0,"flip":false},{"quarterTurns":2,"flip":false}],"clusters":4,"restarts":1,"projection":0}"#) }
            }
            #expect(hdf5Message { _ = try ModelFile.load(projection) }.contains("projection 0"))
            // Files written before the projection existed have none: their restarts ran on the full F.
            let old = try crafted("old.h5") { f in
                try closing(f.openGroup("training")) { try $0.setAttribute("unsupervised", string: #"{"transforms":[{"quarterTurns":0,"flip":false},{"quarterTurns":2,"flip":false}],"clusters":4,"restarts":4}"#) }
            }
            let back = try ModelFile.load(old)
            #expect(back.settings?.pseudoParents?.restarts == 4 && back.settings?.pseudoParents?.projection == nil)
            // The heads trained side by side: 1 to 64.
            let heads = try crafted("heads.h5") { f in
                try closing(f.openGroup("training")) { try $0.setAttribute("heads", Int64(0)) }
            }
            #expect(hdf5Message { _ = try ModelFile.load(heads) }.contains("/training attribute 'heads': expected 1 to 64 heads, found 0"))
            let many = try crafted("heads65.h5") { f in
                try closing(f.openGroup("training")) { try $0.setAttribute("heads", Int64(65)) }
            }
            #expect(hdf5Message { _ = try ModelFile.load(many) }.contains("/training attribute 'heads': expected 1 to 64 heads, found 65"))
            #expect(dir.openObjects().isEmpty)
        }
    }
}

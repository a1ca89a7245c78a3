import Foundation
import Testing
import ACOL
import ACOLHDF5

/// The library example of README.md, as written there (one epoch, a small network), on the
/// data set converted from the committed MNIST fixture.
@Suite struct ReadmeExampleTests {
    @Test func libraryExampleRuns() throws {
        let f = SharedFixture.shared
        try #require(f.setupError == nil, "\(f.setupError ?? "")")
        let out = try TempDir()

        let data = try DatasetReader(path: f.data)
        let train = try data.read(split: "train"), test = try data.read(split: "test")
        let spec = NetworkSpec(inputShape: [28, 28, 1],
                               layers: [.conv2d(8), .relu, .maxPool2d(2), .flatten, .dense(64), .relu, .dropout(0.5)],
                               head: ACOLHeadSpec(parents: 2, k: 5))
        let model = ACOLModel(network: try Network(spec: spec, seed: 1), gar: GARConfig(),
                              preprocessing: Preprocessing(height: 28, width: 28, channels: 1))
        let trainer = Trainer(model: model, config: TrainConfig(epochs: 1))
        var seen: [Int] = []
        try trainer.fit(train: train.subset(Array(0..<600)), test: test, fineNames: data.description.labels.fineNames) { record in
            seen.append(record.epoch)
        }
        #expect(seen == [1])
        try ModelFile.save(model, to: out.path("model.h5"))
        let predictions = model.predict(test)
        #expect(predictions.count == test.count)
        let reloaded = try ModelFile.load(out.path("model.h5"))
        #expect(reloaded.predict(test) == predictions)
    }
}

import ACOL
import Foundation
@testable import ACOLHDF5
import Testing

// Issue 9, item 4: architecture, preprocessing and weights must agree, checked at load.
extension HDF5Tests {
    @Suite struct CrossCheckTests {
        @Test func preprocessingMustMatchTheArchitecture() throws {
            let dir = TempDir()
            func preprocessing(_ name: String, _ h: Int64, _ w: Int64, _ c: Int64) throws -> String {
                try craftedModel(dir, name) { f in
                    try closing(f.openGroup("preprocessing")) { g in
                        try g.setAttribute("height", h); try g.setAttribute("width", w); try g.setAttribute("channels", c)
                    }
                }
            }
            let size = try preprocessing("size.h5", 28, 28, 1)
            for m in [hdf5Message { _ = try ModelFile.load(size) }, hdf5Message { _ = try ModelFile.summary(size) }] {
                #expect(m == "\(size): /preprocessing: expected height, width, channels [8, 8, 1] (the architecture's input shape), found [28, 28, 1]")
            }
            let channels = try preprocessing("channels.h5", 8, 8, 3)
            #expect(hdf5Message { _ = try ModelFile.load(channels) }.contains("found [8, 8, 3]"))

            // The other direction: an architecture for 14 x 14 (its weights resized to match) with
            // preprocessing for 8 x 8.
            let arch = try craftedModel(dir, "arch.h5") { f in
                try f.setAttribute("architecture", string: architectureJSON(inputShape: "[14,14,1]"))
                try f.deleteLink("weights/layers/04_dense/kernel")
                try f.writeDataset("weights/layers/04_dense/kernel", [Float](repeating: 0, count: 7 * 7 * 4 * 16), shape: [7 * 7 * 4, 16])
            }
            #expect(hdf5Message { _ = try ModelFile.load(arch) }.contains("expected height, width, channels [14, 14, 1] (the architecture's input shape), found [8, 8, 1]"))

            let scale = try craftedModel(dir, "scale.h5") { f in
                try closing(f.openGroup("preprocessing")) { try $0.setAttribute("scale", Float.nan) }
            }
            #expect(hdf5Message { _ = try ModelFile.load(scale) }.contains("expected a finite scale and offset, found scale nan"))
            #expect(dir.openObjects().isEmpty)
        }

        @Test func weightsMustMatchTheLayers() throws {
            let dir = TempDir()
            // A 14 x 14 architecture whose dense kernel is still the 8 x 8 one: refused on the shape.
            let stale = try craftedModel(dir, "stale.h5") { f in
                try f.setAttribute("architecture", string: architectureJSON(inputShape: "[14,14,1]"))
                try closing(f.openGroup("preprocessing")) { g in
                    try g.setAttribute("height", Int64(14)); try g.setAttribute("width", Int64(14))
                }
            }
            #expect(hdf5Message { _ = try ModelFile.load(stale) } == "\(stale): /weights/layers/04_dense/kernel: expected shape [196, 16] (from the architecture), found [64, 16]")
            // A conv kernel with other channels.
            let conv = try craftedModel(dir, "conv.h5") { f in
                try f.deleteLink("weights/layers/00_conv2d/kernel")
                try f.writeDataset("weights/layers/00_conv2d/kernel", [Float](repeating: 0, count: 3 * 3 * 3 * 4), shape: [3, 3, 3, 4])
            }
            #expect(hdf5Message { _ = try ModelFile.load(conv) } == "\(conv): /weights/layers/00_conv2d/kernel: expected shape [3, 3, 1, 4] (from the architecture), found [3, 3, 3, 4]")
            // A consistent edit loads, and evaluates without trouble.
            let ok = try craftedModel(dir, "ok.h5") { _ in }
            let m = try ModelFile.load(ok)
            #expect(m.logits(makeImages(count: 2)).data.count == 2 * 6)
        }
    }
}

extension HDF5Tests.CrossCheckTests {
    /// A big architecture (within the limits) whose weights are missing or small is refused from
    /// the shapes alone, before the network (10^8 values) is built.
    @Test func bigArchitectureWithoutItsWeightsIsRefusedQuickly() throws {
        let dir = TempDir()
        let p = try craftedModel(dir, "big.h5") { f in
            try f.setAttribute("architecture", string: architectureJSON(layers: #"[{"type":"flatten"},{"type":"dense","units":65536},{"type":"dense","units":2000}]"#))
        }
        let started = Date()
        #expect(hdf5Message { _ = try ModelFile.load(p) } == "\(p): /weights/layers/01_dense/kernel: expected a float32 dataset of shape [64, 65536] (the architecture has it), found nothing")
        // Every weight declared with its shape but never written (sparse): implausible for the file size.
        let sparse = try craftedModel(dir, "sparse.h5") { f in
            try f.setAttribute("architecture", string: architectureJSON(layers: #"[{"type":"flatten"},{"type":"dense","units":65536},{"type":"dense","units":2000}]"#))
            try f.deleteLink("weights")
            let spec = NetworkSpec(inputShape: [8, 8, 1], layers: [.flatten, .dense(65536), .dense(2000)], head: ACOLHeadSpec(parents: 2, k: 3))
            for t in try spec.stateShapes() {
                try f.createDataset("weights/" + t.name, of: Float.self, shape: t.shape, chunk: t.shape.map { min($0, 64) }).close()
            }
        }
        let values = 64 * 65536 + 65536 + 65536 * 2000 + 2000 + 4 * 2000 + 2000 * 6 + 6
        #expect(hdf5Message { _ = try ModelFile.load(sparse) }.contains("/weights: declares \(values) weight values (\(4 * values) bytes), more than a file of"))
        #expect(Date().timeIntervalSince(started) < 5)
    }
}

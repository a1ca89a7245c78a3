/// Describes a data set as an importer produces it: image shape, label names, where it came from.
public struct DatasetDescription: Equatable, Sendable {
    public var height: Int
    public var width: Int
    public var channels: Int
    /// Fine-class names, parent names and the parent of each fine class (empty arrays when unknown).
    public var labels: LabelInfo
    /// Free text: the format and the input files, e.g. "idx: train-images-idx3-ubyte.gz, ...".
    public var source: String
    /// The shard of a sharded conversion this file holds (`acol convert --shard I/N`), nil for a
    /// whole data set: `acol merge` checks that it joins shards 1...N of one N, each once, in order.
    public var shard: Shard?

    public init(height: Int, width: Int, channels: Int, labels: LabelInfo, source: String, shard: Shard? = nil) {
        self.height = height; self.width = width; self.channels = channels; self.labels = labels; self.source = source
        self.shard = shard
    }
}

/// Where importers stream images to: the HDF5 data-set writer, or memory in tests.
/// Call order: begin, then for each split beginSplit, append..., endSplit.
public protocol ImageSink: AnyObject {
    func begin(_ description: DatasetDescription) throws
    /// Starts a split ("train", "test", ...). `expectedCount` is a hint (nil when unknown).
    func beginSplit(_ name: String, expectedCount: Int?) throws
    /// Adds images (with their labels, when known) to the current split.
    func append(_ batch: ImageSet) throws
    func endSplit() throws
    /// Called with every file a conversion will read, before `begin`: a sink that writes a file
    /// throws if that file is one of them.
    func refuseInputs(_ files: [String]) throws
}

extension ImageSink {
    public func refuseInputs(_ files: [String]) throws {}
}

/// An `ImageSink` that keeps everything in memory.
public final class InMemorySink: ImageSink {
    public private(set) var description: DatasetDescription?
    public private(set) var splits: [(name: String, images: ImageSet)] = []
    private var current: (name: String, images: ImageSet)?

    public init() {}

    public func begin(_ description: DatasetDescription) throws { self.description = description }

    public func beginSplit(_ name: String, expectedCount: Int?) throws {
        guard let d = description else { throw DataError.usage("beginSplit before begin") }
        current = (name, ImageSet(count: 0, height: d.height, width: d.width, channels: d.channels, pixels: []))
    }

    public func append(_ batch: ImageSet) throws {
        guard var c = current else { throw DataError.usage("append outside a split") }
        c.images.pixels += batch.pixels
        c.images.count += batch.count
        if let f = batch.fineLabels { c.images.fineLabels = (c.images.fineLabels ?? []) + f }
        if let p = batch.coarseLabels { c.images.coarseLabels = (c.images.coarseLabels ?? []) + p }
        current = c
    }

    public func endSplit() throws {
        if let c = current { splits.append(c) }
        current = nil
    }

    /// The split called `name`.
    public func split(_ name: String) -> ImageSet? { splits.first { $0.name == name }?.images }
}

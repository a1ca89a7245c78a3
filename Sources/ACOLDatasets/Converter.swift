import Foundation
@_exported import ACOLData

/// The input formats the importers read.
public enum DatasetFormat: String, CaseIterable, Sendable {
    /// MNIST-style IDX files (images idx3 u8 + labels idx1), plain or gzip.
    case idx
    /// CIFAR-10 binary batches (1 label byte + 3072 pixel bytes per record).
    case cifar10
    /// CIFAR-100 binary (coarse byte, fine byte, 3072 pixel bytes per record).
    case cifar100
    /// SVHN cropped digits, MATLAB v5 .mat (X 32x32x3xN u8, y Nx1, 10 meaning 0).
    case svhn
    /// Folders of PNG images, one folder per class (optionally inside parent folders).
    case png
}

/// What to convert and how. Every field has a default that reproduces the input as it is.
public struct ConvertOptions: Sendable {
    /// Forces the input format instead of detecting it.
    public var format: DatasetFormat?
    /// Channels of the output (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA); nil: those of the input
    /// (for PNG folders, those of the first image).
    public var channels: Int?
    /// Output size; nil: that of the input (the first image). Other sizes need `resize`.
    public var height: Int?
    public var width: Int?
    /// How images of another size than the target are treated (default: an error).
    public var resize: ResizeMode
    /// Parents for fine labels; replaces the parents a format brings (CIFAR-100, two-level folders).
    public var parents: ParentSpec?
    /// Fine-class names, replacing those of the format or found in the files (count must match).
    public var classNames: [String]?
    /// Skip files that cannot be decoded (PNG folders) with a warning instead of failing.
    public var skipBadFiles: Bool
    /// Images per batch handed to the sink (bounds the memory in use).
    public var batchSize: Int
    /// Puts every input into this one split instead of the detected train/test splits.
    public var split: String?
    /// Converts only this shard of every split (its images in input order): the shards of one
    /// conversion, merged in order (`acol merge`), give the whole data set.
    public var shard: Shard?

    public init(format: DatasetFormat? = nil, channels: Int? = nil, height: Int? = nil, width: Int? = nil,
                resize: ResizeMode = .none, parents: ParentSpec? = nil, classNames: [String]? = nil,
                skipBadFiles: Bool = false, batchSize: Int = 1024, split: String? = nil) {
        self.format = format; self.channels = channels; self.height = height; self.width = width
        self.resize = resize; self.parents = parents; self.classNames = classNames
        self.skipBadFiles = skipBadFiles; self.batchSize = batchSize; self.split = split
    }
}

/// Counts of one converted split.
public struct SplitSummary: Equatable, Sendable {
    public var name: String
    public var count: Int
    /// Images per fine class (empty when there are no labels).
    public var perClass: [Int]
    /// Images per parent (empty when there are no parents).
    public var perParent: [Int]
}

/// What a conversion did.
public struct ConversionSummary: Equatable, Sendable {
    public var format: DatasetFormat
    public var height: Int
    public var width: Int
    public var channels: Int
    public var labels: LabelInfo
    public var splits: [SplitSummary]
    public var elapsedSeconds: Double
    /// Things that did not stop the conversion (skipped files, ignored files).
    public var warnings: [String]
    /// The description's source text (format and input files).
    public var source: String

    public var totalCount: Int { splits.reduce(0) { $0 + $1.count } }
    public func split(_ name: String) -> SplitSummary? { splits.first { $0.name == name } }
}

/// Where a conversion's warnings go while it runs.
final class Warnings {
    var items: [String] = []
    func add(_ s: String) { items.append(s) }
    /// Files skipped while they were decoded (`skipBadFiles`), for warnings that count files.
    var skippedFiles: Set<String> = []
    /// Warnings made when the conversion ends, once the skipped files are known (nil: none).
    var atEnd: [(Set<String>) -> String?] = []
    func finish() {
        items += atEnd.compactMap { $0(skippedFiles) }
        atEnd = []
    }
}

/// What a stream of images is converted to.
struct Target {
    var shape: Shape
    var resize: ResizeMode
    var skipBadFiles: Bool
    var warnings: Warnings
}

/// One input file (or pair of files) that yields images of one split.
protocol ImageSource: AnyObject {
    /// File(s) for messages and the description's source text.
    var name: String { get }
    /// The files it reads.
    var files: [String] { get }
    /// Number of images the headers announce (PNG: files found).
    var expectedCount: Int { get }
    /// Streams the images, converted to `target`, in batches of at most `batchSize` images,
    /// with fine labels (label indices) when the format has them.
    func stream(target: Target, batchSize: Int, body: (ImageSet) throws -> Void) throws
}

/// What reading the headers of the inputs found, before any pixel is read.
struct Plan {
    var format: DatasetFormat
    var shape: Shape
    /// Fine-class names (nil: the images carry no labels).
    var fineNames: [String]?
    /// Parents the format brings (CIFAR-100, two-level folders).
    var parents: (names: [String], parentOfFine: [Int])?
    var splits: [(name: String, sources: [ImageSource])]
    var source: String
    var warnings: [String] = []
}

/// Converts input files and folders into any `ImageSink`.
public enum Converter {
    /// Reads `inputs` (files or folders; their format detected unless `options.format` is set),
    /// checks every header first, then streams the images split by split into `sink`, in
    /// batches of at most `options.batchSize`. `progress(done, total)` is called after each batch.
    /// Nothing is handed to the sink before all headers have been checked.
    @discardableResult
    public static func convert(inputs: [String], options: ConvertOptions = ConvertOptions(), into sink: ImageSink,
                               progress: ((Int, Int?) -> Void)? = nil) throws -> ConversionSummary {
        let start = Date()
        guard !inputs.isEmpty else { throw DatasetError.invalidOption("expected at least one input file or folder, found none") }
        guard options.batchSize >= 1 else { throw DatasetError.invalidOption("batch size must be at least 1, found \(options.batchSize)") }
        if let c = options.channels, !(1...4).contains(c) {
            throw DatasetError.invalidOption("channels must be 1, 2, 3 or 4, found \(c)")
        }
        for (n, v) in [("height", options.height), ("width", options.width)] {
            if let v, !(1...16384).contains(v) { throw DatasetError.invalidOption("\(n) must be 1...16384, found \(v)") }
        }
        if let names = options.classNames, names.isEmpty { throw DatasetError.invalidOption("expected at least one class name, found none") }
        let warnings = Warnings()
        var plan = try makePlan(inputs: inputs, options: options, warnings: warnings)
        warnings.items = plan.warnings + warnings.items

        // Labels: names (possibly replaced), then parents.
        if let names = options.classNames {
            guard let found = plan.fineNames else {
                throw DatasetError.invalidOption("class names given, but the input has no labels")
            }
            guard names.count == found.count else {
                throw DatasetError.invalidOption("expected \(found.count) class names for \(plan.source), found \(names.count)")
            }
            plan.fineNames = names
        }
        let fineNames = plan.fineNames ?? []
        var parentNames: [String] = [], parentOfFine: [Int] = []
        if let spec = options.parents {
            guard plan.fineNames != nil else { throw DatasetError.invalidOption("a parent spec needs fine labels, and the input has none") }
            (parentNames, parentOfFine) = try spec.resolve(fineNames: fineNames)
        } else if let p = plan.parents {
            (parentNames, parentOfFine) = p
        }

        // Splits: forced into one, or as detected.
        if let only = options.split {
            plan.splits = [(only, plan.splits.flatMap { $0.sources })]
        }
        let target = Target(shape: Shape(height: options.height ?? plan.shape.height, width: options.width ?? plan.shape.width,
                                         channels: options.channels ?? plan.shape.channels),
                            resize: options.resize, skipBadFiles: options.skipBadFiles, warnings: warnings)
        if (target.shape.height != plan.shape.height || target.shape.width != plan.shape.width) && options.resize == .none {
            throw DatasetError.invalidOption("the images are \(plan.shape.width)x\(plan.shape.height) (width x height); a size of \(target.shape.width)x\(target.shape.height) needs a resize mode (nearest or bilinear)")
        }
        try ImportLimits.checkTarget(height: target.shape.height, width: target.shape.width, channels: target.shape.channels)
        let batchSize = ImportLimits.batchImages(requested: options.batchSize, imageBytes: [plan.shape.size, target.shape.size])
        let labels = LabelInfo(fineNames: fineNames, parentNames: parentNames, parentOfFine: parentOfFine)
        try sink.refuseInputs(inputs + plan.splits.flatMap { $0.sources.flatMap(\.files) })
        try sink.begin(DatasetDescription(height: target.shape.height, width: target.shape.width,
                                          channels: target.shape.channels, labels: labels, source: plan.source,
                                          shard: options.shard))
        let total = plan.splits.reduce(0) { $0 + $1.sources.reduce(0) { $0 + $1.expectedCount } }
        var done = 0
        var summaries: [SplitSummary] = []
        let mapping = ParentMapping(parentNames: parentNames, parentOfFine: parentOfFine)
        for (name, sources) in plan.splits {
            try sink.beginSplit(name, expectedCount: sources.reduce(0) { $0 + $1.expectedCount })
            var s = SplitSummary(name: name, count: 0, perClass: [Int](repeating: 0, count: fineNames.count),
                                 perParent: [Int](repeating: 0, count: parentNames.count))
            let splitTotal = sources.reduce(0) { $0 + $1.expectedCount }
            let keep = options.shard?.range(of: splitTotal) ?? 0..<splitTotal
            var position = 0
            for source in sources {
                if let png = source as? PNGListSource, options.shard != nil {
                    // Only this shard's files are decoded.
                    let lo = max(keep.lowerBound - position, 0), hi = min(max(keep.upperBound - position, 0), png.items.count)
                    position += png.items.count
                    if lo >= hi { continue }
                    try PNGListSource(items: Array(png.items[lo..<hi]), name: png.name).stream(target: target, batchSize: batchSize) { try add($0) }
                    continue
                }
                try source.stream(target: target, batchSize: batchSize) { whole in
                    let start = position
                    position += whole.count
                    let lo = max(keep.lowerBound - start, 0), hi = min(max(keep.upperBound - start, 0), whole.count)
                    if lo >= hi { return }
                    try add(lo == 0 && hi == whole.count ? whole : whole.subset(Array(lo..<hi)))
                }
            }
            func add(_ b: ImageSet) throws {
                    var batch = b
                    precondition(batch.height == target.shape.height && batch.width == target.shape.width
                                 && batch.channels == target.shape.channels, "importer produced a batch of the wrong shape")
                    if let fine = batch.fineLabels {
                        for l in fine { s.perClass[Int(l)] += 1 }
                        if !parentOfFine.isEmpty {
                            let coarse = try mapping.parents(of: fine, source: plan.source)
                            for p in coarse { s.perParent[Int(p)] += 1 }
                            batch.coarseLabels = coarse
                        }
                    }
                    s.count += batch.count
                    try sink.append(batch)
                    done += batch.count
                    progress?(done, total)
            }
            try sink.endSplit()
            summaries.append(s)
        }
        warnings.finish()
        return ConversionSummary(format: plan.format, height: target.shape.height, width: target.shape.width,
                                 channels: target.shape.channels, labels: labels, splits: summaries,
                                 elapsedSeconds: Date().timeIntervalSince(start), warnings: warnings.items,
                                 source: plan.source)
    }

    /// Detects the format of one input file or folder (nil when it is not recognised).
    public static func detectFormat(_ path: String) throws -> DatasetFormat? {
        try Detect.format(of: path)
    }
}

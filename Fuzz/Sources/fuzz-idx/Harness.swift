import ACOLDatasets
import FuzzSupport

// The IDX reader (plain and gzip, detected by the magic bytes 1f 8b). The input is an image
// file; when it contains the line "\nLABELS\n", the bytes after it are a label file.
let marker = Array("\nLABELS\n".utf8)

@_cdecl("fuzz_idx_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    Fuzz.each(argc, argv) { data, size in
        let bytes = Array(UnsafeBufferPointer(start: data, count: size))
        var images = bytes[...], labels: ArraySlice<UInt8>?
        if size >= marker.count, let i = (0...(size - marker.count)).first(where: { bytes[$0..<($0 + marker.count)].elementsEqual(marker) }) {
            images = bytes[..<i]; labels = bytes[(i + marker.count)...]
        }
        Fuzz.clear()
        var inputs = [Fuzz.file("train-images-idx3-ubyte", Array(images))]
        if let labels { inputs.append(Fuzz.file("train-labels-idx1-ubyte", Array(labels))) }
        let channels: [Int?] = [nil, 1, 3, 4]
        Fuzz.convert(inputs, ConvertOptions(format: .idx, channels: channels[size % 4], batchSize: 1 + size % 5))
    }
}

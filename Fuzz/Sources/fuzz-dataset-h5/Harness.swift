import ACOLHDF5
import FuzzSupport

// The data-set file reader (ACOLHDF5.DatasetReader): header, splits, then up to 64 images of
// each split. libhdf5 itself is not instrumented; its crashes on damaged files are issue 9 item 6.
@_cdecl("fuzz_dataset_h5_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    Fuzz.each(argc, argv) { data, size in
        let path = Fuzz.file("dataset.h5", UnsafeRawBufferPointer(start: data, count: size))
        guard let r = try? DatasetReader(path: path) else { return }
        for s in r.splits {
            if let set = try? r.read(split: s.name, range: 0..<min(s.count, 64)) {
                precondition(set.pixels.count == set.count * set.height * set.width * set.channels, "image set of the wrong size")
            }
        }
    }
}

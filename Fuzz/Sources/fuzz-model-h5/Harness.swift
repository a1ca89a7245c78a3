import ACOLHDF5
import FuzzSupport

// The model file reader (ACOLHDF5.ModelFile): summary, then load. libhdf5 itself is not
// instrumented; its crashes on damaged files are issue 9 item 6.
@_cdecl("fuzz_model_h5_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    Fuzz.each(argc, argv) { data, size in
        let path = Fuzz.file("model.h5", UnsafeRawBufferPointer(start: data, count: size))
        _ = try? ModelFile.summary(path)
        _ = try? ModelFile.load(path)
    }
}

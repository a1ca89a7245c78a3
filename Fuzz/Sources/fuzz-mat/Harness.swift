import ACOLDatasets
import FuzzSupport

// The MATLAB v5 .mat parser and the SVHN reader (X H x W x C x N uint8, y N x 1).
@_cdecl("fuzz_mat_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    Fuzz.each(argc, argv) { data, size in
        let path = Fuzz.file("train_32x32.mat", UnsafeRawBufferPointer(start: data, count: size))
        let channels: [Int?] = [nil, 1, 3, 4]
        Fuzz.convert([path], ConvertOptions(format: .svhn, channels: channels[size % 4], batchSize: 1 + size % 5))
    }
}

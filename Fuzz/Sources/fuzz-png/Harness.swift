import ACOLDatasets
import FuzzSupport

// The PNG decoder (header checks, libpng's simplified API, palette-index check, channel
// conversion) and the header-only `info`.
@_cdecl("fuzz_png_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    Fuzz.each(argc, argv) { data, size in
        let path = Fuzz.file("image.png", UnsafeRawBufferPointer(start: data, count: size))
        let channels: [Int?] = [nil, 1, 2, 3, 4]
        if let img = try? PNGDecoder.decode(path: path, channels: channels[size % 5]) {
            precondition(img.pixels.count == img.height * img.width * img.channels, "decoded pixel count")
        }
        _ = try? PNGDecoder.info(path: path)
    }
}

import ACOLDatasets
import FuzzSupport

// The mapping-file parser (`<fine class>: <parent>` lines) and its resolution.
let names10 = ClassNames.fashionMNIST, names3 = ["a", "b", "c"]

@_cdecl("fuzz_mapping_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    Fuzz.each(argc, argv) { data, size in
        let path = Fuzz.file("mapping.txt", UnsafeRawBufferPointer(start: data, count: size))
        guard let spec = try? ParentSpec.load(mappingFile: path) else { return }
        for names in [names10, names3] {
            if let r = try? spec.resolve(fineNames: names) {
                precondition(r.parentOfFine.count == names.count && r.parentOfFine.allSatisfy { $0 >= 0 && $0 < r.parentNames.count },
                             "resolved parents out of range")
            }
        }
    }
}

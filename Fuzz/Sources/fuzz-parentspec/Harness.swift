import ACOLDatasets
import FuzzSupport

// The parent-spec text parser (`0-4,5-9`, `div:2`, `0+2:tops,...`) and its resolution against
// 10, 3 and 100 fine classes.
let names10 = ClassNames.digits, names3 = ["a", "b", "c"], names100 = ClassNames.cifar100Fine

@_cdecl("fuzz_parentspec_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    Fuzz.each(argc, argv) { data, size in
        let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
        guard let spec = try? ParentSpec.parse(text) else { return }
        for names in [names10, names3, names100] {
            if let r = try? spec.resolve(fineNames: names) {
                precondition(r.parentOfFine.count == names.count && r.parentOfFine.allSatisfy { $0 >= 0 && $0 < r.parentNames.count },
                             "resolved parents out of range")
            }
        }
        _ = spec.text
    }
}

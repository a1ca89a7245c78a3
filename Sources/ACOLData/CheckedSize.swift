import Foundation

/// Sizes computed from numbers read in files or options, with overflow checked: nil for a
/// negative factor or a result past Int.max. Used before anything is allocated (the importers'
/// and the model readers' limits).
public enum CheckedSize {
    public static func product(_ values: [Int]) -> Int? {
        var p = 1
        for v in values {
            guard v >= 0 else { return nil }
            let (r, overflow) = p.multipliedReportingOverflow(by: v)
            if overflow { return nil }
            p = r
        }
        return p
    }

    public static func sum(_ values: [Int]) -> Int? {
        var s = 0
        for v in values {
            guard v >= 0 else { return nil }
            let (r, overflow) = s.addingReportingOverflow(v)
            if overflow { return nil }
            s = r
        }
        return s
    }
}

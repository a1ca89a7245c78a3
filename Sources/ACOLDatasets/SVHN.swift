import Foundation
import ACOL

enum SVHN {
    static func plan(_ files: [(path: String, split: String)], options: ConvertOptions) throws -> Plan {
        throw DatasetError.unsupported(path: files[0].path, expected: "", found: "not yet")
    }
}

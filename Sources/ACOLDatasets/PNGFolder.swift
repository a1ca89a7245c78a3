import Foundation
import ACOL

enum PNGFolder {
    static func looksLikePNGFolder(_ dir: String) throws -> Bool { false }
    static func plan(root: String, options: ConvertOptions, warnings: Warnings) throws -> Plan {
        throw DatasetError.unsupported(path: root, expected: "", found: "not yet")
    }
}

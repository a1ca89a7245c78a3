import Foundation

/// A folder's entries as `readdir` gives them, hidden ones (a leading '.') left out. Foundation's
/// listing leaves out names that are not valid UTF-8 without a word; here they come back apart,
/// shown with their other bytes as \xNN, so that each caller can name them.
struct FolderListing {
    /// The valid names, in `readdir` order.
    var names: [String] = []
    /// Names that are not valid UTF-8 (as shown) and whether each is a folder.
    var invalid: [(shown: String, isFolder: Bool)] = []

    /// nil when the folder cannot be opened (errno says why).
    init?(_ dir: String) {
        guard let d = opendir(dir) else { return nil }
        defer { closedir(d) }
        while let e = readdir(d) {
            let raw = withUnsafeBytes(of: e.pointee.d_name) { b -> [UInt8] in Array(b.prefix { $0 != 0 }) }
            if raw.first == UInt8(ascii: ".") { continue }
            if let name = String(validating: raw, as: UTF8.self) {
                names.append(name)
            } else {
                let shown = raw.map { $0 < 0x80 && $0 >= 0x20 ? String(UnicodeScalar($0)) : String(format: "\\x%02x", $0) }.joined()
                invalid.append((shown, e.pointee.d_type == UInt8(DT_DIR)))
            }
        }
    }
}

import Foundation

/// One epoch of training history.
public struct EpochRecord: Equatable, Sendable {
    public var epoch: Int
    public var loss: Double
    public var parentAccuracy: Double
    public var affinity: Double
    public var balance: Double
    public var purity: Double?
    public var nmi: Double?
    public var hungarianAccuracy: Double?
    public var clustersUsed: Int?
    public var testParentAccuracy: Double?
    public var testPurity: Double?
    public var testNMI: Double?
    public var testHungarianAccuracy: Double?
    /// Semi-supervised training: the share of test images whose node is their class.
    public var testAccuracy: Double?
    /// Training with several heads: the head that became the model's after this epoch (0: the
    /// one that was already; h: the h-th other head, by slot: a promotion swaps the two heads'
    /// slots). The epoch's loss and training figures (parent accuracy, affinity, balance, purity,
    /// NMI, clusters used) are that head's.
    public var head: Int?
    public var seconds: Double

    public init(epoch: Int, loss: Double, parentAccuracy: Double, affinity: Double, balance: Double,
                purity: Double? = nil, nmi: Double? = nil, hungarianAccuracy: Double? = nil,
                clustersUsed: Int? = nil, testParentAccuracy: Double? = nil, testPurity: Double? = nil,
                testNMI: Double? = nil, testHungarianAccuracy: Double? = nil, testAccuracy: Double? = nil, seconds: Double) {
        self.epoch = epoch; self.loss = loss; self.parentAccuracy = parentAccuracy
        self.affinity = affinity; self.balance = balance; self.purity = purity; self.nmi = nmi
        self.hungarianAccuracy = hungarianAccuracy; self.clustersUsed = clustersUsed
        self.testParentAccuracy = testParentAccuracy; self.testPurity = testPurity
        self.testNMI = testNMI; self.testHungarianAccuracy = testHungarianAccuracy; self.seconds = seconds
        self.testAccuracy = testAccuracy
    }
}

/// One field of `EpochRecord` as it is stored: the single definition of the history schema, used
/// by the model file's /history datasets (one per column) and by the JSON form (`--log`,
/// `inspect --json`). Optional values are NaN (reals) or -1 (integers) in the model file and
/// absent in JSON.
public struct EpochColumn: Sendable {
    public enum Kind: Sendable { case integer, real }
    /// The dataset name and JSON key ("test_purity").
    public let name: String
    public let kind: Kind
    /// False for the columns every record has.
    public let optional: Bool
    let get: @Sendable (EpochRecord) -> Double?
    let set: @Sendable (inout EpochRecord, Double?) -> Void

    public func value(_ r: EpochRecord) -> Double? { get(r) }
    public func assign(_ v: Double?, to r: inout EpochRecord) { set(&r, v) }
}

extension EpochRecord {
    private static func int(_ name: String, _ kp: WritableKeyPath<EpochRecord, Int>) -> EpochColumn {
        EpochColumn(name: name, kind: .integer, optional: false, get: { Double($0[keyPath: kp]) },
                    set: { r, v in r[keyPath: kp] = v.flatMap { Int(exactly: $0.rounded()) } ?? 0 })
    }
    private static func optInt(_ name: String, _ kp: WritableKeyPath<EpochRecord, Int?>) -> EpochColumn {
        EpochColumn(name: name, kind: .integer, optional: true, get: { $0[keyPath: kp].map(Double.init) },
                    set: { r, v in r[keyPath: kp] = v.flatMap { Int(exactly: $0.rounded()) } })
    }
    private static func real(_ name: String, _ kp: WritableKeyPath<EpochRecord, Double>) -> EpochColumn {
        EpochColumn(name: name, kind: .real, optional: false, get: { $0[keyPath: kp] },
                    set: { r, v in r[keyPath: kp] = v ?? .nan })
    }
    private static func optReal(_ name: String, _ kp: WritableKeyPath<EpochRecord, Double?>) -> EpochColumn {
        EpochColumn(name: name, kind: .real, optional: true, get: { $0[keyPath: kp] },
                    set: { r, v in r[keyPath: kp] = v })
    }

    /// Every field, in file order.
    public static let columns: [EpochColumn] = [
        int("epoch", \.epoch),
        real("loss", \.loss),
        real("parent_accuracy", \.parentAccuracy),
        real("affinity", \.affinity),
        real("balance", \.balance),
        optReal("purity", \.purity),
        optReal("nmi", \.nmi),
        optReal("hungarian_accuracy", \.hungarianAccuracy),
        optInt("clusters_used", \.clustersUsed),
        optReal("test_parent_accuracy", \.testParentAccuracy),
        optReal("test_purity", \.testPurity),
        optReal("test_nmi", \.testNMI),
        optReal("test_hungarian_accuracy", \.testHungarianAccuracy),
        real("seconds", \.seconds),
        optReal("test_accuracy", \.testAccuracy),
        optInt("head", \.head),
    ]

    /// A record with every field at its empty value (for readers that fill it column by column).
    public static var empty: EpochRecord {
        EpochRecord(epoch: 0, loss: .nan, parentAccuracy: .nan, affinity: .nan, balance: .nan, seconds: .nan)
    }
}

extension EpochRecord: Codable {
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        for col in Self.columns {
            guard let v = col.value(self) else { continue }
            switch col.kind {
            case .integer: try c.encode(Int(v), forKey: Key(stringValue: col.name))
            case .real: try c.encode(v, forKey: Key(stringValue: col.name))
            }
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        var r = EpochRecord.empty
        for col in Self.columns {
            let key = Key(stringValue: col.name)
            let v: Double?
            switch col.kind {
            case .integer: v = col.optional ? try c.decodeIfPresent(Int.self, forKey: key).map(Double.init) : Double(try c.decode(Int.self, forKey: key))
            case .real: v = col.optional ? try c.decodeIfPresent(Double.self, forKey: key) : try c.decode(Double.self, forKey: key)
            }
            col.assign(v, to: &r)
        }
        self = r
    }
}

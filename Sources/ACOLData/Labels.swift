/// Names of the fine classes and parents, and which parent each fine class belongs to.
public struct LabelInfo: Equatable, Sendable {
    public var fineNames: [String]
    public var parentNames: [String]
    /// parentOfFine[f] is the parent index of fine class f (empty when there are no parents).
    public var parentOfFine: [Int]

    public init(fineNames: [String], parentNames: [String], parentOfFine: [Int]) {
        self.fineNames = fineNames; self.parentNames = parentNames; self.parentOfFine = parentOfFine
    }
}

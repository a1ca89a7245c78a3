import Foundation

/// Shard I of N (counted from 1) of an ordered list: the contiguous block
/// [floor((I-1) n / N), floor(I n / N)), so that the N shards are disjoint and their union, in
/// shard order, is the whole list. Used by `acol run --shard` and `acol convert --shard`.
public struct Shard: Equatable, Sendable {
    public var index: Int
    public var count: Int

    public init?(index: Int, count: Int) {
        guard count >= 1, count <= 1_000_000, (1...count).contains(index) else { return nil }
        self.index = index; self.count = count
    }

    /// "I/N".
    public init?(text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else { return nil }
        self.init(index: i, count: n)
    }

    /// The positions of this shard in a list of n items.
    public func range(of n: Int) -> Range<Int> { (n * (index - 1) / count)..<(n * index / count) }

    public func slice<T>(_ items: [T]) -> [T] { Array(items[range(of: items.count)]) }
}

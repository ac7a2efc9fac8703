/// Events waiting to be passed on, one first-in-first-out line per job,
/// taken from in turn: a flood of events for one job neither fills the
/// queue for the others nor makes them wait behind it.
///
/// Bounded: at most `limit` items in all and `perKey` for one key; an item
/// equal to one still waiting is the same item (a burst of writes to a
/// file is one `modify`); beyond the bounds items are counted in `dropped`
/// and forgotten.
public struct FairQueue<Key: Hashable & Sendable, Item: Hashable & Sendable>: Sendable {
    public let limit: Int
    public let perKey: Int
    /// Items refused since the queue was last empty.
    public var dropped = 0

    private var lines: [Key: Line] = [:]
    /// Keys with waiting items, in turn order; `turn` is the next to go.
    private var ring: [Key] = []
    private var turn = 0
    public private(set) var count = 0

    private struct Line: Sendable {
        var items: [Item] = []
        var head = 0
        var waiting: Set<Item> = []
        var isEmpty: Bool { head == items.count }
    }

    public init(limit: Int, perKey: Int) {
        self.limit = limit
        self.perKey = perKey
    }

    public var isEmpty: Bool { count == 0 }

    /// Adds an item to its key's line; false when it was refused (the
    /// same item already waits, or a bound is reached: then it is dropped).
    @discardableResult
    public mutating func push(_ item: Item, for key: Key) -> Bool {
        if lines[key]?.waiting.contains(item) == true { return false }
        let waiting = lines[key].map { $0.items.count - $0.head } ?? 0
        guard count < limit, waiting < perKey else {
            dropped += 1
            return false
        }
        if lines[key] == nil {
            lines[key] = Line()
            ring.append(key)
        }
        // In place: no copy of the line.
        lines[key]!.items.append(item)
        lines[key]!.waiting.insert(item)
        count += 1
        return true
    }

    /// The next item, taking the keys in turn.
    public mutating func pop() -> (key: Key, item: Item)? {
        guard !ring.isEmpty else { return nil }
        if turn >= ring.count { turn = 0 }
        let key = ring[turn]
        let head = lines[key]!.head
        let item = lines[key]!.items[head]
        lines[key]!.head = head + 1
        lines[key]!.waiting.remove(item)
        count -= 1
        if lines[key]!.isEmpty {
            lines[key] = nil
            ring.remove(at: turn)
        } else {
            if head + 1 > 64 && (head + 1) * 2 > lines[key]!.items.count {
                lines[key]!.items.removeFirst(head + 1)
                lines[key]!.head = 0
            }
            turn += 1
        }
        if ring.isEmpty { turn = 0 }
        return (key, item)
    }
}

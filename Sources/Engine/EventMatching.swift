import JobFile

/// A `start on` / `stop on` expression made ready for matching: its event
/// matches in left-to-right order (the leaves) and its operators flattened
/// so that evaluating the tree is a loop, not a recursion.
///
/// The remembered state of an expression (which operands have fired) lives
/// apart from it, in `OperatorState`, so that one compiled expression serves
/// the class and every instance. Immutable and shared by reference: handing
/// it around costs one reference count, not a copy of its arrays.
public final class CompiledExpression: Hashable, Sendable {
    enum Node: Hashable, Sendable {
        case leaf(Int)
        case and(Int, Int)
        case or(Int, Int)
    }
    /// Event matches, left to right: leaf `i` is `matches[i]`.
    let matches: [EventMatch]
    /// Nodes in post-order: children before parents; the root is last.
    let nodes: [Node]
    /// The expression as parsed.
    let expression: EventExpression
    /// True for the common `start on EVENT ...`: one match, no operator.
    /// Such an expression fires on the event that matches it, so it never
    /// needs to remember anything.
    let isSingleMatch: Bool

    public static func == (a: CompiledExpression, b: CompiledExpression) -> Bool {
        a === b || a.expression == b.expression
    }

    public func hash(into h: inout Hasher) {
        h.combine(expression)
    }

    public init(_ expression: EventExpression) {
        self.expression = expression
        var matches: [EventMatch] = []
        var nodes: [Node] = []
        // Iterative post-order walk: (expression, children done?).
        var stack: [(EventExpression, Bool)] = [(expression, false)]
        var results: [Int] = []
        while let (e, expanded) = stack.popLast() {
            switch e {
            case .match(let m):
                matches.append(m)
                nodes.append(.leaf(matches.count - 1))
                results.append(nodes.count - 1)
            case .and(let l, let r), .or(let l, let r):
                if expanded {
                    let right = results.removeLast()
                    let left = results.removeLast()
                    if case .and = e { nodes.append(.and(left, right)) } else { nodes.append(.or(left, right)) }
                    results.append(nodes.count - 1)
                } else {
                    stack.append((e, true))
                    stack.append((r, false))
                    stack.append((l, false))
                }
            }
        }
        self.matches = matches
        // The common single match shares one node array instead of
        // allocating its own.
        self.nodes = nodes == CompiledExpression.singleLeaf ? CompiledExpression.singleLeaf : nodes
        self.isSingleMatch = nodes.count == 1
    }

    private static let singleLeaf: [Node] = [.leaf(0)]

    /// The value of every node, given which leaves hold an event.
    func values(_ state: OperatorState) -> [Bool] {
        var v = [Bool](repeating: false, count: nodes.count)
        for (i, n) in nodes.enumerated() {
            switch n {
            case .leaf(let l): v[i] = state.held[l] != nil
            case .and(let a, let b): v[i] = v[a] && v[b]
            case .or(let a, let b): v[i] = v[a] || v[b]
            }
        }
        return v
    }

    /// True when the whole expression holds.
    func holds(_ state: OperatorState) -> Bool {
        if nodes.count == 1 { return state.held[0] != nil }
        return values(state).last ?? false
    }

    /// The leaves that had an active part in making the expression true,
    /// left to right: every true leaf whose ancestors are all true (Upstart
    /// walks the tree skipping false subtrees). These are the events that
    /// the started or stopped instance holds, and whose variables it gets.
    func activeLeaves(_ state: OperatorState) -> [Int] {
        let v = values(state)
        var out: [Int] = []
        // Walk from the root, in order, into true nodes only.
        var stack: [Int] = [nodes.count - 1]
        while let n = stack.popLast() {
            guard v[n] else { continue }
            switch nodes[n] {
            case .leaf(let l): out.append(l)
            case .and(let a, let b), .or(let a, let b):
                stack.append(b)
                stack.append(a)
            }
        }
        return out
    }
}

/// Which operands of an expression have fired: for each leaf, the event it
/// holds. An `and` remembers its fired operands here until the whole
/// expression fires (or the state is reset); each held event stays blocked.
public struct OperatorState: Hashable, Sendable, Codable {
    public var held: [EventID?]

    public init(leaves: Int) {
        // Small states start as one of a few shared arrays (copied on the
        // first write), so a class whose expression holds nothing yet
        // allocates nothing for it.
        held = leaves < OperatorState.empty.count ? OperatorState.empty[leaves] : [EventID?](repeating: nil, count: leaves)
    }

    private static let empty: [[EventID?]] = (0..<8).map { [EventID?](repeating: nil, count: $0) }

    public var isEmpty: Bool { held.allSatisfy { $0 == nil } }
}

extension EventMatch {
    /// Whether `event` satisfies this match: the names are equal, and each
    /// argument matches. Positional arguments compare against the event's
    /// entries by position (their values; the names are ignored), `KEY=VALUE`
    /// against the entry named KEY. The argument is expanded against `env`
    /// first (`stop on` uses the instance's environment; `start on` has none),
    /// then matched as an fnmatch(3) glob; `!=` inverts the result. A missing
    /// entry, or an expansion error, never matches (not even for `!=`).
    public func matches(name eventName: String, environment: [String], env: Environment?) -> Bool {
        guard name == eventName else { return false }
        var i = 0
        while i < arguments.count {
            let arg = arguments[i]
            let entry: String
            if let key = arg.key {
                guard let j = Environment.index(of: key, in: environment) else { return false }
                entry = environment[j]
            } else {
                guard i < environment.count else { return false }
                entry = environment[i]
            }
            i += 1
            let value: Substring
            if let eq = entry.utf8.firstIndex(of: UInt8(ascii: "=")) {
                value = entry[entry.utf8.index(after: eq)...]
            } else {
                value = entry[...]
            }
            let pattern: String
            do {
                pattern = try Environment.expand(arg.value, env)
            } catch {
                return false
            }
            let hit = Glob.matches(pattern: pattern, value)
            if hit == arg.negated { return false }
        }
        return true
    }
}

extension OperatorState {
    /// Offers an event to every leaf that does not yet hold one. Each leaf
    /// that matches takes it (the caller counts one hold per leaf returned).
    /// Returns the leaves that took the event.
    mutating func offer(_ event: Event, to expr: CompiledExpression, env: Environment?) -> [Int] {
        var took: [Int] = []
        for (i, m) in expr.matches.enumerated() where held[i] == nil {
            if m.matches(name: event.name, environment: event.environment, env: env) {
                held[i] = event.id
                took.append(i)
            }
        }
        return took
    }

    /// Forgets every held event, returning them (one entry per hold) so the
    /// caller can release them.
    mutating func reset() -> [EventID] {
        var out: [EventID] = []
        for i in held.indices {
            if let e = held[i] {
                out.append(e)
                held[i] = nil
            }
        }
        return out
    }
}

/// fnmatch(3) with no flags, as Upstart matches event arguments: `*` any
/// run of characters (including `/` and a leading `.`), `?` one character,
/// `[...]` a set (`!` or `^` negates, ranges with `-`, `]` first is
/// literal), and `\` quotes the next character. A `[` with no closing `]`
/// is an ordinary character. Works on the UTF-8 bytes without allocating;
/// `?` and sets take one whole character, and ranges compare code points.
public enum Glob {
    public static func matches<S: StringProtocol>(pattern: String, _ text: S) -> Bool {
        var pattern = pattern
        var text = String(text)
        return pattern.withUTF8 { p in
            // Fast path: no special bytes means plain equality.
            if !p.contains(where: { $0 == 0x2A || $0 == 0x3F || $0 == 0x5B || $0 == 0x5C }) {
                return text.withUTF8 { t in p.elementsEqual(t) }
            }
            return text.withUTF8 { t in match(p, t) }
        }
    }

    /// The length of the UTF-8 sequence starting with `b`.
    @inline(__always)
    static func width(_ b: UInt8) -> Int {
        b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4
    }

    /// The code point at `i` (lenient with malformed input).
    static func scalar(_ s: UnsafeBufferPointer<UInt8>, _ i: Int) -> (UInt32, Int) {
        let b = s[i]
        let w = min(width(b), s.count - i)
        if w == 1 { return (UInt32(b), 1) }
        var v = UInt32(b) & (w == 2 ? 0x1F : w == 3 ? 0x0F : 0x07)
        for k in 1..<w { v = (v << 6) | (UInt32(s[i + k]) & 0x3F) }
        return (v, w)
    }

    static func match(_ p: UnsafeBufferPointer<UInt8>, _ t: UnsafeBufferPointer<UInt8>) -> Bool {
        var pi = 0, ti = 0
        var starP = -1, starT = 0
        while ti < t.count {
            if pi < p.count {
                switch p[pi] {
                case 0x2A: // *
                    starP = pi
                    starT = ti
                    pi += 1
                    continue
                case 0x3F: // ?
                    pi += 1
                    ti += min(width(t[ti]), t.count - ti)
                    continue
                case 0x5B: // [
                    let (c, w) = scalar(t, ti)
                    if let (hit, next) = matchSet(p, pi, c) {
                        if hit {
                            pi = next
                            ti += w
                            continue
                        }
                    } else if t[ti] == 0x5B {
                        pi += 1
                        ti += 1
                        continue
                    }
                case 0x5C: // backslash
                    let lit: UInt8 = pi + 1 < p.count ? p[pi + 1] : 0x5C
                    if lit == t[ti] {
                        pi += pi + 1 < p.count ? 2 : 1
                        ti += 1
                        continue
                    }
                default:
                    if p[pi] == t[ti] {
                        pi += 1
                        ti += 1
                        continue
                    }
                }
            }
            // Mismatch: let the last `*` swallow one more character.
            guard starP >= 0 else { return false }
            starT += min(width(t[starT]), t.count - starT)
            ti = starT
            pi = starP + 1
        }
        while pi < p.count && p[pi] == 0x2A { pi += 1 }
        return pi == p.count
    }

    /// Matches one code point against the set starting at `p[start]` (`[`).
    /// Returns whether it matched and the index after the set, or nil when
    /// the set is never closed.
    static func matchSet(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ c: UInt32) -> (Bool, Int)? {
        var i = start + 1
        var negate = false
        if i < p.count && (p[i] == 0x21 || p[i] == 0x5E) {
            negate = true
            i += 1
        }
        var hit = false
        var first = true
        while i < p.count {
            if p[i] == 0x5D && !first {
                return (hit != negate, i + 1)
            }
            first = false
            if p[i] == 0x5C && i + 1 < p.count { i += 1 }
            let (lo, lw) = scalar(p, i)
            i += lw
            var hi = lo
            if i + 1 < p.count && p[i] == 0x2D && p[i + 1] != 0x5D {
                i += 1
                if p[i] == 0x5C && i + 1 < p.count { i += 1 }
                let (h, hw) = scalar(p, i)
                hi = h
                i += hw
            }
            if c >= lo && c <= hi { hit = true }
        }
        return nil
    }
}

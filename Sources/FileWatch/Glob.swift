/// fnmatch(3) for one path component, as Upstart's file bridge used it
/// (FNM_PATHNAME, no FNM_PERIOD: `*` matches a leading dot too).
///
/// `*` any run of bytes, `?` one byte, `[abc]`, `[a-z]`, `[!a]` or `[^a]`
/// one byte of (or not of) a set, `\x` the byte `x` itself.
public enum Glob {
    /// Whether a component holds an unescaped `*`, `?` or `[`.
    public static func hasWildcards(_ component: String) -> Bool {
        var escaped = false
        for b in component.utf8 {
            if escaped { escaped = false; continue }
            if b == UInt8(ascii: "\\") { escaped = true; continue }
            if b == UInt8(ascii: "*") || b == UInt8(ascii: "?") || b == UInt8(ascii: "[") { return true }
        }
        return false
    }

    /// A pattern's `[` must close.
    public static func validate(_ pattern: String) -> Result<Void, FileSpecError> {
        let p = Array(pattern.utf8)
        var i = 0
        while i < p.count {
            if p[i] == UInt8(ascii: "\\") { i += 2; continue }
            if p[i] == UInt8(ascii: "[") {
                guard bracket(p, i) != nil else { return .failure(FileSpecError("'[' without a closing ']'")) }
            }
            i += 1
        }
        return .success(())
    }

    /// The set at `p[start]` (a `[`): its end (index after `]`), whether it
    /// is negated, and its byte ranges; nil if it does not close.
    static func bracket(_ p: [UInt8], _ start: Int) -> (end: Int, negated: Bool, ranges: [(UInt8, UInt8)])? {
        var i = start + 1
        var negated = false
        if i < p.count, p[i] == UInt8(ascii: "!") || p[i] == UInt8(ascii: "^") { negated = true; i += 1 }
        var ranges: [(UInt8, UInt8)] = []
        var first = true
        while i < p.count {
            if p[i] == UInt8(ascii: "]") && !first { return (i + 1, negated, ranges) }
            first = false
            var lo = p[i]
            if lo == UInt8(ascii: "\\"), i + 1 < p.count { i += 1; lo = p[i] }
            i += 1
            var hi = lo
            if i + 1 < p.count, p[i] == UInt8(ascii: "-"), p[i + 1] != UInt8(ascii: "]") {
                hi = p[i + 1]
                if hi == UInt8(ascii: "\\"), i + 2 < p.count { hi = p[i + 2]; i += 1 }
                i += 2
            }
            ranges.append((lo, hi))
        }
        return nil
    }

    /// Whether `name` matches `pattern`.
    public static func matches(_ pattern: String, _ name: String) -> Bool {
        let p = Array(pattern.utf8), s = Array(name.utf8)
        var pi = 0, si = 0
        // The last `*` seen and where in `s` it was last tried: on a
        // mismatch, that star takes one more byte (linear backtracking).
        var star: Int? = nil, starS = 0
        while si < s.count {
            if pi < p.count {
                let c = p[pi]
                if c == UInt8(ascii: "*") {
                    star = pi
                    starS = si
                    pi += 1
                    continue
                }
                if c == UInt8(ascii: "?") {
                    pi += 1; si += 1
                    continue
                }
                if c == UInt8(ascii: "["), let set = bracket(p, pi) {
                    let inSet = set.ranges.contains { $0.0 <= s[si] && s[si] <= $0.1 }
                    if inSet != set.negated {
                        pi = set.end; si += 1
                        continue
                    }
                } else {
                    var literal = c, width = 1
                    if c == UInt8(ascii: "\\"), pi + 1 < p.count { literal = p[pi + 1]; width = 2 }
                    if literal == s[si] {
                        pi += width; si += 1
                        continue
                    }
                }
            }
            guard let st = star else { return false }
            starS += 1
            si = starS
            pi = st + 1
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}

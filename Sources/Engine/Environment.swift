import JobFile

/// An environment table: `KEY=VALUE` strings in order, as Upstart keeps them.
///
/// Guarantees: `set` replaces an entry of the same name in place (keeping
/// its position) or appends a new one, so a key appears at most once when
/// every entry went in through `set`; lookups see the first entry of a name.
public struct Environment: Hashable, Sendable, Codable {
    public var entries: [String]

    public init(_ entries: [String] = []) {
        self.entries = entries
    }

    /// The name part of an entry (all of it when it has no `=`).
    @inline(__always)
    static func key(of entry: String) -> Substring {
        if let eq = entry.utf8.firstIndex(of: UInt8(ascii: "=")) {
            return entry[..<eq]
        }
        return entry[...]
    }

    /// The index of the entry named `key`, if any.
    func index<S: StringProtocol>(of key: S) -> Int? {
        Environment.index(of: key, in: entries)
    }

    /// The index of the entry named `key` in a `KEY=VALUE` list, if any.
    static func index<S: StringProtocol>(of key: S, in entries: [String]) -> Int? {
        var i = 0
        while i < entries.count {
            if Environment.key(of: entries[i]) == key { return i }
            i += 1
        }
        return nil
    }

    /// The value of `key`, or nil when it is unset.
    public func value<S: StringProtocol>(_ key: S) -> Substring? {
        guard let i = index(of: key) else { return nil }
        let e = entries[i]
        guard let eq = e.utf8.firstIndex(of: UInt8(ascii: "=")) else { return nil }
        return e[e.utf8.index(after: eq)...]
    }

    /// The whole `KEY=VALUE` entry for `key`, if present.
    public func entry<S: StringProtocol>(_ key: S) -> String? {
        index(of: key).map { entries[$0] }
    }

    /// Adds `KEY=VALUE`, replacing an entry of the same name in place.
    public mutating func set(_ entry: String) {
        if let i = index(of: Environment.key(of: entry)) {
            entries[i] = entry
        } else {
            entries.append(entry)
        }
    }

    public mutating func set(_ key: String, _ value: String) {
        set(key + "=" + value)
    }

    /// Adds every entry of `other` in order, each replacing its namesake.
    /// Linear in the sizes of both (one table of positions), so an
    /// environment of 100,000 entries merges in milliseconds.
    public mutating func merge(_ other: [String]) {
        guard other.count > 8 else {
            for e in other { set(e) }
            return
        }
        var positions: [Substring: Int] = [:]
        positions.reserveCapacity(entries.count + other.count)
        for (i, e) in entries.enumerated() where positions[Environment.key(of: e)] == nil {
            positions[Environment.key(of: e)] = i
        }
        for e in other {
            let key = Environment.key(of: e)
            if let i = positions[key] {
                entries[i] = e
            } else {
                positions[key] = entries.count
                entries.append(e)
            }
        }
    }

    /// True when `name` is a valid variable name: a letter or underscore,
    /// then letters, digits and underscores (Upstart's environ_valid).
    public static func isValidName<S: StringProtocol>(_ name: S) -> Bool {
        var first = true
        for b in name.utf8 {
            let alpha = (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 95
            let digit = b >= 48 && b <= 57
            if first ? !alpha : !(alpha || digit) { return false }
            first = false
        }
        return !first
    }

    /// True when every entry is `KEY=VALUE` with a valid key: what a control
    /// message must carry (Upstart's environ_all_valid).
    public static func allValid(_ entries: [String]) -> Bool {
        entries.allSatisfy { e in
            guard let eq = e.utf8.firstIndex(of: UInt8(ascii: "=")) else { return false }
            return isValidName(e[..<eq])
        }
    }
}

/// Why a `$VAR` expansion failed. The messages are Upstart's.
public enum ExpansionError: Error, Hashable, Sendable, CustomStringConvertible {
    case unknownParameter(String)
    case illegalParameter(String)
    case expectedOperator
    case mismatchedBraces

    public var description: String {
        switch self {
        case .unknownParameter(let n): return "Unknown parameter: \(n)"
        case .illegalParameter(let n): return "Illegal parameter: \(n)"
        case .expectedOperator: return "Expected operator"
        case .mismatchedBraces: return "Mismatched braces"
        }
    }
}

extension Environment {
    /// Expands variable references in `text` as Upstart's environ_expand does.
    ///
    /// - `$NAME` and `${NAME}`: the value; an unset name is an error
    ///   (`Unknown parameter: NAME`), never silently empty.
    /// - `${NAME:-default}`: the value unless unset or empty, else `default`;
    ///   `${NAME-default}`: the value unless unset.
    /// - `${NAME:+alt}`: `alt` unless unset or empty, else empty;
    ///   `${NAME+alt}`: `alt` unless unset.
    /// - `${}` is a literal `$`; a `$` before anything that cannot start a
    ///   name is kept as it is.
    /// - The name inside braces and the default/alternate are themselves
    ///   expanded first, so `${$KEY}` names the variable `$KEY` holds.
    /// - Substituted values are not scanned again.
    ///
    /// `env` nil means no variables at all (every plain reference fails).
    public static func expand(_ text: String, _ env: Environment?) throws(ExpansionError) -> String {
        // Fast path: nothing to expand.
        if !text.utf8.contains(UInt8(ascii: "$")) { return text }
        var reader = ExpansionReader(bytes: Array(text.utf8), env: env)
        let out = try reader.expand(until: [])
        return String(decoding: out, as: UTF8.self)
    }
}

/// The recursive reader behind `Environment.expand`: one pass over the
/// bytes, stopping at any byte in `until` (which it does not consume).
private struct ExpansionReader {
    let bytes: [UInt8]
    let env: Environment?
    var pos = 0

    init(bytes: [UInt8], env: Environment?) {
        self.bytes = bytes
        self.env = env
    }

    static func isNameStart(_ b: UInt8) -> Bool {
        (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 95
    }
    static func isNameByte(_ b: UInt8) -> Bool {
        isNameStart(b) || (b >= 48 && b <= 57)
    }

    func lookup(_ name: [UInt8]) -> [UInt8]? {
        guard let env else { return nil }
        let key = String(decoding: name, as: UTF8.self)
        return env.value(key).map { Array($0.utf8) }
    }

    mutating func expand(until: [UInt8]) throws(ExpansionError) -> [UInt8] {
        var out: [UInt8] = []
        while pos < bytes.count {
            let b = bytes[pos]
            if until.contains(b) { break }
            guard b == UInt8(ascii: "$") else {
                out.append(b)
                pos += 1
                continue
            }
            pos += 1
            guard pos < bytes.count else {
                out.append(b)
                break
            }
            let next = bytes[pos]
            if ExpansionReader.isNameStart(next) {
                let start = pos
                while pos < bytes.count && ExpansionReader.isNameByte(bytes[pos]) { pos += 1 }
                let name = Array(bytes[start..<pos])
                guard let value = lookup(name) else {
                    throw .unknownParameter(String(decoding: name, as: UTF8.self))
                }
                out += value
            } else if next == UInt8(ascii: "{") && pos + 1 < bytes.count && bytes[pos + 1] == UInt8(ascii: "}") {
                pos += 2
                out.append(UInt8(ascii: "$"))
            } else if next == UInt8(ascii: "{") {
                pos += 1
                let name = try expand(until: Array("}:-+".utf8))
                guard Environment.isValidName(String(decoding: name, as: UTF8.self)) else {
                    throw .illegalParameter(String(decoding: name, as: UTF8.self))
                }
                enum Op { case value, fallback, alternate }
                var op = Op.value
                var ignoreEmpty = false
                let here: UInt8? = pos < bytes.count ? bytes[pos] : nil
                let after: UInt8? = pos + 1 < bytes.count ? bytes[pos + 1] : nil
                if here == UInt8(ascii: ":") && after == UInt8(ascii: "-") {
                    pos += 2; op = .fallback; ignoreEmpty = true
                } else if here == UInt8(ascii: ":") && after == UInt8(ascii: "+") {
                    pos += 2; op = .alternate; ignoreEmpty = true
                } else if here == UInt8(ascii: "-") {
                    pos += 1; op = .fallback
                } else if here == UInt8(ascii: "+") {
                    pos += 1; op = .alternate
                } else if here != nil && here != UInt8(ascii: "}") {
                    throw .expectedOperator
                }
                let argument = try expand(until: [UInt8(ascii: "}")])
                guard pos < bytes.count && bytes[pos] == UInt8(ascii: "}") else {
                    throw .mismatchedBraces
                }
                pos += 1
                let value = lookup(name)
                let unsetOrEmpty = value == nil || (ignoreEmpty && value!.isEmpty)
                switch op {
                case .value:
                    guard let value else {
                        throw .unknownParameter(String(decoding: name, as: UTF8.self))
                    }
                    out += value
                case .fallback:
                    out += unsetOrEmpty ? argument : value!
                case .alternate:
                    out += unsetOrEmpty ? [] : argument
                }
            } else {
                // A lone dollar: kept, and the next byte is read normally.
                out.append(b)
            }
        }
        return out
    }
}

/// The built-in parts of every job's environment.
public struct EngineConfiguration: Hashable, Sendable, Codable {
    /// Upstart's defaults: `PATH` and `TERM`.
    public var defaultEnvironment: [String]
    /// The daemon's own environment, where `env KEY` (no value) looks.
    public var daemonEnvironment: [String]
    /// Log every goal and state change and every event handled (Upstart's
    /// `--verbose`); warnings are logged either way.
    public var verbose: Bool

    public static let upstartDefaults = [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "TERM=linux",
    ]

    public init(defaultEnvironment: [String] = EngineConfiguration.upstartDefaults,
                daemonEnvironment: [String] = [], verbose: Bool = true) {
        self.defaultEnvironment = defaultEnvironment
        self.daemonEnvironment = daemonEnvironment
        self.verbose = verbose
    }
}

extension EngineConfiguration {
    /// The environment a new instance of `job` starts from, before the
    /// events' or the request's variables: the defaults, then each `env`
    /// stanza in order (`env KEY` copies the daemon's value, or is skipped
    /// when the daemon has none). Values are not expanded, as in Upstart.
    func classEnvironment(_ job: JobClass) -> Environment {
        var env = Environment(defaultEnvironment)
        var stanzas: [String] = []
        stanzas.reserveCapacity(job.env.count)
        let daemon = job.env.contains { $0.value == nil } ? Environment(daemonEnvironment) : Environment()
        for v in job.env {
            if let value = v.value {
                stanzas.append(v.name + "=" + value)
            } else if let inherited = daemon.entry(v.name) {
                stanzas.append(inherited)
            }
        }
        env.merge(stanzas)
        return env
    }
}

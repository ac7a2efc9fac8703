/// A small JSON value with a deterministic printer, for `init-checkconf
/// --json` and other machine-readable output. Keys print in the order they
/// were given, so the output of one `JobClass` is the same on every run.
public indirect enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    case number(Int)
    case unsigned(UInt64)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool { a.compact == b.compact }
    public func hash(into h: inout Hasher) { h.combine(compact) }

    /// One line, no spaces.
    public var compact: String {
        var out = ""
        write(into: &out, indent: nil, level: 0)
        return out
    }

    /// Two-space indentation, one key or element a line.
    public var pretty: String {
        var out = ""
        write(into: &out, indent: "  ", level: 0)
        return out
    }

    private func write(into out: inout String, indent: String?, level: Int) {
        let nl = indent == nil ? "" : "\n"
        func pad(_ n: Int) -> String { indent.map { String(repeating: $0, count: n) } ?? "" }
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += String(n)
        case .unsigned(let n): out += String(n)
        case .string(let s): out += jsonQuote(s)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "[" + nl
            for (i, item) in items.enumerated() {
                out += pad(level + 1)
                item.write(into: &out, indent: indent, level: level + 1)
                out += (i + 1 < items.count ? "," : "") + nl
            }
            out += pad(level) + "]"
        case .object(let pairs):
            if pairs.isEmpty { out += "{}"; return }
            out += "{" + nl
            for (i, (k, v)) in pairs.enumerated() {
                out += pad(level + 1) + jsonQuote(k) + (indent == nil ? ":" : ": ")
                v.write(into: &out, indent: indent, level: level + 1)
                out += (i + 1 < pairs.count ? "," : "") + nl
            }
            out += pad(level) + "}"
        }
    }
}

/// Quotes a string for JSON: `"`, `\` and control characters escaped.
public func jsonQuote(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 {
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(u)
            }
        }
    }
    return out + "\""
}

extension Optional where Wrapped == String {
    var json: JSONValue { map(JSONValue.string) ?? .null }
}

extension JobClass {
    /// The job as JSON: every stanza under a fixed key, defaults filled in,
    /// signals as names (`SIGTERM`), limits as numbers or `"unlimited"`,
    /// expressions as trees. docs/init-checkconf.md describes each key.
    public var json: JSONValue {
        var processes: [(String, JSONValue)] = []
        for kind in ProcessKind.allCases {
            let value: JSONValue = process(kind).map {
                .object([("type", .string($0.kind.rawValue)), ("command", .string($0.command))])
            } ?? .null
            processes.append((kind.rawValue, value))
        }
        let respawnLimitJSON: JSONValue
        switch respawnLimit {
        case .unlimited: respawnLimitJSON = .string("unlimited")
        case .limit(let c, let i): respawnLimitJSON = .object([("count", .number(c)), ("interval", .number(i))])
        }
        let oom: JSONValue
        switch oomScore {
        case .score(let n): oom = .number(n)
        case .never: oom = .string("never")
        case nil: oom = .null
        }
        return .object([
            ("name", .string(name)),
            ("description", description.json),
            ("author", author.json),
            ("version", version.json),
            ("usage", usage.json),
            ("emits", .array(emits.map(JSONValue.string))),
            ("start_on", startOn?.json ?? .null),
            ("stop_on", stopOn?.json ?? .null),
            ("while", whileCondition?.json ?? .null),
            ("instance", instance.json),
            ("task", .bool(task)),
            ("respawn", .bool(respawn)),
            ("respawn_limit", respawnLimitJSON),
            ("normal_exit", .array(normalExit.map {
                switch $0 {
                case .status(let s): return .number(s)
                case .signal(let s): return .string(s.fullName)
                }
            })),
            ("processes", .object(processes)),
            ("console", .string(console.rawValue)),
            ("env", .array(env.map { .object([("name", .string($0.name)), ("value", $0.value.json)]) })),
            ("export", .array(export.map(JSONValue.string))),
            ("expect", .string(expect.rawValue)),
            ("kill_signal", .string(killSignal.fullName)),
            ("kill_timeout", .number(killTimeout)),
            ("reload_signal", .string(reloadSignal.fullName)),
            ("limits", .object(limits.map { ($0.resource.rawValue, .object([("soft", $0.soft.json), ("hard", $0.hard.json)])) })),
            ("nice", nice.map(JSONValue.number) ?? .null),
            ("oom_score", oom),
            ("umask", .string("0" + String(umask ?? 0o022, radix: 8))),
            ("chdir", chdir.json),
            ("chroot", chroot.json),
            ("setuid", setuid.json),
            ("setgid", setgid.json),
            ("apparmor", .object([("load", apparmorLoad.json), ("switch", apparmorSwitch.json)])),
            ("cgroups", .array(cgroups.map {
                .object([("controller", .string($0.controller)), ("name", $0.name.json), ("key", $0.key.json), ("value", $0.value.json)])
            })),
            ("namespaces", .array(namespaces.map { .string($0.rawValue) })),
        ])
    }
}

extension LimitValue {
    var json: JSONValue {
        switch self {
        case .unlimited: return .string("unlimited")
        case .value(let n): return .unsigned(n)
        }
    }
}

extension EventExpression {
    /// `{"event": NAME, "args": [...]}`, `{"and": [L, R]}` or `{"or": [L, R]}`.
    public var json: JSONValue {
        switch self {
        case .match(let m):
            return .object([("event", .string(m.name)), ("args", .array(m.arguments.map { a in
                guard let key = a.key else { return .object([("value", .string(a.value))]) }
                return .object([("key", .string(key)), ("op", .string(a.negated ? "!=" : "=")), ("value", .string(a.value))])
            }))])
        case .and(let l, let r): return .object([("and", .array([l.json, r.json]))])
        case .or(let l, let r): return .object([("or", .array([l.json, r.json]))])
        }
    }
}

extension StateExpression {
    /// `{"running": JOB}`, `{"not": E}`, `{"and": [L, R]}` or `{"or": [L, R]}`.
    public var json: JSONValue {
        switch self {
        case .running(let j): return .object([("running", .string(j))])
        case .not(let e): return .object([("not", e.json)])
        case .and(let l, let r): return .object([("and", .array([l.json, r.json]))])
        case .or(let l, let r): return .object([("or", .array([l.json, r.json]))])
        }
    }
}

extension JobParseError {
    public var json: JSONValue {
        .object([("file", .string(file)), ("line", .number(line)), ("column", .number(column)), ("message", .string(message))])
    }
}

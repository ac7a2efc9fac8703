@_exported import JSON

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
        switch self.respawnLimit {
        case .unlimited: respawnLimitJSON = .string("unlimited")
        case .limit(let c, let i): respawnLimitJSON = .object([("count", .number(c)), ("interval", .number(i))])
        }
        let envFilesJSON: JSONValue = .array(self.envFiles.map { f -> JSONValue in
            .object([("path", .string(f.path)), ("optional", .bool(f.optional))])
        })
        let logSizeJSON: JSONValue = self.logSize.map { JSONValue.string($0.text) } ?? .null
        let logKeepJSON: JSONValue = self.logKeep.map { JSONValue.number($0) } ?? .null
        var respawnDelayJSON: JSONValue = .null
        if let d = self.respawnDelay {
            respawnDelayJSON = .object([("seconds", .string(RespawnDelay.secondsText(d.initialMilliseconds))),
                                        ("max", .string(RespawnDelay.secondsText(d.maximumMilliseconds)))])
        }
        let oom: JSONValue
        switch self.oomScore {
        case .score(let n): oom = .number(n)
        case .never: oom = .string("never")
        case nil: oom = .null
        }
        return .object([
            ("name", .string(name)),
            ("description", description.json),
            ("author", self.author.json),
            ("version", self.version.json),
            ("usage", self.usage.json),
            ("emits", .array(self.emits.map(JSONValue.string))),
            ("start_on", startOn?.json ?? .null),
            ("stop_on", stopOn?.json ?? .null),
            ("while", self.whileCondition?.json ?? .null),
            ("instance", self.instance.json),
            ("task", .bool(task)),
            ("respawn", .bool(respawn)),
            ("respawn_limit", respawnLimitJSON),
            ("env_files", envFilesJSON),
            ("log_size", logSizeJSON),
            ("log_keep", logKeepJSON),
            ("respawn_delay", respawnDelayJSON),
            ("normal_exit", .array(self.normalExit.map {
                switch $0 {
                case .status(let s): return .number(s)
                case .signal(let s): return .string(s.fullName)
                }
            })),
            ("processes", .object(processes)),
            ("console", .string(console.rawValue)),
            ("env", .array(env.map { .object([("name", .string($0.name)), ("value", $0.value.json)]) })),
            ("export", .array(self.export.map(JSONValue.string))),
            ("expect", .string(expect.rawValue)),
            ("kill_signal", .string(self.killSignal.fullName)),
            ("kill_timeout", .number(self.killTimeout)),
            ("reload_signal", .string(self.reloadSignal.fullName)),
            ("limits", .object(self.limits.map { ($0.resource.rawValue, .object([("soft", $0.soft.json), ("hard", $0.hard.json)])) })),
            ("nice", self.nice.map(JSONValue.number) ?? .null),
            ("oom_score", oom),
            ("umask", .string(umaskText(self.umask ?? 0o022))),
            ("chdir", self.chdir.json),
            ("chroot", self.chroot.json),
            ("setuid", self.setuid.json),
            ("setgid", self.setgid.json),
            ("apparmor", .object([("load", self.apparmorLoad.json), ("switch", self.apparmorSwitch.json)])),
            ("cgroups", .array(self.cgroups.map {
                .object([("controller", .string($0.controller)), ("name", $0.name.json), ("key", $0.key.json), ("value", $0.value.json)])
            })),
            ("namespaces", .array(self.namespaces.map { .string($0.rawValue) })),
            ("namespace_net", self.joinNetwork.json),
            ("hostname", self.hostname.json),
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
        case .runningWhere(let j, let env): return .object([("running", .string(j)), ("env", .array(env.map(JSONValue.string)))])
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

/// A umask as octal with a leading zero, at least three digits: `022`, `000`, `0777`.
public func umaskText(_ mask: Int) -> String {
    let octal = "0" + String(mask, radix: 8)
    return String(repeating: "0", count: max(0, 3 - octal.count)) + octal
}

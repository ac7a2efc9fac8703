/// Prints a `JobClass` back as job-file text.
///
/// The guarantee, pinned by property tests: parsing the printed text gives a
/// value equal to the one printed (`parse(print(job)) == job`), for every job
/// the parser can produce. The text is canonical: stanzas in a fixed order,
/// defaults left out, tokens quoted only where the lexer needs it.
extension JobClass {
    public var jobFileText: String {
        var out = ""
        func line(_ s: String) { out += s + "\n" }

        if let v = description { line("description \(quoteIfNeeded(v))") }
        if let v = self.author { line("author \(quoteIfNeeded(v))") }
        if let v = self.version { line("version \(quoteIfNeeded(v))") }
        if let v = self.usage { line("usage \(quoteIfNeeded(v))") }
        if !self.emits.isEmpty { line("emits " + self.emits.map(quoteIfNeeded).joined(separator: " ")) }

        if let e = startOn { line("start on \(e.text)") }
        if let e = stopOn { line("stop on \(e.text)") }
        if let w = self.whileCondition { line("while \(w.text)") }

        if let v = self.instance { line("instance \(quoteIfNeeded(v))") }
        if task { line("task") }
        if respawn { line("respawn") }
        switch self.respawnLimit {
        case .unlimited: line("respawn limit unlimited")
        case .limit(let c, let i) where self.respawnLimit != .default: line("respawn limit \(c) \(i)")
        default: break
        }
        if let v = self.logSize { line("log size \(v.text)") }
        if let v = self.logKeep { line("log keep \(v)") }
        for f in self.envFiles { line("env-file \(quoteIfNeeded((f.optional ? "-" : "") + f.path))") }
        if let d = self.respawnDelay {
            let max = d.maximumMilliseconds == d.initialMilliseconds ? "" : " " + RespawnDelay.secondsText(d.maximumMilliseconds)
            line("respawn delay \(RespawnDelay.secondsText(d.initialMilliseconds))\(max)")
        }
        if !self.normalExit.isEmpty {
            line("normal exit " + self.normalExit.map { c -> String in
                switch c {
                case .status(let s): return String(s)
                case .signal(let s): return s.name
                }
            }.joined(separator: " "))
        }

        if console != .log { line("console \(console.rawValue)") }
        for v in env {
            line("env " + quoteIfNeeded(v.value.map { "\(v.name)=\($0)" } ?? v.name))
        }
        if !self.export.isEmpty { line("export " + self.export.joined(separator: " ")) }
        if expect != .none { line("expect \(expect.rawValue)") }
        if self.killSignal != .term { line("kill signal \(self.killSignal.name)") }
        if self.killTimeout != 5 { line("kill timeout \(self.killTimeout)") }
        if self.reloadSignal != .hup { line("reload signal \(self.reloadSignal.name)") }
        for l in self.limits { line("limit \(l.resource.rawValue) \(l.soft.text) \(l.hard.text)") }
        if let n = self.nice { line("nice \(n)") }
        switch self.oomScore {
        case .score(let n): line("oom score \(n)")
        case .never: line("oom score never")
        case nil: break
        }
        if let m = self.umask { line("umask \(umaskText(m))") }
        if let v = self.chdir { line("chdir \(quoteIfNeeded(v))") }
        if let v = self.chroot { line("chroot \(quoteIfNeeded(v))") }
        if let v = self.setuid { line("setuid \(quoteIfNeeded(v))") }
        if let v = self.setgid { line("setgid \(quoteIfNeeded(v))") }
        if let v = self.apparmorLoad { line("apparmor load \(quoteIfNeeded(v))") }
        if let v = self.apparmorSwitch { line("apparmor switch \(quoteIfNeeded(v))") }
        for c in self.cgroups {
            var words = [c.controller]
            if let n = c.name { words.append(n) }
            if let k = c.key {
                words.append(k)
                words.append(c.value ?? "")
            }
            line("cgroup " + words.map(quoteIfNeeded).joined(separator: " "))
        }
        if !self.namespaces.isEmpty {
            line("namespace " + self.namespaces.map { kind in
                switch kind {
                case .net: return self.joinNetwork.map { "net=\($0)" } ?? "net"
                case .uts: return self.hostname.map { "uts=\($0)" } ?? "uts"
                default: return kind.rawValue
                }
            }.joined(separator: " "))
        }

        for kind in ProcessKind.allCases {
            guard let p = process(kind) else { continue }
            let prefix = kind == .main ? "" : "\(kind.rawValue) "
            switch p.kind {
            case .exec: line("\(prefix)exec \(p.command)")
            case .script:
                line("\(prefix)script")
                out += p.command
                // By byte: a body ending in "\r\n" ends in one Character,
                // which is not "\n", yet its last line is already ended.
                if let last = p.command.utf8.last, last != UInt8(ascii: "\n") { out += "\n" }
                line("end script")
            }
        }
        return out
    }
}

extension LimitValue {
    /// `unlimited` or the number.
    public var text: String {
        switch self {
        case .unlimited: return "unlimited"
        case .value(let n): return String(n)
        }
    }
}

extension EventExpression {
    /// The expression as `start on` would be written. Operators group from
    /// the left, so only a right operand that is itself an operator needs
    /// parentheses.
    public var text: String {
        switch self {
        case .match(let m): return m.text
        case .and(let l, let r): return "\(l.text) and \(r.parenthesized)"
        case .or(let l, let r): return "\(l.text) or \(r.parenthesized)"
        }
    }

    private var parenthesized: String {
        if case .match = self { return text }
        return "(\(text))"
    }
}

extension EventMatch {
    public var text: String {
        ([quoteIfNeeded(name)] + arguments.map(\.text)).joined(separator: " ")
    }
}

extension EventArgument {
    public var text: String {
        guard let key else { return quoteIfNeeded(value) }
        return quoteIfNeeded(key + (negated ? "!=" : "=") + value)
    }
}

extension StateExpression {
    /// The condition as `while` would be written, parenthesized where
    /// `and` binds tighter than `or`.
    public var text: String {
        switch self {
        case .running(let j): return "running \(quoteIfNeeded(j))"
        case .runningWhere(let j, let env): return "running \(quoteIfNeeded(j)) " + env.map(quoteIfNeeded).joined(separator: " ")
        case .not(let e):
            if case .running = e { return "not \(e.text)" }
            if case .runningWhere = e { return "not \(e.text)" }
            if case .not = e { return "not \(e.text)" }
            return "not (\(e.text))"
        case .and(let l, let r): return "\(l.andLeftOperand) and \(r.andOperand)"
        case .or(let l, let r): return "\(l.text) or \(r.orRightOperand)"
        }
    }

    /// `and` groups from the left, so a left operand that is itself an
    /// `and` needs no parentheses: a long chain (`a and b and c ...`) must
    /// not print as parentheses nested deeper than the parser allows.
    private var andLeftOperand: String {
        if case .or = self { return "(\(text))" }
        return text
    }

    private var andOperand: String {
        if case .or = self { return "(\(text))" }
        if case .and = self { return "(\(text))" }
        return text
    }

    private var orRightOperand: String {
        if case .or = self { return "(\(text))" }
        return text
    }
}

/// Quotes a token for a job file when the lexer would otherwise split or
/// change it: empty, blanks, quotes, backslashes, `#`, parentheses, newlines,
/// or a word the expression parsers treat as an operator.
public func quoteIfNeeded(_ s: String) -> String {
    if s.isEmpty { return "\"\"" }
    if s == "and" || s == "or" || s == "not" { return "\"\(s)\"" }
    let special: Set<UInt8> = [.space, .tab, .cr, .newline, .hash, .squote, .dquote, .backslash, .lparen, .rparen]
    guard s.utf8.contains(where: { special.contains($0) }) else { return s }
    // By scalar, not by Character: a quote or backslash followed by a
    // combining mark is one Character (`"\u{59B}"`), but the lexer reads
    // bytes and must still see it escaped.
    var out = "\""
    for u in s.unicodeScalars {
        if u == "\"" || u == "\\" { out.unicodeScalars.append("\\") }
        out.unicodeScalars.append(u)
    }
    return out + "\""
}

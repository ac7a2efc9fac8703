// Stanzas for process containment: cgroup (Upstart 1.13's syntax, also with
// cgroup v2 file names) and namespace (a Daybreak stanza).

extension Parser {
    /// `cgroup CONTROLLER [NAME] [KEY VALUE]`.
    ///
    /// One word: the controller, in the job's own group. Two: controller and
    /// group name. Three: controller, KEY and VALUE in the job's own group.
    /// Four: all of them. `$UPSTART_CGROUP` as NAME means the job's own group.
    /// Accumulates; a later stanza with the same controller, name and key
    /// replaces the earlier one.
    mutating func stanzaCgroup() throws(JobParseError) {
        let mark = lexer.nextMark()
        var words: [Lexer.Token] = []
        while let tok = try lexer.nextToken() {
            words.append(tok)
            if words.count > 4 {
                throw lexer.error("too many words after 'cgroup'; expected CONTROLLER [NAME] [KEY VALUE]", at: tokenMark(tok))
            }
        }
        lexer.skipRestOfLine()
        guard let controller = words.first, !controller.text.isEmpty else {
            throw lexer.error("expected a controller after 'cgroup', such as 'cgroup memory' or 'cgroup pids pids.max 64'", at: mark)
        }
        var setting = CgroupSetting(controller: controller.text)
        switch words.count {
        case 2:
            setting.name = words[1].text
        case 3:
            setting.key = words[1].text
            setting.value = words[2].text
        case 4:
            setting.name = words[1].text
            setting.key = words[2].text
            setting.value = words[3].text
        default:
            break
        }
        if setting.name == "$UPSTART_CGROUP" { setting.name = nil }
        if let key = setting.key, key.isEmpty {
            throw lexer.error("expected a setting name in 'cgroup \(controller.text)', got an empty string", at: tokenMark(words[words.count - 2]))
        }
        if let i = job.cgroups.firstIndex(where: { $0.controller == setting.controller && $0.name == setting.name && $0.key == setting.key }) {
            job.cgroups[i] = setting
        } else {
            job.cgroups.append(setting)
        }
        noteStanza { $0.cgroup = setting }
    }

    /// `namespace KIND...`: cgroup, ipc, mount, net, pid, user, uts. May
    /// repeat; accumulates. Two kinds take a value: `net=NAME` joins the
    /// network namespace NAME (`ip netns add NAME`, or an absolute path to
    /// a namespace file) instead of a new one, `uts=NAME` sets the new uts
    /// namespace's hostname (the job's name otherwise). A later `net` or
    /// `uts` replaces an earlier one's value.
    mutating func stanzaNamespace() throws(JobParseError) {
        let names = NamespaceKind.allCases.map(\.rawValue).joined(separator: ", ")
        var kinds = Set(job.namespaces)
        var named: [NamespaceKind] = []
        for tok in try arguments(after: "namespace", expecting: "one or more namespace kinds (\(names))") {
            let parts = tok.text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let kind = NamespaceKind(rawValue: String(parts[0])) else {
                throw lexer.error("expected a namespace kind (\(names)) after 'namespace', got '\(tok.text)'", at: tokenMark(tok))
            }
            kinds.insert(kind)
            named.append(kind)
            let value = parts.count > 1 ? String(parts[1]) : nil
            switch kind {
            case .net:
                if let value { try checkNetworkName(value, tok) }
                job.joinNetwork = value
            case .uts:
                if let value { try checkHostname(value, tok) }
                job.hostname = value
            default:
                if value != nil {
                    throw lexer.error("'namespace \(kind.rawValue)' takes no value (only net=NAME and uts=NAME do), got '\(tok.text)'", at: tokenMark(tok))
                }
            }
        }
        job.namespaces = kinds.sorted()
        noteStanza { $0.namespaces = named }
    }

    /// NAME in `net=NAME`: a name as `ip netns` makes them, or an absolute path.
    private func checkNetworkName(_ value: String, _ tok: Lexer.Token) throws(JobParseError) {
        let allowed = value.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b == 0x2d || b == 0x2e || b == 0x5f || b == 0x2f
        }
        let bad = value.isEmpty || !allowed || (value.contains("/") && !value.hasPrefix("/")) || value == "." || value == ".."
        if bad {
            throw lexer.error("expected a network namespace name (as 'ip netns add NAME' makes) or an absolute path after 'net=', got '\(value)'", at: tokenMark(tok))
        }
    }

    /// NAME in `uts=NAME`: a hostname, 1 to 64 letters, digits, '-', '.' or '_'.
    private func checkHostname(_ value: String, _ tok: Lexer.Token) throws(JobParseError) {
        let allowed = value.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b == 0x2d || b == 0x2e || b == 0x5f
        }
        if value.isEmpty || value.utf8.count > 64 || !allowed {
            throw lexer.error("expected a hostname (1 to 64 letters, digits, '-', '.' or '_') after 'uts=', got '\(value)'", at: tokenMark(tok))
        }
    }
}

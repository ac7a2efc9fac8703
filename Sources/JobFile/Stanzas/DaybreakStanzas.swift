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
    }

    /// `namespace KIND...`: net, pid, mount, uts, ipc, user, cgroup. May repeat; accumulates.
    mutating func stanzaNamespace() throws(JobParseError) {
        let names = NamespaceKind.allCases.map(\.rawValue).joined(separator: ", ")
        var kinds = Set(job.namespaces)
        for tok in try arguments(after: "namespace", expecting: "one or more namespace kinds (\(names))") {
            guard let kind = NamespaceKind(rawValue: tok.text) else {
                throw lexer.error("expected a namespace kind (\(names)) after 'namespace', got '\(tok.text)'", at: tokenMark(tok))
            }
            kinds.insert(kind)
        }
        job.namespaces = kinds.sorted()
    }
}

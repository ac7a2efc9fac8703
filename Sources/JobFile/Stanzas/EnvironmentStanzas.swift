// Stanzas about the process environment: env, export, console, limit, nice,
// oom score, umask, apparmor. (chdir, chroot, setuid and setgid take one
// argument each and are read by `singleArgument` in Parser.stanza.)

extension Parser {
    /// `log size SIZE|unlimited` or `log keep N` (Daybreak stanzas): each
    /// `console log` file is at most SIZE bytes; when the next write would
    /// pass it, the file becomes `FILE.1` (and `.1` becomes `.2`, up to
    /// `.N`; the oldest goes).
    mutating func stanzaLog() throws(JobParseError) {
        let what = try keyword(after: "log", oneOf: ["size", "keep"])
        let mark = lexer.nextMark()
        guard let tok = try lexer.nextToken() else {
            throw lexer.error(what.text == "size" ? "expected a size (such as 10M, 512K or unlimited) after 'log size'"
                                                  : "expected a number of old files to keep after 'log keep'", at: mark)
        }
        if what.text == "size" {
            guard let size = LogSize(parsing: tok.text) else {
                throw lexer.error("expected a size from 4K (such as 10M, 512K, 1G or unlimited) after 'log size', got '\(tok.text)'", at: mark)
            }
            try lexer.endStatement(after: "log size \(tok.text)")
            job.logSize = size
        } else {
            guard let n = wholeNumber(tok.text), n >= 0, n <= 1000 else {
                throw lexer.error("expected a number of old files from 0 to 1000 after 'log keep', got '\(tok.text)'", at: mark)
            }
            try lexer.endStatement(after: "log keep \(n)")
            job.logKeep = n
        }
    }

    /// `env-file PATH` or `env-file -PATH` (optional): a Daybreak stanza.
    /// Accumulates, in order; a path named twice is kept once, at its
    /// first place. PATH must be absolute; `$VAR` in it is left alone.
    mutating func stanzaEnvFile() throws(JobParseError) {
        let mark = lexer.nextMark()
        guard let tok = try lexer.nextToken() else {
            throw lexer.error("expected a file path after 'env-file' (prefix it with '-' when the file may be missing)", at: mark)
        }
        let optional = tok.text.hasPrefix("-")
        let path = optional ? String(tok.text.dropFirst()) : tok.text
        guard path.hasPrefix("/") else {
            throw lexer.error("expected an absolute path after 'env-file', got '\(tok.text)'", at: mark)
        }
        try lexer.endStatement(after: "env-file \(quoteIfNeeded(tok.text))")
        if !job.envFiles.contains(where: { $0.path == path }) {
            job.envFiles.append(EnvFileEntry(path: path, optional: optional))
        }
    }

    /// `env KEY=VALUE` or `env KEY`. Accumulates; a later `env` of the same
    /// name replaces the value where the name first appeared.
    mutating func stanzaEnv() throws(JobParseError) {
        let mark = lexer.nextMark()
        guard let tok = try lexer.nextToken() else {
            throw lexer.error("expected KEY=VALUE or KEY after 'env'", at: mark)
        }
        let variable: EnvVariable
        if let eq = tok.text.firstIndex(of: "=") {
            variable = EnvVariable(name: String(tok.text[..<eq]), value: String(tok.text[tok.text.index(after: eq)...]))
        } else {
            variable = EnvVariable(name: tok.text, value: nil)
        }
        guard isVariableName(variable.name) else {
            throw lexer.error("expected a variable name (letters, digits and '_', not starting with a digit) after 'env', got '\(variable.name)'", at: mark)
        }
        try lexer.endStatement(after: "env \(variable.name)")
        if envPositions == nil {
            envPositions = Dictionary(job.env.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        }
        if let i = envPositions![variable.name] {
            job.env[i] = variable
        } else {
            envPositions![variable.name] = job.env.count
            job.env.append(variable)
        }
    }

    /// `export KEY...`: names, without `$`. Accumulates; duplicates are kept once.
    mutating func stanzaExport() throws(JobParseError) {
        for tok in try arguments(after: "export", expecting: "one or more variable names") {
            guard isVariableName(tok.text) else {
                let hint = tok.text.hasPrefix("$") ? "; write the name without '$'" : ""
                throw lexer.error("expected a variable name after 'export', got '\(tok.text)'\(hint)", at: tokenMark(tok))
            }
            if exportNames == nil { exportNames = Set(job.export) }
            if exportNames!.insert(tok.text).inserted { job.export.append(tok.text) }
        }
    }

    /// `console none|output|owner|log`.
    mutating func stanzaConsole() throws(JobParseError) {
        let mark = lexer.nextMark()
        guard let tok = try lexer.nextToken() else {
            throw lexer.error("expected none, output, owner or log after 'console'", at: mark)
        }
        guard let mode = ConsoleMode(rawValue: tok.text) else {
            throw lexer.error("expected none, output, owner or log after 'console', got '\(tok.text)'", at: mark)
        }
        try lexer.endStatement(after: "console \(tok.text)")
        job.console = mode
    }

    /// `limit RESOURCE SOFT HARD`, each value a whole number or `unlimited`.
    /// The soft limit may not exceed the hard one. One entry per resource:
    /// a later `limit` of the same resource replaces it.
    mutating func stanzaLimit() throws(JobParseError) {
        let mark = lexer.nextMark()
        let names = ResourceLimit.Resource.allCases.map(\.rawValue).joined(separator: ", ")
        guard let tok = try lexer.nextToken() else {
            throw lexer.error("expected a resource (\(names)) after 'limit'", at: mark)
        }
        guard let resource = ResourceLimit.Resource(rawValue: tok.text) else {
            throw lexer.error("expected a resource (\(names)) after 'limit', got '\(tok.text)'", at: mark)
        }
        let soft = try limitValue(after: "limit \(tok.text)", which: "soft")
        let hard = try limitValue(after: "limit \(tok.text) \(soft.text)", which: "hard")
        guard soft.value <= hard.value else {
            throw lexer.error("soft limit \(soft.text) is above hard limit \(hard.text) in 'limit \(tok.text)'", at: mark)
        }
        try lexer.endStatement(after: "limit \(tok.text) \(soft.text) \(hard.text)")
        let limit = ResourceLimit(resource: resource, soft: soft.value, hard: hard.value)
        if let i = job.limits.firstIndex(where: { $0.resource == resource }) {
            job.limits[i] = limit
        } else {
            job.limits.append(limit)
            job.limits.sort { $0.resource < $1.resource }
        }
    }

    private mutating func limitValue(after stanza: String, which: String) throws(JobParseError) -> (value: LimitValue, text: String) {
        let mark = lexer.nextMark()
        guard let tok = try lexer.nextToken() else {
            throw lexer.error("expected a \(which) limit (a whole number or 'unlimited') after '\(stanza)'", at: mark)
        }
        if tok.text == "unlimited" { return (.unlimited, tok.text) }
        guard let n = wholeNumber(tok.text).flatMap(UInt64.init(exactly:)) ?? (isDigits(tok.text) ? UInt64(tok.text) : nil) else {
            throw lexer.error("expected a \(which) limit (a whole number or 'unlimited') after '\(stanza)', got '\(tok.text)'", at: mark)
        }
        // 2^64-1 is RLIM_INFINITY: the kernel's own spelling of unlimited.
        return (n == UInt64.max ? .unlimited : .value(n), tok.text)
    }

    /// `nice N`, N from -20 to 19.
    mutating func stanzaNice() throws(JobParseError) {
        let mark = lexer.nextMark()
        guard let tok = try lexer.nextToken() else {
            throw lexer.error("expected a nice value from -20 to 19 after 'nice'", at: mark)
        }
        guard let n = wholeNumber(tok.text), n >= -20, n <= 19 else {
            throw lexer.error("expected a nice value from -20 to 19 after 'nice', got '\(tok.text)'", at: mark)
        }
        try lexer.endStatement(after: "nice \(tok.text)")
        job.nice = n
    }

    /// `oom score N|never` (N from -1000 to 1000, the kernel's oom_score_adj range, as Upstart 1.13
    /// accepts; -1000 is what `never` sets), or the older `oom N|never`
    /// (N from -16 to 15), which is converted to a score as Upstart does:
    /// N * 1000 / 17 for negative N, N * 1000 / 15 for positive N.
    mutating func stanzaOom() throws(JobParseError) {
        let mark = lexer.nextMark()
        guard let first = try lexer.nextToken() else {
            throw lexer.error("expected 'score' and a value after 'oom'", at: mark)
        }
        if first.text == "score" {
            let valueMark = lexer.nextMark()
            guard let tok = try lexer.nextToken() else {
                throw lexer.error("expected a score from -1000 to 1000, or 'never', after 'oom score'", at: valueMark)
            }
            if tok.text == "never" {
                job.oomScore = .never
            } else if let n = wholeNumber(tok.text), n >= -1000, n <= 1000 {
                job.oomScore = .score(n)
            } else {
                throw lexer.error("expected a score from -1000 to 1000, or 'never', after 'oom score', got '\(tok.text)'", at: valueMark)
            }
            try lexer.endStatement(after: "oom score \(tok.text)")
            return
        }
        if first.text == "never" {
            job.oomScore = .never
        } else if let n = wholeNumber(first.text), n >= -16, n <= 15 {
            job.oomScore = .score(n < 0 ? n * 1000 / 17 : n * 1000 / 15)
        } else {
            throw lexer.error("expected 'score' after 'oom' (or an old-style adjustment from -16 to 15, or 'never'), got '\(first.text)'", at: mark)
        }
        try lexer.endStatement(after: "oom \(first.text)")
    }

    /// `umask MASK`: octal, from 0 to 0777.
    mutating func stanzaUmask() throws(JobParseError) {
        let mark = lexer.nextMark()
        guard let tok = try lexer.nextToken() else {
            throw lexer.error("expected an octal mask from 0 to 0777 after 'umask'", at: mark)
        }
        guard !tok.text.isEmpty, tok.text.utf8.count <= 4,
              tok.text.utf8.allSatisfy({ $0 >= 48 && $0 <= 55 }),
              let mask = Int(tok.text, radix: 8), mask <= 0o777
        else {
            throw lexer.error("expected an octal mask from 0 to 0777 after 'umask', got '\(tok.text)'", at: mark)
        }
        try lexer.endStatement(after: "umask \(tok.text)")
        job.umask = mask
    }

    /// `apparmor load PROFILE` or `apparmor switch NAME`.
    mutating func stanzaApparmor() throws(JobParseError) {
        let which = try keyword(after: "apparmor", oneOf: ["load", "switch"])
        let value = try singleArgument(after: "apparmor \(which.text)")
        if which.text == "load" { job.apparmorLoad = value } else { job.apparmorSwitch = value }
    }
}

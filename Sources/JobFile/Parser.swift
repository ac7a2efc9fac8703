/// The job-file parser: reads stanzas one by one into a `JobClass`.
///
/// Entry points are `Parser.parse(...)` and `Parser.parseWithOverride(...)`.
/// The stanza functions (`Stanzas*.swift`) are named after their stanza:
/// `stanzaKill` parses `kill signal` and `kill timeout`, `stanzaRespawn`
/// parses `respawn` and `respawn limit`, and so on.
///
/// Guarantees:
/// - Total: any byte sequence gives a `JobClass` or a `JobParseError`; the
///   parser never traps and every loop consumes input.
/// - A file with an error is rejected whole: no partial `JobClass` escapes.
/// - Errors name the file, line and column and say what was expected.
/// - A stanza given twice: the last wins, except the accumulating ones
///   (`env`, `export`, `emits`, `normal exit`, `limit` per resource,
///   `cgroup` per controller/name/key, `namespace`).
public struct Parser {
    var lexer: Lexer
    var job: JobClass
    /// Where each `env` name sits in `job.env`, and the names `export` and
    /// `emits` hold, so that a repeated name is found in constant time and a
    /// file of 100,000 such lines parses in linear time. Built from `job`
    /// on first use (an override starts from the job file's values).
    var envPositions: [String: Int]?
    var exportNames: Set<String>?
    var emitNames: Set<String>?
    /// What Daybreak reads but Upstart 1.13 would reject (for
    /// `init-checkconf`; the daemon does not act on them).
    var upstartRejects: [JobParseError] = []
    /// Where each stanza sits, when asked for (`Parser.stanzaPlaces`);
    /// nil in an ordinary parse, which records nothing.
    var places: [StanzaPlace]?

    init(bytes: [UInt8], file: String, job: JobClass) {
        self.lexer = Lexer(bytes: bytes, file: file)
        self.job = job
    }

    /// Parses one job file.
    ///
    /// - Parameters:
    ///   - name: the job's name (`net/apache`).
    ///   - text: the file's contents.
    ///   - file: how errors name the file (usually its path).
    public static func parse(name: String, text: String, file: String) throws(JobParseError) -> JobClass {
        try parse(name: name, bytes: Array(text.utf8), file: file)
    }

    /// Parses one job file from its bytes.
    public static func parse(name: String, bytes: [UInt8], file: String) throws(JobParseError) -> JobClass {
        var parser = Parser(bytes: bytes, file: file, job: JobClass(name: name))
        try parser.run()
        return parser.job
    }

    /// The places in a job file that Daybreak accepts but Upstart 1.13
    /// would reject the file for (a `#` comment inside the parentheses of a
    /// multi-line `start on` or `stop on`). Empty for a file with an error.
    public static func upstartRejects(name: String, bytes: [UInt8], file: String) -> [JobParseError] {
        var parser = Parser(bytes: bytes, file: file, job: JobClass(name: name))
        do {
            try parser.run()
        } catch {
            return []
        }
        return parser.upstartRejects
    }

    /// Every stanza of a job file, in order: its first word, where it
    /// starts, and for `namespace` and `cgroup` what it asked for. For
    /// checks that need the line of a stanza after parsing
    /// (`init-checkconf`'s warnings about this machine). Empty for a file
    /// with an error.
    public static func stanzaPlaces(name: String, bytes: [UInt8], file: String) -> [StanzaPlace] {
        var parser = Parser(bytes: bytes, file: file, job: JobClass(name: name))
        parser.places = []
        do {
            try parser.run()
        } catch {
            return []
        }
        return parser.places ?? []
    }

    /// Adds to the record of the stanza being parsed (when recording).
    mutating func noteStanza(_ update: (inout StanzaPlace) -> Void) {
        guard places != nil, !places!.isEmpty else { return }
        update(&places![places!.count - 1])
    }

    /// Parses a job file and its override, as Upstart does: the override's
    /// stanzas are read on top of the job file's, so a stanza there replaces
    /// the job file's (or accumulates, for the accumulating ones), and
    /// `manual` there cancels the job file's `start on`.
    ///
    /// An error in the job file rejects the job. An error in the override
    /// leaves the job as the job file alone defines it, and is returned so
    /// that it can be reported.
    public static func parseWithOverride(
        name: String, conf: [UInt8], confFile: String,
        override: [UInt8]?, overrideFile: String
    ) throws(JobParseError) -> (job: JobClass, overrideError: JobParseError?) {
        let base = try parse(name: name, bytes: conf, file: confFile)
        guard let override else { return (base, nil) }
        var parser = Parser(bytes: override, file: overrideFile, job: base)
        do {
            try parser.run()
        } catch {
            return (base, error)
        }
        return (parser.job, nil)
    }

    /// The stanza loop.
    mutating func run() throws(JobParseError) {
        while true {
            lexer.skipEmptyLines()
            if lexer.atEnd { return }
            let mark = lexer.nextMark()
            guard let tok = try lexer.nextToken() else {
                // A blank or comment at the start of a line: skipEmptyLines
                // consumed those, so this is unreachable; skip the line anyway.
                lexer.skipRestOfLine()
                continue
            }
            if places != nil {
                places!.append(StanzaPlace(stanza: tok.text, line: mark.line, column: mark.column))
            }
            try stanza(tok.text, at: mark)
        }
    }

    /// Dispatches one stanza by its first word.
    mutating func stanza(_ word: String, at mark: Lexer.Mark) throws(JobParseError) {
        switch word {
        case "description": job.description = try singleArgument(after: word)
        case "author": job.author = try singleArgument(after: word)
        case "version": job.version = try singleArgument(after: word)
        case "usage": job.usage = try singleArgument(after: word)
        case "emits": try stanzaEmits()
        case "start": try stanzaStart(at: mark)
        case "stop": try stanzaStop(at: mark)
        case "manual": try stanzaManual()
        case "while": try stanzaWhile(at: mark)
        case "instance": job.instance = try singleArgument(after: word)
        case "task": try lexer.endStatement(after: word); job.task = true
        case "respawn": try stanzaRespawn()
        case "normal": try stanzaNormal()
        case "exec": try stanzaExec(.main, after: "exec")
        case "script": try stanzaScript(.main, after: "script", at: mark)
        case "pre-start": try stanzaProcess(.preStart, at: mark)
        case "post-start": try stanzaProcess(.postStart, at: mark)
        case "pre-stop": try stanzaProcess(.preStop, at: mark)
        case "post-stop": try stanzaProcess(.postStop, at: mark)
        case "console": try stanzaConsole()
        case "env": try stanzaEnv()
        case "env-file": try stanzaEnvFile()
        case "log": try stanzaLog()
        case "export": try stanzaExport()
        case "expect": try stanzaExpect()
        case "kill": try stanzaKill()
        case "reload": try stanzaReload()
        case "limit": try stanzaLimit()
        case "nice": try stanzaNice()
        case "oom": try stanzaOom()
        case "umask": try stanzaUmask()
        case "chdir": job.chdir = try singleArgument(after: word)
        case "chroot": job.chroot = try singleArgument(after: word)
        case "setuid": job.setuid = try singleArgument(after: word)
        case "setgid": job.setgid = try singleArgument(after: word)
        case "apparmor": try stanzaApparmor()
        case "cgroup": try stanzaCgroup()
        case "namespace": try stanzaNamespace()
        case "end":
            throw lexer.error("'end' outside a script block; 'end script' must follow a 'script' line", at: mark)
        default:
            throw lexer.error("unknown stanza '\(word)'", at: mark)
        }
    }

    // MARK: Shared argument readers

    /// Reads exactly one argument and the end of the line.
    mutating func singleArgument(after stanza: String) throws(JobParseError) -> String {
        guard let tok = try lexer.nextToken() else {
            throw lexer.error("expected a value after '\(stanza)'")
        }
        try lexer.endStatement(after: "\(stanza) \(quoteIfNeeded(tok.text))")
        return tok.text
    }

    /// Reads one or more arguments to the end of the line.
    mutating func arguments(after stanza: String, expecting what: String) throws(JobParseError) -> [Lexer.Token] {
        var out: [Lexer.Token] = []
        while let tok = try lexer.nextToken() { out.append(tok) }
        guard !out.isEmpty else {
            throw lexer.error("expected \(what) after '\(stanza)'")
        }
        lexer.skipRestOfLine()
        return out
    }

    /// Reads the keyword that must follow a stanza's first word (`on` after `start`).
    mutating func keyword(after stanza: String, oneOf words: [String]) throws(JobParseError) -> Lexer.Token {
        let mark = lexer.nextMark()
        let list = words.count == 1 ? "'\(words[0])'" : words.dropLast().map { "'\($0)'" }.joined(separator: ", ") + " or '\(words.last!)'"
        guard let tok = try lexer.nextToken() else {
            throw lexer.error("expected \(list) after '\(stanza)'", at: mark)
        }
        guard words.contains(tok.text) else {
            throw lexer.error("expected \(list) after '\(stanza)', got '\(tok.text)'", at: mark)
        }
        return tok
    }

    func tokenMark(_ tok: Lexer.Token) -> Lexer.Mark { Lexer.Mark(line: tok.line, column: tok.column) }
}

/// True when `name` is a usable environment variable name: a letter or
/// underscore, then letters, digits and underscores.
func isVariableName(_ name: String) -> Bool {
    guard let first = name.utf8.first, first == UInt8(ascii: "_") || isLetter(first) else { return false }
    return name.utf8.allSatisfy { $0 == UInt8(ascii: "_") || isLetter($0) || ($0 >= 48 && $0 <= 57) }
}

private func isLetter(_ c: UInt8) -> Bool { (c >= 65 && c <= 90) || (c >= 97 && c <= 122) }

/// A whole number written as digits with an optional leading '-' (no '+',
/// no blanks), or nil.
func wholeNumber(_ text: String) -> Int? {
    let digits = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
    guard isDigits(digits) else { return nil }
    return Int(text)
}

/// True when `text` is one or more ASCII digits.
func isDigits(_ text: some StringProtocol) -> Bool {
    !text.isEmpty && text.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
}

/// One stanza of a job file: its first word (`cgroup`, `apparmor`,
/// `namespace`...), its line and column (from 1), and, for the stanzas
/// that need the machine's support, what it asked for.
public struct StanzaPlace: Hashable, Sendable {
    public var stanza: String
    public var line: Int
    public var column: Int
    /// `namespace`: the kinds this stanza names (not those of earlier ones).
    public var namespaces: [NamespaceKind] = []
    /// `cgroup`: the setting this stanza makes.
    public var cgroup: CgroupSetting?

    public init(stanza: String, line: Int, column: Int, namespaces: [NamespaceKind] = [], cgroup: CgroupSetting? = nil) {
        self.stanza = stanza
        self.line = line
        self.column = column
        self.namespaces = namespaces
        self.cgroup = cgroup
    }
}

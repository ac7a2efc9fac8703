// Stanzas that define processes: exec, script, and pre-start, post-start,
// pre-stop, post-stop followed by exec or script.

extension Parser {
    /// `exec COMMAND [ARG]...`: the rest of the line (continuations joined)
    /// is the command. Replaces an earlier `exec` or `script` of the same process.
    mutating func stanzaExec(_ kind: ProcessKind, after stanza: String) throws(JobParseError) {
        guard let command = try lexer.restOfLine() else {
            throw lexer.error("expected a command after '\(stanza)'")
        }
        job.setProcess(kind, .exec(command))
    }

    /// `script` ... `end script`: the lines between, verbatim. Nothing but a
    /// comment may follow `script` on its line. Replaces an earlier `exec`
    /// or `script` of the same process.
    mutating func stanzaScript(_ kind: ProcessKind, after stanza: String, at mark: Lexer.Mark) throws(JobParseError) {
        try lexer.endStatement(after: stanza)
        let body = try lexer.block(type: "script", opened: mark)
        job.setProcess(kind, .script(body))
    }

    /// `pre-start exec|script`, `post-start ...`, `pre-stop ...`, `post-stop ...`.
    mutating func stanzaProcess(_ kind: ProcessKind, at mark: Lexer.Mark) throws(JobParseError) {
        let how = try keyword(after: kind.rawValue, oneOf: ["exec", "script"])
        if how.text == "exec" {
            try stanzaExec(kind, after: "\(kind.rawValue) exec")
        } else {
            try stanzaScript(kind, after: "\(kind.rawValue) script", at: mark)
        }
    }
}

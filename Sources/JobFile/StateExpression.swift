/// A `while` condition: a Daybreak stanza. The job runs exactly while the
/// condition holds, and starts again each time it comes to hold again.
///
/// Grammar (docs/job-files.md, "while"):
///
///     condition := term ("or" term)*
///     term      := factor ("and" factor)*
///     factor    := "not" factor | "(" condition ")" | ["running"] JOB [KEY=VALUE]...
///
/// Unlike `start on`, `and` binds tighter than `or`, as in ordinary logic:
/// a `while` condition is a statement about states, not a sequence of events.
/// `JOB` alone means `running JOB`: at least one instance of the job is in
/// the `running` state. `KEY=VALUE` words after the name select instances:
/// only an instance whose environment has each KEY matching VALUE (a glob,
/// as in `start on`) counts.
public indirect enum StateExpression: Hashable, Sendable {
    case running(String)
    /// `running JOB KEY=VALUE...`: an instance of JOB whose environment
    /// matches every `KEY=VALUE` (never empty; without them, `running`).
    case runningWhere(String, [String])
    case not(StateExpression)
    case and(StateExpression, StateExpression)
    case or(StateExpression, StateExpression)

    /// The job names the condition refers to.
    public var jobNames: Set<String> {
        switch self {
        case .running(let j), .runningWhere(let j, _): return [j]
        case .not(let e): return e.jobNames
        case .and(let l, let r), .or(let l, let r): return l.jobNames.union(r.jobNames)
        }
    }

    /// Evaluates the condition given which jobs are running (the job name
    /// and the `KEY=VALUE` selection, empty for all instances).
    public func holds(running: (String, [String]) -> Bool) -> Bool {
        switch self {
        case .running(let j): return running(j, [])
        case .runningWhere(let j, let env): return running(j, env)
        case .not(let e): return !e.holds(running: running)
        case .and(let l, let r): return l.holds(running: running) && r.holds(running: running)
        case .or(let l, let r): return l.holds(running: running) || r.holds(running: running)
        }
    }

    /// Each `running` term, with whether it appears under an odd number of
    /// `not`s (`negated`), in the order written.
    public var terms: [(job: String, environment: [String], negated: Bool)] {
        var out: [(job: String, environment: [String], negated: Bool)] = []
        func walk(_ e: StateExpression, _ neg: Bool) {
            switch e {
            case .running(let j): out.append((j, [], neg))
            case .runningWhere(let j, let env): out.append((j, env, neg))
            case .not(let x): walk(x, !neg)
            case .and(let l, let r), .or(let l, let r): walk(l, neg); walk(r, neg)
            }
        }
        walk(self, false)
        return out
    }
}

extension Parser {
    /// Parses the condition of a `while` stanza: recursive descent over the
    /// tokens of the statement, which may span lines inside parentheses.
    mutating func stateExpression(at stanzaMark: Lexer.Mark) throws(JobParseError) -> StateExpression {
        var tokens: [Lexer.Token] = []
        var depth = 0
        var openParens: [Lexer.Mark] = []
        while true {
            lexer.skipBlank()
            if lexer.atLineEnd {
                if depth > 0 && !lexer.atEnd {
                    lexer.skipRestOfLine()
                    continue
                }
                break
            }
            guard let tok = try lexer.nextToken(parens: true) else { break }
            if !tok.quoted && tok.text == "(" {
                depth += 1
                openParens.append(Lexer.Mark(line: tok.line, column: tok.column))
            }
            if !tok.quoted && tok.text == ")" {
                depth -= 1
                _ = openParens.popLast()
            }
            guard depth <= Parser.maxParenDepth else {
                throw lexer.error("parentheses nested more than \(Parser.maxParenDepth) deep in 'while'", at: Lexer.Mark(line: tok.line, column: tok.column))
            }
            guard tokens.count < 4 * Parser.maxExpressionEvents else {
                throw lexer.error("'while' condition is longer than \(4 * Parser.maxExpressionEvents) words", at: Lexer.Mark(line: tok.line, column: tok.column))
            }
            tokens.append(tok)
        }
        let end = lexer.mark
        if depth > 0, let opened = openParens.last {
            throw lexer.error("'(' is never closed in 'while'", at: opened)
        }
        lexer.skipRestOfLine()
        var reader = StateReader(tokens: tokens, lexer: lexer, end: end)
        guard !tokens.isEmpty else {
            throw lexer.error("expected a condition after 'while', such as 'while running JOB'", at: end)
        }
        let expr = try reader.condition()
        if let extra = reader.peek {
            throw reader.error("unexpected '\(extra.text)' in 'while'; expected 'and', 'or' or the end of the line", extra)
        }
        return expr
    }
}

/// Recursive descent over the tokens of one `while` condition. The depth is
/// bounded by `Parser.maxParenDepth` (checked while collecting tokens) and by
/// the number of `not`s, which the token limit bounds.
private struct StateReader {
    let tokens: [Lexer.Token]
    let lexer: Lexer
    let end: Lexer.Mark
    var index = 0

    init(tokens: [Lexer.Token], lexer: Lexer, end: Lexer.Mark) {
        self.tokens = tokens
        self.lexer = lexer
        self.end = end
    }

    var peek: Lexer.Token? { index < tokens.count ? tokens[index] : nil }

    func error(_ message: String, _ tok: Lexer.Token?) -> JobParseError {
        let mark = tok.map { Lexer.Mark(line: $0.line, column: $0.column) } ?? end
        return lexer.error(message, at: mark)
    }

    func isWord(_ tok: Lexer.Token?, _ word: String) -> Bool {
        guard let tok else { return false }
        return !tok.quoted && tok.text == word
    }

    mutating func condition() throws(JobParseError) -> StateExpression {
        var left = try term()
        while isWord(peek, "or") {
            index += 1
            left = .or(left, try term())
        }
        return left
    }

    mutating func term() throws(JobParseError) -> StateExpression {
        var left = try factor()
        while isWord(peek, "and") {
            index += 1
            left = .and(left, try factor())
        }
        return left
    }

    mutating func factor() throws(JobParseError) -> StateExpression {
        guard let tok = peek else {
            throw error("expected a job name at the end of 'while'", nil)
        }
        if isWord(tok, "not") {
            index += 1
            return .not(try factor())
        }
        if isWord(tok, "(") {
            index += 1
            let inner = try condition()
            guard isWord(peek, ")") else {
                throw error("expected ')' to close the '(' in 'while'", peek ?? tok)
            }
            index += 1
            return inner
        }
        if isWord(tok, "running") {
            index += 1
            guard let job = peek, !isOperator(job), !job.text.isEmpty else {
                throw error("expected a job name after 'running'", peek)
            }
            index += 1
            return selection(job.text)
        }
        guard !isOperator(tok), !tok.text.isEmpty else {
            throw error("expected a job name, got '\(tok.text)'", tok)
        }
        index += 1
        return selection(tok.text)
    }

    /// The `KEY=VALUE` words after a job name, selecting its instances.
    mutating func selection(_ job: String) -> StateExpression {
        var env: [String] = []
        while let t = peek, !isOperator(t), let eq = t.text.firstIndex(of: "="), eq != t.text.startIndex {
            env.append(t.text)
            index += 1
        }
        return env.isEmpty ? .running(job) : .runningWhere(job, env)
    }

    func isOperator(_ tok: Lexer.Token) -> Bool {
        !tok.quoted && ["and", "or", "not", "(", ")"].contains(tok.text)
    }
}

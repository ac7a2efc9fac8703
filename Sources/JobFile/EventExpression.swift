/// A `start on` / `stop on` condition: a tree of event matches joined by `and` and `or`.
///
/// Upstart gives `and` and `or` the same precedence and groups them from the
/// left: `a or b and c` is `(a or b) and c`. Parentheses group explicitly and
/// may span lines.
public indirect enum EventExpression: Hashable, Sendable {
    case match(EventMatch)
    case and(EventExpression, EventExpression)
    case or(EventExpression, EventExpression)

    /// Every event match in the tree, left to right.
    public var matches: [EventMatch] {
        var out: [EventMatch] = []
        var stack: [EventExpression] = [self]
        while let e = stack.popLast() {
            switch e {
            case .match(let m): out.append(m)
            case .and(let l, let r), .or(let l, let r):
                stack.append(r)
                stack.append(l)
            }
        }
        return out
    }

    /// The distinct event names the expression can match, for indexing.
    public var eventNames: Set<String> { Set(matches.map(\.name)) }
}

/// One event in an expression: its name and the arguments it must carry.
public struct EventMatch: Hashable, Sendable {
    public var name: String
    public var arguments: [EventArgument]

    public init(name: String, arguments: [EventArgument] = []) {
        self.name = name
        self.arguments = arguments
    }
}

/// One argument of an event match: `VALUE` (by position), `KEY=VALUE` or `KEY!=VALUE`.
///
/// The value may hold fnmatch(3) globs and `$VAR` references; both are
/// interpreted when events are matched, not when the file is parsed.
public struct EventArgument: Hashable, Sendable {
    /// nil for a positional argument.
    public var key: String?
    public var value: String
    /// `!=`: the argument matches when the value does not.
    public var negated: Bool

    public init(key: String? = nil, value: String, negated: Bool = false) {
        self.key = key
        self.value = value
        self.negated = negated
    }

    /// Splits a dequoted token: the first `=` makes it named, `!=` negates.
    init(token: String) {
        guard let eq = token.firstIndex(of: "=") else {
            self.init(value: token)
            return
        }
        var key = token[..<eq]
        var negated = false
        if key.last == "!" {
            key.removeLast()
            negated = true
        }
        self.init(key: String(key), value: String(token[token.index(after: eq)...]), negated: negated)
    }
}

extension Parser {
    /// The most event matches one expression may hold, and the deepest nesting
    /// of parentheses: bounds that keep every later walk of the tree shallow.
    static let maxExpressionEvents = 1024
    static let maxParenDepth = 64

    /// Parses an event expression after `start on` / `stop on`.
    ///
    /// Works like Upstart's operator stack, iteratively: each frame is one
    /// level of parentheses holding the expression so far, an operator waiting
    /// for its right operand, and the event match being read. Newlines are
    /// whitespace while a parenthesis is open, and comments may end those lines.
    mutating func eventExpression(after stanza: String, at stanzaMark: Lexer.Mark) throws(JobParseError) -> EventExpression {
        struct Frame {
            var acc: EventExpression?
            var pending: (op: String, mark: Lexer.Mark)?
            var match: EventMatch?
            var sawNamed = false
            var opened: Lexer.Mark
        }
        var frames = [Frame(opened: stanzaMark)]
        var events = 0

        func combine(_ value: EventExpression, into frame: inout Frame, at mark: Lexer.Mark) throws(JobParseError) {
            if let acc = frame.acc {
                guard let pending = frame.pending else {
                    throw lexer.error("expected 'and' or 'or' before this", at: mark)
                }
                frame.acc = pending.op == "and" ? .and(acc, value) : .or(acc, value)
                frame.pending = nil
            } else {
                frame.acc = value
            }
        }
        func flush(_ frame: inout Frame, at mark: Lexer.Mark) throws(JobParseError) {
            if let m = frame.match {
                frame.match = nil
                frame.sawNamed = false
                try combine(.match(m), into: &frame, at: mark)
            }
        }

        while true {
            lexer.skipBlank()
            if lexer.atLineEnd {
                if frames.count > 1 && !lexer.atEnd {
                    // A comment inside the parentheses: Daybreak skips it,
                    // as a reader would; Upstart's parser rejects the file.
                    if lexer.current == .hash {
                        upstartRejects.append(lexer.error(
                            "a comment inside the parentheses of '\(stanza)': Daybreak reads it as a comment, but Upstart 1.13 rejects this file",
                            at: lexer.mark))
                    }
                    lexer.skipRestOfLine()
                    continue
                }
                break
            }
            let here = lexer.mark
            guard let tok = try lexer.nextToken(parens: true) else { break }
            let word = tok.text
            if !tok.quoted && word == "(" {
                let top = frames[frames.count - 1]
                if top.match != nil || (top.acc != nil && top.pending == nil) {
                    throw lexer.error("expected 'and' or 'or' before '('", at: here)
                }
                guard frames.count <= Parser.maxParenDepth else {
                    throw lexer.error("parentheses nested more than \(Parser.maxParenDepth) deep in '\(stanza)'", at: here)
                }
                frames.append(Frame(opened: here))
            } else if !tok.quoted && word == ")" {
                guard frames.count > 1 else {
                    throw lexer.error("unmatched ')' in '\(stanza)'", at: here)
                }
                var frame = frames.removeLast()
                try flush(&frame, at: here)
                if let pending = frame.pending {
                    throw lexer.error("expected an event after '\(pending.op)', got ')'", at: here)
                }
                guard let value = frame.acc else {
                    throw lexer.error("expected an event inside '()'", at: here)
                }
                try combine(value, into: &frames[frames.count - 1], at: here)
            } else if !tok.quoted && (word == "and" || word == "or") {
                try flush(&frames[frames.count - 1], at: here)
                if let pending = frames[frames.count - 1].pending {
                    throw lexer.error("expected an event after '\(pending.op)', got '\(word)'", at: here)
                }
                guard frames[frames.count - 1].acc != nil else {
                    throw lexer.error("expected an event before '\(word)'", at: here)
                }
                frames[frames.count - 1].pending = (word, here)
            } else if frames[frames.count - 1].match != nil {
                let arg = EventArgument(token: word)
                if let key = arg.key {
                    guard isVariableName(key) else {
                        throw lexer.error("expected a variable name before '\(arg.negated ? "!=" : "=")' in '\(word)'", at: here)
                    }
                    frames[frames.count - 1].sawNamed = true
                } else if frames[frames.count - 1].sawNamed {
                    throw lexer.error(
                        "positional argument '\(word)' follows KEY=VALUE arguments of event '\(frames[frames.count - 1].match!.name)'; positional arguments come first",
                        at: here)
                }
                frames[frames.count - 1].match!.arguments.append(arg)
            } else {
                let top = frames[frames.count - 1]
                if top.acc != nil && top.pending == nil {
                    throw lexer.error("expected 'and' or 'or' before '\(word)'", at: here)
                }
                guard !word.isEmpty else {
                    throw lexer.error("expected an event name, got an empty string", at: here)
                }
                events += 1
                guard events <= Parser.maxExpressionEvents else {
                    throw lexer.error("'\(stanza)' names more than \(Parser.maxExpressionEvents) events", at: here)
                }
                frames[frames.count - 1].match = EventMatch(name: word)
            }
        }
        let end = lexer.mark
        if frames.count > 1 {
            throw lexer.error("'(' is never closed in '\(stanza)'", at: frames[frames.count - 1].opened)
        }
        try flush(&frames[0], at: end)
        if let pending = frames[0].pending {
            throw lexer.error("expected an event after '\(pending.op)'", at: end)
        }
        guard let expr = frames[0].acc else {
            throw lexer.error("expected an event after '\(stanza)'", at: end)
        }
        lexer.skipRestOfLine()
        return expr
    }
}

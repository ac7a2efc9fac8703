/// The tokenizer under the job-file parser, following libnih's config rules.
///
/// - Whitespace is space, tab and carriage return; a backslash before a
///   newline joins the next line (it counts as whitespace).
/// - `#` outside quotes starts a comment that runs to the end of the line,
///   wherever it stands, also in the middle of a word (`foo#bar` is `foo`).
/// - Single and double quotes group words and may span lines. Inside double
///   quotes `\"` and `\\` are escapes; inside single quotes nothing is.
///   Outside quotes a backslash makes the next character literal.
/// - Tokens are dequoted (quotes and escapes removed) unless the caller asks
///   for the raw text; `Token.quoted` says whether any quoting was seen, so
///   that a quoted `"and"` is an operand, not an operator.
///
/// The lexer works on bytes and is total: every input ends in a token, an end
/// of line, or a `JobParseError`, and every loop consumes at least one byte.
struct Lexer {
    let bytes: [UInt8]
    let file: String
    private(set) var pos = 0
    private(set) var line = 1
    private var lineStart = 0

    init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
    }

    struct Token {
        var text: String
        var quoted: Bool
        var line: Int
        var column: Int
    }

    struct Mark {
        var line: Int
        var column: Int
    }

    var mark: Mark { Mark(line: line, column: pos - lineStart + 1) }
    /// Skips blanks and returns the position of whatever comes next.
    mutating func nextMark() -> Mark {
        skipBlank()
        return mark
    }

    var atEnd: Bool { pos >= bytes.count }
    var current: UInt8? { pos < bytes.count ? bytes[pos] : nil }

    /// True at the end of the file, a newline or a comment.
    var atLineEnd: Bool {
        guard let c = current else { return true }
        return c == .newline || c == .hash
    }

    func error(_ message: String, at mark: Mark) -> JobParseError {
        JobParseError(file: file, line: mark.line, column: mark.column, message: message)
    }

    func error(_ message: String) -> JobParseError { error(message, at: mark) }

    private mutating func newline() {
        pos += 1
        line += 1
        lineStart = pos
    }

    /// Skips spaces, tabs, carriage returns and backslash-newline pairs.
    mutating func skipBlank() {
        while let c = current {
            if c == .space || c == .tab || c == .cr {
                pos += 1
            } else if c == .backslash, pos + 1 < bytes.count, bytes[pos + 1] == .newline {
                pos += 1
                newline()
            } else {
                return
            }
        }
    }

    /// Skips a comment, if one starts here, and the newline that ends the line.
    mutating func skipRestOfLine() {
        while let c = current, c != .newline { pos += 1 }
        if current == .newline { newline() }
    }

    /// Skips blank lines and comment lines; stops at the first byte of a stanza or at the end.
    mutating func skipEmptyLines() {
        while true {
            skipBlank()
            guard let c = current else { return }
            if c == .newline || c == .hash { skipRestOfLine() } else { return }
        }
    }

    /// Requires the end of the statement: only blanks and a comment may follow.
    mutating func endStatement(after stanza: String) throws(JobParseError) {
        skipBlank()
        if atLineEnd {
            skipRestOfLine()
            return
        }
        let start = mark
        let extra = try nextToken()
        throw error("unexpected '\(extra?.text ?? "")' after '\(stanza)'; expected the end of the line", at: start)
    }

    /// Reads one token, or returns nil at the end of the line.
    ///
    /// - Parameters:
    ///   - parens: `(` and `)` also end a token (event expressions).
    mutating func nextToken(parens: Bool = false) throws(JobParseError) -> Token? {
        skipBlank()
        if atLineEnd { return nil }
        let start = mark
        if parens, let c = current, c == .lparen || c == .rparen {
            pos += 1
            return Token(text: c == .lparen ? "(" : ")", quoted: false, line: start.line, column: start.column)
        }
        var out: [UInt8] = []
        var quoted = false
        var quote: UInt8? = nil
        var quoteMark = start
        while let c = current {
            if let q = quote {
                if c == q {
                    quote = nil
                    pos += 1
                } else if c == .backslash && q == .dquote && pos + 1 < bytes.count {
                    let next = bytes[pos + 1]
                    if next == .newline {
                        pos += 1
                        newline()
                    } else if next == .dquote || next == .backslash {
                        out.append(next)
                        pos += 2
                    } else {
                        out.append(c)
                        pos += 1
                    }
                } else if c == .newline {
                    out.append(c)
                    newline()
                } else {
                    out.append(c)
                    pos += 1
                }
                continue
            }
            if c == .space || c == .tab || c == .cr || c == .newline || c == .hash { break }
            if parens && (c == .lparen || c == .rparen) { break }
            if c == .squote || c == .dquote {
                quote = c
                quoted = true
                quoteMark = mark
                pos += 1
            } else if c == .backslash {
                guard pos + 1 < bytes.count else {
                    out.append(c)
                    pos += 1
                    continue
                }
                if bytes[pos + 1] == .newline { break }
                quoted = true
                out.append(bytes[pos + 1])
                pos += 2
            } else {
                out.append(c)
                pos += 1
            }
        }
        if quote != nil {
            throw error("unterminated quote; the quote opened here is never closed", at: quoteMark)
        }
        return Token(text: String(decoding: out, as: UTF8.self), quoted: quoted, line: start.line, column: start.column)
    }

    /// Reads the rest of the line as a command, for `exec`.
    ///
    /// Quotes and backslashes are kept as written (the shell or the spawner
    /// reads them later), but they still decide where the command ends: an
    /// unquoted `#` starts a comment, a quoted newline belongs to the command,
    /// and a backslash-newline joins the next line with a space (a backslash
    /// that ends the file joins nothing). Trailing blanks are removed, unless
    /// escaped by a backslash. Returns nil when nothing but blanks, a comment
    /// or a continuation follow.
    mutating func restOfLine() throws(JobParseError) -> String? {
        skipBlank()
        if atLineEnd { return nil }
        var out: [UInt8] = []
        var quote: UInt8? = nil
        var quoteMark = mark
        // The length of `out` after the last backslash pair outside quotes.
        var escaped = 0
        while let c = current {
            if let q = quote {
                if c == q {
                    quote = nil
                    out.append(c)
                    pos += 1
                } else if c == .backslash && q == .dquote && pos + 1 < bytes.count {
                    if bytes[pos + 1] == .newline {
                        out.append(.space)
                        pos += 1
                        newline()
                    } else {
                        out.append(c)
                        out.append(bytes[pos + 1])
                        pos += 2
                    }
                } else if c == .newline {
                    out.append(c)
                    newline()
                } else {
                    out.append(c)
                    pos += 1
                }
                continue
            }
            if c == .newline || c == .hash { break }
            if c == .squote || c == .dquote {
                quote = c
                quoteMark = mark
                out.append(c)
                pos += 1
            } else if c == .backslash && pos + 1 < bytes.count {
                if bytes[pos + 1] == .newline {
                    out.append(.space)
                    pos += 1
                    newline()
                } else {
                    out.append(c)
                    out.append(bytes[pos + 1])
                    pos += 2
                    escaped = out.count
                }
            } else if c == .backslash {
                // The last byte of the file: a continuation with no line
                // after it. Kept, it would end the command in a bare
                // backslash, which printed back would join the next line.
                pos += 1
            } else {
                out.append(c)
                pos += 1
            }
        }
        if quote != nil {
            throw error("unterminated quote; the quote opened here is never closed", at: quoteMark)
        }
        // An escaped blank (`\ `, or `\` and a carriage return) is part of the
        // command: trimming it would leave a bare backslash at the end, which
        // printed back would join the next line.
        while out.count > escaped, let last = out.last, last == .space || last == .tab || last == .cr { out.removeLast() }
        skipRestOfLine()
        return out.isEmpty ? nil : String(decoding: out, as: UTF8.self)
    }

    /// Reads the lines of a block up to the line `end TYPE`, for `script`.
    ///
    /// The body is kept verbatim, indentation included. The end line is
    /// `end` and `TYPE` separated by blanks, with only blanks or a comment
    /// after it; any other line, `end script now` included, is part of the body.
    mutating func block(type: String, opened: Mark) throws(JobParseError) -> String {
        let bodyStart = pos
        let typeBytes = Array(type.utf8)
        while !atEnd {
            let lineBegin = pos
            if isBlockEnd(at: lineBegin, type: typeBytes) {
                let body = String(decoding: bytes[bodyStart..<lineBegin], as: UTF8.self)
                skipRestOfLine()
                return body
            }
            skipRestOfLine()
        }
        throw error("'\(type)' block has no 'end \(type)' line before the end of the file", at: opened)
    }

    private func isBlockEnd(at start: Int, type: [UInt8]) -> Bool {
        var i = start
        func skipWS() { while i < bytes.count, bytes[i] == .space || bytes[i] == .tab || bytes[i] == .cr { i += 1 } }
        func word(_ w: [UInt8]) -> Bool {
            guard i + w.count <= bytes.count, bytes[i..<(i + w.count)].elementsEqual(w) else { return false }
            i += w.count
            return true
        }
        skipWS()
        guard word(Array("end".utf8)) else { return false }
        let beforeGap = i
        skipWS()
        guard i > beforeGap, word(type) else { return false }
        skipWS()
        return i >= bytes.count || bytes[i] == .newline || bytes[i] == .hash
    }
}

extension UInt8 {
    static let newline = UInt8(ascii: "\n")
    static let cr = UInt8(ascii: "\r")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let hash = UInt8(ascii: "#")
    static let squote = UInt8(ascii: "'")
    static let dquote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let lparen = UInt8(ascii: "(")
    static let rparen = UInt8(ascii: ")")
}

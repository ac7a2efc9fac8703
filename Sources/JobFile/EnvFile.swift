/// `env-file PATH` (a Daybreak stanza): the text of an environment file,
/// as Debian's and Red Hat's `/etc/default/*` and `/etc/sysconfig/*` write
/// them. Reading the file is the shell's work; this is the pure part.
///
/// Each line is one of:
///
///     # a comment                  (also after a value: KEY=v # note)
///     (blank)
///     KEY=VALUE                    VALUE ends at the first blank
///     KEY="VALUE"                  \" \\ \$ \` and \<newline> are escapes
///     KEY='VALUE'                  nothing is special until the next '
///     export KEY=VALUE             as a shell script would say it
///
/// A quoted value may span lines. Nothing is expanded (`$OTHER` stays as
/// written, as with `env`). Anything else (`KEY = v`, `KEY=a b`, an
/// unclosed quote, a bad name) is an `EnvFileError` naming the file and
/// line.
public enum EnvFile {
    /// The `KEY=VALUE` entries of `text`, in order; a later line for the
    /// same name replaces the earlier value when they are applied.
    public static func parse(_ text: String, file: String) throws(EnvFileError) -> [String] {
        try parseLines(text, file: file).map(\.entry)
    }

    /// As `parse`, with the line each entry begins on.
    public static func parseLines(_ text: String, file: String) throws(EnvFileError) -> [(entry: String, line: Int)] {
        var out: [(entry: String, line: Int)] = []
        let bytes = Array(text.utf8)
        var i = 0
        var line = 1
        func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
        func fail(_ message: String, _ at: Int) -> EnvFileError { EnvFileError(file: file, line: at, message: message) }
        while i < bytes.count {
            let startLine = line
            while i < bytes.count && isBlank(bytes[i]) { i += 1 }
            if i == bytes.count { break }
            if bytes[i] == 0x0A { line += 1; i += 1; continue }
            if bytes[i] == 0x23 {  // #
                while i < bytes.count && bytes[i] != 0x0A { i += 1 }
                continue
            }
            // `export ` before the name.
            let exportWord = Array("export".utf8)
            if i + exportWord.count < bytes.count && Array(bytes[i..<i + exportWord.count]) == exportWord && isBlank(bytes[i + exportWord.count]) {
                i += exportWord.count
                while i < bytes.count && isBlank(bytes[i]) { i += 1 }
            }
            let nameStart = i
            while i < bytes.count && (bytes[i] == 0x5F || (bytes[i] | 0x20) >= 0x61 && (bytes[i] | 0x20) <= 0x7A || (i > nameStart && bytes[i] >= 0x30 && bytes[i] <= 0x39)) { i += 1 }
            let name = String(decoding: bytes[nameStart..<i], as: UTF8.self)
            guard !name.isEmpty else {
                throw fail("expected KEY=VALUE, a comment or a blank line", startLine)
            }
            guard i < bytes.count && bytes[i] == 0x3D else {
                throw fail("expected '=' right after '\(name)' (no blanks around it)", startLine)
            }
            i += 1
            var value: [UInt8] = []
            // The value: unquoted, double- and single-quoted pieces, joined
            // until a blank or the end of the line.
            while i < bytes.count && !isBlank(bytes[i]) && bytes[i] != 0x0A {
                switch bytes[i] {
                case 0x27:  // '
                    i += 1
                    while i < bytes.count && bytes[i] != 0x27 {
                        if bytes[i] == 0x0A { line += 1 }
                        value.append(bytes[i]); i += 1
                    }
                    guard i < bytes.count else { throw fail("a single quote after '\(name)=' is never closed", startLine) }
                    i += 1
                case 0x22:  // "
                    i += 1
                    while i < bytes.count && bytes[i] != 0x22 {
                        if bytes[i] == 0x5C && i + 1 < bytes.count && [0x22, 0x5C, 0x24, 0x60, 0x0A].contains(bytes[i + 1]) {
                            if bytes[i + 1] == 0x0A { line += 1 } else { value.append(bytes[i + 1]) }
                            i += 2
                            continue
                        }
                        if bytes[i] == 0x0A { line += 1 }
                        value.append(bytes[i]); i += 1
                    }
                    guard i < bytes.count else { throw fail("a double quote after '\(name)=' is never closed", startLine) }
                    i += 1
                case 0x5C:  // \ outside quotes: the next byte as it is
                    guard i + 1 < bytes.count, bytes[i + 1] != 0x0A else {
                        throw fail("a backslash ends the line after '\(name)='", startLine)
                    }
                    value.append(bytes[i + 1]); i += 2
                default:
                    value.append(bytes[i]); i += 1
                }
            }
            while i < bytes.count && isBlank(bytes[i]) { i += 1 }
            if i < bytes.count && bytes[i] == 0x23 {
                while i < bytes.count && bytes[i] != 0x0A { i += 1 }
            }
            guard i == bytes.count || bytes[i] == 0x0A else {
                throw fail("unexpected text after the value of '\(name)' (quote a value with blanks in it)", startLine)
            }
            out.append((name + "=" + String(decoding: value, as: UTF8.self), startLine))
        }
        return out
    }
}

/// A line of an environment file that is not `KEY=VALUE`, a comment or
/// blank: `FILE:LINE: message`.
public struct EnvFileError: Error, Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var message: String

    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { "\(file):\(line): \(message)" }
}

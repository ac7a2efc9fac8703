/// A job-file error: where it is and what was expected.
///
/// `description` is the form every tool prints:
/// `foo.conf:12:7: expected a signal name or number after 'kill signal', got 'SIGFOO'`.
public struct JobParseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file as the user named it (or a label such as `<string>`).
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column, counted in bytes from the start of the line.
    public var column: Int
    /// What was wrong, starting with a lower-case letter, without the position.
    public var message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String { "\(file):\(line):\(column): \(message)" }
}

import Testing
@testable import JobFile

/// Parses `text` as job `test` from file `test.conf`.
func parse(_ text: String, name: String = "test") throws -> JobClass {
    try Parser.parse(name: name, text: text, file: "test.conf")
}

/// The error parsing `text` gives, or nil when it parses.
func parseError(_ text: String) -> JobParseError? {
    do {
        _ = try Parser.parse(name: "test", text: text, file: "test.conf")
        return nil
    } catch {
        return error
    }
}

/// Expects `text` to fail with exactly `message` at `line`:`column`.
func expectError(_ text: String, _ line: Int, _ column: Int, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let error = parseError(text)
    #expect(error == JobParseError(file: "test.conf", line: line, column: column, message: message), sourceLocation: sourceLocation)
}

func ev(_ name: String, _ args: EventArgument...) -> EventExpression {
    .match(EventMatch(name: name, arguments: args))
}

func pos(_ value: String) -> EventArgument { EventArgument(value: value) }
func kv(_ key: String, _ value: String) -> EventArgument { EventArgument(key: key, value: value) }
func neq(_ key: String, _ value: String) -> EventArgument { EventArgument(key: key, value: value, negated: true) }

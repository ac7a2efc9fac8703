import Testing
@testable import JobFile

/// Inputs the fuzz targets (Fuzz/, docs/RELIABILITY.md) found, minimized,
/// each with the property it broke. The fuzzer's bytes are kept as they were
/// found, so each can also be replayed with `Fuzz/run TARGET --replay FILE`.
@Suite struct FuzzRegressions {
    /// FuzzExpression, input `0f/'o,ot"\xD6\x9B'`: an event name holding a
    /// double quote followed by a combining mark (U+059B) printed without the
    /// backslash before the quote, because the printer escaped by Character
    /// and `"` + U+059B is one Character. The printed job did not parse.
    @Test func aQuoteFollowedByACombiningMarkIsEscapedWhenPrinted() throws {
        let bytes: [UInt8] = Array("start on ".utf8) + [0x66, 0x2F, 0x27, 0x6F, 0x2C, 0x6F, 0x74, 0x22, 0xD6, 0x9B, 0x27]
        let job = try Parser.parse(name: "fuzz", bytes: bytes, file: "fuzz.conf")
        #expect(job.startOn == .match(EventMatch(name: "f/o,ot\"\u{59B}")))
        let again = try Parser.parse(name: "fuzz", text: job.jobFileText, file: "printed.conf")
        #expect(again == job)
        #expect(quoteIfNeeded("\"\u{59B}") == "\"\\\"\u{59B}\"")
        #expect(quoteIfNeeded("\\\u{301}x y") == "\"\\\\\u{301}x y\"")
    }

    /// FuzzJobFile, input `start on st\x1Drtup\n\rexec true\\\r\n` (and, by
    /// hand, `exec true\\ `): an escaped blank at the end of an `exec` line
    /// was trimmed as if it were trailing space, leaving the command ending in
    /// a bare backslash; printed back, that backslash joined the next line.
    @Test func anEscapedBlankEndingAnExecCommandIsKept() throws {
        let found: [UInt8] = Array("start on st\u{1D}rtup\n\rexec true\\\r\n".utf8)
        for bytes in [found, Array("exec true\\\r\n".utf8), Array("exec true\\ \npre-start exec a\\\t\n".utf8)] {
            let job = try Parser.parse(name: "fuzz", bytes: bytes, file: "fuzz.conf")
            let again = try Parser.parse(name: "fuzz", text: job.jobFileText, file: "printed.conf")
            #expect(again == job, "printed:\n\(job.jobFileText)")
        }
        #expect(try parse("exec true\\ \n").process(.main) == .exec("true\\ "))
        #expect(try parse("exec true \n").process(.main) == .exec("true"))
    }

    /// FuzzJobFile, minimized to `exec \\` at the end of the file: the
    /// backslash, with no newline after it, was kept as the command; printed
    /// back (`exec \\` and a newline) it joined the next line, and the
    /// command was gone. A backslash that ends the file continues into
    /// nothing, as a backslash-newline does.
    @Test func aBackslashEndingTheFileEndsAnExecCommandWithNothing() throws {
        #expect(try parse("exec true \\").process(.main) == .exec("true"))
        expectError("exec \\", 1, 7, "expected a command after 'exec'")
        let job = try Parser.parse(name: "fuzz", text: "exec a\\", file: "fuzz.conf")
        #expect(try Parser.parse(name: "fuzz", text: job.jobFileText, file: "printed.conf") == job)
    }

    /// FuzzJobFile (the long run), minimized to `script\n\r\nend script`: a
    /// script body ending in CR LF got a second newline when printed, because
    /// `"\r\n"` is one Character and `hasSuffix("\n")` was false; the printed
    /// job's body had an extra empty line.
    @Test func aScriptBodyEndingInCarriageReturnNewlineIsPrintedAsIs() throws {
        let job = try parse("script\n\r\nend script")
        #expect(job.process(.main) == .script("\r\n"))
        #expect(job.jobFileText.hasSuffix("script\n\r\nend script\n"))
        #expect(try Parser.parse(name: "test", text: job.jobFileText, file: "printed.conf") == job)
    }

    /// FuzzJobFile (the long run), minimized to `while a and r and v ...`
    /// with 66 names: the chain parses (no parentheses), but the printer
    /// parenthesized every left operand that was itself an `and`, so the
    /// printed condition nested 65 deep, past the parser's 64, and did not
    /// parse.
    @Test func aLongAndChainInWhilePrintsWithoutNestedParentheses() throws {
        let names = (0..<200).map { "j\($0)" }
        let job = try parse("while " + names.joined(separator: " and ") + "\n")
        #expect(job.whileCondition?.jobNames.count == 200)
        #expect(!job.jobFileText.contains("("))
        #expect(try Parser.parse(name: "test", text: job.jobFileText, file: "printed.conf") == job)
        let mixed = try parse("while (a or b) and c and (d or e)\n")
        #expect(mixed.whileCondition?.text == "(running a or running b) and running c and (running d or running e)")
        #expect(try Parser.parse(name: "test", text: mixed.jobFileText, file: "printed.conf") == mixed)
    }
}

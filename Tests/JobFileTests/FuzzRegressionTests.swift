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
}

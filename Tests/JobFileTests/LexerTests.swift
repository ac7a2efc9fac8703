import Testing
@testable import JobFile

@Suite struct FileFormat {
    @Test func blankLinesAndCommentLinesAreIgnored() throws {
        let job = try parse("\n\n   \n# a comment\n\t# another\ntask\n\n")
        #expect(job.task)
    }

    @Test func commentAfterAStanzaIsIgnored() throws {
        let job = try parse("description \"web\" # the web job\n")
        #expect(job.description == "web")
    }

    @Test func hashInsideAWordStartsAComment() throws {
        // libnih counts '#' as a token delimiter wherever it stands outside quotes.
        let job = try parse("instance foo#bar\n")
        #expect(job.instance == "foo")
    }

    @Test func hashInsideQuotesIsKept() throws {
        #expect(try parse("description \"a # b\"\n").description == "a # b")
        #expect(try parse("description 'a # b'\n").description == "a # b")
    }

    @Test func doubleQuotesGroupWordsAndAreRemoved() throws {
        #expect(try parse("author \"Jane Doe <jane@example.com>\"\n").author == "Jane Doe <jane@example.com>")
    }

    @Test func singleQuotesKeepBackslashesLiterally() throws {
        #expect(try parse("description 'a\\nb'\n").description == "a\\nb")
    }

    @Test func doubleQuoteEscapesAreQuoteAndBackslashOnly() throws {
        #expect(try parse("description \"say \\\"hi\\\" \\\\ \\n\"\n").description == "say \"hi\" \\ \\n")
    }

    @Test func backslashOutsideQuotesMakesTheNextCharacterLiteral() throws {
        #expect(try parse("description a\\ b\n").description == "a b")
        #expect(try parse("instance a\\#b\n").instance == "a#b")
    }

    @Test func quotedStringsMaySpanLines() throws {
        #expect(try parse("description \"two\nlines\"\ntask\n").description == "two\nlines")
    }

    @Test func backslashNewlineContinuesAStanzaOnTheNextLine() throws {
        let job = try parse("kill \\\n   timeout \\\n 30\n")
        #expect(job.killTimeout == 30)
    }

    @Test func carriageReturnsCountAsWhitespace() throws {
        let job = try parse("task\r\nkill timeout 7\r\n")
        #expect(job.task && job.killTimeout == 7)
    }

    @Test func quotedWordsAreSeparatedFromNeighboursOnlyByBlanks() throws {
        #expect(try parse("description ab\"c d\"ef\n").description == "abc def")
    }

    @Test func unterminatedQuoteIsReportedWhereItOpens() {
        expectError("task\ndescription \"never closed\n", 2, 13, "unterminated quote; the quote opened here is never closed")
    }

    @Test func extraWordsAfterASingleValueStanzaAreRejected() {
        expectError("description two words\n", 1, 17, "unexpected 'words' after 'description two'; expected the end of the line")
    }

    @Test func unknownStanzaIsRejectedWithItsPosition() {
        expectError("task\n  frobnicate now\n", 2, 3, "unknown stanza 'frobnicate'")
    }

    @Test func stanzaNamesAreCaseSensitive() {
        expectError("Task\n", 1, 1, "unknown stanza 'Task'")
    }

    @Test func columnsCountFromOneAfterTabs() {
        expectError("\tnice 40\n", 1, 7, "expected a nice value from -20 to 19 after 'nice', got '40'")
    }

    @Test func emptyFileIsAJobWithAllDefaults() throws {
        #expect(try parse("") == JobClass(name: "test"))
        #expect(try parse("# only a comment") == JobClass(name: "test"))
    }

    @Test func fileWithoutTrailingNewlineParses() throws {
        #expect(try parse("nice 3").nice == 3)
    }

    @Test func invalidUTF8DoesNotStopTheParser() throws {
        let bytes: [UInt8] = Array("description ".utf8) + [0xff, 0xfe] + Array("\n".utf8)
        let job = try Parser.parse(name: "x", bytes: bytes, file: "x.conf")
        #expect(job.description != nil)
    }
}

@Suite struct ScriptBlocks {
    @Test func scriptBodyIsKeptVerbatimWithIndentation() throws {
        let text = "script\n    echo one   # not a comment to us\n\tif true; then\n\t\techo \"two\"\n\tfi\nend script\n"
        let job = try parse(text)
        #expect(job.main == .script("    echo one   # not a comment to us\n\tif true; then\n\t\techo \"two\"\n\tfi\n"))
    }

    @Test func endScriptMayBeIndentedAndCommented() throws {
        let job = try parse("script\n  true\n    end   script   # done\ntask\n")
        #expect(job.main == .script("  true\n"))
        #expect(job.task)
    }

    @Test func endScriptFollowedByWordsIsPartOfTheBody() throws {
        let job = try parse("script\nend script now\nend script\n")
        #expect(job.main == .script("end script now\n"))
    }

    @Test func endScriptWithoutBlankBetweenWordsIsPartOfTheBody() throws {
        let job = try parse("script\nendscript\nend script\n")
        #expect(job.main == .script("endscript\n"))
    }

    @Test func emptyScriptIsAllowed() throws {
        #expect(try parse("script\nend script\n").main == .script(""))
    }

    @Test func scriptWithoutEndIsRejectedAtItsOpening() {
        expectError("task\npre-start script\n  echo hi\n", 2, 1, "'script' block has no 'end script' line before the end of the file")
    }

    @Test func wordsAfterScriptAreRejected() {
        expectError("script echo hi\nend script\n", 1, 8, "unexpected 'echo' after 'script'; expected the end of the line")
    }

    @Test func commentAfterScriptIsAllowed() throws {
        #expect(try parse("script # the main process\n  true\nend script\n").main == .script("  true\n"))
    }

    @Test func endOutsideAScriptIsRejected() {
        expectError("end script\n", 1, 1, "'end' outside a script block; 'end script' must follow a 'script' line")
    }
}

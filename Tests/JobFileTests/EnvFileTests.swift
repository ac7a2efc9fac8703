import Testing
@testable import JobFile

/// `env-file`: the stanza, and the pure reader of the file's text.
@Suite struct EnvFileTests {
    @Test func envFileReadsEveryLineForm() throws {
        let text = """
        # a comment
        
        PLAIN=value
          INDENTED=x
        EMPTY=
        DOUBLE="a \\"quoted\\" \\$HOME and \\\\ and 'single'"
        SINGLE='no $expansion \\ here "at all"'
        export EXPORTED=yes
        export   SPACED="two words"
        TRAILING=v # a note
        JOINED=a"b c"'d e'
        MULTI="line one
        line two"
        AFTER=1
        PLAIN=again
        """
        let entries = try EnvFile.parse(text, file: "/etc/default/svc")
        #expect(entries == [
            "PLAIN=value", "INDENTED=x", "EMPTY=",
            #"DOUBLE=a "quoted" $HOME and \ and 'single'"#,
            #"SINGLE=no $expansion \ here "at all""#,
            "EXPORTED=yes", "SPACED=two words", "TRAILING=v", "JOINED=ab cd e",
            "MULTI=line one\nline two", "AFTER=1", "PLAIN=again",
        ])
    }

    @Test func envFileReportsABadLineWithFileAndLine() {
        for (text, line, words) in [("OK=1\nKEY = v\n", 2, "expected '='"), ("A=1\n\nB=two words\n", 3, "unexpected text"),
                                    ("X=\"open\nstill\n", 1, "never closed"), ("1BAD=x\n", 1, "expected KEY=VALUE"),
                                    ("just words\n", 1, "expected '='"), ("A='x\n", 1, "never closed")] {
            do {
                _ = try EnvFile.parse(text, file: "/etc/default/svc")
                Issue.record("\(text) parsed")
            } catch {
                #expect(error.file == "/etc/default/svc")
                #expect(error.line == line, "\(text): \(error)")
                #expect(error.description.hasPrefix("/etc/default/svc:\(line): "))
                #expect(error.description.contains(words), "\(error)")
            }
        }
    }

    @Test func envFileStanzaIsRepeatableAndTakesAnOptionalDash() throws {
        let job = try Parser.parse(name: "a", text: "env-file /etc/default/a\nenv-file -/etc/default/b\nenv-file /etc/default/a\n", file: "a.conf")
        #expect(job.envFiles == [EnvFileEntry(path: "/etc/default/a"), EnvFileEntry(path: "/etc/default/b", optional: true)])
        #expect(job.jobFileText.contains("env-file /etc/default/a\nenv-file -/etc/default/b\n"))
        #expect(job.json.compact.contains(#""env_files":[{"path":"/etc/default/a","optional":false},{"path":"/etc/default/b","optional":true}]"#))
    }

    @Test func envFileStanzaNeedsAnAbsolutePath() {
        for (text, words) in [("env-file\n", "expected a file path"), ("env-file rel/path\n", "absolute path"), ("env-file /a /b\n", "env-file")] {
            do {
                _ = try Parser.parse(name: "a", text: text, file: "a.conf")
                Issue.record("\(text) parsed")
            } catch {
                #expect("\(error)".hasPrefix("a.conf:1:"), "\(error)")
                #expect("\(error)".contains(words), "\(error)")
            }
        }
    }
}

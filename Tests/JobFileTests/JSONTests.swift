import Testing
@testable import JobFile

@Suite struct JSONForm {
    @Test func signalsLimitsUmaskAndExpressionsAreNormalized() throws {
        let job = try parse("""
            start on started a or stopped JOB!=b
            kill signal 2
            normal exit 0 HUP
            limit nofile 1024 unlimited
            umask 27
            oom score never
            respawn limit unlimited
            """)
        let json = job.json.compact
        #expect(json.contains(#""kill_signal":"SIGINT""#))
        #expect(json.contains(#""reload_signal":"SIGHUP""#))
        #expect(json.contains(#""normal_exit":[0,"SIGHUP"]"#))
        #expect(json.contains(#""limits":{"nofile":{"soft":1024,"hard":"unlimited"}}"#))
        #expect(json.contains(#""umask":"027""#))
        #expect(json.contains(#""oom_score":"never""#))
        #expect(json.contains(#""respawn_limit":"unlimited""#))
        #expect(json.contains(#""start_on":{"or":[{"event":"started","args":[{"value":"a"}]},{"event":"stopped","args":[{"key":"JOB","op":"!=","value":"b"}]}]}"#))
    }

    @Test func defaultsAppearExplicitly() throws {
        let json = try parse("").json.compact
        #expect(json.contains(#""umask":"022""#))
        #expect(json.contains(#""respawn_limit":{"count":10,"interval":5}"#))
        #expect(json.contains(#""console":"log""#))
        #expect(json.contains(#""processes":{"main":null,"pre-start":null,"post-start":null,"pre-stop":null,"post-stop":null}"#))
    }

    @Test func keysComeInAFixedOrderSoOutputIsStable() throws {
        let a = try parse("task\nnice 3\n").json.pretty
        let b = try parse("nice 3\ntask\n").json.pretty
        #expect(a == b)
        #expect(a.hasPrefix("{\n  \"name\": \"test\",\n  \"description\": null,"))
    }

    @Test func umaskIsOctalWithALeadingZeroAndThreeDigitsAtLeast() {
        #expect(umaskText(0) == "000")
        #expect(umaskText(7) == "007")
        #expect(umaskText(0o22) == "022")
        #expect(umaskText(0o777) == "0777")
    }

    @Test func stringsAreEscaped() throws {
        #expect(JSONValue.string("a\"b\\c\nd\u{1}").compact == #""a\"b\\c\nd\u0001""#)
        // Every control character, the escapes between runs of plain
        // bytes, and multi-byte characters copied as they are.
        #expect(JSONValue.string("\u{1f}\u{7f}é\t😀\r").compact == "\"\\u001f\u{7f}é\\t😀\\r\"")
        #expect(JSONValue.string("").compact == #""""#)
        for scalar in (0..<0x80).compactMap(Unicode.Scalar.init) + ["é", "€", "😀"] {
            let text = "a\(scalar)b\(scalar)"
            let value = JSONValue.object([(text, .string(text))])
            #expect(try JSONValue.parse(value.compactBytes) == value, "\(scalar.value)")
            #expect(value.compactBytes == Array(value.compact.utf8))
        }
        #expect(JSONValue.object([("a", .array([.number(1), .object([])]))]).pretty == "{\n  \"a\": [\n    1,\n    {}\n  ]\n}")
    }

    @Test func whileConditionsAreTrees() throws {
        let json = try parse("while a and not b\n").json.compact
        #expect(json.contains(#""while":{"and":[{"running":"a"},{"not":{"running":"b"}}]}"#))
    }
}

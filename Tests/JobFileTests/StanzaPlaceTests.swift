import Testing
@testable import JobFile

/// `Parser.stanzaPlaces`: where each stanza sits, for init-checkconf's
/// warnings about what this machine cannot honour.
@Suite struct StanzaPlaces {
    func places(_ text: String) -> [StanzaPlace] {
        Parser.stanzaPlaces(name: "test", bytes: Array(text.utf8), file: "test.conf")
    }

    @Test func everyStanzaIsRecordedWithItsLineAndColumn() {
        let text = """
            # a comment
            description "x"

              apparmor load /etc/apparmor.d/x
            exec /bin/true
            """
        #expect(places(text) == [
            StanzaPlace(stanza: "description", line: 2, column: 1),
            StanzaPlace(stanza: "apparmor", line: 4, column: 3),
            StanzaPlace(stanza: "exec", line: 5, column: 1),
        ])
    }

    @Test func namespaceRecordsOnlyTheKindsItsOwnLineNames() {
        let text = """
            namespace user
            namespace net=blue uts
            namespace user
            """
        #expect(places(text).map(\.namespaces) == [[.user], [.net, .uts], [.user]])
        #expect(places(text).map(\.line) == [1, 2, 3])
    }

    @Test func cgroupRecordsTheSettingItMakes() {
        let text = "cgroup memory\ncgroup pids pids.max 64\n"
        #expect(places(text).map(\.cgroup) == [
            CgroupSetting(controller: "memory"),
            CgroupSetting(controller: "pids", key: "pids.max", value: "64"),
        ])
    }

    @Test func aScriptBlockCountsAsOneStanzaAndLinesAfterItAreRight() {
        let text = """
            script
              echo namespace net
            end script
            cgroup pids
            """
        #expect(places(text).map(\.stanza) == ["script", "cgroup"])
        #expect(places(text).last?.line == 4)
    }

    @Test func aFileWithAnErrorHasNoPlaces() {
        #expect(places("cgroup pids\nnamespace network\n").isEmpty)
    }

    @Test func anOrdinaryParseRecordsNothingAndGivesTheSameJob() throws {
        let text = "namespace net\ncgroup pids pids.max 8\n"
        var parser = Parser(bytes: Array(text.utf8), file: "test.conf", job: JobClass(name: "test"))
        try parser.run()
        #expect(parser.places == nil)
        #expect(parser.job == (try parse(text)))
    }
}

import Testing
@testable import JobFile

/// JobClass keeps its rarely used stanzas in a shared copy-on-write box
/// (`RareStanzasBox`): a copy is a value like any other, and equality does
/// not depend on whether two jobs share a box.
@Suite struct JobClassStorage {
    @Test func changingACopysRareStanzaLeavesTheOriginalAlone() {
        var a = JobClass(name: "a")
        a.setuid = "www"
        a.limits.append(ResourceLimit(resource: .nofile, soft: .value(10), hard: .value(20)))
        var b = a
        b.setuid = "nobody"
        b.limits[0].soft = .value(5)
        b.emits.append("ready")
        #expect(a.setuid == "www")
        #expect(a.limits[0].soft == .value(10))
        #expect(a.emits.isEmpty)
        #expect(b.setuid == "nobody")
        #expect(b.limits[0].soft == .value(5))
        #expect(b.emits == ["ready"])
        #expect(a != b)
    }

    @Test func aJobSetBackToTheDefaultsEqualsOneThatNeverChangedThem() {
        var a = JobClass(name: "j")
        a.killTimeout = 30
        a.killTimeout = 5
        let b = JobClass(name: "j")
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
    }

    @Test func jobsThatUseNoRareStanzaShareTheDefaultsBox() {
        var a = JobClass(name: "a")
        a.description = "inline"
        a.env.append(EnvVariable(name: "N", value: "1"))
        let b = JobClass(name: "b")
        #expect(a.killTimeout == 5)
        #expect(a.respawnLimit == .default)
        #expect(a.preStart == nil && b.preStart == nil)
        // Writing a rare stanza of one never shows through another.
        var c = b
        c.preStart = .script("true\n")
        #expect(b.preStart == nil)
        #expect(JobClass(name: "b").preStart == nil)
    }

    @Test func processAccessorsReachBoxedAndInlineProcesses() {
        var job = JobClass(name: "p")
        for kind in ProcessKind.allCases { job.setProcess(kind, .exec("/bin/\(kind.rawValue)")) }
        for kind in ProcessKind.allCases { #expect(job.process(kind) == .exec("/bin/\(kind.rawValue)")) }
        job.setProcess(.postStop, nil)
        #expect(job.postStop == nil)
        #expect(job.main == .exec("/bin/main"))
    }
}

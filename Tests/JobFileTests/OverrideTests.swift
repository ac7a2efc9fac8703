import Testing
@testable import JobFile

@Suite struct OverrideFiles {
    func merged(_ conf: String, _ override: String?) throws -> (JobClass, JobParseError?) {
        let r = try Parser.parseWithOverride(
            name: "web", conf: Array(conf.utf8), confFile: "web.conf",
            override: override.map { Array($0.utf8) }, overrideFile: "web.override")
        return (r.job, r.overrideError)
    }

    @Test func overrideStanzasReplaceTheJobFiles() throws {
        let (job, err) = try merged("description \"from conf\"\nnice 5\nexec /bin/a\n", "description \"from override\"\nexec /bin/b\n")
        #expect(err == nil)
        #expect(job.description == "from override")
        #expect(job.nice == 5)
        #expect(job.main == .exec("/bin/b"))
    }

    @Test func manualInTheOverrideCancelsTheJobFilesStartOn() throws {
        let (job, _) = try merged("start on runlevel [2345]\nstop on runlevel [!2345]\n", "manual\n")
        #expect(job.startOn == nil)
        #expect(job.stopOn == ev("runlevel", pos("[!2345]")))
    }

    @Test func startOnInTheOverrideReplacesTheJobFiles() throws {
        let (job, _) = try merged("start on a\n", "start on b\n")
        #expect(job.startOn == ev("b"))
    }

    @Test func accumulatingStanzasAccumulateAcrossTheOverride() throws {
        let (job, _) = try merged("env A=1\nenv B=2\nexport A\nnormal exit 1\n", "env B=3\nenv C=4\nexport C\nnormal exit 2\n")
        #expect(job.env == [EnvVariable(name: "A", value: "1"), EnvVariable(name: "B", value: "3"), EnvVariable(name: "C", value: "4")])
        #expect(job.export == ["A", "C"])
        #expect(job.normalExit == [.status(1), .status(2)])
    }

    @Test func aBrokenOverrideIsIgnoredAndReported() throws {
        let (job, err) = try merged("description ok\nnice 1\n", "nice 2\nkill signal NOPE\n")
        #expect(job.nice == 1)
        #expect(job.description == "ok")
        #expect(err == JobParseError(file: "web.override", line: 2, column: 13, message: "expected a signal name or number after 'kill signal', got 'NOPE'"))
    }

    @Test func aBrokenJobFileRejectsTheJobWhateverTheOverride() {
        #expect(throws: JobParseError.self) {
            _ = try merged("bogus\n", "description fine\n")
        }
    }

    @Test func noOverrideGivesTheJobFileAlone() throws {
        let (job, err) = try merged("task\n", nil)
        #expect(job.task && err == nil)
    }
}

@Suite struct ConfDirectories {
    @Test func jobNamesComeFromRelativePathsWithoutSuffix() {
        let entries = ConfEntry.entries(from: ["rc-sysinit.conf", "net/apache.conf", "net/apache.override", "README", "x.override", ".conf"])
        #expect(entries == [
            ConfEntry(name: "net/apache", conf: "net/apache.conf", override: "net/apache.override"),
            ConfEntry(name: "rc-sysinit", conf: "rc-sysinit.conf"),
        ])
    }

    @Test func overridesWithoutAJobFileAreListedAsOrphans() {
        #expect(ConfEntry.orphanOverrides(in: ["a.conf", "a.override", "b.override"]) == ["b.override"])
    }
}

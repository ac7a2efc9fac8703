import Foundation
import Testing

@Suite struct InitCheckconfTool {
    @Test func goodFileSaysSyntaxOkAndExitsZero() throws {
        let dir = try TempDir()
        try dir.write("web.conf", "description \"web\"\nstart on startup\nexec /bin/true\n")
        let r = try run("init-checkconf", [dir.path("web.conf")])
        #expect(r.status == 0)
        #expect(r.stdout == "File \(dir.path("web.conf")): syntax ok\n")
        #expect(r.stderr.isEmpty)
    }

    @Test func aCommentInsideParenthesisedStartOnPassesWithAWarningThatUpstartRejectsIt() throws {
        let dir = try TempDir()
        try dir.write("multi.conf", "start on (started a\n    # and started b\n    or started c)\nexec /bin/true\n")
        let r = try run("init-checkconf", [dir.path("multi.conf")])
        #expect(r.status == 0)
        #expect(r.stdout == "File \(dir.path("multi.conf")): syntax ok\n")
        #expect(r.stderr == "init-checkconf: \(dir.path("multi.conf")):2:5: warning: a comment inside the parentheses of 'start on': Daybreak reads it as a comment, but Upstart 1.13 rejects this file\n")
    }

    @Test func badFileNamesFileLineAndColumnAndExitsOne() throws {
        let dir = try TempDir()
        try dir.write("bad.conf", "description ok\n\nkill signal SIGFOO\n")
        let r = try run("init-checkconf", [dir.path("bad.conf")])
        #expect(r.status == 1)
        #expect(r.stderr == "init-checkconf: \(dir.path("bad.conf")):3:13: expected a signal name or number after 'kill signal', got 'SIGFOO'\n")
    }

    @Test func tracedJobInAPidNamespaceIsRejectedWithTheNamespaceLine() throws {
        let dir = try TempDir()
        try dir.write("traced.conf", "expect daemon\nnamespace net\nnamespace pid mount\nexec /bin/true\n")
        let r = try run("init-checkconf", [dir.path("traced.conf")])
        #expect(r.status == 1)
        #expect(r.stderr == "init-checkconf: \(dir.path("traced.conf")):3:1: namespace pid: a traced job (expect fork, expect daemon) cannot be followed into a new pid namespace; every start of this job would fail\n")
        try dir.write("stop.conf", "expect stop\nnamespace pid\nexec /bin/true\n")
        #expect(try run("init-checkconf", [dir.path("stop.conf")]).status == 0)
    }

    @Test func tracedJobInAPidNamespaceNamesTheStanzasLineWhenTheKindIsOnAContinuationLine() throws {
        let dir = try TempDir()
        try dir.write("traced.conf", "expect fork\nnamespace net \\\n    pid\nexec /bin/true\n")
        let r = try run("init-checkconf", [dir.path("traced.conf")])
        #expect(r.status == 1)
        #expect(r.stderr == "init-checkconf: \(dir.path("traced.conf")):2:1: namespace pid: a traced job (expect fork, expect daemon) cannot be followed into a new pid namespace; every start of this job would fail\n")
    }

    @Test func oneBadFileFailsTheRunButTheOthersAreStillChecked() throws {
        let dir = try TempDir()
        try dir.write("a.conf", "task\n")
        try dir.write("b.conf", "bogus\n")
        try dir.write("c.conf", "task\n")
        let r = try run("init-checkconf", [dir.path("a.conf"), dir.path("b.conf"), dir.path("c.conf")])
        #expect(r.status == 1)
        #expect(r.stdout.contains("a.conf: syntax ok"))
        #expect(r.stdout.contains("c.conf: syntax ok"))
        #expect(r.stderr.contains("b.conf:1:1: unknown stanza 'bogus'"))
    }

    @Test func directoryModeChecksEveryConfBelowItWithOverrides() throws {
        let dir = try TempDir()
        try dir.write("a.conf", "start on startup\n")
        try dir.write("a.override", "manual\n")
        try dir.write("net/b.conf", "task\n")
        try dir.write("lonely.override", "task\n")
        try dir.write("notes.txt", "not a job\n")
        let r = try run("init-checkconf", ["--json", dir.url.path])
        #expect(r.status == 0)
        #expect(r.stdout.contains("\"name\": \"a\""))
        #expect(r.stdout.contains("\"name\": \"net/b\""))
        #expect(r.stdout.contains("\"override\": \"\(dir.path("a.override"))\""))
        #expect(r.stdout.contains("\"start_on\": null"), "the override's manual cancels start on")
        #expect(r.stderr.contains("lonely.override: warning: override file has no job file beside it; ignored"))
        let parsed = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]]
        #expect(parsed?.count == 2)
    }

    @Test func brokenOverrideIsReportedAndFailsTheCheck() throws {
        let dir = try TempDir()
        try dir.write("a.conf", "task\n")
        try dir.write("a.override", "nice 99\n")
        let r = try run("init-checkconf", [dir.path("a.conf")])
        #expect(r.status == 1)
        #expect(r.stderr.contains("a.override:1:6: expected a nice value from -20 to 19 after 'nice', got '99' (the override is ignored; the job file alone defines 'a')"))
    }

    @Test func jsonIsValidAndCarriesErrors() throws {
        let dir = try TempDir()
        try dir.write("ok.conf", "kill signal INT\nlimit nofile 10 unlimited\n")
        try dir.write("bad.conf", "start on (a or b\n")
        let r = try run("init-checkconf", ["--json", dir.path("ok.conf"), dir.path("bad.conf")])
        #expect(r.status == 1)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        #expect(parsed.count == 2)
        let job = try #require(parsed[0]["job"] as? [String: Any])
        #expect(job["kill_signal"] as? String == "SIGINT")
        let nofile = try #require((job["limits"] as? [String: Any])?["nofile"] as? [String: Any])
        #expect(nofile["soft"] as? Int == 10)
        #expect(nofile["hard"] as? String == "unlimited")
        #expect(parsed[1]["ok"] as? Bool == false)
        let error = try #require(parsed[1]["error"] as? [String: Any])
        #expect(error["line"] as? Int == 1 && error["column"] as? Int == 10)
        #expect(error["message"] as? String == "'(' is never closed in 'start on'")
    }

    @Test func missingPathIsAnErrorNamingIt() throws {
        let r = try run("init-checkconf", ["/nonexistent/job.conf"])
        #expect(r.status == 1)
        #expect(r.stderr == "init-checkconf: /nonexistent/job.conf: no such file or directory\n")
    }

    @Test func noArgumentsIsAUsageError() throws {
        let r = try run("init-checkconf", [])
        #expect(r.status == 64)
        #expect(r.stderr.contains("Missing expected argument '<paths> ...'"))
    }

    @Test func shippedExamplesAllPass() throws {
        let examples = repoRoot.appendingPathComponent("examples").path
        try #require(FileManager.default.fileExists(atPath: examples), "examples/ is missing")
        let r = try run("init-checkconf", ["--quiet", examples])
        #expect(r.status == 0, "init-checkconf examples/ failed:\n\(r.stderr)")
    }

    @Test func shippedBrokenExamplesAllFail() throws {
        let broken = repoRoot.appendingPathComponent("examples/broken")
        let files = try FileManager.default.contentsOfDirectory(atPath: broken.path).filter { $0.hasSuffix(".conf.broken") }.sorted()
        try #require(!files.isEmpty)
        for f in files {
            let r = try run("init-checkconf", [broken.appendingPathComponent(f).path])
            #expect(r.status == 1, "\(f) should fail")
            #expect(r.stderr.contains("\(f):"), "\(f): \(r.stderr)")
        }
    }
}

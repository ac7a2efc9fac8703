import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Stateful re-exec (`initctl reexec`, docs/running.md): the daemon execs
/// itself with its state on a memfd, and everything goes on as if no
/// re-exec had happened.
@Suite(.serialized) struct ReexecTests {
    @Test func reexecKeepsRunningJobsTheirPidsAndSupervisesThem() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        let out = d.out.path
        try d.job("svc", "exec /bin/sleep 600\n")
        try d.job("resp", "respawn\nexec /bin/sleep 600\n")
        try d.job("task", "task\nexec /bin/sh -c 'sleep 1.5; echo done > \(out)/task'\n")
        try d.job("after", "start on stopped task\ntask\nexec /bin/sh -c 'echo after > \(out)/after'\n")
        // gated is held in `starting` while helper (a task started by its
        // starting event) runs.
        try d.job("gated", "exec /bin/sleep 600\n")
        try d.job("helper", "start on starting gated\ntask\nexec /bin/sleep 1.5\n")
        _ = try d.initctl("reload-configuration")
        let svc = try #require(pid(in: try d.initctl("start", "svc").stdout))
        let resp = try #require(pid(in: try d.initctl("start", "resp").stdout))
        #expect(try d.initctl("--no-wait", "start", "task").status == 0)
        #expect(try d.initctl("--no-wait", "start", "gated").status == 0)
        #expect(eventually(timeout: 5) { ((try? d.initctl("status", "gated").stdout) ?? "").hasPrefix("gated start/starting") })
        let daemonPid = d.daemonPid

        let r = try d.initctl("reexec")
        #expect(r.status == 0, "\(r.stderr)\n\(d.daemonLog)")
        // The log is written by the loop's turn, perhaps just after the reply.
        #expect(eventually(timeout: 5) { d.daemonLog.contains("re-executed:") }, "\(d.daemonLog)")
        #expect(d.daemonPid == daemonPid && isAlive(daemonPid))
        // The boot record is not carried across: the new one says so.
        #expect(try d.initctl("analyze", "time").stdout.hasPrefix("The daemon was re-executed"))
        #expect(try d.initctl("status", "svc").stdout == "svc start/running, process \(svc)\n")
        #expect(try d.initctl("status", "resp").stdout == "resp start/running, process \(resp)\n")
        // The task mid-run ends and is seen to end; what it starts runs.
        #expect(eventually(timeout: 10) { FileManager.default.fileExists(atPath: out + "/after") }, "\(d.daemonLog)")
        #expect(try d.initctl("status", "task").stdout == "task stop/waiting\n")
        // The blocked start goes on once its helper is done.
        #expect(eventually(timeout: 10) { ((try? d.initctl("status", "gated").stdout) ?? "").hasPrefix("gated start/running, process ") }, "\(d.daemonLog)")
        // Still supervised: a death is respawned, a stop stops.
        kill(resp, SIGKILL)
        #expect(eventually(timeout: 10) {
            let line = (try? d.initctl("status", "resp").stdout) ?? ""
            return line.hasPrefix("resp start/running, process ") && pid(in: line) != resp
        }, "\(d.daemonLog)")
        #expect(try d.initctl("stop", "svc").stdout == "svc stop/waiting\n")
        #expect(eventually(timeout: 5) { !isAlive(svc) })
        // A second re-exec works as the first.
        #expect(try d.initctl("reexec").status == 0)
        #expect(try d.initctl("status", "svc").stdout == "svc stop/waiting\n")
        d.stop()
        #expect(d.leftCgroups.isEmpty, "\(d.leftCgroups)")
    }

    @Test func aJobThatDiesDuringTheReexecIsNoticedAfterIt() throws {
        let d = try TestDaemon(jobs: ["short": "exec /bin/sleep 0.3\n", "after": "start on stopped short\ntask\nexec /bin/true\n"])
        defer { d.stop() }
        let short = try #require(pid(in: try d.initctl("start", "short").stdout))
        // The process ends while the daemon re-executes, or just after:
        // either way the new daemon reaps it and the job stops.
        kill(d.daemonPid, SIGSTOP)
        #expect(eventually(timeout: 5) { (try? String(contentsOfFile: "/proc/\(short)/stat", encoding: .utf8))?.contains(") Z ") ?? true })
        kill(d.daemonPid, SIGCONT)
        _ = try d.initctl("reexec")
        #expect(eventually(timeout: 5) { ((try? d.initctl("status", "short").stdout) ?? "") == "short stop/waiting\n" }, "\(d.daemonLog)")
    }

    @Test func aStartBlockedAcrossAReexecGetsItsReply() throws {
        let d = try TestDaemon(jobs: ["slow": "pre-start exec /bin/sleep 1.5\nexec /bin/sleep 600\n"])
        defer { d.stop() }
        let waiter = Foundation.Process()
        waiter.executableURL = binDirectory.appendingPathComponent("initctl")
        waiter.arguments = ["--socket", d.socket, "start", "slow"]
        let pipe = Pipe()
        waiter.standardOutput = pipe
        waiter.standardError = pipe
        try waiter.run()
        defer { if waiter.isRunning { kill(waiter.processIdentifier, SIGKILL) } }
        #expect(eventually(timeout: 5) { ((try? d.initctl("status", "slow").stdout) ?? "").hasPrefix("slow start/pre-start") })
        #expect(try d.initctl("reexec").status == 0, "\(d.daemonLog)")
        #expect(eventually(timeout: 10) { !waiter.isRunning }, "\(d.daemonLog)")
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(waiter.terminationStatus == 0)
        #expect(text.hasPrefix("slow start/running, process "), "\(text)\n\(d.daemonLog)")
        let main = try #require(pid(in: text))
        #expect(try d.initctl("status", "slow").stdout == "slow start/running, process \(main)\n")
    }

    /// ptrace state cannot be handed to a new process: a re-exec asked for
    /// while an `expect daemon` job is being traced waits until the job's
    /// daemon is found (or at most 15 s), then happens, and the job keeps
    /// the pid tracking found. (It was refused with a message before.)
    @Test func aReexecWaitsForATracedJobToBeFound() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        try d.job("svc", """
            expect daemon
            pre-start exec /bin/sleep 1
            exec \(binDirectory.appendingPathComponent("fixture-fork-twice").path)
            """)
        _ = try d.initctl("reload-configuration")
        #expect(try d.initctl("--no-wait", "start", "svc").status == 0)
        #expect(eventually(timeout: 5) { ((try? d.initctl("status", "svc").stdout) ?? "").hasPrefix("svc start/pre-start") })
        let daemonPid = d.daemonPid
        let r = try d.initctl("reexec")
        #expect(r.status == 0, "\(r.stderr)\n\(d.daemonLog)")
        #expect(d.daemonLog.contains("re-exec waits: an expect fork|daemon job is being traced (svc"), "\(d.daemonLog)")
        #expect(eventually(timeout: 5) { d.daemonLog.contains("re-executed:") }, "\(d.daemonLog)")
        #expect(d.daemonPid == daemonPid && isAlive(daemonPid))
        let line = try d.initctl("status", "svc").stdout
        let main = try #require(pid(in: line), "\(line)")
        #expect(line == "svc start/running, process \(main)\n")
        #expect(isAlive(main))
        // Still the job's: a stop ends the daemon tracking found.
        #expect(try d.initctl("stop", "svc").stdout == "svc stop/waiting\n")
        #expect(eventually(timeout: 5) { !isAlive(main) }, "\(d.daemonLog)")
    }

    /// An `expect notify` job re-executed across before its READY: the
    /// notify socket is kept, and the READY that comes after the re-exec
    /// makes the job running, with its status text.
    @Test func anExpectNotifyJobBeforeReadyBecomesRunningAfterTheReexec() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        try d.job("svc", """
            expect notify
            env FIXTURE_READY_MS=1500
            exec \(binDirectory.appendingPathComponent("fixture-notifier").path)
            """)
        _ = try d.initctl("reload-configuration")
        #expect(try d.initctl("--no-wait", "start", "svc").status == 0)
        #expect(eventually(timeout: 5) { ((try? d.initctl("status", "svc").stdout) ?? "").hasPrefix("svc start/spawned, process ") })
        let main = try #require(pid(in: try d.initctl("status", "svc").stdout))
        #expect(try d.initctl("reexec").status == 0, "\(d.daemonLog)")
        #expect(d.daemonLog.contains("re-executed:") || eventually(timeout: 5) { d.daemonLog.contains("re-executed:") })
        #expect(try d.initctl("status", "svc").stdout.hasPrefix("svc start/spawned, process \(main)"), "\(d.daemonLog)")
        #expect(eventually(timeout: 10) {
            ((try? d.initctl("status", "svc").stdout) ?? "") == "svc start/running, process \(main)\n\tstatus: serving\n"
        }, "\(d.daemonLog)")
        #expect(try d.initctl("stop", "svc").stdout == "svc stop/waiting\n")
        #expect(eventually(timeout: 5) { !isAlive(main) })
    }

    /// A job re-executed across in `pre-stop`: the pre-stop process ends
    /// after the re-exec, then the main process is killed and the job stops.
    @Test func aJobInPreStopStopsAfterTheReexec() throws {
        let d = try TestDaemon(jobs: ["svc": "pre-stop exec /bin/sleep 1.5\nexec /bin/sleep 600\n"])
        defer { d.stop() }
        let main = try #require(pid(in: try d.initctl("start", "svc").stdout))
        #expect(try d.initctl("--no-wait", "stop", "svc").status == 0)
        #expect(eventually(timeout: 5) { ((try? d.initctl("status", "svc").stdout) ?? "").hasPrefix("svc stop/pre-stop") })
        #expect(try d.initctl("reexec").status == 0, "\(d.daemonLog)")
        #expect(isAlive(main), "the main process must outlive pre-stop")
        #expect(eventually(timeout: 10) { ((try? d.initctl("status", "svc").stdout) ?? "") == "svc stop/waiting\n" }, "\(d.daemonLog)")
        #expect(eventually(timeout: 5) { !isAlive(main) })
    }

    /// Post-mortems (`initctl status` of a job that failed, `--history`)
    /// are carried across a re-exec: an upgrade does not erase why a job
    /// failed before it.
    @Test func postMortemsSurviveAReexec() throws {
        let d = try TestDaemon(jobs: ["bad": "task\nexec /bin/sh -c 'echo failing; exit 3'\n"])
        defer { d.stop() }
        #expect(try d.initctl("start", "bad").status != 0)
        let before = try d.initctl("status", "--history", "bad").stdout
        #expect(before.contains("\tlast failure ") && before.contains("terminated with status 3"), "\(before)")
        #expect(try d.initctl("reexec").status == 0, "\(d.daemonLog)")
        #expect(try d.initctl("status", "--history", "bad").stdout == before, "\(d.daemonLog)")
    }

    @Test func aSubscriberKeepsItsConnectionAcrossAReexec() throws {
        let d = try TestDaemon(jobs: ["t": "task\nstart on ping\nexec /bin/true\n"])
        defer { d.stop() }
        let monitor = Foundation.Process()
        monitor.executableURL = binDirectory.appendingPathComponent("initctl")
        monitor.arguments = ["--socket", d.socket, "monitor"]
        let pipe = Pipe()
        monitor.standardOutput = pipe
        try monitor.run()
        defer { if monitor.isRunning { kill(monitor.processIdentifier, SIGKILL) }; monitor.waitUntilExit() }
        usleep(300_000)
        #expect(try d.initctl("reexec").status == 0, "\(d.daemonLog)")
        _ = try d.initctl("emit", "ping", "K=V")
        usleep(300_000)
        #expect(monitor.isRunning, "the monitor lost its connection")
        kill(monitor.processIdentifier, SIGKILL)
        monitor.waitUntilExit()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text.contains("event ping K=V\n"), "\(text)")
        #expect(text.contains("event stopped JOB=t INSTANCE= RESULT=ok\n"), "\(text)")
    }

    /// A document the daemon cannot read (corrupt, or of a version it does
    /// not know) is said on the log and the daemon starts afresh: it reads
    /// the job files and emits its startup event, and never crashes.
    @Test(arguments: [
        ("{\"format\":\"daybreak-state\",\"vers", "the state document is not valid JSON"),
        ("{\"format\":\"daybreak-state\",\"version\":99}", "the state document is version 99, and this build reads version 1 only"),
        ("{\"format\":\"daybreak-state\",\"version\":1,\"engine\":[]}", "the state document (version 1) does not decode"),
    ])
    func aRefusedStateDocumentStartsAfreshWithAMessage(document: String, message: String) throws {
        let dir = try TempDir()
        let file = dir.path("state")
        try document.write(toFile: file, atomically: true, encoding: .utf8)
        // The shell execs the daemon with the document on descriptor 9.
        let booted = dir.path("booted")
        let d = try TestDaemon(jobs: ["boot": "start on startup\ntask\nexec /bin/sh -c 'echo > \(booted)'\n"],
                               wrapper: ["/bin/sh", "-c", "exec \"$0\" \"$@\" --state-fd 9 9<\(file)"])
        defer { d.stop() }
        #expect(eventually(timeout: 5) { d.daemonLog.contains("daybreak: " + message) }, "\(d.daemonLog)")
        #expect(eventually(timeout: 5) { d.daemonLog.contains("starting afresh: the job files are read again") }, "\(d.daemonLog)")
        #expect(eventually(timeout: 5) { FileManager.default.fileExists(atPath: booted) }, "\(d.daemonLog)")
    }

    /// Recovery: the daemon is SIGKILLed with 50 jobs running; a new one
    /// finds its groups, takes every job back as running with the same
    /// pid, starts none twice, supervises them (a respawn, a stop), and
    /// leaves no group behind.
    @Test func aNewDaemonAdoptsTheGroupsOfOneThatWasKilled() throws {
        let first = try TestDaemon()
        defer { first.stop() }
        for i in 0..<50 { try first.job("j\(i)", "respawn\nexec /bin/sleep 600\n") }
        _ = try first.initctl("reload-configuration")
        var pids: [String: Int32] = [:]
        for i in 0..<50 { pids["j\(i)"] = try #require(pid(in: try first.initctl("start", "j\(i)").stdout)) }
        guard !cgroupDirectories(daemonPid: first.daemonPid).isEmpty else { return }  // no cgroups here: nothing to adopt
        let firstPid = first.daemonPid
        kill(firstPid, SIGKILL)
        #expect(eventually(timeout: 5) { !isAlive(firstPid) })
        // A new daemon on the same socket and jobs (with the marker, so the
        // harness kills anything left).
        let second = Foundation.Process()
        second.executableURL = binDirectory.appendingPathComponent("daybreak")
        second.arguments = ["--user", "--confdir", first.jobs.path, "--logdir", first.logs.path, "--socket", first.socket]
        second.environment = ["PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": first.dir.url.path,
                              "XDG_RUNTIME_DIR": first.dir.path("run"), "DAYBREAK_TEST_ID": first.marker]
        let errors = Pipe()
        second.standardOutput = FileHandle.nullDevice
        second.standardError = errors
        try second.run()
        let secondPid = second.processIdentifier
        defer {
            if second.isRunning { kill(secondPid, SIGKILL) }
            removeCgroups(of: secondPid)
        }
        #expect(eventually(timeout: 10) { (try? first.initctl("version"))?.status == 0 })
        for (job, p) in pids {
            #expect(try first.initctl("status", job).stdout == "\(job) start/running, process \(p)\n")
        }
        // No duplicate: start finds it running.
        let again = try first.initctl("start", "j0")
        #expect(again.status == 1 && again.stderr == "initctl: Job is already running: j0\n")
        // Supervised: a death is respawned, a stop stops.
        kill(pids["j1"]!, SIGKILL)
        #expect(eventually(timeout: 10) {
            let line = (try? first.initctl("status", "j1").stdout) ?? ""
            return line.hasPrefix("j1 start/running, process ") && pid(in: line) != pids["j1"]
        })
        #expect(try first.initctl("stop", "j2").stdout == "j2 stop/waiting\n")
        #expect(eventually(timeout: 5) { !isAlive(pids["j2"]!) })
        #expect(cgroupDirectories(daemonPid: firstPid).isEmpty, "the dead daemon's groups are gone")
        kill(secondPid, SIGTERM)
        #expect(eventually(timeout: 15) { !second.isRunning })
        let log = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(log.contains("daemon \(firstPid) is gone"), "\(log)")
        #expect(cgroupDirectories(daemonPid: secondPid).isEmpty)
        for (_, p) in pids { #expect(!isAlive(p)) }
    }
}

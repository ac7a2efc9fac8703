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
        #expect(d.daemonLog.contains("re-executed:"), "\(d.daemonLog)")
        #expect(d.daemonPid == daemonPid && isAlive(daemonPid))
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
}

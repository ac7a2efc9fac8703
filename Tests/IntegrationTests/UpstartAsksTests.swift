import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 17: what Upstart's users asked for (respawn delay, env-file,
/// post-mortem status, log caps, `initctl log`), against a real daemon.
@Suite(.serialized) struct UpstartAsks {
    @Test func respawnDelaySpacesACrashLoopAndStopEndsItAtOnce() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        let runs = d.out.appendingPathComponent("runs").path
        try d.job("crash", "respawn\nrespawn delay 0.2 0.8\nrespawn limit unlimited\nexec /bin/sh -c 'cat /proc/uptime >> \(runs); exit 3'\n")
        _ = try d.initctl("reload-configuration")
        _ = try d.initctl("start", "--no-wait", "crash")
        func times() -> [Double] {
            d.output("runs").split(separator: "\n").compactMap { $0.split(separator: " ").first.flatMap { Double($0) } }
        }
        #expect(eventually(timeout: 15) { times().count >= 6 })
        let t = times()
        let gaps = zip(t.dropFirst(), t).map { $0 - $1 }
        // 0.2, 0.4, 0.8, 0.8, 0.8 s apart, give or take the spawn's cost.
        for (gap, want) in zip(gaps, [0.2, 0.4, 0.8, 0.8, 0.8]) {
            #expect(gap >= want - 0.02 && gap < want + 0.5, "gaps \(gaps)")
        }
        var status = ""
        #expect(eventually(timeout: 5) {
            status = (try? d.initctl("status", "crash").stdout) ?? ""
            return status.hasPrefix("crash start/post-stop\n\trespawning in ")
        }, "\(status)")
        #expect(status.hasSuffix(" s (delay 0.8 s)\n"), "\(status)")
        // Stop acts at once, not after the delay.
        var stopped = false
        for _ in 0..<20 where !stopped {
            if (try? d.initctl("status", "crash").stdout)?.contains("respawning in") == true {
                let began = Date()
                let r = try d.initctl("stop", "crash")
                #expect(r.status == 0, "\(r.stderr)")
                #expect(Date().timeIntervalSince(began) < 0.5)
                stopped = true
            }
            usleep(50_000)
        }
        #expect(stopped)
        #expect(try d.initctl("status", "crash").stdout == "crash stop/waiting\n")
        let count = times().count
        usleep(1_000_000)
        #expect(times().count == count, "no respawn after stop")
    }

    @Test func envFileLaysItsVariablesBetweenEnvAndTheStartsOwn() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        let file = d.dir.path("defaults")
        try "# defaults\nexport B='from file'\nC=from-file\nD=\"only \\\"file\\\"\"\n".write(toFile: file, atomically: true, encoding: .utf8)
        let out = d.out.appendingPathComponent("env").path
        try d.job("envjob", "task\nenv A=from-env\nenv B=from-env\nenv-file \(file)\nenv-file -\(d.dir.path("absent"))\nexec /bin/sh -c 'echo \"$A|$B|$C|$D\" > \(out)'\n")
        _ = try d.initctl("reload-configuration")
        let r = try d.initctl("start", "envjob", "C=from-start")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(d.output("env") == "from-env|from file|from-start|only \"file\"\n")
    }

    @Test func envFileMissingOrBadFailsTheStartNamingTheFile() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        let missing = d.dir.path("missing")
        let bad = d.dir.path("bad")
        try "GOOD=1\nBAD LINE\n".write(toFile: bad, atomically: true, encoding: .utf8)
        try d.job("missing", "env-file \(missing)\nexec /bin/sleep 600\n")
        try d.job("bad", "env-file \(bad)\nexec /bin/sleep 600\n")
        _ = try d.initctl("reload-configuration")
        let r = try d.initctl("start", "missing")
        #expect(r.status == 1)
        #expect(r.stderr == "initctl: Job failed to start\n")
        #expect(d.daemonLog.contains("missing main process failed to start: env-file: cannot open \(missing)"), "\(d.daemonLog)")
        let b = try d.initctl("start", "bad")
        #expect(b.status == 1)
        #expect(d.daemonLog.contains("env-file \(bad):2: expected '='"), "\(d.daemonLog)")
        #expect(try d.initctl("status", "bad").stdout == "bad stop/waiting\n")
    }
}

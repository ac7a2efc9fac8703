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
        print("respawn delay 0.2 0.8: runs \(gaps.map { String(format: "%.3f", $0) }.joined(separator: ", ")) s apart")
        // 0.2, 0.4, 0.8, 0.8, 0.8 s apart, give or take the spawn's cost (on a loaded machine).
        for (gap, want) in zip(gaps, [0.2, 0.4, 0.8, 0.8, 0.8]) {
            #expect(gap >= want - 0.02 && gap < want + 1.0, "gaps \(gaps)")
        }
        var status = ""
        #expect(eventually(timeout: 5) {
            status = (try? d.initctl("status", "crash").stdout) ?? ""
            return status.hasPrefix("crash start/post-stop\n\trespawning in ")
        }, "\(status)")
        #expect(status.split(separator: "\n")[1].hasSuffix(" s (delay 0.8 s)"), "\(status)")
        // A crash that respawns is a failure all the same: status says so.
        #expect(status.contains("\tlast failure ") && status.contains(" terminated with status 3"), "\(status)")
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
        #expect(try d.initctl("status", "crash").stdout.hasPrefix("crash stop/waiting\n\tlast failure "))
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
        // show-config -e says where each variable of a new start comes from.
        let lines = try d.initctl("show-config", "-e", "envjob").stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("  env A=from-env (env)"), "\(lines)")
        #expect(lines.contains("  env B=from file (env-file \(file):2)"), "\(lines)")
        #expect(lines.contains("  env C=from-file (env-file \(file):3)"), "\(lines)")
        #expect(lines.contains("  env-file -\(d.dir.path("absent")) (missing, optional)"), "\(lines)")
        #expect(lines.contains { $0.hasPrefix("  env PATH=") && $0.hasSuffix(" (default)") }, "\(lines)")
        // status --verbose: a running instance's variables and their sources.
        try d.job("envsvc", "env A=from-env\nenv-file \(file)\nexec /bin/sleep 600\n")
        _ = try d.initctl("reload-configuration")
        _ = try d.initctl("start", "envsvc", "C=from-start")
        let verbose = try d.initctl("status", "--verbose", "envsvc").stdout
        for line in ["\tenv A=from-env (env)\n", "\tenv C=from-start (start)\n", "\tenv B=from file (env-file \(file):2)\n"] {
            #expect(verbose.contains(line), "\(verbose)")
        }
        #expect(try d.initctl("status", "envsvc").stdout.split(separator: "\n").count == 1, "plain status unchanged")
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
        let status = try d.initctl("status", "bad").stdout
        #expect(status.hasPrefix("bad stop/waiting\n\tlast failure "), "\(status)")
        #expect(status.contains(" UTC: main process failed to start: env-file \(bad):2: expected '='"), "\(status)")
    }

    @Test func statusAfterAFailureSaysWhatHappenedAndShowsTheOutput() throws {
        let d = try TestDaemon(jobs: ["fine": "exec /bin/sleep 600\n"])
        defer { d.stop() }
        try d.job("dies", "exec /bin/sh -c 'echo first line; echo last words; sleep 0.3; exit 3'\n")
        _ = try d.initctl("reload-configuration")
        let pid = try #require(pid(in: try d.initctl("start", "dies").stdout))
        #expect(eventually(timeout: 5) { (try? d.initctl("status", "dies").stdout)?.hasPrefix("dies stop/waiting") == true })
        let lines = try d.initctl("status", "dies").stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.count == 5, "\(lines)")
        #expect(lines.first == "dies stop/waiting")
        // \tlast failure 2026-11-30 05:40:12.123 UTC: main process (1234) terminated with status 3
        #expect(lines.dropFirst().first?.hasPrefix("\tlast failure 20") == true, "\(lines)")
        #expect(lines.dropFirst().first?.hasSuffix(" UTC: main process (\(pid)) terminated with status 3") == true, "\(lines)")
        #expect(Array(lines.dropFirst(2)) == ["\t| first line", "\t| last words", ""])
        // --history lists the transitions, oldest first.
        let history = try d.initctl("status", "--history", "dies").stdout
        for what in ["starting", "started, process \(pid)", "main process (\(pid)) terminated with status 3",
                     "stopping (failed: main status 3)", "stopped (failed: main status 3)"] {
            #expect(history.contains(" \(what)\n"), "\(history)")
        }
        // A job that never failed keeps Upstart's text, byte for byte.
        _ = try d.initctl("start", "fine")
        _ = try d.initctl("stop", "fine")
        #expect(try d.initctl("status", "fine").stdout == "fine stop/waiting\n")
    }

    @Test func aLogSizeCapKeepsFiftyMegabytesToThePromisedFilesAndTheDaemonsMemoryFlat() throws {
        // Daemon-wide 1M x 1 kept; the job's own stanza (10M x 2 kept) wins.
        let d = try TestDaemon(arguments: ["--log-size", "1M", "--log-keep", "1"])
        defer { d.stop() }
        let line = String(repeating: "0123456789abcdef", count: 4) + "\n"
        try d.job("chatty", "task\nlog size 10M\nlog keep 2\nexec /bin/sh -c 'yes \(line.dropLast()) | head -c 52428800'\n")
        try d.job("small", "task\nexec /bin/sh -c 'yes \(line.dropLast()) | head -c 3145728'\n")
        _ = try d.initctl("reload-configuration")
        usleep(200_000)
        let before = residentKiB(d.daemonPid)
        let began = Date()
        let r = try d.initctl(["start", "chatty"], timeout: 120)
        #expect(r.status == 0, "\(r.stderr)")
        let seconds = Date().timeIntervalSince(began)
        #expect(eventually(timeout: 30) { !FileManager.default.fileExists(atPath: d.logs.appendingPathComponent("chatty.log.3").path)
            && (size(d.logs.appendingPathComponent("chatty.log").path) ?? 0) > 0 })
        _ = try d.initctl("start", "small")
        usleep(500_000)
        let after = residentKiB(d.daemonPid)
        let files = try FileManager.default.contentsOfDirectory(atPath: d.logs.path).sorted()
        #expect(files == ["chatty.log", "chatty.log.1", "chatty.log.2", "small.log", "small.log.1"], "\(files)")
        for f in files {
            let cap = f.hasPrefix("chatty") ? 10 << 20 : 1 << 20
            let s = size(d.logs.appendingPathComponent(f).path) ?? -1
            #expect(s > 0 && s <= cap, "\(f): \(s) bytes")
        }
        print("log cap: 50 MiB through a 10 MiB x (2 + 1) cap in \(String(format: "%.1f", seconds)) s; daemon RSS \(before) KiB before, \(after) KiB after")
        if memoryBoundsApply("log cap", "\(before) -> \(after) KiB") {
            #expect(after - before < 4096, "RSS grew from \(before) to \(after) KiB")
        }
    }

    @Test func initctlLogShowsRecentOutputAndFollowsARunningJob() throws {
        let d = try TestDaemon(jobs: ["tick": "exec /bin/sh -c 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done'\n"])
        defer { d.stop() }
        _ = try d.initctl("start", "tick")
        #expect(eventually(timeout: 5) { ((try? d.initctl("log", "tick").stdout) ?? "").contains("tick 5\n") })
        let three = try d.initctl("log", "tick", "-n", "3").stdout.split(separator: "\n")
        #expect(three.count == 3 && three.allSatisfy { $0.hasPrefix("tick ") }, "\(three)")
        #expect(try d.initctl("log", "tick", "--lines", "2").stdout.split(separator: "\n").count == 2)
        // -f: what is there, then each new line as it comes.
        let p = Foundation.Process()
        p.executableURL = binDirectory.appendingPathComponent("initctl")
        p.arguments = ["--socket", d.socket, "log", "-f", "tick", "-n", "1"]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        usleep(1_500_000)
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let numbers = out.split(separator: "\n").compactMap { $0.hasPrefix("tick ") ? Int($0.dropFirst(5)) : nil }
        #expect(numbers.count >= 8, "\(out)")
        #expect(numbers == Array((numbers.first ?? 0)..<((numbers.first ?? 0) + numbers.count)), "in order, none lost: \(numbers)")
        let unknown = try d.initctl("log", "nosuch")
        #expect(unknown.status == 1 && unknown.stderr == "initctl: Unknown job: nosuch\n")
        #expect(try d.initctl("reopen-logs").status == 0)
    }

    @Test func logTimestampsStampTheDaemonsOwnLines() throws {
        let d = try TestDaemon(jobs: ["bad": "pre-start exec /bin/false\nexec /bin/sleep 600\n"], arguments: ["--log-timestamps"])
        defer { d.stop() }
        _ = try d.initctl("start", "bad")
        let line = try #require(d.daemonLog.split(separator: "\n").first { $0.contains("bad pre-start process") })
        // 2026-11-30 05:40:12.123 daybreak: bad pre-start process (1234) terminated with status 1
        let stamp = line.prefix(24)
        #expect(stamp.count == 24 && stamp.hasPrefix("20") && stamp.hasSuffix(" ") && line.dropFirst(24).hasPrefix("daybreak: "), "\(line)")
    }

    @Test func aFollowerThatDoesNotReadIsDroppedAndNeverStallsTheDaemon() throws {
        let d = try TestDaemon(jobs: ["spew": "log size 1M\nlog keep 0\nexec /usr/bin/yes \(String(repeating: "spew", count: 30))\n"])
        defer { d.stop() }
        _ = try d.initctl("start", "spew")
        let before = residentKiB(d.daemonPid)
        // initctl's standard output is a pipe nobody reads: it stops reading
        // its socket, and the daemon's outbox for it fills.
        let p = Foundation.Process()
        p.executableURL = binDirectory.appendingPathComponent("initctl")
        p.arguments = ["--socket", d.socket, "log", "-f", "spew"]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        defer { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        var slowest = 0.0
        #expect(eventually(timeout: 30) {
            let began = Date()
            _ = try? d.initctl("version")
            slowest = max(slowest, Date().timeIntervalSince(began))
            return d.daemonLog.contains("does not read its replies")
        }, "\(d.daemonLog)")
        let after = residentKiB(d.daemonPid)
        print("log follower: dropped; slowest initctl version meanwhile \(String(format: "%.2f", slowest)) s; daemon RSS \(before) -> \(after) KiB")
        #expect(slowest < 2.0)
        if memoryBoundsApply("log follower", "\(before) -> \(after) KiB") {
            #expect(after - before < 16 * 1024)
        }
    }
}

private func size(_ path: String) -> Int? {
    (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
}

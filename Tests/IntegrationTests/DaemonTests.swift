import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct DaemonVerbs {
    @Test func startStatusStopAndListSpeakUpstartsFormat() throws {
        let d = try TestDaemon(jobs: ["svc": "exec /bin/sleep 600\n", "other": "exec /bin/sleep 600\n"])
        defer { d.stop() }
        let started = try d.initctl("start", "svc")
        #expect(started.status == 0)
        #expect(started.stdout.hasPrefix("svc start/running, process "))
        let mainPid = try #require(pid(in: started.stdout))
        #expect(isAlive(mainPid))
        #expect(try d.initctl("status", "svc").stdout == "svc start/running, process \(mainPid)\n")
        #expect(try d.initctl("list").stdout == "other stop/waiting\nsvc start/running, process \(mainPid)\n")
        let stopped = try d.initctl("stop", "svc")
        #expect(stopped.status == 0)
        #expect(stopped.stdout == "svc stop/waiting\n")
        #expect(eventually(timeout: 5) { !isAlive(mainPid) })
        #expect(try d.initctl("status", "svc").stdout == "svc stop/waiting\n")
    }

    @Test func upstartsErrorsAndExitCodes() throws {
        let d = try TestDaemon(jobs: ["svc": "exec /bin/sleep 600\n"])
        defer { d.stop() }
        let unknown = try d.initctl("start", "nosuch")
        #expect(unknown.status == 1)
        #expect(unknown.stderr == "initctl: Unknown job: nosuch\n")
        _ = try d.initctl("start", "svc")
        let again = try d.initctl("start", "svc")
        #expect(again.status == 1 && again.stderr == "initctl: Job is already running: svc\n")
        _ = try d.initctl("stop", "svc")
        let stopAgain = try d.initctl("stop", "svc")
        #expect(stopAgain.status == 1 && stopAgain.stderr == "initctl: Unknown instance: \n")
        let badEnv = try d.initctl("start", "svc", "NOEQUALS")
        #expect(badEnv.status == 1 && badEnv.stderr == "initctl: Env must be KEY=VALUE pairs\n")
    }

    @Test func argv0AliasesBehaveAsTheirCommand() throws {
        let d = try TestDaemon(jobs: ["svc": "exec /bin/sleep 600\n"])
        defer { d.stop() }
        let link = d.dir.path("start")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: binDirectory.appendingPathComponent("initctl").path)
        let r = try runProgram(link, ["--socket", d.socket, "svc"])
        #expect(r.status == 0 && r.stdout.hasPrefix("svc start/running, process "))
        let status = d.dir.path("status")
        try FileManager.default.createSymbolicLink(atPath: status, withDestinationPath: binDirectory.appendingPathComponent("initctl").path)
        let missing = try runProgram(status, ["nosuch", "--socket", d.socket])
        #expect(missing.stderr == "status: Unknown job: nosuch\n")
    }

    @Test func restartKeepsTheInstanceAndReplacesTheMainProcess() throws {
        let d = try TestDaemon(jobs: ["svc": "exec /bin/sleep 600\n"])
        defer { d.stop() }
        let first = try #require(pid(in: try d.initctl("start", "svc").stdout))
        let r = try d.initctl("restart", "svc")
        #expect(r.status == 0)
        let second = try #require(pid(in: r.stdout))
        #expect(second != first)
        #expect(eventually(timeout: 5) { !isAlive(first) })
        #expect(isAlive(second))
    }

    @Test func reloadSendsTheReloadSignal() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        try d.job("svc", """
            reload signal USR1
            script
              trap 'echo got-usr1 > \(d.out.path)/reload; exit 0' USR1
              while true; do sleep 0.1; done
            end script
            """)
        _ = try d.initctl("reload-configuration")
        _ = try d.initctl("start", "svc")
        usleep(300_000)
        #expect(try d.initctl("reload", "svc").status == 0)
        #expect(eventually(timeout: 5) { d.output("reload") == "got-usr1\n" })
    }

    @Test func emitStartsJobsAndWaitsForThem() throws {
        let d = try TestDaemon(jobs: [
            "on-foo": "task\nstart on foo X=1\nexec /bin/sh -c 'echo $X $UPSTART_EVENTS > OUT/foo'\n",
        ].mapValues { $0 })
        defer { d.stop() }
        try d.job("on-foo", "task\nstart on foo X=1\nexec /bin/sh -c 'sleep 0.3; echo $X $UPSTART_EVENTS > \(d.out.path)/foo'\n")
        _ = try d.initctl("reload-configuration")
        #expect(try d.initctl("emit", "foo", "X=2").status == 0)
        #expect(d.output("foo") == "")
        let r = try d.initctl("emit", "foo", "X=1")
        #expect(r.status == 0)
        // emit waits for the task it started to finish.
        #expect(d.output("foo") == "1 foo\n")
    }

    @Test func emitNoWaitReturnsAtOnce() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        try d.job("slow", "task\nstart on go\nexec /bin/sh -c 'sleep 1; echo done > \(d.out.path)/slow'\n")
        _ = try d.initctl("reload-configuration")
        let start = Date()
        #expect(try d.initctl("emit", "--no-wait", "go").status == 0)
        #expect(Date().timeIntervalSince(start) < 0.9)
        #expect(eventually(timeout: 5) { d.output("slow") == "done\n" })
    }

    @Test func versionLogPriorityUsageShowConfigAndCheckConfig() throws {
        let d = try TestDaemon(jobs: [
            "a": "usage \"a DEV=x\"\nemits boing\nstart on (starting b and (c or d X=2))\nstop on stopping wibble\n",
            "b": "start on started nosuchjob or peach\n",
        ])
        defer { d.stop() }
        #expect(try d.initctl("version").stdout == "init (daybreak 0.1.0)\n")
        #expect(try d.initctl("log-priority").stdout == "message\n")
        #expect(try d.initctl("log-priority", "debug").status == 0)
        #expect(try d.initctl("log-priority").stdout == "debug\n")
        #expect(try d.initctl("log-priority", "loud").stderr == "initctl: The log priority given was not recognised\n")
        #expect(try d.initctl("usage", "a").stdout == "Usage: a DEV=x\n")
        #expect(try d.initctl("show-config", "a").stdout == "a\n  emits boing\n  start on (starting b and (c or d X=2))\n  stop on stopping wibble\n")
        let e = try d.initctl("show-config", "-e", "a").stdout
        #expect(e.contains("  start on starting (job: b, event: starting, env:)\n"))
        #expect(e.contains("  start on d (job:, env: X=2)\n"))
        let check = try d.initctl("check-config")
        #expect(check.status == 1)
        #expect(check.stdout.contains("b\n  start on: unknown job nosuchjob\n  start on: unknown event peach\n"))
        #expect(check.stdout.contains("  stop on: unknown job wibble\n"))
    }

    /// `show-config` with `events`: a bridge's question, answered with the
    /// jobs that name those events and only their conditions, so a bridge's
    /// reply (and memory) does not grow with the jobs of other bridges.
    @Test func showConfigForABridgeListsOnlyTheJobsThatNameItsEvents() throws {
        let d = try TestDaemon(jobs: [
            "t": "emits x\ntask\nstart on timer EVERY=1h\nexec true\n",
            "f": "start on file FILE=/tmp/nope EVENT=create or startup\nstop on timer EVERY=2h\nexec true\n",
            "plain": "start on startup\nexec true\n",
        ])
        defer { d.stop() }
        let fd = d.rawConnection()
        defer { close(fd) }
        try #require(fd >= 0)
        let body = Array("{\"v\":1,\"id\":1,\"method\":\"show-config\",\"params\":{\"events\":[\"timer\"]}}".utf8)
        let frame = [0, 0, 0, UInt8(body.count)] + body
        _ = frame.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var header = [UInt8](repeating: 0, count: 4)
        #expect(read(fd, &header, 4) == 4)
        let length = Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
        var reply = [UInt8](repeating: 0, count: length)
        var got = 0
        while got < length {
            let n = reply.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, length - got) }
            if n <= 0 { break }
            got += n
        }
        let text = String(decoding: reply, as: UTF8.self)
        #expect(text.contains("\"name\":\"t\",\"lines\":[\"  start on timer EVERY=1h\"]"), "\(text)")
        #expect(text.contains("\"name\":\"f\",\"lines\":[\"  start on (file FILE=/tmp/nope EVENT=create or startup)\",\"  stop on timer EVERY=2h\"]"), "\(text)")
        #expect(!text.contains("plain") && !text.contains("emits"), "\(text)")
    }

    @Test func globalEnvironmentTableReachesNewJobs() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        try d.job("show", "task\nexec /bin/sh -c 'echo $GREETING > \(d.out.path)/env'\n")
        _ = try d.initctl("reload-configuration")
        #expect(try d.initctl("set-env", "GREETING=hello").status == 0)
        #expect(try d.initctl("get-env", "GREETING").stdout == "hello\n")
        #expect(try d.initctl("list-env").stdout.contains("GREETING=hello\nPATH="))
        #expect(try d.initctl("set-env", "--retain", "GREETING=ignored").status == 0)
        #expect(try d.initctl("get-env", "GREETING").stdout == "hello\n")
        _ = try d.initctl("start", "show")
        #expect(d.output("env") == "hello\n")
        #expect(try d.initctl("unset-env", "GREETING").status == 0)
        #expect(try d.initctl("get-env", "GREETING").stderr == "initctl: No such variable: GREETING\n")
        _ = try d.initctl("set-env", "X=1")
        _ = try d.initctl("reset-env")
        #expect(!(try d.initctl("list-env").stdout.contains("X=1")))
    }

    @Test func monitorShowsEventsAsTheyHappen() throws {
        let d = try TestDaemon(jobs: ["t": "task\nstart on ping\nexec /bin/true\n"])
        defer { d.stop() }
        let monitor = Foundation.Process()
        monitor.executableURL = binDirectory.appendingPathComponent("initctl")
        monitor.arguments = ["--socket", d.socket, "monitor"]
        let pipe = Pipe()
        monitor.standardOutput = pipe
        try monitor.run()
        // SIGKILL: a child of the test runner may inherit a mask that blocks SIGTERM.
        defer { if monitor.isRunning { kill(monitor.processIdentifier, SIGKILL) }; monitor.waitUntilExit() }
        usleep(300_000)
        _ = try d.initctl("emit", "ping", "K=V")
        usleep(300_000)
        kill(monitor.processIdentifier, SIGKILL)
        monitor.waitUntilExit()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text.contains("event ping K=V\n"))
        #expect(text.contains("event starting JOB=t INSTANCE=\n"))
        #expect(text.contains("event stopped JOB=t INSTANCE= RESULT=ok\n"))
    }
}

@Suite(.serialized) struct DaemonLifecycle {
    @Test func lifecycleScriptsRunInOrderWithTheirEnvironment() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        let o = d.out.path
        try d.job("life", """
            start on go
            stop on halt
            env BASE=b
            pre-start exec /bin/sh -c 'echo "pre-start $UPSTART_JOB $BASE $UPSTART_EVENTS $X" >> \(o)/order'
            post-start exec /bin/sh -c 'echo "post-start" >> \(o)/order'
            exec /bin/sh -c 'echo "main $X" >> \(o)/order; exec sleep 600'
            pre-stop exec /bin/sh -c 'echo "pre-stop $UPSTART_STOP_EVENTS $Y" >> \(o)/order'
            post-stop exec /bin/sh -c 'echo "post-stop $UPSTART_STOP_EVENTS $Y" >> \(o)/order'
            """)
        _ = try d.initctl("reload-configuration")
        _ = try d.initctl("emit", "go", "X=1")
        #expect(try d.initctl("status", "life").stdout.hasPrefix("life start/running, process "))
        _ = try d.initctl("emit", "halt", "Y=2")
        #expect(eventually(timeout: 5) { d.output("order").contains("post-stop") })
        let lines = d.output("order").split(separator: "\n").map(String.init)
        #expect(lines.first == "pre-start life b go 1")
        #expect(Set(lines[1...2]) == ["post-start", "main 1"])
        #expect(lines[3] == "pre-stop halt 2")
        #expect(lines[4] == "post-stop halt 2")
    }

    @Test func failingPreStartStopsTheStartWithAnError() throws {
        let d = try TestDaemon(jobs: ["bad": "pre-start exec /bin/false\nexec /bin/sleep 600\n"])
        defer { d.stop() }
        let r = try d.initctl("start", "bad")
        #expect(r.status == 1)
        #expect(r.stderr == "initctl: Job failed to start\n")
        #expect(try d.initctl("status", "bad").stdout.hasPrefix("bad stop/waiting\n\tlast failure "))
        #expect(d.daemonLog.contains("bad pre-start process"))
    }

    @Test func respawnRestartsACrashingServiceUntilTheLimit() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        try d.job("crash", "respawn\nrespawn limit 3 60\nexec /bin/sh -c 'echo run >> \(d.out.path)/runs; sleep 0.1; exit 3'\n")
        _ = try d.initctl("reload-configuration")
        _ = try d.initctl("start", "--no-wait", "crash")
        #expect(eventually(timeout: 15) { d.daemonLog.contains("respawning too fast, stopped") })
        #expect(eventually(timeout: 5) { (try? d.initctl("status", "crash").stdout)?.hasPrefix("crash stop/waiting\n\tlast failure ") == true })
        // The first run and three respawns; the fourth respawn trips the limit.
        #expect(d.output("runs").split(separator: "\n").count == 4)
    }

    @Test func respawnBringsBackAKilledService() throws {
        let d = try TestDaemon(jobs: ["svc": "respawn\nexec /bin/sleep 600\n"])
        defer { d.stop() }
        let first = try #require(pid(in: try d.initctl("start", "svc").stdout))
        kill(first, SIGKILL)
        var second: Int32?
        #expect(eventually(timeout: 5) {
            second = (try? d.initctl("status", "svc").stdout).flatMap(pid(in:))
            return second != nil && second != first
        })
        #expect(second.map(isAlive) == true)
    }

    @Test func killTimeoutEscalatesToSIGKILL() throws {
        let d = try TestDaemon(jobs: ["stubborn": "kill timeout 1\nexec /bin/sh -c 'trap \"\" TERM; while true; do sleep 0.1; done'\n"], arguments: ["--verbose"])
        defer { d.stop() }
        let p = try #require(pid(in: try d.initctl("start", "stubborn").stdout))
        usleep(200_000)
        let began = Date()
        let r = try d.initctl("stop", "stubborn")
        let took = Date().timeIntervalSince(began)
        #expect(r.status == 0)
        #expect(took >= 0.9 && took < 5, "stop took \(took) s")
        #expect(!isAlive(p))
        #expect(d.daemonLog.contains("Sending SIGTERM signal to stubborn main process (\(p))"))
        #expect(d.daemonLog.contains("stubborn main process (\(p)) killed by KILL signal"))
    }

    @Test func consoleLogWritesJobOutputToItsLogFile() throws {
        let d = try TestDaemon(jobs: ["talk": "task\nscript\n  echo to-stdout\n  echo to-stderr >&2\nend script\n", "quiet": "task\nconsole none\nexec /bin/echo nothing\n"])
        defer { d.stop() }
        _ = try d.initctl("start", "talk")
        _ = try d.initctl("start", "quiet")
        #expect(eventually(timeout: 5) {
            ((try? String(contentsOf: d.logs.appendingPathComponent("talk.log"), encoding: .utf8)) ?? "").contains("to-stderr")
        })
        let text = try String(contentsOf: d.logs.appendingPathComponent("talk.log"), encoding: .utf8)
        #expect(text.contains("to-stdout"))
        #expect(!FileManager.default.fileExists(atPath: d.logs.appendingPathComponent("quiet.log").path))
    }

    @Test func outputIsHeldUntilTheLogDirectoryIsWritableThenWritten() throws {
        // The log directory's parent is a plain file: nothing can be written there yet.
        let place = try TempDir()
        try "not a directory".write(toFile: place.path("disk"), atomically: true, encoding: .utf8)
        let logdir = place.path("disk/logs")
        let d = try TestDaemon(arguments: ["--logdir", logdir])
        defer { d.stop() }
        try d.job("early", "task\nexec /bin/echo said-early\n")
        _ = try d.initctl("reload-configuration")
        _ = try d.initctl("start", "early")
        usleep(300_000)
        #expect(!FileManager.default.fileExists(atPath: logdir + "/early.log"))
        // The disk "is mounted": the directory can now be made, and the held output is written.
        try FileManager.default.removeItem(atPath: place.path("disk"))
        try FileManager.default.createDirectory(atPath: place.path("disk"), withIntermediateDirectories: true)
        #expect(try d.initctl("notify-disk-writeable").status == 0)
        #expect((try? String(contentsOfFile: logdir + "/early.log", encoding: .utf8)) == "said-early\r\n" ||
                (try? String(contentsOfFile: logdir + "/early.log", encoding: .utf8)) == "said-early\n")
    }

    @Test func instanceJobsAreNamedByTheirInstance() throws {
        let d = try TestDaemon(jobs: ["tty": "instance $TTY\nexec /bin/sleep 600\n"])
        defer { d.stop() }
        #expect(try d.initctl("start", "tty", "TTY=tty1").stdout.hasPrefix("tty (tty1) start/running, process "))
        #expect(try d.initctl("start", "tty", "TTY=tty2").stdout.hasPrefix("tty (tty2) start/running, process "))
        let list = try d.initctl("list").stdout
        #expect(list.contains("tty (tty1) start/running") && list.contains("tty (tty2) start/running"))
        #expect(try d.initctl("stop", "tty", "TTY=tty1").stdout == "tty stop/waiting\n")
        #expect(!(try d.initctl("list").stdout.contains("tty1")))
    }

    @Test func startAndStopWithoutArgumentsActOnTheCallingJob() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        let initctl = binDirectory.appendingPathComponent("initctl").path
        // pre-start cancels its own start, as Upstart's `stop` without arguments does.
        try d.job("selfstop", "pre-start exec \(initctl) --socket \(d.socket) stop --no-wait\nexec /bin/sleep 600\n")
        _ = try d.initctl("reload-configuration")
        _ = try d.initctl("start", "selfstop")
        #expect(eventually(timeout: 5) { (try? d.initctl("status", "selfstop").stdout) == "selfstop stop/waiting\n" })
    }
}

@Suite(.serialized) struct DaemonFailures {
    @Test func missingBinaryNamesTheJobProcessAndStep() throws {
        let d = try TestDaemon(jobs: ["nobin": "exec /nonexistent/daemon --flag\n"])
        defer { d.stop() }
        let r = try d.initctl("start", "nobin")
        #expect(r.status == 1)
        #expect(d.daemonLog.contains("nobin main process failed to start: exec /nonexistent/daemon: No such file or directory"))
        #expect(try d.initctl("status", "nobin").stdout.hasPrefix("nobin stop/waiting\n\tlast failure "))
    }

    @Test func missingChdirNamesTheDirectory() throws {
        let d = try TestDaemon(jobs: ["nodir": "chdir /nonexistent/dir\nexec /bin/true\n"])
        defer { d.stop() }
        #expect(try d.initctl("start", "nodir").status == 1)
        #expect(d.daemonLog.contains("nodir main process failed to start: chdir /nonexistent/dir: No such file or directory"))
    }

    @Test(.enabled(if: isRoot, "setuid needs root"))
    func unknownUserNamesTheUser() throws {
        let d = try TestDaemon(jobs: ["nouser": "setuid no-such-user-x\nexec /bin/true\n"])
        defer { d.stop() }
        #expect(try d.initctl("start", "nouser").status == 1)
        #expect(d.daemonLog.contains("nouser main process failed to start: setuid to user 'no-such-user-x': no such user"))
    }

    @Test func apparmorStanzasAreAcceptedButSaidToBeUnapplied() throws {
        let d = try TestDaemon(jobs: ["confined": "apparmor switch /usr/sbin/cupsd\ntask\nexec /bin/true\n"])
        defer { d.stop() }
        #expect(try d.initctl("start", "confined").status == 0)
        #expect(d.daemonLog.contains("confined: the apparmor stanzas are not applied by this build; the job runs unconfined"))
    }

    @Test func aBrokenJobFileIsReportedAndTheOthersKeepWorking() throws {
        let d = try TestDaemon(jobs: ["good": "exec /bin/sleep 600\n"])
        defer { d.stop() }
        let running = try #require(pid(in: try d.initctl("start", "good").stdout))
        try "kill signal SIGFOO\n".write(to: d.jobs.appendingPathComponent("bad.conf"), atomically: true, encoding: .utf8)
        _ = try d.initctl("reload-configuration")
        #expect(d.daemonLog.contains("bad.conf:1:13: expected a signal name or number after 'kill signal', got 'SIGFOO'; job 'bad' not loaded"))
        #expect(try d.initctl("status", "bad").stderr == "initctl: Unknown job: bad\n")
        // Breaking a loaded job keeps its last good definition.
        try "exec /bin/sleep 600\nnice 99\n".write(to: d.jobs.appendingPathComponent("good.conf"), atomically: true, encoding: .utf8)
        _ = try d.initctl("reload-configuration")
        #expect(d.daemonLog.contains("keeping its previous definition"))
        #expect(try d.initctl("status", "good").stdout == "good start/running, process \(running)\n")
    }

    @Test func garbageOnTheSocketDropsOnlyThatClient() throws {
        let d = try TestDaemon(jobs: ["svc": "exec /bin/sleep 600\n"])
        defer { d.stop() }
        let p = try #require(pid(in: try d.initctl("start", "svc").stdout))
        for garbage in [[UInt8](repeating: 0xFF, count: 64), Array("\0\0\0\u{5}hello".utf8), [0, 0, 0, 9] + Array("{\"v\":1,".utf8), Array("\0\0\0\u{2}[]".utf8)] {
            let fd = d.rawConnection()
            #expect(fd >= 0)
            _ = garbage.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            shutdown(fd, Int32(SHUT_WR))
            close(fd)
        }
        // A client that connects and never sends anything does not block others either.
        let idle = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(idle) }
        #expect(try d.initctl("version").stdout == "init (daybreak 0.1.0)\n")
        #expect(try d.initctl("status", "svc").stdout == "svc start/running, process \(p)\n")
    }

    @Test func aClientThatNeverReadsIsDroppedAndMemoryStaysBounded() throws {
        let d = try TestDaemon(jobs: ["svc": "exec /bin/sleep 600\n"])
        defer { d.stop() }
        let fd = d.rawConnection()
        defer { close(fd) }
        try #require(fd >= 0)
        var flags = fcntl(fd, F_GETFL)
        flags |= O_NONBLOCK
        _ = fcntl(fd, F_SETFL, flags)
        let body = Array("{\"v\":1,\"id\":1,\"method\":\"list\"}".utf8)
        let frame = [0, 0, 0, UInt8(body.count)] + body
        // Ask for far more than the daemon will hold for one client, reading
        // nothing, until the daemon hangs up on us (or 20 s pass).
        var sent = 0
        var droppedUs = false
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline && !droppedUs {
            let n = frame.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                sent += 1
            } else if errno == EAGAIN {
                usleep(500)
            } else {
                droppedUs = true
            }
        }
        #expect(sent > 1000)
        #expect(droppedUs)
        #expect(eventually(timeout: 10) { d.daemonLog.contains("does not read its replies") })
        #expect(try d.initctl("version").status == 0)
        let rss = try String(contentsOfFile: "/proc/\(d.pid)/status", encoding: .utf8)
            .split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
        let kb = Int(rss?.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
        if memoryBoundsApply("aClientThatNeverReadsIsDroppedAndMemoryStaysBounded", "daemon RSS \(kb) kB") {
            #expect(kb > 0 && kb < 64 * 1024, "daemon RSS \(kb) kB")
        }
    }

    @Test func unprivilegedUsersMayOnlyRead() throws {
        try #require(isRoot, "needs root to run initctl as nobody")
        let d = try TestDaemon(jobs: ["svc": "exec /bin/sleep 600\n"], user: false)
        defer { d.stop() }
        chmod(d.dir.url.path, 0o755)
        chmod(d.dir.path("run"), 0o755)
        let list = try d.initctl(["list"], asUser: "65534")
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout == "svc stop/waiting\n")
        let start = try d.initctl(["start", "svc"], asUser: "65534")
        #expect(start.status == 1)
        #expect(start.stderr == "initctl: You do not have permission to modify job: svc\n")
        let emit = try d.initctl(["emit", "boom"], asUser: "65534")
        #expect(emit.stderr == "initctl: You do not have permission to emit an event\n")
        #expect(try d.initctl("status", "svc").stdout == "svc stop/waiting\n")
    }
}

@Suite(.serialized) struct DaemonConfiguration {
    @Test func jobFilesAddedEditedAndDeletedAreNoticedByInotify() throws {
        let d = try TestDaemon(arguments: ["--verbose"])
        defer { d.stop() }
        try d.job("late", "exec /bin/sleep 600\n")
        #expect(eventually(timeout: 5) { (try? d.initctl("status", "late").stdout) == "late stop/waiting\n" })
        try d.job("late", "usage \"edited\"\nexec /bin/sleep 600\n")
        #expect(eventually(timeout: 5) { (try? d.initctl("usage", "late").stdout) == "Usage: edited\n" })
        let p = try #require(pid(in: try d.initctl("start", "late").stdout))
        try d.removeJob("late")
        // Deleted: unknown to new requests once stopped, but the running instance goes on.
        #expect(eventually(timeout: 5) { d.daemonLog.contains("Job late deleted") })
        #expect(isAlive(p))
        _ = try d.initctl("stop", "late")
        #expect(eventually(timeout: 5) { (try? d.initctl("status", "late").stderr) == "initctl: Unknown job: late\n" })
    }

    @Test func withoutInotifyReloadConfigurationAndSIGHUPPickUpChanges() throws {
        let d = try TestDaemon(arguments: ["--no-inotify"])
        defer { d.stop() }
        try d.job("a", "exec /bin/true\n")
        usleep(300_000)
        #expect(try d.initctl("status", "a").stderr == "initctl: Unknown job: a\n")
        _ = try d.initctl("reload-configuration")
        #expect(try d.initctl("status", "a").stdout == "a stop/waiting\n")
        try d.job("b", "exec /bin/true\n")
        d.signal(SIGHUP)
        #expect(eventually(timeout: 5) { (try? d.initctl("status", "b").stdout) == "b stop/waiting\n" })
    }

    @Test func upstartSessionLetsInitctlInsideAJobFindItsDaemon() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        let initctl = binDirectory.appendingPathComponent("initctl").path
        try d.job("asker", "task\nexec /bin/sh -c '\(initctl) version > \(d.out.path)/v 2>&1; echo $UPSTART_SESSION > \(d.out.path)/s'\n")
        _ = try d.initctl("reload-configuration")
        _ = try d.initctl("start", "asker")
        #expect(d.output("s") == "unix:path=\(d.socket)\n")
        #expect(d.output("v") == "init (daybreak 0.1.0)\n")
    }

    @Test func sigtermStopsEveryJobBeforeTheDaemonExits() throws {
        let d = try TestDaemon()
        try d.job("a", "exec /bin/sleep 600\n")
        try d.job("b", "post-stop exec /bin/sh -c 'echo b-post-stop > \(d.out.path)/b'\nexec /bin/sleep 600\n")
        _ = try d.initctl("reload-configuration")
        _ = try d.initctl("start", "a")
        _ = try d.initctl("start", "b")
        let list = try d.initctl("list").stdout
        let pids = list.split(separator: "\n").compactMap { pid(in: String($0)) }
        #expect(pids.count == 2, "\(list)")
        d.signal(SIGTERM)
        #expect(eventually(timeout: 10) { d.process?.isRunning == false })
        #expect(d.process?.terminationStatus == 0)
        for p in pids { #expect(!isAlive(p)) }
        #expect(d.output("b") == "b-post-stop\n")
        #expect(d.markedProcesses().isEmpty)
        d.stop()
    }

    @Test func aSecondDaemonCannotStealTheSocket() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        let r = try runProgram(binDirectory.appendingPathComponent("daybreak").path,
                               ["--user", "--confdir", d.jobs.path, "--socket", d.socket],
                               environment: ["HOME": d.dir.url.path, "XDG_RUNTIME_DIR": d.dir.path("run")])
        #expect(r.status == 1)
        #expect(r.stderr.contains("another daemon is already listening there"))
        #expect(try d.initctl("version").status == 0)
    }
}

@Suite struct DaemonCommandLine {
    let daybreak = binDirectory.appendingPathComponent("daybreak").path

    @Test func unknownOptionIsAUsageErrorNamingIt() throws {
        let r = try runProgram(daybreak, ["--frobnicate"])
        #expect(r.status == 64)
        #expect(r.stderr.hasPrefix("daybreak: unknown option '--frobnicate'\nUsage: daybreak [OPTION]..."))
    }

    @Test func optionWithoutItsValueIsAUsageError() throws {
        let r = try runProgram(daybreak, ["--user", "--confdir"])
        #expect(r.status == 64)
        #expect(r.stderr.hasPrefix("daybreak: --confdir needs a value\n"))
    }

    @Test func helpListsEveryFlag() throws {
        let r = try runProgram(daybreak, ["--help"])
        #expect(r.status == 0)
        for flag in ["--user", "--confdir", "--logdir", "--no-log", "--startup-event", "--no-startup-event", "--verbose", "--debug", "--no-inotify", "--no-cgroups", "--socket", "--state-fd"] {
            #expect(r.stdout.contains(flag), "\(flag) missing from --help")
        }
    }

    /// A state descriptor that is not a number is refused at once; one that
    /// cannot be read or decoded starts the daemon afresh
    /// (`ReexecTests.aRefusedStateDocumentStartsAfreshWithAMessage`).
    @Test func aStateFdThatIsNotANumberIsRefusedClearly() throws {
        let r = try runProgram(daybreak, ["--user", "--state-fd", "three"])
        #expect(r.status == 1)
        #expect(r.stderr == "daybreak: --state-fd needs a descriptor number, not 'three'\n")
    }

    @Test func anUnusableSocketPathIsReportedAndNothingStarts() throws {
        let dir = try TempDir()
        let r = try runProgram(daybreak, ["--user", "--confdir", dir.url.path, "--socket", "/proc/nope/control"],
                               environment: ["HOME": dir.url.path])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("daybreak: cannot create directory /proc/nope"))
    }
}

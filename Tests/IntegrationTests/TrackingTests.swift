import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A misbehaving (or well-behaved) daemon, and what its job declares.
struct TrackedCase: CustomTestStringConvertible, Sendable {
    var fixture: String
    var expect: String
    var testDescription: String { "\(fixture) under expect \(expect)" }
}

/// Whether this process may ptrace its children (root, or no Yama restriction).
let canTrace: Bool = {
    let scope = (try? String(contentsOfFile: "/proc/sys/kernel/yama/ptrace_scope", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    return scope == nil || scope == "0" || scope == "1" || getuid() == 0
}()

/// The job's processes still alive: those carrying the daemon's marker, less the daemon.
func jobProcesses(_ d: TestDaemon) -> [Int32] {
    d.markedProcesses().filter { $0 != d.daemonPid && $0 != d.pid && isAlive($0) }
}

/// Reads the pid a fixture wrote.
func pidFile(_ d: TestDaemon) -> Int32? {
    Int32(d.output("pid").trimmingCharacters(in: .whitespacesAndNewlines))
}

@Suite(.serialized, .enabled(if: canTrace, "ptrace of children is not allowed here (Yama ptrace_scope)"))
struct ForkTracking {
    static let cases: [TrackedCase] = [
        .init(fixture: "fork-once", expect: "fork"),
        .init(fixture: "fork-twice", expect: "daemon"),
        .init(fixture: "fork-thrice", expect: "daemon"),
        .init(fixture: "fork-once", expect: "daemon"),
        .init(fixture: "fork-twice", expect: "fork"),
        .init(fixture: "parent-waits", expect: "fork"),
        .init(fixture: "workers", expect: "fork"),
        .init(fixture: "helpers-first", expect: "fork"),
        .init(fixture: "fork-exec", expect: "fork"),
        .init(fixture: "pidfile-writer", expect: "daemon"),
        .init(fixture: "never-forks", expect: "fork"),
    ]

    /// Starts the job, checks the tracked pid against the one the daemon
    /// wrote, kills the daemon to see it respawned and tracked again, then
    /// stops the job and checks nothing of it is left.
    @Test(arguments: cases)
    func trackedPidIsTheRealDaemonAndStopLeavesNothing(_ c: TrackedCase) throws {
        let d = try TestDaemon()
        defer { d.stop() }
        try d.job("svc", """
            expect \(c.expect)
            respawn
            env FIXTURE_PIDFILE=\(d.out.path)/pid
            exec \(binDirectory.appendingPathComponent("fixture-\(c.fixture)").path)
            """)
        _ = try d.initctl("reload-configuration")
        let started = try d.initctl("start", "svc")
        #expect(started.status == 0, "\(started.stderr)\n\(d.daemonLog)")
        #expect(started.stdout.hasPrefix("svc start/running, process "), "\(started.stdout)")
        let tracked = try #require(pid(in: started.stdout), "\(d.daemonLog)")
        #expect(eventually(timeout: 5) { pidFile(d) == tracked }, "tracked \(tracked), pid file \(d.output("pid"))\n\(d.daemonLog)")
        #expect(isAlive(tracked))
        if c.fixture == "workers" || c.fixture == "helpers-first" {
            // The workers are the job's too: status lists them after the daemon
            // (once the process that forked them has exited, which a slow
            // build, under ThreadSanitizer, can leave a second to do).
            var lines: [Substring] = []
            #expect(eventually(timeout: 5) {
                lines = (try? d.initctl("status", "svc").stdout.split(separator: "\n")) ?? []
                return lines.count == (c.fixture == "workers" ? 3 : 4) && lines.dropFirst().allSatisfy { $0.hasPrefix("\tjob process ") }
            }, "\(lines)")
        }

        // Respawn: the daemon dies, a new one is started and tracked.
        try? FileManager.default.removeItem(at: d.out.appendingPathComponent("pid"))
        kill(tracked, SIGKILL)
        var again: Int32?
        #expect(eventually(timeout: 10) {
            guard let line = try? d.initctl("status", "svc").stdout, line.hasPrefix("svc start/running, process ") else { return false }
            again = pid(in: line)
            return again != nil && again != tracked
        }, "\(d.daemonLog)")
        #expect(eventually(timeout: 5) { pidFile(d) == again }, "respawned \(again ?? 0), pid file \(d.output("pid"))\n\(d.daemonLog)")

        let stopped = try d.initctl("stop", "svc")
        #expect(stopped.stdout == "svc stop/waiting\n")
        #expect(eventually(timeout: 5) { jobProcesses(d).isEmpty }, "left behind: \(jobProcesses(d))\n\(d.daemonLog)")
    }

    @Test func aProgramThatNeverForksIsTakenAfterASecondWithAWarning() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        try d.job("svc", """
            expect fork
            env FIXTURE_PIDFILE=\(d.out.path)/pid
            exec \(binDirectory.appendingPathComponent("fixture-never-forks").path)
            """)
        _ = try d.initctl("reload-configuration")
        let begin = Date()
        let started = try d.initctl("start", "svc")
        let took = Date().timeIntervalSince(begin)
        #expect(started.stdout.hasPrefix("svc start/running, process "))
        #expect(took >= 0.9 && took < 4, "start took \(took) s")
        #expect(d.daemonLog.contains("'expect fork' expects 1 fork but process"))
        #expect(d.daemonLog.contains("forked never and has been idle for 1 s; taking it as the daemon"))
    }

    /// Helpers forked before the master: the master is tracked as soon as
    /// it waits, not the oldest helper after ten seconds.
    @Test func theMasterForkedAfterItsHelpersIsTrackedWithinASecond() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        try d.job("svc", """
            expect fork
            env FIXTURE_PIDFILE=\(d.out.path)/pid
            exec \(binDirectory.appendingPathComponent("fixture-helpers-first").path)
            """)
        _ = try d.initctl("reload-configuration")
        let begin = Date()
        let started = try d.initctl("start", "svc")
        let took = Date().timeIntervalSince(begin)
        let tracked = try #require(pid(in: started.stdout), "\(started.stdout)\n\(d.daemonLog)")
        #expect(took < answerBound, "start took \(took) s")
        #expect(eventually(timeout: 5) { pidFile(d) == tracked }, "tracked \(tracked), pid file \(d.output("pid"))\n\(d.daemonLog)")
        #expect(!d.daemonLog.contains("no daemon found"), "\(d.daemonLog)")
    }

    @Test func aJobWhoseProcessesAllExitFailsWithTheLastStatus() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        try d.job("svc", """
            expect daemon
            exec /bin/sh -c 'sh -c "exit 3" & wait $!; exit 3'
            """)
        _ = try d.initctl("reload-configuration")
        let r = try d.initctl("start", "svc")
        #expect(r.status == 1, "\(r.stdout) \(r.stderr)")
        #expect(eventually(timeout: 5) { d.daemonLog.contains("svc main process") && d.daemonLog.contains("terminated with status 3") }, "\(d.daemonLog)")
        #expect(try d.initctl("status", "svc").stdout.hasPrefix("svc stop/waiting\n\tlast failure "))
    }
}

/// The lifecycle scripts of `expect fork|daemon` jobs are followed with
/// ptrace too. Without cgroups (so that nothing but the tracker can know)
/// `status` lists what a running script started, even a process that left
/// its process group, and the processes a script leaves running are named.
@Suite(.serialized, .enabled(if: canTrace, "ptrace of children is not allowed here (Yama ptrace_scope)"))
struct ScriptFollowing {
    /// The log line naming what a script of job `svc` left running.
    func leftLine(_ d: TestDaemon, _ kind: String) -> String? {
        d.daemonLog.split(separator: "\n").first { $0.contains("svc \(kind) process (") && $0.contains(") ended but left processes running: ") }.map(String.init)
    }

    @Test func aScriptsProcessesAreListedAndWhatItLeavesRunningIsNamed() throws {
        let d = try TestDaemon(arguments: ["--no-cgroups", "--verbose"])
        defer { d.stop() }
        let out = d.out.path
        #expect(mkfifo(out + "/go", 0o600) == 0)
        try d.job("svc", """
            expect fork
            env FIXTURE_PIDFILE=\(out)/pid
            pre-start script
                setsid sh -c 'echo $$ > \(out)/left; exec sleep 600' &
                while [ ! -e \(out)/left ]; do sleep 0.05; done
            end script
            post-start script
                setsid sh -c 'echo $$ > \(out)/helper; exec sleep 600' &
                read line < \(out)/go
            end script
            exec \(binDirectory.appendingPathComponent("fixture-fork-once").path)
            """)
        _ = try d.initctl("reload-configuration")
        #expect(try d.initctl("start", "--no-wait", "svc").status == 0)

        #expect(eventually(timeout: 5) { Int32(d.output("left").trimmingCharacters(in: .whitespacesAndNewlines)) != nil })
        let left = try #require(Int32(d.output("left").trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(eventually(timeout: 5) { leftLine(d, "pre-start")?.contains("(\(left))") == true }, "\(d.daemonLog)")
        #expect(d.daemonLog.contains(") forked process (\(left))\n"), "forks inside the script are followed: \(d.daemonLog)")
        #expect(isAlive(left), "a script's leftover runs on (as in Upstart); the cgroup, where there is one, stops it with the job")

        // The post-start script waits on the fifo; its helper left the process group.
        #expect(eventually(timeout: 5) { Int32(d.output("helper").trimmingCharacters(in: .whitespacesAndNewlines)) != nil })
        let helper = try #require(Int32(d.output("helper").trimmingCharacters(in: .whitespacesAndNewlines)))
        var status = ""
        #expect(eventually(timeout: 5) {
            status = (try? d.initctl("status", "svc").stdout) ?? ""
            return status.contains("\tjob process \(helper)\n")
        }, "\(status)\n\(d.daemonLog)")
        #expect(status.hasPrefix("svc start/post-start, process "), "\(status)")
        #expect(status.contains("\tpost-start process "), "\(status)")
        #expect(!status.contains("\tjob process \(left)\n"), "the pre-start's leftover is detached and no longer listed: \(status)")

        // Let the post-start script end: its helper is named, the job runs.
        let fifo = try #require(FileHandle(forWritingAtPath: out + "/go"))
        fifo.write("go\n".data(using: .utf8)!)
        try fifo.close()
        #expect(eventually(timeout: 5) { leftLine(d, "post-start")?.contains("(\(helper))") == true }, "\(d.daemonLog)")
        #expect(eventually(timeout: 5) { (try? d.initctl("status", "svc").stdout)?.hasPrefix("svc start/running, process ") == true })
        let running = try d.initctl("status", "svc").stdout
        #expect(!running.contains("\tjob process "), "nothing is followed once the scripts ended: \(running)")
        #expect(try d.initctl("stop", "svc").status == 0)
        kill(left, SIGKILL)
        kill(helper, SIGKILL)
    }

    @Test func aFollowedScriptsFailureStillFailsTheJob() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        try d.job("svc", """
            expect daemon
            pre-start script
                sh -c 'exit 0'
                exit 7
            end script
            exec \(binDirectory.appendingPathComponent("fixture-fork-twice").path)
            """)
        _ = try d.initctl("reload-configuration")
        let r = try d.initctl("start", "svc")
        #expect(r.status == 1, "\(r.stdout) \(r.stderr)")
        #expect(d.daemonLog.contains("svc pre-start process (") && d.daemonLog.contains(") terminated with status 7"), "\(d.daemonLog)")
        #expect(!d.daemonLog.contains("left processes running"), "\(d.daemonLog)")
        #expect(try d.initctl("status", "svc").stdout.hasPrefix("svc stop/waiting\n\tlast failure "))
        #expect(jobProcesses(d).isEmpty, "left behind: \(jobProcesses(d))")
    }
}

/// Whether cgroups can be made here (root, and a cgroup file system).
let cgroupsUsable: Bool = isRoot && (try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8))?.contains(" cgroup") == true


@Suite(.serialized, .enabled(if: cgroupsUsable, "needs root and a mounted cgroup hierarchy"))
struct Containment {
    /// A job in several cgroup v1 hierarchies names each remaining process
    /// once, not once per hierarchy.
    @Test func remainingProcessesAreNamedOnceWhateverTheHierarchies() throws {
        try #require(FileManager.default.fileExists(atPath: "/sys/fs/cgroup/memory/cgroup.procs")
                     && FileManager.default.fileExists(atPath: "/sys/fs/cgroup/pids/cgroup.procs"),
                     "needs the cgroup v1 memory and pids hierarchies")
        let d = try TestDaemon()
        defer { d.stop() }
        try d.job("svc", """
            cgroup memory
            cgroup pids
            cgroup cpu
            exec /bin/sh -c 'setsid /bin/sh -c "echo \\$\\$ > \(d.out.path)/escaped; exec sleep 600" & exec sleep 600'
            """)
        _ = try d.initctl("reload-configuration")
        let started = try d.initctl("start", "svc")
        #expect(pid(in: started.stdout) != nil, "\(started.stderr)\n\(d.daemonLog)")
        #expect(eventually(timeout: 5) { Int32(d.output("escaped").trimmingCharacters(in: .whitespacesAndNewlines)) != nil })
        let escaped = try #require(Int32(d.output("escaped").trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(try d.initctl("stop", "svc").status == 0)
        #expect(eventually(timeout: 5) { !isAlive(escaped) })
        // The daemon signals the group, then logs: wait for the line.
        var line = ""
        _ = eventually(timeout: 10) {
            line = String(d.daemonLog.split(separator: "\n").first { $0.contains("stopping the job's remaining processes") } ?? "")
            return !line.isEmpty
        }
        #expect(line.hasSuffix("svc: stopping the job's remaining processes (\(escaped))"), "\(line)")
    }

    @Test func stopReachesAProcessThatLeftTheMainProcessAndTheGroupIsRemoved() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        defer {
            d.stop()
            #expect(d.leftCgroups.isEmpty, "cgroups left: \(d.leftCgroups)")
        }
        try d.job("svc", """
            exec /bin/sh -c 'setsid /bin/sh -c "echo \\$\\$ > \(d.out.path)/escaped; exec sleep 600" & exec sleep 600'
            """)
        _ = try d.initctl("reload-configuration")
        let started = try d.initctl("start", "svc")
        let main = try #require(pid(in: started.stdout), "\(started.stderr)\n\(d.daemonLog)")
        #expect(eventually(timeout: 5) { Int32(d.output("escaped").trimmingCharacters(in: .whitespacesAndNewlines)) != nil })
        let escaped = try #require(Int32(d.output("escaped").trimmingCharacters(in: .whitespacesAndNewlines)))
        let groups = cgroupDirectories(daemonPid: d.daemonPid)
        #expect(!groups.isEmpty)
        let status = try d.initctl("status", "svc").stdout
        #expect(status == "svc start/running, process \(main)\n\tjob process \(escaped)\n", "\(status)")
        #expect(try d.initctl("stop", "svc").status == 0)
        #expect(eventually(timeout: 5) { !isAlive(escaped) && !isAlive(main) })
        #expect(eventually(timeout: 10) { d.daemonLog.contains("svc: stopping the job's remaining processes (\(escaped))") }, "\(d.daemonLog)")
        #expect(eventually(timeout: 5) { groups.allSatisfy { !FileManager.default.fileExists(atPath: $0 + "/svc") } })
        d.stop()
        #expect(d.leftCgroups.isEmpty)
    }

    @Test func aMainProcessThatEndsBeforeItsChildrenIsReported() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        try d.job("svc", """
            exec /bin/sh -c 'sleep 600 & sleep 0.3; exit 0'
            """)
        _ = try d.initctl("reload-configuration")
        let main = try #require(pid(in: try d.initctl("start", "svc").stdout))
        #expect(eventually(timeout: 5) { d.daemonLog.contains("svc main process (\(main)) ended but other processes of the job remain: (") }, "\(d.daemonLog)")
        #expect(eventually(timeout: 5) { jobProcesses(d).isEmpty }, "left behind: \(jobProcesses(d))")
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/sys/fs/cgroup/pids") || FileManager.default.fileExists(atPath: "/sys/fs/cgroup/pids.max"), "no pids controller"))
    func cgroupSettingsApplyToTheJobsGroup() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        defer {
            d.stop()
            #expect(d.leftCgroups.isEmpty)
        }
        try d.job("svc", "cgroup pids pids.max 37\nexec sleep 600\n")
        _ = try d.initctl("reload-configuration")
        let r = try d.initctl("start", "svc")
        #expect(r.status == 0, "\(r.stderr)\n\(d.daemonLog)")
        let values = cgroupDirectories(daemonPid: d.daemonPid).compactMap { try? String(contentsOfFile: $0 + "/svc/pids.max", encoding: .utf8) }
        #expect(values.contains("37\n"), "\(values)")
        _ = try d.initctl("stop", "svc")
    }

    @Test func anUnknownCgroupSettingFailsTheJobWithAClearMessage() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        try d.job("svc", "cgroup pids pids.bogus 1\nexec sleep 600\n")
        _ = try d.initctl("reload-configuration")
        let r = try d.initctl("start", "svc")
        #expect(r.status == 1)
        #expect(d.daemonLog.contains("svc main process failed to start: cgroup pids pids.bogus: no such setting"), "\(d.daemonLog)")
        #expect(try d.initctl("status", "svc").stdout.hasPrefix("svc stop/waiting\n\tlast failure "))
    }
}

@Suite(.serialized) struct NotifyReadiness {
    @Test func readyMakesTheJobRunningAndStatusShowsTheText() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        try d.job("svc", """
            expect notify
            respawn
            env FIXTURE_PIDFILE=\(d.out.path)/pid
            exec \(binDirectory.appendingPathComponent("fixture-notifier").path)
            """)
        _ = try d.initctl("reload-configuration")
        let begin = Date()
        let started = try d.initctl("start", "svc")
        #expect(Date().timeIntervalSince(begin) >= 0.2)
        let main = try #require(pid(in: started.stdout), "\(started.stderr)\n\(d.daemonLog)")
        #expect(started.stdout.hasPrefix("svc start/running, process "))
        #expect(pidFile(d) == main)
        #expect(try d.initctl("status", "svc").stdout == "svc start/running, process \(main)\n\tstatus: serving\n")

        try? FileManager.default.removeItem(at: d.out.appendingPathComponent("pid"))
        kill(main, SIGKILL)
        var again: Int32?
        #expect(eventually(timeout: 10) {
            guard let line = try? d.initctl("status", "svc").stdout, line.hasPrefix("svc start/running, process ") else { return false }
            again = pid(in: line)
            return again != nil && again != main
        }, "\(d.daemonLog)")
        #expect(pidFile(d) == again)
        #expect(try d.initctl("stop", "svc").stdout == "svc stop/waiting\n")
        #expect(eventually(timeout: 5) { jobProcesses(d).isEmpty }, "left behind: \(jobProcesses(d))")
    }

    @Test func aMessageFromAProcessOutsideTheJobIsIgnored() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        try d.job("svc", """
            expect notify
            exec \(binDirectory.appendingPathComponent("fixture-notifier").path)
            """)
        _ = try d.initctl("reload-configuration")
        #expect(try d.initctl("start", "--no-wait", "svc").status == 0)
        // This test process is not part of the job: its READY=1 must not count.
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let name = Array("daybreak-\(d.daemonPid)-1".utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw[0] = 0
            for (i, b) in name.enumerated() { raw[i + 1] = b }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + 1 + name.count)
        let message = Array("READY=1\nSTATUS=forged".utf8)
        let sent = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, message, message.count, 0, $0, length) }
        }
        #expect(sent == message.count)
        #expect(eventually(timeout: 5) { d.daemonLog.contains("svc: ignored a notify message from process \(getpid()), which is not part of the job") }, "\(d.daemonLog)")
        #expect(try d.initctl("status", "svc").stdout.hasPrefix("svc start/spawned, process "))
        #expect(eventually(timeout: 5) { (try? d.initctl("status", "svc").stdout)?.hasSuffix("\tstatus: serving\n") == true })
        #expect(try d.initctl("status", "svc").stdout.hasPrefix("svc start/running, process "))
    }

    @Test func mainPidNamesTheProcessToSupervise() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        try d.job("svc", """
            expect notify
            env FIXTURE_PIDFILE=\(d.out.path)/pid
            exec \(binDirectory.appendingPathComponent("fixture-notifier").path) fork
            """)
        _ = try d.initctl("reload-configuration")
        let started = try d.initctl("start", "svc")
        let main = try #require(pid(in: started.stdout), "\(started.stderr)\n\(d.daemonLog)")
        #expect(eventually(timeout: 5) { pidFile(d) == main }, "status pid \(main), pid file \(d.output("pid"))")
        usleep(300_000)  // the spawned parent has exited by now
        #expect(try d.initctl("status", "svc").stdout == "svc start/running, process \(main)\n\tstatus: serving from \(main)\n")
        #expect(try d.initctl("stop", "svc").status == 0)
        #expect(eventually(timeout: 5) { !isAlive(main) && jobProcesses(d).isEmpty })
    }
}

@Suite struct NoContainment {
    @Test func withoutCgroupsTheDaemonSaysSoOnceAndStopReachesTheProcessGroup() throws {
        let d = try TestDaemon(arguments: ["--no-cgroups"])
        defer { d.stop() }
        try d.job("svc", "cgroup pids pids.max 10\nexec /bin/sh -c 'sleep 600 & exec sleep 600'\n")
        _ = try d.initctl("reload-configuration")
        let main = try #require(pid(in: try d.initctl("start", "svc").stdout))
        #expect(d.daemonLog.components(separatedBy: "cgroups are off (--no-cgroups): stopping a job reaches its main process's process group only").count == 2)
        #expect(d.daemonLog.contains("svc: no cgroups; the cgroup stanza is ignored"))
        #expect(cgroupDirectories(daemonPid: d.daemonPid).isEmpty)
        #expect(try d.initctl("status", "svc").stdout == "svc start/running, process \(main)\n")
        _ = try d.initctl("stop", "svc")
        // The background sleep shares the main process's group: the stop signal reaches it.
        #expect(eventually(timeout: 5) { jobProcesses(d).isEmpty }, "left behind: \(jobProcesses(d))")
    }
}

/// `expect stop` with a daemon that never raises SIGSTOP (Debian's sshd
/// under Ubuntu's ssh.conf): Upstart leaves `initctl start` waiting for
/// ever and `initctl stop` too. Here the start ends once the process is
/// plainly idle, and a stop in `spawned` ends the process at once.
@Suite(.serialized)
struct ExpectStopWithoutAStop {
    /// A job whose process waits for signals (pause) and never stops itself.
    func idleJob(_ d: TestDaemon) throws {
        try d.job("svc", """
            expect stop
            env FIXTURE_PIDFILE=\(d.out.path)/pid
            exec \(binDirectory.appendingPathComponent("fixture-never-forks").path)
            """)
        _ = try d.initctl("reload-configuration")
    }

    @Test func anIdleProcessThatNeverStopsItselfIsTakenAsReadyWithAWarning() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        try idleJob(d)
        let begin = Date()
        let started = try d.initctl(["start", "svc"], timeout: 20)
        let took = Date().timeIntervalSince(begin)
        #expect(started.status == 0, "\(started.stderr)\n\(d.daemonLog)")
        #expect(started.stdout.hasPrefix("svc start/running, process "), "\(started.stdout)")
        #expect(took >= 0.9 && took < 4, "start took \(took) s")
        #expect(d.daemonLog.contains("svc: 'expect stop' but main process ("), "\(d.daemonLog)")
        #expect(d.daemonLog.contains("waits for work; taking it as ready"), "\(d.daemonLog)")
        let p = try #require(pid(in: started.stdout))
        #expect(try d.initctl("stop", "svc").stdout == "svc stop/waiting\n")
        #expect(eventually(timeout: 5) { !isAlive(p) })
    }

    @Test func aStopInSpawnedEndsTheProcessAtOnce() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        // A process that sleeps (not idle in a loop) is not taken as ready
        // for ten seconds: the stop comes long before.
        try d.job("svc", """
            expect stop
            exec sleep 1000
            """)
        _ = try d.initctl("reload-configuration")
        #expect(try d.initctl("start", "--no-wait", "svc").status == 0)
        #expect(eventually(timeout: 5) { (try? d.initctl("status", "svc").stdout.hasPrefix("svc start/spawned, process ")) == true })
        let p = try #require(pid(in: try d.initctl("status", "svc").stdout))
        let begin = Date()
        let stopped = try d.initctl(["stop", "svc"], timeout: 20)
        let took = Date().timeIntervalSince(begin)
        #expect(stopped.stdout == "svc stop/waiting\n", "\(stopped.stdout) \(stopped.stderr)")
        #expect(took < answerBound, "stop took \(took) s")
        #expect(!isAlive(p))
    }
}

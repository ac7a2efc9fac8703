import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

// The attacks of docs/RELIABILITY.md, each against a real daemon: a hostile
// or broken client, a crash-looping job, a huge job file, a standard error
// nobody reads. Every test asserts that *other* clients are still answered
// within a bound, and that the daemon's memory and descriptors stay within
// the documented limits. Loads are bounded in count and time; the long
// variants run only with DAYBREAK_LONG_TESTS=1 (scripts/hardening-long).

/// Whether the long variants run (`scripts/hardening-long` sets it).
let longTests = ProcessInfo.processInfo.environment["DAYBREAK_LONG_TESTS"] == "1"

/// The bound on how long another client waits for an answer while the
/// daemon is under attack (docs/RELIABILITY.md). Generous for a debug build
/// on a loaded two-core machine; the measured figures are far below it.
/// Under AddressSanitizer or ThreadSanitizer every spawn and allocation is
/// several times slower (the crash-loop test measured 2 s under ASan, 1.2 s
/// under TSan), so the bound is 5 s there.
let answerBound = underAddressSanitizer || dlsym(nil, "__tsan_init") != nil ? 5.0 : 1.0

/// A `fixture-flood` run in the background, as root or as another uid.
/// Ended by pid when the test ends, whatever happens.
final class Flood {
    let process = Foundation.Process()
    private let out = Pipe()
    private var finished = false

    init(_ arguments: [String], asUser uid: String? = nil) throws {
        let tool = binDirectory.appendingPathComponent("fixture-flood").path
        if let uid {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", tool] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = arguments
        }
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// Waits for the flood to end (killing it after `timeout` s) and returns what it printed.
    func wait(timeout: Double = 120) -> String {
        if !eventually(timeout: timeout, { !self.process.isRunning }) { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        finished = true
        return String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    deinit {
        if !finished && process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// Resident memory of a process, in KiB (VmRSS).
func residentKiB(_ pid: Int32) -> Int {
    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
    return Int(line?.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
}

/// How many descriptors a process has open.
func openDescriptors(_ pid: Int32) -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd"))?.count ?? 0
}

/// CPU time a process has used so far, in seconds (user + system).
func cpuSeconds(_ pid: Int32) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return 0 }
    let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
    let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
    return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// Pseudo-terminals in use on the whole machine.
/// The pseudo-terminal masters a process holds open: its own share of the
/// machine's pty pool, which other tests running beside it do not move.
func ptyMasters(of pid: Int32) -> Int {
    let dir = "/proc/\(pid)/fd"
    return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { fd in
        let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: dir + "/" + fd)) ?? ""
        return target == "/dev/ptmx" || target == "/dev/pts/ptmx"
    }.count
}

/// The children of a process that are zombies.
func zombieChildren(of pid: Int32) -> [Int32] {
    let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
    return children.split(separator: " ").compactMap { Int32($0) }.filter { child in
        guard let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(close, offsetBy: 2)] == "Z"
    }
}

extension TestDaemon {
    /// Runs `initctl version` `count` times, `interval` seconds apart, and
    /// returns the slowest answer in seconds (a run that failed or timed out
    /// counts as 10 s).
    func slowestAnswer(count: Int = 5, interval: Double = 0.2, asUser uid: String? = nil) -> Double {
        var worst = 0.0
        for i in 0..<count {
            if i > 0 { usleep(UInt32(interval * 1e6)) }
            let start = Date()
            let r = try? initctl(["version"], asUser: uid, timeout: 10)
            let took = r?.status == 0 ? Date().timeIntervalSince(start) : 10
            worst = max(worst, took)
        }
        return worst
    }

    /// Lets every uid reach a system-mode daemon's socket.
    func openToEveryone() {
        chmod(dir.url.path, 0o755)
        chmod(dir.path("run"), 0o755)
    }

    /// Sets the daemon's descriptor limit (soft and hard).
    func limitDescriptors(_ n: Int) throws {
        let r = try runProgram("/usr/bin/prlimit", ["--pid", "\(daemonPid)", "--nofile=\(n):\(n)"])
        try #require(r.status == 0, "prlimit: \(r.stderr)")
    }
}

@Suite(.serialized) struct Hardening {
    /// Failure 1: a client that pipelines requests without pause is served
    /// its share, and every other client and the reaper get theirs.
    @Test func aClientPipeliningRequestsCannotStarveTheOthers() throws {
        let d = try TestDaemon(jobs: ["ticker": "respawn\nrespawn limit 100000 1\nexec /bin/sleep 0.2\n"])
        defer { d.stop() }
        let first = try #require(pid(in: try d.initctl("start", "ticker").stdout))
        let flood = try Flood(["pipeline", d.socket, longTests ? "30" : "4"])
        usleep(500_000)
        let worst = d.slowestAnswer(count: longTests ? 50 : 5)
        figure("pipelining client", "slowest answer to another client \(worst) s")
        #expect(worst < answerBound, "another client waited \(worst) s")
        // The respawning job was reaped and started again meanwhile.
        let later = pid(in: (try? d.initctl(["status", "ticker"], timeout: 10))?.stdout ?? "")
        #expect(later != nil && later != first, "ticker was not respawned during the flood")
        #expect(zombieChildren(of: d.daemonPid).count <= 1)
        let printed = flood.wait()
        #expect(printed.contains("replies"), "\(printed)")
        // The flooding client itself was served too.
        let replies = Int(printed.split(separator: " ").dropLast().last ?? "0") ?? 0
        #expect(replies > 100, "\(printed)")
    }

    /// Failure 2: idle connections from an unprivileged uid cannot use up the
    /// daemon's descriptors: it does not spin, root is answered, and a
    /// respawning job keeps respawning.
    @Test func idleConnectionsFromAnUnprivilegedUserCannotExhaustDescriptors() throws {
        try #require(isRoot, "needs root to run a system-mode daemon and a client as uid 65534")
        let d = try TestDaemon(jobs: ["svc": "respawn\nrespawn limit 100000 1\nexec /bin/sleep 0.3\n"], user: false)
        defer { d.stop() }
        d.openToEveryone()
        try d.limitDescriptors(1024)
        _ = try d.initctl("start", "svc")
        let flood = try Flood(["idle", d.socket, longTests ? "5000" : "1100", longTests ? "20" : "6"], asUser: "65534")
        usleep(2_500_000)
        let cpuBefore = cpuSeconds(d.daemonPid)
        usleep(1_000_000)
        let cpu = cpuSeconds(d.daemonPid) - cpuBefore
        #expect(cpu < 0.5, "the daemon used \(cpu) s of CPU in 1 s while idle connections waited")
        let worst = d.slowestAnswer()
        figure("idle connections", "daemon CPU \(cpu) s in 1 s, slowest answer to root \(worst) s, \(openDescriptors(d.daemonPid)) descriptors")
        #expect(worst < answerBound, "root waited \(worst) s")
        #expect(openDescriptors(d.daemonPid) < 1000)
        let printed = flood.wait()
        #expect(printed.contains("connected"), "\(printed)")
        // The job never lost a start to a lack of descriptors.
        #expect(!d.daemonLog.contains("Too many open files"))
        let status = try d.initctl(["status", "svc"], timeout: 10).stdout
        #expect(status.hasPrefix("svc start/running"), "\(status)")
    }

    /// Failure 3: half-sent frames are bounded per uid and dropped after the
    /// partial-frame timeout; memory comes back when they go.
    @Test func halfSentFramesAreBoundedAndTimedOut() throws {
        try #require(isRoot, "needs root to run a system-mode daemon and a client as uid 65534")
        let d = try TestDaemon(user: false)
        defer { d.stop() }
        d.openToEveryone()
        try d.limitDescriptors(16384)
        let idle = residentKiB(d.daemonPid)
        let flood = try Flood(["half", d.socket, longTests ? "5000" : "2000", "8"], asUser: "65534")
        usleep(3_000_000)
        let during = residentKiB(d.daemonPid)
        figure("half frames", "resident \(idle) KiB idle, \(during) KiB during")
        let bounded = memoryBoundsApply("halfSentFramesAreBoundedAndTimedOut", "\(idle) KiB idle, \(during) KiB during")
        if bounded { #expect(during < idle + 24 * 1024, "resident memory grew from \(idle) KiB to \(during) KiB") }
        #expect(d.slowestAnswer() < answerBound)
        let printed = flood.wait()
        // Every half frame the daemon took was dropped after the timeout.
        let connected = Int(printed.split(separator: "\n").first?.split(separator: " ")[1].dropLast() ?? "0") ?? 0
        let closed = Int(printed.split(separator: "\n").last?.split(separator: " ").last ?? "-1") ?? -1
        #expect(connected > 0 && closed == connected, "\(printed)")
        if bounded { #expect(eventually(timeout: 5) { residentKiB(d.daemonPid) < idle + 8 * 1024 }, "memory stayed at \(residentKiB(d.daemonPid)) KiB") }
    }

    /// Failure 4: subscribers that never read have a total bound; the event
    /// rate and other clients do not suffer.
    @Test func stalledSubscribersHaveATotalBound() throws {
        try #require(isRoot, "needs root to run a system-mode daemon and a client as uid 65534")
        let d = try TestDaemon(user: false)
        defer { d.stop() }
        d.openToEveryone()
        try d.limitDescriptors(16384)
        let subscribers = try Flood(["subscribe", d.socket, "200", "60"], asUser: "65534")
        usleep(1_000_000)
        let emitter = try Flood(["emit", d.socket, longTests ? "100000" : "25000", "200"])
        var worst = 0.0
        var peak = 0
        while emitter.process.isRunning {
            peak = max(peak, residentKiB(d.daemonPid))
            worst = max(worst, d.slowestAnswer(count: 1))
        }
        let printed = emitter.wait()
        peak = max(peak, residentKiB(d.daemonPid))
        figure("stalled subscribers", "peak resident \(peak) KiB, slowest answer \(worst) s, \(printed.trimmingCharacters(in: .whitespacesAndNewlines))")
        if memoryBoundsApply("stalledSubscribersHaveATotalBound", "peak \(peak) KiB") {
            #expect(peak < 96 * 1024, "resident memory peaked at \(peak) KiB")
        }
        #expect(worst < answerBound, "another client waited \(worst) s")
        #expect(printed.contains("emitted"), "\(printed)")
        kill(subscribers.process.processIdentifier, SIGKILL)
        _ = subscribers.wait()
    }

    /// Failure 5: crash-looping jobs share the loop with everything else, and
    /// every dead process's pseudo-terminal is closed when it is reaped.
    @Test func crashLoopingJobsNeitherLockTheLoopNorLeakTerminals() throws {
        let count = longTests ? 100 : 3
        let console = longTests ? "console none\n" : ""
        var jobs: [String: String] = [:]
        for i in 0..<count { jobs["crash\(i)"] = "respawn\nrespawn limit 100000 1\n\(console)exec /bin/false\n" }
        let d = try TestDaemon(jobs: jobs)
        defer { d.stop() }
        // The floor: how long an answer takes from this daemon, idle, on
        // this machine now (a loaded machine slows initctl's own start).
        let floor = d.slowestAnswer(count: 3)
        let bound = answerBound + 2 * floor
        for i in 0..<count { _ = try d.initctl(["start", "--no-wait", "crash\(i)"], timeout: 10) }
        usleep(1_000_000)
        let worst = d.slowestAnswer(count: longTests ? 30 : 5)
        #expect(worst < bound, "another client waited \(worst) s (idle: \(floor) s)")
        let fds = openDescriptors(d.daemonPid)
        let ptys = ptyMasters(of: d.daemonPid)
        figure("crash loop", "slowest answer \(worst) s (idle \(floor) s), \(fds) descriptors, \(ptys) pty masters held")
        #expect(fds < 64, "the daemon has \(fds) descriptors open")
        // Each crashing job holds at most one pty (its running process's);
        // a pty leaked at every reap would be hundreds by now.
        #expect(ptys <= count, "the daemon holds \(ptys) pseudo-terminal masters for \(count) jobs")
        // SIGTERM is still heard: every job stops and the daemon exits.
        d.signal(SIGTERM)
        #expect(eventually(timeout: 10) { !(d.process?.isRunning ?? false) }, "the daemon did not exit on SIGTERM")
    }

    /// Failure 6: a job file at the size limit parses in linear time.
    @Test func bigJobFilesParseInLinearTime() throws {
        let dir = try TempDir()
        func seconds(lines: Int) throws -> Double {
            let text = "exec /bin/true\n" + (0..<lines).map { "env V\($0)=1\n" }.joined()
            try dir.write("big\(lines).conf", text)
            let start = Date()
            let r = try run("init-checkconf", ["--quiet", dir.path("big\(lines).conf")])
            #expect(r.status == 0, "\(r.stderr)")
            return Date().timeIntervalSince(start)
        }
        let small = try seconds(lines: 20_000)
        let large = try seconds(lines: 80_000)
        figure("big job file", "init-checkconf (debug build): 20,000 lines \(small) s, 80,000 lines \(large) s")
        // Four times the lines: linear is about 4x, quadratic 16x.
        #expect(large < max(small * 8, 0.5), "20,000 lines: \(small) s; 80,000 lines: \(large) s")
        #expect(try seconds(lines: 60_000) < 5)
    }

    /// Failure 6, in the daemon: the largest legal job file (1 MiB) dropped
    /// into the live directory is parsed off the loop, so the daemon goes
    /// on answering; a job with a huge environment starts at once.
    @Test func aHugeJobFileDoesNotBlockTheDaemon() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        var text = "exec /bin/sleep 600\n"
        var lines = 0
        while text.utf8.count < 1_040_000 {
            text += "env A\(String(lines, radix: 16))=1\n"
            lines += 1
        }
        try d.job("huge", text)
        let worst = d.slowestAnswer(count: 20, interval: 0.05)
        figure("huge job file", "slowest answer while a 1 MiB file (\(lines) lines) loaded: \(worst) s")
        #expect(worst < 0.5, "another client waited \(worst) s while the file loaded")
        #expect(eventually(timeout: 20) { (try? d.initctl(["status", "huge"], timeout: 10))?.stdout == "huge stop/waiting\n" })
        let start = Date()
        let r = try d.initctl(["start", "huge"], timeout: 30)
        let took = Date().timeIntervalSince(start)
        #expect(r.status == 0, "\(r.stderr)")
        figure("huge environment", "start with \(lines) variables took \(took) s")
        #expect(took < 3, "starting a job with \(lines) variables took \(took) s")
        let p = try #require(pid(in: r.stdout))
        let environ = (FileManager.default.contents(atPath: "/proc/\(p)/environ") ?? Data()).split(separator: 0)
        #expect(environ.count > lines)
    }

    /// Failure 7: the daemon's own log never blocks it, even when its
    /// standard error is a pipe that nobody reads.
    @Test func aStandardErrorNobodyReadsNeverBlocksTheDaemon() throws {
        let stuck = Pipe()
        let d = try TestDaemon(jobs: ["ticker": "respawn\nrespawn limit 100000 1\nexec /bin/sleep 0.2\n"],
                               arguments: ["--debug"], standardError: stuck)
        defer { d.stop() }
        let first = try #require(pid(in: try d.initctl("start", "ticker").stdout))
        // Each bad connection is one line of the daemon's log: far more
        // than a pipe holds.
        let garbage = try Flood(["garbage", d.socket, "2000"])
        _ = garbage.wait(timeout: 60)
        let worst = d.slowestAnswer()
        figure("stuck standard error", "slowest answer \(worst) s")
        #expect(worst < answerBound, "another client waited \(worst) s")
        let later = pid(in: (try? d.initctl(["status", "ticker"], timeout: 10))?.stdout ?? "")
        #expect(later != nil && later != first, "ticker was not respawned")
        // Reading the pipe now shows the daemon counted what it dropped.
        Platform_setNonBlocking(stuck.fileHandleForReading.fileDescriptor)
        var text = ""
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(stuck.fileHandleForReading.fileDescriptor, &buffer, buffer.count)
            if n <= 0 { break }
            text += String(decoding: buffer[0..<n], as: UTF8.self)
        }
        #expect(eventually(timeout: 5) {
            let n = read(stuck.fileHandleForReading.fileDescriptor, &buffer, buffer.count)
            if n > 0 { text += String(decoding: buffer[0..<n], as: UTF8.self) }
            return text.contains("log lines were dropped")
        }, "the daemon did not say it dropped log lines")
    }

    /// `respawn limit` counts as documented while the loop is busy: a job
    /// that crashes at once is stopped after its limit, even with a client
    /// pipelining requests all the while.
    @Test func theRespawnLimitHoldsWhileTheLoopIsBusy() throws {
        let d = try TestDaemon(jobs: ["crash": "respawn\nrespawn limit 10 5\nconsole none\nexec /bin/false\n"])
        defer { d.stop() }
        let flood = try Flood(["pipeline", d.socket, "4"])
        usleep(300_000)
        _ = try d.initctl(["start", "--no-wait", "crash"], timeout: 10)
        #expect(eventually(timeout: 10) { d.daemonLog.contains("crash respawning too fast, stopped") }, "\(d.daemonLog)")
        // The job failed: status says so under Upstart's line (post-mortem).
        #expect(try d.initctl(["status", "crash"], timeout: 10).stdout.hasPrefix("crash stop/waiting\n\tlast failure "))
        _ = flood.wait()
    }

    /// A client that asks and then takes none of its replies for the
    /// stalled-reader timeout (30 s) is dropped. Long: it waits 30 s.
    @Test(.enabled(if: longTests, "waits for the 30 s stalled-reader timeout; scripts/hardening-long runs it"))
    func aClientThatTakesNoOutputFor30SecondsIsDropped() throws {
        var jobs: [String: String] = [:]
        for i in 0..<2000 { jobs["job\(i)"] = "exec /bin/sleep 600\n" }
        let d = try TestDaemon(jobs: jobs)
        defer { d.stop() }
        let fd = d.rawConnection()
        defer { close(fd) }
        try #require(fd >= 0)
        // Ten lists of 2,000 jobs: far more than the socket's buffer holds.
        let body = Array("{\"v\":1,\"id\":1,\"method\":\"list\"}".utf8)
        let frame = [0, 0, 0, UInt8(body.count)] + body
        for _ in 0..<10 { _ = frame.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
        #expect(eventually(timeout: 45) { d.daemonLog.contains("took none of its") }, "\(d.daemonLog)")
        #expect(d.slowestAnswer(count: 1) < answerBound)
    }

    /// A bad frame gets a sentence, not an internal name.
    @Test func aBadFrameLengthIsAnsweredInPlainWords() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        let fd = d.rawConnection()
        defer { close(fd) }
        try #require(fd >= 0)
        let bad: [UInt8] = [0xFC, 0x87, 0x3A, 0xF9]
        _ = bad.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var reply = [UInt8](repeating: 0, count: 4096)
        var got: [UInt8] = []
        while true {
            let n = read(fd, &reply, reply.count)
            if n <= 0 { break }
            got += reply[0..<n]
        }
        let text = String(decoding: got.dropFirst(4), as: UTF8.self)
        #expect(text.contains("a request frame must be 1 to 65536 bytes long, and this one announced 4236720889 bytes"), "\(text)")
        #expect(!text.contains("badLength"))
    }
}

/// Prints a measured figure, for docs/RELIABILITY.md.
func figure(_ test: String, _ text: String) {
    print("hardening figure: \(test): \(text)")
}

/// O_NONBLOCK on a descriptor the test owns.
func Platform_setNonBlocking(_ fd: Int32) {
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
}

@Suite(.serialized) struct FullLogDirectory {
    /// A log directory that fills up part-way through a job's output: the
    /// daemon says so once, holds the rest, and when space comes back writes
    /// it after what reached the disk, so every line is there exactly once.
    @Test func aFullLogDirectoryLosesNothingAndDuplicatesNothing() throws {
        try #require(isRoot, "needs root to mount a small tmpfs as the log directory")
        let d = try TestDaemon(jobs: [:], waitForSocket: true)
        defer { d.stop() }
        let logs = d.logs.path
        let mounted = try runProgram("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", logs])
        try #require(mounted.status == 0, "mount: \(mounted.stderr)")
        defer { _ = try? runProgram("/bin/umount", ["-l", logs]) }
        // Leave about 12 KiB free.
        let filler = logs + "/filler"
        _ = FileManager.default.createFile(atPath: filler, contents: Data(repeating: 0x41, count: 52 * 1024))
        try d.job("talker", "task\nexec /bin/sh -c 'i=0; while [ $i -lt 2500 ]; do echo \"line $i\"; i=$((i+1)); done'\n")
        #expect(eventually(timeout: 10) { (try? d.initctl("status", "talker").stdout) == "talker stop/waiting\n" })
        _ = try d.initctl(["start", "talker"], timeout: 30)
        #expect(eventually(timeout: 10) { d.daemonLog.contains("No space left on device") }, "\(d.daemonLog)")
        try FileManager.default.removeItem(atPath: filler)
        _ = try d.initctl("notify-disk-writeable")
        let expected = (0..<2500).map { "line \($0)\r\n" }.joined()
        var text = ""
        #expect(eventually(timeout: 10) {
            text = (try? String(contentsOfFile: logs + "/talker.log", encoding: .utf8)) ?? ""
            return text.count >= expected.count
        })
        let lines = text.split(separator: "\n")
        #expect(Set(lines).count == lines.count, "a line was written twice")
        #expect(text.replacingOccurrences(of: "\r", with: "") == expected.replacingOccurrences(of: "\r", with: ""))
        #expect(d.daemonLog.components(separatedBy: "No space left on device").count == 2, "the failure was reported \(d.daemonLog.components(separatedBy: "No space left on device").count - 1) times")
    }
}

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `file` matches in job files: checked by init-checkconf and the daemon.
@Suite struct FileValidation {
    @Test func initCheckconfReportsABadFileOrEventWithFileAndLine() throws {
        let dir = try TempDir()
        try dir.write("rel.conf", "description \"r\"\nstart on file FILE=tmp/a\nexec true\n")
        try dir.write("empty.conf", "start on file FILE=\"\"\nexec true\n")
        try dir.write("ev.conf", "exec true\nstop on file FILE=/tmp/a EVENT=changed\n")
        try dir.write("ok.conf", "start on file FILE=/var/crash/*.crash EVENT=create or file FILE=/srv/drop/\nexec true\n")
        let r = try run("init-checkconf", [dir.path("rel.conf"), dir.path("empty.conf"), dir.path("ev.conf"), dir.path("ok.conf")])
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(dir.path("rel.conf")):2:1: file in 'start on': FILE='tmp/a': expected an absolute path (starting with /)"), "\(r.stderr)")
        #expect(r.stderr.contains("\(dir.path("empty.conf")):1:1: file in 'start on': FILE is empty: expected an absolute path"), "\(r.stderr)")
        #expect(r.stderr.contains("\(dir.path("ev.conf")):2:1: file in 'stop on': EVENT='changed': expected create, modify or delete"), "\(r.stderr)")
        #expect(r.stdout == "File \(dir.path("ok.conf")): syntax ok\n")
    }

    @Test func theDaemonLogsABadFileAndLoadsTheRestOfTheDirectory() throws {
        let d = try TestDaemon(jobs: [
            "bad": "start on file FILE=/a/*/b\nexec sleep 100\n",
            "good": "start on file FILE=/tmp/x\nexec sleep 100\n",
        ])
        defer { d.stop() }
        #expect(eventually(timeout: 5) { d.daemonLog.contains("bad.conf:2:1: file in 'start on': FILE='/a/*/b': a glob (*, ?, [...]) is allowed in the last component only") }, "\(d.daemonLog)")
        let list = try d.initctl("list")
        #expect(list.stdout.contains("good stop/waiting"))
        #expect(!list.stdout.contains("bad "))
    }

    @Test func theShippedBridgeJobPasses() throws {
        let r = try run("init-checkconf", [repoRoot.appendingPathComponent("extra/init/daybreak-file-bridge.conf").path])
        #expect(r.status == 0, "\(r.stderr)")
    }
}

/// The real daemon with the real file bridge as one of its jobs.
@Suite(.serialized) struct FileBridge {
    static let bridge = binDirectory.appendingPathComponent("daybreak-file-bridge").path

    /// A daemon with `jobs`, then the bridge as a job of it, started; the
    /// watched files live in `files`, removed when the test ends.
    func daemon(_ jobs: [String: String], bridge: String = FileBridge.bridge) throws -> TestDaemon {
        let d = try TestDaemon(jobs: jobs)
        try d.job("file-bridge", "start on startup\nrespawn\nexec \(bridge)\n")
        #expect(eventually(timeout: 5) { (try? d.initctl("start", "file-bridge"))?.status == 0 })
        return d
    }

    /// A task that appends "FILE EVENT MATCH JOB" to out/NAME, as the
    /// job sees them.
    func recorder(_ d: TestDaemon, _ name: String, _ on: String) -> String {
        "env OUT=\(d.out.path)\ntask\nstart on \(on)\nexec /bin/sh -c 'echo \"$FILE $EVENT ${MATCH:-unset} $JOB\" >> $OUT/\(name)'\n"
    }

    /// Waits until the recorder task has ended: an event that comes while a
    /// task still runs does not start it again (docs/file-bridge.md).
    func ended(_ d: TestDaemon, _ job: String) -> Bool {
        eventually(timeout: 10) { (try? d.initctl("status", job).stdout) == "\(job) stop/waiting\n" }
    }

    /// The flood tests' start: a watched directory whose every new file
    /// starts a service (`each`), another job on one file (`after`), and the
    /// bridge's pid. The caller stops the daemon.
    func floodSetup(_ files: TempDir) throws -> (TestDaemon, flood: String, after: String, bridgePid: Int32) {
        let flood = files.path("flood"), after = files.path("after")
        try FileManager.default.createDirectory(atPath: flood, withIntermediateDirectories: true)
        let d = try daemon([:])
        do {
            try d.job("each", "start on file FILE=\(flood)/* EVENT=create\nexec sleep 600\n")
            try d.job("after", recorder(d, "after", "file FILE=\(after) EVENT=create"))
            #expect(watching(d, "each", "\(flood)/*") && watching(d, "after", after), "\(bridgeLog(d))")
            let bridgePid = try #require(pid(in: try d.initctl("status", "file-bridge").stdout))
            return (d, flood, after, bridgePid)
        } catch {
            d.stop()
            throw error
        }
    }

    func lines(_ d: TestDaemon, _ name: String) -> [String] {
        d.output(name).split(separator: "\n").map(String.init)
    }

    func bridgeLog(_ d: TestDaemon) -> String {
        (try? String(contentsOf: d.logs.appendingPathComponent("file-bridge.log"), encoding: .utf8)) ?? ""
    }

    /// Waits until the bridge says it watches `file` for `job`, `times` times.
    func watching(_ d: TestDaemon, _ job: String, _ file: String, times: Int = 1) -> Bool {
        eventually(timeout: 8) { bridgeLog(d).components(separatedBy: "job \(job): watching FILE=\(file)").count - 1 >= times }
    }

    func sh(_ script: String) throws {
        let r = try runProgram("/bin/sh", ["-c", script])
        #expect(r.status == 0, "\(script): \(r.stderr)")
    }

    @Test func createModifyAndDeleteEachStartTheirJobWithFileAndEvent() throws {
        let files = try TempDir()
        let f = files.path("f")
        let d = try daemon([:])
        defer { d.stop() }
        try d.job("c", recorder(d, "c", "file FILE=\(f) EVENT=create"))
        try d.job("m", recorder(d, "m", "file FILE=\(f) EVENT=modify"))
        try d.job("r", recorder(d, "r", "file FILE=\(f) EVENT=delete"))
        #expect(watching(d, "c", f) && watching(d, "m", f) && watching(d, "r", f), "\(bridgeLog(d))")
        try sh("touch \(f)")
        #expect(eventually(timeout: 5) { lines(d, "c") == ["\(f) create unset c"] }, "\(lines(d, "c")) \(bridgeLog(d))")
        Thread.sleep(forTimeInterval: 0.3)
        #expect(lines(d, "m").isEmpty, "touch writes nothing")
        #expect(lines(d, "r").isEmpty)
        try sh("echo more >> \(f)")
        #expect(eventually(timeout: 5) { !lines(d, "m").isEmpty }, "\(bridgeLog(d))")
        #expect(lines(d, "m").allSatisfy { $0 == "\(f) modify unset m" }, "\(lines(d, "m"))")
        try sh("rm \(f)")
        #expect(eventually(timeout: 5) { lines(d, "r") == ["\(f) delete unset r"] }, "\(lines(d, "r"))")
        #expect(lines(d, "c").count == 1)
    }

    @Test func aGlobSetsMatchAndEachJobGetsItsOwnEvent() throws {
        let files = try TempDir()
        let dir = files.path("crash")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let d = try daemon([:])
        defer { d.stop() }
        try d.job("any", recorder(d, "any", "file FILE=\(dir)/*.crash EVENT=create"))
        try d.job("one", recorder(d, "one", "file FILE=\(dir)/a.crash EVENT=create"))
        #expect(watching(d, "any", "\(dir)/*.crash") && watching(d, "one", "\(dir)/a.crash"), "\(bridgeLog(d))")
        try sh("touch \(dir)/a.crash")
        #expect(eventually(timeout: 5) { lines(d, "any") == ["\(dir)/*.crash create \(dir)/a.crash any"] }, "\(lines(d, "any"))")
        #expect(eventually(timeout: 5) { lines(d, "one") == ["\(dir)/a.crash create unset one"] }, "\(lines(d, "one"))")
        #expect(ended(d, "any"))
        try sh("touch \(dir)/b.log \(dir)/b.crash")
        #expect(eventually(timeout: 5) { lines(d, "any").count == 2 })
        Thread.sleep(forTimeInterval: 0.3)
        #expect(lines(d, "any") == ["\(dir)/*.crash create \(dir)/a.crash any", "\(dir)/*.crash create \(dir)/b.crash any"])
        #expect(lines(d, "one").count == 1, "a.crash's job never runs on another job's event")
    }

    @Test func aDirectoryIsCreatedModifiedByItsEntriesAndDeleted() throws {
        let files = try TempDir()
        let drop = files.path("drop")
        let d = try daemon([:])
        defer { d.stop() }
        try d.job("dir", recorder(d, "dir", "file FILE=\(drop)/"))
        #expect(watching(d, "dir", "\(drop)/"), "\(bridgeLog(d))")
        try sh("mkdir \(drop)")
        #expect(eventually(timeout: 5) { lines(d, "dir") == ["\(drop)/ create unset dir"] }, "\(lines(d, "dir")) \(bridgeLog(d))")
        #expect(ended(d, "dir"))
        try sh("touch \(drop)/x")
        #expect(eventually(timeout: 5) { lines(d, "dir").count == 2 }, "\(lines(d, "dir"))")
        #expect(lines(d, "dir").last == "\(drop)/ modify \(drop)/x dir")
        #expect(ended(d, "dir"))
        try sh("rm \(drop)/x")
        #expect(eventually(timeout: 5) { lines(d, "dir").count == 3 }, "\(lines(d, "dir"))")
        #expect(ended(d, "dir"))
        try sh("rmdir \(drop)")
        #expect(eventually(timeout: 5) { lines(d, "dir").last == "\(drop)/ delete unset dir" }, "\(lines(d, "dir"))")
    }

    @Test func parentDirectoriesThatAppearAfterTheJobWasLoadedAreFollowedDown() throws {
        let files = try TempDir()
        let deep = files.path("a/b/f"), fast = files.path("p/q/f")
        let d = try daemon([:])
        defer { d.stop() }
        try d.job("deep", recorder(d, "deep", "file FILE=\(deep) EVENT=create"))
        try d.job("fast", recorder(d, "fast", "file FILE=\(fast) EVENT=create"))
        #expect(watching(d, "deep", deep) && watching(d, "fast", fast), "\(bridgeLog(d))")
        try sh("mkdir \(files.path("a"))")
        Thread.sleep(forTimeInterval: 0.2)
        try sh("mkdir \(files.path("a/b"))")
        Thread.sleep(forTimeInterval: 0.2)
        #expect(lines(d, "deep").isEmpty)
        try sh("touch \(deep)")
        #expect(eventually(timeout: 5) { lines(d, "deep") == ["\(deep) create unset deep"] }, "\(lines(d, "deep")) \(bridgeLog(d))")
        // Two levels and the file at once: the watch moves down past
        // directories made before it got there, and finds the file.
        try sh("mkdir -p \(files.path("p/q")) && touch \(fast)")
        #expect(eventually(timeout: 5) { !lines(d, "fast").isEmpty }, "\(bridgeLog(d))")
        #expect(lines(d, "fast").allSatisfy { $0 == "\(fast) create unset fast" })
    }

    @Test func aJobFileEditedToANewPathIsFollowed() throws {
        let files = try TempDir()
        let old = files.path("old"), new = files.path("new")
        let d = try daemon([:])
        defer { d.stop() }
        try d.job("e", recorder(d, "e", "file FILE=\(old) EVENT=create"))
        #expect(watching(d, "e", old), "\(bridgeLog(d))")
        try d.job("e", recorder(d, "e", "file FILE=\(new) EVENT=create"))
        #expect(watching(d, "e", new), "\(bridgeLog(d))")
        #expect(bridgeLog(d).contains("job e: no longer watching FILE=\(old)"))
        try sh("touch \(old)")
        Thread.sleep(forTimeInterval: 0.5)
        #expect(lines(d, "e").isEmpty, "the old path is not watched any more")
        try sh("touch \(new)")
        #expect(eventually(timeout: 5) { lines(d, "e") == ["\(new) create unset e"] }, "\(lines(d, "e"))")
    }

    @Test func aQuotedPathWithSpacesIsWatched() throws {
        let files = try TempDir()
        let f = files.path("with space.txt")
        let d = try daemon([:])
        defer { d.stop() }
        try d.job("sp", recorder(d, "sp", "file FILE=\"\(f)\" EVENT=create"))
        #expect(watching(d, "sp", f), "\(bridgeLog(d))")
        _ = FileManager.default.createFile(atPath: f, contents: nil)
        #expect(eventually(timeout: 5) { lines(d, "sp") == ["\(f) create unset sp"] }, "\(lines(d, "sp")) \(bridgeLog(d))")
    }

    @Test func aServiceRunsWhileItsFileExists() throws {
        let files = try TempDir()
        let f = files.path("enabled")
        let d = try daemon([:])
        defer { d.stop() }
        try d.job("svc", "start on file FILE=\(f) EVENT=create\nstop on file FILE=\(f) EVENT=delete\nexec sleep 600\n")
        #expect(watching(d, "svc", "\(f) EVENT=create") && watching(d, "svc", "\(f) EVENT=delete"), "\(bridgeLog(d))")
        try sh("touch \(f)")
        #expect(eventually(timeout: 5) { (try? d.initctl("status", "svc"))?.stdout.hasPrefix("svc start/running") ?? false })
        try sh("rm \(f)")
        #expect(eventually(timeout: 5) { (try? d.initctl("status", "svc"))?.stdout == "svc stop/waiting\n" }, "\(bridgeLog(d))")
    }

    @Test func aFileAlreadyThereWhenTheJobIsLoadedIsCreated() throws {
        let files = try TempDir()
        let f = files.path("here")
        try sh("touch \(f)")
        let d = try daemon([:])
        defer { d.stop() }
        try d.job("there", recorder(d, "there", "file FILE=\(f) EVENT=create"))
        try d.job("gone", recorder(d, "gone", "file FILE=\(f) EVENT=delete"))
        #expect(eventually(timeout: 5) { lines(d, "there") == ["\(f) create unset there"] }, "\(bridgeLog(d))")
        #expect(lines(d, "gone").isEmpty)
    }

    @Test func theBridgeKilledIsRespawnedAndWatchesAgain() throws {
        let files = try TempDir()
        let k = files.path("k")
        let d = try daemon([:])
        defer { d.stop() }
        try d.job("k", recorder(d, "k", "file FILE=\(k) EVENT=create"))
        #expect(watching(d, "k", k), "\(bridgeLog(d))")
        let old = try #require(pid(in: try d.initctl("status", "file-bridge").stdout))
        kill(old, SIGKILL)
        #expect(eventually(timeout: 5) { (try? d.initctl("status", "file-bridge")).flatMap { pid(in: $0.stdout) }.map { $0 != old } ?? false })
        #expect(watching(d, "k", k, times: 2), "\(bridgeLog(d))")
        try sh("touch \(k)")
        #expect(eventually(timeout: 5) { lines(d, "k") == ["\(k) create unset k"] }, "\(lines(d, "k")) \(bridgeLog(d))")
        #expect(try d.initctl("list").status == 0)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/cc"), "needs a C compiler"))
    func withoutInotifyTheBridgeSaysSoAndExitsWithTheStatusItsJobDoesNotRespawn() throws {
        // A kernel without inotify, for this process only: inotify_init1
        // interposed to fail with ENOSYS.
        let dir = try TempDir()
        try dir.write("noinotify.c", "#include <errno.h>\nint inotify_init1(int flags) { (void)flags; errno = ENOSYS; return -1; }\n")
        let cc = try runProgram("/usr/bin/cc", ["-shared", "-fPIC", "-o", dir.path("noinotify.so"), dir.path("noinotify.c")])
        #expect(cc.status == 0, "\(cc.stderr)")
        let r = try runProgram(FileBridge.bridge, ["--socket", "/nonexistent/control"], environment: ["LD_PRELOAD": dir.path("noinotify.so")])
        #expect(r.status == 3, "\(r.stderr)")
        #expect(r.stderr.hasPrefix("daybreak-file-bridge: inotify is not available ("), "\(r.stderr)")
        #expect(r.stderr.contains("jobs that wait for one must be started by hand (initctl start JOB)"))
        let conf = try String(contentsOf: repoRoot.appendingPathComponent("extra/init/daybreak-file-bridge.conf"), encoding: .utf8)
        #expect(conf.contains("\nnormal exit 3\n") && conf.contains("\nrespawn\n") && conf.contains("\nstart on startup\n"))
    }

    @Test func theBridgeConnectsAgainWhenTheDaemonRestarts() throws {
        let files = try TempDir()
        let f = files.path("again")
        let job = "env OUT=\(files.url.path)\ntask\nstart on file FILE=\(f) EVENT=create\nexec /bin/sh -c 'echo \"$FILE $EVENT $JOB\" >> $OUT/out'\n"
        let first = try TestDaemon(jobs: ["k": job])
        defer { first.stop() }
        let bridge = Foundation.Process()
        bridge.executableURL = URL(fileURLWithPath: FileBridge.bridge)
        bridge.arguments = ["--socket", first.socket]
        let logPath = files.path("bridge.log")
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        bridge.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        bridge.standardOutput = FileHandle.nullDevice
        try bridge.run()
        defer {
            kill(bridge.processIdentifier, SIGKILL)
            bridge.waitUntilExit()
        }
        func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
        #expect(eventually(timeout: 8) { log().contains("job k: watching FILE=\(f)") }, "\(log())")
        first.stop()
        #expect(eventually(timeout: 5) { log().contains("the daemon closed the connection; connecting again") }, "\(log())")
        // A new daemon on the same socket, with the same job.
        let second = try TestDaemon(jobs: ["k": job], arguments: ["--socket", first.socket], waitForSocket: false)
        defer { second.stop() }
        #expect(eventually(timeout: 10) { log().contains("connected again") }, "\(log()) \(second.daemonLog)")
        try sh("touch \(f)")
        #expect(eventually(timeout: 5) { ((try? String(contentsOfFile: files.path("out"), encoding: .utf8)) ?? "") == "\(f) create k\n" }, "\(log())")
    }

    @Test func theDaemonExecutableLinkedAsTheBridgeIsTheBridge() throws {
        let files = try TempDir()
        let link = files.path("daybreak-file-bridge")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: binDirectory.appendingPathComponent("daybreak").path)
        let v = try runProgram(link, ["--version"])
        #expect(v.stdout == "daybreak-file-bridge (daybreak 0.1.0)\n")
        let f = files.path("linked")
        let d = try daemon([:], bridge: link)
        defer { d.stop() }
        try d.job("l", recorder(d, "l", "file FILE=\(f)"))
        #expect(watching(d, "l", f), "\(bridgeLog(d))")
        try sh("touch \(f)")
        #expect(eventually(timeout: 5) { lines(d, "l") == ["\(f) create unset l"] }, "\(bridgeLog(d))")
    }

    /// The kernel's own queue overflowing (IN_Q_OVERFLOW): the bridge is
    /// stopped while more files are made than the queue holds, then let go.
    /// It says events were lost, checks its watches again and goes on.
    @Test func aKernelQueueOverflowIsReportedAndTheBridgeGoesOn() throws {
        let limit = Int((try? String(contentsOfFile: "/proc/sys/fs/inotify/max_queued_events", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 16384
        try #require(limit <= 100_000, "max_queued_events is \(limit): too many files to overflow it in a test")
        let files = try TempDir()
        let (d, flood, after, bridgePid) = try floodSetup(files)
        defer { d.stop() }
        kill(bridgePid, SIGSTOP)
        for i in 0..<(limit + 100) {
            let fd = open("\(flood)/f\(i)", O_CREAT | O_WRONLY, 0o644)
            if fd >= 0 { close(fd) }
        }
        kill(bridgePid, SIGCONT)
        #expect(eventually(timeout: 20) { bridgeLog(d).contains("the kernel's inotify queue overflowed: some file events were lost") }, "\(bridgeLog(d))")
        #expect(eventually(timeout: 30) { bridgeLog(d).contains("and the kernel's queue overflowed once; watching on") }, "\(bridgeLog(d))")
        try sh("touch \(after)")
        #expect(eventually(timeout: 10) { lines(d, "after") == ["\(after) create unset after"] }, "\(bridgeLog(d))")
        #expect(isAlive(bridgePid))
    }

    /// A bounded flood: 10,000 files (more than the bridge's queue holds)
    /// made in a watched directory as fast as the test can (it shares the
    /// machine with the other suites: scripts/file-bridge-bench makes
    /// 100,000), each a `create` for a running service (the daemon's
    /// cheapest answer, so the bridge is what is measured). The daemon keeps
    /// answering, the bridge's memory stays small, and another job's file,
    /// made while the bridge still has the flood to pass on, is not held up
    /// behind it.
    @Test func aFloodOfCreatesNeitherGrowsTheBridgeNorFreezesTheDaemon() throws {
        let files = try TempDir()
        let (d, flood, after, bridgePid) = try floodSetup(files)
        defer { d.stop() }
        let base = residentKiB(bridgePid)
        var peak = 0
        var slowest = 0.0
        let began = Date()
        for chunk in 0..<10 {
            for i in 0..<1000 {
                let fd = open("\(flood)/f\(chunk)-\(i)", O_CREAT | O_WRONLY, 0o644)
                if fd >= 0 { close(fd) }
            }
            let t = Date()
            #expect(try d.initctl(["status", "after"], timeout: 10).status == 0)
            slowest = max(slowest, Date().timeIntervalSince(t))
            peak = max(peak, residentKiB(bridgePid))
        }
        #expect(slowest < 5, "the daemon answered within \(slowest) s")
        let made = Date().timeIntervalSince(began)
        try sh("touch \(after)")
        #expect(eventually(timeout: 10) { lines(d, "after") == ["\(after) create unset after"] }, "\(bridgeLog(d))")
        let passed = Date().timeIntervalSince(began) - made
        // The flood settles: the bridge passes on what it kept, says what it dropped.
        #expect(eventually(timeout: 30) { bridgeLog(d).contains("; watching on") || !bridgeLog(d).contains("dropping some") })
        peak = max(peak, residentKiB(bridgePid))
        print("flood: bridge VmRSS \(base) KiB before, peak \(peak) KiB, slowest initctl answer \(String(format: "%.2f", slowest)) s, 10,000 files made in \(String(format: "%.1f", made)) s, another job's file passed on in \(String(format: "%.2f", passed)) s")
        if memoryBoundsApply("flood", "\(peak) KiB") {
            // Its queue holds at most 4,096 events of a few hundred bytes.
            #expect(peak - base < 6 * 1024, "bridge VmRSS \(base) KiB before, \(peak) KiB at the peak")
        }
        #expect(isAlive(bridgePid), "\(bridgeLog(d))")
    }
}

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The cgroup v1 hierarchy of a controller, when this machine has one.
func v1Hierarchy(_ controller: String) -> String? {
    let path = "/sys/fs/cgroup/" + controller
    return FileManager.default.fileExists(atPath: path + "/cgroup.procs") ? path : nil
}

/// The group directories `initctl status` names for an instance.
func statusGroups(_ status: String) -> [String] {
    status.split(separator: "\n").compactMap { $0.hasPrefix("\tcgroup ") ? String($0.dropFirst("\tcgroup ".count)) : nil }
}

/// The `cgroup` stanza on a real kernel: settings written as the hierarchy
/// spells them, the OOM killer reported, a fork loop held, usage shown, and
/// nothing left after stop. On this kind of machine (hybrid: controllers in
/// v1, an empty v2) the v1 paths run; the v2 ones are skipped, saying so.
@Suite(.serialized, .enabled(if: cgroupsUsable, "needs root and a mounted cgroup hierarchy"))
struct CgroupStanza {
    /// Reads a file of one of the job's groups.
    func value(_ groups: [String], _ file: String) -> String? {
        for g in groups {
            if let v = try? String(contentsOfFile: g + "/" + file, encoding: .utf8) { return v.trimmingCharacters(in: .whitespacesAndNewlines) }
        }
        return nil
    }

    /// Starts `svc` with `text`; returns its status text and group directories.
    func start(_ d: TestDaemon, _ text: String) throws -> (String, [String]) {
        try d.job("svc", text)
        _ = try d.initctl("reload-configuration")
        let started = try d.initctl("start", "svc")
        #expect(started.status == 0, "\(started.stderr)\n\(d.daemonLog)")
        let status = try d.initctl("status", "svc").stdout
        return (status, statusGroups(status))
    }

    @Test(.enabled(if: v1Hierarchy("memory") != nil, "no cgroup v1 memory hierarchy"))
    func aMemoryHogIsKilledByItsLimitAndReportedAsSuch() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        try d.job("report", """
            task
            start on stopped hog RESULT=failed
            exec /bin/sh -c 'echo "$EXIT_SIGNAL ${KILLED_BY:-none}" >> \(d.out.path)/stopped'
            """)
        // `tail` keeps a line it never finishes: /dev/zero has no newline.
        try d.job("hog", """
            cgroup memory memory.max 32M
            exec tail /dev/zero
            """)
        _ = try d.initctl("reload-configuration")
        _ = try d.initctl("start", "hog")
        #expect(eventually(timeout: 20) { d.output("stopped") == "KILL oom\n" }, "\(d.output("stopped"))\n\(d.daemonLog)")
        #expect(d.daemonLog.contains("hog main process ("), "\(d.daemonLog)")
        #expect(d.daemonLog.contains(") was killed by the OOM killer: the job is at its memory limit (memory.limit_in_bytes 33554432)"), "\(d.daemonLog)")

        // Any other SIGKILL is not taken for the OOM killer.
        try d.job("hog", """
            cgroup memory memory.max 32M
            exec sleep 600
            """)
        _ = try d.initctl("reload-configuration")
        let p = try #require(pid(in: try d.initctl("start", "hog").stdout))
        kill(p, SIGKILL)
        #expect(eventually(timeout: 10) { d.output("stopped") == "KILL oom\nKILL none\n" }, "\(d.output("stopped"))")
    }

    @Test(.enabled(if: v1Hierarchy("pids") != nil || FileManager.default.fileExists(atPath: "/sys/fs/cgroup/pids.max"), "no pids controller"),
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "no /usr/bin/python3 to fork with"))
    func aForkLoopIsHeldByItsPidsLimitAndStopEndsIt() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        // Forks 200 sleepers; forks over the limit fail, and it goes on.
        try """
            import os, time
            for i in range(200):
                try:
                    if os.fork() == 0:
                        time.sleep(600)
                        os._exit(0)
                except OSError:
                    pass
            open("\(d.out.path)/forked", "w").close()
            time.sleep(600)
            """.write(toFile: d.out.path + "/forks.py", atomically: true, encoding: .utf8)
        let (status, groups) = try start(d, """
            cgroup pids pids.max 16
            exec /usr/bin/python3 \(d.out.path)/forks.py
            """)
        #expect(!groups.isEmpty, "\(status)")
        #expect(eventually(timeout: 10) { FileManager.default.fileExists(atPath: d.out.path + "/forked") }, "\(d.daemonLog)")
        #expect(value(groups, "pids.current") == "16", "pids.current \(value(groups, "pids.current") ?? "-")")
        #expect(try d.initctl("stop", "svc").stdout == "svc stop/waiting\n")
        #expect(eventually(timeout: 10) { groups.allSatisfy { !FileManager.default.fileExists(atPath: $0) } }, "left: \(groups)")
    }

    @Test(.enabled(if: v1Hierarchy("cpu") != nil, "no cgroup v1 cpu hierarchy"))
    func cpuSettingsInV2NamesReachV1Files() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        let (status, groups) = try start(d, """
            cgroup cpu cpu.weight 200
            cgroup cpu cpu.max "50000 200000"
            exec sleep 600
            """)
        #expect(value(groups, "cpu.shares") == "2048", "\(status)")
        #expect(value(groups, "cpu.cfs_quota_us") == "50000")
        #expect(value(groups, "cpu.cfs_period_us") == "200000")
        let shown = try d.initctl("show-config", "-e", "svc").stdout
        #expect(shown.contains("  cgroup cpu cpu.weight 200\n"), "\(shown)")
        #expect(shown.contains("/cpu.shares 2048\n"), "\(shown)")
        #expect(try d.initctl("stop", "svc").status == 0)
        #expect(eventually(timeout: 10) { groups.allSatisfy { !FileManager.default.fileExists(atPath: $0) } }, "left: \(groups)")
    }

    @Test(.enabled(if: v1Hierarchy("memory") != nil, "no cgroup v1 memory hierarchy"))
    func upstartsV1FormsWork() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        let (status, groups) = try start(d, """
            cgroup memory $UPSTART_CGROUP limit_in_bytes 52428800
            cgroup memory soft_limit_in_bytes 41943040
            exec sleep 600
            """)
        #expect(value(groups, "memory.limit_in_bytes") == "52428800", "\(status)\n\(d.daemonLog)")
        #expect(value(groups, "memory.soft_limit_in_bytes") == "41943040")
    }

    /// init(5)'s named groups: NAME with the job's variables, made under
    /// the daemon's own group, given the setting, shared by the jobs that
    /// name it, and removed when the last of them has stopped.
    @Test(.enabled(if: v1Hierarchy("memory") != nil, "no cgroup v1 memory hierarchy"))
    func namedGroupsTakeVariablesAndAreSharedAndRemoved() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        for job in ["a", "b"] {
            try d.job(job, """
                env POOL=batch
                cgroup memory "pool-$POOL" limit_in_bytes 50M
                exec sleep 600
                """)
        }
        _ = try d.initctl("reload-configuration")
        let a = try #require(pid(in: try d.initctl("start", "a").stdout), "\(d.daemonLog)")
        let b = try #require(pid(in: try d.initctl("start", "b").stdout), "\(d.daemonLog)")
        let groups = statusGroups(try d.initctl("status", "a").stdout)
        let pool = try #require(groups.first { $0.hasSuffix("/pool-batch") }, "\(groups)")
        #expect(pool.hasPrefix("/sys/fs/cgroup/memory/"))
        #expect(value([pool], "memory.limit_in_bytes") == "52428800")
        let members = Set(((try? String(contentsOfFile: pool + "/cgroup.procs", encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Int32($0) })
        #expect(members == [a, b])
        // Stopping one job leaves the other's processes alone in the shared group.
        _ = try d.initctl("stop", "a")
        #expect(isAlive(b))
        #expect(FileManager.default.fileExists(atPath: pool))
        _ = try d.initctl("stop", "b")
        #expect(eventually(timeout: 10) { !FileManager.default.fileExists(atPath: pool) }, "\(pool) left")
    }

    @Test(.enabled(if: v1Hierarchy("blkio") != nil, "no cgroup v1 blkio hierarchy"))
    func ioLimitsInV2NamesReachTheBlkioThrottles() throws {
        let dev = try #require(FileManager.default.contentsOfDirectory(atPath: "/sys/block").sorted().lazy
            .filter { !$0.hasPrefix("loop") && !$0.hasPrefix("zram") && !$0.hasPrefix("ram") }
            .compactMap { try? String(contentsOfFile: "/sys/block/\($0)/dev", encoding: .utf8) }.first?
            .trimmingCharacters(in: .whitespacesAndNewlines), "no block device to throttle")
        let d = try TestDaemon()
        defer { d.stop() }
        let (status, groups) = try start(d, """
            cgroup io io.max "\(dev) wbps=1048576 riops=100"
            exec sleep 600
            """)
        #expect(value(groups, "blkio.throttle.write_bps_device") == "\(dev) 1048576", "\(status)\n\(d.daemonLog)")
        #expect(value(groups, "blkio.throttle.read_iops_device") == "\(dev) 100")
        let weight = v1Hierarchy("blkio").map { FileManager.default.fileExists(atPath: $0 + "/blkio.weight") } ?? false
        if !weight { print("skipped io.weight: this kernel's blkio hierarchy has no blkio.weight (no proportional I/O scheduler)") }
    }

    @Test func v2SettingsReachTheUnifiedHierarchyWhereItHasTheControllers() throws {
        let controllers = (try? String(contentsOfFile: "/sys/fs/cgroup/cgroup.controllers", encoding: .utf8))
            ?? (try? String(contentsOfFile: "/sys/fs/cgroup/unified/cgroup.controllers", encoding: .utf8)) ?? ""
        guard controllers.split(separator: " ").map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }).contains("memory") else {
            print("skipped: the cgroup v2 hierarchy here has no memory controller (controllers: '\(controllers.trimmingCharacters(in: .whitespacesAndNewlines))'); the v1 paths are tested")
            return
        }
        let d = try TestDaemon()
        defer { d.stop() }
        let (status, groups) = try start(d, """
            cgroup memory limit_in_bytes 52428800
            cgroup pids pids.max 37
            exec sleep 600
            """)
        #expect(value(groups, "memory.max") == "52428800", "\(status)\n\(d.daemonLog)")
    }

    @Test(.enabled(if: v1Hierarchy("memory") != nil, "no cgroup v1 memory hierarchy"))
    func statusShowsTheGroupsAndWhatTheyUse() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        let (status, groups) = try start(d, """
            cgroup memory memory.max 64M
            exec /bin/sh -c 'sleep 600 & sleep 600 & wait'
            """)
        let lines = status.split(separator: "\n")
        #expect(lines.first?.hasPrefix("svc start/running, process ") == true, "\(status)")
        #expect(groups.contains { $0.hasPrefix("/sys/fs/cgroup/memory/") && $0.hasSuffix("/svc") }, "\(status)")
        let uses = try #require(lines.first { $0.hasPrefix("\tuses ") }, "\(status)")
        #expect(uses.contains("memory ") && uses.contains(" of 64.0M") && uses.contains(" tasks"), "\(uses)")
        // A job without a cgroup stanza prints what Upstart prints.
        try d.job("plain", "exec sleep 600\n")
        _ = try d.initctl("reload-configuration")
        let plain = try d.initctl("start", "plain").stdout
        #expect(try d.initctl("status", "plain").stdout == plain)
    }
}

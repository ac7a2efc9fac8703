import Foundation
import Testing

/// init-checkconf's warnings about stanzas this machine cannot honour
/// (docs/init-checkconf.md, "Warnings about this machine"). Each probe is
/// checked both ways on a described machine (`DAYBREAK_CHECKCONF_ROOT`,
/// read only by these tests), and once on the real machine, against what
/// the test itself reads there.
@Suite struct InitCheckconfMachineWarnings {
    /// A directory that describes a machine: the files the probe reads.
    func machine(appArmor: Bool = false, cgroups: Bool = true,
                 namespaces: [String] = ["cgroup", "ipc", "mnt", "net", "pid", "user", "uts"],
                 maxUserNamespaces: Int = 1000) throws -> TempDir {
        let root = try TempDir()
        if appArmor { try root.write("sys/module/apparmor/parameters/enabled", "Y\n") }
        if cgroups {
            try root.write("proc/self/mounts", "proc /proc proc rw 0 0\ncgroup2 /sys/fs/cgroup cgroup2 rw,nosuid 0 0\n")
            try root.write("proc/self/cgroup", "0::/init.scope\n")
        } else {
            try root.write("proc/self/mounts", "proc /proc proc rw 0 0\n")
            try root.write("proc/self/cgroup", "")
        }
        for kind in namespaces { try root.write("proc/self/ns/\(kind)", "") }
        try root.write("proc/sys/user/max_user_namespaces", "\(maxUserNamespaces)\n")
        return root
    }

    func check(_ arguments: [String], on root: TempDir) throws -> RunResult {
        try run("init-checkconf", arguments, adding: ["DAYBREAK_CHECKCONF_ROOT": root.url.path])
    }

    @Test func apparmorWithoutAppArmorWarnsAtItsLineAndStillPasses() throws {
        let dir = try TempDir()
        try dir.write("cups.conf", "exec /usr/sbin/cupsd -f\napparmor switch /usr/sbin/cupsd\n")
        let r = try check([dir.path("cups.conf")], on: try machine(appArmor: false))
        #expect(r.status == 0)
        #expect(r.stdout == "File \(dir.path("cups.conf")): syntax ok\n")
        #expect(r.stderr == "init-checkconf: \(dir.path("cups.conf")):2:1: warning: apparmor: AppArmor is not enabled on this machine (/sys/module/apparmor/parameters/enabled); the job will run unconfined\n")
    }

    @Test func apparmorWithAppArmorStillWarnsThatDaybreakDoesNotApplyIt() throws {
        let dir = try TempDir()
        try dir.write("cups.conf", "apparmor load /etc/apparmor.d/cupsd\nexec /usr/sbin/cupsd -f\n")
        let r = try check([dir.path("cups.conf")], on: try machine(appArmor: true))
        #expect(r.status == 0)
        #expect(r.stderr == "init-checkconf: \(dir.path("cups.conf")):1:1: warning: apparmor: Daybreak does not apply AppArmor profiles yet; the job will run unconfined\n")
    }

    @Test func cgroupWithoutAnyHierarchyWarnsAtEachCgroupLineAndNotWithOne() throws {
        let dir = try TempDir()
        try dir.write("db.conf", "exec /bin/sleep 60\ncgroup memory memory.max 256M\n  cgroup pids pids.max 64\n")
        let without = try check([dir.path("db.conf")], on: try machine(cgroups: false))
        #expect(without.status == 0)
        let message = "warning: cgroup: this machine has no cgroup hierarchy mounted (/proc/self/mounts); the daemon ignores the stanza, and stopping the job reaches its main process's process group only\n"
        #expect(without.stderr == "init-checkconf: \(dir.path("db.conf")):2:1: \(message)init-checkconf: \(dir.path("db.conf")):3:3: \(message)")
        let with = try check([dir.path("db.conf")], on: try machine(cgroups: true))
        #expect(with.status == 0)
        #expect(with.stderr.isEmpty)
    }

    @Test func namespaceKindsTheKernelLacksOrForbidsWarnOnceEachAtTheirLine() throws {
        let dir = try TempDir()
        try dir.write("box.conf", "namespace net cgroup\nnamespace user\nexec /bin/true\n")
        let r = try check([dir.path("box.conf")], on: try machine(namespaces: ["ipc", "mnt", "net", "pid", "user", "uts"], maxUserNamespaces: 0))
        #expect(r.status == 0)
        #expect(r.stderr == """
            init-checkconf: \(dir.path("box.conf")):1:1: warning: namespace cgroup: this kernel has no cgroup namespaces (no /proc/self/ns/cgroup); every start of the job will fail
            init-checkconf: \(dir.path("box.conf")):2:1: warning: namespace user: user namespaces are turned off on this machine (/proc/sys/user/max_user_namespaces is 0); every start of the job will fail

            """)
        #expect(try check([dir.path("box.conf")], on: try machine()).stderr.isEmpty)
    }

    @Test func aStanzaInTheOverrideIsReportedAtTheOverridesLine() throws {
        let dir = try TempDir()
        try dir.write("svc.conf", "exec /bin/true\n")
        try dir.write("svc.override", "# pinned\ncgroup pids pids.max 8\n")
        let r = try check([dir.path("svc.conf")], on: try machine(cgroups: false))
        #expect(r.status == 0)
        #expect(r.stderr.hasPrefix("init-checkconf: \(dir.path("svc.override")):2:1: warning: cgroup: "))
    }

    @Test func strictFailsTheRunOnAWarningAndQuietHidesItOtherwise() throws {
        let dir = try TempDir()
        try dir.write("db.conf", "cgroup pids pids.max 64\nexec /bin/true\n")
        let root = try machine(cgroups: false)
        let quiet = try check(["--quiet", dir.path("db.conf")], on: root)
        #expect(quiet.status == 0)
        #expect(quiet.stderr.isEmpty)
        #expect(quiet.stdout.isEmpty)
        let strict = try check(["--strict", "--quiet", dir.path("db.conf")], on: root)
        #expect(strict.status == 1)
        #expect(strict.stderr.contains("db.conf:1:1: warning: cgroup: this machine has no cgroup hierarchy mounted"))
        let clean = try check(["--strict", dir.path("db.conf")], on: try machine(cgroups: true))
        #expect(clean.status == 0)
    }

    /// Without the variable the tool probes this machine: its answer must
    /// be the one this test reads from the same files.
    @Test func withoutTheVariableTheRealMachineIsProbed() throws {
        let dir = try TempDir()
        try dir.write("cups.conf", "apparmor switch /usr/sbin/cupsd\nexec /bin/true\n")
        let r = try run("init-checkconf", [dir.path("cups.conf")])
        let enabled = (try? String(contentsOfFile: "/sys/module/apparmor/parameters/enabled", encoding: .utf8))?.hasPrefix("Y") ?? false
        print("this machine: AppArmor \(enabled ? "enabled" : "not enabled")")
        #expect(r.status == 0)
        #expect(r.stderr.contains(enabled ? "Daybreak does not apply AppArmor profiles yet" : "AppArmor is not enabled on this machine"))
    }
}

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Daybreak installed as a person or a packager installs it: `make install`
/// into a staging root, the Debian package into a fresh root with the
/// daemon as PID 1 there, and the bare daemon in a chroot
/// (docs/installing.md). They install the release build, as it ships.
@Suite(.serialized, .enabled(if: releaseBinDirectory != nil && isRoot && FileManager.default.isExecutableFile(atPath: "/usr/bin/make"),
                             "needs root, make, and DAYBREAK_RELEASE_BIN (the release build; .ci/run sets it)"))
struct Installed {
    var release: String { releaseBinDirectory! }

    func make(_ arguments: [String]) throws -> RunResult {
        try runProgram("/usr/bin/make", ["-s", "-C", repoRoot.path] + arguments)
    }

    @Test func makeInstallPutsTheListedFilesInPlaceTheyRunAndUninstallRemovesThem() throws {
        let dest = try TempDir()
        let vars = ["PREFIX=/usr", "DESTDIR=\(dest.url.path)", "BIN=\(release)"]
        let installed = try make(["install"] + vars)
        try #require(installed.status == 0, "\(installed.stderr)")
        let listed = Set(try make(["installed-files", "PREFIX=/usr"]).stdout.split(separator: "\n").map(String.init))
        #expect(listed.count > 30, "\(listed)")
        #expect(entries(under: dest.url.path, directories: false) == listed)
        #expect(FileManager.default.fileExists(atPath: dest.path("run/daybreak")), "the system socket's directory")

        // As they ship: daybreak and initctl static, init-checkconf with
        // the Swift runtime linked in (nothing from the toolchain).
        let sbin = dest.path("usr/sbin")
        for program in [sbin + "/daybreak", sbin + "/initctl"] {
            #expect(try runProgram("/usr/bin/ldd", [program]).stderr.contains("not a dynamic executable"), "\(program)")
        }
        let libraries = try runProgram("/usr/bin/ldd", [dest.path("usr/bin/init-checkconf")]).stdout
        #expect(!libraries.contains("swift") && !libraries.contains("Foundation") && libraries.contains("libc.so"), "\(libraries)")
        #expect(try runProgram(sbin + "/daybreak", ["--version"]).stdout.hasPrefix("init (daybreak "))
        #expect(try runProgram(sbin + "/daybreak-time-bridge", ["--version"]).stdout.hasPrefix("daybreak-time-bridge (daybreak "))
        let checked = try runProgram(dest.path("usr/bin/init-checkconf"), [dest.path("usr/share/daybreak/init")])
        #expect(checked.status == 0 && checked.stdout.components(separatedBy: "syntax ok").count == 6, "\(checked)")

        // The installed daemon, driven by the installed links to initctl.
        let d = try TestDaemon(jobs: ["svc": "exec /bin/sleep 600\n"], daybreak: sbin + "/daybreak")
        defer { d.stop() }
        let started = try runProgram(sbin + "/start", ["--socket", d.socket, "svc"])
        #expect(started.stdout.hasPrefix("svc start/running, process "), "\(started)")
        #expect(try runProgram(sbin + "/status", ["--socket", d.socket, "svc"]).stdout == started.stdout)
        #expect(try runProgram(sbin + "/stop", ["--socket", d.socket, "svc"]).stdout == "svc stop/waiting\n")
        d.stop()

        let removed = try make(["uninstall"] + vars)
        #expect(removed.status == 0, "\(removed.stderr)")
        #expect(entries(under: dest.url.path, directories: false).isEmpty)
        for own in ["usr/share/daybreak", "usr/lib/daybreak", "run/daybreak"] {
            #expect(!FileManager.default.fileExists(atPath: dest.path(own)), "\(own) is left")
        }
    }

    @Test func theDebianPackageInstallsIntoAFreshRootRunsAJobAsPIDOneAndIsRemovedCleanly() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/dpkg") else {
            print("Installed: the .deb is not tested: dpkg is not installed (.ci/run installs it)")
            return
        }
        let out = try TempDir()
        let built = try runProgram(repoRoot.appendingPathComponent("scripts/build-deb").path, [release, out.url.path])
        try #require(built.status == 0, "\(built.stderr)")
        let deb = built.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let fields = try runProgram("/usr/bin/dpkg-deb", ["--field", deb, "Package", "Architecture", "Depends"]).stdout
        #expect(fields.contains("Package: daybreak\n") && fields.contains("Depends: libc6, libstdc++6, libgcc-s1\n"), "\(fields)")

        // A fresh root: dpkg's database and nothing else.
        let root = try TempDir()
        for dir in ["var/lib/dpkg/info", "var/lib/dpkg/updates"] {
            try FileManager.default.createDirectory(atPath: root.path(dir), withIntermediateDirectories: true)
        }
        for file in ["var/lib/dpkg/status", "var/lib/dpkg/available"] { try root.write(file, "") }
        let dpkg = { (args: [String]) throws -> RunResult in
            try runProgram("/usr/bin/dpkg", ["--root=\(root.url.path)", "--log=/dev/null", "--force-script-chrootless"] + args,
                           environment: ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"])
        }
        // --force-depends: the root is empty on purpose; what the package
        // depends on (glibc and libstdc++, for init-checkconf) is not there.
        let install = try dpkg(["--force-depends", "-i", deb])
        try #require(install.status == 0, "\(install.stdout)\(install.stderr)")
        #expect(try dpkg(["-s", "daybreak"]).stdout.contains("Status: install ok installed"))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root.path("usr/sbin/start")) == "initctl")
        #expect(FileManager.default.fileExists(atPath: root.path("usr/share/man/man8/initctl.8.gz")))

        // The installed daybreak as PID 1 of a pid namespace, chrooted
        // there; its job is the installed initctl, starting another job.
        try root.write("etc/init/hello.conf", "task\nconsole none\nexec /usr/sbin/initctl start ran\n")
        try root.write("etc/init/ran.conf", "description \"started by hello, no process\"\n")
        try makeDevNull(in: root)
        do {
            let d = try ChrootDaemon(root: root, daybreak: "/usr/sbin/daybreak", arguments: ["--confdir", "/etc/init", "--no-log"],
                                     socket: "/run/daybreak/control")
            defer { d.stop() }
            #expect(d.pidInNamespace == 1, "\(d.log)")
            let started = try d.initctl("start", "hello")
            #expect(started.status == 0, "\(started.stderr)\n\(d.log)")
            #expect(try d.initctl("status", "ran").stdout == "ran start/running\n", "\(d.log)")
            d.stop()
            #expect(d.exitStatus == 0, "\(d.log)")
        }
        // What the test and the daemon made, not the package's.
        for made in ["etc/init/hello.conf", "etc/init/ran.conf", "dev", "run", "proc"] { try FileManager.default.removeItem(atPath: root.path(made)) }

        let remove = try dpkg(["--purge", "daybreak"])
        #expect(remove.status == 0, "\(remove.stdout)\(remove.stderr)")
        let left = entries(under: root.url.path, directories: true).filter { !"/var/lib/dpkg".hasPrefix($0) && !$0.hasPrefix("/var/lib/dpkg/") }
        #expect(left.isEmpty, "\(left.sorted())")
    }

    /// Started as PID 1 with no /proc (as the kernel starts init), the
    /// daemon mounts /proc itself before its runtime needs it, as Upstart
    /// did, and runs the job (Sources/CSpawn/cearlyproc.c).
    @Test func theDaemonRunsAJobInAChrootHoldingOnlyItselfTheJobsProgramAndDevNull() throws {
        let root = try TempDir()
        try FileManager.default.copyItem(atPath: release + "/daybreak", toPath: root.path("daybreak"))
        // The job's program: initctl, static as it ships.
        try FileManager.default.copyItem(atPath: release + "/initctl", toPath: root.path("initctl"))
        try root.write("jobs/hello.conf", "task\nconsole none\nexec /initctl --socket /control start ran\n")
        try root.write("jobs/ran.conf", "description \"started by hello, no process\"\n")
        try makeDevNull(in: root)
        let d = try ChrootDaemon(root: root, daybreak: "/daybreak", arguments: ["--confdir", "/jobs", "--no-log", "--socket", "/control"],
                                 socket: "/control", mountProc: false)
        defer { d.stop() }
        #expect(try d.initctl("start", "hello").status == 0, "\(d.log)")
        #expect(try d.initctl("status", "ran").stdout == "ran start/running\n", "\(d.log)")
        // The daemon's own mount of /proc (private to the test's mount namespace).
        let pid = try #require(d.daemonPid)
        let mounts = (try? String(contentsOfFile: "/proc/\(pid)/mounts", encoding: .utf8)) ?? ""
        #expect(mounts.split(separator: "\n").contains { $0.hasPrefix("proc \(root.url.path)/proc proc ") || $0.hasPrefix("proc /proc proc ") }, "\(mounts)")
        // (/proc itself: the mount, seen from here as its empty directory.)
        #expect(Set(entries(under: root.url.path, directories: true))
                == ["/daybreak", "/initctl", "/jobs", "/jobs/hello.conf", "/jobs/ran.conf", "/dev", "/dev/null", "/proc", "/control"])
    }

    /// Known: a static Swift executable that is not PID 1 (PID 1 mounts
    /// /proc itself, above) cannot start in a root without /proc: as it
    /// starts, the Swift runtime finds its own path with
    /// readlink("/proc/self/exe") and aborts when that fails ("Unable to
    /// obtain Swift runtime path"), before any of Daybreak's code runs
    /// (docs/installing.md). `daybreak --version` in such a root fails so.
    /// Recorded as a known issue: the test fails once it starts there.
    @Test func withoutProcTheStaticDaemonDoesNotStartUnlessPID1() throws {
        let root = try TempDir()
        try FileManager.default.copyItem(atPath: release + "/daybreak", toPath: root.path("daybreak"))
        let r = try runProgram("/usr/sbin/chroot", [root.url.path, "/daybreak", "--version"], environment: [:], timeout: 10)
        withKnownIssue("the static Swift runtime needs /proc before main: \(r.stderr)") {
            #expect(r.stdout.hasPrefix("init (daybreak "))
        }
        #expect(r.status != 0 || r.stdout.hasPrefix("init (daybreak "), "it either fails or does as asked, never something else")
    }

    /// A job's standard descriptors are opened on /dev/null in every
    /// `console` mode, so a root without /dev gets that one node.
    func makeDevNull(in root: TempDir) throws {
        try FileManager.default.createDirectory(atPath: root.path("dev"), withIntermediateDirectories: true)
        try #require(mknod(root.path("dev/null"), S_IFCHR | 0o666, dev_t(1 << 8 | 3)) == 0, "mknod: \(errno)")
    }
}

/// Every entry below `root` (files, links, other nodes; with `directories`,
/// directories too), as absolute paths inside it.
func entries(under root: String, directories: Bool) -> Set<String> {
    var out = Set<String>()
    guard let walk = FileManager.default.enumerator(atPath: root) else { return out }
    while let relative = walk.nextObject() as? String {
        let isDirectory = (walk.fileAttributes?[.type] as? FileAttributeType) == .typeDirectory
        if directories || !isDirectory { out.insert("/" + relative) }
    }
    return out
}

/// A `daybreak` run as PID 1 of a new pid namespace, chrooted into `root`
/// (`unshare --pid --fork --kill-child --mount-proc=ROOT/proc chroot ROOT
/// DAYBREAK ...`), with its
/// control socket at `socket` inside the root. `stop()` (also on deinit)
/// sends the daemon SIGTERM and, if it has not gone in 15 s, kills the
/// namespace: nothing it started outlives the test.
final class ChrootDaemon {
    let root: TempDir
    let socket: String
    private let process = Foundation.Process()
    private let logDir: TempDir
    private var stopped = false

    /// `mountProc`: mount the namespace's /proc in the root first; without
    /// it the daemon finds none and mounts it itself (in a mount namespace
    /// of its own all the same, gone with it).
    init(root: TempDir, daybreak: String, arguments: [String], socket: String, mountProc: Bool = true) throws {
        self.root = root
        self.socket = root.url.path + socket
        logDir = try TempDir()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        // The new pid namespace's /proc, mounted inside the root in a mount
        // namespace of its own (gone with it): static Swift executables
        // cannot start without /proc (withoutProcTheStaticDaemonDoesNotStart).
        if mountProc { try FileManager.default.createDirectory(atPath: root.path("proc"), withIntermediateDirectories: true) }
        process.arguments = ["--pid", "--fork", "--kill-child", mountProc ? "--mount-proc=" + root.path("proc") : "--mount",
                             "/usr/sbin/chroot", root.url.path, daybreak] + arguments
        process.environment = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]
        let logURL = logDir.url.appendingPathComponent("daemon.log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        guard eventually(timeout: 10, { (try? self.initctl("version"))?.status == 0 }) else {
            let text = self.log
            stop()
            throw HarnessError("daybreak did not come up in the chroot:\n\(text)")
        }
    }

    deinit { stop() }

    var log: String { (try? String(contentsOf: logDir.url.appendingPathComponent("daemon.log"), encoding: .utf8)) ?? "" }

    /// The daemon's pid outside the namespace: unshare's child.
    var daemonPid: Int32? {
        let pid = process.processIdentifier
        return (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8))?
            .split(separator: " ").first.flatMap { Int32($0) }
    }

    /// The daemon's pid inside its namespace (the last of `NSpid`).
    var pidInNamespace: Int32? {
        guard let pid = daemonPid, let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("NSpid:") }) else { return nil }
        return line.split(whereSeparator: { $0 == "\t" || $0 == " " }).last.flatMap { Int32($0) }
    }

    /// The host's initctl against the daemon's socket.
    func initctl(_ args: String...) throws -> RunResult {
        try runProgram(binDirectory.appendingPathComponent("initctl").path, ["--socket", socket] + args, timeout: 30)
    }

    var exitStatus: Int32? { process.isRunning ? nil : process.terminationStatus }

    func stop() {
        guard !stopped else { return }
        stopped = true
        if process.isRunning, let pid = daemonPid { kill(pid, SIGTERM) }
        if !eventually(timeout: 15, { !self.process.isRunning }) {
            // --kill-child: unshare's death takes the namespace with it.
            kill(process.processIdentifier, SIGKILL)
            _ = eventually(timeout: 5, { !self.process.isRunning })
        }
    }
}

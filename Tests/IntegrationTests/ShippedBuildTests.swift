import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The directory holding the release `daybreak`, the form that ships (a
/// static executable, see docs/architecture.md), when the environment
/// names one in `DAYBREAK_RELEASE_BIN`. `.ci/run` builds it and sets it;
/// a plain `swift test` has only the debug build, and skips these tests.
let releaseBinDirectory: String? = {
    guard let dir = ProcessInfo.processInfo.environment["DAYBREAK_RELEASE_BIN"] else { return nil }
    return FileManager.default.isExecutableFile(atPath: dir + "/daybreak") ? dir : nil
}()

/// The release daemon as it ships: what only a static executable can get
/// wrong (no shared libraries at all, users and groups read from the files
/// without NSS modules), and the PID 1 start that is its reason to be.
@Suite(.serialized, .enabled(if: releaseBinDirectory != nil && isRoot,
                             "needs root and DAYBREAK_RELEASE_BIN (the release build; .ci/run sets it)"))
struct ShippedBuild {
    var daybreak: String { releaseBinDirectory! + "/daybreak" }

    /// A `Uid:` or `Gid:` line of /proc/PID/status: real, effective, saved, fs.
    func ids(_ pid: Int32, _ field: String) -> [String] {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix(field + ":") } ?? ""
        return line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().map(String.init)
    }

    @Test func theReleaseDaemonMapsNoSharedLibrary() throws {
        let d = try TestDaemon(daybreak: daybreak)
        defer { d.stop() }
        let maps = try String(contentsOfFile: "/proc/\(d.daemonPid)/maps", encoding: .utf8)
        let real = URL(fileURLWithPath: daybreak).resolvingSymlinksInPath().path
        #expect(maps.contains(real), "the daemon under test is the release build")
        let libraries = maps.split(separator: "\n").filter { $0.contains(".so") }
        #expect(libraries.isEmpty, "\(libraries)")
    }

    /// Whether an ELF executable asks for a dynamic loader (a PT_INTERP program header).
    func hasInterpreter(_ path: String) throws -> Bool {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped))
        func integer(_ at: Int, _ size: Int) -> Int { (0..<size).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
        #expect(bytes.starts(with: [0x7F, 0x45, 0x4C, 0x46, 2]), "a 64-bit ELF file")
        let offset = integer(0x20, 8), size = integer(0x36, 2), count = integer(0x38, 2)
        return (0..<count).contains { integer(offset + $0 * size, 4) == 3 }
    }

    /// initctl as it ships is static too: a run loads nothing (docs/PERFORMANCE.md, "initctl's start-up").
    @Test func theReleaseInitctlIsStaticAndStartsAJob() throws {
        let initctl = releaseBinDirectory! + "/initctl"
        try #require(FileManager.default.isExecutableFile(atPath: initctl), "no release initctl in \(releaseBinDirectory!)")
        #expect(try !hasInterpreter(initctl), "\(initctl) asks for a dynamic loader")
        #expect(try hasInterpreter("/bin/true"), "the check sees a dynamic executable")
        let d = try TestDaemon(daybreak: daybreak)
        defer { d.stop() }
        try d.job("svc", "exec /bin/sleep 600\n")
        _ = try d.initctl("reload-configuration")
        let started = try runProgram(initctl, ["--socket", d.socket, "start", "svc"])
        #expect(started.status == 0, "\(started.stderr)")
        #expect(started.stdout.hasPrefix("svc start/running, process "), "\(started.stdout)")
    }

    @Test func aSetuidJobRunsAsTheUserAndGroupFromTheFiles() throws {
        let user = try #require(getpwnam("nobody"), "no user 'nobody' here")
        let uid = user.pointee.pw_uid, gid = user.pointee.pw_gid
        let d = try TestDaemon(daybreak: daybreak)
        defer { d.stop() }
        try d.job("svc", "setuid nobody\nexec /bin/sleep 600\n")
        _ = try d.initctl("reload-configuration")
        let started = try d.initctl("start", "svc")
        let main = try #require(pid(in: started.stdout), "\(started.stderr)\n\(d.daemonLog)")
        #expect(ids(main, "Uid") == Array(repeating: String(uid), count: 4))
        #expect(ids(main, "Gid") == Array(repeating: String(gid), count: 4))
        #expect(try d.initctl("stop", "svc").status == 0)
    }

    @Test func anUnknownUserFailsTheJobWithAMessage() throws {
        let d = try TestDaemon(jobs: ["nouser": "setuid no-such-user-x\nexec /bin/true\n"], daybreak: daybreak)
        defer { d.stop() }
        let r = try d.initctl("start", "nouser")
        #expect(r.status == 1)
        #expect(d.daemonLog.contains("nouser main process failed to start: setuid to user 'no-such-user-x': no such user"), "\(d.daemonLog)")
        #expect(try d.initctl("version").status == 0, "the daemon goes on")
    }

    @Test func runsAsPIDOneOfAPidNamespace() throws {
        let d = try TestDaemon(user: false, wrapper: PID1.wrapper, waitForSocket: false, daybreak: daybreak)
        defer { d.stop() }
        try d.job("who", "task\nexec /bin/sh -c 'cat /proc/1/comm > \(d.out.path)/pid1'\n")
        #expect(eventually(timeout: 10) { (try? d.initctl("version"))?.status == 0 }, "\(d.daemonLog)")
        _ = try d.initctl("reload-configuration")
        #expect(try d.initctl("start", "who").status == 0)
        #expect(d.output("pid1") == "daybreak\n")
    }
}

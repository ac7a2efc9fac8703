import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// daybreak as PID 1 of a new pid namespace, the way it runs as a
/// container's entry point. `--kill-child` makes unshare take the daemon
/// (and with it the whole namespace) down if the test ends early.
@Suite(.serialized, .enabled(if: isRoot, "pid namespaces need root"))
struct PID1 {
    static let wrapper = ["/usr/bin/unshare", "--pid", "--fork", "--kill-child", "--mount-proc"]

    /// The daemon's pid as seen from outside the namespace (unshare's child).
    func innerPid(_ d: TestDaemon) -> Int32? {
        let path = "/proc/\(d.pid)/task/\(d.pid)/children"
        return (try? String(contentsOfFile: path, encoding: .utf8))?.split(separator: " ").first.flatMap { Int32($0) }
    }

    /// Zombies whose parent is `parent`.
    func zombies(of parent: Int32) -> [Int32] {
        var out: [Int32] = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            if fields.count > 1, fields[0] == "Z", Int32(fields[1]) == parent { out.append(pid) }
        }
        return out
    }

    @Test func runsAsPIDOneAndStartsJobsOnStartup() throws {
        let d = try TestDaemon(user: false, wrapper: PID1.wrapper, waitForSocket: false)
        defer { d.stop() }
        try d.job("who", "task\nstart on startup\nexec /bin/sh -c 'cat /proc/1/comm > \(d.out.path)/pid1; echo $$ > \(d.out.path)/me'\n")
        // The job file was written after the daemon began: wait for the socket, then make sure it is loaded.
        #expect(eventually(timeout: 10) { (try? d.initctl("version"))?.status == 0 }, "\(d.daemonLog)")
        _ = try d.initctl("reload-configuration")
        _ = try d.initctl("start", "who")
        #expect(d.output("pid1") == "daybreak\n")
        #expect(Int(d.output("me").dropLast()) ?? 0 > 1)
    }

    @Test func reapsOrphansThatDoubleForkedAway() throws {
        let d = try TestDaemon(user: false, wrapper: PID1.wrapper)
        defer { d.stop() }
        // Each run leaves an orphan that exits 0.2 s later, re-parented to PID 1.
        try d.job("orphaner", "task\nexec /bin/sh -c '(sleep 0.2 &) ; true'\n")
        _ = try d.initctl("reload-configuration")
        for _ in 0..<5 { _ = try d.initctl("start", "orphaner") }
        let inner = try #require(innerPid(d))
        usleep(800_000)
        #expect(zombies(of: inner).isEmpty)
        #expect(try d.initctl("version").status == 0)
    }

    @Test func sigintEmitsControlAltDeleteAndSigtermShutsDown() throws {
        let d = try TestDaemon(user: false, wrapper: PID1.wrapper)
        defer { d.stop() }
        try d.job("cad", "task\nstart on control-alt-delete\nexec /bin/sh -c 'echo cad > \(d.out.path)/cad'\n")
        try d.job("svc", "exec /bin/sleep 600\n")
        _ = try d.initctl("reload-configuration")
        let service = try #require(pid(in: try d.initctl("start", "svc").stdout))
        let inner = try #require(innerPid(d))
        kill(inner, SIGINT)
        #expect(eventually(timeout: 5) { d.output("cad") == "cad\n" })
        // SIGINT does not stop PID 1; SIGTERM stops every job, then the daemon.
        #expect(try d.initctl("status", "svc").stdout.hasPrefix("svc start/running"))
        kill(inner, SIGTERM)
        #expect(eventually(timeout: 10) { d.process?.isRunning == false })
        #expect(d.process?.terminationStatus == 0)
        // `service` is a pid inside the namespace; from here, its marker tells whether it is gone.
        _ = service
        #expect(d.markedProcesses().isEmpty)
    }
}

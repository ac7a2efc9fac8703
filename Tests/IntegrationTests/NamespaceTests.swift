import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The `namespace` stanza, each kind in a real daemon: a job gets a place
/// it can run in (lo up, its own /proc, an init that reaps), a named
/// network namespace is joined, a user-mode job is root inside, and a
/// namespace the kernel refuses fails the start with a message.
///
/// Everything a test makes (a network namespace, a listening port, a temp
/// directory) is removed by a `defer`, pass or fail; the daemon's jobs end
/// with it (TestDaemon.stop), and a pid namespace with its init.
@Suite(.serialized, .enabled(if: isRoot, "new namespaces need root (the user-mode tests run the daemon as nobody)"))
struct NamespaceStanza {
    /// A TCP listener on the host's 127.0.0.1 at a free port.
    final class HostListener {
        let fd: Int32
        let port: Int
        init() throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            let ok = withUnsafeMutablePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, len) == 0 && listen(fd, 4) == 0 && getsockname(fd, $0, &len) == 0
                }
            }
            guard ok else { close(fd); throw HarnessError("cannot listen on the host's 127.0.0.1: \(errno)") }
            self.fd = fd
            port = Int(UInt16(bigEndian: addr.sin_port))
        }
        deinit { close(fd) }
    }

    /// The outer pids of `root` and all its descendants.
    func tree(_ root: Int32) -> [Int32] {
        var out = [root], i = 0
        while i < out.count {
            let p = out[i]
            let text = (try? String(contentsOfFile: "/proc/\(p)/task/\(p)/children", encoding: .utf8)) ?? ""
            out += text.split(separator: " ").compactMap { Int32($0) }
            i += 1
        }
        return out
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

    @Test func netJobHasItsOwnLoopbackUpAndCannotReachTheHostsLoopback() throws {
        let listener = try HostListener()
        let d = try TestDaemon()
        defer { d.stop() }
        let probe = binDirectory.appendingPathComponent("fixture-loopback").path
        try d.job("net", "task\nnamespace net\nexec \(probe) \(listener.port) > \(d.out.path)/net 2>&1\n")
        try d.job("host", "task\nexec \(probe) \(listener.port) > \(d.out.path)/host 2>&1\n")
        _ = try d.initctl("reload-configuration")
        _ = try d.initctl("start", "host")
        _ = try d.initctl("start", "net")
        // The same program outside reaches the test's port: the namespace is what stops it.
        #expect(d.output("host") == "own: ok\nhost: connected\n", "\(d.daemonLog)")
        #expect(d.output("net") == "own: ok\nhost: Connection refused\n", "\(d.daemonLog)")
    }

    @Test func pidJobSeesOnlyItsProcessesLeavesNoZombiesAndStopEndsThemAll() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        // An orphan that ends at once (a zombie unless the namespace's init
        // reaps it) and one that lingers (for stop to end).
        try d.job("pids", """
            namespace pid mount
            script
              (sleep 0.05 &)
              (exec sleep 600 &)
              sleep 0.4
              ls /proc | grep -E '^[0-9]+$' | sort -n | tr '\\n' ' ' > \(d.out.path)/pids
              cat /proc/1/comm > \(d.out.path)/init
              echo $$ > \(d.out.path)/me
              exec sleep 600
            end script

            """)
        _ = try d.initctl("reload-configuration")
        let outer = try #require(pid(in: try d.initctl("start", "pids").stdout))
        #expect(eventually(timeout: 5) { d.output("me") != "" })
        let inside = d.output("pids").split(separator: " ").compactMap { Int($0) }
        // init (1), the job (2), the lingering orphan, the last sleep, ls's pipeline.
        #expect(inside.first == 1 && inside.count <= 8, "inside: \(inside)")
        #expect(d.output("me") == "2\n")
        // The orphan that ended is gone (its zombie would be listed as a child of the init).
        #expect(eventually(timeout: 3) { tree(outer).count == 4 }, "relay, init, job, orphan: \(tree(outer))")
        let all = tree(outer)
        let initPid = all.count > 1 ? all[1] : outer
        #expect(zombies(of: initPid).isEmpty)
        let stopped = try d.initctl("stop", "pids")
        #expect(stopped.stdout.hasPrefix("pids stop/waiting"), "\(stopped.stdout)\(stopped.stderr)")
        #expect(eventually(timeout: 5) { all.allSatisfy { !isAlive($0) } }, "left: \(all.filter(isAlive))")
    }

    @Test func pidJobKilledBySignalIsReportedAsSuchAndRespawns() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        try d.job("victim", "namespace pid\nrespawn\nexec sleep 600\n")
        _ = try d.initctl("reload-configuration")
        let outer = try #require(pid(in: try d.initctl("start", "victim").stdout))
        let all = tree(outer)
        #expect(all.count == 3, "relay, init, job: \(all)")
        kill(try #require(all.last), SIGKILL)
        #expect(eventually(timeout: 5) { d.daemonLog.contains("victim main process (\(outer)) killed by KILL signal") }, "\(d.daemonLog)")
        #expect(eventually(timeout: 5) {
            let now = pid(in: (try? d.initctl("status", "victim").stdout) ?? "")
            return now != nil && now != outer
        })
        #expect(!isAlive(outer))
    }

    @Test func pidJobThatIgnoresTermIsKilledAfterKillTimeout() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        try d.job("stubborn", "namespace pid mount\nkill timeout 1\nexec /bin/sh -c \"trap '' TERM; (trap '' TERM; exec sleep 600) & exec sleep 600\"\n")
        _ = try d.initctl("reload-configuration")
        let outer = try #require(pid(in: try d.initctl("start", "stubborn").stdout))
        #expect(eventually(timeout: 2) { tree(outer).count == 4 })
        let all = tree(outer)
        let started = Date()
        _ = try d.initctl("stop", "stubborn")
        #expect(eventually(timeout: 5) { all.allSatisfy { !isAlive($0) } }, "left: \(all.filter(isAlive))")
        #expect(Date().timeIntervalSince(started) < 4)
    }

    /// A job that left the process group (setsid) does not get the
    /// daemon's signal to the group: the namespace's init forwards it.
    @Test func pidJobThatLeftTheProcessGroupGetsTheStopSignalFromTheInit() throws {
        let d = try TestDaemon(arguments: ["--verbose"])
        defer { d.stop() }
        try d.job("loner", "namespace pid\nkill timeout 20\nexec setsid sleep 600\n")
        _ = try d.initctl("reload-configuration")
        let outer = try #require(pid(in: try d.initctl("start", "loner").stdout))
        #expect(eventually(timeout: 2) {
            let all = tree(outer)
            return all.count == 3 && ((try? String(contentsOfFile: "/proc/\(all[2])/comm", encoding: .utf8)) ?? "") == "sleep\n"
        })
        let all = tree(outer)
        let started = Date()
        let r = try d.initctl("stop", "loner")
        #expect(r.stdout.hasPrefix("loner stop/waiting"), "\(r.stdout)\(r.stderr)")
        #expect(Date().timeIntervalSince(started) < 5, "stop waited for the kill timeout")
        #expect(all.allSatisfy { !isAlive($0) })
        #expect(d.daemonLog.contains("loner main process (\(outer)) killed by TERM signal"), "\(d.daemonLog)")
    }

    @Test func pidJobWithExpectStopIsReadyWhenItStopsItself() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        try d.job("stopper", "namespace pid\nexpect stop\nexec /bin/sh -c 'kill -STOP $$; echo resumed > \(d.out.path)/resumed; exec sleep 600'\n")
        _ = try d.initctl("reload-configuration")
        let r = try d.initctl(["start", "stopper"], timeout: 10)
        #expect(r.stdout.hasPrefix("stopper start/running"), "\(r.stdout)\(r.stderr)\(d.daemonLog)")
        #expect(eventually(timeout: 5) { d.output("resumed") == "resumed\n" })
    }

    @Test func tracedJobInPidNamespaceFailsToStartWithAReason() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        try d.job("traced", "namespace pid\nexpect fork\nexec sleep 600\n")
        _ = try d.initctl("reload-configuration")
        _ = try d.initctl("start", "traced")
        #expect(eventually(timeout: 5) {
            d.daemonLog.contains("traced main process failed to start: unshare pid namespace: a traced job (expect fork, expect daemon) cannot be followed into a new pid namespace")
        }, "\(d.daemonLog)")
    }

    @Test func utsJobHasTheHostnameItAsksForOrItsName() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        try d.job("named", "task\nnamespace uts\nexec /bin/sh -c 'hostname > \(d.out.path)/named'\n")
        try d.job("given", "task\nnamespace uts=box-1 ipc cgroup\nexec /bin/sh -c 'hostname > \(d.out.path)/given'\n")
        _ = try d.initctl("reload-configuration")
        _ = try d.initctl("start", "named")
        _ = try d.initctl("start", "given")
        #expect(d.output("named") == "named\n", "\(d.daemonLog)")
        #expect(d.output("given") == "box-1\n", "\(d.daemonLog)")
    }

    @Test func namedNetworkNamespaceIsJoined() throws {
        let candidates: [String] = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
        guard let ip = candidates.first(where: { path in access(path, X_OK) == 0 }) else {
            print("namedNetworkNamespaceIsJoined: skipped, no ip(8) (iproute2) on this machine")
            return
        }
        let name = "daybreak-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let added = try runProgram(ip, ["netns", "add", name])
        defer { _ = try? runProgram(ip, ["netns", "delete", name]) }
        try #require(added.status == 0, "ip netns add: \(added.stderr)")
        var st = stat()
        try #require(stat("/run/netns/\(name)", &st) == 0)
        let d = try TestDaemon()
        defer { d.stop() }
        try d.job("joined", "task\nnamespace net=\(name)\nexec /bin/sh -c 'readlink /proc/self/ns/net > \(d.out.path)/ns'\n")
        _ = try d.initctl("reload-configuration")
        _ = try d.initctl("start", "joined")
        #expect(d.output("ns") == "net:[\(st.st_ino)]\n", "\(d.daemonLog)")
    }

    @Test func missingNamedNetworkNamespaceFailsTheStart() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        try d.job("nowhere", "task\nnamespace net=daybreak-test-none\nexec true\n")
        _ = try d.initctl("reload-configuration")
        _ = try d.initctl("start", "nowhere")
        #expect(eventually(timeout: 5) {
            d.daemonLog.contains("nowhere main process failed to start: setns net namespace /run/netns/daybreak-test-none: No such file or directory")
        }, "\(d.daemonLog)")
    }

    /// A user-mode daemon run as nobody: `namespace user` makes the job
    /// root inside (and lets it have a network namespace with lo up);
    /// `namespace net` alone is refused by the kernel, and says so.
    @Test func userModeJobIsRootInsideAndARefusedNamespaceFailsTheStart() throws {
        let nobody = "65534"
        let probe = try runProgram("/usr/bin/setpriv", ["--reuid=\(nobody)", "--regid=\(nobody)", "--clear-groups", "/usr/bin/unshare", "--user", "true"])
        guard probe.status == 0 else {
            print("userModeJobIsRootInside: skipped, an unprivileged user cannot create a user namespace here: \(probe.stderr)")
            return
        }
        let scripts = try TempDir()
        let wrapper = scripts.path("as-nobody")
        let daybreak = binDirectory.appendingPathComponent("daybreak").path
        try scripts.write("as-nobody", """
            #!/bin/sh
            prev=
            for a in "$@"; do [ "$prev" = --confdir ] && chown -R \(nobody):\(nobody) "$(dirname "$a")"; prev=$a; done
            exec /usr/bin/setpriv --reuid=\(nobody) --regid=\(nobody) --clear-groups \(daybreak) "$@"

            """)
        chmod(wrapper, 0o755)
        let d = try TestDaemon(daybreak: wrapper)
        defer { d.stop() }
        try d.job("rooted", "task\nnamespace user net\nexec /bin/sh -c 'id -u > \(d.out.path)/uid; cat /proc/net/dev > \(d.out.path)/dev'\n")
        try d.job("refused", "task\nnamespace net\nexec true\n")
        try d.job("tree", "task\nnamespace user pid\nexec /bin/sh -c 'echo $$ > \(d.out.path)/tree; ls /proc > \(d.out.path)/procs'\n")
        _ = try d.initctl(["reload-configuration"], asUser: nobody)
        _ = try d.initctl(["start", "rooted"], asUser: nobody)
        #expect(d.output("uid") == "0\n", "\(d.daemonLog)")
        #expect(d.output("dev").contains("lo:"), "\(d.daemonLog)")
        // A pid namespace (and its /proc) in a user namespace: sh is 2; init, sh and ls are all there is.
        _ = try d.initctl(["start", "tree"], asUser: nobody)
        #expect(d.output("tree") == "2\n", "\(d.daemonLog)")
        let pids = d.output("procs").split(separator: "\n").filter { Int($0) != nil }
        #expect(pids.count == 3 && pids.prefix(2) == ["1", "2"], "\(d.daemonLog)")
        _ = try d.initctl(["start", "refused"], asUser: nobody)
        #expect(eventually(timeout: 5) {
            d.daemonLog.contains("refused main process failed to start: unshare net namespace: Operation not permitted")
        }, "\(d.daemonLog)")
    }

    /// System mode: `namespace user` with `setuid` maps root inside to the
    /// `setuid` user outside.
    @Test func systemJobWithSetuidIsRootInsideMappedToItsUser() throws {
        let d = try TestDaemon(user: false)
        defer { d.stop() }
        chmod(d.out.path, 0o777)
        try d.job("mapped", "task\nsetuid nobody\nnamespace user\nexec /bin/sh -c 'id -u > \(d.out.path)/uid; cat /proc/self/uid_map > \(d.out.path)/map'\n")
        _ = try d.initctl("reload-configuration")
        _ = try d.initctl("start", "mapped")
        #expect(d.output("uid") == "0\n", "\(d.daemonLog)")
        let map = d.output("map").split(whereSeparator: { $0 == " " || $0 == "\n" })
        #expect(map == ["0", "65534", "1"], "\(d.daemonLog)")
    }
}

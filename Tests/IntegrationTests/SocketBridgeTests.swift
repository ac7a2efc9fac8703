import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Where a test client connects.
enum SocketAddress: CustomStringConvertible {
    case inet(UInt16)
    case inet6(UInt16)
    case unix(String)

    var description: String {
        switch self {
        case .inet(let p): return "127.0.0.1:\(p)"
        case .inet6(let p): return "[::1]:\(p)"
        case .unix(let path): return path
        }
    }
}

/// Connects (blocking, with a receive timeout); -1 when refused.
func connectSocket(_ a: SocketAddress, timeout: Int = 10) -> Int32 {
    var fd: Int32 = -1
    var rc: Int32 = -1
    switch a {
    case .inet(let port):
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    case .inet6(let port):
        fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var addr = sockaddr_in6()
        addr.sin6_family = sa_family_t(AF_INET6)
        addr.sin6_port = port.bigEndian
        inet_pton(AF_INET6, "::1", &addr.sin6_addr)
        rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
    case .unix(let path):
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = path.hasPrefix("@") ? [0] + Array(path.utf8.dropFirst()) : Array(path.utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        let len = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (path.hasPrefix("@") ? 0 : 1))
        rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, len) } }
    }
    guard fd >= 0 else { return -1 }
    guard rc == 0 else {
        close(fd)
        return -1
    }
    var tv = timeval(tv_sec: timeout, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    return fd
}

/// Reads until the server closes (or the timeout); closes `fd`.
func readAll(_ fd: Int32) -> String {
    var data = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 2048)
    while true {
        let n = read(fd, &buffer, buffer.count)
        if n <= 0 { break }
        data += buffer[0..<n]
    }
    close(fd)
    return String(decoding: data, as: UTF8.self)
}

/// One request: connect, read the answer line ("" when refused or unanswered).
func ask(_ a: SocketAddress, timeout: Int = 10) -> String {
    let fd = connectSocket(a, timeout: timeout)
    return fd < 0 ? "" : readAll(fd)
}

/// A TCP port nobody listens on now (the kernel's pick, released).
func freePort(ipv6: Bool = false) -> UInt16 {
    let fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    if ipv6 {
        var addr = sockaddr_in6()
        addr.sin6_family = sa_family_t(AF_INET6)
        inet_pton(AF_INET6, "::1", &addr.sin6_addr)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
    } else {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    }
    var storage = sockaddr_in6()
    var len = socklen_t(MemoryLayout<sockaddr_in6>.size)
    _ = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return UInt16(bigEndian: storage.sin6_port)  // sin_port and sin6_port sit at the same offset
}

/// Whether `::1` can be bound here.
let machineHasIPv6: Bool = {
    let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var addr = sockaddr_in6()
    addr.sin6_family = sa_family_t(AF_INET6)
    inet_pton(AF_INET6, "::1", &addr.sin6_addr)
    return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } } == 0
}()

/// A listening socket held by the test itself (another program on the address).
func holdTCP(_ port: UInt16) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = port.bigEndian
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    listen(fd, 8)
    return fd
}

func holdUnix(_ path: String, keepListening: Bool) -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    var addr = sockaddr_un()
    addr.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
    listen(fd, 8)
    if !keepListening {
        close(fd)  // leaves a stale socket file behind
        return -1
    }
    return fd
}

/// The number of open descriptors of a process.
func descriptorCount(_ pid: Int32) -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd"))?.count ?? -1
}

/// Socket activation with the real daemon, the real bridge as one of its
/// jobs, the real initctl, and servers that speak only systemd's protocol
/// or only Upstart's.
@Suite(.serialized) struct SocketBridgeTests {
    static let bridge = binDirectory.appendingPathComponent("daybreak-socket-bridge").path
    static let server = binDirectory.appendingPathComponent("fixture-socket-server").path

    /// A daemon with the bridge running as its job.
    func daemon(_ jobs: [String: String]) throws -> TestDaemon {
        let d = try TestDaemon(jobs: jobs)
        try d.job("socket-bridge", "start on startup\nrespawn\nexec \(SocketBridgeTests.bridge)\n")
        #expect(eventually(timeout: 10) { (try? d.initctl("start", "socket-bridge"))?.status == 0 })
        return d
    }

    func bridgeLog(_ d: TestDaemon) -> String {
        (try? String(contentsOf: d.logs.appendingPathComponent("socket-bridge.log"), encoding: .utf8)) ?? ""
    }

    /// Waits until the bridge says it listens on `what` (`inet 127.0.0.1:80`).
    func waitListening(_ d: TestDaemon, _ what: String, count: Int = 1) -> Bool {
        eventually(timeout: 10) { bridgeLog(d).components(separatedBy: "listening on \(what) ").count - 1 >= count }
    }

    func status(_ d: TestDaemon, _ job: String) -> String {
        (try? d.initctl("status", job))?.stdout ?? ""
    }

    /// `key=value` fields of a server's answer line.
    func fields(_ line: String) -> [String: String] {
        var f: [String: String] = [:]
        // upstart_fds may hold a space ("3 4"): read it up to " fd=".
        if let r = line.range(of: "upstart_fds="), let end = line.range(of: " fd=", range: r.upperBound..<line.endIndex) {
            f["upstart_fds"] = String(line[r.upperBound..<end.lowerBound])
        }
        for word in line.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ") {
            let kv = word.split(separator: "=", maxSplits: 1)
            if kv.count == 2 && kv[0] != "upstart_fds" { f[String(kv[0])] = String(kv[1]) }
        }
        return f
    }

    @Test func aClientThatConnectedBeforeTheJobRanIsServedOverIPv4IPv6AndUnix() throws {
        let p4 = freePort(), p6 = machineHasIPv6 ? freePort(ipv6: true) : 0
        var jobs = [
            "web4": "start on socket PROTO=inet PORT=\(p4) ADDR=127.0.0.1\nexec \(SocketBridgeTests.server) systemd\n",
        ]
        if machineHasIPv6 {
            jobs["web6"] = "start on socket PROTO=inet6 PORT=\(p6) ADDR=::1\nexec \(SocketBridgeTests.server) upstart\n"
        } else {
            print("SocketBridgeTests: skipping IPv6: this machine cannot bind ::1")
        }
        let d = try daemon(jobs)
        defer { d.stop() }
        let path = d.dir.path("run/webu.sock")
        // Root may give the socket file to another user (SOCKET_OWNER).
        let owner = getuid() == 0 && getpwnam("nobody") != nil ? " SOCKET_OWNER=nobody" : ""
        try d.job("webu", "start on socket PROTO=unix SOCKET_PATH=\(path) SOCKET_MODE=0600\(owner)\nexec \(SocketBridgeTests.server) systemd\n")
        #expect(waitListening(d, "inet 127.0.0.1:\(p4)"), "\(bridgeLog(d))")
        #expect(waitListening(d, "unix \(path)"), "\(bridgeLog(d))")
        var cases: [(String, SocketAddress, String)] = [("web4", .inet(p4), "systemd"), ("webu", .unix(path), "systemd")]
        if machineHasIPv6 {
            #expect(waitListening(d, "inet6 [::1]:\(p6)"), "\(bridgeLog(d))")
            cases.append(("web6", .inet6(p6), "upstart"))
        }
        var st = stat()
        #expect(lstat(path, &st) == 0 && st.st_mode & 0o777 == 0o600)
        if !owner.isEmpty { #expect(st.st_uid == getpwnam("nobody")!.pointee.pw_uid) }
        for (job, address, mode) in cases {
            #expect(status(d, job).contains("stop/waiting"))
            // Connected before the job runs: the connection waits in the
            // bridge's backlog, and the job, started by it, serves it.
            let fd = connectSocket(address)
            #expect(fd >= 0, "connect to \(address)")
            let line = readAll(fd)
            let f = fields(line)
            #expect(f["mode"] == mode, "\(job): \(line)\n\(bridgeLog(d))")
            #expect(f["listen_fds"] == "1")
            #expect(f["listen_pid"] == f["pid"], "LISTEN_PID is the server's own pid: \(line)")
            #expect(f["upstart_fds"] == "3")
            #expect(f["fd"] == "3")
            #expect(status(d, job).contains("start/running, process \(f["pid"] ?? "?")"))
            // Already running: the same process answers.
            #expect(fields(ask(address))["pid"] == f["pid"])
        }
        #expect(fields(ask(.inet(p4)))["names"] == "inet-127.0.0.1-\(p4)")
        #expect(fields(ask(.unix(path)))["names"] == "unix-webu.sock")
    }

    @Test func aJobWithTwoSocketsGetsBothInStartOnOrder() throws {
        let port = freePort()
        let d = try daemon([:])
        defer { d.stop() }
        let path = d.dir.path("run/two.sock")
        try d.job("two", "start on socket PROTO=inet PORT=\(port) ADDR=127.0.0.1 and socket PROTO=unix SOCKET_PATH=\(path)\nexec \(SocketBridgeTests.server) systemd\n")
        #expect(waitListening(d, "unix \(path)"), "\(bridgeLog(d))")
        #expect(waitListening(d, "inet 127.0.0.1:\(port)"))
        // The unix socket is connected to first; the order is still start on's.
        let f = fields(ask(.unix(path)))
        #expect(f["listen_fds"] == "2", "\(f)\n\(bridgeLog(d))")
        #expect(f["upstart_fds"] == "3 4")
        #expect(f["names"] == "inet-127.0.0.1-\(port):unix-two.sock")
        #expect(f["fd"] == "4")
        let g = fields(ask(.inet(port)))
        #expect(g["fd"] == "3")
        #expect(g["pid"] == f["pid"])
    }

    /// In a new pid namespace the server sees itself as pid 2 (under the
    /// namespace's init): LISTEN_PID must be that, the pid it sees, or a
    /// daemon written for systemd ignores its sockets.
    @Test(.enabled(if: getuid() == 0, "needs root for a pid namespace"))
    func listenPidIsTheServersOwnPidInsideAPidNamespace() throws {
        let d = try daemon([:])
        defer { d.stop() }
        let path = d.dir.path("run/ns.sock")
        try d.job("ns", "namespace pid\nstart on socket PROTO=unix SOCKET_PATH=\(path)\nexec \(SocketBridgeTests.server) systemd\n")
        #expect(waitListening(d, "unix \(path)"), "\(bridgeLog(d))")
        let f = fields(ask(.unix(path)))
        #expect(f["mode"] == "systemd", "\(f)\n\(bridgeLog(d))\n\(d.daemonLog)")
        #expect(f["pid"] == "2", "\(f)")
        #expect(f["listen_pid"] == f["pid"], "\(f)")
        #expect(f["listen_fds"] == "1")
    }

    @Test func aServerThatReadsOnlyUpstartFdsIsServedToo() throws {
        let d = try daemon([:])
        defer { d.stop() }
        let path = d.dir.path("run/up.sock")
        try d.job("up", "start on socket PROTO=unix SOCKET_PATH=\(path)\nexec \(SocketBridgeTests.server) upstart\n")
        #expect(waitListening(d, "unix \(path)"), "\(bridgeLog(d))")
        let f = fields(ask(.unix(path)))
        #expect(f["mode"] == "upstart", "\(f)")
        #expect(f["upstart_fds"] == "3")
        // The abstract namespace: no file, the same hand-over.
        let name = "@daybreak-test-\(UUID().uuidString)"
        try d.job("abstract", "start on socket PROTO=unix SOCKET_PATH=\(name)\nexec \(SocketBridgeTests.server) upstart\n")
        #expect(waitListening(d, "unix \(name)"), "\(bridgeLog(d))")
        #expect(fields(ask(.unix(name)))["mode"] == "upstart")
    }

    /// A stream of 1,000 clients while the service is stopped (and activated
    /// again by the next client), restarted, and killed (and respawned):
    /// every one is answered.
    @Test func aThousandClientsAcrossStopsRestartsAndRespawnsAreAllAnswered() throws {
        let port = freePort()
        let d = try daemon(["svc": "start on socket PROTO=inet PORT=\(port) ADDR=127.0.0.1\nrespawn\nexec \(SocketBridgeTests.server) systemd\n"])
        defer { d.stop() }
        #expect(waitListening(d, "inet 127.0.0.1:\(port)"), "\(bridgeLog(d))")
        final class Tally: @unchecked Sendable {
            let lock = NSLock()
            var answered = 0
            var missed: [Int] = []
            var pids = Set<String>()
            var done = false
        }
        let tally = Tally()
        let started = Date()
        let thread = Thread {
            for i in 0..<1000 {
                // Paced (about 2 ms a client), so the stream spans the
                // stop, the restart and the respawn below.
                usleep(2000)
                let line = ask(.inet(port))
                tally.lock.withLock {
                    if line.hasPrefix("mode=systemd") {
                        tally.answered += 1
                        if let pid = line.split(separator: " ").first(where: { $0.hasPrefix("pid=") }) { tally.pids.insert(String(pid)) }
                    } else {
                        tally.missed.append(i)
                    }
                }
            }
            tally.lock.withLock { tally.done = true }
        }
        thread.start()
        func answered() -> Int { tally.lock.withLock { tally.answered } }
        #expect(eventually(timeout: 20) { answered() >= 150 })
        #expect(try d.initctl("stop", "svc").status == 0)
        #expect(eventually(timeout: 20) { answered() >= 400 })
        #expect(try d.initctl("restart", "svc").status == 0)
        #expect(eventually(timeout: 20) { answered() >= 650 })
        let main = pid(in: status(d, "svc")) ?? 0
        #expect(main > 0)
        kill(main, SIGKILL)
        #expect(eventually(timeout: 60) { tally.lock.withLock { tally.done } })
        let seconds = Date().timeIntervalSince(started)
        tally.lock.withLock {
            #expect(tally.answered == 1000, "missed: \(tally.missed.prefix(20))\n\(bridgeLog(d))")
            // Activated, stopped and activated again, restarted, respawned.
            #expect(tally.pids.count >= 4, "\(tally.pids)")
        }
        print("SocketBridgeTests: 1,000 clients across a stop, a restart and a respawn in \(String(format: "%.2f", seconds)) s")
        #expect(seconds < 20)
    }

    @Test func badSocketsAreReportedWithFileAndLineAndTheOthersKeepWorking() throws {
        let taken = freePort(), good = freePort()
        let holder = holdTCP(taken)
        defer { close(holder) }
        let d = try daemon([:])
        defer { d.stop() }
        let live = d.dir.path("run/live.sock"), stale = d.dir.path("run/stale.sock")
        let held = holdUnix(live, keepListening: true)
        defer { close(held) }
        _ = holdUnix(stale, keepListening: false)
        let missing = d.dir.path("run/no-such-dir/x.sock")
        try d.job("busy", "# taken by another program\nstart on socket PROTO=inet PORT=\(taken) ADDR=127.0.0.1\nexec \(SocketBridgeTests.server) systemd\n")
        try d.job("nodir", "start on socket PROTO=unix SOCKET_PATH=\(missing)\nexec \(SocketBridgeTests.server) systemd\n")
        try d.job("held", "start on socket PROTO=unix SOCKET_PATH=\(live)\nexec \(SocketBridgeTests.server) systemd\n")
        try d.job("stale", "start on socket PROTO=unix SOCKET_PATH=\(stale)\nexec \(SocketBridgeTests.server) systemd\n")
        try d.job("badport", "start on socket PROTO=inet PORT=70000 ADDR=127.0.0.1\nexec true\n")
        try d.job("fine", "start on socket PROTO=inet PORT=\(good) ADDR=127.0.0.1\nexec \(SocketBridgeTests.server) systemd\n")
        #expect(waitListening(d, "inet 127.0.0.1:\(good)"), "\(bridgeLog(d))")
        #expect(waitListening(d, "unix \(stale)"), "a stale socket file is replaced\n\(bridgeLog(d))")
        let busy = d.jobs.appendingPathComponent("busy.conf").path
        #expect(eventually(timeout: 5) { bridgeLog(d).contains("\(busy):3: job busy: cannot bind 127.0.0.1:\(taken): Address already in use") }, "\(bridgeLog(d))")
        let nodir = d.jobs.appendingPathComponent("nodir.conf").path
        #expect(eventually(timeout: 5) { bridgeLog(d).contains("\(nodir):2: job nodir: cannot bind \(missing): No such file or directory") }, "\(bridgeLog(d))")
        let heldFile = d.jobs.appendingPathComponent("held.conf").path
        #expect(eventually(timeout: 5) { bridgeLog(d).contains("\(heldFile):2: job held: cannot bind \(live): another program is listening there") }, "\(bridgeLog(d))")
        // The parser sees a bad PORT: the daemon refuses the file at load time.
        #expect(eventually(timeout: 5) { d.daemonLog.contains("badport.conf:2:1: socket in 'start on': PORT=70000: expected a port number from 1 to 65535") }, "\(d.daemonLog)")
        // The rest work.
        #expect(fields(ask(.inet(good)))["mode"] == "systemd")
        #expect(fields(ask(.unix(stale)))["mode"] == "systemd")
        #expect(status(d, "held").contains("stop/waiting"))
    }

    @Test func initCheckconfReportsABadSocketWithFileAndLine() throws {
        let dir = try TempDir()
        defer { try? FileManager.default.removeItem(at: dir.url) }
        try dir.write("web.conf", "description \"web\"\nstart on socket PROTO=inet PORT=99999 ADDR=127.0.0.1\nexec web\n")
        try dir.write("ok.conf", "start on socket PROTO=unix SOCKET_PATH=@web and socket PROTO=inet6 PORT=80 ADDR=::1\nexec web\n")
        let r = try run("init-checkconf", [dir.path("web.conf"), dir.path("ok.conf")])
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(dir.path("web.conf")):2:1: socket in 'start on': PORT=99999: expected a port number from 1 to 65535"), "\(r.stderr)")
        #expect(r.stdout == "File \(dir.path("ok.conf")): syntax ok\n")
    }

    /// The bridge follows job-file edits and listens on the socket again
    /// when the job stops; the daemon and the bridge keep no descriptor
    /// per activation.
    @Test func editsAreFollowedAndNoDescriptorLeaks() throws {
        let p1 = freePort(), p2 = freePort()
        let d = try daemon(["svc": "start on socket PROTO=inet PORT=\(p1) ADDR=127.0.0.1\nexec \(SocketBridgeTests.server) systemd\n"])
        defer { d.stop() }
        #expect(waitListening(d, "inet 127.0.0.1:\(p1)"), "\(bridgeLog(d))")
        let bridgePid = pid(in: status(d, "socket-bridge")) ?? 0
        #expect(bridgePid > 0)
        #expect(fields(ask(.inet(p1)))["mode"] == "systemd")
        #expect(try d.initctl("stop", "svc").status == 0)
        #expect(eventually(timeout: 5) { !ask(.inet(p1)).isEmpty })
        #expect(try d.initctl("stop", "svc").status == 0)
        // Settled: count, then activate and stop ten times, and count again.
        Thread.sleep(forTimeInterval: 0.3)
        let daemonBefore = descriptorCount(d.daemonPid), bridgeBefore = descriptorCount(bridgePid)
        for _ in 0..<10 {
            #expect(eventually(timeout: 5) { fields(ask(.inet(p1)))["mode"] == "systemd" })
            #expect(try d.initctl("stop", "svc").status == 0)
        }
        Thread.sleep(forTimeInterval: 0.3)
        #expect(descriptorCount(d.daemonPid) == daemonBefore, "the daemon's descriptors")
        #expect(descriptorCount(bridgePid) == bridgeBefore, "the bridge's descriptors")
        // An edit to another port: the old socket closes, the new one listens.
        try d.job("svc", "start on socket PROTO=inet PORT=\(p2) ADDR=127.0.0.1\nexec \(SocketBridgeTests.server) systemd\n")
        #expect(waitListening(d, "inet 127.0.0.1:\(p2)"), "\(bridgeLog(d))")
        #expect(eventually(timeout: 5) { refused(.inet(p1)) })
        #expect(fields(ask(.inet(p2)))["mode"] == "systemd")
    }

    /// Descriptors sent with requests that take none, and by the hundred,
    /// are closed: the daemon's count does not grow.
    @Test func descriptorsSentWhereNoneAreTakenAreClosed() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        let before = descriptorCount(d.daemonPid)
        for _ in 0..<10 {
            let c = d.rawConnection()
            #expect(c >= 0)
            let body = Array(#"{"v":1,"id":1,"method":"version"}"#.utf8)
            let frame = [UInt8(0), 0, 0, UInt8(body.count)] + body
            var fds = [Int32](repeating: 0, count: 16)
            for i in 0..<16 { fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC) }
            #expect(sendWithDescriptors(c, frame, fds) == frame.count)
            for f in fds { close(f) }
            var reply = [UInt8](repeating: 0, count: 512)
            #expect(read(c, &reply, reply.count) > 0)
            close(c)
        }
        #expect(eventually(timeout: 5) { descriptorCount(d.daemonPid) == before }, "\(descriptorCount(d.daemonPid)) descriptors, \(before) before")
    }
}

/// sendmsg with SCM_RIGHTS.
func sendWithDescriptors(_ fd: Int32, _ bytes: [UInt8], _ fds: [Int32]) -> Int {
    var bytes = bytes
    let space = fds.count * MemoryLayout<Int32>.size
    let controlLength = MemoryLayout<cmsghdr>.size + space + 8
    var control = [UInt8](repeating: 0, count: controlLength)
    return bytes.withUnsafeMutableBytes { data in
        control.withUnsafeMutableBytes { ctl in
            var iov = iovec(iov_base: data.baseAddress, iov_len: data.count)
            return withUnsafeMutablePointer(to: &iov) { iovp in
                var msg = msghdr()
                msg.msg_iov = iovp
                msg.msg_iovlen = 1
                msg.msg_control = ctl.baseAddress
                let cmsgLen = MemoryLayout<cmsghdr>.size + space
                msg.msg_controllen = (cmsgLen + 7) & ~7
                let header = ctl.baseAddress!.assumingMemoryBound(to: cmsghdr.self)
                header.pointee.cmsg_len = cmsgLen
                header.pointee.cmsg_level = SOL_SOCKET
                header.pointee.cmsg_type = Int32(SCM_RIGHTS)
                let payload = (ctl.baseAddress! + MemoryLayout<cmsghdr>.size).assumingMemoryBound(to: Int32.self)
                for (i, f) in fds.enumerated() { payload[i] = f }
                return sendmsg(fd, &msg, 0)
            }
        }
    }
}

/// Whether nobody listens at `a`.
func refused(_ a: SocketAddress) -> Bool {
    let fd = connectSocket(a, timeout: 1)
    if fd >= 0 { close(fd) }
    return fd < 0
}

extension SocketBridgeTests {
    /// Killing the bridge harms neither the daemon nor the running job;
    /// the respawned bridge leaves the job's socket to it, and binds it
    /// again once the job stops.
    @Test func aBridgeThatDiesHarmsNothingAndItsSuccessorTakesOver() throws {
        let port = freePort()
        let d = try daemon(["svc": "start on socket PROTO=inet PORT=\(port) ADDR=127.0.0.1\nexec \(SocketBridgeTests.server) systemd\n"])
        defer { d.stop() }
        #expect(waitListening(d, "inet 127.0.0.1:\(port)"), "\(bridgeLog(d))")
        let first = fields(ask(.inet(port)))["pid"]
        #expect(first != nil)
        let old = pid(in: status(d, "socket-bridge")) ?? 0
        kill(old, SIGKILL)
        #expect(eventually(timeout: 10) { (pid(in: status(d, "socket-bridge")) ?? old) != old })
        #expect(eventually(timeout: 5) { bridgeLog(d).contains("job svc is running; inet 127.0.0.1:\(port) is bound when it stops") }, "\(bridgeLog(d))")
        // The job still serves on the socket the first bridge handed it.
        #expect(fields(ask(.inet(port)))["pid"] == first)
        #expect(try d.initctl("version").status == 0)
        #expect(try d.initctl("stop", "svc").status == 0)
        #expect(waitListening(d, "inet 127.0.0.1:\(port)", count: 2), "\(bridgeLog(d))")
        let again = fields(ask(.inet(port)))["pid"]
        #expect(again != nil && again != first)
    }
}

extension SocketBridgeTests {
    /// A job that fails at once, leaving the connection waiting, is not
    /// started in a tight loop: after a burst the bridge pauses.
    @Test func aJobThatFailsAtOnceIsPacedNotLooped() throws {
        let port = freePort()
        let d = try daemon(["bad": "start on socket PROTO=inet PORT=\(port) ADDR=127.0.0.1\nexec /bin/sh -c 'exit 1'\n"])
        defer { d.stop() }
        #expect(waitListening(d, "inet 127.0.0.1:\(port)"), "\(bridgeLog(d))")
        let fd = connectSocket(.inet(port), timeout: 1)
        defer { close(fd) }
        #expect(eventually(timeout: 10) { bridgeLog(d).contains("job bad was started by its sockets 10 times within 2000 ms, failing; listening again in 2000 ms") }, "\(bridgeLog(d))")
        #expect(try d.initctl("version").status == 0)
    }
}

extension SocketBridgeTests {
    /// The daemon is killed and another starts on the same socket: the
    /// bridge keeps its listening sockets, connects to the new daemon, and
    /// a client that connected while no daemon ran is served. The new
    /// daemon's own bridge waits for the first to go.
    @Test func theBridgeReconnectsWhenTheDaemonRestartsAndKeepsConnectionsMadeMeanwhile() throws {
        let port = freePort()
        let d = try daemon(["svc": "start on socket PROTO=inet PORT=\(port) ADDR=127.0.0.1\nexec \(SocketBridgeTests.server) systemd\n"])
        defer { d.stop() }
        #expect(waitListening(d, "inet 127.0.0.1:\(port)"), "\(bridgeLog(d))")
        let first = pid(in: status(d, "socket-bridge")) ?? 0
        #expect(first > 0)
        let dead = d.daemonPid
        kill(dead, SIGKILL)
        #expect(eventually(timeout: 5) {
            let stat = (try? String(contentsOfFile: "/proc/\(dead)/stat", encoding: .utf8)) ?? ""
            return stat.isEmpty || stat.contains(") Z ")
        })
        // No daemon: the connection waits in the bridge's socket.
        let fd = connectSocket(.inet(port), timeout: 20)
        #expect(fd >= 0)
        #expect(isAlive(first))
        // Another daemon, on the same socket and jobs (and with the marker,
        // so the harness stops it and everything it started).
        let again = Foundation.Process()
        again.executableURL = binDirectory.appendingPathComponent("daybreak")
        again.arguments = ["--user", "--confdir", d.jobs.path, "--logdir", d.logs.path, "--socket", d.socket]
        again.environment = ["PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": d.dir.url.path,
                             "XDG_RUNTIME_DIR": d.dir.path("run"), "DAYBREAK_TEST_ID": d.marker]
        again.standardOutput = FileHandle.nullDevice
        again.standardError = FileHandle.nullDevice
        try again.run()
        defer {
            again.terminate()
            _ = eventually(timeout: 15) { !again.isRunning }
        }
        let line = readAll(fd)
        #expect(line.hasPrefix("mode=systemd"), "\(line)\n\(bridgeLog(d))")
        #expect(status(d, "svc").contains("start/running"))
        // The new daemon took the first bridge back from the dead daemon's
        // cgroup (recovery, docs/running.md): it starts no second one.
        usleep(500_000)
        #expect(!bridgeLog(d).contains("another socket bridge serves \(d.socket)"), "\(bridgeLog(d))")
        #expect(isAlive(first))
    }
}

extension SocketBridgeTests {
    /// `daybreak` run through a link named daybreak-socket-bridge is the
    /// bridge (one executable for the daemon and its bridges).
    @Test func daybreakRunThroughALinkNamedDaybreakSocketBridgeIsTheBridge() throws {
        let dir = try TempDir()
        let link = dir.path("daybreak-socket-bridge")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: binDirectory.appendingPathComponent("daybreak").path)
        let r = try runProgram(link, ["--version"])
        #expect(r.stdout == "daybreak-socket-bridge (daybreak 0.1.0)\n")
        let h = try runProgram(link, ["--help"])
        #expect(h.stdout.contains("Usage: daybreak-socket-bridge [--socket PATH]"))
    }
}

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A real `daybreak` for one test: its own directory, socket and jobs.
///
/// Every job file written through `job(_:_:)` gets `env DAYBREAK_TEST_ID`,
/// so each process it starts carries this daemon's marker in its
/// environment. `stop()` (also run on deinit) sends SIGTERM, waits for the
/// daemon to stop its jobs and exit, SIGKILLs it if it does not, and then
/// kills by pid any process still carrying the marker: nothing a test
/// starts outlives it, pass or fail.
final class TestDaemon {
    let dir: TempDir
    let marker = "daybreak-test-\(UUID().uuidString)"
    let socket: String
    private(set) var process: Foundation.Process?
    private let logURL: URL
    private var stopped = false
    private let usesWrapper: Bool

    var jobs: URL { dir.url.appendingPathComponent("jobs") }
    var logs: URL { dir.url.appendingPathComponent("logs") }
    var out: URL { dir.url.appendingPathComponent("out") }

    /// Writes the jobs, then starts the daemon and waits for its socket.
    init(jobs initial: [String: String] = [:], arguments: [String] = [], user: Bool = true,
         wrapper: [String] = [], waitForSocket: Bool = true, daybreak: String? = nil,
         standardError: Pipe? = nil) throws {
        dir = try TempDir()
        usesWrapper = !wrapper.isEmpty
        socket = dir.path("run/control")
        logURL = dir.url.appendingPathComponent("daemon.log")
        for sub in ["jobs", "logs", "out", "run"] {
            try FileManager.default.createDirectory(at: dir.url.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        chmod(dir.path("run"), 0o700)
        for (name, text) in initial { try job(name, text) }
        let p = Foundation.Process()
        let daybreak = daybreak ?? binDirectory.appendingPathComponent("daybreak").path
        var args = (user ? ["--user"] : []) + ["--confdir", jobs.path, "--logdir", logs.path, "--socket", socket] + arguments
        if wrapper.isEmpty {
            p.executableURL = URL(fileURLWithPath: daybreak)
        } else {
            p.executableURL = URL(fileURLWithPath: wrapper[0])
            args = Array(wrapper.dropFirst()) + [daybreak] + args
        }
        p.arguments = args
        p.environment = ["PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": dir.url.path,
                         "XDG_RUNTIME_DIR": dir.path("run"), "DAYBREAK_TEST_ID": marker]
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        p.standardOutput = log
        // A test may give the daemon a standard error that nobody reads.
        p.standardError = standardError ?? log
        p.standardInput = FileHandle.nullDevice
        try p.run()
        process = p
        if waitForSocket {
            guard eventually(timeout: 10, { FileManager.default.fileExists(atPath: self.socket) && ((try? self.initctl("version"))?.status == 0) }) else {
                let text = daemonLog
                stop()
                throw HarnessError("daybreak did not come up:\n\(text)")
            }
        }
    }

    deinit { stop() }

    /// Writes (or replaces) a job file, tagged with the test marker.
    func job(_ name: String, _ text: String) throws {
        let url = jobs.appendingPathComponent(name + ".conf")
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try ("env DAYBREAK_TEST_ID\n" + text).write(to: url, atomically: true, encoding: .utf8)
    }

    func removeJob(_ name: String) throws {
        try FileManager.default.removeItem(at: jobs.appendingPathComponent(name + ".conf"))
    }

    /// Runs the real initctl against this daemon.
    func initctl(_ args: String..., asUser uid: String? = nil) throws -> RunResult {
        try initctl(args, asUser: uid)
    }

    func initctl(_ args: [String], asUser uid: String? = nil, timeout: Double = 60) throws -> RunResult {
        let tool = binDirectory.appendingPathComponent("initctl").path
        if let uid {
            return try runProgram("/usr/bin/setpriv", ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", tool, "--socket", socket] + args, timeout: timeout)
        }
        return try runProgram(tool, ["--socket", socket] + args, timeout: timeout)
    }

    /// What the daemon wrote to its standard error so far.
    var daemonLog: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// The contents of a file the jobs wrote under `out/`.
    func output(_ name: String) -> String {
        (try? String(contentsOf: out.appendingPathComponent(name), encoding: .utf8)) ?? ""
    }

    /// The pid of the daemon process (for PID 1 tests, the wrapper's).
    var pid: Int32 { process?.processIdentifier ?? 0 }

    /// The daemon's own pid: the wrapper's child when there is a wrapper.
    var daemonPid: Int32 {
        guard usesWrapper else { return pid }
        let path = "/proc/\(pid)/task/\(pid)/children"
        return (try? String(contentsOfFile: path, encoding: .utf8))?.split(separator: " ").first.flatMap { Int32($0) } ?? pid
    }

    /// Processes still carrying this daemon's marker.
    func markedProcesses() -> [Int32] {
        let needle = Array("DAYBREAK_TEST_ID=\(marker)".utf8)
        var found: [Int32] = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), pid != getpid() else { continue }
            guard let env = FileManager.default.contents(atPath: "/proc/\(entry)/environ") else { continue }
            let bytes = [UInt8](env)
            if bytes.split(separator: 0).contains(where: { Array($0) == needle }) {
                // A zombie has an empty environ, so only live processes match.
                found.append(pid)
            }
        }
        return found
    }

    /// Stops the daemon (SIGTERM, then SIGKILL after 15 s) and kills any process of its jobs left behind.
    func stop() {
        guard !stopped, let p = process else { return }
        stopped = true
        if p.isRunning {
            // The daemon takes SIGTERM through its signalfd whatever mask it
            // inherited; a wrapper (unshare) may have it blocked, so signal the daemon.
            kill(daemonPid, SIGTERM)
            if !eventually(timeout: 15, { !p.isRunning }) {
                kill(p.processIdentifier, SIGKILL)
                _ = eventually(timeout: 5, { !p.isRunning })
            }
        }
        for pid in markedProcesses() { kill(pid, SIGKILL) }
        leftCgroups = cgroupDirectories(daemonPid: daemonPid)
        removeCgroups(of: daemonPid, directories: leftCgroups)
    }

    /// The cgroup directories the daemon left behind when `stop()` ran
    /// (removed by then; a clean daemon leaves none).
    private(set) var leftCgroups: [String] = []

    /// A raw stream connection to the control socket (blocking), for tests
    /// that speak the protocol badly on purpose. The caller closes it.
    func rawConnection() -> Int32 {
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in socket.utf8.enumerated() { raw[i] = b } }
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        return rc == 0 ? fd : -1
    }

    /// Sends a signal to the daemon.
    func signal(_ sig: Int32) { kill(daemonPid, sig) }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// The cgroup directories a daemon made (`daybreak-PID` in any hierarchy).
func cgroupDirectories(daemonPid: Int32) -> [String] {
    guard FileManager.default.fileExists(atPath: "/sys/fs/cgroup") else { return [] }
    let r = try? runProgram("/usr/bin/find", ["/sys/fs/cgroup", "-maxdepth", "6", "-type", "d", "-name", "daybreak-\(daemonPid)"])
    return (r?.stdout ?? "").split(separator: "\n").map(String.init)
}

/// Removes what a daemon that did not exit cleanly left in the cgroup file
/// system: kills the processes of its groups and removes them, deepest first.
func removeCgroups(of daemonPid: Int32, directories: [String]? = nil) {
    for dir in directories ?? cgroupDirectories(daemonPid: daemonPid) {
        let r = try? runProgram("/usr/bin/find", [dir, "-depth", "-type", "d"])
        let groups = (r?.stdout ?? "").split(separator: "\n").map(String.init)
        for g in groups {
            let procs = (try? String(contentsOfFile: g + "/cgroup.procs", encoding: .utf8)) ?? ""
            for p in procs.split(separator: "\n") { if let pid = Int32(p) { kill(pid, SIGKILL) } }
        }
        for g in groups { _ = eventually(timeout: 2) { rmdir(g) == 0 || errno == ENOENT } }
    }
}

/// Polls `condition` every 20 ms until it holds or `timeout` seconds pass.
@discardableResult
func eventually(timeout: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

/// Set once a program `runProgram` started has ended, so its watchdog
/// never signals a pid that may have been reused.
private final class Ended: @unchecked Sendable {
    private let lock = NSLock()
    private var ended = false
    func mark() { lock.withLock { ended = true } }
    /// Runs `body` unless the program has ended.
    func ifRunning(_ body: () -> Void) { lock.withLock { if !ended { body() } } }
}

/// Runs any program to completion, capturing its output. A program still
/// running after `timeout` seconds is killed, so that a hung daemon fails
/// the test instead of hanging the run.
func runProgram(_ path: String, _ arguments: [String], environment: [String: String]? = nil, timeout: Double = 60) throws -> RunResult {
    let process = Foundation.Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let pid = process.processIdentifier
    let ended = Ended()
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
        ended.ifRunning { kill(pid, SIGKILL) }
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    ended.mark()
    return RunResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                     stderr: String(decoding: errData, as: UTF8.self))
}

/// Whether a pid names a live (non-zombie) process.
func isAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
    guard let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state != "Z" && state != "X"
}

/// The pid in an initctl status line (`..., process 1234`).
func pid(in line: String) -> Int32? {
    guard let r = line.range(of: "process ") else { return nil }
    return Int32(line[r.upperBound...].prefix(while: { $0.isNumber }))
}

let isRoot = getuid() == 0

/// True when this test process runs under AddressSanitizer (`swift test
/// --sanitize=address`, as `.ci/run` does), and so does the daemon built
/// beside it. ASan keeps freed memory in quarantine and maps shadow memory,
/// so a daemon's resident size says nothing about Daybreak's own bounds.
let underAddressSanitizer = dlsym(nil, "__asan_init") != nil

/// Whether a bound on a daemon's resident memory is checked: not under
/// AddressSanitizer, whose quarantine and shadow memory are counted in it
/// (the reason and the figure are printed instead).
func memoryBoundsApply(_ test: String, _ figure: String) -> Bool {
    guard underAddressSanitizer else { return true }
    print("\(test): memory bound not checked under AddressSanitizer (\(figure); ASan's quarantine and shadow memory are in it)")
    return false
}

import CSpawn
import Platform
import SystemPackage
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Test helpers for real processes. Every helper ends what it starts: a
/// child not yet reaped is killed and reaped, every descriptor is closed,
/// even when an expectation fails or an error is thrown. They wait for
/// their own pids only (never waitpid(-1)), since tests run in parallel in
/// one process.

/// A spawned child that is killed and reaped by `finish()` if the test has
/// not reaped it itself.
final class Child {
    let pid: pid_t
    private(set) var status: ChildStatus?

    init(_ pid: pid_t) { self.pid = pid }

    /// Blocks until the child exits; reaps it.
    func wait() throws -> ChildStatus {
        if let status { return status }
        var result = try Reaper.waitForExit(pid)
        // A traced child reports stops first; only an exit or kill ends it.
        while !result.isTerminal {
            kill(pid, SIGKILL)
            result = try Reaper.waitForExit(pid)
        }
        status = result
        return result
    }

    /// Records that the test reaped the child itself (with `Reaper.reap`).
    func reaped(_ status: ChildStatus) {
        self.status = status
    }

    /// Kills the child unless reaped, reaps it, and checks it is gone.
    func finish(sourceLocation: SourceLocation = #_sourceLocation) {
        if status == nil {
            kill(pid, SIGKILL)
            _ = try? wait()
        }
        expectNoLongerChild(pid, sourceLocation: sourceLocation)
    }
}

/// Checks `pid` is not a child (zombie or not) of this process any more.
func expectNoLongerChild(_ pid: pid_t, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let stat = try? FileSystem.readFile("/proc/\(pid)/stat") else { return }  // gone
    // Fields after the last ')': state ppid pgrp session ...
    let text = String(decoding: stat, as: UTF8.self)
    guard let close = text.lastIndex(of: ")") else { return }
    let fields = text[text.index(after: close)...].split(separator: " ")
    #expect(fields.count < 2 || pid_t(fields[1]) != getpid(), "pid \(pid) is still our child", sourceLocation: sourceLocation)
}

/// A close-on-exec pipe, closed by `close()` (each end at most once).
final class Pipe {
    private(set) var readEnd: Int32
    private(set) var writeEnd: Int32

    init() throws {
        var fds: [Int32] = [-1, -1]
        let rc = fds.withUnsafeMutableBufferPointer { cspawn_cloexec_pipe($0.baseAddress!) }
        if rc != 0 { throw Errno(rawValue: errno) }
        readEnd = fds[0]
        writeEnd = fds[1]
    }

    func closeWrite() {
        if writeEnd >= 0 { Glibc.close(writeEnd) }
        writeEnd = -1
    }

    func close() {
        closeWrite()
        if readEnd >= 0 { Glibc.close(readEnd) }
        readEnd = -1
    }
}

/// Reads `fd` until end-of-file (or EIO, a pty's end) or `seconds` pass.
func readAll(_ fd: Int32, seconds: Int = 10) -> String {
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    let deadline = monotonicMilliseconds() + Int64(seconds) * 1000
    while true {
        let left = deadline - monotonicMilliseconds()
        if left <= 0 { break }
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&pfd, 1, Int32(left))
        if ready < 0 && errno == EINTR { continue }
        if ready <= 0 { break }
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        out.append(contentsOf: buffer[0..<n])
    }
    return String(decoding: out, as: UTF8.self)
}


/// Runs `request` with its standard output and error on a pipe; returns how
/// it ended and what it wrote.
func run(_ request: SpawnRequest) throws -> (status: ChildStatus, output: String) {
    let pipe = try Pipe()
    defer { pipe.close() }
    var request = request
    request.console = .log(FileDescriptor(rawValue: pipe.writeEnd))
    let child = Child(try Spawner.spawn(request))
    defer { child.finish() }
    pipe.closeWrite()
    let output = readAll(pipe.readEnd)
    return (try child.wait(), output)
}

/// Runs a program the test has just written. The tests run in parallel
/// threads of one process, so another test's fork can carry this file's
/// write descriptor for a moment after it was closed here, until that child
/// execs (or, a pid namespace's relay, closes it): an exec in that window
/// fails with ETXTBSY ("Text file busy"). Tries again, for up to two seconds.
func runJustWritten(_ request: SpawnRequest) throws -> (status: ChildStatus, output: String) {
    for _ in 0..<100 {
        do {
            return try run(request)
        } catch let error as SpawnError where error.errno == Errno(rawValue: ETXTBSY) {
            usleep(20_000)
        }
    }
    return try run(request)
}

/// Whether the tests run as root (setuid, namespaces and cgroups need it).
let isRoot = geteuid() == 0

/// The environment tests give their children.
let testEnvironment = ["PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"]

/// `/bin/sh -c SCRIPT` as a request.
func shell(_ script: String, environment: [String] = testEnvironment) -> SpawnRequest {
    SpawnRequest(arguments: ["/bin/sh", "-c", script], environment: environment)
}

/// A fresh temporary directory, removed (with its files) by `remove()`.
final class TemporaryDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/daybreak-platform-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Errno(rawValue: errno) }
        path = String(decoding: UnsafeRawBufferPointer(start: made, count: strlen(made)), as: UTF8.self)
    }

    func remove() {
        if let names = try? FileSystem.walk(path) {
            for name in names { unlink(path + "/" + name) }
        }
        rmdir(path)
    }
}

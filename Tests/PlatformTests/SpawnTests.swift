import Platform
import SystemPackage
import Testing
#if canImport(Glibc)
import Glibc
#endif

// Real processes: spawn, reap, and check what the child saw.

@Test func trueExitsZeroAndIsReapedWithoutBlocking() throws {
    let child = Child(try Spawner.spawn(SpawnRequest(arguments: ["/bin/true"])))
    defer { child.finish() }
    // Reaper.reap never blocks: poll it until the child has exited.
    let deadline = monotonicMilliseconds() + 10_000
    var reaped: ReapedChild?
    while reaped == nil && monotonicMilliseconds() < deadline {
        reaped = try Reaper.reap(child.pid)
        if reaped == nil { usleep(1000) }
    }
    #expect(reaped == ReapedChild(pid: child.pid, status: .exited(0)))
    if let reaped { child.reaped(reaped.status) }
}

@Test func exitStatusIsReported() throws {
    let (status, _) = try run(shell("exit 3"))
    #expect(status == .exited(3))
}

@Test func processKilledBySigtermReportsTheSignal() throws {
    let child = Child(try Spawner.spawn(SpawnRequest(arguments: ["/bin/sleep", "30"])))
    defer { child.finish() }
    #expect(try Reaper.reap(child.pid) == nil)  // still running: no block, no status
    kill(child.pid, SIGTERM)
    #expect(try child.wait() == .signaled(SIGTERM, coreDumped: false))
}

@Test func environmentIsExactlyTheRequested() throws {
    let (status, output) = try run(shell(#"printf '%s,%s' "$FOO" "${HOME-unset}""#, environment: testEnvironment + ["FOO=bar baz"]))
    #expect(status == .exited(0))
    #expect(output == "bar baz,unset")
}

@Test func chdirSetsTheWorkingDirectory() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    var request = SpawnRequest(arguments: ["/bin/pwd"], environment: testEnvironment)
    request.chdir = dir.path
    let (status, output) = try run(request)
    #expect(status == .exited(0))
    #expect(output == dir.path + "\n")
}

@Test func umaskIsApplied() throws {
    var request = shell("umask")
    request.umask = 0o027
    let (status, output) = try run(request)
    #expect(status == .exited(0))
    #expect(output == "0027\n")
}

@Test func niceIsApplied() throws {
    var request = SpawnRequest(arguments: ["/usr/bin/nice"], environment: testEnvironment)
    request.nice = 7
    let (status, output) = try run(request)
    #expect(status == .exited(0))
    #expect(output == "7\n")
}

@Test func resourceLimitIsApplied() throws {
    var request = shell("ulimit -n; grep 'Max open files' /proc/$$/limits")
    request.limits = [.init(.nofile, soft: 123, hard: 456)]
    let (status, output) = try run(request)
    #expect(status == .exited(0))
    let lines = output.split(separator: "\n")
    #expect(lines.first == "123")
    #expect(lines.last?.split(separator: " ", omittingEmptySubsequences: true).suffix(3) == ["123", "456", "files"])
}

@Test func oomScoreAdjustmentIsApplied() throws {
    var request = SpawnRequest(arguments: ["/bin/cat", "/proc/self/oom_score_adj"], environment: testEnvironment)
    request.oomScoreAdj = 500
    let (status, output) = try run(request)
    #expect(status == .exited(0))
    #expect(output == "500\n")
}

// The kernel gives an `oom_score_adj` written by a process to every process
// sharing its memory, except by a vfork child: a job spawned in the
// daemon's memory (CLONE_VM) must be one (CLONE_VFORK), or it sets the
// daemon's own.
@Test func oomScoreAdjustmentLeavesTheSpawnerAlone() throws {
    func own() throws -> String { String(decoding: try FileSystem.readFile("/proc/self/oom_score_adj"), as: UTF8.self) }
    let before = try own()
    var request = SpawnRequest(arguments: ["/bin/true"], environment: testEnvironment)
    request.oomScoreAdj = before == "321\n" ? 322 : 321
    let (status, _) = try run(request)
    #expect(status == .exited(0))
    #expect(try own() == before)
}

@Test func childStartsWithNoBlockedOrIgnoredSignals() throws {
    // The spawning thread blocks a signal, as the daemon blocks the ones its
    // signalfd reads; the child must not inherit that.
    let before = try SignalMask.block(SignalSet([SIGUSR1, SIGCHLD]))
    defer { _ = try? SignalMask.set(before) }
    let (status, output) = try run(SpawnRequest(arguments: ["/bin/grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"]))
    #expect(status == .exited(0))
    #expect(output == "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n")
}

@Test func childLeadsANewSession() throws {
    let pipe = try Pipe()
    defer { pipe.close() }
    var request = shell("cat /proc/$$/stat")
    request.console = .log(FileDescriptor(rawValue: pipe.writeEnd))
    let child = Child(try Spawner.spawn(request))
    defer { child.finish() }
    pipe.closeWrite()
    let stat = readAll(pipe.readEnd)
    #expect(try child.wait() == .exited(0))
    // After "(comm)": state ppid pgrp session
    let fields = stat[stat.index(after: try #require(stat.lastIndex(of: ")")))...].split(separator: " ")
    #expect(fields.count > 3)
    #expect(fields.count > 3 && pid_t(fields[2]) == child.pid, "process group")
    #expect(fields.count > 3 && pid_t(fields[3]) == child.pid, "session")
}

@Test func consoleNonePutsStandardDescriptorsOnDevNull() throws {
    // The answer comes back on descriptor 5, a pipe handed over at a fixed number.
    let pipe = try Pipe()
    defer { pipe.close() }
    var request = shell("readlink /proc/$$/fd/0 /proc/$$/fd/1 /proc/$$/fd/2 | cat >&5")
    request.console = .none
    request.fileDescriptors = [.init(from: FileDescriptor(rawValue: pipe.writeEnd), to: FileDescriptor(rawValue: 5))]
    let child = Child(try Spawner.spawn(request))
    defer { child.finish() }
    pipe.closeWrite()
    let output = readAll(pipe.readEnd)
    #expect(try child.wait() == .exited(0))
    #expect(output == "/dev/null\n/dev/null\n/dev/null\n")
}

@Test func descriptorsAreHandedOverEvenWhenTheirNumbersCross() throws {
    // a's write end goes to b's number and b's to a's: a naive dup2 in
    // order would overwrite one before it is copied.
    let a = try Pipe()
    defer { a.close() }
    let b = try Pipe()
    defer { b.close() }
    // dash takes only one-digit numbers after >&, so write through /dev/fd.
    var request = shell("echo to-a > /dev/fd/\(b.writeEnd); echo to-b > /dev/fd/\(a.writeEnd)")
    request.fileDescriptors = [
        .init(from: FileDescriptor(rawValue: a.writeEnd), to: FileDescriptor(rawValue: b.writeEnd)),
        .init(from: FileDescriptor(rawValue: b.writeEnd), to: FileDescriptor(rawValue: a.writeEnd)),
    ]
    let child = Child(try Spawner.spawn(request))
    defer { child.finish() }
    a.closeWrite()
    b.closeWrite()
    #expect(readAll(a.readEnd) == "to-a\n")
    #expect(readAll(b.readEnd) == "to-b\n")
    #expect(try child.wait() == .exited(0))
}

@Test func consoleLogPtyCapturesOutputAsATerminal() throws {
    let pty = try PseudoTerminal.open()
    defer { pty.closeMaster() }
    var slaveOpen = true
    defer { if slaveOpen { pty.closeSlave() } }
    var request = shell("echo hello; test -t 1 && echo tty; echo err >&2")
    request.console = .log(pty.slave)
    let child = Child(try Spawner.spawn(request))
    defer { child.finish() }
    pty.closeSlave()
    slaveOpen = false
    let output = readAll(pty.master.rawValue)
    #expect(try child.wait() == .exited(0))
    // Raw mode: newlines arrive as written, not as "\r\n".
    #expect(output == "hello\ntty\nerr\n")
}

@Test func pseudoTerminalEndsAreCloseOnExecAndMasterIsRaw() throws {
    let pty = try PseudoTerminal.open()
    defer { pty.closeMaster(); pty.closeSlave() }
    #expect(fcntl(pty.master.rawValue, F_GETFD) & FD_CLOEXEC != 0)
    #expect(fcntl(pty.slave.rawValue, F_GETFD) & FD_CLOEXEC != 0)
    #expect(pty.slavePath.hasPrefix("/dev/pts/"))
    var attributes = termios()
    #expect(tcgetattr(pty.master.rawValue, &attributes) == 0)
    #expect(attributes.c_lflag & tcflag_t(ECHO | ICANON) == 0)
    #expect(attributes.c_oflag & tcflag_t(OPOST) == 0)
}

@Test func pathIsSearchedForABareCommand() throws {
    let (status, output) = try run(SpawnRequest(arguments: commandArguments(for: "echo plain  words"), environment: testEnvironment))
    #expect(status == .exited(0))
    #expect(output == "plain words\n")
}

@Test func commandWithShellCharactersRunsThroughTheShell() throws {
    let (status, output) = try run(SpawnRequest(arguments: commandArguments(for: "echo $FOO > /dev/stdout"), environment: testEnvironment + ["FOO=expanded"]))
    #expect(status == .exited(0))
    #expect(output == "expanded\n")
}

@Test func scriptStopsAtTheFirstFailingCommand() throws {
    let (status, output) = try run(SpawnRequest(arguments: scriptArguments(for: "echo one\nfalse\necho two\n"), environment: testEnvironment))
    #expect(status == .exited(1))
    #expect(output == "one\n")
}

// MARK: Failures: a clear message, nothing left running

@Test func unknownUserFailsBeforeForkingWithAClearMessage() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    var request = shell("touch \(dir.path)/ran")
    request.user = "nobodyx"
    #expect(throws: SpawnError(step: .setuid, subject: "to user 'nobodyx'", reason: "no such user")) {
        _ = try Spawner.spawn(request)
    }
    do {
        _ = try Spawner.spawn(request)
    } catch {
        #expect(error.description == "setuid to user 'nobodyx': no such user")
    }
    #expect(access(dir.path + "/ran", F_OK) != 0, "nothing ran")
}

@Test func unknownGroupFailsWithAClearMessage() throws {
    var request = SpawnRequest(arguments: ["/bin/true"])
    request.group = "nogroupx"
    do {
        let pid = try Spawner.spawn(request)
        Child(pid).finish()
        Issue.record("spawned despite an unknown group")
    } catch {
        #expect(error.description == "setgid to group 'nogroupx': no such group")
    }
}

@Test func missingWorkingDirectoryReportsTheChdirStep() throws {
    var request = SpawnRequest(arguments: ["/bin/true"])
    request.chdir = "/nonexistent"
    do {
        let pid = try Spawner.spawn(request)
        Child(pid).finish()
        Issue.record("spawned despite a missing chdir")
    } catch {
        #expect(error.step == .chdir)
        #expect(error.errno == .noSuchFileOrDirectory)
        #expect(error.description == "chdir /nonexistent: No such file or directory")
    }
}

@Test func missingBinaryReportsTheExecStep() throws {
    do {
        let pid = try Spawner.spawn(SpawnRequest(arguments: ["/bin/nope"]))
        Child(pid).finish()
        Issue.record("spawned a missing binary")
    } catch {
        #expect(error.step == .exec)
        #expect(error.errno == .noSuchFileOrDirectory)
        #expect(error.description == "exec /bin/nope: No such file or directory")
    }
}

@Test func commandMissingFromPathIsNamedInTheMessage() throws {
    do {
        let pid = try Spawner.spawn(SpawnRequest(arguments: ["daybreak-no-such-command"], environment: testEnvironment))
        Child(pid).finish()
        Issue.record("spawned a missing command")
    } catch {
        #expect(error.description == "exec daybreak-no-such-command: No such file or directory")
    }
}

@Test func nonExecutableFileReportsPermissionDenied() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.path + "/plain"
    let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
    #expect(fd >= 0)
    close(fd)
    do {
        let pid = try Spawner.spawn(SpawnRequest(arguments: [path]))
        Child(pid).finish()
        Issue.record("exec'd a plain file")
    } catch {
        #expect(error.step == .exec)
        #expect(error.errno == .permissionDenied)
        #expect(error.description == "exec \(path): Permission denied")
    }
}

@Test func executableWithoutInterpreterLineRunsThroughTheShell() throws {
    // As execvp(3), which Upstart used: ENOEXEC means "run it with /bin/sh".
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.path + "/script"
    let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o755)
    #expect(fd >= 0)
    let text = "echo from script \"$1\"\n"
    _ = text.withCString { write(fd, $0, strlen($0)) }
    close(fd)
    let (status, output) = try runJustWritten(SpawnRequest(arguments: [path, "arg one"], environment: testEnvironment))
    #expect(status == .exited(0))
    #expect(output == "from script arg one\n")
}

@Test func invalidResourceLimitNamesTheResource() throws {
    var request = SpawnRequest(arguments: ["/bin/true"])
    request.limits = [.init(.core, soft: 0, hard: 0), .init(.nofile, soft: 10, hard: 5)]
    do {
        let pid = try Spawner.spawn(request)
        Child(pid).finish()
        Issue.record("spawned with soft limit above hard")
    } catch {
        #expect(error.step == .rlimit)
        #expect(error.description == "setrlimit nofile: Invalid argument")
    }
}

@Test func anEmptyCommandIsRefused() {
    #expect(throws: SpawnError(step: .exec, reason: "empty command")) {
        _ = try Spawner.spawn(SpawnRequest(arguments: []))
    }
}

// MARK: Root only

@Test(.enabled(if: isRoot, "needs root to change user"))
func setuidRunsAsNobodyWithItsGroups() throws {
    var request = shell("id -u; id -g; id -G")
    request.user = "nobody"
    let (status, output) = try run(request)
    #expect(status == .exited(0))
    #expect(output == "65534\n65534\n65534\n")
}

@Test func traceMeStopsTheChildAtExec() throws {
    var request = SpawnRequest(arguments: ["/bin/true"])
    request.traceMe = true
    let child = Child(try Spawner.spawn(request))
    defer { child.finish() }
    let status = try Reaper.waitForExit(child.pid)
    #expect(status == .stopped(SIGTRAP, ptraceEvent: 0))
    kill(child.pid, SIGKILL)
    #expect(try child.wait() == .signaled(SIGKILL, coreDumped: false))
}

@Test(.enabled(if: isRoot, "needs root for new namespaces"))
func pidNamespaceRunsTheProcessAsPidTwoUnderAnInit() throws {
    var request = shell("echo $$; hostname; ls /proc")
    request.namespaces = [.pid, .uts]
    request.hostname = "daybreak-test"
    let (status, output) = try run(request)
    #expect(status == .exited(0))
    // The init is 1, the shell 2, then ls: all a /proc of the namespace's own shows.
    let lines = output.split(separator: "\n")
    #expect(lines.prefix(2) == ["2", "daybreak-test"])
    let pids = lines.dropFirst(2).filter { Int($0) != nil }
    #expect(pids.count == 3 && pids.prefix(2) == ["1", "2"], "\(output)")
}

@Test(.enabled(if: isRoot, "needs root for new namespaces"))
func pidNamespaceRelayEndsAsTheProcessDid() throws {
    var request = shell("kill -USR1 $$")
    request.namespaces = [.pid]
    #expect(try run(request).0 == .signaled(SIGUSR1, coreDumped: false))
    request = shell("exit 7")
    request.namespaces = [.pid]
    #expect(try run(request).0 == .exited(7))
}

@Test(.enabled(if: isRoot, "needs root for new namespaces"))
func eachNamespaceKindIsNamedWhenRefused() throws {
    var request = SpawnRequest(arguments: ["/bin/true"])
    request.joinNetwork = "/nonexistent/netns"
    do {
        Child(try Spawner.spawn(request)).finish()
        Issue.record("spawned into a missing network namespace")
    } catch {
        #expect(error.description == "setns net namespace /nonexistent/netns: No such file or directory")
    }
}

@Test(.enabled(if: isRoot && access("/sys/fs/cgroup/pids/cgroup.procs", W_OK) == 0,
               "needs root and a cgroup v1 pids hierarchy at /sys/fs/cgroup/pids"))
func cgroupIsEnteredBeforeExec() throws {
    let hierarchy = "/sys/fs/cgroup/pids"
    let group = "\(hierarchy)/daybreak-test-\(getpid())-\(monotonicMilliseconds())"
    #expect(mkdir(group, 0o755) == 0)
    defer { rmdir(group) }
    var request = SpawnRequest(arguments: ["/bin/cat", "/proc/self/cgroup"], environment: testEnvironment)
    request.cgroupProcsPath = group + "/cgroup.procs"
    let (status, output) = try run(request)
    #expect(status == .exited(0))
    #expect(output.contains(":pids:/" + group.split(separator: "/").last! + "\n"))
}

@Test func missingCgroupReportsTheCgroupStep() throws {
    var request = SpawnRequest(arguments: ["/bin/true"])
    request.cgroupProcsPath = "/nonexistent/cgroup.procs"
    do {
        let pid = try Spawner.spawn(request)
        Child(pid).finish()
        Issue.record("spawned despite a missing cgroup")
    } catch {
        #expect(error.description == "cgroup /nonexistent/cgroup.procs: No such file or directory")
    }
}

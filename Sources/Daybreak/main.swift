import Control
import EventBridge
import Engine
import FileBridge
import NetBridge
import Platform
import SocketBridge
import Supervisor
import TimeBridge

/// `daybreak`: the init daemon. Flags follow Upstart's init(8).
struct DaybreakCommand {
    var flags: Flags

    func run() -> Never {
        let user = flags.user, confdir = flags.confdir, logdir = flags.logdir, noLog = flags.noLog
        let socket = flags.socket, startupEvent = flags.startupEvent, noStartupEvent = flags.noStartupEvent
        let verbose = flags.verbose, debug = flags.debug, noInotify = flags.noInotify, noCgroups = flags.noCgroups
        let env = Environment.current
        let readStarted = monotonicNanoseconds()
        let restoring = flags.stateFd.flatMap(readStateDocument)
        let readNanoseconds = monotonicNanoseconds() - readStarted
        let home = env["HOME"] ?? "/"
        var options = DaemonOptions()
        options.isPID1 = Identity.processID == 1
        options.userMode = user
        if user {
            let config = env["XDG_CONFIG_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? home + "/.config"
            let cache = env["XDG_CACHE_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? home + "/.cache"
            // Upstart's user-session order (init(5)): $XDG_CONFIG_HOME/upstart,
            // the deprecated ~/.init, then each $XDG_CONFIG_DIRS/upstart.
            let xdgDirs = (env["XDG_CONFIG_DIRS"].flatMap { $0.isEmpty ? nil : $0 } ?? "/etc/xdg")
                .split(separator: ":").map(String.init).filter { $0.hasPrefix("/") }
            options.confDirectories = confdir.isEmpty ? [config + "/upstart", home + "/.init"] + xdgDirs.map { $0 + "/upstart" } : confdir
            options.logDirectory = noLog ? nil : (logdir ?? cache + "/upstart")
            options.socketPath = socket ?? SocketPath.user(environment: env, uid: Identity.effectiveUserID)
        } else {
            options.confDirectories = confdir.isEmpty ? ["/etc/init"] : confdir
            options.logDirectory = noLog ? nil : (logdir ?? "/var/log/upstart")
            options.socketPath = socket ?? SocketPath.system
        }
        if let size = flags.logSize, !options.setLogSize(size) {
            fail("--log-size: expected a size from 4K (such as 10M, 512K, 1G or unlimited), got '\(size)'")
        }
        if let keep = flags.logKeep {
            guard let n = Int(keep), n >= 0, n <= 1000 else { fail("--log-keep: expected a number from 0 to 1000, got '\(keep)'") }
            options.logKeep = n
        }
        options.logTimestamps = flags.logTimestamps
        options.logToStandardOutput = flags.logToStdout
        options.prefixOutput = flags.prefixOutput
        options.exitWith = flags.exitWith
        // As Upstart's init: PID 1 of the machine logs to the kernel log.
        // PID 1 of a container (another pid namespace) does not: its log
        // belongs on the container's standard error, not the host's kernel.
        options.kernelLog = flags.kmsg ?? (options.isPID1 && !user && ReexecSupport.inInitialPidNamespace ? "/dev/kmsg" : nil)
        options.bootHistory = flags.bootHistory
        options.startupEvent = noStartupEvent ? nil : (startupEvent ?? "startup")
        options.verbose = verbose || debug
        options.debug = debug
        options.useInotify = !noInotify
        options.useCgroups = !noCgroups
        options.executable = ReexecSupport.resolveExecutable(CommandLine.arguments.first, path: env["PATH"])
        options.arguments = argumentsWithoutStateFD(Array(CommandLine.arguments.dropFirst()))
        options.restoring = restoring
        options.restoringReadNanoseconds = readNanoseconds
        let daemon: Daemon
        do {
            daemon = try Daemon(options: options)
        } catch {
            fail(error.description)
        }
        if restoring != nil { finish(daemon) }
        let mode = user ? "--user " : ""
        let logs = options.logToStandardOutput ? "job output goes to standard output" + (options.prefixOutput ? ", each line after its job's name" : "")
            : options.logDirectory.map { "job output goes to \($0)/JOB.log" } ?? "job output is discarded (--no-log)"
        FileSystem.writeStandardError("""
            daybreak: supervising jobs from \(options.confDirectories.joined(separator: ", ")); control socket \(options.socketPath)
            daybreak: \(logs)
            daybreak: in another shell try: \(initctlCommand()) \(mode)--socket \(options.socketPath) list   (also: start JOB, status JOB, stop JOB, emit EVENT, monitor)

            """)
        finish(daemon)
    }
}

/// Runs the daemon to its end; then, when `initctl reboot|poweroff|halt`
/// asked, reboot(2) (docs/running.md), else exit with the daemon's status.
func finish(_ daemon: Daemon) -> Never {
    let status = daemon.run()
    if let action = daemon.powerAction {
        let error = Process.powerDown(action)
        FileSystem.writeStandardError("daybreak: \(action.rawValue): reboot(2) failed: \(error)\n")
        Process.exit(1)
    }
    Process.exit(status)
}

/// How to run initctl from where the user is: the one built or installed
/// beside this daybreak, by its full path; in a checkout where it is not
/// built yet (`swift run daybreak` builds daybreak alone), `swift run
/// initctl`; otherwise plain `initctl`, from PATH.
func initctlCommand() -> String {
    guard let exe = FileSystem.resolvedLink("/proc/self/exe"), let slash = exe.lastIndex(of: "/") else { return "initctl" }
    let dir = String(exe[..<slash])
    if FileSystem.kind(of: dir + "/initctl") == .regular { return dir + "/initctl" }
    if dir.contains("/.build/") { return "swift run initctl" }
    return "initctl"
}

/// Reads and decodes the state document of a re-exec (`--state-fd N`).
/// A document that cannot be read, or is refused (another version, not
/// valid), is said on the log and the daemon starts afresh: the job files
/// are read again and running processes are left as they are (they are
/// still this pid's children, reaped when they end), never a crash.
func readStateDocument(_ text: String) -> ReexecDocument? {
    guard let fd = Int32(text), fd >= 0 else { fail("--state-fd needs a descriptor number, not '\(text)'") }
    guard let bytes = ReexecSupport.readState(fd) else {
        FileSystem.writeStandardError("daybreak: cannot read the state document on descriptor \(fd); starting afresh: the job files are read again, running processes are left as they are\n")
        return nil
    }
    switch ReexecDocument.decode(bytes) {
    case .success(let document):
        return document
    case .failure(let error):
        FileSystem.writeStandardError("daybreak: \(error); starting afresh: the job files are read again, running processes are left as they are\n")
        return nil
    }
}

/// The daemon's arguments without `--state-fd N` (for the next re-exec).
func argumentsWithoutStateFD(_ arguments: [String]) -> [String] {
    var out: [String] = []
    var skip = false
    for a in arguments {
        if skip { skip = false; continue }
        if a == "--state-fd" { skip = true; continue }
        if a.hasPrefix("--state-fd=") { continue }
        out.append(a)
    }
    return out
}

func fail(_ message: String) -> Never {
    FileSystem.writeStandardError("daybreak: \(message)\n")
    Process.exit(1)
}

// Called as daybreak-time-bridge (a link to this executable), it is the
// time bridge: one static program whose code pages the daemon and the
// bridge share (docs/PERFORMANCE.md, "The time bridge").
if TimeBridgeMain.isInvoked(as: CommandLine.arguments.first) {
    TimeBridgeMain.run(Array(CommandLine.arguments.dropFirst()))
}
// The same for daybreak-file-bridge (docs/file-bridge.md).
if FileBridgeMain.isInvoked(as: CommandLine.arguments.first) {
    FileBridgeMain.run(Array(CommandLine.arguments.dropFirst()))
}
// Called as daybreak-socket-bridge, it is the socket bridge (docs/socket-bridge.md).
if SocketBridgeMain.isInvoked(as: CommandLine.arguments.first) {
    SocketBridgeMain.run(Array(CommandLine.arguments.dropFirst()))
}
// Called as daybreak-net-bridge, it is the net bridge (docs/net-and-power-events.md).
if NetBridgeMain.isInvoked(as: CommandLine.arguments.first) {
    NetBridgeMain.run(Array(CommandLine.arguments.dropFirst()))
}
// Called as daybreak-event-bridge, it is the :sys: event bridge (the same page).
if EventBridgeMain.isInvoked(as: CommandLine.arguments.first) {
    EventBridgeMain.run(Array(CommandLine.arguments.dropFirst()))
}

switch Flags.parse(Array(CommandLine.arguments.dropFirst())) {
case .failure(let error):
    FileSystem.writeStandardError("daybreak: \(error)\n\(Flags.usage)\n")
    Process.exit(64)
case .success(let flags):
    if flags.help {
        FileSystem.writeStandardOutput(Flags.usage + "\n")
        Process.exit(0)
    }
    if flags.version {
        // The same words `initctl version` gets from a running daemon.
        FileSystem.writeStandardOutput("init (daybreak 0.1.0)\n")
        Process.exit(0)
    }
    DaybreakCommand(flags: flags).run()
}

import Control
import Platform
import Supervisor

/// `daybreak`: the init daemon. Flags follow Upstart's init(8).
struct DaybreakCommand {
    var flags: Flags

    func run() -> Never {
        let user = flags.user, confdir = flags.confdir, logdir = flags.logdir, noLog = flags.noLog
        let socket = flags.socket, startupEvent = flags.startupEvent, noStartupEvent = flags.noStartupEvent
        let verbose = flags.verbose, debug = flags.debug, noInotify = flags.noInotify, noCgroups = flags.noCgroups
        if flags.stateFd != nil {
            fail("--state-fd (stateful re-exec) is not supported by this build")
        }
        let env = Environment.current
        let home = env["HOME"] ?? "/"
        var options = DaemonOptions()
        options.isPID1 = Identity.processID == 1
        options.userMode = user
        if user {
            let config = env["XDG_CONFIG_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? home + "/.config"
            let cache = env["XDG_CACHE_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? home + "/.cache"
            options.confDirectories = confdir.isEmpty ? [config + "/upstart", home + "/.init"] : confdir
            options.logDirectory = noLog ? nil : (logdir ?? cache + "/upstart")
            options.socketPath = socket ?? SocketPath.user(environment: env, uid: Identity.effectiveUserID)
        } else {
            options.confDirectories = confdir.isEmpty ? ["/etc/init"] : confdir
            options.logDirectory = noLog ? nil : (logdir ?? "/var/log/upstart")
            options.socketPath = socket ?? SocketPath.system
        }
        options.startupEvent = noStartupEvent ? nil : (startupEvent ?? "startup")
        options.verbose = verbose || debug
        options.debug = debug
        options.useInotify = !noInotify
        options.useCgroups = !noCgroups
        let daemon: Daemon
        do {
            daemon = try Daemon(options: options)
        } catch {
            fail(error.description)
        }
        let mode = user ? "--user " : ""
        FileSystem.writeStandardError("""
            daybreak: supervising jobs from \(options.confDirectories.joined(separator: ", ")); control socket \(options.socketPath)
            daybreak: in another shell try: initctl \(mode)--socket \(options.socketPath) list   (also: start JOB, status JOB, stop JOB, emit EVENT, monitor)

            """)
        Process.exit(daemon.run())
    }
}

func fail(_ message: String) -> Never {
    FileSystem.writeStandardError("daybreak: \(message)\n")
    Process.exit(1)
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
    DaybreakCommand(flags: flags).run()
}

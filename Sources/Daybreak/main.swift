import ArgumentParser
import Control
import Platform
import Supervisor

/// `daybreak`: the init daemon. Flags follow Upstart's init(8).
struct DaybreakCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daybreak",
        abstract: "An event-driven init daemon and service supervisor that runs Upstart job files.",
        discussion: "See docs/running.md. As PID 1 it runs the system; with --user, a user session.")

    @Flag(help: "User (session) mode: jobs from $XDG_CONFIG_HOME/upstart and ~/.init, a private control socket.")
    var user = false
    @Option(help: ArgumentHelp("A job directory; repeat for several. Replaces the default directories.", valueName: "DIR"))
    var confdir: [String] = []
    @Option(help: ArgumentHelp("Where console log output goes.", valueName: "DIR"))
    var logdir: String?
    @Flag(help: "Discard job output instead of logging it (console log becomes console none).")
    var noLog = false
    @Option(help: ArgumentHelp("The event emitted once the jobs are loaded (default: startup).", valueName: "NAME"))
    var startupEvent: String?
    @Flag(help: "Emit no startup event.")
    var noStartupEvent = false
    @Flag(help: "Log daemon internals too.")
    var debug = false
    @Flag(help: "Log every event and state change.")
    var verbose = false
    @Flag(help: "Do not watch the job directories; reload them with 'initctl reload-configuration' or SIGHUP.")
    var noInotify = false
    @Option(help: ArgumentHelp("The control socket's path.", valueName: "PATH"))
    var socket: String?
    @Flag(help: "Do not put job instances in cgroups (when another manager owns them): stopping a job reaches its main process's process group only, as in Upstart, and the cgroup stanza is ignored.")
    var noCgroups = false
    @Option(help: ArgumentHelp("Stateful re-exec: not supported by this build.", valueName: "FD"))
    var stateFd: Int32?

    mutating func run() throws {
        if stateFd != nil {
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

DaybreakCommand.main()

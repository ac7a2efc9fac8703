/// daybreak's command line, parsed by hand.
///
/// The daemon does not use swift-argument-parser: that library links
/// FoundationEssentials into the binary, which costs the daemon about 4 MB
/// of resident memory, half its budget (docs/PERFORMANCE.md). A dozen flags
/// do not need it. `initctl` and `init-checkconf` still use it.
struct Flags {
    var user = false
    var confdir: [String] = []
    var logdir: String?
    var noLog = false
    var startupEvent: String?
    var noStartupEvent = false
    var debug = false
    var verbose = false
    var noInotify = false
    var noCgroups = false
    var socket: String?
    var stateFd: String?
    var logSize: String?
    var logKeep: String?
    var logTimestamps = false
    var logToStdout = false
    var prefixOutput = false
    var exitWith: String?
    var kmsg: String?
    var bootHistory: String?
    var help = false
    var version = false

    static let usage = """
        Usage: daybreak [OPTION]...
        An event-driven init daemon and service supervisor that runs Upstart job files.

          --user                 user (session) mode: jobs from $XDG_CONFIG_HOME/upstart, ~/.init and
                                 each $XDG_CONFIG_DIRS/upstart, a private control socket
          --confdir DIR          a job directory; repeat for several; replaces the defaults
          --logdir DIR           where console log output goes
          --no-log               discard job output (console log becomes console none)
          --log-size SIZE        cap each job's log file (10M, 512K; default unlimited); a job's
                                 'log size' wins; at the cap the file is rotated to FILE.1...
          --log-keep N           rotated log files kept beside each log (default 5)
          --log-timestamps       prefix the daemon's log lines, and console output jobs' lines, with the time (UTC)
          --log-to-stdout        'console log' output goes to daybreak's standard output, line by
                                 line, instead of LOGDIR/JOB.log (for containers)
          --prefix-output        with --log-to-stdout (implied): each line begins 'JOB: '
          --exit-with JOB        when JOB stops, stop every job and exit with JOB's status
                                 (its exit code, or 128 + its signal); for containers
          --kmsg DEVICE          write the daemon's log to the kernel log DEVICE with a priority,
                                 '<5>daybreak: ...' (default as PID 1 of the machine: /dev/kmsg);
                                 standard error when DEVICE cannot be opened
          --startup-event NAME   the event emitted once the jobs are loaded (default: startup)
          --no-startup-event     emit no startup event
          --verbose              log every event and state change
          --debug                log daemon internals too
          --no-inotify           do not watch the job directories; reload with
                                 'initctl reload-configuration' or SIGHUP
          --no-cgroups           do not put job instances in cgroups (when another manager
                                 owns them): stop reaches the main process's group only
          --socket PATH          the control socket's path; in user mode its directory must be
                                 owned by you and private (mode 0700), or it is refused
          --boot-history FILE    keep each boot's times in FILE (the last 50) for
                                 'initctl analyze time --history'
          --state-fd FD          resume from the state document on descriptor FD (set by initctl reexec)
          -h, --help             show this help
          --version              show the version

        See docs/running.md.
        """

    /// Parses the arguments (without argv[0]); returns a message on error.
    static func parse(_ args: [String]) -> Result<Flags, FlagError> {
        var f = Flags()
        var i = 0
        func value(_ name: String) -> Result<String, FlagError> {
            if let eq = args[i].firstIndex(of: "=") { return .success(String(args[i][args[i].index(after: eq)...])) }
            guard i + 1 < args.count else { return .failure(FlagError("\(name) needs a value")) }
            i += 1
            return .success(args[i])
        }
        while i < args.count {
            let a = args[i]
            let name = a.split(separator: "=", maxSplits: 1).first.map(String.init) ?? a
            do {
                switch name {
                case "--user": f.user = true
                case "--confdir": f.confdir.append(try value(name).get())
                case "--logdir": f.logdir = try value(name).get()
                case "--no-log": f.noLog = true
                case "--log-size": f.logSize = try value(name).get()
                case "--log-keep": f.logKeep = try value(name).get()
                case "--log-timestamps": f.logTimestamps = true
                case "--log-to-stdout": f.logToStdout = true
                case "--prefix-output": f.logToStdout = true; f.prefixOutput = true
                case "--exit-with": f.exitWith = try value(name).get()
                case "--kmsg": f.kmsg = try value(name).get()
                case "--startup-event": f.startupEvent = try value(name).get()
                case "--no-startup-event": f.noStartupEvent = true
                case "--debug": f.debug = true
                case "--verbose": f.verbose = true
                case "--no-inotify": f.noInotify = true
                case "--no-cgroups": f.noCgroups = true
                case "--socket": f.socket = try value(name).get()
                case "--state-fd": f.stateFd = try value(name).get()
                case "--boot-history": f.bootHistory = try value(name).get()
                case "-h", "--help": f.help = true
                case "--version": f.version = true
                default: return .failure(FlagError("unknown option '\(a)'"))
                }
            } catch {
                return .failure(error)
            }
            i += 1
        }
        if f.noLog && f.logToStdout {
            return .failure(FlagError("--no-log discards job output; it cannot be used with --log-to-stdout or --prefix-output"))
        }
        if f.exitWith == "" { return .failure(FlagError("--exit-with needs a job name")) }
        return .success(f)
    }
}

struct FlagError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

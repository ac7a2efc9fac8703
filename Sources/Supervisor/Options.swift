import Engine

/// How the daemon was asked to run (`daybreak --help`, docs/running.md).
public struct DaemonOptions: Sendable {
    /// User (session) mode: not PID 1, a subreaper, a private socket.
    public var userMode = false
    /// Job directories in search order; the first to define a job owns it.
    public var confDirectories: [String] = []
    /// Where `console log` output goes; nil with `--no-log`.
    public var logDirectory: String?
    /// The event emitted once jobs are loaded; nil with `--no-startup-event`.
    public var startupEvent: String? = "startup"
    /// Log every state change and event.
    public var verbose = false
    /// Log even more (daemon internals).
    public var debug = false
    /// Watch job directories with inotify (off: `--no-inotify`).
    public var useInotify = true
    /// Contain each job instance in a cgroup of its own (off: `--no-cgroups`).
    public var useCgroups = true
    /// The control socket's path.
    public var socketPath = ""
    /// True when this process is PID 1.
    public var isPID1 = false

    /// The executable to run again on `initctl reexec` (argv[0] resolved
    /// at start-up) and the arguments it was started with (no `--state-fd`).
    public var executable: String?
    public var arguments: [String] = []
    /// The state to resume from (`--state-fd`): a re-exec, not a boot.
    public var restoring: ReexecDocument?

    public init() {}
}

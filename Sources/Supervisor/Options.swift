import JobFile
import Engine

/// How the daemon was asked to run (`daybreak --help`, docs/running.md).
public struct DaemonOptions: Sendable {
    /// User (session) mode: not PID 1, a subreaper, a private socket.
    public var userMode = false
    /// Job directories in search order; the first to define a job owns it.
    public var confDirectories: [String] = []
    /// Where `console log` output goes; nil with `--no-log`.
    public var logDirectory: String?
    /// `--log-size` and `--log-keep`: the cap on each `console log` file
    /// for jobs without `log size` (nil: unlimited, as Upstart), and how
    /// many rotated files to keep.
    public var logSize: Int?
    public var logKeep = 5
    /// `--log-timestamps`: prefix each line of the daemon's log and of
    /// `console output` with the time.
    public var logTimestamps = false
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
    /// `--exit-with JOB`: when JOB stops, every other job is stopped and
    /// the daemon exits with JOB's status (`Shutdown.swift`).
    public var exitWith: String?
    /// `--log-to-stdout`: `console log` output goes to the daemon's
    /// standard output, line by line, instead of files; with
    /// `--prefix-output` each line begins with the job's name.
    public var logToStandardOutput = false
    public var prefixOutput = false
    /// `--kmsg DEVICE`, and as PID 1 of the machine `/dev/kmsg`: the
    /// daemon's log goes to the kernel log with a priority on each line,
    /// or to standard error when the device cannot be opened.
    public var kernelLog: String?
    /// `--boot-history FILE`: where each boot's figures are kept for
    /// `initctl analyze time --history` (nil: not kept).
    public var bootHistory: String?

    /// The executable to run again on `initctl reexec` (argv[0] resolved
    /// at start-up) and the arguments it was started with (no `--state-fd`).
    public var executable: String?
    public var arguments: [String] = []
    /// The state to resume from (`--state-fd`): a re-exec, not a boot.
    public var restoring: ReexecDocument?
    /// How long reading and decoding that document took, for the log.
    public var restoringReadNanoseconds: Int64 = 0

    public init() {}

    /// `--log-size SIZE|unlimited` (as the `log size` stanza reads it);
    /// false when SIZE is not one.
    public mutating func setLogSize(_ text: String) -> Bool {
        switch LogSize(parsing: text) {
        case .bytes(let n)?: logSize = n
        case .unlimited?: logSize = nil
        case nil: return false
        }
        return true
    }
}

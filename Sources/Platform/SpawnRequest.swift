import CSpawn
import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Everything needed to start one process: the command and every process
/// attribute a job file can set. A plain value; the daemon translates a
/// job's `ProcessSpec` and stanzas into it (Platform knows nothing of job
/// files).
///
/// Optional settings left nil are inherited from the daemon, as in Upstart.
public struct SpawnRequest: Sendable, Equatable {
    /// The argument vector; `arguments[0]` is the program. Without a `/` it
    /// is looked up in the `PATH` of `environment` (or a default PATH), as
    /// Upstart's execvp does. See `commandArguments(for:)`.
    public var arguments: [String]
    /// The whole environment, as `NAME=value` strings. Nothing is inherited.
    public var environment: [String]
    public var console: Console = .none
    /// Descriptors the process gets at fixed numbers (for example a script
    /// pipe, or `UPSTART_FDS`). Applied after `console`, so a move to 0, 1
    /// or 2 replaces what the console mode put there. Every other descriptor
    /// of the daemon must be close-on-exec: the child inherits it otherwise.
    public var fileDescriptors: [FileDescriptorMove] = []
    /// `limit`: applied in order.
    public var limits: [Limit] = []
    /// `nice`: the scheduling priority, -20...19.
    public var nice: Int32?
    /// `oom score`: written to `/proc/self/oom_score_adj`, -1000...1000
    /// (`oom score never` is -1000).
    public var oomScoreAdj: Int32?
    /// A `cgroup.procs` file the process moves itself into before anything
    /// else can fork (before chroot and before dropping privileges).
    public var cgroupProcsPath: String?
    /// More `cgroup.procs` files to enter after `cgroupProcsPath` (a job's
    /// groups in cgroup v1 hierarchies, for settings v2 cannot carry).
    public var moreCgroupProcsPaths: [String] = []
    public var chroot: String?
    /// The working directory, inside `chroot` if there is one. With a
    /// chroot and no chdir the process starts in the new root.
    public var chdir: String?
    public var umask: mode_t?
    /// `setuid`: a user name, looked up before the fork. Also sets the group
    /// to the user's primary group (unless `group` is given) and, when the
    /// daemon is root, the user's supplementary groups (initgroups).
    public var user: String?
    /// `setgid`: a group name, looked up before the fork.
    public var group: String?
    /// New namespaces for the process (the `namespace` stanza), each made
    /// usable: `.net` with lo up, `.mount` private, `.uts` with `hostname`,
    /// `.user` mapping root to the process's user. `.pid` implies `.mount`:
    /// the returned pid is then a relay outside the namespace that ends as
    /// the process does; the process runs under an init that reaps orphans
    /// (see `Sources/CSpawn/cspawn.c`, "The pid namespace").
    public var namespaces: Namespaces = []
    /// A network namespace to join instead of a new one (`namespace
    /// net=NAME`): a path such as `/run/netns/NAME`.
    public var joinNetwork: String?
    /// With `.uts`: the hostname (at most 64 bytes).
    public var hostname: String?
    /// With `.pid`: the returned (relay) process stops with SIGSTOP when the
    /// process first stops itself so (`expect stop`).
    public var mirrorStop: Bool = false
    /// Stop at exec for the daemon to trace (`expect fork`, `expect daemon`).
    public var traceMe: Bool = false
    /// Set `LISTEN_PID` to the process's own pid, in the child after the
    /// fork (systemd's socket activation: fds at 3.. are for this pid).
    public var setsListenPID: Bool = false

    public init(arguments: [String], environment: [String] = []) {
        self.arguments = arguments
        self.environment = environment
    }

    /// Where standard input, output and error go.
    public enum Console: Sendable, Equatable {
        /// Keep the daemon's own (tests, `--debug`).
        case inherit
        /// `console none`: all three on /dev/null.
        case none
        /// `console output`: all three on /dev/console (/dev/null if that cannot be opened).
        case output
        /// `console owner`: as `output`, and the console becomes the
        /// process's controlling terminal.
        case owner
        /// `console log`: standard input on /dev/null, output and error on
        /// this descriptor (a pty slave from `PseudoTerminal.open()`, or a
        /// pipe). The caller keeps and closes its copy.
        case log(FileDescriptor)
    }

    /// A descriptor handed to the process at a fixed number.
    public struct FileDescriptorMove: Sendable, Equatable {
        public var from: FileDescriptor
        public var to: FileDescriptor
        public init(from: FileDescriptor, to: FileDescriptor) {
            self.from = from
            self.to = to
        }
    }

    /// One resource limit (setrlimit(2)); `Limit.unlimited` for no limit.
    public struct Limit: Sendable, Equatable {
        public var resource: Resource
        public var soft: UInt64
        public var hard: UInt64

        public static let unlimited = UInt64.max  // RLIM_INFINITY

        public init(_ resource: Resource, soft: UInt64, hard: UInt64) {
            self.resource = resource
            self.soft = soft
            self.hard = hard
        }

        /// The resources, by their `limit` stanza names.
        public enum Resource: String, CaseIterable, Sendable {
            case `as`, core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime,
                sigpending, stack

            /// The setrlimit(2) resource number.
            var number: Int32 { cplatform_rlimit_resource(rawValue) }
        }
    }

    /// Kinds of new namespace, named as in the `namespace` stanza.
    public struct Namespaces: OptionSet, Sendable, Hashable {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        public static let cgroup = Namespaces(rawValue: cplatform_clone_newcgroup)
        public static let ipc = Namespaces(rawValue: cplatform_clone_newipc)
        public static let mount = Namespaces(rawValue: cplatform_clone_newns)
        public static let net = Namespaces(rawValue: cplatform_clone_newnet)
        public static let pid = Namespaces(rawValue: cplatform_clone_newpid)
        public static let user = Namespaces(rawValue: cplatform_clone_newuser)
        public static let uts = Namespaces(rawValue: cplatform_clone_newuts)

        /// The stanza names, for messages.
        public var names: [String] {
            let all: [(Namespaces, String)] = [
                (.cgroup, "cgroup"), (.ipc, "ipc"), (.mount, "mount"), (.net, "net"),
                (.pid, "pid"), (.user, "user"), (.uts, "uts"),
            ]
            return all.filter { contains($0.0) }.map(\.1)
        }
    }
}

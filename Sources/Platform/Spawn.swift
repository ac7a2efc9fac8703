import CSpawn
import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A process that could not be started: the step that failed, what it acted
/// on, and why. Its description is the message for the log, for example
/// `chdir /nonexistent: No such file or directory`,
/// `setuid to user 'nobodyx': no such user` or
/// `exec /bin/nope: No such file or directory`.
public struct SpawnError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The steps of spawning, named as the system call (or stanza) they are.
    public enum Step: String, Sendable, Equatable {
        case pipe
        case fork
        case signals
        case setsid
        case fileDescriptors = "file descriptors"
        case console
        case rlimit = "setrlimit"
        case nice
        case oomScoreAdj = "oom_score_adj"
        case cgroup
        case chroot
        case chdir
        case setgroups
        case setgid
        case setuid
        case ptrace
        /// A new namespace (unshare(2)); the subject names the kind.
        case unshare
        /// Joining a network namespace (setns(2)).
        case setns
        /// Bringing lo up in a new network namespace.
        case loopback = "bringing lo up"
        /// Writing a user namespace's maps.
        case idmap = "user namespace map"
        case hostname = "sethostname"
        case mount
        /// Forking the init of a new pid namespace, or the process under it.
        case pidInit = "pid namespace init"
        case exec
        /// The child's report was cut short.
        case report
    }

    public var step: Step
    /// What the step acted on: a path, `user 'name'`, a resource; may be empty.
    public var subject: String
    /// The system error, when there is one.
    public var errno: Errno?
    /// The reason when there is no system error (`no such user`).
    public var reason: String?

    public init(step: Step, subject: String = "", errno: Errno? = nil, reason: String? = nil) {
        self.step = step
        self.subject = subject
        self.errno = errno
        self.reason = reason
    }

    public var description: String {
        let cause = errno.map(\.description) ?? reason ?? "failed"
        return subject.isEmpty ? "\(step.rawValue): \(cause)" : "\(step.rawValue) \(subject): \(cause)"
    }
}

/// Starts processes. The C target does the child's side (see
/// `Sources/CSpawn/cspawn.c`); this side resolves names, prepares every
/// value and turns the child's report into a `SpawnError`.
public enum Spawner {
    /// The PATH used when the request's environment has none (Upstart's default job PATH).
    public static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// Starts the process and returns its pid once it has exec'd. On failure
    /// nothing is left running: a child that failed a setup step has been
    /// reaped. Blocks until the exec (or failure) has happened.
    ///
    /// The caller must reap the returned pid (see `Reaper`).
    public static func spawn(_ request: SpawnRequest) throws(SpawnError) -> pid_t {
        guard let program = request.arguments.first, !program.isEmpty else {
            throw SpawnError(step: .exec, reason: "empty command")
        }
        let credentials = try Credentials.resolve(user: request.user, group: request.group)
        let candidates = executableCandidates(program, environment: request.environment)

        let arena = CArena()
        var c = cspawn_request()
        c.paths = UnsafePointer(arena.constStrings(candidates))
        c.argv = UnsafePointer(arena.strings(request.arguments))
        var environment = request.environment
        if request.setsListenPID {
            // Room for any pid; the child writes its own over the blanks.
            environment.removeAll { $0.hasPrefix("LISTEN_PID=") }
            environment.append("LISTEN_PID=" + String(repeating: " ", count: 21))
        }
        let envp = arena.strings(environment)
        c.envp = UnsafePointer(envp)
        if request.setsListenPID, let entry = envp[environment.count - 1] {
            c.listen_pid = entry + 11
        }
        switch request.console {
        case .inherit: c.console = CSPAWN_CONSOLE_INHERIT
        case .none: c.console = CSPAWN_CONSOLE_NONE
        case .output: c.console = CSPAWN_CONSOLE_OUTPUT
        case .owner: c.console = CSPAWN_CONSOLE_OWNER
        case .log(let fd):
            c.console = CSPAWN_CONSOLE_FD
            c.console_fd = fd.rawValue
        }
        c.fds = UnsafePointer(arena.array(request.fileDescriptors.map {
            cspawn_fd_move(from: $0.from.rawValue, to: $0.to.rawValue)
        }))
        c.nfds = Int32(request.fileDescriptors.count)
        c.limits = UnsafePointer(arena.array(request.limits.map {
            cspawn_limit(resource: $0.resource.number, soft: $0.soft, hard: $0.hard)
        }))
        c.nlimits = Int32(request.limits.count)
        if let nice = request.nice {
            c.has_nice = 1
            c.nice = nice
        }
        if let oom = request.oomScoreAdj { c.oom_score_adj = UnsafePointer(arena.string("\(oom)\n")) }
        if let path = request.cgroupProcsPath { c.cgroup_procs = UnsafePointer(arena.string(path)) }
        if !request.moreCgroupProcsPaths.isEmpty {
            c.cgroup_procs_more = UnsafePointer(arena.constStrings(request.moreCgroupProcsPaths))
        }
        if let path = request.chroot { c.chroot = UnsafePointer(arena.string(path)) }
        if let path = request.chdir { c.chdir = UnsafePointer(arena.string(path)) }
        if let mask = request.umask {
            c.has_umask = 1
            c.umask = UInt32(mask)
        }
        if let groups = credentials.groups {
            c.set_groups = 1
            c.groups = UnsafePointer(arena.array(groups))
            c.ngroups = Int32(groups.count)
        }
        if let gid = credentials.gid {
            c.has_gid = 1
            c.gid = gid
        }
        if let uid = credentials.uid {
            c.has_uid = 1
            c.uid = uid
        }
        if request.traceMe && request.namespaces.contains(.pid) {
            throw SpawnError(step: .unshare, subject: "pid namespace",
                             reason: "a traced job (expect fork, expect daemon) cannot be followed into a new pid namespace")
        }
        var namespaces = request.namespaces
        if request.joinNetwork != nil { namespaces.remove(.net) }
        if namespaces.contains(.pid) { namespaces.insert(.mount) }
        c.ns_flags = namespaces.rawValue
        if let path = request.joinNetwork { c.ns_net_path = UnsafePointer(arena.string(path)) }
        if namespaces.contains(.uts), let name = request.hostname {
            c.ns_hostname = UnsafePointer(arena.string(String(decoding: name.utf8.prefix(64), as: UTF8.self)))
        }
        if namespaces.contains(.user) {
            // Root inside is the user the process runs as: its `setuid`
            // user, or the daemon's own.
            c.ns_uid_map = UnsafePointer(arena.string("0 \(credentials.uid ?? geteuid()) 1\n"))
            c.ns_gid_map = UnsafePointer(arena.string("0 \(credentials.gid ?? getegid()) 1\n"))
        }
        c.ns_mirror_stop = request.mirrorStop ? 1 : 0
        c.trace_me = request.traceMe ? 1 : 0

        var failure = cspawn_failure()
        let pid = withExtendedLifetime(arena) { cspawn_spawn(&c, &failure) }
        if pid > 0 { return pid }
        throw error(for: failure, request: request, candidates: candidates)
    }

    /// The paths tried for `program`: itself when it holds a `/`, otherwise
    /// each PATH directory (an empty entry is the working directory).
    static func executableCandidates(_ program: String, environment: [String]) -> [String] {
        if program.contains("/") { return [program] }
        let path = environment.last(where: { $0.hasPrefix("PATH=") }).map { String($0.dropFirst(5)) } ?? defaultPath
        return path.split(separator: ":", omittingEmptySubsequences: false).map {
            $0.isEmpty ? program : "\($0)/\(program)"
        }
    }

    /// The `SpawnError` for the child's report.
    static func error(for failure: cspawn_failure, request: SpawnRequest, candidates: [String]) -> SpawnError {
        let errno = Errno(rawValue: failure.error)
        let index = Int(failure.arg)
        switch failure.step {
        case CSPAWN_STEP_PIPE: return SpawnError(step: .pipe, errno: errno)
        case CSPAWN_STEP_FORK: return SpawnError(step: .fork, errno: errno)
        case CSPAWN_STEP_UNSHARE:
            let kind = SpawnRequest.Namespaces(rawValue: failure.arg).names.first ?? "?"
            return SpawnError(step: .unshare, subject: "\(kind) namespace", errno: errno)
        case CSPAWN_STEP_SETNS:
            return SpawnError(step: .setns, subject: "net namespace \(request.joinNetwork ?? "")", errno: errno)
        case CSPAWN_STEP_LOOPBACK: return SpawnError(step: .loopback, subject: "in the new net namespace", errno: errno)
        case CSPAWN_STEP_IDMAP:
            let file = ["/proc/self/setgroups", "/proc/self/uid_map", "/proc/self/gid_map"]
            return SpawnError(step: .idmap, subject: file.indices.contains(index) ? file[index] : "", errno: errno)
        case CSPAWN_STEP_HOSTNAME:
            return SpawnError(step: .hostname, subject: "'\(request.hostname ?? "")' in the new uts namespace", errno: errno)
        case CSPAWN_STEP_MOUNT:
            let subject = index == 1 ? "/proc for the new pid namespace" : "/ private in the new mount namespace"
            return SpawnError(step: .mount, subject: subject, errno: errno)
        case CSPAWN_STEP_PIDINIT: return SpawnError(step: .pidInit, errno: errno)
        case CSPAWN_STEP_SIGNALS: return SpawnError(step: .signals, errno: errno)
        case CSPAWN_STEP_SETSID: return SpawnError(step: .setsid, errno: errno)
        case CSPAWN_STEP_FDS:
            let subject = request.fileDescriptors.indices.contains(index)
                ? "\(request.fileDescriptors[index].from.rawValue) to \(request.fileDescriptors[index].to.rawValue)"
                : "for console"
            return SpawnError(step: .fileDescriptors, subject: subject, errno: errno)
        case CSPAWN_STEP_CONSOLE:
            let subject: String
            switch request.console {
            case .output, .owner: subject = "/dev/console"
            case .log(let fd): subject = "log descriptor \(fd.rawValue)"
            default: subject = "/dev/null"
            }
            return SpawnError(step: .console, subject: subject, errno: errno)
        case CSPAWN_STEP_RLIMIT:
            let subject = request.limits.indices.contains(index) ? request.limits[index].resource.rawValue : ""
            return SpawnError(step: .rlimit, subject: subject, errno: errno)
        case CSPAWN_STEP_NICE: return SpawnError(step: .nice, subject: request.nice.map { "\($0)" } ?? "", errno: errno)
        case CSPAWN_STEP_OOM:
            return SpawnError(step: .oomScoreAdj, subject: request.oomScoreAdj.map { "\($0)" } ?? "", errno: errno)
        case CSPAWN_STEP_CGROUP:
            let paths = [request.cgroupProcsPath ?? ""] + request.moreCgroupProcsPaths
            return SpawnError(step: .cgroup, subject: paths.indices.contains(index) ? paths[index] : "", errno: errno)
        case CSPAWN_STEP_CHROOT: return SpawnError(step: .chroot, subject: request.chroot ?? "", errno: errno)
        case CSPAWN_STEP_CHDIR: return SpawnError(step: .chdir, subject: request.chdir ?? "/", errno: errno)
        case CSPAWN_STEP_SETGROUPS:
            return SpawnError(step: .setgroups, subject: request.user.map { "for user '\($0)'" } ?? "", errno: errno)
        case CSPAWN_STEP_SETGID:
            let subject = request.group.map { "to group '\($0)'" } ?? request.user.map { "to the group of user '\($0)'" } ?? ""
            return SpawnError(step: .setgid, subject: subject, errno: errno)
        case CSPAWN_STEP_SETUID:
            return SpawnError(step: .setuid, subject: request.user.map { "to user '\($0)'" } ?? "", errno: errno)
        case CSPAWN_STEP_PTRACE: return SpawnError(step: .ptrace, subject: "traceme", errno: errno)
        case CSPAWN_STEP_EXEC:
            // A PATH search that found nothing names the command, not the last directory tried.
            let searched = candidates.count > 1 || candidates.first != request.arguments.first
            let subject = searched && (errno == .noSuchFileOrDirectory || errno == .notDirectory)
                ? request.arguments[0]
                : (candidates.indices.contains(index) ? candidates[index] : request.arguments[0])
            return SpawnError(step: .exec, subject: subject, errno: errno)
        default: return SpawnError(step: .report, errno: errno)
        }
    }
}

/// Memory for the C request, freed when the arena goes.
private final class CArena {
    private var strings: [UnsafeMutablePointer<CChar>] = []
    private var buffers: [UnsafeMutableRawPointer] = []

    func string(_ s: String) -> UnsafeMutablePointer<CChar> {
        let p = strdup(s)!
        strings.append(p)
        return p
    }

    /// A NULL-terminated array of C strings.
    func strings(_ list: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
        let buffer = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: list.count + 1)
        for (i, s) in list.enumerated() { buffer[i] = string(s) }
        buffer[list.count] = nil
        buffers.append(UnsafeMutableRawPointer(buffer))
        return buffer
    }

    /// The same, typed `const char *const *`.
    func constStrings(_ list: [String]) -> UnsafeMutablePointer<UnsafePointer<CChar>?> {
        UnsafeMutableRawPointer(strings(list)).assumingMemoryBound(to: UnsafePointer<CChar>?.self)
    }

    /// A copy of `values`, or nil when empty.
    func array<T>(_ values: [T]) -> UnsafeMutablePointer<T>? {
        guard !values.isEmpty else { return nil }
        let buffer = UnsafeMutablePointer<T>.allocate(capacity: values.count)
        buffer.initialize(from: values, count: values.count)
        buffers.append(UnsafeMutableRawPointer(buffer))
        return buffer
    }

    deinit {
        for p in strings { free(p) }
        for p in buffers { p.deallocate() }
    }
}

extension Spawner {
    /// Runs a program with `input` on its standard input and the caller's
    /// standard output and error, and waits for it (a filter such as
    /// Graphviz's `dot`, run by `initctl graph --svg`). The program is found
    /// on `PATH`.
    public static func runFilter(_ arguments: [String], input: [UInt8]) throws(SpawnError) -> ChildStatus {
        // Both ends close on exec: the child gets the read end as its
        // standard input (dup2 clears the flag), and never the write end,
        // so it sees the end of its input when this side closes it.
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            throw SpawnError(step: .pipe, errno: Errno(rawValue: errno))
        }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        let ends = (readEnd: FileDescriptor(rawValue: fds[0]), writeEnd: FileDescriptor(rawValue: fds[1]))
        var request = SpawnRequest(arguments: arguments, environment: Environment.current.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
        request.console = .inherit
        request.fileDescriptors = [.init(from: ends.readEnd, to: FileDescriptor(rawValue: 0))]
        let pid: pid_t
        do {
            pid = try spawn(request)
        } catch {
            try? ends.readEnd.close()
            try? ends.writeEnd.close()
            throw error
        }
        try? ends.readEnd.close()
        _ = try? ends.writeEnd.writeAll(input)
        try? ends.writeEnd.close()
        do {
            return try Reaper.waitForExit(pid)
        } catch {
            throw SpawnError(step: .exec, reason: "waiting for \(arguments[0]): \(error)")
        }
    }
}

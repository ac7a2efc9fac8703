import Engine
import JobFile
import Platform
import SystemPackage

/// Turns the engine's request to start a process into a Platform spawn:
/// the command line, and every process attribute of the job file.
///
/// - `exec`: run directly, or through `/bin/sh -e -c` when the command has
///   shell characters (Upstart's rule, `commandArguments(for:)`).
/// - `script`: `/bin/sh -e` with the body.
/// - `console log`: output and error go to `logSlave` (a pty whose master
///   the daemon reads); with `--no-log` the job gets `console none`.
///   `console output` goes there too when the daemon gives a `logSlave`
///   for it (job output on the daemon's standard output).
/// - `chdir`: the job's, or `/` in system mode (as Upstart does).
func platformRequest(for spawn: EngineSpawnRequest, userMode: Bool, logSlave: Int32?) -> Platform.SpawnRequest {
    let job = spawn.jobClass
    let arguments = spawn.spec.kind == .exec ? commandArguments(for: spawn.spec.command) : scriptArguments(for: spawn.spec.command)
    var request = Platform.SpawnRequest(arguments: arguments, environment: spawn.environment)
    switch job.console {
    case .none: request.console = .none
    case .output: request.console = logSlave.map { .log(FileDescriptor(rawValue: $0)) } ?? .output
    case .owner: request.console = .owner
    case .log: request.console = logSlave.map { .log(FileDescriptor(rawValue: $0)) } ?? .none
    }
    request.limits = job.limits.compactMap { limit in
        guard let resource = Platform.SpawnRequest.Limit.Resource(rawValue: limit.resource.rawValue) else { return nil }
        return .init(resource, soft: limit.soft.rlimit, hard: limit.hard.rlimit)
    }
    request.nice = job.nice.map(Int32.init)
    switch job.oomScore {
    case .score(let n): request.oomScoreAdj = Int32(n)
    case .never: request.oomScoreAdj = -1000
    case nil: break
    }
    request.umask = .init(job.umask ?? 0o022)
    request.chroot = job.chroot
    request.chdir = job.chdir ?? (userMode ? nil : "/")
    request.user = job.setuid
    request.group = job.setgid
    var namespaces: Platform.SpawnRequest.Namespaces = []
    for kind in job.namespaces {
        switch kind {
        case .cgroup: namespaces.insert(.cgroup)
        case .ipc: namespaces.insert(.ipc)
        case .mount: namespaces.insert(.mount)
        case .net: namespaces.insert(.net)
        case .pid: namespaces.insert(.pid)
        case .user: namespaces.insert(.user)
        case .uts: namespaces.insert(.uts)
        }
    }
    request.namespaces = namespaces
    request.joinNetwork = job.joinNetwork.map(NamespaceKind.networkPath)
    // `namespace uts`: the hostname is the job's name unless given.
    request.hostname = job.hostname ?? job.name.replacingSlashes
    request.mirrorStop = job.expect == .stop && spawn.process == .main
    return request
}

extension String {
    /// A job name as a hostname: `/` (a job in a subdirectory) becomes `-`.
    var replacingSlashes: String { String(map { $0 == "/" ? "-" : $0 }) }
}

extension LimitValue {
    var rlimit: UInt64 {
        switch self {
        case .unlimited: return Platform.SpawnRequest.Limit.unlimited
        case .value(let n): return n
        }
    }
}

/// The log file of an instance: `JOB.log` or `JOB-INSTANCE.log`, with
/// every `/` made `_` (init(5), "console log").
func logFileName(job: String, instance: String) -> String {
    let base = instance.isEmpty ? job : "\(job)-\(instance)"
    return String(base.map { $0 == "/" ? "_" : $0 }) + ".log"
}

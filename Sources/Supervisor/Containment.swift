import Engine
import JobFile
import Platform
import Control

/// Containment: every job instance in a control group of its own, so that
/// stopping it reaches every process it started, including ones that
/// double-forked away from the main process, and nothing is left behind.
///
/// - At start-up the daemon picks one hierarchy: the unified one (cgroup
///   v2) when it can make groups there, else a v1 hierarchy (`pids` first,
///   then `name=systemd`, then any). Its groups live under the daemon's own
///   group, in `daybreak` (PID 1) or `daybreak-PID` (user mode), one per
///   instance: `JOB` or `JOB-INSTANCE`, `/` made `_`.
/// - Every process of the instance (pre-start to post-stop) enters the
///   group in the child before exec (`SpawnRequest.cgroupProcsPath`).
/// - `cgroup` stanza settings (`KEY VALUE`) go to the instance's group when
///   it has that file (v2 names such as `memory.max`, `pids.max` where v2
///   has the controller); otherwise to a group of the same name in the v1
///   hierarchy of the controller, which the processes also enter (with
///   `memory.max` written as v1's `memory.limit_in_bytes`). A setting that
///   exists nowhere, or that the kernel refuses, fails the process with a
///   message naming it.
/// - When the instance is gone (stop/waiting), whatever is left in its
///   groups gets SIGTERM (and SIGCONT), SIGKILL two seconds later, and the
///   groups are removed once empty. When the daemon exits it kills and
///   removes every group at once.
/// - Without a usable hierarchy the daemon says so once and signals only
///   the main process's process group, as Upstart does.
struct Containment {
    /// Where the instance groups are made; nil without cgroups.
    let hierarchy: CgroupHierarchy?
    /// `hierarchy`'s directory holding the instance groups.
    let base: String?
    /// The name of that directory under each hierarchy's own group.
    let baseName: String
    /// The other hierarchies, for settings the main one cannot carry.
    let others: [CgroupHierarchy]
    /// The groups of each live instance, main one first, by instance key.
    var groups: [String: [String]] = [:]
    /// The job and instance of each key in `groups`.
    var instances: [String: (job: String, instance: String)] = [:]
    /// Groups of ended instances still being emptied: when SIGKILL is due.
    var draining: [String: (paths: [String], killAt: Int64, killed: Bool)] = [:]
    /// Per-hierarchy base directories made so far (to remove at the end).
    var madeBases: Set<String> = []

    static let drainNanoseconds: Int64 = 2_000_000_000

    /// Finds a hierarchy the daemon can make groups in and moves processes into.
    static func setUp(daemonPid: Int32, isPID1: Bool) -> Containment {
        let name = isPID1 ? "daybreak" : "daybreak-\(daemonPid)"
        let all = Cgroups.hierarchies()
        func rank(_ h: CgroupHierarchy) -> Int {
            if h.version == 2 { return 0 }
            if h.controllers.contains("pids") { return 1 }
            if h.controllers.contains("name=systemd") { return 2 }
            return 3
        }
        for h in all.sorted(by: { rank($0) < rank($1) }) {
            let base = h.ownDirectory + "/" + name
            guard (try? Cgroups.create(base)) != nil else { continue }
            guard FileSystem.isWritable(base + "/cgroup.procs") else {
                _ = Cgroups.remove(base)
                continue
            }
            var c = Containment(hierarchy: h, base: base, baseName: name, others: all.filter { $0 != h })
            c.madeBases.insert(base)
            return c
        }
        return Containment(hierarchy: nil, base: nil, baseName: name, others: all)
    }

    /// No containment (`--no-cgroups`): process groups only, as in Upstart.
    static func none(daemonPid: Int32, isPID1: Bool) -> Containment {
        Containment(hierarchy: nil, base: nil, baseName: isPID1 ? "daybreak" : "daybreak-\(daemonPid)", others: [])
    }

    /// The key of an instance, and its group's directory name.
    static func key(job: String, instance: String) -> String {
        let base = instance.isEmpty ? job : "\(job)-\(instance)"
        return String(base.map { $0 == "/" ? "_" : $0 })
    }

    /// The groups of an instance, made (with the job's settings) on first
    /// use. Empty without cgroups. Throws a message naming a bad setting.
    mutating func groups(job: String, instance: String, settings: [CgroupSetting]) throws(DaemonError) -> [String] {
        let key = Containment.key(job: job, instance: instance)
        if let existing = groups[key] { return existing }
        guard let base else { return [] }
        let main = base + "/" + key
        var paths = [main]
        do {
            try Cgroups.create(main)
        } catch {
            throw DaemonError(error.description)
        }
        groups[key] = paths
        instances[key] = (job, instance)
        // A NAME other than the job's own is not made: the job's group takes the setting.
        for setting in settings {
            if let extra = try apply(setting, key: key, main: main), !paths.contains(extra) { paths.append(extra) }
        }
        return groups[key] ?? paths
    }

    /// Applies one stanza; returns a v1 group the processes must also enter.
    private mutating func apply(_ s: CgroupSetting, key: String, main: String) throws(DaemonError) -> String? {
        let controller = s.controller
        let v1 = others.first { $0.version == 1 && $0.controllers.contains(controller) }
        guard let k = s.key else {
            // `cgroup CONTROLLER`: a group in that controller's v1 hierarchy, if any.
            guard hierarchy?.version != 2 || v1 != nil, let v1, hierarchy != v1 else { return nil }
            return try v1Group(v1, key: key)
        }
        let value = s.value ?? ""
        if Cgroups.hasSetting(main, k) {
            do {
                try Cgroups.set(main, k, value)
            } catch {
                throw DaemonError("cgroup \(controller) \(k) '\(value)': \(error)")
            }
            return nil
        }
        guard let v1 else {
            throw DaemonError("cgroup \(controller) \(k): no such setting in \(main), and no cgroup v1 hierarchy has the '\(controller)' controller")
        }
        let group = try v1Group(v1, key: key)
        let v1Key = Cgroups.hasSetting(group, k) ? k : (Containment.v1Names[k] ?? k)
        guard Cgroups.hasSetting(group, v1Key) else {
            throw DaemonError("cgroup \(controller) \(k): no such setting in \(main) or \(group)")
        }
        var v1Value = value
        if v1Key == "memory.limit_in_bytes" && value == "max" { v1Value = "-1" }
        do {
            try Cgroups.set(group, v1Key, v1Value)
        } catch {
            throw DaemonError("cgroup \(controller) \(k) '\(value)': \(error)")
        }
        return group
    }

    /// v2 setting names that v1 spells otherwise.
    static let v1Names = ["memory.max": "memory.limit_in_bytes", "memory.high": "memory.soft_limit_in_bytes", "cpu.weight": "cpu.shares"]

    private mutating func v1Group(_ h: CgroupHierarchy, key: String) throws(DaemonError) -> String {
        let base = h.ownDirectory + "/" + baseName
        let group = base + "/" + key
        do {
            try Cgroups.create(group)
        } catch {
            throw DaemonError(error.description)
        }
        madeBases.insert(base)
        if let paths = groups[key], !paths.contains(group) { groups[key] = paths + [group] }
        return group
    }

    /// Every process in an instance's groups.
    func processes(job: String, instance: String) -> [Int32] {
        Containment.processes(in: groups[Containment.key(job: job, instance: instance)] ?? [])
    }

    /// The processes in a set of groups, each once: with several cgroup v1
    /// hierarchies a process is in one group of each.
    static func processes(in paths: [String]) -> [Int32] {
        var seen = Set<Int32>()
        var out: [Int32] = []
        for p in paths { for pid in Cgroups.processes(in: p) where seen.insert(pid).inserted { out.append(pid) } }
        return out
    }

    /// An instance ended: what is left of it gets SIGTERM now, SIGKILL later.
    mutating func instanceEnded(_ key: String, now: Int64) -> [Int32] {
        instances[key] = nil
        guard let paths = groups.removeValue(forKey: key) else { return [] }
        let left = Containment.processes(in: paths)
        for p in paths {
            Cgroups.signal(p, SignalNumber.terminate)
            Cgroups.signal(p, SignalNumber.continue)
        }
        draining[key] = (paths, now + Containment.drainNanoseconds, false)
        drain(now: now)
        return left
    }

    /// Removes emptied groups; SIGKILLs the rest when their time is up.
    mutating func drain(now: Int64) {
        for (key, d) in draining {
            var remaining: [String] = []
            for p in d.paths where !Cgroups.remove(p) { remaining.append(p) }
            if remaining.isEmpty {
                draining[key] = nil
            } else {
                var next = d
                next.paths = remaining
                if now >= d.killAt && !d.killed {
                    for p in remaining { Cgroups.signal(p, SignalNumber.kill) }
                    next.killed = true
                }
                draining[key] = next
            }
        }
    }

    /// When `drain` should run again: soon while groups are emptying.
    func nextDrain(now: Int64) -> Int64? {
        guard !draining.isEmpty else { return nil }
        let due = draining.values.filter { !$0.killed }.map(\.killAt).min() ?? Int64.max
        return min(due, now + 50_000_000)
    }

    /// The daemon is exiting: SIGKILL everything in every group, wait
    /// (reaping, at most `timeout`) for them to empty, and remove them all.
    mutating func tearDown(reap: () -> Void) {
        for (key, paths) in groups { draining[key] = (paths, 0, false) }
        groups = [:]
        instances = [:]
        let deadline = monotonicNanoseconds() + 2_000_000_000
        while !draining.isEmpty && monotonicNanoseconds() < deadline {
            drain(now: monotonicNanoseconds())
            if draining.isEmpty { break }
            reap()
            sleepMilliseconds(10)
        }
        for base in madeBases { _ = Cgroups.remove(base) }
    }
}

/// The daemon's side of containment: ending groups with their instances,
/// reporting processes that outlive the main one, listing them in `status`.
extension Daemon {
    /// Instances the engine no longer has: what is left of them is stopped
    /// and their groups removed (`Containment.instanceEnded`).
    func sweepGroups() {
        if !notifiers.isEmpty { closeEndedNotifiers() }
        guard !containment.instances.isEmpty else { return }
        let now = monotonicNanoseconds()
        for (key, owner) in containment.instances where engine.status(owner.job, instance: owner.instance) == nil {
            let left = containment.instanceEnded(key, now: now)
            if !left.isEmpty {
                log.write(.message, "\(key): stopping the job's remaining processes \(left.map { "(\($0))" }.joined(separator: " "))")
            }
            armEarliestTimer()
        }
    }

    /// A process exited: the engine hears it; if it was an instance's main
    /// process and other processes of the instance live on, the log says so
    /// (Upstart leaves them running and no longer tracks them; daybreak
    /// keeps them in the job's group and stops them when the job ends).
    func mainExited(_ pid: Int32, _ status: ProcessExit) {
        for (_, o) in containment.instances {
            guard let s = engine.status(o.job, instance: o.instance),
                  s.processes.contains(where: { $0.process == .main && $0.pid == pid }) else { continue }
            let listed = Set(s.processes.map(\.pid))
            let left = containment.processes(job: o.job, instance: o.instance).filter { !listed.contains($0) }
            // Routine when the job is being stopped (they are stopped with
            // it); only a main process that ends on its own, leaving others
            // behind, is worth a line in the default log.
            if !left.isEmpty {
                let routine = s.goal == .stop
                let label = o.instance.isEmpty ? o.job : "\(o.job) (\(o.instance))"
                log.write(routine ? .info : .message, "\(label) main process (\(pid)) ended but other processes of the job remain: \(left.map { "(\($0))" }.joined(separator: " "))")
            }
            break
        }
        feed(.processExited(pid: pid, status: status))
    }

    /// `initctl status`: the instance's processes, plus every other process
    /// in its group or started by a script being followed (as `job`
    /// processes), plus its sd_notify `STATUS=`.
    func statusWithGroup(_ s: EngineInstanceStatus) -> Control.InstanceStatus {
        var status = controlStatus(s)
        let listed = Set(s.processes.map(\.pid))
        let key = Containment.key(job: s.job, instance: s.instance)
        var extra = containment.processes(job: s.job, instance: s.instance)
        for pid in scriptProcesses(instanceKey: key) where !extra.contains(pid) { extra.append(pid) }
        for pid in extra where !listed.contains(pid) {
            status.processes.append(ProcessStatus(kind: "job", pid: pid))
        }
        status.statusText = notifyStatus[key]
        status.whileReason = engine.whileReason(s.job)
        return status
    }
}

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
    /// The OOM kills counted in each live instance's groups when last read.
    var oomKills: [String: Int] = [:]
    /// Each live instance's named groups (`cgroup CONTROLLER NAME`).
    var named: [String: [String]] = [:]
    /// Named groups Daybreak made (the others it never removes).
    var madeNamed: Set<String> = []
    /// Made named groups not yet empty when their instance ended.
    var lateNamed: Set<String> = []

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

    /// The groups an instance's processes enter, made (with the job's
    /// settings) on first use: its own, then its named ones. Empty without
    /// cgroups. Throws a message naming a bad setting.
    mutating func groups(job: String, instance: String, settings: [CgroupSetting], environment: [String] = []) throws(DaemonError) -> [String] {
        let key = Containment.key(job: job, instance: instance)
        if let existing = groups[key] { return existing + (named[key] ?? []) }
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
        var shared: [String] = []
        for setting in settings {
            if let name = setting.name {
                let group = try namedGroup(setting, name: name, key: key, environment: environment)
                if !shared.contains(group) { shared.append(group) }
            } else if let extra = try apply(setting, key: key, main: main), !paths.contains(extra) {
                paths.append(extra)
            }
        }
        named[key] = shared.isEmpty ? nil : shared
        return (groups[key] ?? paths) + shared
    }

    /// `cgroup CONTROLLER NAME [KEY VALUE]` with a NAME other than the
    /// job's own (init(5): "a non-job-specific cgroup"): the group NAME,
    /// its variables expanded from the job's environment and
    /// `$UPSTART_CGROUP` standing for the job's own group, under the
    /// daemon's own group in the hierarchy of the controller (v1), or in
    /// the unified one. It may exist already and may be shared: it is
    /// never signalled, and removed when the instance ends only if Daybreak
    /// made it and it is empty.
    private mutating func namedGroup(_ s: CgroupSetting, name: String, key: String, environment: [String]) throws(DaemonError) -> String {
        let v1Name = CgroupSettings.v1Controller(s.controller)
        guard let h = others.first(where: { $0.version == 1 && $0.controllers.contains(v1Name) })
                ?? (hierarchy?.version == 2 ? hierarchy : nil) ?? (hierarchy?.controllers.contains(v1Name) == true ? hierarchy : nil) else {
            throw DaemonError("cgroup \(s.controller) \(name): no cgroup hierarchy has the '\(v1Name)' controller")
        }
        let own = baseName + "/" + key
        let expanded: String
        do {
            expanded = try Environment.expand(name.replacing("$UPSTART_CGROUP", with: own), Environment(environment))
        } catch {
            throw DaemonError("cgroup \(s.controller) \(name): \(error)")
        }
        let parts = expanded.split(separator: "/", omittingEmptySubsequences: true)
        guard !parts.isEmpty, !parts.contains(where: { $0 == ".." || $0 == "." }) else {
            throw DaemonError("cgroup \(s.controller) \(name): '\(expanded)' is not a group name")
        }
        let group = h.ownDirectory + "/" + parts.joined(separator: "/")
        if FileSystem.kind(of: group) != .directory {
            do {
                try Cgroups.create(group)
            } catch {
                throw DaemonError(error.description)
            }
            madeNamed.insert(group)
        }
        if let k = s.key {
            try set("cgroup \(s.controller) \(name) \(k)", file: CgroupSettings.fileName(controller: s.controller, key: k),
                    value: s.value ?? "", in: group, version: h.version, searched: [])
        }
        return group
    }

    /// Applies one stanza; returns a v1 group the processes must also enter.
    /// The key and value are written as the hierarchy spells them
    /// (`CgroupSettings`): first to the job's own group, when its hierarchy
    /// has the controller, else to a group of the same name in the v1
    /// hierarchy of the controller.
    private mutating func apply(_ s: CgroupSetting, key: String, main: String) throws(DaemonError) -> String? {
        let controller = s.controller
        let v1Name = CgroupSettings.v1Controller(controller)
        let v1 = others.first { $0.version == 1 && $0.controllers.contains(v1Name) }
        guard let k = s.key else {
            // `cgroup CONTROLLER`: a group in that controller's v1 hierarchy, if any.
            guard hierarchy?.version != 2 || v1 != nil, let v1, hierarchy != v1 else { return nil }
            return try v1Group(v1, key: key)
        }
        let value = s.value ?? ""
        let file = CgroupSettings.fileName(controller: controller, key: k)
        var refused: CgroupSettings.Untranslatable?
        if let h = hierarchy, h.version == 2 || h.controllers.contains(v1Name) {
            var writes: [CgroupSettings.Write] = []
            do {
                writes = try CgroupSettings.writes(file: file, value: value, version: h.version) { f in
                    (try? FileSystem.readFile(main + "/" + f)).map { String(decoding: $0, as: UTF8.self) }
                }
            } catch {
                refused = error
            }
            if !writes.isEmpty && writes.allSatisfy({ Cgroups.hasSetting(main, $0.file) }) {
                try write(writes, to: main, setting: "cgroup \(controller) \(k) '\(value)'")
                return nil
            }
        }
        guard let v1, v1 != hierarchy else {
            let why = refused.map { ": \($0)" } ?? ": no such setting in \(main)"
            throw DaemonError("cgroup \(controller) \(k)\(why), and no cgroup v1 hierarchy has the '\(v1Name)' controller")
        }
        let group = try v1Group(v1, key: key)
        try set("cgroup \(controller) \(k)", file: file, value: value, in: group, version: 1, searched: [main])
        return group
    }

    /// Writes `file value` to `group` as its hierarchy (`version`) spells
    /// it. The errors name the stanza (`label`) and every group searched.
    private func set(_ label: String, file: String, value: String, in group: String, version: Int, searched: [String]) throws(DaemonError) {
        let writes: [CgroupSettings.Write]
        do {
            writes = try CgroupSettings.writes(file: file, value: value, version: version) { f in
                (try? FileSystem.readFile(group + "/" + f)).map { String(decoding: $0, as: UTF8.self) }
            }
        } catch {
            throw DaemonError("\(label) '\(value)': \(error)")
        }
        guard writes.allSatisfy({ Cgroups.hasSetting(group, $0.file) }) else {
            throw DaemonError("\(label): no such setting in \((searched + [group]).joined(separator: " or "))")
        }
        try write(writes, to: group, setting: "\(label) '\(value)'")
    }

    /// Writes each file of a setting, in order; the first refusal names the setting.
    private func write(_ writes: [CgroupSettings.Write], to group: String, setting: String) throws(DaemonError) {
        for w in writes {
            do {
                try Cgroups.set(group, w.file, w.value)
            } catch {
                throw DaemonError("\(setting): \(error)")
            }
        }
    }

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

    /// Whether the kernel's OOM killer killed a process in an instance's
    /// groups since this was last asked (v2 `memory.events`, v1
    /// `memory.oom_control`: their `oom_kill` count); with the memory
    /// limit of the group that counted it, as `FILE VALUE`.
    mutating func outOfMemory(_ key: String) -> OutOfMemory? {
        var total = 0
        var limit: String?
        for p in (groups[key] ?? []) + (named[key] ?? []) {
            for (counter, limitFile) in [("memory.events", "memory.max"), ("memory.oom_control", "memory.limit_in_bytes")] {
                guard let n = Containment.count("oom_kill", in: p + "/" + counter), n > 0 else { continue }
                total += n
                if let v = try? FileSystem.readFile(p + "/" + limitFile) {
                    limit = limitFile + " " + String(decoding: v, as: UTF8.self).split(separator: "\n").first.map(String.init)!
                }
            }
        }
        let before = oomKills[key] ?? 0
        oomKills[key] = total
        return total > before ? OutOfMemory(limit: limit) : nil
    }

    /// An OOM kill in an instance's groups.
    struct OutOfMemory {
        /// The limit it hit, as `FILE VALUE` (`memory.max 67108864`), when readable.
        var limit: String?
    }

    /// What a set of groups uses now, from whichever of them keeps each
    /// figure (v2 and v1 spell the files differently).
    static func usage(of paths: [String]) -> CgroupUsage {
        func read(_ file: String) -> String? {
            (try? FileSystem.readFile(file)).flatMap { String(decoding: $0, as: UTF8.self).split(separator: "\n").first.map(String.init) }
        }
        var u = CgroupUsage(groups: paths)
        for p in paths {
            if u.memoryBytes == nil, let m = read(p + "/memory.current") ?? read(p + "/memory.usage_in_bytes") { u.memoryBytes = Int(m) }
            if u.memoryLimit == nil, let l = read(p + "/memory.max") ?? read(p + "/memory.limit_in_bytes") {
                // v1 says "no limit" with a page-rounded maximum.
                u.memoryLimit = (Int(l) ?? 0) >= Int(Int64.max / 2) ? "max" : l
            }
            if u.tasks == nil, let t = read(p + "/pids.current") { u.tasks = Int(t) }
            if u.cpuMicroseconds == nil {
                if let n = count("usage_usec", in: p + "/cpu.stat") { u.cpuMicroseconds = n }
                else if let ns = read(p + "/cpuacct.usage").flatMap({ Int($0) }) { u.cpuMicroseconds = ns / 1000 }
            }
        }
        if u.tasks == nil { u.tasks = paths.map { Cgroups.processes(in: $0).count }.max() }
        return u
    }

    /// The value of `name N` in a flat-keyed cgroup file.
    static func count(_ name: String, in file: String) -> Int? {
        guard let text = try? FileSystem.readFile(file) else { return nil }
        for line in String(decoding: text, as: UTF8.self).split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count == 2, f[0] == name { return Int(f[1]) }
        }
        return nil
    }

    /// An instance ended: what is left of it gets SIGTERM now, SIGKILL later.
    mutating func instanceEnded(_ key: String, now: Int64) -> [Int32] {
        instances[key] = nil
        oomKills[key] = nil
        for g in named.removeValue(forKey: key) ?? [] where madeNamed.contains(g) {
            // Empty once the instance's own groups are, unless shared: try again then.
            if Cgroups.remove(g) { madeNamed.remove(g) } else { lateNamed.insert(g) }
        }
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
        for g in lateNamed where Cgroups.remove(g) {
            lateNamed.remove(g)
            madeNamed.remove(g)
        }
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
        for g in madeNamed.sorted(by: >) { _ = Cgroups.remove(g) }
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
        if status == .killed(.kill) { noteOutOfMemory(pid) }
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

    /// A process of a job was SIGKILLed: if its instance's memory group
    /// counted an OOM kill, the log says so with the limit, and the engine
    /// hears it (its failure carries `KILLED_BY=oom`).
    func noteOutOfMemory(_ pid: Int32) {
        for (key, o) in containment.instances {
            guard let s = engine.status(o.job, instance: o.instance),
                  let process = s.processes.first(where: { $0.pid == pid }) else { continue }
            guard let oom = containment.outOfMemory(key) else { return }
            let label = o.instance.isEmpty ? o.job : "\(o.job) (\(o.instance))"
            log.write(.warn, "\(label) \(process.process.rawValue) process (\(pid)) was killed by the OOM killer: the job is at its memory limit\(oom.limit.map { " (\($0))" } ?? "")")
            feed(.processOutOfMemory(pid: pid))
            return
        }
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
        addPostMortem(to: &status)
        if engine.jobClass(s.job)?.cgroups.isEmpty == false, let paths = containment.groups[key] {
            status.cgroup = Containment.usage(of: paths + (containment.named[key] ?? []))
        }
        return status
    }
}

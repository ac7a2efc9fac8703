import JobFile

/// What the daemon asks of the engine beyond single inputs: shutdown, the
/// global job environment table (`initctl set-env --global` and kin), and
/// the lists `initctl list` and `show-config` walk.
extension Engine {
    /// Shutdown: every class is forgotten (so nothing new can start), then
    /// the instances are stopped in reverse dependency order
    /// (`continueShutdown`). Each stops as it would for `initctl stop`,
    /// running its pre-stop and post-stop processes and escalating to
    /// SIGKILL after its kill timeout.
    public mutating func stopEverything(at time: EngineTime) -> [Effect] {
        var effects: [Effect] = []
        for name in state.classes.keys.sorted() {
            effects += handle(.jobClassRemoved(name: name), at: time)
        }
        return effects + continueShutdown(at: time)
    }

    /// One step of an ordered shutdown: stops every instance that no other
    /// remaining instance depends on. A job depends on the jobs its
    /// `start on` names in `starting JOB` or `started JOB` and on those its
    /// `while` names, so a web server that starts on `started database` is
    /// stopped, and gone, before the database is asked to stop. The shell
    /// calls this again after each input until no instance is left. When
    /// every remaining instance still runs and each waits for another (a
    /// cycle), all of them are stopped at once.
    public mutating func continueShutdown(at time: EngineTime) -> [Effect] {
        let keys = state.instances.keys.sorted()
        let running = keys.filter { state.instances[$0]?.goal == .start }
        guard !running.isEmpty else { return [] }
        let needs = Dictionary(keys.map { ($0.job, dependencies(of: $0.job)) }, uniquingKeysWith: { a, _ in a })
        var ready = running.filter { key in
            !keys.contains { $0.job != key.job && needs[$0.job]?.contains(key.job) == true }
        }
        if ready.isEmpty && running.count == keys.count { ready = running }
        guard !ready.isEmpty else { return [] }
        now = time
        out = []
        for key in ready { changeGoal(key, to: .stop) }
        runQueue()
        defer { out = [] }
        return out
    }

    /// The jobs `job` depends on: those named by `starting`/`started` in
    /// its `start on`, and by its `while` condition.
    func dependencies(of job: String) -> Set<String> {
        guard let definition = state.classes[job]?.definition.job else { return [] }
        var out = Set<String>()
        for m in definition.startOn?.matches ?? [] where m.name == JobEventName.starting || m.name == JobEventName.started {
            if let named = m.arguments.first(where: { $0.key == nil || $0.key == "JOB" }), !named.negated {
                out.insert(named.value)
            }
        }
        for t in definition.whileCondition?.terms ?? [] { out.insert(t.job) }
        out.remove(job)
        return out
    }

    /// The instance and process a live pid belongs to (post-mortems).
    public func processOwner(_ pid: Int32) -> (key: InstanceKey, kind: ProcessKind, goal: Goal, state: JobState)? {
        guard let o = state.pidIndex[pid], let inst = state.instances[o.key] else { return nil }
        return (o.key, o.kind, inst.goal, inst.state)
    }

    /// The instance and process a spawn was asked for (post-mortems).
    public func spawnOwner(_ id: SpawnID) -> (key: InstanceKey, kind: ProcessKind)? {
        state.spawnIndex[id].map { ($0.key, $0.kind) }
    }

    /// True while any instance exists (running, starting or stopping).
    public var hasInstances: Bool { !state.instances.isEmpty }

    /// The definition of a loaded (not deleted) job class, or nil.
    public func loadedClass(_ name: String) -> JobClass? {
        guard let entry = state.classes[name], !entry.removed else { return nil }
        return entry.definition.job
    }

    /// The names of the loaded job classes, sorted.
    public var jobNames: [String] {
        state.classes.keys.filter { !state.classes[$0]!.removed }.sorted()
    }

    /// The job classes `initctl list` shows: every loaded one, and a deleted
    /// one while an instance of it remains (Upstart keeps such a class
    /// until its last instance stops). Sorted.
    public var listedJobNames: [String] {
        let kept = Set(state.instances.keys.map(\.job))
        return state.classes.keys.filter { !state.classes[$0]!.removed || kept.contains($0) }.sorted()
    }

    /// The environment an instance started with (nil: no such instance).
    public func environment(job: String, instance: String) -> [String]? {
        state.instances[InstanceKey(job: job, instance: instance)]?.environment.entries
    }

    /// The daemon's own environment (for `env KEY` without a value).
    public var daemonEnvironment: [String] { state.configuration.daemonEnvironment }

    /// The global job environment table: the variables every new instance
    /// starts with (Upstart's `PATH` and `TERM`, plus `set-env` changes).
    public var defaultEnvironment: [String] {
        get { state.configuration.defaultEnvironment }
        set { state.configuration.defaultEnvironment = newValue }
    }
}

/// Names for the engine's types that stay unambiguous in modules that also
/// import Platform or Control (the `Engine` struct shadows the module name,
/// so `Engine.SpawnRequest` cannot be written there).
public typealias EngineSpawnRequest = SpawnRequest
public typealias EngineInstanceStatus = InstanceStatus

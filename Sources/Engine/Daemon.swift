import JobFile

/// What the daemon asks of the engine beyond single inputs: shutdown, the
/// global job environment table (`initctl set-env --global` and kin), and
/// the lists `initctl list` and `show-config` walk.
extension Engine {
    /// Shutdown: every class is forgotten (so nothing new can start) and
    /// every instance's goal becomes stop; each then stops as it would for
    /// `initctl stop`, running its pre-stop and post-stop processes and
    /// escalating to SIGKILL after its kill timeout.
    public mutating func stopEverything(at time: EngineTime) -> [Effect] {
        var effects: [Effect] = []
        for name in state.classes.keys.sorted() {
            effects += handle(.jobClassRemoved(name: name), at: time)
        }
        now = time
        out = []
        for key in state.instances.keys.sorted() where state.instances[key]?.goal == .start {
            changeGoal(key, to: .stop)
        }
        runQueue()
        effects += out
        out = []
        return effects
    }

    /// The instance and process a live pid belongs to (post-mortems).
    public func processOwner(_ pid: Int32) -> (key: InstanceKey, kind: ProcessKind, goal: Goal)? {
        guard let o = state.pidIndex[pid], let inst = state.instances[o.key] else { return nil }
        return (o.key, o.kind, inst.goal)
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

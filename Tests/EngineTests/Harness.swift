import JobFile
@testable import Engine

/// A fake shell around the engine: it hands out pids for spawns, remembers
/// live processes and armed timers, and records every effect, so tests can
/// drive the engine the way the Supervisor will and check what it asked for.
struct Harness {
    var engine: Engine
    var time = EngineTime.seconds(1000)
    var nextPid: Int32 = 100
    /// Every effect so far, in order.
    var log: [Effect] = []
    /// Spawns asked for and not answered yet, in order.
    var pendingSpawns: [SpawnRequest] = []
    /// Live processes: pid to (instance, process).
    var live: [Int32: (key: InstanceKey, kind: ProcessKind)] = [:]
    /// Pids that exited: a signal to one of them is a bug.
    var dead: Set<Int32> = []
    var timers: [TimerID: EngineTime] = [:]
    /// Answer spawns at once with fresh pids.
    var autoSpawn: Bool
    var nextRequest: RequestID = 1
    /// Broken promises seen while carrying out effects.
    var violations: [String] = []

    init(autoSpawn: Bool = true, verbose: Bool = false, daemonEnvironment: [String] = []) {
        engine = Engine(configuration: EngineConfiguration(daemonEnvironment: daemonEnvironment, verbose: verbose))
        self.autoSpawn = autoSpawn
    }

    /// Parses a job file and adds it.
    @discardableResult
    mutating func add(_ name: String, _ text: String) -> [Effect] {
        send(.jobClassAdded(Harness.job(name, text)))
    }

    static func job(_ name: String, _ text: String) -> JobClass {
        do {
            return try Parser.parse(name: name, text: text, file: "\(name).conf")
        } catch {
            fatalError("test job \(name) does not parse: \(error)")
        }
    }

    /// Sends one input and carries out the effects as a shell would.
    @discardableResult
    mutating func send(_ input: Input) -> [Effect] {
        if case .processExited(let pid, _) = input {
            live[pid] = nil
            dead.insert(pid)
        }
        if case .mainProcessReady(let pid, let finalPid) = input, pid != finalPid, let owner = live[pid] {
            // The process the engine followed forked; the shell now follows the child.
            live[pid] = nil
            dead.insert(pid)
            live[finalPid] = owner
        }
        var effects = engine.handle(input, at: time)
        var i = 0
        while i < effects.count {
            apply(effects[i])
            if autoSpawn, case .spawn(let s) = effects[i] {
                pendingSpawns.removeAll { $0.id == s.id }
                let pid = nextPid
                nextPid += 1
                live[pid] = (InstanceKey(job: s.job, instance: s.instance), s.process)
                let more = engine.handle(.processSpawned(spawn: s.id, pid: pid), at: time)
                effects.insert(contentsOf: more, at: i + 1)
            }
            i += 1
        }
        log += effects
        return effects
    }

    private mutating func apply(_ e: Effect) {
        switch e {
        case .spawn(let s):
            pendingSpawns.append(s)
        case .signal(let pid, _):
            if dead.contains(pid) { violations.append("signal to exited pid \(pid)") }
            if live[pid] == nil { violations.append("signal to pid \(pid) that is not live") }
        case .armTimer(let t, let at):
            timers[t] = at
        case .cancelTimer(let t):
            timers[t] = nil
        default:
            break
        }
    }

    /// Answers the oldest pending spawn with a pid (when not auto-spawning).
    @discardableResult
    mutating func answerSpawn(fail reason: String? = nil) -> [Effect] {
        guard !pendingSpawns.isEmpty else { return [] }
        let s = pendingSpawns.removeFirst()
        if let reason {
            return send(.spawnFailed(spawn: s.id, reason: reason))
        }
        let pid = nextPid
        nextPid += 1
        live[pid] = (InstanceKey(job: s.job, instance: s.instance), s.process)
        return send(.processSpawned(spawn: s.id, pid: pid))
    }

    mutating func emit(_ name: String, _ env: [String] = [], waiter: RequestID? = nil) -> [Effect] {
        send(.emit(name: name, environment: env, waiter: waiter))
    }

    mutating func request(_ action: ControlAction, _ job: String, _ env: [String] = [], wait: Bool = true) -> (RequestID, [Effect]) {
        let id = nextRequest
        nextRequest += 1
        return (id, send(.control(ControlRequest(id: id, action: action, job: job, environment: env, wait: wait))))
    }

    /// The live pid of a process of an instance.
    func pid(_ job: String, _ kind: ProcessKind = .main, instance: String = "") -> Int32? {
        engine.state.instances[InstanceKey(job: job, instance: instance)]?.pids[kind]
    }

    /// Makes a process of an instance exit.
    @discardableResult
    mutating func exit(_ job: String, _ kind: ProcessKind = .main, instance: String = "", _ status: ProcessExit = .exited(0)) -> [Effect] {
        guard let pid = pid(job, kind, instance: instance) else {
            fatalError("\(job) (\(instance)) has no \(kind.rawValue) process")
        }
        return send(.processExited(pid: pid, status: status))
    }

    mutating func fire(_ timer: TimerID) -> [Effect] {
        timers[timer] = nil
        return send(.timerFired(timer))
    }

    mutating func advance(seconds: Int) {
        time = time.adding(seconds: seconds)
    }

    /// `goal/state` of an instance, or nil when it does not exist.
    func goalState(_ job: String, instance: String = "") -> String? {
        engine.status(job, instance: instance).map { "\($0.goal.rawValue)/\($0.state.rawValue)" }
    }
}

// MARK: - Reading effects

extension Array where Element == Effect {
    /// The events emitted, as `name` or `name ENV...`.
    var emitted: [EventRecord] {
        compactMap { if case .eventEmitted(let r) = $0 { return r } else { return nil } }
    }
    var emittedNames: [String] { emitted.map(\.name) }
    /// Job events as `starting svc`.
    var jobEvents: [String] {
        emitted.filter { ["starting", "started", "stopping", "stopped"].contains($0.name) }
            .map { "\($0.name) \($0.environment.first?.dropFirst(4) ?? "")" }
    }
    var finished: [(EventRecord, Bool)] {
        compactMap { if case .eventFinished(let r, let f) = $0 { return (r, f) } else { return nil } }
    }
    var spawns: [SpawnRequest] {
        compactMap { if case .spawn(let s) = $0 { return s } else { return nil } }
    }
    var signals: [(Int32, Signal)] {
        compactMap { if case .signal(let p, let s) = $0 { return (p, s) } else { return nil } }
    }
    var reloads: [(Int32, Signal)] {
        compactMap { if case .reload(let p, let s) = $0 { return (p, s) } else { return nil } }
    }
    var replies: [(RequestID, Reply)] {
        compactMap { if case .reply(let id, let r) = $0 { return (id, r) } else { return nil } }
    }
    func reply(_ id: RequestID) -> Reply? {
        replies.first { $0.0 == id }?.1
    }
    /// The spawned processes as `job:kind`.
    var spawnedKinds: [String] { spawns.map { "\($0.job):\($0.process.rawValue)" } }
    /// The environment of the one event with this name.
    func environment(of name: String) -> [String]? {
        emitted.first { $0.name == name }?.environment
    }
}

import JobFile

/// The engine: Upstart's goal/state machine, event matching, blocking and
/// instances as one pure value.
///
/// `handle(_:at:)` takes one input and the time it happened, updates the
/// state, runs the event queue until nothing more can move, settles the
/// `while` conditions, and returns the effects for the shell to carry out,
/// in order. It makes no system call, reads no clock, starts no thread and
/// touches no global state: the same state and inputs give the same state
/// and effects, every time.
///
/// Guarantees the tests pin, after every `handle`:
/// - every event is either still held (something blocks it) or finished;
///   the queue never stalls with a ready event left in it;
/// - no instance is both `running` and `waiting`; an instance that reaches
///   `waiting` with goal `stop` is removed, after its `stopped` event;
/// - no `signal` effect names a pid whose exit the engine has been told of;
/// - effects and their order depend only on the state and the input
///   (classes and instances are visited in sorted order, events first in,
///   first out).
public struct Engine: Sendable {
    public internal(set) var state: EngineState
    /// Effects of the input being handled.
    var out: [Effect] = []
    /// The time of the input being handled.
    var now = EngineTime(nanoseconds: 0)
    /// How often each `while` condition changed in the input being handled.
    var whileChanges: [String: Int] = [:]
    /// The boot record `initctl analyze` reads (`Timeline.swift`); not
    /// part of the state, so not carried across a re-exec.
    public var timeline = Timeline()

    public init(configuration: EngineConfiguration = EngineConfiguration()) {
        state = EngineState(configuration: configuration)
    }

    /// Resumes from a state (a decoded one, for stateful re-exec).
    public init(state: EngineState) {
        self.state = state
    }

    /// Handles one input that happened at `time`, returning the effects.
    public mutating func handle(_ input: Input, at time: EngineTime) -> [Effect] {
        now = time
        out = []
        switch input {
        case .jobClassAdded(let job):
            addClass(job)
        case .jobClassChanged(let job):
            changeClass(job)
        case .jobClassRemoved(let name):
            removeClass(name)
        case .emit(let name, let environment, let waiter):
            emit(name: name, environment: environment, waiter: waiter)
        case .emitCarrying(let name, let environment, let waiter, let descriptors):
            emit(name: name, environment: environment, waiter: waiter, descriptors: descriptors)
        case .processSpawned(let spawn, let pid):
            processSpawned(spawn, pid: pid)
        case .spawnFailed(let spawn, let reason):
            spawnFailed(spawn, reason: reason)
        case .mainProcessReady(let pid, let finalPid):
            mainProcessReady(pid: pid, finalPid: finalPid)
        case .processExited(let pid, let status):
            processExited(pid: pid, status: status)
        case .processOutOfMemory(let pid):
            state.outOfMemory.insert(pid)
        case .timerFired(let id):
            timerFired(id)
        case .control(let request):
            control(request)
        }
        runQueue()
        settleWhileConditions()
        timeline.settle(at: now)
        let effects = out
        out = []
        return effects
    }

    /// Handles several inputs at one time, concatenating their effects.
    public mutating func handle(_ inputs: [Input], at time: EngineTime) -> [Effect] {
        var all: [Effect] = []
        for i in inputs { all += handle(i, at: time) }
        return all
    }

    // MARK: Queries

    /// The status of one instance, or nil when it does not exist.
    public func status(_ job: String, instance: String = "") -> InstanceStatus? {
        state.instances[InstanceKey(job: job, instance: instance)]?.status
    }

    /// Every instance of a job, sorted by instance name.
    public func instances(of job: String) -> [InstanceStatus] {
        (state.classes[job]?.instances ?? []).compactMap { status(job, instance: $0) }
    }

    /// The job class the engine runs for `job`, if known.
    public func jobClass(_ job: String) -> JobClass? {
        state.classes[job]?.definition.job
    }

    // MARK: Logging

    /// Logs a line when the configuration is verbose (Upstart's nih_info).
    mutating func info(_ line: @autoclosure () -> String) {
        if state.configuration.verbose { out.append(.log(line())) }
    }

    /// Logs a line always (Upstart's nih_warn).
    mutating func warn(_ line: String) {
        out.append(.log(line))
    }
}

extension Engine: Equatable {
    /// Two engines are equal when their states are; the effects buffer is
    /// empty between inputs.
    public static func == (a: Engine, b: Engine) -> Bool { a.state == b.state }
}

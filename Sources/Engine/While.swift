import JobFile

/// How far an instance is from `running`, as `while` conditions see it.
///
/// - `down`: not started, or its `starting` event not handled yet;
/// - `rising`: its `starting` event has been handled; on its way up;
/// - `up`: it reached `running` (and is there, in `pre-stop`, or waiting in
///   `stopping` for its `stopping` event to be handled);
/// - `falling`: its `stopping` event has been handled; on its way down.
///
/// A `while` condition holds only when it holds whatever the instances on
/// their way become: a positive term (`while bar`) needs an instance `up`;
/// a negated one (`while not maint`) needs every instance `down`.
public enum WhileLevel: String, Hashable, Sendable, Codable {
    case down, rising, up, falling
}

/// The `while` stanza (a Daybreak addition): the job runs while a condition
/// on other jobs' states holds (docs/events.md, "States: `while`").
///
/// Rules:
/// - The goal follows the condition each time it changes: it becomes true,
///   the job is started (unless it has `start on`: then a `start on` event
///   starts it, and counts only while the condition holds); it becomes
///   false, every instance is stopped.
/// - Order, stopping: when an instance's `stopping` event is handled (just
///   before its main process is killed), every job whose condition that
///   breaks is stopped holding the event, as `stop on stopping JOB` would:
///   the event, and so the job's kill, waits until they have stopped
///   completely. A `starting` event does the same for conditions that need
///   the job not to run (`while not JOB`): they stop before it starts.
/// - Order, starting: a positive term holds only once an instance is
///   `running`, a negated one only once every instance has gone.
/// - A state change re-evaluates only the conditions that name the job
///   that changed (`EngineState.whileDependents`), never every `while` job.
/// - A job that stops on its own (a task that finished, a service that
///   failed without `respawn` or beyond its respawn limit), or is stopped
///   by `stop on` or `initctl stop`, while its condition holds stays
///   stopped until the condition has been false and is true again (or an
///   event or `initctl start` starts it): a failing job cannot loop.
/// - `initctl start` of a job whose condition is false is refused, with the
///   part that is false.
extension Engine {
    /// How often one job's condition may change within one input before
    /// it is left until the next input (a condition on the job's own state,
    /// `while not running me`, could otherwise flip for ever). Chains of
    /// any length settle within one input: each job in them changes once.
    static let maxWhilePasses = 16

    /// Evaluates the conditions marked for evaluation, starting and stopping
    /// jobs on changes, and runs the queue after each round of changes,
    /// until none is marked (or only those that changed too often are).
    mutating func settleWhileConditions() {
        guard !state.whilePending.isEmpty else { return }
        whileChanges = [:]
        var deferred = Set<String>()
        while true {
            let names = state.whilePending.subtracting(deferred).sorted()
            guard !names.isEmpty else { break }
            state.whilePending.subtract(names)
            for name in names {
                if whileChanges[name, default: 0] >= Engine.maxWhilePasses {
                    deferred.insert(name)
                    continue
                }
                reevaluateWhile(name, holding: nil)
            }
            runQueue()
        }
        whileChanges = [:]
        if !deferred.isEmpty {
            state.whilePending.formUnion(deferred)
            for name in deferred.sorted() {
                warn("\(name): while condition changed \(Engine.maxWhilePasses) times in one step; it is evaluated again after the next input")
            }
        }
    }

    /// Marks the conditions that name `job` for evaluation.
    mutating func whileChanged(_ job: String) {
        guard let deps = state.whileDependents[job] else { return }
        for d in deps { state.whilePending.insert(d) }
    }

    /// Sets an instance's level; when that can break a condition (a rise
    /// breaks `not JOB`, a fall breaks `JOB`), the dependents are evaluated
    /// at once and those that stop hold `event`. A rise to `up` or a
    /// removal can only make conditions true: those are evaluated when the
    /// input settles.
    mutating func setLevel(_ key: InstanceKey, _ level: WhileLevel, event: EventID?) {
        guard let old = state.instances[key]?.level, old != level else { return }
        state.instances[key]!.level = level
        guard let deps = state.whileDependents[key.job] else { return }
        if level == .up {
            whileChanged(key.job)
            return
        }
        // down -> rising and up -> falling can break conditions; rising <->
        // falling changes nothing a condition reads.
        guard (old == .down && level == .rising) || (old == .up && level == .falling) else { return }
        for d in deps { reevaluateWhile(d, holding: event) }
    }

    /// Evaluates one job's condition and acts when its value changed.
    mutating func reevaluateWhile(_ name: String, holding event: EventID?) {
        guard let entry = state.classes[name], let def = Optional(entry.effective),
              let condition = def.job.whileCondition else { return }
        let holds = whileHolds(condition)
        guard holds != entry.whileHolds else { return }
        state.classes[name]!.whileHolds = holds
        whileChanges[name, default: 0] += 1
        info("\(name) while condition is now \(holds)")
        if holds {
            if def.job.startOn == nil && !entry.removed { startForWhile(def) }
        } else {
            stopForWhile(name, holding: event)
        }
    }

    /// The current effective definition's condition holds (true for a job
    /// without `while`).
    func whileConditionHolds(_ job: String) -> Bool {
        guard let cond = state.classes[job]?.effective.job.whileCondition else { return true }
        return whileHolds(cond)
    }

    /// Evaluates a condition: positive terms need an instance `up`, negated
    /// ones need no instance past `down`.
    func whileHolds(_ e: StateExpression, negated: Bool = false) -> Bool {
        switch e {
        case .running(let j): return negated ? anyInstance(j, [], atLeast: .rising) : anyInstance(j, [], atLeast: .up)
        case .runningWhere(let j, let env): return negated ? anyInstance(j, env, atLeast: .rising) : anyInstance(j, env, atLeast: .up)
        case .not(let x): return !whileHolds(x, negated: !negated)
        case .and(let l, let r): return whileHolds(l, negated: negated) && whileHolds(r, negated: negated)
        case .or(let l, let r): return whileHolds(l, negated: negated) || whileHolds(r, negated: negated)
        }
    }

    /// True when an instance of `job` whose environment matches `env` is
    /// `up` (`atLeast: .up`) or anywhere but `down` (`atLeast: .rising`).
    func anyInstance(_ job: String, _ env: [String], atLeast: WhileLevel) -> Bool {
        guard let entry = state.classes[job] else { return false }
        for name in entry.instances {
            guard let inst = state.instances[InstanceKey(job: job, instance: name)] else { continue }
            let counts = atLeast == .up ? inst.level == .up : inst.level != .down
            if counts && Engine.environment(inst.environment, selects: env) { return true }
        }
        return false
    }

    /// `KEY=VALUE` selections: each KEY's value in the instance's
    /// environment matches VALUE (a glob, as `start on` arguments).
    static func environment(_ env: Environment, selects selection: [String]) -> Bool {
        for s in selection {
            guard let eq = s.firstIndex(of: "=") else { return false }
            let key = String(s[..<eq])
            guard let value = env.value(key), Glob.matches(pattern: String(s[s.index(after: eq)...]), value) else { return false }
        }
        return true
    }

    /// Starts the job because its condition became true, as `initctl start`
    /// without variables would.
    mutating func startForWhile(_ def: ClassDefinition) {
        let env = state.configuration.classEnvironment(def.job)
        let name: String
        do {
            name = try Environment.expand(def.job.instance ?? "", env)
        } catch {
            warn("Failed to obtain \(def.name) instance: \(error)")
            return
        }
        let key = InstanceKey(job: def.name, instance: name)
        guard goal(of: key) != .start else { return }
        if state.instances[key] == nil { createInstance(key) }
        state.instances[key]!.startEnvironment = env
        setStartDescriptors(key, nil)
        finished(key, failed: false)
        recordStart(key, .condition(def.job.whileCondition?.text ?? "", (def.job.whileCondition?.jobNames ?? []).sorted()))
        changeGoal(key, to: .start)
    }

    /// Stops every started instance of the job because its condition became
    /// false; each holds `event` (when given) until it has stopped, as with
    /// `stop on`, and gets the event's variables as its stop environment.
    mutating func stopForWhile(_ job: String, holding event: EventID?) {
        for name in state.classes[job]?.instances ?? [] {
            let key = InstanceKey(job: job, instance: name)
            guard let g = goal(of: key), g != .stop else { continue }
            var stopEnv = Environment()
            if let event, let ev = state.events[event] {
                stopEnv.merge(ev.environment)
                stopEnv.set("UPSTART_STOP_EVENTS", ev.name)
            }
            state.instances[key]!.stopEnvironment = stopEnv
            finished(key, failed: false)
            // An instance never holds the event it waits on itself.
            if let event, let ev = state.events[event], !ev.blockedJobs.contains(key) {
                holdActive(key, [event])
            }
            changeGoal(key, to: .stop)
        }
    }

    // MARK: Explaining

    /// Why a `while` job's condition is false, as `initctl status` says it
    /// (`baz is not running`), or nil when it has no condition or it holds.
    public func whileReason(_ job: String) -> String? {
        guard let cond = state.classes[job]?.effective.job.whileCondition, !whileHolds(cond) else { return nil }
        return whileReasons(cond, negated: false).joined(separator: ", ")
    }

    /// The terms that give `e` its value.
    func whileReasons(_ e: StateExpression, negated: Bool) -> [String] {
        switch e {
        case .running(let j), .runningWhere(let j, _):
            var env: [String] = []
            if case .runningWhere(_, let sel) = e { env = sel }
            let label = ([j] + env).joined(separator: " ")
            if anyInstance(j, env, atLeast: .up) { return ["\(label) is running"] }
            if anyInstance(j, env, atLeast: .rising) { return ["\(label) is starting or stopping"] }
            return ["\(label) is not running"]
        case .not(let x):
            return whileReasons(x, negated: !negated)
        case .and(let l, let r), .or(let l, let r):
            let value = whileHolds(e, negated: negated)
            var isAnd = false
            if case .and = e { isAnd = true }
            // and true / or false: every part counts; otherwise the parts
            // with the same value as the whole.
            let all = (isAnd == value)
            var out: [String] = []
            for part in [l, r] where all || whileHolds(part, negated: negated) == value {
                out += whileReasons(part, negated: negated)
            }
            return out
        }
    }

    // MARK: Checking

    /// Problems with the loaded `while` conditions: terms naming a job that
    /// is not loaded, and cycles (`a while b`, `b while a`). One line per
    /// problem, keyed by the job whose condition has it, sorted.
    public func whileProblems() -> [(job: String, message: String)] {
        var out: [(job: String, message: String)] = []
        let names = state.classes.keys.filter { !state.classes[$0]!.removed }.sorted()
        var edges: [String: [String]] = [:]
        for name in names {
            guard let cond = state.classes[name]!.effective.job.whileCondition else { continue }
            var seen = Set<String>()
            for t in cond.terms where seen.insert(t.job).inserted {
                if state.classes[t.job] == nil || state.classes[t.job]!.removed {
                    out.append((name, "while condition names unknown job \(t.job)"))
                } else {
                    edges[name, default: []].append(t.job)
                }
            }
        }
        // Cycles: a depth-first walk, reporting each cycle once, at the
        // job (in name order) where it is first found.
        var color: [String: Int] = [:]  // 1: on the path, 2: done
        var path: [String] = []
        func visit(_ n: String) {
            color[n] = 1
            path.append(n)
            for m in edges[n] ?? [] {
                if color[m] == 1, let i = path.firstIndex(of: m) {
                    let cycle = path[i...] + [m]
                    out.append((m, "while conditions form a cycle: " + cycle.joined(separator: " -> ")))
                } else if color[m] == nil {
                    visit(m)
                }
            }
            path.removeLast()
            color[n] = 2
        }
        for n in names where color[n] == nil { visit(n) }
        return out.sorted { ($0.job, $0.message) < ($1.job, $1.message) }
    }
}

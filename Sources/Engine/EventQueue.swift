import JobFile

/// The event queue: Upstart's event_poll, event_pending and event_finished.
///
/// Events are numbered as they are queued and handled first in, first
/// out. Handling an event offers it to the classes whose `start on` or
/// `stop on` names it (found through the index, never by scanning every
/// class), in class-name order, stop before start within a class (so that
/// an event in both stops a running instance before starting it again).
/// An event finishes when it is handled and nothing holds it any more.
extension Engine {
    /// `emit`: validates the variables (`KEY=VALUE`, valid names, as
    /// `initctl emit` requires) and queues the event. An invalid one is
    /// refused, with an error to the waiter.
    mutating func emit(name: String, environment: [String], waiter: RequestID?, descriptors: [Int32] = []) {
        guard !name.isEmpty, Environment.allValid(environment) else {
            let why = name.isEmpty ? "Event name is empty" : "Invalid environment for event \(name): expected KEY=VALUE"
            warn(why)
            if let waiter { out.append(.reply(waiter, .error(why))) }
            if !descriptors.isEmpty { out.append(.closeDescriptors(descriptors)) }
            return
        }
        _ = queueEvent(name: name, environment: environment, waiter: waiter, descriptors: descriptors)
    }

    /// Queues an event and returns its id.
    mutating func queueEvent(name: String, environment: [String], waiter: RequestID?, descriptors: [Int32] = []) -> EventID {
        let id = state.nextEventID
        state.nextEventID += 1
        let ev = Event(id: id, name: name, environment: environment, waiter: waiter, descriptors: descriptors)
        state.events[id] = ev
        out.append(.eventEmitted(ev.record))
        markReady(id)
        return id
    }

    /// Puts an event in the ready list, kept ascending by id.
    mutating func markReady(_ id: EventID) {
        if let last = state.ready.last, last < id {
            state.ready.append(id)
        } else {
            EngineState.sortedInsert(id, into: &state.ready)
        }
    }

    /// Steps events until none is ready: a pending event is handled; a
    /// handled one with no holds finishes. Each step may make others ready.
    mutating func runQueue() {
        while !state.ready.isEmpty {
            let id = state.ready.removeFirst()
            guard let ev = state.events[id] else { continue }
            switch ev.progress {
            case .pending:
                handlePending(id)
            case .handling:
                if ev.blockers <= 0 { finishEvent(id) }
            }
        }
    }

    /// Offers a pending event to the classes that name it, then finishes it
    /// at once if nothing took hold of it.
    mutating func handlePending(_ id: EventID) {
        state.events[id]!.progress = .handling
        let ev = state.events[id]!
        info("Handling \(ev.name) event")
        var starters = state.startIndex[ev.name] ?? []
        var stoppers = state.stopIndex[ev.name] ?? []
        // A `timer`, `file` or `socket` event that names a job
        // (`JOB=backup`, as the bridges emit them) is addressed: it is
        // offered to that job's `start on` and `stop on` alone, so that two
        // jobs whose timers share variables (EVERY=1s, and EVERY=1s
        // COUNT=2) never start each other, a job watching FILE=/tmp/* gets
        // its own event, with its MATCH, not the one for a job watching
        // FILE=/tmp/a, and a job with two sockets gets exactly its own.
        // docs/time-bridge.md, "One job, one schedule"; docs/file-bridge.md,
        // "One job, one event"; docs/socket-bridge.md, "Addressing".
        if JobEventName.addressed.contains(ev.name), let j = Environment.index(of: "JOB", in: ev.environment) {
            let addressed = ev.environment[j].dropFirst(4)
            starters.removeAll { $0.name != addressed }
            stoppers.removeAll { $0.name != addressed }
        }
        // Merge the two sorted lists, visiting each class once.
        var i = 0, j = 0
        while i < starters.count || j < stoppers.count {
            if j >= stoppers.count || (i < starters.count && starters[i].name < stoppers[j].name) {
                handleStartOn(starters[i], ev)
                i += 1
            } else if i >= starters.count || stoppers[j].name < starters[i].name {
                handleStopOn(stoppers[j].name, ev)
                j += 1
            } else {
                handleStopOn(stoppers[j].name, ev)
                handleStartOn(starters[i], ev)
                i += 1
                j += 1
            }
        }
        // `while`: the instance that emitted `starting` is now on its way
        // up (conditions needing it stopped break), and one that emitted
        // `stopping` on its way down (conditions needing it running
        // break). Dependents stop holding this event, before the job moves.
        if ev.name == JobEventName.starting || ev.name == JobEventName.stopping {
            for key in ev.blockedJobs where state.instances[key]?.blocker == id {
                setLevel(key, ev.name == JobEventName.starting ? .rising : .falling, event: id)
            }
        }
        if let now = state.events[id], now.blockers <= 0 {
            finishEvent(id)
        }
    }

    /// Offers an event to the `start on` of a class. When the whole
    /// expression fires, the instance named by `instance` (expanded from
    /// the new environment) is found or created, and, unless its goal is
    /// already start, given the environment (defaults, `env`, the events'
    /// variables in expression order, `UPSTART_EVENTS`), made to hold the
    /// events that fired it, and started. The expression then forgets its
    /// operands either way.
    mutating func handleStartOn(_ def: ClassDefinition, _ ev: Event) {
        // The index holds only classes that may start (not removed), and
        // their current definitions.
        let job = def.name
        var active: [EventID] = []
        let single = def.singleStartMatch != nil
        if let m = def.singleStartMatch {
            // One match: it fires on the event that matches it, and is
            // reset at once, so nothing needs remembering or holding
            // beyond what the started instance holds.
            guard m.matches(name: ev.name, environment: ev.environment, env: nil) else { return }
        } else {
            guard let expr = def.startOn else { return }
            guard let ci = state.classes.index(forKey: job) else { return }
            let took = state.classes.withValue(at: ci) { $0.startOn!.offer(ev, to: expr, env: nil) }
            guard !took.isEmpty else { return }
            for _ in took { hold(ev.id) }
            let op = state.classes.withValue(at: ci) { $0.startOn! }
            guard expr.holds(op) else { return }
            active = expr.activeLeaves(op).map { op.held[$0]! }
        }

        var env: Environment? = nil
        var name = def.job.instance ?? ""
        if name.utf8.contains(UInt8(ascii: "$")) {
            if single { active = [ev.id] }
            let built = startEnvironment(def.job, active)
            env = built
            do {
                name = try Environment.expand(name, built)
            } catch {
                warn("Failed to obtain \(job) instance: \(error)")
                releaseStartOn(job)
                return
            }
        }
        let key = InstanceKey(job: job, instance: name)
        if def.job.whileCondition != nil && !whileConditionHolds(job) {
            // A `start on` event counts only while the `while` condition holds.
            info("\(key) not started by \(ev.name): its while condition is false")
        } else if goal(of: key) != .start {
            if active.isEmpty { active = [ev.id] }
            if state.instances[key] == nil { createInstance(key) }
            state.instances[key]!.startEnvironment = env ?? startEnvironment(def.job, active)
            setStartDescriptors(key, startDescriptors(active))
            finished(key, failed: false)
            holdActive(key, active)
            recordStart(key, events: active)
            changeGoal(key, to: .start)
        }
        if !single { releaseStartOn(job) }
    }

    /// The goal of an instance, read in place (no copy of the instance).
    mutating func goal(of key: InstanceKey) -> Goal? {
        guard let i = state.instances.index(forKey: key) else { return nil }
        return state.instances.withValue(at: i) { $0.goal }
    }

    /// Offers an event to the `stop on` of every instance of a class, each
    /// with its own memory and its own environment for `$VAR`. When one
    /// fires and the instance's goal is not already stop, it gets the stop
    /// environment (the events' variables and `UPSTART_STOP_EVENTS`), holds
    /// the events that fired it, and is stopped.
    mutating func handleStopOn(_ job: String, _ ev: Event) {
        guard let entry = state.classes[job], let expr = entry.definition.stopOn else { return }
        for instance in entry.instances {
            let key = InstanceKey(job: job, instance: instance)
            guard let inst = state.instances[key], var op = inst.stopOn else { continue }
            let took = op.offer(ev, to: expr, env: inst.environment)
            guard !took.isEmpty else { continue }
            for _ in took { hold(ev.id) }
            state.instances[key]!.stopOn = op
            guard expr.holds(op) else { continue }
            if inst.goal != .stop {
                let active = expr.activeLeaves(op).map { op.held[$0]! }
                var stopEnv = Environment()
                for e in active { stopEnv.merge(state.events[e]?.environment ?? []) }
                stopEnv.set("UPSTART_STOP_EVENTS", active.compactMap { state.events[$0]?.name }.joined(separator: " "))
                state.instances[key]!.stopEnvironment = stopEnv
                finished(key, failed: false)
                holdActive(key, active)
                changeGoal(key, to: .stop)
            }
            releaseStopOn(key)
        }
    }

    /// The environment a start by events gives: the class's, then each
    /// active event's variables in expression order, then `UPSTART_EVENTS`
    /// naming those events.
    func startEnvironment(_ def: JobClass, _ active: [EventID]) -> Environment {
        var env = state.configuration.classEnvironment(def)
        var names: [String] = []
        for e in active {
            guard let ev = state.events[e] else { continue }
            env.merge(ev.environment)
            names.append(ev.name)
        }
        env.set("UPSTART_EVENTS", names.joined(separator: " "))
        return env
    }

    /// The descriptors the active events carry, in expression order (the
    /// order of `start on`'s matches, left to right), each named by its
    /// event's `FDNAME` variable, else the event's name.
    func startDescriptors(_ active: [EventID]) -> [PassedDescriptor] {
        var list: [PassedDescriptor] = []
        for e in active {
            guard let ev = state.events[e], !ev.descriptors.isEmpty else { continue }
            let name = Environment.index(of: "FDNAME", in: ev.environment).map { String(ev.environment[$0].dropFirst(7)) } ?? ev.name
            for h in ev.descriptors { list.append(PassedDescriptor(handle: h, name: name)) }
        }
        return list
    }

    /// Sets the descriptors the next start of an instance takes, letting
    /// go of any an earlier start had set and no start took.
    mutating func setStartDescriptors(_ key: InstanceKey, _ list: [PassedDescriptor]?) {
        let old = state.instances[key]!.startDescriptors ?? []
        state.instances[key]!.startDescriptors = list
        releaseDescriptors(old.map(\.handle))
    }

    /// Lets go of handles: those no live event and no instance holds any
    /// more are given to the shell to close.
    mutating func releaseDescriptors(_ handles: [Int32]) {
        guard !handles.isEmpty else { return }
        var held = Set<Int32>()
        for ev in state.events.values { held.formUnion(ev.descriptors) }
        for inst in state.instances.values {
            for d in inst.descriptors { held.insert(d.handle) }
            for d in inst.startDescriptors ?? [] { held.insert(d.handle) }
        }
        let free = handles.filter { !held.contains($0) }
        if !free.isEmpty { out.append(.closeDescriptors(free)) }
    }

    /// Finishes an event: the instances waiting on it move on, its waiter
    /// is answered, and if it failed, `NAME/failed` is emitted with the same
    /// variables (but never `NAME/failed/failed`).
    mutating func finishEvent(_ id: EventID) {
        guard let ev = state.events.removeValue(forKey: id) else { return }
        info("\(ev.name) event finished\(ev.failed ? " (failed)" : "")")
        out.append(.eventFinished(ev.record, failed: ev.failed))
        timeline.eventFinished(ev.name, at: now)
        for key in ev.blockedJobs {
            guard state.instances[key]?.blocker == id else { continue }
            state.instances[key]!.blocker = nil
            changeState(key, to: nextState(key))
        }
        releaseDescriptors(ev.descriptors)
        if let waiter = ev.waiter {
            out.append(.reply(waiter, ev.failed ? .error("Event failed: \(ev.name)") : .ok(nil)))
        }
        if ev.failed && !ev.name.hasSuffix(JobEventName.failedSuffix) {
            _ = queueEvent(name: ev.name + JobEventName.failedSuffix, environment: ev.environment, waiter: nil)
        }
    }
}
